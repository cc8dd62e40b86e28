#include "snp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"

/* SHA-256 over the DER of AMD's root keys, as AMD KDS serves them
 * (https://kdsintf.amd.com/vcek/v1/{Milan,Genoa}/cert_chain) and as
 * templates/amd/{milan,genoa}.pem keep them; see docs/verify.md for where
 * these values were cross-checked. */
static const struct {
	const char *family;
	const char *ark_sha256;
} pinned_arks[] = {
    {"Milan", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"},
    {"Genoa", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"},
};

/* VCEK extensions (AMD "Versioned Chip Endorsement Key (VCEK) Certificate and
 * KDS Interface Specification", table "VCEK Certificate Extensions"). */
#define OID_BL_SPL    "1.3.6.1.4.1.3704.1.3.1"
#define OID_TEE_SPL   "1.3.6.1.4.1.3704.1.3.2"
#define OID_SNP_SPL   "1.3.6.1.4.1.3704.1.3.3"
#define OID_UCODE_SPL "1.3.6.1.4.1.3704.1.3.8"
#define OID_HWID      "1.3.6.1.4.1.3704.1.4"

struct snp_chain {
	X509 *vcek, *ask, *ark;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int all_zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int snp_report_parse(const uint8_t *p, size_t n, struct snp_report *r, struct ng_err *err)
{
	if (n != SNP_REPORT_LEN)
		return ng_errf(err, NG_EINVAL,
			       "SNP report is %zu bytes, expected exactly %d: pass the report as "
			       "the SKR sidecar's /attest/raw returns it",
			       n, SNP_REPORT_LEN);
	memset(r, 0, sizeof(*r));
	memcpy(r->raw, p, SNP_REPORT_LEN);
	r->version = le32(p + 0x00);
	r->guest_svn = le32(p + 0x04);
	r->policy = le64(p + 0x08);
	memcpy(r->family_id, p + 0x10, 16);
	memcpy(r->image_id, p + 0x20, 16);
	r->vmpl = le32(p + 0x30);
	r->sig_algo = le32(p + 0x34);
	r->current_tcb = le64(p + 0x38);
	r->platform_info = le64(p + 0x40);
	memcpy(r->report_data, p + 0x50, 64);
	memcpy(r->measurement, p + 0x90, 48);
	memcpy(r->host_data, p + 0xC0, 32);
	memcpy(r->id_key_digest, p + 0xE0, 48);
	memcpy(r->author_key_digest, p + 0x110, 48);
	memcpy(r->report_id, p + 0x140, 32);
	r->reported_tcb = le64(p + 0x180);
	memcpy(r->chip_id, p + 0x1A0, 64);
	r->committed_tcb = le64(p + 0x1E0);
	r->launch_tcb = le64(p + 0x1F0);
	if (r->version < 2 || r->version > 5)
		return ng_errf(err, NG_EINVAL,
			       "SNP report: version %u is not one of 2..5 this verifier knows",
			       r->version);
	if (r->sig_algo != 1)
		return ng_errf(err, NG_EINVAL,
			       "SNP report: signature algorithm %u is not 1 (ECDSA P-384 SHA-384)",
			       r->sig_algo);
	/* r and s are 72-byte little-endian fields holding 48-byte values; the
	 * rest of the 512-byte signature area is reserved and zero. */
	if (!all_zero(p + 0x2A0 + 48, 24) || !all_zero(p + 0x2E8 + 48, 24) ||
	    !all_zero(p + 0x330, SNP_REPORT_LEN - 0x330))
		return ng_errf(err, NG_EINVAL,
			       "SNP report: non-zero bytes in the reserved part of the signature");
	return 0;
}

static int is_hex_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit(p[i]))
			return 0;
	return 1;
}

static int b64_field(const cJSON *o, const char *key, uint8_t **out, size_t *n, struct ng_err *err)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(s))
		return ng_errf(err, NG_EINVAL, "no \"%s\" string", key);
	return base64_decode(s->valuestring, strlen(s->valuestring), out, n, err);
}

