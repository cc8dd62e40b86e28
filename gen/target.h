/* target.h: the deployment target `nutapply infra up` wrote (target.json,
 * docs/infra.md), read on the air-gapped side.
 *
 * The file carries the key vault's key-exchange key (KEK) public half; a
 * substituted KEK would hand the mint's key to whoever holds its private
 * half. So target_load refuses the file unless the fingerprint the operator
 * typed (from what `up` printed, or a second channel) equals the SHA-256 of
 * the KEK's DER SubjectPublicKeyInfo, computed here from the key itself
 * (constant-time compare). Accepted forms: 64 hex digits in either case,
 * optionally separated by ':' or ' ', optionally prefixed "sha256:". */
#ifndef NG_TARGET_H
#define NG_TARGET_H

#include <stddef.h>

#include "../bundle-format/err.h"
#include "byok.h"

#define TARGET_FORMAT  "nutgen-target/1"
#define TARGET_MAX_LEN (64 * 1024)

struct target;

/* Strictly reads path (at most TARGET_MAX_LEN bytes, every member below
 * present and a string), checks the KEK (RSA 2048..4096, byok_kek_load's
 * rules) and the fingerprint. Errors are one line naming the file. */
int target_load(const char *path, const char *kek_fingerprint, struct target **out,
		struct ng_err *err);
/* The same from memory (path only names the input in errors). */
int target_parse(const char *data, size_t len, const char *path, const char *kek_fingerprint,
		 struct target **out, struct ng_err *err);
void target_free(struct target *t);

/* The KEK for byok_wrap, and its versioned kid (the BYOK header's kid). */
const struct byok_kek *target_kek(const struct target *t);

/* A string member by dotted path, or NULL. Members (all strings):
 * cloud, subscription, resource_group, location,
 * key_vault.name, key_vault.uri, key_vault.kind ("vault"|"managedhsm"),
 * kek.name, kek.kid, kek.public_key_pem, kek.sha256,
 * attestation.name, attestation.endpoint,
 * identity.name, identity.resource_id, identity.client_id, identity.principal_id,
 * storage.account, storage.blob_endpoint, storage.container, storage.blob,
 * storage.share. */
const char *target_str(const struct target *t, const char *path);

/* "sha256:<64 lowercase hex>" of the KEK (the form the manifest records). */
const char *target_fingerprint(const struct target *t);

/* Normalises an operator-typed fingerprint into 32 bytes; the error names
 * `what` (e.g. "--kek-fingerprint") and the accepted forms. */
int target_fingerprint_parse(const char *in, const char *what, unsigned char out[32],
			     struct ng_err *err);

#endif
