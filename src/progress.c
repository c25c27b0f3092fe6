/* The progress line of a long run at a terminal (see progress.h). */
#include "progress.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"

/* How often the line is redrawn. */
#define TICK_MS 100

struct progress {
	FILE *f;
	struct sync_progress *counts;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	int after_ms;  /* the threshold */
	int64_t start; /* CLOCK_MONOTONIC, ns */
	size_t drawn;  /* the length of the line on the terminal, 0: none */
	bool shown;    /* drawn at least once */
	/* the rate: of the last counter that moved, since it started to */
	long last[3];
	int moving;
	int64_t moving_since;
	long moving_from;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The threshold: PROGRESS_AFTER_MS, or the test-only override. */
static int threshold_ms(void)
{
	const char *v = getenv("STORYSYNC_TEST_PROGRESS_MS");
	char *end;
	long ms;

	if (!v || !*v)
		return PROGRESS_AFTER_MS;
	ms = strtol(v, &end, 10);
	return *end || ms < 0 || ms > 3600000 ? PROGRESS_AFTER_MS : (int)ms;
}

/* Erases the line drawn, with the lock held. */
static void erase(struct progress *p)
{
	if (!p->drawn)
		return;
	fprintf(p->f, "\r%*s\r", (int)p->drawn, "");
	p->drawn = 0;
	fflush(p->f);
}

/* Draws the line, with the lock held; done: the last time, ending with
 * end (", done." or what stopped the run). */
static void draw(struct progress *p, bool done, const char *end)
{
	static const char *const names[] = {"walked", "parsed", "written"};
	long v[3] = {
		atomic_load_explicit(&p->counts->walked, memory_order_relaxed),
		atomic_load_explicit(&p->counts->parsed, memory_order_relaxed),
		atomic_load_explicit(&p->counts->written, memory_order_relaxed),
	};
	int64_t t = now_ns();
	double secs;
	char line[256];
	int n;

	/* the rate is the stage's that moved last, since it began to */
	for (int i = 2; i >= 0; i--) {
		if (v[i] == p->last[i])
			continue;
		if (p->moving != i) {
			p->moving = i;
			p->moving_since = t;
			p->moving_from = p->last[i];
		}
		break;
	}
	memcpy(p->last, v, sizeof(v));
	if (done) {
		n = snprintf(line, sizeof(line),
			     "storysync: %ld files walked, %ld parsed, %ld "
			     "written in %.1f s%s",
			     v[0], v[1], v[2], (t - p->start) / 1e9, end);
	} else {
		secs = (t - p->moving_since) / 1e9;
		n = snprintf(line, sizeof(line),
			     "storysync: %ld files walked, %ld parsed, %ld "
			     "written (%.0f %s/s)",
			     v[0], v[1], v[2],
			     secs > 0 ? (v[p->moving] - p->moving_from) / secs
				      : 0,
			     names[p->moving]);
	}
	if (n < 0)
		return;
	/* a shorter line than the one drawn leaves no tail of it; the last
	 * one erases it first, so that the line ends where its text does */
	if (done && p->drawn)
		fprintf(p->f, "\r%*s", (int)p->drawn, "");
	fprintf(p->f, "\r%s%*s%s", line,
		!done && p->drawn > (size_t)n ? (int)(p->drawn - (size_t)n) : 0,
		"", done ? "\n" : "");
	fflush(p->f);
	p->drawn = done ? 0 : (size_t)n;
	p->shown = true;
}

static bool due(const struct progress *p)
{
	return now_ns() - p->start >= (int64_t)p->after_ms * 1000000;
}

static void *tick(void *arg)
{
	struct progress *p = arg;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		struct timespec ts;

		if (due(p))
			draw(p, false, NULL);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->wake, &p->mu, &ts);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct progress *progress_start(FILE *f, struct sync_progress *counts)
{
	struct progress *p = xcalloc(1, sizeof(*p));

	p->f = f;
	p->counts = counts;
	p->after_ms = threshold_ms();
	p->start = p->moving_since = now_ns();
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->wake, NULL);
	/* no threshold (a test's): drawn at once, whatever the thread does */
	if (due(p))
		draw(p, false, NULL);
	if (pthread_create(&p->thread, NULL, tick, p) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

void progress_hold(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	erase(p);
}

void progress_release(struct progress *p)
{
	if (p)
		pthread_mutex_unlock(&p->mu);
}

void progress_stop(struct progress *p, bool finished)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	/* a run that took longer than the threshold says it is done, or that
	 * it stopped: the error that stopped it follows on its own line */
	if (p->shown || due(p))
		draw(p, true, finished ? ", done." : ", stopped.");
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
