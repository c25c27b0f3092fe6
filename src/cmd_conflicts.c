#include "cli.h"

int cmd_conflicts(struct cli *cli, int argc, char **argv)
{
	fprintf(cli->err, "storysync: %s: not written yet\n", argv[0]);
	return EXIT_FATAL;
}
