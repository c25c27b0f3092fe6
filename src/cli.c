/* What the commands share: loading the configuration, JSON output. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "mem.h"

int cli_load_config(struct cli *cli, struct config *c)
{
	struct err e;
	char *path = NULL, *cwd = getcwd(NULL, 0);
	bool ok;

	if (cli->config_path)
		path = xstrdup(cli->config_path);
	else if (cwd)
		path = config_find(cwd, &e);
	else
		err_set(&e, "cannot read the working directory");
	ok = path && config_load(c, path, &e);
	free(path);
	free(cwd);
	if (!ok) {
		fprintf(cli->err, "storysync: %s\n", e.msg);
		return EXIT_USAGE;
	}
	return EXIT_DONE;
}

void cli_json_string(FILE *f, const char *s)
{
	struct buf b = BUF_INIT;

	if (!s) {
		fputs("null", f);
		return;
	}
	json_put_string(&b, s, strlen(s));
	fputs(b.data, f);
	buf_finish(&b);
}

void cli_put_safe(FILE *f, const char *s)
{
	/* values from the database reach the terminal: no escape sequences */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}
