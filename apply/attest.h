/* attest.h: the evidence `nutapply verify` checks (docs/verify.md): a Microsoft Azure
 * Attestation token (RS256 JWT; sidecars.md §6, azure-rest.md §6) and, independently of
 * Microsoft, the raw AMD SEV-SNP report with its VCEK chain up to an AMD root pinned here. */
#ifndef NA_ATTEST_H
#define NA_ATTEST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "../bundle-format/err.h"

/* Rows {"check","expected","seen","status"}; state: a check's result (0 fail, 1 pass) or INFO. */
enum { VERDICT_FAIL, VERDICT_PASS, VERDICT_INFO };
struct verdict {
	cJSON *rows; /* an array the caller creates and deletes */
	int pass, fail;
};
#define verdict_ok(v) ((v)->fail == 0 && (v)->pass > 0)
void verdict_add(struct verdict *v, const char *name, int state, const char *expected,
		 const char *seen, ...) __attribute__((format(printf, 5, 6)));
/* A table, or {"checks":[rows],"ok":bool}. */
void verdict_print(const struct verdict *v, int json, FILE *f);

#define SNP_REPORT_LEN 1184
#define SNP_CHAIN_MAX  65536 /* bytes of PEM; the three certificates are ~6.5 KiB */

/* Refuses what is not a report (1184 bytes, /attest/raw's {"report":hex} or /attest/combined's
 * {"evidence","endorsements"}) with its VCEK chain (certs, else the endorsements: VCEK, ASK, ARK
 * as PEM, in that order); else adds the snp.* rows. nonce_len 0: no nonce, else 1..64. */
int snp_verify(const uint8_t *in, size_t n, const char *certs, const uint8_t hostdata[32],
	       const uint8_t *nonce, size_t nonce_len, struct verdict *v, struct ng_err *err);
/* "Milan" or "Genoa" when ark is that pinned AMD root, else NULL; fp: its SHA-256 (hex). */
const char *snp_pinned_ark(X509 *ark, char fp[65]);

#define JWT_MAX		 131072 /* bytes of compact token; MAA's are ~10 KiB */
#define JWKS_MAX	 262144
#define MAA_BODY_MAX	 (2 * JWT_MAX)
#define MAA_PROVIDER_MAX 256

/* "host", "https://host" or "https://host/" to "https://host" (lowercase); others refused. */
int maa_provider_normalize(const char *in, char out[MAA_PROVIDER_MAX], struct ng_err *err);
/* The token in the mint's {"maa_token"}, the SKR sidecar's {"token"} or a bare JWT, refused
 * unless RS256 without duplicate members, crit, or a jku off the provider's origin; else adds
 * the maa.* rows, the signature checked with its kid's key in jwks. nonce_hex "": none. */
int maa_verify(const char *body, size_t n, const char *jwks, size_t jwks_n, const char *provider,
	       const uint8_t hostdata[32], const char *nonce_hex, time_t now, struct verdict *v,
	       struct ng_err *err);

#endif
