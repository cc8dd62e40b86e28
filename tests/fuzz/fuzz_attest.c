/* Attestation readers on hostile bytes: the SNP evidence loader and report
 * parser, the VCEK chain parser, the MAA answer/JWT parser with the claim
 * checks, and the JWKS key lookup. The first byte picks the reader. None may
 * crash, leak or read out of bounds, whatever the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../apply/maa.h"
#include "../../apply/snp.h"

static const uint8_t zero_hostdata[32];

static void fuzz_report(const uint8_t *p, size_t n)
{
	uint8_t rep[SNP_REPORT_LEN];
	char *chain = NULL;
	struct snp_report r;
	struct snp_chain *c = NULL;
	struct ng_err err;

	if (snp_evidence_load(p, n, "f", rep, &chain, &err) == 0 &&
	    snp_report_parse(rep, sizeof(rep), &r, &err) == 0 && chain &&
	    snp_chain_parse(chain, strlen(chain), "f", &c, &err) == 0) {
		struct verdict v = {0};
		struct snp_expect e = {zero_hostdata, rep, 16};
		snp_check(&r, c, &e, &v);
		snp_chain_free(c);
	}
	free(chain);
}

static void fuzz_token(const uint8_t *p, size_t n)
{
	static const char jwks[] = "{\"keys\":[]}";
	char *tok = NULL, *claimed = NULL;
	struct jwt j;
	struct ng_err err;

	if (maa_token_extract((const char *)p, n, &tok, &claimed, &err) == 0 &&
	    jwt_parse(tok, strlen(tok), &j, &err) == 0) {
		struct verdict *v = calloc(1, sizeof(*v));
		struct maa_expect e = {"https://a.attest.azure.net", zero_hostdata, "00", 0};
		(void)maa_header_check(&j, e.provider, &err);
		if (v)
			maa_check(&j, jwks, strlen(jwks), &e, v);
		free(v);
		jwt_release(&j);
	}
	free(tok);
	free(claimed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	struct snp_chain *c = NULL;
	EVP_PKEY *k = NULL;
	struct ng_err err;
	char prov[MAA_PROVIDER_MAX];

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_report(data + 1, size - 1);
		break;
	case 1:
		if (snp_chain_parse(s, size - 1, "f", &c, &err) == 0)
			snp_chain_free(c);
		break;
	case 2:
		fuzz_token(data + 1, size - 1);
		break;
	case 3:
		if (jwks_key(s, size - 1, "k", &k, &err) == 0)
			EVP_PKEY_free(k);
		break;
	case 4:
		(void)maa_provider_normalize(s, prov, &err);
		break;
	}
	free(s);
	return 0;
}
