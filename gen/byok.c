/* byok.c: Key Vault BYOK transfer blob (azure-rest.md §3.2). */
#include "byok.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonw.h"

#define BYOK_KEK_FILE_MAX 65536
#define BYOK_MATERIAL_MAX 8192
#define BYOK_BLOB_MAX	  65536

#ifndef NUTGEN_VERSION
#define NUTGEN_VERSION "0"
#endif

struct byok_kek {
	EVP_PKEY *pk;
};

void byok_kek_free(struct byok_kek *kek)
{
	if (!kek)
		return;
	EVP_PKEY_free(kek->pk);
	free(kek);
}

int byok_kek_load(const char *path, struct byok_kek **out, struct ng_err *err)
{
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pk = NULL;
	uint8_t *data = NULL;
	const unsigned char *p;
	size_t n = 0, left;
	int rc, bits;

	*out = NULL;
	rc = read_file_capped(path, BYOK_KEK_FILE_MAX, &data, &n, err);
	if (rc < 0)
		return ng_err_prefix(err, rc, "--kek");
	/* A private key here means the vault's KEK was not what was exported,
	 * or the wrong file was given: refuse rather than use its public half. */
	if (memmem(data, n, "PRIVATE KEY", 11)) {
		free(data);
		return ng_errf(err, NG_EINVAL,
			       "--kek %s: holds a private key; give the KEK's public key as the "
			       "vault exports it (az keyvault key download)",
			       path);
	}
	dctx =
	    OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
	p = data;
	left = n;
	if (!dctx || !OSSL_DECODER_from_data(dctx, &p, &left) || !pk)
		rc = ng_errf(err, NG_EINVAL,
			     "--kek %s: not an RSA public key (PEM or DER); export the vault's "
			     "key-exchange key with az keyvault key download",
			     path);
	OSSL_DECODER_CTX_free(dctx);
	free(data);
	ERR_clear_error();
	if (rc < 0)
		goto fail;
	bits = EVP_PKEY_get_bits(pk);
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || bits < BYOK_KEK_MIN_BITS ||
	    bits > BYOK_KEK_MAX_BITS) {
		rc = ng_errf(err, NG_EINVAL,
			     "--kek %s: RSA key of %d bits; a Key Vault KEK has "
			     "%d..%d",
			     path, bits, BYOK_KEK_MIN_BITS, BYOK_KEK_MAX_BITS);
		goto fail;
	}
	*out = calloc(1, sizeof(**out));
	if (!*out) {
		rc = ng_errf(err, NG_ENOMEM, "--kek: out of memory");
		goto fail;
	}
	(*out)->pk = pk;
	return 0;
fail:
	EVP_PKEY_free(pk);
	return rc;
}

static int kid_ok(const char *kid)
{
	size_t n = kid ? strlen(kid) : 0;

	if (n < 9 || n > BYOK_KID_MAX || strncmp(kid, "https://", 8) || !strstr(kid, "/keys/"))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (kid[i] <= 0x20 || kid[i] > 0x7e || kid[i] == '"' || kid[i] == '\\')
			return 0;
	return 1;
}

/* RSA-OAEP with SHA-1 and MGF1-SHA-1, empty label: CKM_RSA_AES_KEY_WRAP. */
static int oaep_encrypt(EVP_PKEY *pk, const uint8_t *in, size_t n, uint8_t *out, size_t *outlen,
			struct ng_err *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	int ok = c && EVP_PKEY_encrypt_init(c) == 1 &&
		 EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING) == 1 &&
		 EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha1()) == 1 &&
		 EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha1()) == 1 &&
		 EVP_PKEY_encrypt(c, out, outlen, in, n) == 1;

	EVP_PKEY_CTX_free(c);
	return ok ? 0 : ng_err_openssl(err, NG_ECRYPTO, "BYOK: RSA-OAEP to the KEK");
}

/* AES-256 Key Wrap with Padding, RFC 5649. */
static int kwp_wrap(const uint8_t key[32], const uint8_t *in, size_t n, uint8_t *out,
		    size_t *outlen, struct ng_err *err)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, ok;

	if (c)
		EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	ok = c && EVP_EncryptInit_ex2(c, EVP_aes_256_wrap_pad(), key, NULL, NULL) == 1 &&
	     EVP_EncryptUpdate(c, out, &l1, in, (int)n) == 1 &&
	     EVP_EncryptFinal_ex(c, out + l1, &l2) == 1;
	EVP_CIPHER_CTX_free(c);
	*outlen = (size_t)l1 + (size_t)l2;
	return ok ? 0 : ng_err_openssl(err, NG_ECRYPTO, "BYOK: AES key wrap with padding");
}

