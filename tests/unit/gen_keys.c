/* keys.c against the HKDF-SHA256 RSA-HSM vectors of sidecars-vectors (copied
 * to tests/data/encfs; expected values computed with python-cryptography and
 * Go's x/crypto/hkdf), and key file round trips. */
#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../bundle-format/codec.h"
#include "../../bundle-format/fileio.h"
#include "../../gen/byok.h"
#include "../../gen/keys.h"
#include "harness.h"

static cJSON *load_vectors(void)
{
	char path[4096];
	uint8_t *data = NULL;
	size_t n;
	struct ng_err err;
	cJSON *v;

	snprintf(path, sizeof(path), "%s/tests/data/encfs/hkdf-rsa-vectors.json", ng_srcdir());
	if (read_file_capped(path, 1 << 20, &data, &n, &err) < 0)
		return NULL;
	v = cJSON_Parse((char *)data);
	free(data);
	return v;
}

static void test_hkdf_vectors(void)
{
	cJSON *v = load_vectors(), *c;
	int ncases = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(v, "cases"))
	{
		const char *name = cJSON_GetObjectItem(c, "key")->valuestring;
		const char *salt_hex = cJSON_GetObjectItem(c, "salt_hex")->valuestring;
		const char *label = cJSON_GetObjectItem(c, "label")->valuestring;
		const char *want = cJSON_GetObjectItem(c, "derived_key_hex")->valuestring;
		cJSON *k;
		const char *pem = NULL;
		uint8_t salt[64], ikm[512], out[32];
		char hex[65];
		struct ng_err err;
		EVP_PKEY *pk;
		BIGNUM *d = NULL;
		BIO *bio;
		int dlen;

		cJSON_ArrayForEach(
		    k,
		    cJSON_GetObjectItem(
			v, "keys")) if (!strcmp(cJSON_GetObjectItem(k, "name")->valuestring, name))
		    pem = cJSON_GetObjectItem(k, "pkcs8_pem")->valuestring;
		CU_ASSERT_PTR_NOT_NULL_FATAL(pem);
		bio = BIO_new_mem_buf(pem, -1);
		pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
		BIO_free(bio);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
		CU_ASSERT_FATAL(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &d) == 1);
		dlen = BN_bn2bin(d, ikm); /* minimal big-endian, as Go's D.Bytes() */
		CU_ASSERT_EQUAL(dlen, cJSON_GetObjectItem(c, "d_len_bytes")->valueint);
		CU_ASSERT_EQUAL_FATAL(hex_decode(salt_hex, salt, strlen(salt_hex) / 2, &err), 0);
		CU_ASSERT_EQUAL(key_hkdf_passphrase(ikm, (size_t)dlen, salt, strlen(salt_hex) / 2,
						    label, out, &err),
				0);
		hex_encode(out, 32, hex);
		CU_ASSERT_STRING_EQUAL(hex, want);
		BN_clear_free(d);
		EVP_PKEY_free(pk);
		ncases++;
	}
	CU_ASSERT_EQUAL(ncases, 6);
	cJSON_Delete(v);
}

static char tmpdir[] = "/tmp/gen_keys.XXXXXX";

static void test_roundtrip(void)
{
	enum key_type types[] = {KEY_OCT_HSM, KEY_RSA_HSM};
	struct ng_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
	for (int i = 0; i < 2; i++) {
		struct key *k = NULL, *k2 = NULL;
		uint8_t p1[2][32], p2[2][32];
		int n1, n2;
		char path[4200];
		struct stat st;

		snprintf(path, sizeof(path), "%s/k%d", tmpdir, i);
		CU_ASSERT_EQUAL_FATAL(key_new(types[i], NULL, &k, &err), 0);
		CU_ASSERT_EQUAL_FATAL(key_save(k, path, &err), 0);
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
		CU_ASSERT_EQUAL(key_save(k, path, &err), NG_EEXIST);
		CU_ASSERT_EQUAL_FATAL(key_load(path, &k2, &err), 0);
		CU_ASSERT_EQUAL(key_get_type(k2), types[i]);
		CU_ASSERT_EQUAL(key_passphrases(k, p1, &n1, &err), 0);
		CU_ASSERT_EQUAL(key_passphrases(k2, p2, &n2, &err), 0);
		CU_ASSERT_EQUAL(n1, n2);
		CU_ASSERT(memcmp(p1, p2, (size_t)n1 * 32) == 0);
		if (types[i] == KEY_RSA_HSM) {
			CU_ASSERT_STRING_EQUAL(key_label(k2), "encfs");
			CU_ASSERT_EQUAL(strlen(key_salt_hex(k2)), 64);
		}
		unlink(path);
		key_free(k);
		key_free(k2);
	}
	rmdir(tmpdir);
}

static void test_bad_type(void)
{
	enum key_type t;
	struct ng_err err;

	CU_ASSERT_EQUAL(key_type_parse("oct", &t, &err), NG_EINVAL);
	CU_ASSERT_EQUAL(key_type_parse("RSA-HSM", &t, &err), 0);
	CU_ASSERT_EQUAL(t, KEY_RSA_HSM);
	CU_ASSERT_EQUAL(key_type_parse(NULL, &t, &err), NG_EINVAL);
}

static const struct ng_test tests[] = {
    {"HKDF-SHA256 RSA-HSM vectors (sidecars-vectors)", test_hkdf_vectors},
    {"key file round trip, 0600, no overwrite", test_roundtrip},
    {"key type names", test_bad_type},
};

NG_TEST_MAIN("gen_keys", tests)
