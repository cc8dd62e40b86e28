/* policy_int.h: what the policy modules (policy.c, policy_env.c,
 * policy_text.c) share internally; not an interface for other modules (that is policy.h). */
#ifndef NG_POLICY_INT_H
#define NG_POLICY_INT_H

#include "policy.h"

#define POLICY_MAX_ITEMS 4096

struct policy_ctx {
	const cJSON *arm;
	const cJSON *const *images;
	size_t nimages;
	const struct policy_opts *o;
	const char *cname; /* container name for messages */
};

/* A profile constant (policy_profile_check guarantees it exists). */
const cJSON *policy_prof(const struct policy_ctx *c, const char *key);
/* arm_expr_resolve with the context's template, parameters and name. */
int policy_resolve(const struct policy_ctx *c, const char *s, char **out, int *unresolved,
		   struct ng_err *err);
/* env_rules of one container (confcom-policy.md §2 env_rules): template env,
 * image env, injected ACI rules, sorted when the profile says so. */
int policy_env_rules(const struct policy_ctx *c, const cJSON *props, const cJSON *cfg, cJSON *rules,
		     struct ng_err *err);

/* 1 when s is a non-empty run of decimal digits (a numeric user or group id). */
int policy_all_digits(const char *s);
/* 0 when l is absent, null, or a list of at most 128 strings; -1 otherwise. */
int policy_check_str_list(const cJSON *l);

#endif
