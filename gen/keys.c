/* keys.c: oct-HSM and RSA-HSM keys and the encfs passphrase (sidecars.md §1.6). */
#include "keys.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonw.h"

#define KEY_SALT_MAX 64
#define RSA_BITS     2048
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 4096

struct key {
	enum key_type type;
	uint8_t raw[KEY_OCT_LEN]; /* oct key or raw passphrase */
	EVP_PKEY *pk;		  /* RSA-HSM */
	uint8_t salt[KEY_SALT_MAX];
	size_t saltlen;
	char salt_hex[2 * KEY_SALT_MAX + 1];
	char label[KEY_LABEL_MAX + 1];
};

int key_type_parse(const char *s, enum key_type *out, struct ng_err *err)
{
	if (s && strcmp(s, "oct-HSM") == 0)
		*out = KEY_OCT_HSM;
	else if (s && strcmp(s, "RSA-HSM") == 0)
		*out = KEY_RSA_HSM;
	else
		return ng_errf(err, NG_EINVAL, "key type '%s': expected oct-HSM or RSA-HSM",
			       s ? s : "");
	return 0;
}

const char *key_type_name(enum key_type t)
{
	switch (t) {
	case KEY_OCT_HSM:
		return "oct-HSM";
	case KEY_RSA_HSM:
		return "RSA-HSM";
	case KEY_RAW_PASSPHRASE:
		return "passphrase";
	}
	return "?";
}

/* The label goes into the sidecar's JSON args and HKDF info: printable ASCII
 * keeps it byte-identical on both sides. */
static int label_set(struct key *k, const char *label, struct ng_err *err)
{
	size_t n = strlen(label);

	if (n == 0 || n > KEY_LABEL_MAX)
		return ng_errf(err, NG_EINVAL, "key label: must be 1..%d characters",
			       KEY_LABEL_MAX);
	for (size_t i = 0; i < n; i++)
		if (label[i] < 0x20 || label[i] > 0x7e || label[i] == '"' || label[i] == '\\')
			return ng_errf(err, NG_EINVAL,
				       "key label: printable ASCII only, no quotes or backslash");
	memcpy(k->label, label, n + 1);
	return 0;
}

static struct key *key_alloc(enum key_type t)
{
	struct key *k = calloc(1, sizeof(*k));

	if (k)
		k->type = t;
	return k;
}

void key_free(struct key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

static int rsa_check(EVP_PKEY *pk, const char *what, struct ng_err *err)
{
	int bits;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return ng_errf(err, NG_EINVAL, "%s: not an RSA private key", what);
	bits = EVP_PKEY_get_bits(pk);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return ng_errf(err, NG_EINVAL, "%s: RSA key of %d bits; Key Vault takes %d..%d",
			       what, bits, RSA_MIN_BITS, RSA_MAX_BITS);
	return 0;
}

int key_new(enum key_type type, const char *label, struct key **out, struct ng_err *err)
{
	struct key *k;
	int rc;

	*out = NULL;
	if (type != KEY_OCT_HSM && type != KEY_RSA_HSM)
		return ng_errf(err, NG_EINVAL, "key type: expected oct-HSM or RSA-HSM");
	k = key_alloc(type);
	if (!k)
		return ng_errf(err, NG_ENOMEM, "key: out of memory");
	if (type == KEY_OCT_HSM) {
		if (RAND_priv_bytes(k->raw, sizeof(k->raw)) != 1) {
			key_free(k);
			return ng_err_openssl(err, NG_ECRYPTO, "oct-HSM key: random bytes");
		}
		*out = k;
		return 0;
	}
	rc = label_set(k, label ? label : KEY_DEFAULT_LABEL, err);
	if (rc < 0) {
		key_free(k);
		return rc;
	}
	k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
	k->saltlen = KEY_SALT_LEN;
	if (!k->pk || RAND_bytes(k->salt, KEY_SALT_LEN) != 1) {
		key_free(k);
		return ng_err_openssl(err, NG_ECRYPTO, "RSA-HSM key generation");
	}
	hex_encode(k->salt, k->saltlen, k->salt_hex);
	*out = k;
	return 0;
}

enum key_type key_get_type(const struct key *k)
{
	return k->type;
}

const char *key_salt_hex(const struct key *k)
{
	return k->type == KEY_RSA_HSM ? k->salt_hex : NULL;
}

const char *key_label(const struct key *k)
{
	return k->type == KEY_RSA_HSM ? k->label : NULL;
}

int key_hkdf_passphrase(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
			const char *label, uint8_t out[KEY_PASSPHRASE_LEN], struct ng_err *err)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	int ok;

	if (!label || !*label)
		label = KEY_REMOTEFS_DEFAULT_LABEL;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	EVP_KDF_free(kdf);
	if (!ctx)
		return ng_err_openssl(err, NG_ECRYPTO, "HKDF");
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	/* No salt parameter = RFC 5869's default of HashLen zero bytes, which is
	 * what Go's hkdf does with an empty salt (§1.6). */
	if (saltlen)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)label, strlen(label));
	*p = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, out, KEY_PASSPHRASE_LEN, params) == 1;
	EVP_KDF_CTX_free(ctx);
	return ok ? 0 : ng_err_openssl(err, NG_ECRYPTO, "HKDF-SHA256");
}

