/*
 * libpq, loaded when first needed (pqload.c): the program is not linked
 * with it, so that a run on SQLite never loads it. Include this, not
 * libpq-fe.h, in the PostgreSQL backend.
 */
#ifndef STORYSYNC_PQLOAD_H
#define STORYSYNC_PQLOAD_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "err.h"

/* Loads libpq once; false, e saying why, when it cannot be. Call before
 * any PQ function. */
bool pq_load(struct err *e);

#endif
