#include "attest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/jsonpath.h"
#include "../bundle-format/jsonw.h"

void verdict_add(struct verdict *v, const char *name, int state, const char *expected,
		 const char *seen, ...)
{
	static const char *const states[] = {"FAIL", "ok", "info"};
	char val[2][200];
	cJSON *row = cJSON_CreateObject();
	va_list ap;

	va_start(ap, seen);
	vsnprintf(val[1], sizeof(val[1]), seen, ap);
	va_end(ap);
	snprintf(val[0], sizeof(val[0]), "%s", expected);
	/* Printable ASCII only: no token or mint may move the cursor or forge a row. */
	for (char *c = val[0]; c < val[0] + sizeof(val); c++)
		*c = !*c || (*c >= 0x20 && *c < 0x7f) ? *c : '?';
	v->pass += state == VERDICT_PASS;
	v->fail += state == VERDICT_FAIL;
	cJSON_AddStringToObject(row, "check", name);
	cJSON_AddStringToObject(row, "expected", val[0]);
	cJSON_AddStringToObject(row, "seen", val[1]);
	cJSON_AddStringToObject(row, "status", states[state]);
	if (!cJSON_AddItemToArray(v->rows, row))
		cJSON_Delete(row);
}

void verdict_print(const struct verdict *v, int json, FILE *f)
{
	cJSON *root = cJSON_CreateObject();
	const cJSON *r;
	struct buf out;

	for (r = json ? NULL : cJSON_GetArrayItem(v->rows, 0); r; r = r->next) {
		const char *st = json_path_str(r, "status"), *info = "%-4s  %-24s %.0s%s\n";
		fprintf(f, st && !strcmp(st, "info") ? info : "%-4s  %-24s expected %s, seen %s\n",
			st, json_path_str(r, "check"), json_path_str(r, "expected"),
			json_path_str(r, "seen"));
	}
	cJSON_AddItemReferenceToObject(root, "checks", v->rows);
	cJSON_AddBoolToObject(root, "ok", verdict_ok(v));
	buf_init(&out, 0);
	if (!json)
		fprintf(f, "verdict: %s\n", verdict_ok(v) ? "PASS" : "FAIL");
	else if (jsonw_print(root, &JSONW_PRETTY_SORTED, &out, NULL) == 0 && !out.oom)
		fprintf(f, "%s\n", (char *)out.data);
	buf_free(&out);
	cJSON_Delete(root);
}

/* ATTESTATION_REPORT (AMD SEV-SNP Firmware ABI Specification, "ATTESTATION_REPORT Structure"):
 * little-endian fields at fixed offsets; the signature covers bytes 0..0x29F. */
static uint64_t le(const uint8_t *rep, int off, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | rep[off + n];
	return v;
}

/* 1184 raw bytes, {"report":hex} or {"evidence","endorsements"} (then *chain is the PEM). */
static int report_load(const uint8_t *in, size_t n, uint8_t *rep, char **chain)
{
	static const uint8_t zero[SNP_REPORT_LEN];
	cJSON *o = n == SNP_REPORT_LEN ? NULL : cJSON_ParseWithLength((const char *)in, n);
	const char *hex = json_path_str(o, "report"), *ev = json_path_str(o, "evidence"),
		   *en = json_path_str(o, "endorsements");
	uint8_t *evb = NULL, *pem = NULL;
	size_t evn = 0, pemn = 0;
	int ok = n == SNP_REPORT_LEN;

	if (ok)
		memcpy(rep, in, n);
	else if (hex)
		ok = hex_decode(hex, rep, SNP_REPORT_LEN, NULL) == 0;
	else if (ev && en && !base64_decode(ev, strlen(ev), &evb, &evn, NULL) &&
		 !base64_decode(en, strlen(en), &pem, &pemn, NULL) && evn == SNP_REPORT_LEN &&
		 pemn <= SNP_CHAIN_MAX && (*chain = strndup((char *)pem, pemn)))
		ok = memcpy(rep, evb, SNP_REPORT_LEN) != NULL;
	free(evb);
	free(pem);
	cJSON_Delete(o);
	/* SIGNATURE_ALGO 1 is ECDSA P-384 with SHA-384; r and s use 48 of their 72 bytes and the
	 * rest of the signature area is reserved. */
	return ok && le(rep, 0, 4) >= 2 && le(rep, 0, 4) <= 5 && le(rep, 0x34, 4) == 1 &&
	       !memcmp(rep + 0x2D0, zero, 24) && !memcmp(rep + 0x318, zero, 24) &&
	       !memcmp(rep + 0x330, zero, SNP_REPORT_LEN - 0x330);
}

