#include "err.h"

#include <stdarg.h>
#include <stdio.h>

bool err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return false;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return false;
}

bool err_vat(struct err *e, const char *path, unsigned line, unsigned col,
	     const char *fmt, va_list ap)
{
	char what[ERR_MAX];

	vsnprintf(what, sizeof(what), fmt, ap);
	return err_set(e, "%s:%u:%u: %s", path, line, col, what);
}

bool err_at(struct err *e, const char *path, unsigned line, unsigned col,
	    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(e, path, line, col, fmt, ap);
	va_end(ap);
	return false;
}
