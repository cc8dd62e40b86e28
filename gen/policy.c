/* policy.c: confcom's ARM → CCE policy translation. Section numbers refer to
 * ../shared/research/confcom-policy.md. */
#include "policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/jsonw.h"
#include "templates.h"

#define POLICY_MAX     (16u << 20)
#define MAX_CONTAINERS 64
#define MAX_ITEMS      4096

struct ctx {
	const cJSON *arm;
	const cJSON *const *images;
	size_t nimages;
	const struct policy_opts *o;
	const char *cname; /* container name for messages */
};

int policy_profile_load(const char *name, cJSON **out, struct ng_err *err)
{
	char rel[128];

	*out = NULL;
	if (!name || !*name || strlen(name) > 64)
		return ng_errf(err, NG_EUSAGE, "profile name is empty or too long");
	for (const char *p = name; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '.' &&
		    *p != '-')
			return ng_errf(
			    err, NG_EUSAGE,
			    "profile '%s': unknown (see nutgen policy --help for the list)", name);
	if (strstr(name, ".."))
		return ng_errf(err, NG_EUSAGE, "profile '%s': unknown", name);
	snprintf(rel, sizeof(rel), "policy/profiles/%s.json", name);
	return templates_json(rel, out, err);
}

static const cJSON *prof(const struct ctx *c, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(c->o->profile, key);
}

/* ARM expression substitution (§3): only the first whole-token
 * [parameters('x')] or [variables('x')] in a string is replaced. Returns 0
 * and a malloc'd result, sets *unresolved when the value is undefined. */
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

static const cJSON *lookup_ci(const cJSON *obj, const char *name)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, obj) if (it->string && !strcasecmp(it->string, name)) return it;
	return NULL;
}

/* Python str() of a JSON scalar. */
static int py_str(const cJSON *v, struct buf *b)
{
	if (cJSON_IsString(v))
		return buf_puts(b, v->valuestring);
	if (cJSON_IsBool(v))
		return buf_puts(b, cJSON_IsTrue(v) ? "True" : "False");
	if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
		return buf_printf(b, "%lld", (long long)v->valuedouble);
	return -1;
}

static int resolve(const struct ctx *c, const char *s, char **out, int *unresolved,
		   struct ng_err *err)
{
	char name[256];
	size_t a, e;
	int f = find_token(s, &a, &e, name, sizeof(name));
	const cJSON *v = NULL;
	struct buf b;

	*out = NULL;
	*unresolved = 0;
	if (f < 0)
		return ng_errf(err, NG_ELIMIT, "container %s: parameter name too long", c->cname);
	if (f == 0) {
		*out = strdup(s);
		return *out ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	}
	if (strstr(s, "parameters")) {
		const cJSON *p =
		    lookup_ci(cJSON_GetObjectItemCaseSensitive(c->arm, "parameters"), name);
		if (!p)
			return ng_errf(
			    err, NG_EINVAL,
			    "container %s: parameter '%s' is not declared in the template",
			    c->cname, name);
		v = cJSON_GetObjectItemCaseSensitive(p, "value");
		if (!v || cJSON_IsNull(v))
			v = cJSON_GetObjectItemCaseSensitive(p, "defaultValue");
	} else {
		v = lookup_ci(cJSON_GetObjectItemCaseSensitive(c->arm, "variables"), name);
	}
	if (!v || cJSON_IsNull(v)) {
		*unresolved = 1;
		*out = strdup(s);
		return *out ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	}
	buf_init(&b, 1u << 20);
	buf_append(&b, s, a);
	if (py_str(v, &b) < 0) {
		buf_free(&b);
		return ng_errf(err, NG_EINVAL,
			       "container %s: parameter '%s' is not a string, number or bool",
			       c->cname, name);
	}
	buf_puts(&b, s + e);
	if (b.oom) {
		buf_free(&b);
		return ng_errf(err, NG_ELIMIT, "container %s: value too long", c->cname);
	}
	*out = buf_steal(&b);
	return 0;
}

static int resolve_str(const struct ctx *c, const cJSON *v, const char *what, char **out,
		       struct ng_err *err)
{
	int unres;
	if (!cJSON_IsString(v))
		return ng_errf(err, NG_EINVAL, "container %s: %s must be a string", c->cname, what);
	if (resolve(c, v->valuestring, out, &unres, err) < 0)
		return -1;
	if (unres && c->o->strict) {
		free(*out);
		*out = NULL;
		return ng_errf(err, NG_EINVAL, "container %s: %s has an unresolved parameter",
			       c->cname, what);
	}
	return 0;
}

/* A list of strings with expressions resolved, or NULL on error. */
static cJSON *resolve_list(const struct ctx *c, const cJSON *list, const char *what,
			   struct ng_err *err)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *it;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > MAX_ITEMS) {
		cJSON_Delete(out);
		ng_errf(err, NG_EINVAL, "container %s: %s must be a list of strings", c->cname,
			what);
		return NULL;
	}
	cJSON_ArrayForEach(it, list)
	{
		char *s;
		if (resolve_str(c, it, what, &s, err) < 0) {
			cJSON_Delete(out);
			return NULL;
		}
		cJSON_AddItemToArray(out, cJSON_CreateString(s));
		free(s);
	}
	return out;
}

