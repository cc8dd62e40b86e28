/* jsonw.h: a JSON printer whose bytes match Python's json.dumps, so that
 * hashes computed over our output (CCE policy hostdata, bundle manifests)
 * equal those of tools written in Python (az confcom) and so that two runs
 * give identical bytes. cJSON's own printer escapes differently and cannot
 * sort keys.
 *
 * Python rules reproduced: ensure_ascii escaping (non-ASCII as lowercase
 * \uXXXX, astral code points as surrogate pairs; '"' '\\' \n \r \t \b \f as
 * two-character escapes; other bytes < 0x20 and DEL as \u00XX; '/' literal),
 * integers in decimal, floats as repr(), and with an indent, the item
 * separator ending each line without a trailing space. */
#ifndef NG_JSONW_H
#define NG_JSONW_H

#include <cjson/cJSON.h>

#include "buf.h"

struct jsonw_opts {
	int indent;	      /* < 0: single line; >= 0: newline-separated, N spaces a level */
	const char *item_sep; /* "," or ", " */
	const char *key_sep;  /* ":" or ": " */
	int sort_keys;	      /* byte-order sort of object keys at every level */
	int ensure_ascii;     /* escape every non-ASCII code point */
};

/* json.dumps(obj, sort_keys=True, separators=(",", ":")) */
extern const struct jsonw_opts JSONW_COMPACT_SORTED;
/* json.dumps(obj, sort_keys=True, indent=2) */
extern const struct jsonw_opts JSONW_PRETTY_SORTED;

/* Appends the serialisation of item to out. Fails (NG_EINVAL) on a string
 * that is not valid UTF-8 when ensure_ascii is set, on NaN/Infinity, or on
 * duplicate object keys, none of which has a canonical form. */
int jsonw_print(const cJSON *item, const struct jsonw_opts *o, struct buf *out, struct ng_err *err);

/* Appends one JSON string literal (with quotes). */
int jsonw_string(const char *s, int ensure_ascii, struct buf *out, struct ng_err *err);

#endif
