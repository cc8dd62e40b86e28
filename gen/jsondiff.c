#include "jsondiff.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/digest.h"
#include "../bundle-format/jsonw.h"

#define SHOW_MAX 160

static void show(const cJSON *v, struct buf *out)
{
	struct buf t;

	buf_init(&t, 0);
	if (!v) {
		buf_puts(out, "(absent)");
	} else if (cJSON_IsString(v) && strlen(v->valuestring) > SHOW_MAX) {
		char hex[65];
		sha256_hex(v->valuestring, strlen(v->valuestring), hex);
		buf_printf(out, "<%zu-byte string, sha256 %.16s…>", strlen(v->valuestring), hex);
	} else if (jsonw_print(v, &JSONW_COMPACT_SORTED, &t, NULL) == 0) {
		if (t.len > SHOW_MAX)
			buf_printf(out, "%.*s…", SHOW_MAX, (char *)t.data);
		else
			buf_append(out, t.data, t.len);
	} else {
		buf_puts(out, "(unprintable)");
	}
	buf_free(&t);
}

static const char *array_key(const cJSON *a, const cJSON *b)
{
	static const char *keys[] = {"name", "container"};

	for (size_t k = 0; k < 2; k++) {
		int ok = 1;
		for (const cJSON *arr = a; ok && arr; arr = arr == a ? b : NULL) {
			const cJSON *e;
			cJSON_ArrayForEach(e, arr)
			{
				if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, keys[k])))
					ok = 0;
			}
		}
		if (ok && (cJSON_GetArraySize(a) || cJSON_GetArraySize(b)))
			return keys[k];
	}
	return NULL;
}

static const cJSON *find_keyed(const cJSON *arr, const char *key, const char *val)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr)
	{
		if (!strcmp(cJSON_GetObjectItemCaseSensitive(e, key)->valuestring, val))
			return e;
	}
	return NULL;
}

static size_t line(const char *prefix, const char *path, const cJSON *a, const cJSON *b,
		   struct buf *out)
{
	buf_printf(out, "%s%s: ", prefix, path);
	if (!a) {
		buf_puts(out, "added ");
		show(b, out);
	} else if (!b) {
		buf_puts(out, "removed ");
		show(a, out);
	} else {
		show(a, out);
		buf_puts(out, " -> ");
		show(b, out);
	}
	buf_puts(out, "\n");
	return 1;
}

size_t jsondiff(const char *prefix, const char *path, const cJSON *a, const cJSON *b,
		struct buf *out)
{
	size_t n = 0;
	char *sub;
	const cJSON *e;

	if (!a && !b)
		return 0;
	if (!a || !b || (a->type & 0xff) != (b->type & 0xff))
		return line(prefix, path, a, b, out);
	if (cJSON_IsObject(a)) {
		cJSON_ArrayForEach(e, a)
		{
			if (asprintf(&sub, "%s.%s", path, e->string) < 0)
				return n;
			n += jsondiff(prefix, sub, e,
				      cJSON_GetObjectItemCaseSensitive(b, e->string), out);
			free(sub);
		}
		cJSON_ArrayForEach(e, b)
		{
			if (cJSON_GetObjectItemCaseSensitive(a, e->string))
				continue;
			if (asprintf(&sub, "%s.%s", path, e->string) < 0)
				return n;
			n += line(prefix, sub, NULL, e, out);
			free(sub);
		}
		return n;
	}
	if (cJSON_IsArray(a)) {
		const char *key = array_key(a, b);
		int i = 0;
		if (key) {
			cJSON_ArrayForEach(e, a)
			{
				const char *v =
				    cJSON_GetObjectItemCaseSensitive(e, key)->valuestring;
				if (asprintf(&sub, "%s[%s=%s]", path, key, v) < 0)
					return n;
				n += jsondiff(prefix, sub, e, find_keyed(b, key, v), out);
				free(sub);
			}
			cJSON_ArrayForEach(e, b)
			{
				const char *v =
				    cJSON_GetObjectItemCaseSensitive(e, key)->valuestring;
				if (find_keyed(a, key, v))
					continue;
				if (asprintf(&sub, "%s[%s=%s]", path, key, v) < 0)
					return n;
				n += line(prefix, sub, NULL, e, out);
				free(sub);
			}
			return n;
		}
		for (int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
		     i < (na > nb ? na : nb); i++) {
			if (asprintf(&sub, "%s[%d]", path, i) < 0)
				return n;
			n += jsondiff(prefix, sub, cJSON_GetArrayItem(a, i),
				      cJSON_GetArrayItem(b, i), out);
			free(sub);
		}
		return n;
	}
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) ? line(prefix, path, a, b, out) : 0;
	if (cJSON_IsNumber(a))
		return a->valuedouble != b->valuedouble ? line(prefix, path, a, b, out) : 0;
	return 0; /* true/false/null: equal types mean equal values */
}

cJSON *jsondiff_rego(const char *text)
{
	cJSON *o = cJSON_CreateObject();
	const char *p = text;

	while (o && *p) {
		const char *eol = strchr(p, '\n'), *q = p, *val;
		size_t nlen;
		char name[128];
		if (!eol)
			eol = p + strlen(p);
		while (q < eol && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		nlen = (size_t)(q - p);
		if (nlen && nlen < sizeof(name) && !strncmp(q, " := ", 4)) {
			const char *end = NULL;
			cJSON *v;
			memcpy(name, p, nlen);
			name[nlen] = 0;
			val = q + 4;
			v = cJSON_ParseWithOpts(val, &end, 0);
			if (!v || !end || end > text + strlen(text)) {
				cJSON_Delete(v);
				char *s = strndup(val, (size_t)(eol - val));
				v = cJSON_CreateString(s ? s : "");
				free(s);
				end = eol;
			}
			cJSON_DeleteItemFromObjectCaseSensitive(o, name);
			cJSON_AddItemToObject(o, name, v);
			p = end;
			eol = strchr(p, '\n');
			if (!eol)
				break;
		}
		p = eol + (*eol ? 1 : 0);
	}
	return o;
}
