/* build.h: `nutgen build`: one deployment file, its images and (for a new
 * volume) a fresh key and encfs.img, rendered and signed into one bundle
 * (bundle-format/SPEC.md §5.3). Nothing is written but the bundle, the build
 * state, and, when there is no KEK to wrap the new key for, the key file the
 * operator names (mode 0600, never inside the bundle). */
#ifndef NG_BUILD_H
#define NG_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"

struct build_opts {
	const char *deployment; /* DEPLOYMENT.json */
	const char *out;	/* bundle.tgz */
	const char *const *sign_keys;
	size_t nsign;
	int passfd;		       /* signing key passphrase descriptor, -1 */
	const char *target;	       /* target.json with the vault's KEK, or NULL */
	const char *kek_fingerprint;   /* required with target */
	int new_volume;		       /* create even though the state knows a volume */
	int existing_volume;	       /* reference the existing volume */
	const char *const *image_info; /* facts JSON files (nutgen image inspect) */
	size_t ninfo;
	uint64_t serial;       /* 0: the creation time in seconds */
	const char *expires;   /* RFC 3339 or +Nd/+Nh, or NULL */
	const char *key_out;   /* new key's file when there is no KEK */
	const char *state_dir; /* NULL: default (buildstate.h) */
};

struct build_report {
	int created_volume;
	uint64_t serial;
	char hostdata[65];
};

int build_run(const struct build_opts *o, struct build_report *rep, struct ng_err *err);

#endif
