#ifndef STORYSYNC_CORE_BUF_H
#define STORYSYNC_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte buffer, always NUL-terminated once anything was added. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

/* Makes room for n more bytes (and the NUL) without appending. */
void buf_reserve(struct buf *b, size_t n);
/* Appends n bytes of p. */
void buf_add(struct buf *b, const void *p, size_t n);
/* Appends the string s. */
void buf_puts(struct buf *b, const char *s);
/* Appends one byte. */
void buf_putc(struct buf *b, char c);
/* Appends n bytes of s with each control byte (below 0x20, and 0x7f) as
 * "\xNN", as the command line prints names: a newline in a file name
 * cannot split a line, an escape sequence cannot reach a terminal. */
void buf_put_escaped(struct buf *b, const char *s, size_t n);
/* Appends formatted text. */
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* Returns the contents as a heap string (never NULL) and empties b. */
char *buf_detach(struct buf *b);
/* Frees the memory. */
void buf_finish(struct buf *b);

#endif
