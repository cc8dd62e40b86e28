/* maa.h: checking a Microsoft Azure Attestation token for an ACI confidential
 * group against a bundle (research: sidecars.md §6, azure-rest.md §6). The
 * token's signing keys are trusted only because they come over verified TLS
 * from the provider the bundle names; the token's own `jku` may only point
 * there. */
#ifndef NA_MAA_H
#define NA_MAA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../bundle-format/err.h"
#include "jwt.h"
#include "verdict.h"

#define MAA_PROVIDER_MAX 256
#define MAA_SKEW	 120 /* seconds of clock difference tolerated on nbf/exp */
#define MAA_BODY_MAX	 (2 * JWT_MAX)

/* "host", "https://host" or "https://host/" → "https://host" (lowercase, no
 * path); http:// and user info are refused. out holds MAA_PROVIDER_MAX. */
int maa_provider_normalize(const char *in, char out[MAA_PROVIDER_MAX], struct ng_err *err);

/* The token from what the mint's GET /v1/attestation (JSON with maa_token),
 * the SKR sidecar's /attest/maa (JSON with token) or a file (a bare JWT)
 * holds. *token is malloc'd; *claimed_endpoint (malloc'd or NULL) is what the
 * mint says its provider is, for display only. */
int maa_token_extract(const char *body, size_t n, char **token, char **claimed_endpoint,
		      struct ng_err *err);

/* Header checks that refuse a token outright: kid present, and jku (when
 * present) on the provider's own origin. */
int maa_header_check(const struct jwt *j, const char *provider, struct ng_err *err);

struct maa_expect {
	const char *provider;	 /* normalized, "https://host" */
	const uint8_t *hostdata; /* 32 bytes */
	const char *nonce_hex;	 /* NULL: no freshness check */
	time_t now;
};

/* Adds maa.* verdict rows: signature (key from jwks by kid), issuer,
 * validity, attestation type, compliance, hostdata, debuggable, VMPL, nonce,
 * and informational rows for the measurement and SVNs. */
void maa_check(const struct jwt *j, const char *jwks, size_t jwks_len, const struct maa_expect *e,
	       struct verdict *v);

#endif
