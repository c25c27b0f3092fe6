/*
 * gitcerts.c, part of the module storysync-git.so: the CA certificates
 * that libgit2 1.5 (Debian's, built with mbedTLS) parses in
 * git_libgit2_init, before any option could say where they are or that
 * none are wanted: all of /etc/ssl/certs/ca-certificates.crt, 4.6% of a
 * sync that writes 100 edits to their files (perf, 10k stories).
 *
 * storysync reads local repositories only: it never fetches, pushes or
 * opens a connection, so it never needs a certificate. The module defines
 * the two mbedTLS calls that load them; libgit2 is found through the
 * module (dlopen puts the module first in the scope its libraries' symbols
 * are looked up in), so its calls come here and load nothing. Were a
 * connection ever made, its chain of trusted certificates would be empty
 * and mbedTLS would refuse every server: a failure, never a connection
 * trusted without a check. A libgit2 built with OpenSSL, or one that loads
 * its certificates on first use, never calls these.
 */

/* mbedtls_x509_crt, left as libgit2 initialised it (empty) */
struct mbedtls_x509_crt;

int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain,
				const char *path);
int mbedtls_x509_crt_parse_path(struct mbedtls_x509_crt *chain,
				const char *path);

/* 0: parsed, no certificate in it (mbedTLS's "no error"). */
int mbedtls_x509_crt_parse_file(struct mbedtls_x509_crt *chain,
				const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}

/* For a directory, mbedTLS answers the number of files it could not
 * parse: none. */
int mbedtls_x509_crt_parse_path(struct mbedtls_x509_crt *chain,
				const char *path)
{
	(void)chain;
	(void)path;
	return 0;
}