/* HKDF over the minimal big-endian bytes of an exponent (Go's big.Int.Bytes). */
static int derive_from_bn(const struct key *k, const BIGNUM *d, uint8_t out[KEY_PASSPHRASE_LEN],
			  struct ng_err *err)
{
	int n = BN_num_bytes(d), rc;
	uint8_t *ikm = OPENSSL_secure_malloc(n > 0 ? (size_t)n : 1);

	if (!ikm)
		return ng_errf(err, NG_ENOMEM, "key: out of memory");
	BN_bn2bin(d, ikm);
	rc = key_hkdf_passphrase(ikm, (size_t)n, k->salt, k->saltlen, k->label, out, err);
	OPENSSL_secure_clear_free(ikm, n > 0 ? (size_t)n : 1);
	return rc;
}

/* The other private exponent: e^-1 mod phi(n) if d is the lambda(n) form and
 * vice versa (sidecars.md §8.1). NULL result when they coincide. */
static int rsa_alternate_d(EVP_PKEY *pk, const BIGNUM *d, BIGNUM **alt)
{
	BIGNUM *e = NULL, *p = NULL, *q = NULL, *p1, *q1, *phi, *g, *lam, *dphi, *dlam;
	BN_CTX *ctx = BN_CTX_secure_new();
	int rc = -1;

	*alt = NULL;
	p1 = BN_secure_new(), q1 = BN_secure_new(), phi = BN_secure_new();
	g = BN_secure_new(), lam = BN_secure_new(), dphi = BN_secure_new(), dlam = BN_secure_new();
	if (!ctx || !p1 || !q1 || !phi || !g || !lam || !dphi || !dlam)
		goto out;
	if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_FACTOR1, &p) ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_FACTOR2, &q))
		goto out;
	if (!BN_sub(p1, p, BN_value_one()) || !BN_sub(q1, q, BN_value_one()) ||
	    !BN_mul(phi, p1, q1, ctx) || !BN_gcd(g, p1, q1, ctx) ||
	    !BN_div(lam, NULL, phi, g, ctx) || !BN_mod_inverse(dphi, e, phi, ctx) ||
	    !BN_mod_inverse(dlam, e, lam, ctx))
		goto out;
	if (BN_cmp(dphi, dlam) != 0) {
		*alt = BN_dup(BN_cmp(d, dphi) == 0 ? dlam : dphi);
		if (!*alt)
			goto out;
	}
	rc = 0;
out:
	BN_free(e);
	BN_clear_free(p), BN_clear_free(q), BN_clear_free(p1), BN_clear_free(q1);
	BN_clear_free(phi), BN_clear_free(g), BN_clear_free(lam), BN_clear_free(dphi);
	BN_clear_free(dlam);
	BN_CTX_free(ctx);
	return rc;
}

int key_passphrases(const struct key *k, uint8_t out[2][KEY_PASSPHRASE_LEN], int *n,
		    struct ng_err *err)
{
	BIGNUM *d = NULL, *alt = NULL;
	int rc;

	*n = 0;
	if (k->type != KEY_RSA_HSM) {
		memcpy(out[0], k->raw, KEY_PASSPHRASE_LEN);
		*n = 1;
		return 0;
	}
	if (!EVP_PKEY_get_bn_param(k->pk, OSSL_PKEY_PARAM_RSA_D, &d))
		return ng_err_openssl(err, NG_ECRYPTO, "RSA-HSM key: private exponent");
	rc = derive_from_bn(k, d, out[0], err);
	if (rc == 0 && rsa_alternate_d(k->pk, d, &alt) < 0)
		rc = ng_err_openssl(err, NG_ECRYPTO, "RSA-HSM key: alternate exponent");
	if (rc == 0)
		*n = 1;
	if (rc == 0 && alt) {
		rc = derive_from_bn(k, alt, out[1], err);
		if (rc == 0)
			*n = 2;
	}
	BN_clear_free(d);
	BN_clear_free(alt);
	return rc;
}

