/* oci.h: the facts about a container image that a confidential container
 * policy needs, read offline from an image archive and verified byte for byte
 * (ociimage.h, ocilayers.h). This is the whole interface `nutgen image
 * inspect` and `nutgen build` use.
 *
 * The facts object is a superset of the confcom image-facts format the policy
 * renderer reads:
 *   "image": "registry/repo@sha256:<manifest digest>" (null when no name is
 *            known; see "warnings"),
 *   "config": {"Env","Entrypoint","Cmd","WorkingDir","User","StopSignal"}
 *             (each as in the image config, null where absent),
 *   "layer_roothashes": [dm-verity root hex, manifest order],
 * and adds "manifest_digest", "config_digest", "platform",
 * "manifest_verified" (false for docker-save archives), "warnings" [strings],
 * and "layers": [{"digest","media_type","size","diff_id","root_hash","cached"}]. */
#ifndef NG_OCI_H
#define NG_OCI_H

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"

struct oci_opts {
	const char *platform;  /* "os/arch[/variant]"; NULL: linux/amd64 */
	const char *reference; /* registry/repo[:tag][@digest]: names the image */
	const char *digest;    /* the registry manifest digest (docker-save archives) */
	int jobs;	       /* layers hashed in parallel; < 1 means 1 */
	int no_cache;	       /* neither read nor write the layer cache */
	const char *cache_dir; /* NULL: $XDG_CACHE_HOME/nutgen or ~/.cache/nutgen */
	int require_reference; /* fail instead of "image": null */
};

/* archive: an OCI image layout directory, an oci-archive tar, or a
 * docker-save tar (tars may be gzip or zstd compressed). On success *facts is
 * a new object the caller frees with cJSON_Delete. */
int oci_image_facts(const char *archive, const struct oci_opts *o, cJSON **facts,
		    struct ng_err *err);

#endif
