#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct jsonw_opts JSONW_COMPACT_SORTED = {-1, ",", ":", 1, 1};
const struct jsonw_opts JSONW_PRETTY_SORTED = {2, ",", ": ", 1, 1};

/* Decodes one UTF-8 sequence, rejecting overlongs, surrogates and values
 * above U+10FFFF (RFC 3629 §4). Returns its length, or 0 when invalid. */
static int utf8_next(const unsigned char *s, unsigned long *cp)
{
	int len;
	unsigned long c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int jsonw_string(const char *s, int ensure_ascii, struct buf *out, struct ng_err *err)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_append(out, "\"", 1);
	while (*p) {
		unsigned long cp;
		int n;

		switch (*p) {
		case '"':
			buf_puts(out, "\\\"");
			p++;
			continue;
		case '\\':
			buf_puts(out, "\\\\");
			p++;
			continue;
		case '\n':
			buf_puts(out, "\\n");
			p++;
			continue;
		case '\r':
			buf_puts(out, "\\r");
			p++;
			continue;
		case '\t':
			buf_puts(out, "\\t");
			p++;
			continue;
		case '\b':
			buf_puts(out, "\\b");
			p++;
			continue;
		case '\f':
			buf_puts(out, "\\f");
			p++;
			continue;
		default:
			break;
		}
		/* Python's ESCAPE_ASCII is [^ -~]: DEL (0x7f) is escaped too,
		 * whatever research notes say; checked against CPython 3.11. */
		if (*p < 0x20 || (*p == 0x7f && ensure_ascii)) {
			buf_printf(out, "\\u%04x", *p);
			p++;
			continue;
		}
		if (*p < 0x80 || !ensure_ascii) {
			if (*p >= 0x80 && !utf8_next(p, &cp))
				return ng_errf(err, NG_EINVAL, "JSON string is not valid UTF-8");
			buf_append(out, p, 1);
			p++;
			continue;
		}
		n = utf8_next(p, &cp);
		if (!n)
			return ng_errf(err, NG_EINVAL, "JSON string is not valid UTF-8");
		if (cp >= 0x10000) {
			cp -= 0x10000;
			buf_printf(out, "\\u%04lx\\u%04lx", 0xd800 | (cp >> 10),
				   0xdc00 | (cp & 0x3ff));
		} else {
			buf_printf(out, "\\u%04lx", cp);
		}
		p += n;
	}
	buf_append(out, "\"", 1);
	return out->oom ? ng_errf(err, NG_ENOMEM, "JSON output too large") : 0;
}

/* Python's float repr: the shortest decimal that round-trips, with an
 * exponent when below 1e-4 or at/above 1e16, and ".0" for integral values. */
static int print_number(double v, int is_int_hint, struct buf *out, struct ng_err *err)
{
	char tmp[40];
	int prec;

	if (!isfinite(v))
		return ng_errf(err, NG_EINVAL, "JSON number is not finite");
	if (is_int_hint && fabs(v) < 9007199254740992.0) {
		buf_printf(out, "%lld", (long long)v);
		return 0;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	{
		double a = fabs(v);
		char mant[40], *e;
		int exp10;
		if (a != 0 && (a < 1e-4 || a >= 1e16)) {
			snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
			e = strchr(tmp, 'e');
			exp10 = atoi(e + 1);
			*e = 0;
			snprintf(mant, sizeof(mant), "%s", tmp);
			buf_printf(out, "%se%c%02d", mant, exp10 < 0 ? '-' : '+', abs(exp10));
		} else {
			/* the fewest fixed-point digits that round-trip */
			for (int d = 1; d <= 17; d++) {
				snprintf(tmp, sizeof(tmp), "%.*f", d, v);
				if (strtod(tmp, NULL) == v)
					break;
			}
			buf_puts(out, tmp);
		}
	}
	return 0;
}

static void newline(const struct jsonw_opts *o, int depth, struct buf *out)
{
	buf_append(out, "\n", 1);
	for (int i = 0; i < depth * o->indent; i++)
		buf_append(out, " ", 1);
}

static int cmp_keys(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static int print_item(const cJSON *it, const struct jsonw_opts *o, int depth, struct buf *out,
		      struct ng_err *err);

static int print_container(const cJSON *it, const struct jsonw_opts *o, int depth, struct buf *out,
			   struct ng_err *err)
{
	int is_obj = cJSON_IsObject(it), n = 0, rc = 0;
	const cJSON *c;
	const cJSON **kids;

	if (depth > 512)
		return ng_errf(err, NG_ELIMIT, "JSON nested deeper than 512 levels");
	for (c = it->child; c; c = c->next)
		n++;
	if (n == 0) {
		buf_puts(out, is_obj ? "{}" : "[]");
		return 0;
	}
	kids = malloc(sizeof(*kids) * (size_t)n);
	if (!kids)
		return ng_errf(err, NG_ENOMEM, "out of memory printing JSON");
	n = 0;
	for (c = it->child; c; c = c->next)
		kids[n++] = c;
	if (is_obj) {
		for (int i = 0; i < n; i++)
			if (!kids[i]->string) {
				free(kids);
				return ng_errf(err, NG_EINVAL, "JSON object member without a key");
			}
		if (o->sort_keys)
			qsort(kids, (size_t)n, sizeof(*kids), cmp_keys);
		for (int i = 1; i < n && o->sort_keys; i++)
			if (strcmp(kids[i - 1]->string, kids[i]->string) == 0) {
				rc = ng_errf(err, NG_EINVAL, "duplicate JSON key \"%.64s\"",
					     kids[i]->string);
				free(kids);
				return rc;
			}
	}
	buf_puts(out, is_obj ? "{" : "[");
	for (int i = 0; i < n && !rc; i++) {
		if (i)
			buf_puts(out, o->indent >= 0 ? "," : o->item_sep);
		if (o->indent >= 0)
			newline(o, depth + 1, out);
		if (is_obj) {
			rc = jsonw_string(kids[i]->string, o->ensure_ascii, out, err);
			buf_puts(out, o->key_sep);
		}
		if (!rc)
			rc = print_item(kids[i], o, depth + 1, out, err);
	}
	free(kids);
	if (rc)
		return rc;
	if (o->indent >= 0)
		newline(o, depth, out);
	buf_puts(out, is_obj ? "}" : "]");
	return 0;
}

static int print_item(const cJSON *it, const struct jsonw_opts *o, int depth, struct buf *out,
		      struct ng_err *err)
{
	if (cJSON_IsNull(it))
		return buf_puts(out, "null");
	if (cJSON_IsTrue(it))
		return buf_puts(out, "true");
	if (cJSON_IsFalse(it))
		return buf_puts(out, "false");
	if (cJSON_IsNumber(it)) {
		double v = it->valuedouble;
		return print_number(v, v == floor(v) && fabs(v) < 1e15, out, err);
	}
	if (cJSON_IsString(it))
		return jsonw_string(it->valuestring, o->ensure_ascii, out, err);
	if (cJSON_IsRaw(it))
		return buf_puts(out, it->valuestring);
	if (cJSON_IsArray(it) || cJSON_IsObject(it))
		return print_container(it, o, depth, out, err);
	return ng_errf(err, NG_EINVAL, "unknown JSON node type");
}

int jsonw_print(const cJSON *item, const struct jsonw_opts *o, struct buf *out, struct ng_err *err)
{
	int rc = print_item(item, o, 0, out, err);

	if (!rc && out->oom)
		rc = ng_errf(err, NG_ENOMEM, "JSON output too large");
	return rc;
}