int key_material(const struct key *k, uint8_t **out, size_t *outlen, struct ng_err *err)
{
	PKCS8_PRIV_KEY_INFO *p8;
	unsigned char *der = NULL;
	int n;

	*out = NULL;
	*outlen = 0;
	if (k->type == KEY_OCT_HSM) {
		*out = OPENSSL_secure_malloc(KEY_OCT_LEN);
		if (!*out)
			return ng_errf(err, NG_ENOMEM, "key: out of memory");
		memcpy(*out, k->raw, KEY_OCT_LEN);
		*outlen = KEY_OCT_LEN;
		return 0;
	}
	if (k->type != KEY_RSA_HSM)
		return ng_errf(err, NG_EINVAL,
			       "key: a bare passphrase file has no key to import; use a key file "
			       "from 'nutgen key new'");
	p8 = EVP_PKEY2PKCS8(k->pk);
	n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (n <= 0)
		return ng_err_openssl(err, NG_ECRYPTO, "RSA-HSM key: PKCS#8 encoding");
	*out = OPENSSL_secure_malloc((size_t)n);
	if (*out)
		memcpy(*out, der, (size_t)n);
	OPENSSL_clear_free(der, (size_t)n);
	if (!*out)
		return ng_errf(err, NG_ENOMEM, "key: out of memory");
	*outlen = (size_t)n;
	return 0;
}

void key_material_free(uint8_t *p, size_t n)
{
	if (p)
		OPENSSL_secure_clear_free(p, n);
}

int key_save(const struct key *k, const char *path, struct ng_err *err)
{
	cJSON *o = cJSON_CreateObject(), *kd;
	struct buf b;
	uint8_t *mat = NULL;
	size_t matlen = 0;
	char *enc = NULL;
	struct stat st;
	int rc;

	buf_init(&b, KEY_FILE_MAX);
	if (lstat(path, &st) == 0) {
		rc = ng_errf(err, NG_EEXIST,
			     "%s: already exists; keys are never overwritten, "
			     "choose another --out",
			     path);
		goto out;
	}
	rc = key_material(k, &mat, &matlen, err);
	if (rc < 0)
		goto out;
	enc = base64url_encode(mat, matlen);
	rc = ng_errf(err, NG_ENOMEM, "key file: out of memory");
	if (!o || !enc || !cJSON_AddStringToObject(o, "kty", key_type_name(k->type)))
		goto out;
	if (!cJSON_AddStringToObject(o, k->type == KEY_OCT_HSM ? "k" : "pkcs8", enc))
		goto out;
	if (k->type == KEY_RSA_HSM) {
		kd = cJSON_AddObjectToObject(o, "key_derivation");
		if (!kd || !cJSON_AddStringToObject(kd, "salt", k->salt_hex) ||
		    !cJSON_AddStringToObject(kd, "label", k->label))
			goto out;
	}
	rc = jsonw_print(o, &JSONW_COMPACT_SORTED, &b, err);
	if (rc == 0 && buf_append(&b, "\n", 1) < 0)
		rc = ng_errf(err, NG_ENOMEM, "key file: out of memory");
	if (rc == 0)
		rc = write_file_atomic(path, b.data, b.len, 0600, err);
out:
	if (b.data)
		OPENSSL_cleanse(b.data, b.cap);
	buf_free(&b);
	if (enc)
		OPENSSL_clear_free(enc, strlen(enc));
	key_material_free(mat, matlen);
	/* cJSON keeps copies of the strings: wipe them before freeing. */
	for (cJSON *it = o ? o->child : NULL; it; it = it->next)
		if (cJSON_IsString(it) && it->valuestring)
			OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(o);
	return rc;
}