/* VCEK, ASK, ARK: each issued by the next one, only the ARK by itself, nothing after it (PEM
 * readers skip text between blocks). */
static int chain_parse(const char *pem, X509 *c[3], struct ng_err *err)
{
	static const char *const role[] = {"VCEK", "ASK", "ARK"};
	BIO *bio = BIO_new_mem_buf(pem, -1);
	char *rest = NULL;
	long left;
	int k = 0;

	while (bio && k < 3 && (c[k] = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		k++;
	left = bio ? BIO_get_mem_data(bio, &rest) : 0;
	BIO_free(bio);
	ERR_clear_error();
	if (k != 3 || (size_t)left != strspn(rest ? rest : "", " \t\r\n"))
		return ng_errf(err, NG_EINVAL,
			       "%d certificates or other data, expected VCEK, ASK, ARK", k);
	for (k = 0; k < 3; k++)
		if (X509_check_issued(c[k < 2 ? k + 1 : 2], c[k]) != X509_V_OK ||
		    (k < 2 && X509_check_issued(c[k], c[k]) == X509_V_OK))
			return ng_errf(err, NG_EINVAL,
				       "certificate %d is not the %s: VCEK, ASK, ARK "
				       "in that order",
				       k + 1, role[k]);
	return 0;
}

const char *snp_pinned_ark(X509 *ark, char fp[65])
{
	/* SHA-256 of the DER of AMD's roots as KDS serves them (vcek/v1/{Milan,Genoa}/cert_chain)
	 * and templates/amd/ keeps them; docs/verify.md says where they were cross-checked. */
	static const char *const pins[][2] = {
	    {"Milan", "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"},
	    {"Genoa", "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"}};
	uint8_t md[32] = {0};

	X509_digest(ark, EVP_sha256(), md, NULL);
	hex_encode(md, 32, fp);
	for (int i = 0; i < 2; i++)
		if (!strcmp(fp, pins[i][1]))
			return pins[i][0];
	return NULL;
}

/* The pinned ARK is the only trust anchor: OpenSSL checks the RSA-PSS signatures up to it, the
 * names and every validity period (the ARK's self-signature too). */
static int chain_verified(X509 *c[3], int pinned, char *why, size_t n)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *mid = sk_X509_new_null();
	int ok = 0;

	snprintf(why, n, "no memory");
	if (st && ctx && mid && sk_X509_push(mid, c[1]) &&
	    (!pinned || X509_STORE_add_cert(st, c[2])) && X509_STORE_CTX_init(ctx, st, c[0], mid)) {
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CHECK_SS_SIGNATURE);
		ok = X509_verify_cert(ctx) == 1;
		snprintf(why, n, ok ? "verified" : "certificate %d: %s",
			 X509_STORE_CTX_get_error_depth(ctx) + 1,
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(mid);
	ERR_clear_error();
	return ok;
}

/* ECDSA P-384 with SHA-384 over bytes 0..0x29F; r and s little-endian at 0x2A0 and 0x2E8. */
static int report_signed(const uint8_t *rep, X509 *vcek)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_lebin2bn(rep + 0x2A0, 72, NULL), *s = BN_lebin2bn(rep + 0x2E8, 72, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *key = X509_get0_pubkey(vcek);
	unsigned char *der = NULL;
	int len = 0, ok;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL;
		len = i2d_ECDSA_SIG(sig, &der);
	}
	ok = len > 0 && md && key && EVP_DigestVerifyInit(md, NULL, EVP_sha384(), NULL, key) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)len, rep, 0x2A0) == 1;
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