static int evidence_json(const uint8_t *in, size_t n, uint8_t report[SNP_REPORT_LEN],
			 char **chain_pem, struct ng_err *err)
{
	cJSON *o = cJSON_ParseWithLength((const char *)in, n);
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(o, "report");
	uint8_t *ev = NULL, *pem = NULL;
	size_t evn = 0, pemn = 0;
	int rc;

	if (!cJSON_IsObject(o))
		rc = ng_errf(err, NG_EINVAL, "not JSON");
	else if (cJSON_IsString(hex))
		rc = strlen(hex->valuestring) == 2 * SNP_REPORT_LEN
			 ? hex_decode(hex->valuestring, report, SNP_REPORT_LEN, err)
			 : ng_errf(err, NG_EINVAL, "\"report\" is not %d hex digits",
				   2 * SNP_REPORT_LEN);
	else if ((rc = b64_field(o, "evidence", &ev, &evn, err)) == 0 &&
		 (rc = b64_field(o, "endorsements", &pem, &pemn, err)) == 0) {
		if (evn != SNP_REPORT_LEN || pemn > SNP_CHAIN_MAX)
			rc = ng_errf(err, NG_EINVAL, "evidence is %zu bytes, endorsements %zu", evn,
				     pemn);
		else if (!(*chain_pem = malloc(pemn + 1)))
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
		else {
			memcpy(report, ev, SNP_REPORT_LEN);
			memcpy(*chain_pem, pem, pemn);
			(*chain_pem)[pemn] = 0;
		}
	}
	free(ev);
	free(pem);
	cJSON_Delete(o);
	return rc;
}

int snp_evidence_load(const uint8_t *in, size_t n, const char *name, uint8_t report[SNP_REPORT_LEN],
		      char **chain_pem, struct ng_err *err)
{
	int rc;

	*chain_pem = NULL;
	if (n == SNP_REPORT_LEN && in[0] != '{' && !is_hex_text(in, n)) {
		memcpy(report, in, n);
		return 0;
	}
	while (n && isspace(in[n - 1]))
		n--;
	if (n == 2 * SNP_REPORT_LEN && is_hex_text(in, n)) {
		char hex[2 * SNP_REPORT_LEN + 1];
		memcpy(hex, in, n);
		hex[n] = 0;
		rc = hex_decode(hex, report, SNP_REPORT_LEN, err);
	} else if (n && in[0] == '{') {
		rc = evidence_json(in, n, report, chain_pem, err);
	} else {
		rc =
		    ng_errf(err, NG_EINVAL, "%zu bytes, neither a %d-byte report, its hex nor JSON",
			    n, SNP_REPORT_LEN);
	}
	if (rc < 0)
		return ng_err_prefix(err, NG_EINVAL,
				     "%s: not an SNP report as /attest/raw or /attest/combined "
				     "give it",
				     name);
	return 0;
}

void snp_chain_free(struct snp_chain *c)
{
	if (!c)
		return;
	X509_free(c->vcek);
	X509_free(c->ask);
	X509_free(c->ark);
	free(c);
}

static int cn_of(X509_NAME *nm, char *out, size_t len)
{
	if (X509_NAME_get_text_by_NID(nm, NID_commonName, out, (int)len) < 0)
		snprintf(out, len, "(no CN)");
	return 0;
}

int snp_chain_parse(const char *pem, size_t n, const char *name, struct snp_chain **out,
		    struct ng_err *err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----",
			  end[] = "-----END CERTIFICATE-----";
	static const char *const role[] = {"VCEK", "ASK", "ARK"};
	X509 *certs[3] = {0};
	size_t i = 0, k = 0;
	int rc = 0;
	char a[64], b[64];

	if (n > SNP_CHAIN_MAX)
		return ng_errf(err, NG_ELIMIT, "%s: %zu bytes, more than %d for a VCEK chain", name,
			       n, SNP_CHAIN_MAX);
	/* Walk the text ourselves: PEM readers skip any text between blocks,
	 * and a chain with extra content is not the chain AMD published. */
	while (rc == 0) {
		while (i < n && isspace((unsigned char)pem[i]))
			i++;
		if (i == n)
			break;
		const char *e;
		if (n - i < sizeof(begin) - 1 || memcmp(pem + i, begin, sizeof(begin) - 1) ||
		    !(e = memmem(pem + i, n - i, end, sizeof(end) - 1))) {
			rc = ng_errf(err, NG_EINVAL,
				     "%s: data other than PEM certificates at byte %zu", name, i);
			break;
		}
		if (k == 3) {
			rc = ng_errf(err, NG_EINVAL, "%s: more than 3 certificates", name);
			break;
		}
		size_t blen = (size_t)(e - (pem + i)) + sizeof(end) - 1;
		BIO *bio = BIO_new_mem_buf(pem + i, (int)blen);
		certs[k] = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (!certs[k++])
			rc = ng_err_openssl(err, NG_EINVAL, name);
		i += blen;
	}
	if (rc == 0 && k != 3)
		rc = ng_errf(err, NG_EINVAL, "%s: %zu certificates, expected VCEK, ASK, ARK", name,
			     k);
	for (k = 0; rc == 0 && k < 3; k++) {
		X509 *issuer = certs[k < 2 ? k + 1 : 2];
		int self = X509_NAME_cmp(X509_get_subject_name(certs[k]),
					 X509_get_issuer_name(certs[k])) == 0;
		if ((k == 2) != self || X509_NAME_cmp(X509_get_issuer_name(certs[k]),
						      X509_get_subject_name(issuer)) != 0) {
			cn_of(X509_get_subject_name(certs[k]), a, sizeof(a));
			cn_of(X509_get_issuer_name(certs[k]), b, sizeof(b));
			rc = ng_errf(err, NG_EINVAL,
				     "%s: certificate %zu (%s, issued by %s) is not the %s: the "
				     "chain must be VCEK, ASK, ARK in that order",
				     name, k + 1, a, b, role[k]);
		}
	}
	if (rc == 0 && !(*out = calloc(1, sizeof(**out))))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	if (rc < 0) {
		for (k = 0; k < 3; k++)
			X509_free(certs[k]);
		return rc;
	}
	(*out)->vcek = certs[0];
	(*out)->ask = certs[1];
	(*out)->ark = certs[2];
	return 0;
}

