/* layercache.h: dm-verity root hashes of layers already hashed, keyed by the
 * layer's diff_id, so that inspecting an image a second time reads each blob
 * once (to check its digest) instead of rebuilding its ext4 image.
 *
 * An entry lives in DIR/layers/<diff_id hex>, written atomically (temporary
 * file + rename), and records the tool version, the diff_id, the root and the
 * blob digests seen to decompress to that diff_id, closed by a SHA-256 over
 * all of it. An entry is used only when that checksum, the key, the version
 * and the blob digest all match; anything else is a miss and is recomputed.
 * The checksum detects corruption, not an attacker with write access to the
 * cache directory: the directory is created 0700 and one that others can write
 * to is not used. */
#ifndef NG_LAYERCACHE_H
#define NG_LAYERCACHE_H

#include <stdint.h>

#include "../bundle-format/err.h"

struct layer_cache {
	char *dir; /* NULL: caching disabled */
};

enum { LAYER_CACHE_MISS = 0, LAYER_CACHE_HIT = 1, LAYER_CACHE_CORRUPT = 2 };

/* dir NULL: $XDG_CACHE_HOME/nutgen, else $HOME/.cache/nutgen. Never fails:
 * when the directory cannot be used, caching is off (c->dir NULL). */
void layer_cache_open(struct layer_cache *c, const char *dir);
void layer_cache_close(struct layer_cache *c);

/* LAYER_CACHE_HIT fills root when an intact entry for diff_id lists blob. */
int layer_cache_get(const struct layer_cache *c, const char *diff_id, const char *blob,
		    uint8_t root[32]);
/* Records (or adds blob to) the entry; failures only lose the cache entry. */
int layer_cache_put(const struct layer_cache *c, const char *diff_id, const char *blob,
		    const uint8_t root[32]);

#endif
