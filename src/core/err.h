#ifndef STORYSYNC_CORE_ERR_H
#define STORYSYNC_CORE_ERR_H

#include <stdarg.h>
#include <stdbool.h>

#define ERR_MAX 1024

/* An error message, fully formatted: "path:line:col: what is wrong". */
struct err {
	char msg[ERR_MAX];
};

/* Formats the message into e (e may be NULL) and returns false, for
 * "return err_set(e, ...)". */
bool err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same at a position: "path:line:col: " and the message. */
bool err_at(struct err *e, const char *path, unsigned line, unsigned col,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
bool err_vat(struct err *e, const char *path, unsigned line, unsigned col,
	     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

#endif