const char *snp_pinned_ark(const uint8_t fp[32])
{
	char hex[65];

	hex_encode(fp, 32, hex);
	for (size_t i = 0; i < sizeof(pinned_arks) / sizeof(pinned_arks[0]); i++)
		if (strcmp(hex, pinned_arks[i].ark_sha256) == 0)
			return pinned_arks[i].family;
	return NULL;
}

/* True when parent's key verifies child's RSASSA-PSS signature and child is
 * inside its validity period now. */
static const char *cert_signed_by(X509 *child, X509 *parent)
{
	EVP_PKEY *k = X509_get0_pubkey(parent);

	if (X509_get_signature_nid(child) != NID_rsassaPss)
		return "not an RSA-PSS signature";
	if (!k || X509_verify(child, k) != 1) {
		ERR_clear_error();
		return "bad signature";
	}
	if (X509_cmp_current_time(X509_get0_notBefore(child)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(child)) <= 0)
		return "outside its validity period";
	return NULL;
}

static int ext_data(X509 *x, const char *oid, const uint8_t **p, int *len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
	ASN1_OCTET_STRING *d;

	ASN1_OBJECT_free(o);
	if (i < 0 || !(d = X509_EXTENSION_get_data(X509_get_ext(x, i))))
		return -1;
	*p = ASN1_STRING_get0_data(d);
	*len = ASN1_STRING_length(d);
	return 0;
}

/* A VCEK SPL extension: a DER INTEGER 0..255. */
static int ext_spl(X509 *x, const char *oid)
{
	const uint8_t *p;
	int len;
	long v = -1;
	ASN1_INTEGER *ai;

	if (ext_data(x, oid, &p, &len) < 0 || !(ai = d2i_ASN1_INTEGER(NULL, &p, len)))
		return -1;
	v = ASN1_INTEGER_get(ai);
	ASN1_INTEGER_free(ai);
	return v >= 0 && v <= 255 ? (int)v : -1;
}

/* TCB_VERSION for Milan and Genoa: byte 0 boot loader, 1 TEE, 6 SNP firmware,
 * 7 microcode (ABI spec, "TCB_VERSION Structure"). */
static void tcb_text(uint64_t t, char *out, size_t n)
{
	snprintf(out, n, "bl=%u tee=%u snp=%u ucode=%u", (unsigned)(t & 0xff),
		 (unsigned)(t >> 8 & 0xff), (unsigned)(t >> 48 & 0xff), (unsigned)(t >> 56));
}

