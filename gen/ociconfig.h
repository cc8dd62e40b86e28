/* ociconfig.h: the image config blob (OCI image-spec config.md; Docker's
 * image JSON is the same shape): the platform it was built for, which must be
 * the one selected; rootfs.diff_ids, which must pair one to one with the
 * manifest's layers; and the fields a container policy needs (Env,
 * Entrypoint, Cmd, WorkingDir, User, StopSignal), copied as the config has
 * them (null where absent), strings checked to be UTF-8. */
#ifndef NG_OCICONFIG_H
#define NG_OCICONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "../bundle-format/err.h"
#include "ociimage.h"
#include "ociref.h"

/* Parses n bytes of config for img, whose manifest_digest, config_digest
 * and nlayers/layers are set: fills layers[].diff_id, platform and config. */
int oci_config_parse(const uint8_t *p, size_t n, const struct oci_platform *want,
		     struct oci_image *img, struct ng_err *err);

#endif
