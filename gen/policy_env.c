/* policy_env.c: a container's env_rules (../shared/research/confcom-policy.md
 * §2 "env_rules"), confcom's rules plus nutgen mode's (policy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/buf.h"
#include "arm_expr.h"
#include "policy_int.h"

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

static int template_env(const struct policy_ctx *c, const cJSON *envs, cJSON *rules,
			struct ng_err *err)
{
	const cJSON *ev;
	const cJSON *thim = policy_prof(c, "thim_endpoint");
	if (!envs)
		return 0;
	if (!cJSON_IsArray(envs) || cJSON_GetArraySize(envs) > POLICY_MAX_ITEMS)
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
		if (arm_py_str(val, &vb) < 0 || vb.oom) {
			buf_free(&vb);
			return ng_errf(err, NG_EINVAL,
				       "container %s: environment variable %s: value must be a "
				       "string, number or bool",
				       c->cname, name->valuestring);
		}
		if (policy_resolve(c, (char *)vb.data, &res, &unres, err) < 0) {
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

static int image_env(const struct policy_ctx *c, const cJSON *cfg, cJSON *rules, struct ng_err *err)
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

static void injected_env(const struct policy_ctx *c, cJSON *rules)
{
	const cJSON *r;
	cJSON *before = cJSON_Duplicate(rules, 1);
	cJSON_ArrayForEach(r, policy_prof(c, "injected_env_rules"))
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

int policy_env_rules(const struct policy_ctx *c, const cJSON *props, const cJSON *cfg, cJSON *rules,
		     struct ng_err *err)
{
	if (template_env(c, cJSON_GetObjectItem(props, "environmentVariables"), rules, err) < 0 ||
	    image_env(c, cfg, rules, err) < 0)
		return -1;
	injected_env(c, rules);
	if (cJSON_IsTrue(policy_prof(c, "sort_env_rules")))
		sort_rules(rules);
	return 0;
}
