/* arm_expr.c: see arm_expr.h. */
#include "arm_expr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/buf.h"

static int find_token(const char *s, size_t *start, size_t *end, char *name, size_t namecap)
{
	for (size_t i = 0; s[i]; i++) {
		size_t j;
		if (s[i] != '[')
			continue;
		if (!strncmp(s + i + 1, "parameters(", 11))
			j = i + 12;
		else if (!strncmp(s + i + 1, "variables(", 10))
			j = i + 11;
		else
			continue;
		while (isspace((unsigned char)s[j]))
			j++;
		if (s[j] != '\'')
			continue;
		j++;
		size_t ns = j;
		for (size_t k = ns; s[k] && s[k] != '.' && s[k] != '/'; k++) {
			size_t m;
			if (k == ns || s[k] != '\'')
				continue;
			m = k + 1;
			while (isspace((unsigned char)s[m]))
				m++;
			if (s[m] == ')' && s[m + 1] == ']') {
				if (k - ns >= namecap)
					return -1;
				memcpy(name, s + ns, k - ns);
				name[k - ns] = 0;
				*start = i;
				*end = m + 2;
				return 1;
			}
		}
	}
	return 0;
}

const cJSON *arm_lookup_ci(const cJSON *obj, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) if (it->string && !strcasecmp(it->string, name)) return it;
	return NULL;
}

/* Python str() of a JSON scalar. */
int arm_py_str(const cJSON *v, struct buf *b)
{
	if (cJSON_IsString(v))
		return buf_puts(b, v->valuestring);
	if (cJSON_IsBool(v))
		return buf_puts(b, cJSON_IsTrue(v) ? "True" : "False");
	if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		return buf_printf(b, "%lld", (long long)v->valuedouble);
	return -1;
}

int arm_expr_resolve(const cJSON *arm, const cJSON *given_params, const char *who, const char *s,
		     char **out, int *unresolved, struct ng_err *err)
{
	char name[256];
	size_t a, e;
	int f = find_token(s, &a, &e, name, sizeof(name));
	const cJSON *v = NULL;
	struct buf b;

	*out = NULL;
	*unresolved = 0;
	if (f < 0)
		return ng_errf(err, NG_ELIMIT, "container %s: parameter name too long", who);
	if (f == 0) {
		*out = strdup(s);
		return *out ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	}
	if (strstr(s, "parameters")) {
		const cJSON *p =
		    arm_lookup_ci(cJSON_GetObjectItemCaseSensitive(arm, "parameters"), name);
		if (!p)
			return ng_errf(
			    err, NG_EINVAL,
			    "container %s: parameter '%s' is not declared in the template", who,
			    name);
		const cJSON *given = arm_lookup_ci(given_params, name);
		if (given) {
			/* confcom -p: a falsy value falls through to secureValue,
			 * and without one counts as undefined (§3 quirks). */
			v = cJSON_GetObjectItemCaseSensitive(given, "value");
			if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v) ||
			    (cJSON_IsString(v) && !*v->valuestring) ||
			    (cJSON_IsNumber(v) && v->valuedouble == 0))
				v = cJSON_GetObjectItemCaseSensitive(given, "secureValue");
		} else {
			v = cJSON_GetObjectItemCaseSensitive(p, "value");
			if (!v || cJSON_IsNull(v))
				v = cJSON_GetObjectItemCaseSensitive(p, "defaultValue");
		}
	} else {
		v = arm_lookup_ci(cJSON_GetObjectItemCaseSensitive(arm, "variables"), name);
	}
	if (!v || cJSON_IsNull(v)) {
		*unresolved = 1;
		*out = strdup(s);
		return *out ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	}
	buf_init(&b, 1u << 20);
	buf_append(&b, s, a);
	if (arm_py_str(v, &b) < 0) {
		buf_free(&b);
		return ng_errf(err, NG_EINVAL,
			       "container %s: parameter '%s' is not a string, number or bool", who,
			       name);
	}
	buf_puts(&b, s + e);
	if (b.oom) {
		buf_free(&b);
		return ng_errf(err, NG_ELIMIT, "container %s: value too long", who);
	}
	*out = buf_steal(&b);
	return 0;
}
