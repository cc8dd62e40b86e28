/* templates.h: finding and reading the data files under templates/ (policy
 * profiles, the Rego skeleton, ARM and sidecar templates). Constants that
 * change with confcom or Azure releases live there as data, never as C
 * strings, so a new profile is a new file, not a new build.
 *
 * The directory is, in order: $NUTGEN_TEMPLATES; <dir of the running
 * executable>/../templates (bin/nutgen in a checkout); $NG_SRCDIR/templates
 * (tests); ./templates. */
#ifndef NG_TEMPLATES_H
#define NG_TEMPLATES_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"

/* The templates directory (static storage; never NULL). */
const char *templates_dir(void);
/* Reads templates/<rel> (capped at 1 MiB) into a malloc'd NUL-terminated
 * string. rel must be a plain relative path without "..". */
int templates_read(const char *rel, char **out, size_t *len, struct ng_err *err);
/* Reads and parses templates/<rel> as JSON. */
int templates_json(const char *rel, cJSON **out, struct ng_err *err);

#endif
