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
	static const uint8_t genuine[SNP_REPORT_LEN] = {[0] = 2, [0x34] = 1}; /* v2, ECDSA */
	char *s = size ? malloc(size) : NULL, out[MAA_PROVIDER_MAX];
	struct verdict vd = {cJSON_CreateArray(), 0, 0}, *v = &vd;
	struct ng_err err;

	if (!s || !vd.rows)
		goto out;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 5) {
	case 0:
		(void)snp_verify(data + 1, size - 1, NULL, zero_hostdata, data, 16, v, &err);
		break;
	case 1:
		(void)snp_verify(genuine, SNP_REPORT_LEN, s, zero_hostdata, NULL, 0, v, &err);
		break;
	case 2:
		(void)maa_verify(s, size - 1, jwks, strlen(jwks), prov, zero_hostdata, "00", 0, v,
				 &err);
		break;
	case 3:
		(void)maa_verify(hdr_only, strlen(hdr_only), s, size - 1, prov, zero_hostdata, "",
				 0, v, &err);
		break;
	case 4:
		(void)maa_provider_normalize(s, out, &err);
		break;
	}
out:
	free(s);
	cJSON_Delete(vd.rows);
	return 0;
}