/* A VCEK extension's contents (AMD "VCEK Certificate and KDS Interface Specification", Table 8:
 * 1.3.6.1.4.1.3704.1.3.{1,2,3,8} bl/tee/snp/ucode SPL as DER INTEGERs, 1.3.6.1.4.1.3704.1.4 the
 * hwID, 64 raw bytes). The VCEK is derived from the chip and its TCB: a report is only as good
 * as the TCB its VCEK was issued for, so both must equal the report's. */
static int vcek_ext(X509 *x, const char *oid, const uint8_t **p)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	int i = o ? X509_get_ext_by_OBJ(x, o, -1) : -1;
	ASN1_OCTET_STRING *d = i < 0 ? NULL : X509_EXTENSION_get_data(X509_get_ext(x, i));

	ASN1_OBJECT_free(o);
	*p = d ? ASN1_STRING_get0_data(d) : NULL;
	return d ? ASN1_STRING_length(d) : -1;
}

static int vcek_spl(X509 *x, int arc)
{
	char oid[40];
	const uint8_t *p;
	ASN1_INTEGER *ai;
	long v = -1;
	int len;

	snprintf(oid, sizeof(oid), "1.3.6.1.4.1.3704.1.3.%d", arc);
	if ((len = vcek_ext(x, oid, &p)) > 0 && (ai = d2i_ASN1_INTEGER(NULL, &p, len))) {
		v = ASN1_INTEGER_get(ai);
		ASN1_INTEGER_free(ai);
	}
	return v >= 0 && v <= 255 ? (int)v : -1;
}

/* REPORTED_TCB (0x180) against the VCEK's SPLs; TCB_VERSION bytes 0 boot loader, 1 TEE, 6 SNP,
 * 7 microcode (SEV-SNP ABI, "TCB_VERSION Structure"); CHIP_ID (0x1A0) against its hwID. */
static void vcek_binding(const uint8_t *rep, X509 *vcek, struct verdict *v)
{
	static const int arc[4] = {1, 2, 3, 8}, byte[4] = {0, 1, 6, 7};
	const uint8_t *hw = NULL;
	int spl[4], same = 1;
	char chip[129];

	for (int i = 0; i < 4; i++)
		same &= (spl[i] = vcek_spl(vcek, arc[i])) == rep[0x180 + byte[i]];
	verdict_add(v, "snp.vcek-tcb", same, "VCEK issued for the report's REPORTED_TCB",
		    "report bl=%u tee=%u snp=%u ucode=%u, VCEK %d/%d/%d/%d", rep[0x180], rep[0x181],
		    rep[0x186], rep[0x187], spl[0], spl[1], spl[2], spl[3]);
	same = vcek_ext(vcek, "1.3.6.1.4.1.3704.1.4", &hw) == 64 && !memcmp(hw, rep + 0x1A0, 64);
	hex_encode(rep + 0x1A0, 64, chip);
	verdict_add(v, "snp.vcek-chip", same, "VCEK hwID equal to the report's CHIP_ID",
		    "%.32s... %s", chip, same ? "equal" : "different");
}

