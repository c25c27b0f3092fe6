/* storysync metrics: the Prometheus text format of the tree's health. */
#include <stdio.h>

#include "cli.h"
#include "health.h"
#include "metrics.h"

int cmd_metrics(struct cli *cli, int argc, char **argv)
{
	struct config c = {0};
	struct health h;
	struct buf b = BUF_INIT;
	int rc;

	rc = cli_start(cli, argc, argv, &c);
	if (rc != EXIT_DONE)
		return rc;
	health_read(&c, true, &h);
	if (h.verdict == VERDICT_UNREADABLE)
		fprintf(cli->err, "storysync: %s\n", h.e.msg);
	metrics_render(&c, &h, &b);
	fwrite(b.data, 1, b.len, cli->out);
	rc = h.verdict == VERDICT_UNREADABLE ? EXIT_FATAL : EXIT_DONE;
	buf_finish(&b);
	health_finish(&h);
	config_finish(&c);
	return rc;
}
