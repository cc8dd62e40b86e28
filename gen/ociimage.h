/* ociimage.h: from an image archive to the verified description of one image:
 * index → manifest → config, each blob checked against the digest and size
 * that reference it (OCI image spec descriptor.md), the platform selected in
 * multi-platform indexes, the config's rootfs.diff_ids paired with the
 * manifest's layers. Layer bytes are verified later, while they are hashed
 * (ocilayers.h).
 *
 * docker-save archives (manifest.json) carry no registry manifest: the
 * manifest digest is the one the caller states and is reported unverified. */
#ifndef NG_OCIIMAGE_H
#define NG_OCIIMAGE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "ociarchive.h"

/* Caps on hostile metadata. */
#define OCI_INDEX_MAX_BYTES    (4u << 20)
#define OCI_MANIFEST_MAX_BYTES (4u << 20)
#define OCI_CONFIG_MAX_BYTES   (8u << 20)
#define OCI_MAX_MANIFESTS      1024
#define OCI_MAX_INDEX_DEPTH    4
#define OCI_MAX_LAYERS	       256
#define OCI_MAX_ENV	       4096

enum oci_compression { OCI_PLAIN, OCI_GZIP, OCI_ZSTD };

struct oci_layer {
	char digest[72];  /* blob digest (docker-save: of the bytes as stored) */
	char diff_id[72]; /* from the config's rootfs.diff_ids */
	char *media_type;
	char *member; /* path inside the archive */
	uint64_t size;
	int size_known; /* docker-save: 0 until the blob is read */
	int compression;
	uint8_t root[32]; /* filled by ocilayers */
	int cached;	  /* root came from the layer cache */
};

struct oci_image {
	char manifest_digest[72];
	char config_digest[72];
	int manifest_verified;
	char *repo;	/* "registry/repo" (normalised), NULL when unknown */
	char *platform; /* "os/arch[/variant]" from the config */
	cJSON *config;	/* the config's "config" object, or NULL */
	struct oci_layer *layers;
	size_t nlayers;
	char *warnings[8];
	size_t nwarnings;
};

struct oci_select {
	const char *platform;  /* "os/arch[/variant]"; NULL: linux/amd64 */
	const char *reference; /* user's registry/repo[:tag][@digest], or NULL */
	const char *digest;    /* user's manifest digest (required for docker-save) */
};

int oci_image_resolve(const struct oci_src *src, const struct oci_select *sel,
		      struct oci_image *img, struct ng_err *err);
void oci_image_release(struct oci_image *img);

/* Normalises an image name as Docker does ("nginx" → "docker.io/library/nginx")
 * and splits off tag and digest; *repo is malloc'd. Used for --reference,
 * RepoTags and ref.name annotations. */
int oci_parse_reference(const char *ref, char **repo, char **tag, char **digest,
			struct ng_err *err);

#endif
