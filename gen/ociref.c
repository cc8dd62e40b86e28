#include "ociref.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/digest.h"

int oci_platform_parse(const char *s, struct oci_platform *p, struct ng_err *err)
{
	char buf[100];
	char *a, *b;

	memset(p, 0, sizeof(*p));
	if (strlen(s) >= sizeof(buf))
		return ng_errf(err, NG_EUSAGE, "platform '%.40s...' is too long", s);
	strcpy(buf, s);
	a = strchr(buf, '/');
	if (!a || a == buf || !a[1])
		return ng_errf(err, NG_EUSAGE,
			       "platform '%s' is not OS/ARCH[/VARIANT] (e.g. linux/amd64)", s);
	*a++ = 0;
	b = strchr(a, '/');
	if (b)
		*b++ = 0;
	if (strlen(buf) >= 32 || strlen(a) >= 32 ||
	    (b && (!*b || strlen(b) >= 32 || strchr(b, '/'))))
		return ng_errf(err, NG_EUSAGE, "platform '%s' is not OS/ARCH[/VARIANT]", s);
	strcpy(p->os, buf);
	strcpy(p->arch, a);
	if (b)
		strcpy(p->variant, b);
	return 0;
}

/* A wanted variant must match; no wanted variant accepts any (amd64 has none,
 * arm64 images say v8 or nothing). */
int oci_platform_matches(const struct oci_platform *want, const char *os, const char *arch,
			 const char *variant)
{
	return os && arch && !strcmp(want->os, os) && !strcmp(want->arch, arch) &&
	       (!want->variant[0] || (variant && !strcmp(want->variant, variant)));
}

/* Docker's reference grammar (distribution/reference), enough to name a
 * repository: [domain/]path[:tag][@digest]. */
int oci_parse_reference(const char *ref, char **repo, char **tag, char **digest, struct ng_err *err)
{
	char *s = strdup(ref), *at, *slash, *colon, *first_end;
	const char *domain = NULL;
	int rc = 0;

	*repo = NULL;
	if (tag)
		*tag = NULL;
	if (digest)
		*digest = NULL;
	if (!s)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	if (strlen(s) > 255 || !*s) {
		rc = ng_errf(err, NG_EINVAL, "image reference '%.60s' is empty or too long", ref);
		goto out;
	}
	at = strchr(s, '@');
	if (at) {
		uint8_t raw[32];
		*at++ = 0;
		if (digest_parse_sha256(at, raw, err)) {
			rc = ng_err_prefix(err, NG_EINVAL, "image reference '%.200s'", ref);
			goto out;
		}
		if (digest)
			*digest = strdup(at);
	}
	slash = strrchr(s, '/');
	colon = strrchr(slash ? slash : s, ':');
	if (colon) {
		*colon++ = 0;
		for (const char *c = colon; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-')
				colon = NULL;
		if (!colon || !*colon || strlen(colon) > 128) {
			rc = ng_errf(err, NG_EINVAL, "image reference '%.200s' has an invalid tag",
				     ref);
			goto out;
		}
		if (tag)
			*tag = strdup(colon);
	}
	first_end = strchr(s, '/');
	if (first_end &&
	    (memchr(s, '.', (size_t)(first_end - s)) || memchr(s, ':', (size_t)(first_end - s)) ||
	     (first_end - s == 9 && !strncmp(s, "localhost", 9))))
		domain = "";
	for (const char *c = domain ? first_end + 1 : s; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '.' ||
		      *c == '_' || *c == '-' || *c == '/')) {
			rc = ng_errf(err, NG_EINVAL,
				     "image reference '%.200s': repository names are lowercase "
				     "letters, digits and . _ - /",
				     ref);
			goto out;
		}
	if (!*s || s[strlen(s) - 1] == '/' || strstr(s, "//")) {
		rc = ng_errf(err, NG_EINVAL, "image reference '%.200s' has an empty path component",
			     ref);
		goto out;
	}
	if (domain && (!strncmp(s, "docker.io/", 10) || !strncmp(s, "index.docker.io/", 16))) {
		/* Docker Hub's canonical form: docker.io, official images under library/ */
		const char *path = strchr(s, '/') + 1;
		if (asprintf(repo, "docker.io/%s%s", strchr(path, '/') ? "" : "library/", path) < 0)
			*repo = NULL;
	} else if (domain)
		*repo = strdup(s);
	else if (asprintf(repo, "docker.io/%s%s", strchr(s, '/') ? "" : "library/", s) < 0)
		*repo = NULL;
	if (!*repo)
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
out:
	if (rc) {
		if (tag) {
			free(*tag);
			*tag = NULL;
		}
		if (digest) {
			free(*digest);
			*digest = NULL;
		}
	}
	free(s);
	return rc;
}
