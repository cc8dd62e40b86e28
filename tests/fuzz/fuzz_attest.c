/* Attestation readers on hostile bytes (attest.h): the SNP report loader with the checks on
 * its chain, the VCEK chain parser, the MAA answer/JWT parser with the claim checks, the JWKS
 * lookup and provider names. The first byte picks the reader. None may crash, leak or read
 * out of bounds, whatever the input. */
#include <stdlib.h>
#include <string.h>

#include "../../apply/attest.h"

static const uint8_t zero_hostdata[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char jwks[] = "{\"keys\":[]}",
			  hdr_only[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.AAAA";
	const char *prov = "https://a.attest.azure.net";
	uint8_t rep[SNP_REPORT_LEN];
	char *s = size ? malloc(size) : NULL, *chain = NULL, out[MAA_PROVIDER_MAX];
	X509 *c[3];
	struct verdict vd = {cJSON_CreateArray(), 0, 0}, *v = &vd;
	struct jwt j;
	struct ng_err err;

	if (!s || !vd.rows)
		goto out;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 5) {
	case 0:
		if (snp_report_load(data + 1, size - 1, "f", rep, &chain, &err) == 0 && chain &&
		    snp_chain_parse(chain, "f", c, &err) == 0) {
			snp_check(rep, c, zero_hostdata, rep, 16, v);
			snp_chain_free(c);
		}
		break;
	case 1:
		if (snp_chain_parse(s, "f", c, &err) == 0)
			snp_chain_free(c);
		break;
	case 2:
		if (maa_token_parse(s, size - 1, prov, &j, &err) == 0) {
			maa_check(&j, jwks, strlen(jwks), prov, zero_hostdata, "00", 0, v);
			jwt_release(&j);
		}
		break;
	case 3:
		if (maa_token_parse(hdr_only, strlen(hdr_only), prov, &j, &err) == 0) {
			maa_check(&j, s, size - 1, prov, zero_hostdata, NULL, 0, v);
			jwt_release(&j);
		}
		break;
	case 4:
		(void)maa_provider_normalize(s, out, &err);
		break;
	}
out:
	free(chain);
	free(s);
	cJSON_Delete(vd.rows);
	return 0;
}