static int report_signature_ok(const struct snp_report *r, X509 *vcek)
{
	EVP_PKEY *k = X509_get0_pubkey(vcek);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_lebin2bn(r->raw + 0x2A0, 72, NULL),
	       *bs = BN_lebin2bn(r->raw + 0x2E8, 72, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	char group[32] = "";
	int derlen, ok = 0;

	if (k && EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_group_name(k, group, sizeof(group), NULL) && !strcmp(group, "secp384r1") &&
	    sig && br && bs && md && ECDSA_SIG_set0(sig, br, bs)) {
		br = bs = NULL;
		derlen = i2d_ECDSA_SIG(sig, &der);
		ok = derlen > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, k) == 1 &&
		     EVP_DigestVerify(md, der, (size_t)derlen, r->raw, SNP_SIGNED_LEN) == 1;
	}
	OPENSSL_free(der);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

static void check_chain(const struct snp_report *r, const struct snp_chain *c, struct verdict *v)
{
	uint8_t fp[32] = {0}, *der = NULL;
	int n = i2d_X509(c->ark, &der), len;
	const char *fam = NULL, *why;
	char hex[129], want[160];
	const uint8_t *hw;

	if (n > 0) {
		sha256(der, (size_t)n, fp);
		fam = snp_pinned_ark(fp);
	}
	OPENSSL_free(der);
	hex_encode(fp, 32, hex);
	if (fam && (why = cert_signed_by(c->ark, c->ark)) != NULL)
		fam = NULL;
	verdict_addf(v, "snp.ark", fam ? VERDICT_PASS : VERDICT_FAIL,
		     "an AMD root pinned in nutapply (ARK-Milan, ARK-Genoa)", "%s sha256:%s",
		     fam ? fam : "unknown root", n > 0 ? hex : "?");
	why = cert_signed_by(c->ask, c->ark);
	verdict_add(v, "snp.ask", why ? VERDICT_FAIL : VERDICT_PASS,
		    "ASK signed by the ARK (RSA-PSS), valid now", why ? why : "signed, valid");
	why = cert_signed_by(c->vcek, c->ask);
	verdict_add(v, "snp.vcek", why ? VERDICT_FAIL : VERDICT_PASS,
		    "VCEK signed by the ASK (RSA-PSS), valid now", why ? why : "signed, valid");
	n = report_signature_ok(r, c->vcek);
	verdict_add(v, "snp.signature", n ? VERDICT_PASS : VERDICT_FAIL,
		    "report signed by the VCEK (ECDSA P-384, SHA-384)", n ? "valid" : "invalid");

	hex_encode(r->chip_id, 64, hex);
	n = ext_data(c->vcek, OID_HWID, &hw, &len) == 0 && len == 64 &&
	    memcmp(hw, r->chip_id, 64) == 0;
	verdict_addf(v, "snp.vcek-chip", n ? VERDICT_PASS : VERDICT_FAIL,
		     "VCEK hwID equal to the report's CHIP_ID", "%.32s... %s", hex,
		     n ? "equal" : "different");
	int bl = ext_spl(c->vcek, OID_BL_SPL), tee = ext_spl(c->vcek, OID_TEE_SPL),
	    snp = ext_spl(c->vcek, OID_SNP_SPL), uc = ext_spl(c->vcek, OID_UCODE_SPL);
	uint64_t t = r->reported_tcb;
	tcb_text(t, want, sizeof(want));
	n = bl == (int)(t & 0xff) && tee == (int)(t >> 8 & 0xff) && snp == (int)(t >> 48 & 0xff) &&
	    uc == (int)(t >> 56);
	verdict_addf(v, "snp.vcek-tcb", n ? VERDICT_PASS : VERDICT_FAIL, want,
		     "VCEK for bl=%d tee=%d snp=%d ucode=%d", bl, tee, snp, uc);
}

void snp_check(const struct snp_report *r, const struct snp_chain *c, const struct snp_expect *e,
	       struct verdict *v)
{
	char want[160], seen[160];
	int ok;

	check_chain(r, c, v);
	hex_encode(e->hostdata, 32, want);
	hex_encode(r->host_data, 32, seen);
	verdict_add(v, "snp.hostdata", strcmp(want, seen) ? VERDICT_FAIL : VERDICT_PASS, want,
		    seen);
	verdict_addf(v, "snp.vmpl", r->vmpl == 0 ? VERDICT_PASS : VERDICT_FAIL, "0", "%u", r->vmpl);
	verdict_addf(v, "snp.debug", r->policy & SNP_POLICY_DEBUG ? VERDICT_FAIL : VERDICT_PASS,
		     "not allowed (policy bit 19 clear)", "policy 0x%llx: %s",
		     (unsigned long long)r->policy,
		     r->policy & SNP_POLICY_DEBUG ? "debug allowed" : "not allowed");
	if (e->nonce) {
		/* The SKR sidecar's /attest/raw puts SHA-256(runtime_data) in the
		 * first half; other tools put the nonce itself, zero padded. */
		uint8_t h[64] = {0}, lit[64] = {0};
		sha256(e->nonce, e->nonce_len, h);
		memcpy(lit, e->nonce, e->nonce_len > 64 ? 64 : e->nonce_len);
		ok = !memcmp(h, r->report_data, 64) || !memcmp(lit, r->report_data, 64);
		hex_encode(r->report_data, 32, seen);
		verdict_addf(v, "snp.report-data", ok ? VERDICT_PASS : VERDICT_FAIL,
			     "SHA-256(nonce) or the nonce itself", "%s...", seen);
	}
	hex_encode(r->measurement, 48, seen);
	verdict_add(v, "snp.measurement", VERDICT_INFO, "", seen);
	tcb_text(r->reported_tcb, want, sizeof(want));
	verdict_addf(v, "snp.reported-tcb", VERDICT_INFO, "", "%s", want);
	tcb_text(r->current_tcb, want, sizeof(want));
	tcb_text(r->launch_tcb, seen, sizeof(seen));
	verdict_addf(v, "snp.tcb", VERDICT_INFO, "", "current %s; launch %s; guest_svn %u; v%u",
		     want, seen, r->guest_svn, r->version);
}
