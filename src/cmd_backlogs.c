/* storysync backlogs: the configured backlogs, for people and for the
 * completions' --backlog NAME. */
#include <stdio.h>

#include "cli.h"

int cmd_backlogs(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	int rc = cli_start(cli, argc, argv, &c);

	if (rc != EXIT_DONE)
		return rc;
	if (cli->json)
		fputs("{\"backlogs\":[", cli->out);
	for (size_t i = 0; i < c.nbacklogs; i++) {
		const struct config_backlog *b = &c.backlogs[i];

		if (cli->json) {
			fputs(i ? ",{\"name\":" : "{\"name\":", cli->out);
			cli_json_string(cli->out, b->name);
			fputs(",\"path\":", cli->out);
			cli_json_string(cli->out, b->path);
			fputc('}', cli->out);
		} else if (cli->verbosity >= 0) {
			/* a name has no space (storysync.yml(5)); a path may */
			cli_put_safe(cli->out, b->name);
			fputc(' ', cli->out);
			cli_put_safe(cli->out, b->path);
			fputc('\n', cli->out);
		}
	}
	if (cli->json)
		fputs("]}\n", cli->out);
	config_finish(&c);
	return EXIT_DONE;
}