static cJSON *env_rule(const char *name, const char *value, const char *strategy, int required)
{
	cJSON *r = cJSON_CreateObject();
	size_t n = strlen(name) + strlen(value) + 2;
	char *p = malloc(n);
	if (!p || !r) {
		free(p);
		cJSON_Delete(r);
		return NULL;
	}
	snprintf(p, n, "%s=%s", name, value);
	cJSON_AddStringToObject(r, "pattern", p);
	cJSON_AddStringToObject(r, "strategy", strategy);
	cJSON_AddBoolToObject(r, "required", required);
	free(p);
	return r;
}

/* The text before the first '=' of an existing rule equals name (§2 env). */
static int env_has_name(const cJSON *rules, const char *name)
{
	const cJSON *r;
	size_t n = strlen(name);
	cJSON_ArrayForEach(r, rules)
	{
		const char *p = cJSON_GetObjectItemCaseSensitive(r, "pattern")->valuestring;
		const char *eq = strchr(p, '=');
		size_t pn = eq ? (size_t)(eq - p) : strlen(p);
		if (pn == n && !memcmp(p, name, n))
			return 1;
	}
	return 0;
}

static int template_env(const struct ctx *c, const cJSON *envs, cJSON *rules, struct ng_err *err)
{
	const cJSON *ev;
	const cJSON *thim = prof(c, "thim_endpoint");
	if (!envs)
		return 0;
	if (!cJSON_IsArray(envs) || cJSON_GetArraySize(envs) > MAX_ITEMS)
		return ng_errf(err, NG_EINVAL, "container %s: environmentVariables must be a list",
			       c->cname);
	cJSON_ArrayForEach(ev, envs)
	{
		const cJSON *name = cJSON_GetObjectItem(ev, "name");
		const cJSON *val = cJSON_GetObjectItem(ev, "value");
		const cJSON *sec = cJSON_GetObjectItem(ev, "secureValue");
		struct buf vb;
		char *res = NULL;
		int unres = 0;
		cJSON *rule;

		if (!cJSON_IsString(name) || !*name->valuestring || strchr(name->valuestring, '='))
			return ng_errf(err, NG_EINVAL,
				       "container %s: an environment variable has no valid name",
				       c->cname);
		if (!val || cJSON_IsNull(val)) {
			if (c->o->strict && sec && !cJSON_IsNull(sec)) {
				/* A secret never enters the public policy: admit any
				 * value for this one name. */
				cJSON_AddItemToArray(rules,
						     env_rule(name->valuestring, ".*", "re2", 1));
				continue;
			}
			val = sec;
		}
		if (!val || cJSON_IsNull(val))
			return ng_errf(err, NG_EINVAL,
				       "container %s: environment variable %s has no value",
				       c->cname, name->valuestring);
		buf_init(&vb, 1u << 20);
		if (py_str(val, &vb) < 0 || vb.oom) {
			buf_free(&vb);
			return ng_errf(err, NG_EINVAL,
				       "container %s: environment variable %s: value must be a "
				       "string, number or bool",
				       c->cname, name->valuestring);
		}
		if (resolve(c, (char *)vb.data, &res, &unres, err) < 0) {
			buf_free(&vb);
			return -1;
		}
		buf_free(&vb);
		if (unres) {
			free(res);
			if (c->o->strict)
				return ng_errf(err, NG_EINVAL,
					       "container %s: environment variable %s has an "
					       "unresolved parameter",
					       c->cname, name->valuestring);
			rule = env_rule(name->valuestring, ".*", "re2", 0);
		} else if (thim &&
			   !strcmp(name->valuestring,
				   cJSON_GetObjectItem(thim, "name")->valuestring) &&
			   strlen(res) == 32 && !strncmp(res, "===CONFIDENTIAL", 15) &&
			   res[15] != '\n' && !strncmp(res + 16, "THIM", 4) && res[20] != '\n' &&
			   !strcmp(res + 21, "ENDPOINT===")) {
			/* ^===CONFIDENTIAL.THIM.ENDPOINT===$ */
			free(res);
			rule = env_rule(name->valuestring, ".*", "re2", 0);
		} else {
			/* nutgen mode: a pinned value must be present as
			 * given. With allow_environment_variable_dropping the
			 * framework would otherwise drop a changed value and
			 * start the container without it (framework.rego
			 * valid_envs_for_all, env_required_rule_ok). Empty
			 * values stay optional. */
			rule = env_rule(name->valuestring, res, "string", c->o->strict && *res);
			free(res);
		}
		cJSON_AddItemToArray(rules, rule);
	}
	return 0;
}

static int image_env(const struct ctx *c, const cJSON *cfg, cJSON *rules, struct ng_err *err)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(cfg, "Env");
	const cJSON *e;
	cJSON *before = cJSON_Duplicate(rules, 1);
	if (!env || cJSON_IsNull(env)) {
		cJSON_Delete(before);
		return 0;
	}
	cJSON_ArrayForEach(e, env)
	{
		const char *eq;
		char *n;
		if (!cJSON_IsString(e) || !(eq = strchr(e->valuestring, '='))) {
			cJSON_Delete(before);
			return ng_errf(err, NG_EINVAL,
				       "image facts for %s: Env entries must be NAME=VALUE strings",
				       c->cname);
		}
		n = strndup(e->valuestring, (size_t)(eq - e->valuestring));
		if (!env_has_name(before, n))
			cJSON_AddItemToArray(rules, env_rule(n, eq + 1, "string", 0));
		free(n);
	}
	cJSON_Delete(before);
	return 0;
}

