/* jsondiff.h: a reviewer's diff of two JSON values, one line per change,
 * addressed by path: "$.a.b[2]", and arrays of objects matched by their
 * "name" (or "container") so a reordered or inserted container does not show
 * as every later one changing: "$.containers[name=mint].command[0]". Long
 * strings (an embedded policy) are shown as their length and SHA-256 prefix. */
#ifndef NG_JSONDIFF_H
#define NG_JSONDIFF_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../bundle-format/buf.h"

/* Appends "<prefix><path>: <old> -> <new>\n" (or "added"/"removed") lines
 * to out; returns the number of differences. Either value may be NULL
 * (absent). */
size_t jsondiff(const char *prefix, const char *path, const cJSON *a, const cJSON *b,
		struct buf *out);

/* The Rego policy's top-level assignments "name := <JSON>" as one object
 * {name: value}; values that are not JSON become strings. NULL on failure. */
cJSON *jsondiff_rego(const char *text);

#endif