int snp_verify(const uint8_t *in, size_t n, const char *certs, const uint8_t hostdata[32],
	       const uint8_t *nonce, size_t nonce_len, struct verdict *v, struct ng_err *err)
{
	uint8_t rep[SNP_REPORT_LEN] = {0};
	char *chain = NULL, fp[65], a[160], b[160];
	X509 *c[3] = {0};
	const char *fam;
	uint8_t h[64] = {0}, lit[64] = {0};
	int ok = report_load(in, n, rep, &chain), rc = 0;

	if (!ok)
		rc = ng_errf(err, NG_EINVAL,
			     "not an SNP report (v2..5, ECDSA P-384), raw or as "
			     "/attest/raw or /attest/combined give it");
	else if (!certs && !chain)
		rc = ng_errf(err, NG_EUSAGE, "no VCEK chain: pass --certs FILE (VCEK, ASK, ARK)");
	else
		rc = chain_parse(certs ? certs : chain, c, err);
	if (rc < 0)
		goto out;
	fam = snp_pinned_ark(c[2], fp);
	verdict_add(v, "snp.ark", fam != NULL, "an AMD root pinned in nutapply (Milan, Genoa)",
		    "%s sha256:%s", fam ? fam : "unknown root", fp);
	ok = chain_verified(c, fam != NULL, a, sizeof(a));
	verdict_add(v, "snp.chain", ok, "VCEK signed by the ASK, ASK by the ARK, all valid now",
		    "%s", a);
	ok = report_signed(rep, c[0]);
	verdict_add(v, "snp.signature", ok, "report signed by the VCEK (ECDSA P-384, SHA-384)",
		    "%s", ok ? "valid" : "invalid");
	vcek_binding(rep, c[0], v);
	hex_encode(hostdata, 32, a);
	hex_encode(rep + 0xC0, 32, b);
	verdict_add(v, "snp.hostdata", !strcmp(a, b), a, "%s", b);
	verdict_add(v, "snp.vmpl", !le(rep, 0x30, 4), "0", "%u", (unsigned)le(rep, 0x30, 4));
	/* Guest policy bit 19, DEBUG: the hypervisor may read the guest's memory. */
	verdict_add(v, "snp.debug", !(rep[0x0A] & 0x08), "policy bit 19 (DEBUG) clear",
		    "policy 0x%llx", (unsigned long long)le(rep, 0x08, 8));
	if (nonce_len) {
		/* The SKR sidecar's /attest/raw puts SHA-256(runtime_data) in REPORT_DATA's first
		 * half; other tools put the nonce itself, zero padded. */
		sha256(nonce, nonce_len, h);
		memcpy(lit, nonce, nonce_len > 64 ? 64 : nonce_len);
		hex_encode(rep + 0x50, 32, a);
		verdict_add(v, "snp.report-data",
			    !memcmp(h, rep + 0x50, 64) || !memcmp(lit, rep + 0x50, 64),
			    "SHA-256(nonce) or the nonce itself", "%s...", a);
	}
	hex_encode(rep + 0x90, 48, a);
	verdict_add(v, "snp.measurement", VERDICT_INFO, "", "%s", a);
out:
	for (int k = 0; k < 3; k++)
		X509_free(c[k]);
	free(chain);
	return rc;
}

int maa_provider_normalize(const char *in, char out[MAA_PROVIDER_MAX], struct ng_err *err)
{
	const char *h = strncasecmp(in, "https://", 8) ? in : in + 8;
	size_t n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]");

	/* A host (name or address, with a port) and nothing else: no http://, user info or path. */
	if (!n || n + 9 > MAA_PROVIDER_MAX || (h[n] && strcmp(h + n, "/")))
		return ng_errf(err, NG_EINVAL, "attestation endpoint %.80s: not https://HOST", in);
	strcpy(out, "https://");
	for (size_t i = 0; i <= n; i++)
		out[8 + i] = i < n ? (char)tolower((unsigned char)h[i]) : 0;
	return 0;
}

/* One base64url part as a JSON object. Duplicate members are refused: a verifier and Key Vault
 * reading different copies of one claim would disagree about what the token says. */
static int jwt_part(const char *p, size_t n, const char *what, cJSON **out, struct ng_err *err)
{
	uint8_t *raw = NULL;
	size_t len;
	const char *end = NULL;
	int rc = 0;

	if (base64url_decode(p, n, &raw, &len, err) < 0)
		return ng_err_prefix(err, NG_EINVAL, "token %s", what);
	*out = cJSON_ParseWithLengthOpts((const char *)raw, len, &end, 0);
	if (!cJSON_IsObject(*out) || end != (const char *)raw + len ||
	    cJSON_GetArraySize(*out) > 512)
		rc = ng_errf(err, NG_EINVAL, "token %s is not a JSON object of <= 512 members",
			     what);
	for (const cJSON *a = rc ? NULL : (*out)->child; a && rc == 0; a = a->next)
		for (const cJSON *b = a->next; b && rc == 0; b = b->next)
			if (!strcmp(a->string, b->string))
				rc = ng_errf(err, NG_EINVAL, "token %s repeats member \"%.40s\"",
					     what, a->string);
	free(raw);
	return rc;
}