static void injected_env(const struct ctx *c, cJSON *rules)
{
	const cJSON *r;
	cJSON *before = cJSON_Duplicate(rules, 1);
	cJSON_ArrayForEach(r, prof(c, "injected_env_rules"))
	{
		const char *n = cJSON_GetObjectItem(r, "name")->valuestring;
		if (!env_has_name(before, n))
			cJSON_AddItemToArray(
			    rules, env_rule(n, cJSON_GetObjectItem(r, "value")->valuestring,
					    cJSON_GetObjectItem(r, "strategy")->valuestring,
					    cJSON_IsTrue(cJSON_GetObjectItem(r, "required"))));
	}
	cJSON_Delete(before);
}

static int cmp_pattern(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(cJSON_GetObjectItem(x, "pattern")->valuestring,
		      cJSON_GetObjectItem(y, "pattern")->valuestring);
}

static void sort_rules(cJSON *rules)
{
	int n = cJSON_GetArraySize(rules);
	cJSON **v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return;
	for (int i = n - 1; i >= 0; i--)
		v[i] = cJSON_DetachItemFromArray(rules, i);
	qsort(v, (size_t)n, sizeof(*v), cmp_pattern);
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(rules, v[i]);
	free(v);
}

static cJSON *mount(const char *dest, const char *source, int ro)
{
	cJSON *m = cJSON_CreateObject();
	cJSON *opts = cJSON_AddArrayToObject(m, "options");
	cJSON_AddStringToObject(m, "destination", dest);
	cJSON_AddItemToArray(opts, cJSON_CreateString("rbind"));
	cJSON_AddItemToArray(opts, cJSON_CreateString("rshared"));
	cJSON_AddItemToArray(opts, cJSON_CreateString(ro ? "ro" : "rw"));
	cJSON_AddStringToObject(m, "source", source);
	cJSON_AddStringToObject(m, "type", "bind");
	return m;
}

static int mounts(const struct ctx *c, const cJSON *cprops, const cJSON *volumes, cJSON *out,
		  struct ng_err *err)
{
	const cJSON *vms = cJSON_GetObjectItem(cprops, "volumeMounts"), *vm, *d;
	const cJSON *srcs = prof(c, "mount_sources"), *types = prof(c, "mount_volume_types");
	if (vms && !cJSON_IsNull(vms) && !cJSON_IsArray(vms))
		return ng_errf(err, NG_EINVAL, "container %s: volumeMounts must be a list",
			       c->cname);
	cJSON_ArrayForEach(vm, vms)
	{
		const cJSON *vname = cJSON_GetObjectItem(vm, "name");
		const cJSON *ro = cJSON_GetObjectItem(vm, "readOnly");
		const cJSON *path = cJSON_GetObjectItem(vm, "mountPath");
		const cJSON *vol = NULL, *v, *k;
		const char *kind = NULL;
		char *dest;
		if (!cJSON_IsString(vname) || !cJSON_IsString(path))
			return ng_errf(err, NG_EINVAL,
				       "container %s: a volumeMount needs name and mountPath",
				       c->cname);
		if (ro && !cJSON_IsBool(ro) && !cJSON_IsNull(ro))
			return ng_errf(
			    err, NG_EINVAL,
			    "container %s: volumeMount %s: readOnly must be true or false",
			    c->cname, vname->valuestring);
		cJSON_ArrayForEach(v, volumes)
		{
			const cJSON *n = cJSON_GetObjectItem(v, "name");
			if (cJSON_IsString(n) && !strcmp(n->valuestring, vname->valuestring)) {
				vol = v;
				break;
			}
		}
		if (!vol)
			return ng_errf(err, NG_EINVAL,
				       "container %s: volumeMount %s names no volume of the group",
				       c->cname, vname->valuestring);
		/* The volume's type is its last key that is a known type. */
		cJSON_ArrayForEach(k, vol)
		{
			const cJSON *t;
			cJSON_ArrayForEach(t, types) if (k->string &&
							 !strcmp(k->string, t->valuestring)) kind =
			    t->valuestring;
		}
		if (!kind)
			return ng_errf(err, NG_EINVAL, "volume %s: no known volume type",
				       vname->valuestring);
		if (resolve_str(c, path, "mountPath", &dest, err) < 0)
			return -1;
		cJSON_AddItemToArray(
		    out, mount(dest, cJSON_GetObjectItemCaseSensitive(srcs, kind)->valuestring,
			       cJSON_IsTrue(ro)));
		free(dest);
	}
	if (cJSON_GetObjectItem(cprops, "configMap"))
		cJSON_AddItemToArray(
		    out, mount("/mnt/configmap",
			       cJSON_GetObjectItemCaseSensitive(srcs, "emptyDir")->valuestring, 0));
	cJSON_ArrayForEach(d, prof(c, "default_mounts"))
	    cJSON_AddItemToArray(out, cJSON_Duplicate(d, 1));
	return 0;
}

