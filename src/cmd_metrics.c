/* storysync metrics: the Prometheus text format of the tree's health. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "health.h"
#include "metrics.h"

/* Reads the label value after the opening quote at *p into v, undoing
 * metrics.c's escapes; *p ends past the closing quote. */
static void label_value(const char **p, struct buf *v)
{
	const char *s = *p;

	buf_reset(v);
	buf_puts(v, "");
	for (; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			buf_putc(v, *s == 'n' ? '\n' : *s);
		} else {
			buf_putc(v, *s);
		}
	}
	*p = *s ? s + 1 : s;
}

/* One sample line, name{k="v",...} value, as {"labels":{...},"value":N}. */
static void json_sample(FILE *f, const char *line, bool first)
{
	const char *p = strchr(line, '{');
	struct buf k = BUF_INIT, v = BUF_INIT;
	double x;

	fputs(first ? "{\"labels\":{" : ",{\"labels\":{", f);
	for (bool one = true; p && *p != '}' && *p;) {
		const char *eq = strchr(++p, '=');

		if (!eq || eq[1] != '"')
			break;
		buf_reset(&k);
		buf_add(&k, p, (size_t)(eq - p));
		p = eq + 2;
		label_value(&p, &v);
		fputs(one ? "" : ",", f);
		cli_json_string(f, k.data);
		fputc(':', f);
		cli_json_string(f, v.data);
		one = false;
	}
	p = strrchr(line, ' ');
	x = p ? strtod(p + 1, NULL) : NAN;
	if (isfinite(x))
		fprintf(f, "},\"value\":%.17g}", x);
	else
		fputs("},\"value\":null}", f);
	buf_finish(&k);
	buf_finish(&v);
}

/* The same facts as JSON: {"metrics":[{"name","help","type","samples":
 * [{"labels":{...},"value":N}]}]}, read back from the text format so the
 * two cannot differ. */
static void print_json(FILE *f, char *text)
{
	bool family = false, first = true;
	char *save = NULL;

	fputs("{\"metrics\":[", f);
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *name = l + 7, *rest;

		if (strncmp(l, "# HELP ", 7) == 0) {
			rest = strchr(name, ' ');
			if (rest)
				*rest++ = '\0';
			fputs(family ? "]},{\"name\":" : "{\"name\":", f);
			cli_json_string(f, name);
			fputs(",\"help\":", f);
			cli_json_string(f, rest ? rest : "");
			family = true;
		} else if (strncmp(l, "# TYPE ", 7) == 0 && family) {
			rest = strchr(name, ' ');
			fputs(",\"type\":", f);
			cli_json_string(f, rest ? rest + 1 : "untyped");
			fputs(",\"samples\":[", f);
			first = true;
		} else if (family && *l != '#') {
			json_sample(f, l, first);
			first = false;
		}
	}
	fputs(family ? "]}]}\n" : "]}\n", f);
}

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
	buf_puts(&b, ""); /* text for print_json, even if empty */
	if (cli->json)
		print_json(cli->out, b.data);
	else
		fwrite(b.data, 1, b.len, cli->out);
	rc = h.verdict == VERDICT_UNREADABLE ? EXIT_FATAL : EXIT_DONE;
	buf_finish(&b);
	health_finish(&h);
	config_finish(&c);
	return rc;
}
