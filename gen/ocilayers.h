/* ocilayers.h: every layer blob of a resolved image read once (a docker-save
 * blob, whose digest is not stated anywhere, twice on a cache miss: the cache
 * is looked up by its digest), its bytes checked against the manifest's digest
 * and size, its compression against its media type, its uncompressed stream
 * against the config's diff_id, and its dm-verity root computed by
 * layer_hash_fd (layer.h) in the same pass. Layers run on up to `jobs`
 * threads; the error reported is that of the first failing layer in manifest
 * order and names its digest. */
#ifndef NG_OCILAYERS_H
#define NG_OCILAYERS_H

#include "../bundle-format/err.h"
#include "layercache.h"
#include "ociarchive.h"
#include "ociimage.h"

#define OCI_MAX_JOBS 64

struct oci_hash_opts {
	int jobs;			 /* >= 1 */
	const struct layer_cache *cache; /* NULL or dir NULL: no cache */
};

int oci_layers_hash(const struct oci_src *src, struct oci_image *img, const struct oci_hash_opts *o,
		    struct ng_err *err);

#endif