static int load_json(const char *path, const char *text, struct key **out, struct ng_err *err)
{
	cJSON *o = cJSON_Parse(text), *kty, *mat, *kd, *salt, *label;
	uint8_t *bytes = NULL;
	size_t n = 0;
	const unsigned char *pp;
	struct key *k = NULL;
	enum key_type t;
	int rc = NG_EINVAL;

	if (!o || !cJSON_IsObject(o)) {
		ng_errf(err, NG_EINVAL,
			"%s: not a key file: expected 32 raw bytes or the JSON 'nutgen key new' "
			"writes",
			path);
		goto out;
	}
	kty = cJSON_GetObjectItemCaseSensitive(o, "kty");
	if (!cJSON_IsString(kty) || key_type_parse(kty->valuestring, &t, err) < 0) {
		ng_errf(err, NG_EINVAL, "%s: key file 'kty' must be oct-HSM or RSA-HSM", path);
		goto out;
	}
	mat = cJSON_GetObjectItemCaseSensitive(o, t == KEY_OCT_HSM ? "k" : "pkcs8");
	if (!cJSON_IsString(mat) ||
	    base64url_decode(mat->valuestring, strlen(mat->valuestring), &bytes, &n, err) < 0) {
		ng_errf(err, NG_EINVAL, "%s: key file '%s' must be base64url", path,
			t == KEY_OCT_HSM ? "k" : "pkcs8");
		goto out;
	}
	k = key_alloc(t);
	if (!k) {
		rc = ng_errf(err, NG_ENOMEM, "key: out of memory");
		goto out;
	}
	if (t == KEY_OCT_HSM) {
		if (n != KEY_OCT_LEN) {
			ng_errf(err, NG_EINVAL,
				"%s: oct-HSM key is %zu bytes; encfs needs exactly %d", path, n,
				KEY_OCT_LEN);
			goto out;
		}
		memcpy(k->raw, bytes, n);
	} else {
		pp = bytes;
		k->pk = d2i_AutoPrivateKey(NULL, &pp, (long)n);
		if (!k->pk || pp != bytes + n) {
			ng_errf(err, NG_EINVAL, "%s: 'pkcs8' is not a PKCS#8 private key", path);
			goto out;
		}
		if (rsa_check(k->pk, path, err) < 0)
			goto out;
		kd = cJSON_GetObjectItemCaseSensitive(o, "key_derivation");
		salt = cJSON_GetObjectItemCaseSensitive(kd, "salt");
		label = cJSON_GetObjectItemCaseSensitive(kd, "label");
		if (!cJSON_IsString(salt) || !cJSON_IsString(label)) {
			ng_errf(err, NG_EINVAL,
				"%s: RSA-HSM key file needs key_derivation.salt and "
				".label",
				path);
			goto out;
		}
		n = strlen(salt->valuestring);
		if (n == 0 || n % 2 || n / 2 > KEY_SALT_MAX ||
		    hex_decode(salt->valuestring, k->salt, n / 2, err) < 0) {
			ng_errf(err, NG_EINVAL,
				"%s: key_derivation.salt must be 2..%d hex digits (never empty: "
				"sidecars.md §1.6)",
				path, 2 * KEY_SALT_MAX);
			goto out;
		}
		k->saltlen = n / 2;
		hex_encode(k->salt, k->saltlen, k->salt_hex);
		if (label_set(k, label->valuestring, err) < 0) {
			ng_err_prefix(err, NG_EINVAL, "%s", path);
			goto out;
		}
	}
	*out = k;
	k = NULL;
	rc = 0;
out:
	key_free(k);
	if (bytes)
		OPENSSL_cleanse(bytes, n);
	free(bytes);
	for (cJSON *it = o ? o->child : NULL; it; it = it->next)
		if (cJSON_IsString(it) && it->valuestring)
			OPENSSL_cleanse(it->valuestring, strlen(it->valuestring));
	cJSON_Delete(o);
	return rc;
}

int key_load(const char *path, struct key **out, struct ng_err *err)
{
	uint8_t *data = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	rc = read_file_capped(path, KEY_FILE_MAX, &data, &n, err);
	if (rc < 0)
		return rc == NG_ELIMIT
			   ? ng_errf(err, NG_EINVAL,
				     "%s: too large for a key file: expected 32 raw bytes or the "
				     "JSON 'nutgen key new' writes",
				     path)
			   : rc;
	if (n == KEY_PASSPHRASE_LEN) {
		struct key *k = key_alloc(KEY_RAW_PASSPHRASE);
		if (!k)
			rc = ng_errf(err, NG_ENOMEM, "key: out of memory");
		else
			memcpy(k->raw, data, n), *out = k;
	} else if (n > 0 && data[0] == '{') {
		rc = load_json(path, (const char *)data, out, err);
	} else {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: key file is %zu bytes; expected exactly 32 raw bytes (oct key or "
			     "derived passphrase) or the JSON 'nutgen key new' writes",
			     path, n);
	}
	OPENSSL_cleanse(data, n);
	free(data);
	return rc;
}