static int exec_processes(const struct ctx *c, const cJSON *cprops, cJSON *out, struct ng_err *err)
{
	static const char *const probes[] = {"readinessProbe", "livenessProbe"};
	const cJSON *d;
	for (int i = 0; i < 2; i++) {
		const cJSON *p = cJSON_GetObjectItem(cprops, probes[i]);
		const cJSON *ex = p ? cJSON_GetObjectItem(p, "exec") : NULL;
		cJSON *e, *cmd;
		if (!ex || cJSON_IsNull(ex))
			continue;
		cmd = resolve_list(c, cJSON_GetObjectItem(ex, "command"), probes[i], err);
		if (!cmd)
			return -1;
		e = cJSON_CreateObject();
		cJSON_AddItemToObject(e, "command", cmd);
		cJSON_AddArrayToObject(e, "signals");
		if (cJSON_IsTrue(prof(c, "dedupe_exec_processes"))) {
			const cJSON *x;
			int dup = 0;
			cJSON_ArrayForEach(x, out) dup |= cJSON_Compare(x, e, 1);
			if (dup) {
				cJSON_Delete(e);
				continue;
			}
		}
		cJSON_AddItemToArray(out, e);
	}
	if (c->o->debug)
		cJSON_ArrayForEach(d, prof(c, "debug_exec_processes"))
		    cJSON_AddItemToArray(out, cJSON_Duplicate(d, 1));
	return 0;
}

static int truthy(const cJSON *v, int dflt, int *out)
{
	if (!v || cJSON_IsNull(v))
		*out = dflt;
	else if (cJSON_IsBool(v))
		*out = cJSON_IsTrue(v);
	else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "true"))
		*out = 1;
	else if (cJSON_IsString(v) && !strcasecmp(v->valuestring, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* base + add - drop, de-duplicated and sorted (§2 capabilities). */
static cJSON *cap_list(const cJSON *base, const cJSON *add, const cJSON *drop)
{
	const char *v[256];
	size_t n = 0;
	const cJSON *it;
	cJSON *out = cJSON_CreateArray();
	const cJSON *srcs[2] = {base, add};
	for (int s = 0; s < 2; s++)
		cJSON_ArrayForEach(it, srcs[s])
		{
			const cJSON *d;
			int dropped = 0, dup = 0;
			cJSON_ArrayForEach(d, drop) dropped |=
			    !strcmp(d->valuestring, it->valuestring);
			for (size_t i = 0; i < n; i++)
				dup |= !strcmp(v[i], it->valuestring);
			if (!dropped && !dup && n < 256)
				v[n++] = it->valuestring;
		}
	qsort(v, n, sizeof(v[0]), cmp_str);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(out, cJSON_CreateString(v[i]));
	return out;
}

static int check_str_list(const cJSON *l)
{
	const cJSON *it;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > 128)
		return -1;
	cJSON_ArrayForEach(it, l) if (!cJSON_IsString(it)) return -1;
	return 0;
}

static int capabilities(const struct ctx *c, const cJSON *sc, int priv, cJSON *ctr,
			struct ng_err *err)
{
	const cJSON *caps = sc ? cJSON_GetObjectItem(sc, "capabilities") : NULL;
	const cJSON *add = caps ? cJSON_GetObjectItem(caps, "add") : NULL;
	const cJSON *drop = caps ? cJSON_GetObjectItem(caps, "drop") : NULL;
	const cJSON *base = prof(c, priv ? "privileged_capabilities" : "unprivileged_capabilities");
	cJSON *empty = cJSON_CreateArray();
	cJSON *o;
	if (check_str_list(add) < 0 || check_str_list(drop) < 0) {
		cJSON_Delete(empty);
		return ng_errf(err, NG_EINVAL,
			       "container %s: capabilities add/drop must be lists of strings",
			       c->cname);
	}
	o = cJSON_AddObjectToObject(ctr, "capabilities");
	cJSON_AddItemToObject(o, "ambient", cap_list(empty, empty, drop));
	cJSON_AddItemToObject(o, "bounding", cap_list(base, add, drop));
	cJSON_AddItemToObject(o, "effective", cap_list(base, add, drop));
	cJSON_AddItemToObject(o, "inheritable",
			      priv ? cap_list(base, add, drop) : cap_list(empty, empty, drop));
	cJSON_AddItemToObject(o, "permitted", cap_list(base, add, drop));
	cJSON_Delete(empty);
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static cJSON *idname(const char *pattern, const char *strategy)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pattern", pattern);
	cJSON_AddStringToObject(o, "strategy", strategy);
	return o;
}

static int run_as(const struct ctx *c, const cJSON *v, const char *what, char *out, size_t cap,
		  struct ng_err *err)
{
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 4294967295.0 ||
	    v->valuedouble != (double)(long long)v->valuedouble)
		return ng_errf(err, NG_EINVAL,
			       "container %s: securityContext.%s must be a non-negative integer",
			       c->cname, what);
	snprintf(out, cap, "%lld", (long long)v->valuedouble);
	return 1;
}

