#include "cli.h"

int cmd_init(struct cli *cli, int argc, char **argv)
{
	return EXIT_FATAL;
}
