#include "cli.h"

int cmd_sync(struct cli *cli, int argc, char **argv)
{
	return EXIT_FATAL;
}
