/*
 * The events a yamlio reader gives, one line each (type, style, marks,
 * and a scalar's length and value), up to the stream's end or an error:
 * what test_yamlio and the fuzz target compare between yamlio.c's fast
 * path and libyaml. A scalar whose value holds a NUL before its length
 * says so, which no reader may give.
 */
#ifndef STORYSYNC_TESTS_YEV_DUMP_H
#define STORYSYNC_TESTS_YEV_DUMP_H

#include <string.h>

#include "buf.h"
#include "yamlio.h"

static char *yev_dump(struct yreader *r, int most)
{
	struct buf b = BUF_INIT;
	struct yev ev;
	struct err e;

	buf_add(&b, "", 0);
	for (int n = 0; n < most; n++) {
		if (!yreader_next(r, &ev, &e)) {
			buf_printf(&b, "error %s\n", e.msg);
			break;
		}
		buf_printf(&b, "%d %d %zu-%zu %u:%u", (int)ev.type,
			   (int)ev.style, ev.begin, ev.end, ev.line, ev.col);
		if (ev.type == YEV_SCALAR) {
			buf_printf(&b, " %zu[", ev.len);
			buf_add(&b, ev.value, ev.len);
			buf_puts(&b, "]");
			if (strlen(ev.value) != ev.len)
				buf_puts(&b, " (a NUL inside)");
		}
		buf_putc(&b, '\n');
		if (ev.type == YEV_END)
			break;
	}
	return buf_detach(&b);
}

#endif
