#ifndef STORYSYNC_METRICS_H
#define STORYSYNC_METRICS_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"
#include "health.h"

/* Appends the Prometheus text format of h to b. */
void metrics_render(const struct config *c, const struct health *h,
		    struct buf *b);
/* Writes the metrics (without a dry run: pending files are the files in
 * error, pending rows those past the mark) to c->metrics_file, replacing
 * it whole, as node_exporter's textfile collector wants. */
bool metrics_write_file(const struct config *c, struct err *e);

#endif