static int user(const struct ctx *c, const cJSON *sc, const cJSON *cfg, cJSON *ctr,
		struct ng_err *err)
{
	char u[32], g[32];
	int hu, hg;
	cJSON *usr = cJSON_Duplicate(prof(c, "default_user"), 1);
	const cJSON *iu = cJSON_GetObjectItemCaseSensitive(cfg, "User");
	cJSON_AddItemToObject(ctr, "user", usr);
	if ((hu = run_as(c, sc ? cJSON_GetObjectItem(sc, "runAsUser") : NULL, "runAsUser", u,
			 sizeof(u), err)) < 0 ||
	    (hg = run_as(c, sc ? cJSON_GetObjectItem(sc, "runAsGroup") : NULL, "runAsGroup", g,
			 sizeof(g), err)) < 0)
		return -1;
	if (hu)
		cJSON_ReplaceItemInObject(usr, "user_idname", idname(u, "id"));
	if (hg)
		cJSON_ReplaceItemInArray(cJSON_GetObjectItem(usr, "group_idnames"), 0,
					 idname(g, "id"));
	if (hu || hg || !cJSON_IsString(iu) || !*iu->valuestring)
		return 0;
	/* Image USER "name[:group]" applies only when the template set none. */
	{
		char *s = strdup(iu->valuestring), *colon = strchr(s, ':');
		if (colon)
			*colon = 0;
		cJSON_ReplaceItemInObject(usr, "user_idname",
					  idname(s, all_digits(s) ? "id" : "name"));
		if (colon)
			cJSON_ReplaceItemInArray(
			    cJSON_GetObjectItem(usr, "group_idnames"), 0,
			    idname(colon + 1, all_digits(colon + 1) ? "id" : "name"));
		free(s);
	}
	return 0;
}

static cJSON *signals(const struct ctx *c, const cJSON *cfg)
{
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(cfg, "StopSignal");
	cJSON *out;
	if (cJSON_IsString(ss) && *ss->valuestring) {
		const cJSON *n =
		    cJSON_GetObjectItemCaseSensitive(prof(c, "signal_names"), ss->valuestring);
		out = cJSON_CreateArray();
		/* confcom keeps an unknown or numeric name as the string. */
		cJSON_AddItemToArray(out, cJSON_IsNumber(n) ? cJSON_CreateNumber(n->valuedouble)
							    : cJSON_CreateString(ss->valuestring));
		return out;
	}
	return cJSON_Duplicate(prof(c, "container_signals"), 1);
}

int policy_json_unique_keys(const cJSON *j, const char *name, int depth, struct ng_err *err)
{
	const cJSON *it;
	if (depth > 64)
		return ng_errf(err, NG_ELIMIT, "%s: JSON nested deeper than 64 levels", name);
	cJSON_ArrayForEach(it, j)
	{
		if (cJSON_IsObject(j))
			for (const cJSON *p = j->child; p != it; p = p->next)
				if (!strcmp(p->string, it->string))
					return ng_errf(err, NG_EINVAL,
						       "%s: duplicate key \"%s\" (ambiguous: "
						       "Python keeps the last, we refuse)",
						       name, it->string);
		if ((cJSON_IsObject(it) || cJSON_IsArray(it)) &&
		    policy_json_unique_keys(it, name, depth + 1, err) < 0)
			return -1;
	}
	return 0;
}

int policy_image_facts_check(const cJSON *f, const char *name, struct ng_err *err)
{
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(f, "image");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(f, "config");
	const cJSON *lay = cJSON_GetObjectItemCaseSensitive(f, "layer_roothashes"), *it;
	static const char *const strs[] = {"WorkingDir", "User", "StopSignal"};
	static const char *const lists[] = {"Env", "Entrypoint", "Cmd"};
	if (!cJSON_IsObject(f) || !cJSON_IsString(img) || !*img->valuestring)
		return ng_errf(err, NG_EINVAL, "%s: image facts need a string \"image\"", name);
	if (policy_json_unique_keys(f, name, 0, err) < 0)
		return -1;
	if (cfg && !cJSON_IsNull(cfg) && !cJSON_IsObject(cfg))
		return ng_errf(err, NG_EINVAL, "%s: \"config\" must be an object", name);
	for (int i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, strs[i]);
		if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
			return ng_errf(err, NG_EINVAL, "%s: config.%s must be a string or null",
				       name, strs[i]);
	}
	for (int i = 0; i < 3; i++)
		if (check_str_list(cJSON_GetObjectItemCaseSensitive(cfg, lists[i])) < 0)
			return ng_errf(err, NG_EINVAL,
				       "%s: config.%s must be a list of strings or null", name,
				       lists[i]);
	if (!cJSON_IsArray(lay) || cJSON_GetArraySize(lay) < 1 || cJSON_GetArraySize(lay) > 256)
		return ng_errf(err, NG_EINVAL, "%s: layer_roothashes must list 1 to 256 hashes",
			       name);
	cJSON_ArrayForEach(it, lay)
	{
		const char *s = cJSON_IsString(it) ? it->valuestring : "";
		size_t n = strlen(s);
		int ok = n == 64;
		for (size_t i = 0; ok && i < n; i++)
			ok = isdigit((unsigned char)s[i]) || (s[i] >= 'a' && s[i] <= 'f');
		if (!ok)
			return ng_errf(
			    err, NG_EINVAL,
			    "%s: layer_roothashes entries must be 64 lowercase hex digits", name);
	}
	return 0;
}

