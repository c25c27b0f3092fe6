#ifndef STORYSYNC_CORE_BLOBID_H
#define STORYSYNC_CORE_BLOBID_H

#include <stddef.h>

/* Length of a hex SHA-1 blob id plus NUL. */
#define BLOBID_HEX 41

/* The git blob id of data ("blob <len>\0" + data, SHA-1), as hex into out.
 * The only libcrypto user: OpenSSL's SHA-1 is three times faster than
 * libgit2's collision-detecting one and gives the same id. */
void blobid_hex(const void *data, size_t len, char out[BLOBID_HEX]);

#endif
