#ifndef STORYSYNC_CORE_BLOBID_H
#define STORYSYNC_CORE_BLOBID_H

#include <stdbool.h>
#include <stddef.h>

/* Length of a hex SHA-1 blob id plus NUL. */
#define BLOBID_HEX 41

/* The git blob id of data ("blob <len>\0" + data, SHA-1), as hex into out.
 * SHA-1 without collision detection, as libcrypto's: libgit2's
 * collision-detecting one is three times slower and gives the same id. */
void blobid_hex(const void *data, size_t len, char out[BLOBID_HEX]);
/* The git object id of data as an object of type ("commit", "tree"...):
 * "<type> <len>\0" + data. type is short (a header of at most 31 bytes). */
void objid_hex(const char *type, const void *data, size_t len,
	       char out[BLOBID_HEX]);
/* The SHA-1 of data itself, no header, as hex (for the tests' FIPS 180
 * examples). */
void sha1_hex(const void *data, size_t len, char out[BLOBID_HEX]);

/* For the tests: on, the portable rounds even where the CPU has the SHA
 * extensions. */
void blobid_portable(bool on);

#endif