static const cJSON *find_image(const struct ctx *c, const char *image)
{
	for (size_t i = 0; i < c->nimages; i++) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c->images[i], "image");
		if (cJSON_IsString(n) && !strcmp(n->valuestring, image))
			return c->images[i];
	}
	return NULL;
}

static int build_container(struct ctx *c, const cJSON *ctn, const cJSON *volumes, cJSON **out,
			   struct ng_err *err)
{
	const cJSON *props = cJSON_GetObjectItem(ctn, "properties");
	const cJSON *sc, *facts, *cfg, *tcmd;
	char *image = NULL, *name = NULL;
	cJSON *ctr = NULL, *rules, *cmd = NULL;
	int priv, nnp, rc = -1;

	*out = NULL;
	c->cname = "?";
	if (!cJSON_IsObject(props))
		return ng_errf(err, NG_EINVAL, "a container has no properties object");
	if (resolve_str(c, cJSON_GetObjectItem(ctn, "name"), "name", &name, err) < 0)
		return -1;
	c->cname = name;
	if (resolve_str(c, cJSON_GetObjectItem(props, "image"), "image", &image, err) < 0)
		goto done;
	facts = find_image(c, image);
	if (!facts) {
		ng_errf(err, NG_ENOTFOUND,
			"container %s: no image facts for %s: pass --image-info with its facts",
			name, image);
		goto done;
	}
	cfg = cJSON_GetObjectItemCaseSensitive(facts, "config");
	sc = cJSON_GetObjectItem(props, "securityContext");
	if (sc && cJSON_IsNull(sc))
		sc = NULL;
	ctr = cJSON_CreateObject();

	if (truthy(sc ? cJSON_GetObjectItem(sc, "privileged") : NULL, 0, &priv) < 0) {
		ng_errf(err, NG_EINVAL, "container %s: privileged must be true or false", name);
		goto done;
	}
	if (truthy(sc ? cJSON_GetObjectItem(sc, "allowPrivilegeEscalation") : NULL, 1, &nnp) < 0) {
		ng_errf(err, NG_EINVAL,
			"container %s: allowPrivilegeEscalation must be true or false", name);
		goto done;
	}
	nnp = !nnp;
	cJSON_AddBoolToObject(ctr, "allow_elevated", priv);
	cJSON_AddBoolToObject(ctr, "allow_stdio_access", !c->o->disable_stdio);
	if (capabilities(c, sc, priv, ctr, err) < 0)
		goto done;

	/* command: the template's replaces ENTRYPOINT and CMD (§2). */
	tcmd = cJSON_GetObjectItem(props, "command");
	if (tcmd && !cJSON_IsNull(tcmd) && cJSON_GetArraySize(tcmd) > 0) {
		if (!(cmd = resolve_list(c, tcmd, "command", err)))
			goto done;
	} else if (tcmd && !cJSON_IsNull(tcmd) && !cJSON_IsArray(tcmd)) {
		ng_errf(err, NG_EINVAL, "container %s: command must be a list of strings", name);
		goto done;
	} else {
		const cJSON *ep = cJSON_GetObjectItemCaseSensitive(cfg, "Entrypoint");
		const cJSON *cm = cJSON_GetObjectItemCaseSensitive(cfg, "Cmd"), *it;
		cmd = cJSON_CreateArray();
		cJSON_ArrayForEach(it, ep) cJSON_AddItemToArray(cmd, cJSON_Duplicate(it, 0));
		cJSON_ArrayForEach(it, cm) cJSON_AddItemToArray(cmd, cJSON_Duplicate(it, 0));
		if (cJSON_GetArraySize(cmd) == 0) {
			cJSON_Delete(cmd);
			if (c->o->strict) {
				ng_errf(
				    err, NG_EINVAL,
				    "container %s: neither the deployment nor image %s gives a "
				    "command, so the policy could never admit it: set its command",
				    name, image);
				cmd = NULL;
				goto done;
			}
			cmd = cJSON_CreateNull();
		}
	}
	cJSON_AddItemToObject(ctr, "command", cmd);

	rules = cJSON_AddArrayToObject(ctr, "env_rules");
	if (template_env(c, cJSON_GetObjectItem(props, "environmentVariables"), rules, err) < 0 ||
	    image_env(c, cfg, rules, err) < 0)
		goto done;
	injected_env(c, rules);
	if (cJSON_IsTrue(prof(c, "sort_env_rules")))
		sort_rules(rules);

	if (exec_processes(c, props, cJSON_AddArrayToObject(ctr, "exec_processes"), err) < 0)
		goto done;
	cJSON_AddStringToObject(ctr, "id", image);
	cJSON_AddItemToObject(
	    ctr, "layers",
	    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(facts, "layer_roothashes"), 1));
	if (mounts(c, props, volumes, cJSON_AddArrayToObject(ctr, "mounts"), err) < 0)
		goto done;
	cJSON_AddStringToObject(ctr, "name", name);
	cJSON_AddBoolToObject(ctr, "no_new_privileges", nnp);
	{
		const cJSON *sp = sc ? cJSON_GetObjectItem(sc, "seccompProfile") : NULL;
		if (cJSON_IsString(sp)) {
			ng_errf(err, NG_EINVAL,
				"container %s: a seccompProfile string is not supported yet", name);
			goto done;
		}
		cJSON_AddStringToObject(ctr, "seccomp_profile_sha256", "");
	}
	cJSON_AddItemToObject(ctr, "signals", signals(c, cfg));
	if (user(c, sc, cfg, ctr, err) < 0)
		goto done;
	{
		const cJSON *wd = cJSON_GetObjectItemCaseSensitive(cfg, "WorkingDir");
		cJSON_AddStringToObject(ctr, "working_dir",
					cJSON_IsString(wd) && *wd->valuestring
					    ? wd->valuestring
					    : prof(c, "default_working_dir")->valuestring);
	}
	*out = ctr;
	ctr = NULL;
	rc = 0;
