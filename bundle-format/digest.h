/* digest.h: SHA-256 as every part of the project uses it (layer digests,
 * hostdata, manifest entries, key ids). A thin layer over OpenSSL's EVP so that
 * callers need not handle EVP contexts or error queues. */
#ifndef NG_DIGEST_H
#define NG_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SHA256_LEN     32
#define SHA256_HEX_LEN 64

struct sha256_ctx; /* opaque */

struct sha256_ctx *sha256_new(void);
void sha256_free(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *p, size_t n);
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);

void sha256(const void *p, size_t n, uint8_t out[SHA256_LEN]);
/* out must hold SHA256_HEX_LEN + 1 bytes. */
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_LEN + 1]);
int sha256_file(const char *path, uint8_t out[SHA256_LEN], struct ng_err *err);

/* Parses "sha256:<64 lowercase hex>" (the OCI digest form); rejects other
 * algorithms and upper case, which would make two spellings of one digest. */
int digest_parse_sha256(const char *s, uint8_t out[SHA256_LEN], struct ng_err *err);

#endif
