/* buildstate.h: what nutgen remembers about each target between builds, on
 * the air-gapped machine: the highest serial it signed and the volume it
 * created (key name, type, HKDF salt and label: public facts only, never key
 * material). It is what lets `nutgen build` refuse a second "create" bundle
 * for a target that already has a volume (which would orphan the mint's
 * data) unless --new-volume, and refuse a serial lower than one it issued.
 *
 * One JSON file per target under the state directory ($NUTGEN_STATE_DIR,
 * else $XDG_STATE_HOME/nutgen, else ~/.local/state/nutgen), named by the
 * SHA-256 of the target's identity, written atomically. */
#ifndef NG_BUILDSTATE_H
#define NG_BUILDSTATE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"

struct buildstate {
	char *path;	      /* the state file */
	uint64_t last_serial; /* 0: none */
	cJSON *volume;	      /* {"key_name","key_type","salt_hex","label","serial"} or NULL */
};

/* identity: a string naming the target (cloud, subscription, group, blob). */
int buildstate_load(const char *dir, const char *identity, struct buildstate *s,
		    struct ng_err *err);
int buildstate_save(const struct buildstate *s, const char *identity, struct ng_err *err);
void buildstate_clear(struct buildstate *s);

#endif
