/* keys.h: the key that Key Vault releases to the encfs sidecar, and the
 * 32-byte LUKS passphrase the sidecar derives from it (sidecars.md §1.6).
 *
 * - oct-HSM: 32 random bytes; the passphrase is the key itself.
 * - RSA-HSM: RSA-2048 (e = 65537); the passphrase is
 *   HKDF-SHA256(IKM = d as minimal big-endian bytes, salt, info = label, L = 32).
 *   The salt is always explicit and random (an empty salt is a silent
 *   mismatch between importkey and remotefs, §1.6), the label defaults to
 *   "encfs" as the seed deployment uses (seed-deployment.md §4.1).
 *   When e^-1 mod phi(n) and e^-1 mod lambda(n) differ, the passphrase of the
 *   other form is offered as an alternate so the image gets a second keyslot
 *   that still opens if the HSM normalises d on import (sidecars.md §8.1).
 *
 * Key file (mode 0600, never inside a bundle in clear): compact JSON
 *   {"kty":"oct-HSM","k":"<base64url 32 bytes>"} or
 *   {"kty":"RSA-HSM","pkcs8":"<base64url PKCS#8 DER>",
 *    "key_derivation":{"salt":"<hex>","label":"<label>"}}
 * A raw 32-byte file is also accepted where a passphrase is enough: it is the
 * passphrase itself (an oct key, or importkey's keyfile.bin).
 * Every secret buffer is cleansed on free. No function puts key material in
 * an error message. */
#ifndef NG_KEYS_H
#define NG_KEYS_H
#include <stddef.h>
#include <stdint.h>
#include "../bundle-format/err.h"

#define KEY_PASSPHRASE_LEN 32
#define KEY_OCT_LEN	   32
#define KEY_SALT_LEN	   32
#define KEY_LABEL_MAX	   128
#define KEY_DEFAULT_LABEL  "encfs"
/* HKDF info remotefs uses when key_derivation.label is empty (§1.6). */
#define KEY_REMOTEFS_DEFAULT_LABEL "Symmetric Encryption Key"
#define KEY_FILE_MAX		   16384

enum key_type {
	KEY_OCT_HSM = 1,       /* "oct-HSM" */
	KEY_RSA_HSM = 2,       /* "RSA-HSM" */
	KEY_RAW_PASSPHRASE = 3 /* a bare 32-byte passphrase file, no key behind it */
};

struct key;

/* Parses "oct-HSM" / "RSA-HSM" (case-sensitive, as Key Vault spells kty). */
int key_type_parse(const char *s, enum key_type *out, struct ng_err *err);
const char *key_type_name(enum key_type t);

/* A new random key; label NULL means KEY_DEFAULT_LABEL (RSA-HSM only). */
int key_new(enum key_type type, const char *label, struct key **out, struct ng_err *err);
/* Reads a key file (JSON as above, or exactly 32 raw bytes). Anything else,
 * a file of another length included, is refused naming the path. */
int key_load(const char *path, struct key **out, struct ng_err *err);
/* Writes the key file atomically with mode 0600; refuses to replace an
 * existing file (NG_EEXIST). */
int key_save(const struct key *k, const char *path, struct ng_err *err);
void key_free(struct key *k);

enum key_type key_get_type(const struct key *k);
/* RSA-HSM: the hex salt and the label the sidecar args must carry in
 * key_derivation; NULL for other types. Not secret. */
const char *key_salt_hex(const struct key *k);
const char *key_label(const struct key *k);

/* The passphrases that open the image: out[0] is the one the sidecar derives
 * from the released key; out[1] (when *n == 2) the alternate-d form for
 * RSA-HSM. The caller cleanses out. */
int key_passphrases(const struct key *k, uint8_t out[2][KEY_PASSPHRASE_LEN], int *n,
		    struct ng_err *err);

/* The bytes Key Vault imports (azure-rest.md §3.2 step 2): the raw 32 bytes
 * for oct-HSM, PKCS#8 DER for RSA-HSM. Malloc'd; cleanse and free with
 * key_material_free. */
int key_material(const struct key *k, uint8_t **out, size_t *outlen, struct ng_err *err);
void key_material_free(uint8_t *p, size_t n);

/* HKDF-SHA256 as remotefs computes it (§1.6): ikm = d's minimal big-endian
 * bytes, salt may be empty (saltlen 0), label NULL or "" means
 * KEY_REMOTEFS_DEFAULT_LABEL. */
int key_hkdf_passphrase(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
			const char *label, uint8_t out[KEY_PASSPHRASE_LEN], struct ng_err *err);
#endif