int byok_wrap(const struct byok_kek *kek, const char *kek_kid, const uint8_t *material, size_t n,
	      char **json_out, struct ng_err *err)
{
	uint8_t eph[32], *ct = NULL;
	size_t rsalen, kwplen = 0;
	char *b64 = NULL;
	cJSON *o = NULL, *h;
	struct buf b;
	int rc;

	*json_out = NULL;
	buf_init(&b, BYOK_BLOB_MAX);
	if (!kid_ok(kek_kid))
		return ng_errf(err, NG_EINVAL,
			       "--kek-kid: must be the KEK's key identifier, "
			       "https://<vault>/keys/<name>/<version>");
	if (n == 0 || n > BYOK_MATERIAL_MAX)
		return ng_errf(err, NG_EINVAL, "BYOK: key material of %zu bytes", n);
	rsalen = (size_t)EVP_PKEY_get_size(kek->pk);
	ct = malloc(rsalen + n + 16);
	if (!ct)
		return ng_errf(err, NG_ENOMEM, "BYOK: out of memory");
	if (RAND_priv_bytes(eph, sizeof(eph)) != 1) {
		rc = ng_err_openssl(err, NG_ECRYPTO, "BYOK: random bytes");
		goto out;
	}
	rc = oaep_encrypt(kek->pk, eph, sizeof(eph), ct, &rsalen, err);
	if (rc == 0)
		rc = kwp_wrap(eph, material, n, ct + rsalen, &kwplen, err);
	if (rc < 0)
		goto out;
	b64 = base64url_encode(ct, rsalen + kwplen);
	o = cJSON_CreateObject();
	rc = ng_errf(err, NG_ENOMEM, "BYOK: out of memory");
	if (!b64 || !o || !cJSON_AddStringToObject(o, "schema_version", "1.0.0") ||
	    !cJSON_AddStringToObject(o, "ciphertext", b64) ||
	    !cJSON_AddStringToObject(o, "generator", "nutgen " NUTGEN_VERSION) ||
	    !(h = cJSON_AddObjectToObject(o, "header")) ||
	    !cJSON_AddStringToObject(h, "kid", kek_kid) ||
	    !cJSON_AddStringToObject(h, "alg", "dir") ||
	    !cJSON_AddStringToObject(h, "enc", "CKM_RSA_AES_KEY_WRAP"))
		goto out;
	rc = jsonw_print(o, &JSONW_COMPACT_SORTED, &b, err);
	if (rc == 0 && buf_append(&b, "", 1) < 0)
		rc = ng_errf(err, NG_ENOMEM, "BYOK: out of memory");
	if (rc == 0)
		*json_out = buf_steal(&b);
out:
	OPENSSL_cleanse(eph, sizeof(eph));
	free(ct);
	free(b64);
	cJSON_Delete(o);
	buf_free(&b);
	return rc;
}

int byok_wrap_key(const struct byok_kek *kek, const char *kek_kid, const struct key *k,
		  char **json_out, struct ng_err *err)
{
	uint8_t *mat = NULL;
	size_t n = 0;
	int rc = key_material(k, &mat, &n, err);

	if (rc == 0)
		rc = byok_wrap(kek, kek_kid, mat, n, json_out, err);
	key_material_free(mat, n);
	return rc;
}

int byok_import_jwk(enum key_type type, const char *blob_json, char **json_out, struct ng_err *err)
{
	static const char *ops[] = {"encrypt", "decrypt", "wrapKey", "unwrapKey"};
	char *b64 = base64url_encode((const uint8_t *)blob_json, strlen(blob_json));
	cJSON *o = cJSON_CreateObject(), *a;
	struct buf b;
	int rc = ng_errf(err, NG_ENOMEM, "BYOK: out of memory");

	*json_out = NULL;
	buf_init(&b, 4 * BYOK_BLOB_MAX);
	if (type != KEY_OCT_HSM && type != KEY_RSA_HSM) {
		rc = ng_errf(err, NG_EINVAL, "BYOK: key type must be oct-HSM or RSA-HSM");
		goto out;
	}
	if (!b64 || !o || !cJSON_AddStringToObject(o, "kty", key_type_name(type)) ||
	    !cJSON_AddStringToObject(o, "key_hsm", b64) || !(a = cJSON_CreateStringArray(ops, 4)))
		goto out;
	cJSON_AddItemToObject(o, "key_ops", a);
	rc = jsonw_print(o, &JSONW_COMPACT_SORTED, &b, err);
	if (rc == 0 && buf_append(&b, "", 1) < 0)
		rc = ng_errf(err, NG_ENOMEM, "BYOK: out of memory");
	if (rc == 0)
		*json_out = buf_steal(&b);
out:
	free(b64);
	cJSON_Delete(o);
	buf_free(&b);
	return rc;
}
