/* target.c: target.json reader (see target.h, docs/infra.md). */
#include "target.h"

#include "../bundle-format/jsonpath.h"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"

struct target {
	cJSON *doc;
	struct byok_kek *kek;
	char fp[8 + 64 + 1];
};

static const char *const members[] = {"format",
				      "cloud",
				      "subscription",
				      "resource_group",
				      "location",
				      "key_vault.name",
				      "key_vault.uri",
				      "key_vault.kind",
				      "kek.name",
				      "kek.kid",
				      "kek.public_key_pem",
				      "kek.sha256",
				      "attestation.name",
				      "attestation.endpoint",
				      "identity.name",
				      "identity.resource_id",
				      "identity.client_id",
				      "identity.principal_id",
				      "storage.account",
				      "storage.blob_endpoint",
				      "storage.container",
				      "storage.blob",
				      "storage.share",
				      NULL};

int target_fingerprint_parse(const char *in, const char *what, unsigned char out[32],
			     struct ng_err *err)
{
	char hex[65];
	size_t n = 0;

	if (!in)
		return ng_errf(err, NG_EUSAGE,
			       "%s is required: type the KEK fingerprint "
			       "`nutapply infra up` printed",
			       what);
	if (strncasecmp(in, "sha256:", 7) == 0)
		in += 7;
	for (; *in; in++) {
		if (*in == ':' || *in == ' ')
			continue;
		if (n == 64 || !strchr("0123456789abcdefABCDEF", *in))
			goto bad;
		hex[n++] = *in;
	}
	hex[n] = 0;
	if (n == 64 && hex_decode(hex, out, 32, NULL) == 0)
		return 0;
bad:
	return ng_errf(err, NG_EINVAL,
		       "%s: want the 64 hex digits of the KEK's SHA-256 (colons, spaces and a "
		       "sha256: prefix allowed), as `nutapply infra up` printed",
		       what);
}

/* SHA-256 of the DER SubjectPublicKeyInfo of the PEM public key. */
static int spki_sha256(const char *pem, unsigned char out[32])
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int n = pk ? i2d_PUBKEY(pk, &der) : -1;

	if (n > 0)
		sha256(der, (size_t)n, out);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	BIO_free(b);
	return n > 0 ? 0 : -1;
}

/* byok_kek_load reads a file: the PEM goes through a private temp dir. */
static int load_kek(const char *path, const char *pem, struct byok_kek **kek, struct ng_err *err)
{
	char *dir = NULL, file[4096];
	int rc;

	if ((rc = make_private_tmpdir("nutgen-target", &dir, err)))
		return rc;
	snprintf(file, sizeof(file), "%s/kek.pem", dir);
	if (!(rc = write_file_atomic(file, pem, strlen(pem), 0600, err)))
		rc = byok_kek_load(file, kek, err);
	remove_tree(dir);
	free(dir);
	if (rc && err) {
		char why[NG_ERR_MAX];
		snprintf(why, sizeof(why), "%s", err->msg);
		return ng_errf(err, rc, "%s: kek.public_key_pem: %s", path, why);
	}
	return rc;
}

int target_parse(const char *data, size_t len, const char *path, const char *kek_fingerprint,
		 struct target **out, struct ng_err *err)
{
	unsigned char want[32], got[32];
	struct target *t;
	int rc;

	*out = NULL;
	if ((rc = target_fingerprint_parse(kek_fingerprint, "--kek-fingerprint", want, err)))
		return rc;
	if (len > TARGET_MAX_LEN)
		return ng_errf(err, NG_ELIMIT, "%s: larger than %d bytes", path, TARGET_MAX_LEN);
	if (!(t = calloc(1, sizeof(*t))))
		return ng_errf(err, NG_ENOMEM, "out of memory");
	t->doc = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(t->doc)) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: not a JSON object: use the file `nutapply infra up` wrote", path);
		goto fail;
	}
	for (const char *const *m = members; *m; m++)
		if (!json_path_str(t->doc, *m) || !*json_path_str(t->doc, *m)) {
			rc = ng_errf(err, NG_EINVAL,
				     "%s: %s missing or not a string: use the file "
				     "`nutapply infra up` wrote",
				     path, *m);
			goto fail;
		}
	if (strcmp(json_path_str(t->doc, "format"), TARGET_FORMAT)) {
		rc = ng_errf(err, NG_EINVAL, "%s: format is not %s", path, TARGET_FORMAT);
		goto fail;
	}
	if (spki_sha256(json_path_str(t->doc, "kek.public_key_pem"), got)) {
		rc =
		    ng_errf(err, NG_EINVAL, "%s: kek.public_key_pem is not a PEM public key", path);
		goto fail;
	}
	/* The gate: the key itself must hash to what the operator typed; the
	 * file's own kek.sha256 is only a convenience copy and must agree. */
	if (CRYPTO_memcmp(want, got, 32) != 0) {
		rc = ng_errf(err, NG_EVERIFY,
			     "%s: the KEK's SHA-256 does not match --kek-fingerprint: this file's "
			     "key is not the one `nutapply infra up` printed; do not use it",
			     path);
		goto fail;
	}
	memcpy(t->fp, "sha256:", 7);
	hex_encode(got, 32, t->fp + 7);
	if (strcmp(json_path_str(t->doc, "kek.sha256"), t->fp)) {
		rc = ng_errf(err, NG_EVERIFY, "%s: kek.sha256 disagrees with kek.public_key_pem",
			     path);
		goto fail;
	}
	if ((rc = load_kek(path, json_path_str(t->doc, "kek.public_key_pem"), &t->kek, err)))
		goto fail;
	*out = t;
	return 0;
fail:
	target_free(t);
	return rc;
}

int target_load(const char *path, const char *kek_fingerprint, struct target **out,
		struct ng_err *err)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	unsigned char fp[32];
	int rc;

	*out = NULL;
	/* the typed fingerprint is checked before the file is even read */
	if ((rc = target_fingerprint_parse(kek_fingerprint, "--kek-fingerprint", fp, err)) ||
	    (rc = read_file_capped(path, TARGET_MAX_LEN, &raw, &len, err)))
		return rc;
	rc = target_parse((const char *)raw, len, path, kek_fingerprint, out, err);
	free(raw);
	return rc;
}

void target_free(struct target *t)
{
	if (!t)
		return;
	cJSON_Delete(t->doc);
	byok_kek_free(t->kek);
	free(t);
}

const struct byok_kek *target_kek(const struct target *t)
{
	return t->kek;
}

const char *target_str(const struct target *t, const char *path)
{
	return json_path_str(t->doc, path);
}

const char *target_fingerprint(const struct target *t)
{
	return t->fp;
}
