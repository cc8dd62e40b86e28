/* Provider names, jku origins and the mint's answer forms (maa.h). Token
 * signatures and claims are tested against python3-cryptography tokens in
 * tests/integration/attest_verify.sh. */
#include <stdlib.h>
#include <string.h>

#include "../../apply/maa.h"
#include "../../bundle-format/codec.h"
#include "harness.h"

static void test_provider_normalize(void)
{
	static const char *good[][2] = {
	    {"sharedneu.neu.attest.azure.net", "https://sharedneu.neu.attest.azure.net"},
	    {"https://SharedNEU.neu.attest.azure.net/", "https://sharedneu.neu.attest.azure.net"},
	    {"https://127.0.0.1:8443", "https://127.0.0.1:8443"}};
	static const char *bad[] = {"http://a.attest.azure.net",
				    "https://a.attest.azure.net/certs",
				    "https://",
				    "",
				    "https://user@evil/",
				    "ftp://x",
				    "https://a b"};
	char out[MAA_PROVIDER_MAX];
	struct ng_err err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL(maa_provider_normalize(good[i][0], out, &err), 0);
		CU_ASSERT_STRING_EQUAL(out, good[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_NOT_EQUAL(maa_provider_normalize(bad[i], out, &err), 0);
}

/* A header-only token: {"alg":"RS256","kid":"k","jku":JKU} with payload {}. */
static int header_with_jku(const char *jku)
{
	char hdr[512], tok[1024];
	char *h;
	struct jwt j;
	struct ng_err err;
	int rc;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"k\",\"jku\":\"%s\"}", jku);
	h = base64url_encode((const uint8_t *)hdr, strlen(hdr));
	snprintf(tok, sizeof(tok), "%s.e30.AAAA", h);
	free(h);
	if ((rc = jwt_parse(tok, strlen(tok), &j, &err)) < 0)
		return rc;
	rc = maa_header_check(&j, "https://p.attest.azure.net", &err);
	jwt_release(&j);
	return rc;
}

static void test_jku_origin(void)
{
	CU_ASSERT_EQUAL(header_with_jku("https://p.attest.azure.net/certs"), 0);
	CU_ASSERT_EQUAL(header_with_jku("https://P.attest.azure.net/certs"), 0);
	CU_ASSERT_NOT_EQUAL(header_with_jku("https://p.attest.azure.net.evil/certs"), 0);
	CU_ASSERT_NOT_EQUAL(header_with_jku("https://p.attest.azure.net@evil/certs"), 0);
	CU_ASSERT_NOT_EQUAL(header_with_jku("https://p.attest.azure.net:444/certs"), 0);
	CU_ASSERT_NOT_EQUAL(header_with_jku("http://p.attest.azure.net/certs"), 0);
	CU_ASSERT_NOT_EQUAL(header_with_jku("https://evil/https://p.attest.azure.net/"), 0);
}

static void test_answer_forms(void)
{
	static const char *forms[] = {"  a.b.c\n",
				      "{\"maa_token\":\"a.b.c\",\"maa_endpoint\":\"e\"}",
				      "{\"token\":\"a.b.c\"}"};
	char *tok, *ep;
	struct ng_err err;

	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    maa_token_extract(forms[i], strlen(forms[i]), &tok, &ep, &err), 0);
		CU_ASSERT_EQUAL(strncmp(tok, "a.b.c", 5), 0);
		free(tok);
		free(ep);
	}
	CU_ASSERT_EQUAL(maa_token_extract("{\"error\":\"x\"}", 13, &tok, &ep, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the mint says: x"));
}

static const struct ng_test tests[] = {
    {"provider names normalize, others refused", test_provider_normalize},
    {"jku only on the provider's origin", test_jku_origin},
    {"bare JWT, mint JSON and SKR JSON", test_answer_forms},
};

NG_TEST_MAIN("apply_maa", tests)