/* RS256 (RSASSA-PKCS1-v1_5, SHA-256) over part by the key of kid in the provider's JWKS: the
 * entry's x5c[0] certificate, RSA of 2048 bits or more. NULL when valid, else why not. */
static const char *signature_error(const char *kid, const char *part, size_t pn, const uint8_t *sig,
				   size_t sn, const char *jwks, size_t jn)
{
	cJSON *o = cJSON_ParseWithLength(jwks, jn);
	const cJSON *k, *x5c = NULL;
	const char *id, *why = NULL;
	uint8_t *der = NULL;
	const uint8_t *p;
	size_t dn = 0;
	X509 *x = NULL;
	EVP_PKEY *key;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	for (k = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "keys"), 0); k; k = k->next)
		if (kid && (id = json_path_str(k, "kid")) && !strcmp(id, kid))
			x5c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(k, "x5c"), 0);
	if (cJSON_IsString(x5c) &&
	    !base64_decode(x5c->valuestring, strlen(x5c->valuestring), &der, &dn, NULL)) {
		p = der;
		x = d2i_X509(NULL, &p, (long)dn);
	}
	key = X509_get0_pubkey(x);
	if (!x5c)
		why = "no key with the token's kid in the JWKS";
	else if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048)
		why = "the kid's x5c[0] is not an RSA certificate of 2048 bits or more";
	else if (!md || (int)sn != EVP_PKEY_get_size(key) ||
		 EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
		 EVP_DigestVerify(md, sig, sn, (const uint8_t *)part, pn) != 1)
		why = "token signature does not verify with its key";
	EVP_MD_CTX_free(md);
	X509_free(x);
	free(der);
	cJSON_Delete(o);
	ERR_clear_error();
	return why;
}

/* RFC 7515 compact serialization, RS256 only (RFC 7518 §3.3): `none` and HMAC never reach a
 * verifier; an unknown crit must be refused. The keys come from the provider we were told to
 * trust: a jku anywhere else is an attempt to supply them with the token. */
int maa_verify(const char *body, size_t n, const char *jwks, size_t jwks_n, const char *provider,
	       const uint8_t hostdata[32], const char *nonce_hex, time_t now, struct verdict *v,
	       struct ng_err *err)
{
	cJSON *o = NULL, *hdr = NULL, *pl = NULL;
	const cJSON *nbf, *exp, *c;
	const char *t = body, *d1, *d2 = NULL, *alg, *jku, *why, *s;
	uint8_t *sig = NULL;
	size_t sn = 0, pn = strlen(provider);
	char hd[65], q[140], *txt;
	/* Four string claims, then two that must be the JSON false and 0. */
	const char *const claims[][3] = {
	    {"maa.issuer", "iss", provider},
	    {"maa.attestation-type", "x-ms-attestation-type", "sevsnpvm"},
	    {"maa.compliance", "x-ms-compliance-status", "azure-compliant-uvm"},
	    {"maa.hostdata", "x-ms-sevsnpvm-hostdata", hd},
	    {"maa.debuggable", "x-ms-sevsnpvm-is-debuggable", "false"},
	    {"maa.vmpl", "x-ms-sevsnpvm-vmpl", "0"}};
	int rc = 0, ok;

