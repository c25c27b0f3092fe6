#ifndef STORYSYNC_CORE_TOLD_H
#define STORYSYNC_CORE_TOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dbhome.h"
#include "err.h"
#include "mem.h"
#include "strmap.h"

/*
 * What quiet runs told, and when: one broken story must not make every
 * cron run mail the same error. Under -q an error is printed when it is
 * new (or changed: another text is another error) and again once a day
 * while it stays; status, metrics and the log tell it on every run. The
 * memory is a file of the database's place (dbhome.h: DATABASE.told
 * beside an SQLite file), a line an error:
 *
 *   # storysync: the errors quiet runs told (see storysync(1), FILES)
 *   1764739200123456789 stories/a/backlog/A-1.md:3:8: ...
 *
 * the time it was last printed, in nanoseconds since the epoch, and the
 * error as printed (control characters escaped). It is only a memory: a
 * file that cannot be read or written makes an error told again, never
 * lost.
 */

/* How long an error that stays is not printed again. */
#define TOLD_AGAIN_NS (86400LL * 1000000000LL)

struct told {
	struct told_entry {
		const char *msg; /* in text */
		int64_t at_ns;   /* last printed */
		bool seen;       /* by this run */
	} * v;
	size_t n, cap;
	struct strmap by_msg;
	struct arena text;
};

/* Reads the memory at h into t (empty when there is none). */
void told_read(const struct dbhome *h, struct told *t);
/* Whether a quiet run prints msg now: it is not in the memory, or was
 * printed TOLD_AGAIN_NS or more before now_ns (then now is its time). It
 * is remembered as seen by this run either way. */
bool told_due(struct told *t, const char *msg, int64_t now_ns);
/* Replaces the memory with the errors this run saw and, with keep_unseen
 * (a run that did not look at every file: --git, --backlog), the others;
 * an error not seen by a run that looked everywhere is forgotten, and is
 * new when it comes back. */
bool told_write(const struct dbhome *h, const struct told *t, bool keep_unseen,
		struct err *e);
void told_finish(struct told *t);

#endif
