/* attest.h: the SEV-SNP report check against a genuine report from Microsoft's
 * test data (tests/data/attest/, copied from sidecars-vectors/hostdata): AMD's
 * signature chain must hold for it and break for any flipped byte. Then MAA
 * provider names, jku origins and the mint's answer forms; token signatures
 * and claims are tested against python3-cryptography tokens in
 * tests/integration/attest_verify.sh. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../apply/attest.h"
#include "../../bundle-format/codec.h"
#include "../../bundle-format/digest.h"
#include "../../bundle-format/fileio.h"
#include "harness.h"

/* sidecars.md §5: sha256 of the decoded uvm_security_policy.base64. */
static const char policy_hostdata[] =
    "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c";

static uint8_t *load(const char *rel, size_t *n)
{
	char path[1024];
	uint8_t *p = NULL;
	struct ng_err err;

	snprintf(path, sizeof(path), "%s/%s", ng_srcdir(), rel);
	CU_ASSERT_EQUAL_FATAL(read_file_capped(path, 1 << 20, &p, n, &err), 0);
	return p;
}

static void hostdata_of_policy(uint8_t out[32])
{
	size_t n, m;
	uint8_t *b64 = load("tests/data/attest/uvm_security_policy.base64", &n), *pol;
	struct ng_err err;
	char hex[65];

	while (n && (b64[n - 1] == '\n' || b64[n - 1] == '\r'))
		n--;
	CU_ASSERT_EQUAL_FATAL(base64_decode((char *)b64, n, &pol, &m, &err), 0);
	sha256(pol, m, out);
	hex_encode(out, 32, hex);
	CU_ASSERT_STRING_EQUAL(hex, policy_hostdata);
	free(pol);
	free(b64);
}

/* snp_verify's result: 1 when every check passes, 0 when one fails, a negative code when
 * the input is refused (err says why). */
static int snp(const uint8_t *rep, size_t rn, const char *pem, const uint8_t hostdata[32],
	       const uint8_t *nonce, size_t nlen, struct ng_err *err)
{
	struct verdict v = {cJSON_CreateArray(), 0, 0};
	int rc = snp_verify(rep, rn, pem, hostdata, nonce, nlen, &v, err);

	cJSON_Delete(v.rows);
	return rc < 0 ? rc : verdict_ok(&v);
}

/* 1 when the report and chain verify with every check passing. */
static int verifies(const uint8_t *rep, size_t rn, const char *pem, size_t pn,
		    const uint8_t hostdata[32], const uint8_t *nonce, size_t nlen)
{
	char *text = strndup(pem, pn);
	struct ng_err err;
	int ok = snp(rep, rn, text, hostdata, nonce, nlen, &err) == 1;

	free(text);
	return ok;
}

static void test_genuine_report(void)
{
	size_t rn, pn;
	uint8_t *rep = load("tests/data/attest/snp_report.bin", &rn), hd[32];
	char *pem = (char *)load("tests/data/attest/uvm_host_amd_certificate.pem", &pn);

	hostdata_of_policy(hd);
	CU_ASSERT_EQUAL(rn, SNP_REPORT_LEN);
	CU_ASSERT_TRUE(verifies(rep, rn, pem, pn, hd, NULL, 0));
	CU_ASSERT_EQUAL(rep[0], 2);	      /* VERSION */
	CU_ASSERT_EQUAL(rep[0x30], 0);	      /* VMPL */
	CU_ASSERT_EQUAL(rep[0x0A] & 0x08, 0); /* POLICY bit 19, DEBUG */
	/* Another hostdata: one bit off. */
	hd[31] ^= 1;
	CU_ASSERT_FALSE(verifies(rep, rn, pem, pn, hd, NULL, 0));
	hd[31] ^= 1;
	/* The report's REPORT_DATA is some runtime data's hash: a nonce of ours
	 * is not in it, and its own first half is accepted as a literal nonce. */
	CU_ASSERT_FALSE(verifies(rep, rn, pem, pn, hd, (const uint8_t *)"fresh", 5));
	CU_ASSERT_TRUE(verifies(rep, rn, pem, pn, hd, rep + 0x50, 32)); /* REPORT_DATA */
	free(rep);
	free(pem);
}

static void test_flip_report_bytes(void)
{
	size_t rn, pn, passed = 0;
	uint8_t *rep = load("tests/data/attest/snp_report.bin", &rn), hd[32];
	char *pem = (char *)load("tests/data/attest/uvm_host_amd_certificate.pem", &pn);

	hostdata_of_policy(hd);
	for (size_t i = 0; i < rn; i++) {
		rep[i] ^= 0x01;
		passed += verifies(rep, rn, pem, pn, hd, NULL, 0);
		rep[i] ^= 0x01;
	}
	CU_ASSERT_EQUAL(passed, 0);
	free(rep);
	free(pem);
}

