/* codec.h: hex, base64 (RFC 4648 §4) and base64url without padding (§5, as
 * JWS and JWK use it). Decoders are strict: they reject characters outside the
 * alphabet, bad padding and non-canonical trailing bits, because every encoded
 * value nutgen reads may come from a hostile bundle or HTTP reply. */
#ifndef NG_CODEC_H
#define NG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Writes 2*n lowercase hex digits and a NUL into out (size >= 2*n+1). */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes exactly 2*outlen hex digits (either case) from a NUL-terminated
 * string; fails when the length differs. */
int hex_decode(const char *in, uint8_t *out, size_t outlen, struct ng_err *err);

/* Returns a malloc'd NUL-terminated string; NULL on allocation failure. */
char *base64_encode(const uint8_t *in, size_t n);
char *base64url_encode(const uint8_t *in, size_t n);

/* Decode into a malloc'd buffer (*out, *outlen). base64_decode requires
 * padding; base64url_decode refuses it. */
int base64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen, struct ng_err *err);
int base64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen,
		     struct ng_err *err);

#endif
