/* hex and base64 against RFC 4648 §10 test vectors. */
#include <stdlib.h>
#include <string.h>

#include "../../bundle-format/codec.h"
#include "../../bundle-format/digest.h"
#include "harness.h"

static const char *rfc_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *rfc_b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_base64_rfc4648(void)
{
	for (int i = 0; i < 7; i++) {
		char *e = base64_encode((const uint8_t *)rfc_in[i], strlen(rfc_in[i]));
		uint8_t *d;
		size_t n;
		struct ng_err err;
		CU_ASSERT_STRING_EQUAL(e, rfc_b64[i]);
		CU_ASSERT_EQUAL_FATAL(base64_decode(e, strlen(e), &d, &n, &err), 0);
		CU_ASSERT_EQUAL(n, strlen(rfc_in[i]));
		CU_ASSERT(memcmp(d, rfc_in[i], n) == 0);
		free(d);
		free(e);
	}
}

static void test_base64url(void)
{
	const uint8_t in[] = {0xfb, 0xff, 0xfe};
	char *e = base64url_encode(in, 3);
	uint8_t *d;
	size_t n;
	struct ng_err err;

	CU_ASSERT_STRING_EQUAL(e, "-__-");
	free(e);
	e = base64url_encode(in, 2);
	CU_ASSERT_STRING_EQUAL(e, "-_8");
	CU_ASSERT_EQUAL(base64url_decode(e, strlen(e), &d, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 2);
	free(d);
	free(e);
	CU_ASSERT_EQUAL(base64url_decode("-_8=", 4, &d, &n, &err), NG_EINVAL);
}

static void test_base64_rejects(void)
{
	uint8_t *d;
	size_t n;
	struct ng_err err;

	CU_ASSERT_EQUAL(base64_decode("Zm9", 3, &d, &n, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(base64_decode("Zm!v", 4, &d, &n, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(base64_decode("Zh==", 4, &d, &n, &err), NG_EINVAL); /* trailing bits */
	CU_ASSERT_EQUAL(base64_decode("Z===", 4, &d, &n, &err), NG_EINVAL);
}

static void test_hex(void)
{
	uint8_t b[3] = {0x00, 0xab, 0xff}, d[3];
	char s[7];
	struct ng_err err;

	hex_encode(b, 3, s);
	CU_ASSERT_STRING_EQUAL(s, "00abff");
	CU_ASSERT_EQUAL(hex_decode("00ABff", d, 3, &err), 0);
	CU_ASSERT(memcmp(b, d, 3) == 0);
	CU_ASSERT_EQUAL(hex_decode("00abf", d, 3, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(hex_decode("00abfg", d, 3, &err), NG_EINVAL);
}

/* FIPS 180-2 appendix B.1 */
static void test_sha256(void)
{
	char hex[65];
	uint8_t d[32];
	struct ng_err err;

	sha256_hex("abc", 3, hex);
	CU_ASSERT_STRING_EQUAL(hex,
			       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CU_ASSERT_EQUAL(
	    digest_parse_sha256(
		"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d, &err),
	    0);
	CU_ASSERT_EQUAL(d[0], 0xba);
	CU_ASSERT_EQUAL(digest_parse_sha256("sha512:ba78", d, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(
	    digest_parse_sha256(
		"sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d, &err),
	    NG_EINVAL);
}

static const struct ng_test tests[] = {
    {"base64 RFC 4648 vectors", test_base64_rfc4648},
    {"base64url", test_base64url},
    {"base64 rejects malformed", test_base64_rejects},
    {"hex", test_hex},
    {"sha256 FIPS 180-2", test_sha256},
};
NG_TEST_MAIN("codec", tests)