	for (; n && isspace((unsigned char)*t); t++)
		n--;
	if (n && *t == '{') {
		o = cJSON_ParseWithLength(t, n);
		why = json_path_str(o, json_path_str(o, "detail") ? "detail" : "error");
		if (!(t = json_path_str(o, "maa_token")) && !(t = json_path_str(o, "token")))
			rc = ng_errf(err, NG_EINVAL, "answer has no maa_token%s%.120s",
				     why ? ": the mint says: " : "", why ? why : "");
		n = t ? strlen(t) : 0;
	}
	while (n && isspace((unsigned char)t[n - 1]))
		n--;
	if (rc == 0 && n > JWT_MAX)
		rc = ng_errf(err, NG_ELIMIT, "token is %zu bytes, more than %d", n, JWT_MAX);
	d1 = rc ? NULL : memchr(t, '.', n);
	d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - t)) : NULL;
	if (rc == 0 && (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - t))))
		rc = ng_errf(err, NG_EINVAL, "token is not a compact JWS (header.payload.sig)");
	if (rc == 0)
		rc = jwt_part(t, (size_t)(d1 - t), "header", &hdr, err);
	alg = json_path_str(hdr, "alg");
	jku = json_path_str(hdr, "jku");
	if (rc == 0 && (!alg || strcmp(alg, "RS256")))
		rc = ng_errf(err, NG_EVERIFY, "token alg \"%.20s\" refused: MAA signs with RS256",
			     alg ? alg : "(missing)");
	else if (rc == 0 && (cJSON_HasObjectItem(hdr, "crit") || d2 + 1 == t + n))
		rc = ng_errf(err, NG_EINVAL, "token has crit or no signature: not an MAA token");
	else if (rc == 0 && cJSON_HasObjectItem(hdr, "jku") &&
		 (!jku || strncasecmp(jku, provider, pn) || strcspn(jku + 8, "/?#") + 8 != pn))
		rc = ng_errf(err, NG_EVERIFY,
			     "token jku %.80s is not on the attestation provider %s",
			     jku ? jku : "(not a string)", provider);
	if (rc == 0 && (rc = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1), "payload", &pl, err)) == 0)
		rc = base64url_decode(d2 + 1, n - (size_t)(d2 + 1 - t), &sig, &sn, err);
	if (rc < 0)
		goto out;
	why = signature_error(json_path_str(hdr, "kid"), t, d2 - t, sig, sn, jwks, jwks_n);
	nbf = cJSON_GetObjectItemCaseSensitive(pl, "nbf");
	exp = cJSON_GetObjectItemCaseSensitive(pl, "exp");
	hex_encode(hostdata, 32, hd);
	verdict_add(v, "maa.signature", !why, "RS256 by a key the provider publishes", "%s",
		    why ? why : "valid");
	ok = cJSON_IsNumber(nbf) && cJSON_IsNumber(exp) && nbf->valuedouble <= (double)now + 120 &&
	     (double)now - 120 < exp->valuedouble;
	verdict_add(v, "maa.validity", ok, "nbf <= now < exp (120 s skew)",
		    "nbf %.0f, exp %.0f, now %lld", cJSON_IsNumber(nbf) ? nbf->valuedouble : -1,
		    cJSON_IsNumber(exp) ? exp->valuedouble : -1, (long long)now);
	for (int i = 0; i < 6; i++) {
		c = cJSON_GetObjectItemCaseSensitive(pl, claims[i][1]);
		txt = c && !cJSON_IsString(c) ? cJSON_PrintUnformatted(c) : NULL;
		s = cJSON_IsString(c) ? c->valuestring : txt ? txt : "(absent)";
		ok = c && cJSON_IsString(c) == (i < 4) && !strcmp(s, claims[i][2]);
		verdict_add(v, claims[i][0], ok, claims[i][2], "%s", s);
		cJSON_free(txt);
	}
	if (*nonce_hex) {
		/* The nonce as a whole JSON string anywhere in the runtime data. */
		txt = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(pl, "x-ms-runtime"));
		snprintf(q, sizeof(q), "\"%s\"", nonce_hex);
		ok = txt && strcasestr(txt, q);
		cJSON_free(txt);
		verdict_add(v, "maa.nonce", ok, nonce_hex, "%s",
			    ok ? "in x-ms-runtime" : "not in it");
	}
	s = json_path_str(pl, "x-ms-sevsnpvm-launchmeasurement");
	verdict_add(v, "maa.measurement", VERDICT_INFO, "", "%s", s ? s : "(absent)");
out:
	cJSON_Delete(o);
	cJSON_Delete(hdr);
	cJSON_Delete(pl);
	free(sig);
	return rc;
}
