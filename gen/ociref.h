/* ociref.h: image references and platforms as users write them.
 *
 * References follow Docker's grammar (distribution/reference,
 * ParseNormalizedNamed): [domain/]path[:tag][@sha256:hex], where a first
 * component without "." or ":" that is not "localhost" is a Docker Hub path
 * ("nginx" → "docker.io/library/nginx"). Platforms are OS/ARCH[/VARIANT] as in
 * the OCI image index "platform" object. */
#ifndef NG_OCIREF_H
#define NG_OCIREF_H

#include "../bundle-format/err.h"

/* Splits ref into a normalised repository (*repo, malloc'd), tag and digest
 * (each malloc'd or NULL; pass NULL to ignore). */
int oci_parse_reference(const char *ref, char **repo, char **tag, char **digest,
			struct ng_err *err);

struct oci_platform {
	char os[32], arch[32], variant[32];
};

/* Parses "os/arch[/variant]" (NG_EUSAGE when malformed). */
int oci_platform_parse(const char *s, struct oci_platform *p, struct ng_err *err);
/* 1 when os/arch (and variant, if want names one) match. */
int oci_platform_matches(const struct oci_platform *want, const char *os, const char *arch,
			 const char *variant);

#endif
