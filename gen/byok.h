/* byok.h: wrapping a key for Key Vault BYOK import so that only the vault's
 * HSM can unwrap it (azure-rest.md §3.2, Learn byok-specification.md).
 *
 * The KEK is an RSA public key (2048..4096 bits) exported from the vault, with
 * key_ops ["import"]. The target bytes (key_material() of keys.h) are wrapped
 * with AES-256 Key Wrap with Padding (RFC 5649) under a fresh ephemeral key,
 * which is encrypted to the KEK with RSA-OAEP SHA-1 / MGF1-SHA-1
 * (CKM_RSA_AES_KEY_WRAP). The transfer blob (.byok) is
 *   {"ciphertext":"<b64url(RSA out || KWP out)>","generator":"nutgen <ver>",
 *    "header":{"alg":"dir","enc":"CKM_RSA_AES_KEY_WRAP","kid":"<KEK kid>"},
 *    "schema_version":"1.0.0"}
 * and Key Vault imports it as key.key_hsm = base64url(blob bytes). */
#ifndef NG_BYOK_H
#define NG_BYOK_H
#include <stddef.h>
#include <stdint.h>
#include "../bundle-format/err.h"
#include "keys.h"

#define BYOK_KEK_MIN_BITS 2048
#define BYOK_KEK_MAX_BITS 4096
#define BYOK_KID_MAX	  512

struct byok_kek;

/* Reads a PEM (SubjectPublicKeyInfo or PKCS#1 RSAPublicKey) or DER public
 * key; anything that is not an RSA public key of 2048..4096 bits is refused
 * with a one-line error naming the path. */
int byok_kek_load(const char *path, struct byok_kek **out, struct ng_err *err);
void byok_kek_free(struct byok_kek *kek);

/* Wraps material (n bytes) to the KEK; kek_kid is the KEK's versioned key
 * identifier (https://<vault>/keys/<name>/<version>). *json_out is the
 * transfer blob (compact, sorted keys, NUL-terminated, malloc'd). */
int byok_wrap(const struct byok_kek *kek, const char *kek_kid, const uint8_t *material, size_t n,
	      char **json_out, struct ng_err *err);

/* Convenience: key_material(k) wrapped with byok_wrap. */
int byok_wrap_key(const struct byok_kek *kek, const char *kek_kid, const struct key *k,
		  char **json_out, struct ng_err *err);

/* The JsonWebKey Key Vault's Import Key takes for a BYOK import:
 * {"key_hsm":"<b64url(blob)>","key_ops":[...],"kty":"oct-HSM"|"RSA-HSM"},
 * compact and sorted. key_ops: encrypt, decrypt, wrapKey, unwrapKey. */
int byok_import_jwk(enum key_type type, const char *blob_json, char **json_out, struct ng_err *err);
#endif
