#ifndef STORYSYNC_CORE_SHA1_H
#define STORYSYNC_CORE_SHA1_H

#include <stddef.h>

/* SHA-1 of data, as 40 hex digits and a NUL into out. */
void sha1_hex(const void *data, size_t len, char out[41]);
/* The git blob id of data: SHA-1 of "blob <len>\0" + data, as hex. */
void sha1_blob_hex(const void *data, size_t len, char out[41]);

#endif
