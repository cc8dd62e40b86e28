#include "verdict.h"

#include <stdarg.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/jsonw.h"

/* Values come from hostile tokens and mint answers: keep printable ASCII
 * only, so that nothing can move the terminal's cursor or forge a row. */
static void copy_cut(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0, i;

	for (i = 0; i < n && i < VERDICT_VAL_MAX - 4; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '?';
	if (i < n)
		memcpy(dst + i, "...", 4);
	else
		dst[i] = 0;
}

void verdict_add(struct verdict *v, const char *name, int state, const char *expected,
		 const char *seen)
{
	struct verdict_row *r;

	if (v->n >= VERDICT_MAX_ROWS) {
		/* A table that overflows must not hide a failure. */
		if (state == VERDICT_FAIL)
			v->rows[VERDICT_MAX_ROWS - 1].state = VERDICT_FAIL;
		return;
	}
	r = &v->rows[v->n++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->state = state;
	copy_cut(r->expected, expected);
	copy_cut(r->seen, seen);
}

void verdict_addf(struct verdict *v, const char *name, int state, const char *expected,
		  const char *fmt, ...)
{
	char seen[VERDICT_VAL_MAX + 8];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(seen, sizeof(seen), fmt, ap);
	va_end(ap);
	verdict_add(v, name, state, expected, seen);
}

int verdict_ok(const struct verdict *v)
{
	int pass = 0;

	for (int i = 0; i < v->n; i++) {
		if (v->rows[i].state == VERDICT_FAIL)
			return 0;
		pass += v->rows[i].state == VERDICT_PASS;
	}
	return pass > 0;
}

static const char *state_name(int s)
{
	return s == VERDICT_PASS ? "ok" : s == VERDICT_INFO ? "info" : "FAIL";
}

void verdict_print_table(const struct verdict *v, FILE *f)
{
	for (int i = 0; i < v->n; i++) {
		const struct verdict_row *r = &v->rows[i];
		if (r->state == VERDICT_INFO)
			fprintf(f, "%-4s  %-24s %s\n", state_name(r->state), r->name, r->seen);
		else
			fprintf(f, "%-4s  %-24s expected %s, seen %s\n", state_name(r->state),
				r->name, r->expected, r->seen);
	}
	fprintf(f, "verdict: %s\n", verdict_ok(v) ? "PASS" : "FAIL");
}

int verdict_print_json(const struct verdict *v, FILE *f)
{
	cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "checks");
	struct buf out;
	struct ng_err err;
	int rc;

	for (int i = 0; arr && i < v->n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "check", v->rows[i].name);
		cJSON_AddStringToObject(o, "status", state_name(v->rows[i].state));
		cJSON_AddStringToObject(o, "expected", v->rows[i].expected);
		cJSON_AddStringToObject(o, "seen", v->rows[i].seen);
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddBoolToObject(root, "ok", verdict_ok(v));
	buf_init(&out, 0);
	rc = jsonw_print(root, &JSONW_PRETTY_SORTED, &out, &err);
	cJSON_Delete(root);
	if (rc == 0 && !out.oom)
		fprintf(f, "%s\n", (char *)out.data);
	buf_free(&out);
	return rc;
}