done:
	c->cname = "?";
	cJSON_Delete(ctr);
	free(image);
	free(name);
	return rc;
}

static int profile_check(const cJSON *p, struct ng_err *err)
{
	static const char *const keys[] = {"api_version",
					   "framework_version",
					   "rego_template",
					   "flags",
					   "bindings",
					   "fragments",
					   "injected_env_rules",
					   "mount_sources",
					   "mount_volume_types",
					   "default_mounts",
					   "default_working_dir",
					   "default_user",
					   "unprivileged_capabilities",
					   "privileged_capabilities",
					   "debug_exec_processes",
					   "signal_names",
					   "container_signals",
					   "pause_container"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!cJSON_GetObjectItemCaseSensitive(p, keys[i]))
			return ng_errf(err, NG_EINVAL, "policy profile: missing key %s", keys[i]);
	return 0;
}

int policy_arm_groups(const cJSON *arm, const cJSON ***groups, size_t *n, struct ng_err *err)
{
	const cJSON *res = cJSON_GetObjectItem(arm, "resources"), *r;
	size_t k = 0;
	*groups = NULL;
	*n = 0;
	if (policy_json_unique_keys(arm, "ARM template", 0, err) < 0)
		return -1;
	if (!cJSON_IsArray(res))
		return ng_errf(err, NG_EINVAL, "ARM template has no resources list");
	*groups = calloc((size_t)cJSON_GetArraySize(res) + 1, sizeof(**groups));
	if (!*groups)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	cJSON_ArrayForEach(r, res)
	{
		const cJSON *t = cJSON_GetObjectItem(r, "type");
		if (cJSON_IsString(t) &&
		    (!strcasecmp(t->valuestring, "Microsoft.ContainerInstance/containerGroups") ||
		     !strcasecmp(t->valuestring,
				 "Microsoft.ContainerInstance/containerGroupProfiles")))
			(*groups)[k++] = r;
	}
	if (!k) {
		free(*groups);
		*groups = NULL;
		return ng_errf(err, NG_EINVAL, "ARM template has no container group resource");
	}
	*n = k;
	return 0;
}

int policy_group_containers(const cJSON *arm, const cJSON *group, const cJSON *const *images,
			    size_t nimages, const struct policy_opts *o, cJSON **out,
			    struct ng_err *err)
{
	struct ctx c = {arm, images, nimages, o, "?"};
	const cJSON *props = cJSON_GetObjectItem(group, "properties");
	const cJSON *vols = props ? cJSON_GetObjectItem(props, "volumes") : NULL;
	static const char *const lists[] = {"containers", "initContainers"};
	cJSON *all, *pause;
	int total = 0;

	*out = NULL;
	if (profile_check(o->profile, err) < 0)
		return -1;
	if (!cJSON_IsObject(props))
		return ng_errf(err, NG_EINVAL, "container group has no properties");
	all = cJSON_CreateArray();
	for (int l = 0; l < 2; l++) {
		const cJSON *list = cJSON_GetObjectItem(props, lists[l]), *ctn;
		if (!list || cJSON_IsNull(list))
			continue;
		if (!cJSON_IsArray(list)) {
			cJSON_Delete(all);
			return ng_errf(err, NG_EINVAL, "container group: %s must be a list",
				       lists[l]);
		}
		cJSON_ArrayForEach(ctn, list)
		{
			cJSON *one;
			if (++total > MAX_CONTAINERS) {
				cJSON_Delete(all);
				return ng_errf(err, NG_ELIMIT,
					       "container group has more than %d containers",
					       MAX_CONTAINERS);
			}
			if (build_container(&c, ctn, vols, &one, err) < 0) {
				cJSON_Delete(all);
				return -1;
			}
			cJSON_AddItemToArray(all, one);
		}
	}
	if (!total) {
		cJSON_Delete(all);
		return ng_errf(err, NG_EINVAL, "container group has no containers");
	}
	pause = cJSON_Duplicate(prof(&c, "pause_container"), 1);
	cJSON_ReplaceItemInObject(pause, "allow_stdio_access", cJSON_CreateBool(!o->disable_stdio));
	cJSON_AddItemToArray(all, pause);
	*out = all;
	return 0;
}

static int fragments(const cJSON *group, const struct policy_opts *o, cJSON **out,
		     struct ng_err *err)
{
	const cJSON *tags = cJSON_GetObjectItem(group, "tags");
	const cJSON *zero = tags ? cJSON_GetObjectItem(tags, "Annotate-zero-sidecar") : NULL;
	const cJSON *f;
	cJSON *list = cJSON_CreateArray();
	int exclude = o->exclude_default_fragments ||
		      (cJSON_IsString(zero) && !strcasecmp(zero->valuestring, "true"));
	static const char *const keys[] = {"feed", "includes", "issuer", "minimum_svn"};

