/* bundle.h: writing and reading signed bundles (SPEC.md). The one interface
 * nutgen (build, sign, show, diff) and nutapply use.
 *
 * Reading is strict and in two passes over the same open file: the first
 * checks everything (canonical tar, manifest, signatures and threshold,
 * expiry and serial, every member's size and SHA-256, nothing missing,
 * nothing extra) and writes nothing; only then, if asked, the second pass
 * extracts into a directory the caller made private, re-checking the data. */
#ifndef NG_BUNDLE_H
#define NG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "err.h"
#include "manifest.h"
#include "sigkey.h"
#include "tarr.h"

#define BUNDLE_MAX_SIGS	     16
#define BUNDLE_SIG_MAX_BYTES 1024
#define BUNDLE_SIG_DIR	     "SIGNATURES/"

/* A payload member to write: a file (path) or bytes (data, len). */
struct bundle_input {
	const char *name;
	const char *path;
	const void *data;
	size_t len;
	int sparse; /* store as PAX sparse 1.0 (encfs.img) */
};

/* Writes a new bundle atomically to out. fields holds the manifest's fields
 * other than format, format_version, generator and members, which are
 * filled here ("created" and "serial" are required). Signed by every key. */
int bundle_create(const char *out, const cJSON *fields, const struct bundle_input *in, size_t n,
		  EVP_PKEY *const *keys, size_t nkeys, struct ng_err *err);

struct bundle_read_opts {
	const uint8_t (*trusted)[SIGKEY_PUB_LEN]; /* trusted public keys */
	size_t ntrusted;
	unsigned threshold;		  /* distinct trusted signers required; 0: none */
	int64_t now;			  /* for "expires"; 0: the clock */
	int allow_expired;		  /* show, diff and sign only */
	uint64_t min_serial;		  /* refuse a lower serial (rollback); 0: none */
	const char *extract_dir;	  /* existing private directory, or NULL */
	const struct tarr_limits *limits; /* NULL: TARR_DEFAULT_LIMITS */
	size_t keep_small;		  /* keep members up to this size in memory (0: 1 MiB) */
};

struct bundle_sig {
	char keyid[SIGKEY_ID_HEX + 1];
	uint8_t pub[SIGKEY_PUB_LEN];
	uint8_t sig[SIGKEY_SIG_LEN];
	int trusted;
};

struct bundle_member {
	char name[81];
	uint64_t size, stored;
	uint8_t sha256[32];
	int sparse;
	size_t nmap;
	uint8_t *data; /* NUL-terminated copy when size <= keep_small, else NULL */
};

struct bundle {
	uint8_t *manifest_bytes;
	size_t manifest_len;
	struct manifest *m;
	struct bundle_sig sigs[BUNDLE_MAX_SIGS];
	size_t nsigs;
	unsigned trusted_signers;
	struct bundle_member *members; /* in manifest order */
	size_t nmembers;
	uint64_t file_size;
	uint8_t file_sha256[32]; /* of the bundle file as read */
};

int bundle_open(const char *path, const struct bundle_read_opts *o, struct bundle **out,
		struct ng_err *err);
void bundle_free(struct bundle *b);
const struct bundle_member *bundle_member_get(const struct bundle *b, const char *name);

/* Adds key's signature to the bundle at path (read with o, which should not
 * require trust), rewriting it atomically. Already signed by that key: no-op,
 * returns 1. */
int bundle_cosign(const char *path, EVP_PKEY *key, const struct bundle_read_opts *o,
		  struct ng_err *err);

/* Internal to bundle_write.c/bundle_read.c: writes manifest bytes, the
 * signatures (sorted by key id) and the inputs (sorted by name). */
int bundle_write_raw(const char *out, const uint8_t *manifest, size_t mlen,
		     const struct bundle_sig *sigs, size_t nsigs, const struct bundle_input *in,
		     size_t n, struct ng_err *err);
/* The signature member's bytes for one signature (SPEC §4.2). */
int bundle_sig_encode(const struct bundle_sig *s, struct buf *out, struct ng_err *err);

#endif
