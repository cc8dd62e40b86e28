/* jwt.h: the part of JWS (RFC 7515, compact serialization) and JWK (RFC 7517)
 * that checking a Microsoft Azure Attestation token needs, and nothing more:
 * RS256 only (RFC 7518 §3.3), keys taken from a JWKS by `kid` through the
 * entry's x5c certificate, as MAA publishes them at {provider}/certs. Every
 * other algorithm, `none` and HMAC included, is refused while parsing, so no
 * caller can be tricked into verifying with the wrong primitive. */
#ifndef NA_JWT_H
#define NA_JWT_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "../bundle-format/err.h"

#define JWT_MAX	   131072 /* bytes of compact token; MAA's are ~10 KiB */
#define JWKS_MAX   262144 /* bytes of JWKS document */
#define JWT_CLAIMS 512	  /* members in the header or the payload */

struct jwt {
	cJSON *header, *payload; /* both JSON objects */
	char *signing_input;	 /* "<b64url header>.<b64url payload>" */
	size_t signing_len;
	unsigned char *sig;
	size_t sig_len;
};

/* Strict parse: three base64url parts, header and payload JSON objects with
 * no duplicate members, alg exactly "RS256", typ "JWT" when present, no
 * "crit". Trailing whitespace (a file's newline) is ignored. */
int jwt_parse(const char *tok, size_t n, struct jwt *j, struct ng_err *err);
void jwt_release(struct jwt *j);

/* Header or payload member as a string, or NULL. */
const char *jwt_str(const cJSON *obj, const char *name);

/* Finds `kid` in a JWKS and returns the public key of its x5c[0] certificate
 * (an RSA key of at least 2048 bits). NG_ENOTFOUND when no entry matches. */
int jwks_key(const char *jwks, size_t n, const char *kid, EVP_PKEY **key, struct ng_err *err);

/* RSASSA-PKCS1-v1_5 with SHA-256 over the signing input: 0 or NG_EVERIFY. */
int jwt_verify_rs256(const struct jwt *j, EVP_PKEY *key, struct ng_err *err);

#endif