	if (!exclude)
		cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(o->profile, "fragments"))
		{
			cJSON *d = cJSON_Duplicate(f, 1);
			if (o->infra_svn)
				cJSON_ReplaceItemInObject(d, "minimum_svn",
							  cJSON_CreateString(o->infra_svn));
			cJSON_AddItemToArray(list, d);
		}
	cJSON_ArrayForEach(f, o->extra_fragments)
	{
		cJSON *d = cJSON_CreateObject();
		for (int i = 0; i < 4; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, keys[i]);
			if (!v || (i != 1 && !cJSON_IsString(v)) || (i == 1 && !cJSON_IsArray(v)) ||
			    (i == 3 && !all_digits(v->valuestring))) {
				cJSON_Delete(d);
				cJSON_Delete(list);
				return ng_errf(err, NG_EINVAL,
					       "fragment: %s missing or malformed (minimum_svn "
					       "must be a string of digits)",
					       keys[i]);
			}
			cJSON_AddItemToObject(d, keys[i], cJSON_Duplicate(v, 1));
		}
		cJSON_AddItemToArray(list, d);
	}
	*out = list;
	return 0;
}

static int subst(struct buf *out, const char *tpl, const char *const *keys, const char *const *vals,
		 size_t n)
{
	const char *p = tpl;
	while (*p) {
		const char *at = strchr(p, '@');
		size_t i;
		if (!at) {
			buf_puts(out, p);
			break;
		}
		buf_append(out, p, (size_t)(at - p));
		for (i = 0; i < n; i++)
			if (!strncmp(at, keys[i], strlen(keys[i])))
				break;
		if (i == n) {
			buf_append(out, at, 1);
			p = at + 1;
			continue;
		}
		buf_puts(out, vals[i]);
		p = at + strlen(keys[i]);
	}
	return out->oom ? -1 : 0;
}

int policy_group_text(const cJSON *arm, const cJSON *group, const cJSON *const *images,
		      size_t nimages, const struct policy_opts *o, char **out, struct ng_err *err)
{
	cJSON *containers = NULL, *frags = NULL;
	struct buf api, fw, fr, ct, fl, bi, text;
	char *tpl = NULL;
	const cJSON *f;
	int rc = -1;
	static const char *const keys[] = {"@API_VERSION@", "@FRAMEWORK_VERSION@",
					   "@FRAGMENTS@",   "@CONTAINERS@",
					   "@FLAGS@",	    "@BINDINGS@"};

	*out = NULL;
	buf_init(&api, 0);
	buf_init(&fw, 0);
	buf_init(&fr, POLICY_MAX);
	buf_init(&ct, POLICY_MAX);
	buf_init(&fl, 0);
	buf_init(&bi, 0);
	buf_init(&text, POLICY_MAX);
	if (policy_group_containers(arm, group, images, nimages, o, &containers, err) < 0 ||
	    fragments(group, o, &frags, err) < 0)
		goto done;
	if (templates_read(cJSON_GetObjectItem(o->profile, "rego_template")->valuestring, &tpl,
			   NULL, err) < 0)
		goto done;
	if (jsonw_print(cJSON_GetObjectItem(o->profile, "api_version"), &JSONW_COMPACT_SORTED, &api,
			err) < 0 ||
	    jsonw_print(cJSON_GetObjectItem(o->profile, "framework_version"), &JSONW_COMPACT_SORTED,
			&fw, err) < 0 ||
	    jsonw_print(frags, &JSONW_PRETTY_SORTED, &fr, err) < 0 ||
	    jsonw_print(containers, &JSONW_COMPACT_SORTED, &ct, err) < 0)
		goto done;
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(o->profile, "flags"))
	{
		const cJSON *v = cJSON_GetObjectItem(f, o->debug ? "debug_value" : "value");
		buf_printf(&fl, "%s := %s\n", cJSON_GetObjectItem(f, "name")->valuestring,
			   cJSON_IsTrue(v) ? "true" : "false");
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(o->profile, "bindings"))
	    buf_printf(&bi, "%s := data.framework.%s\n", f->valuestring, f->valuestring);
	{
		const char *vals[] = {(char *)api.data, (char *)fw.data, (char *)fr.data,
				      (char *)ct.data,	(char *)fl.data, (char *)bi.data};
		if (fl.oom || bi.oom || subst(&text, tpl, keys, vals, 6) < 0) {
			ng_errf(err, NG_ELIMIT, "policy larger than %u bytes", POLICY_MAX);
			goto done;
		}
	}
	*out = buf_steal(&text);
	rc = 0;
done:
	free(tpl);
	cJSON_Delete(containers);
	cJSON_Delete(frags);
	buf_free(&api);
	buf_free(&fw);
	buf_free(&fr);
	buf_free(&ct);
	buf_free(&fl);
	buf_free(&bi);
	buf_free(&text);
	return rc;
}

void policy_hostdata(const char *policy, char out[65])
{
	sha256_hex(policy, strlen(policy), out);
}