/* Re-encodes three DER certificates as PEM. */
static char *pem_of(uint8_t *der[3], int len[3], size_t *n)
{
	char *out = calloc(1, 16384);
	size_t o = 0;

	for (int k = 0; k < 3; k++) {
		char *b = base64_encode(der[k], (size_t)len[k]);
		o += (size_t)sprintf(out + o, "-----BEGIN CERTIFICATE-----\n");
		for (size_t i = 0, bl = strlen(b); i < bl; i += 64)
			o += (size_t)sprintf(out + o, "%.64s\n", b + i);
		o += (size_t)sprintf(out + o, "-----END CERTIFICATE-----\n");
		free(b);
	}
	*n = o;
	return out;
}

static void test_flip_certificate_bytes(void)
{
	size_t rn, pn, n, passed = 0, tried = 0;
	uint8_t *rep = load("tests/data/attest/snp_report.bin", &rn), hd[32], *der[3] = {0};
	char *pem = (char *)load("tests/data/attest/uvm_host_amd_certificate.pem", &pn), *p;
	int len[3];
	BIO *bio = BIO_new_mem_buf(pem, (int)pn);

	hostdata_of_policy(hd);
	for (int k = 0; k < 3; k++) {
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		len[k] = i2d_X509(x, &der[k]);
		X509_free(x);
	}
	BIO_free(bio);
	p = pem_of(der, len, &n);
	CU_ASSERT_TRUE(verifies(rep, rn, p, n, hd, NULL, 0));
	free(p);
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < len[k]; i++) {
			der[k][i] ^= 0x01;
			p = pem_of(der, len, &n);
			passed += verifies(rep, rn, p, n, hd, NULL, 0);
			tried++;
			free(p);
			der[k][i] ^= 0x01;
		}
	CU_ASSERT_EQUAL(passed, 0);
	CU_ASSERT(tried > 4000);
	for (int k = 0; k < 3; k++)
		OPENSSL_free(der[k]);
	free(rep);
	free(pem);
}

