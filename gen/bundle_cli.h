/* bundle_cli.h: option handling the bundle commands share (keygen, sign,
 * verify, show, diff, pack, build): signing keys with their passphrase
 * source, trusted public keys, and the read options built from them. */
#ifndef NG_BUNDLE_CLI_H
#define NG_BUNDLE_CLI_H

#include <stdint.h>

#include <openssl/evp.h>

#include "../bundle-format/bundle.h"
#include "../bundle-format/err.h"

/* Loads a signing key (path or OSSL_STORE URI); passfd < 0: environment or
 * terminal. */
int bcli_load_key(const char *src, int passfd, EVP_PKEY **out, struct ng_err *err);

/* Appends the public key in path to a malloc'd array. */
int bcli_add_trust(const char *path, uint8_t (**keys)[SIGKEY_PUB_LEN], size_t *n,
		   struct ng_err *err);

/* Parses a non-negative decimal option value; -1 on error. */
long long bcli_number(const char *s, long long max);

/* "2026-01-31T12:00:00Z", or "+30d" / "+12h" relative to base. */
int bcli_time(const char *s, int64_t base, int64_t *out);

/* SOURCE_DATE_EPOCH when set (validated), else the clock. */
int bcli_now(int64_t *out, struct ng_err *err);

#endif
