/* store_pg.c: PostgreSQL's store (issue 23), the top layer. */
#include "store_impl.h"

#include <stdlib.h>

#include "dbhome.h"

static bool claims(const char *database)
{
	return dbhome_is_server(database);
}

static bool pg_open(struct store **out, const char *database, int busy_ms,
		    bool read_only, bool create, bool *busy, struct err *e)
{
	char *shown = dbhome_mask(database);

	(void)busy_ms, (void)read_only, (void)create, (void)busy;
	*out = NULL;
	err_set(e, "%s: the PostgreSQL backend is not written yet", shown);
	free(shown);
	return false;
}

const struct store_ops store_pg_ops = {
	.name = "PostgreSQL",
	.claims = claims,
	.open = pg_open,
};