static void test_hostile_inputs(void)
{
	size_t rn, pn;
	uint8_t *rep = load("tests/data/attest/snp_report.bin", &rn), big[SNP_REPORT_LEN + 1] = {0},
		hd[32];
	char *pem = (char *)load("tests/data/attest/uvm_host_amd_certificate.pem", &pn);
	struct ng_err err;
	char *a, *b, *swapped;

	hostdata_of_policy(hd);
	memcpy(big, rep, rn);
	CU_ASSERT_EQUAL(snp(big, sizeof(big), pem, hd, NULL, 0, &err), NG_EINVAL);
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	CU_ASSERT_EQUAL(snp(rep, rn - 1, pem, hd, NULL, 0, &err), NG_EINVAL);
	big[0] = 6; /* an unknown version */
	CU_ASSERT_EQUAL(snp(big, SNP_REPORT_LEN, pem, hd, NULL, 0, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an SNP report"));
	/* Trailing data after the chain, and the chain in the wrong order. */
	a = calloc(1, pn + 16);
	memcpy(a, pem, pn);
	strcat(a, "junk\n");
	CU_ASSERT_EQUAL(snp(rep, rn, a, hd, NULL, 0, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "other data, expected VCEK"));
	b = strstr(pem, "-----END CERTIFICATE-----") + 26; /* after the VCEK */
	swapped = calloc(1, pn + 1);
	memcpy(swapped, b, pn - (size_t)(b - pem));
	memcpy(swapped + (pn - (size_t)(b - pem)), pem, (size_t)(b - pem));
	CU_ASSERT_EQUAL(snp(rep, rn, swapped, hd, NULL, 0, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "VCEK, ASK, ARK in that order"));
	CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	*b = 0; /* the VCEK alone */
	CU_ASSERT_EQUAL(snp(rep, rn, pem, hd, NULL, 0, &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1 certificates or other data"));
	free(a);
	free(swapped);
	free(rep);
	free(pem);
}

static void test_evidence_forms(void)
{
	size_t rn, pn;
	uint8_t *rep = load("tests/data/attest/snp_report.bin", &rn), hd[32];
	char *pem = (char *)load("tests/data/attest/uvm_host_amd_certificate.pem", &pn);
	char *hex = malloc(2 * rn + 64), *ev = base64_encode(rep, rn),
	     *en = base64_encode((uint8_t *)pem, pn), *js = malloc(strlen(ev) + strlen(en) + 64);
	struct ng_err err;

	hostdata_of_policy(hd);
	hex_encode(rep, rn, hex + 11);
	memcpy(hex, "{\"report\":\"", 11);
	strcat(hex, "\"}");
	CU_ASSERT_EQUAL(snp((uint8_t *)hex, strlen(hex), pem, hd, NULL, 0, &err), 1);
	/* /attest/raw carries no chain: the error says where to get it. */
	CU_ASSERT_EQUAL(snp((uint8_t *)hex, strlen(hex), NULL, hd, NULL, 0, &err), NG_EUSAGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no VCEK chain: pass --certs"));
	sprintf(js, "{\"evidence\":\"%s\",\"endorsements\":\"%s\"}", ev, en);
	CU_ASSERT_EQUAL(snp((uint8_t *)js, strlen(js), NULL, hd, NULL, 0, &err), 1);
	free(hex);
	free(ev);
	free(en);
	free(js);
	free(rep);
	free(pem);
}

/* The pinned fingerprints are those of the roots kept in templates/amd/. */
static void test_pinned_roots(void)
{
	static const char *files[] = {"templates/amd/milan.pem", "templates/amd/genoa.pem"};
	static const char *fam[] = {"Milan", "Genoa"};

	for (int i = 0; i < 2; i++) {
		size_t n;
		char *pem = (char *)load(files[i], &n);
		BIO *bio = BIO_new_mem_buf(pem, (int)n);
		X509 *ask = PEM_read_bio_X509(bio, NULL, NULL, NULL),
		     *ark = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		char fp[65];

		CU_ASSERT_STRING_EQUAL(snp_pinned_ark(ark, fp), fam[i]);
		CU_ASSERT_EQUAL(X509_verify(ask, X509_get0_pubkey(ark)), 1);
		CU_ASSERT_PTR_NULL(snp_pinned_ark(ask, fp));
		X509_free(ask);
		X509_free(ark);
		BIO_free(bio);
		free(pem);
	}
}

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

/* maa_verify on an answer, with an empty JWKS: its return code (refused < 0). */
static int maa(const char *answer, const char *provider, struct ng_err *err)
{
	static const uint8_t hd[32];
	struct verdict v = {cJSON_CreateArray(), 0, 0};
	int rc = maa_verify(answer, strlen(answer), "{}", 2, provider, hd, "", 0, &v, err);

	CU_ASSERT(rc < 0 || (v.fail > 0 && !verdict_ok(&v)));
	cJSON_Delete(v.rows);
	return rc;
}

/* A header-only token: {"alg":"RS256","kid":"k","jku":JKU} with payload {}. */
static int header_with_jku(const char *jku)
{
	char hdr[512], tok[1024], *h;
	struct ng_err err;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"k\",\"jku\":\"%s\"}", jku);
	h = base64url_encode((const uint8_t *)hdr, strlen(hdr));
	snprintf(tok, sizeof(tok), "%s.e30.AAAA", h);
	free(h);
	return maa(tok, "https://p.attest.azure.net", &err);
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
	/* {"alg":"RS256","kid":"k"}.{}.AAAA */
#define TOK "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.e30.AAAA"
	static const char *forms[] = {"  " TOK "\n",
				      "{\"maa_token\":\"" TOK "\",\"maa_endpoint\":\"e\"}",
				      "{\"token\":\"" TOK "\"}"};
	struct ng_err err;

	for (size_t i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(maa(forms[i], "https://p", &err), 0);
	CU_ASSERT_EQUAL(maa("{\"error\":\"x\"}", "https://p", &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the mint says: x"));
	CU_ASSERT_EQUAL(maa("a.b.c.d", "https://p", &err), NG_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "compact JWS"));
}

static const struct ng_test tests[] = {
    {"genuine report verifies, other hostdata fails", test_genuine_report},
    {"flipping any report byte fails", test_flip_report_bytes},
    {"flipping any certificate byte fails", test_flip_certificate_bytes},
    {"oversized, trailing data, wrong order refused", test_hostile_inputs},
    {"report as hex JSON and combined evidence", test_evidence_forms},
    {"pinned ARKs match templates/amd", test_pinned_roots},
    {"provider names normalize, others refused", test_provider_normalize},
    {"jku only on the provider's origin", test_jku_origin},
    {"bare JWT, mint JSON and SKR JSON", test_answer_forms},
};

NG_TEST_MAIN("apply_attest", tests)
