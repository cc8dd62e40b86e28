/* policy.h: the CCE security policy of a container group, computed the way
 * `az confcom acipolicygen` computes it (../shared/research/confcom-policy.md),
 * byte for byte, from an ARM template and the facts of each image.
 *
 * A profile (templates/policy/profiles/NAME.json) holds every constant that
 * differs between confcom generations (§0): api version, fragments, default
 * signals, bindings, env rules, capability sets, the pause container. The
 * Rego text skeleton is templates/policy/<profile.rego_template>.
 *
 * Two modes:
 * - confcom mode (strict = 0) reproduces confcom, quirks included: a
 *   secureValue is copied into the policy, an unresolved parameter in an env
 *   value becomes NAME=.* (as with --approve-wildcards), a container without
 *   command gets "command": null.
 * - nutgen mode (strict = 1) renders what nutgen deploys: a secureValue
 *   becomes the wildcard rule NAME=.* for that one name and never appears in
 *   the policy; an unresolved parameter and "command": null are errors;
 *   every non-empty template value (and each secret's wildcard) is a
 *   `required` rule, so the guest denies a container whose pinned value was
 *   changed instead of silently dropping it (allow_environment_variable_
 *   dropping is on in every confcom profile). */
#ifndef NG_POLICY_H
#define NG_POLICY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "../bundle-format/err.h"

struct policy_opts {
	const cJSON *profile;	       /* policy_profile_load() result */
	int debug;		       /* confcom --debug-mode */
	int disable_stdio;	       /* confcom --disable-stdio */
	int exclude_default_fragments; /* confcom --exclude-default-fragments */
	const char *infra_svn;	       /* confcom --infrastructure-svn, NULL: the profile's */
	const cJSON *extra_fragments;  /* array of fragment objects appended (--fragments-json) */
	int strict;		       /* nutgen mode (see above) */
};

/* Loads templates/policy/profiles/<name>.json; name is [a-z0-9.-]+. */
int policy_profile_load(const char *name, cJSON **out, struct ng_err *err);

/* The containers list of one container group resource (§2): user and init
 * containers in template order, then the pause container. images is an
 * array of image-facts objects ({"image", "config", "layer_roothashes"})
 * looked up by the container's resolved image string. */
int policy_group_containers(const cJSON *arm, const cJSON *group, const cJSON *const *images,
			    size_t nimages, const struct policy_opts *o, cJSON **out,
			    struct ng_err *err);

/* The policy text (§1) of one group: fragments + containers. */
int policy_group_text(const cJSON *arm, const cJSON *group, const cJSON *const *images,
		      size_t nimages, const struct policy_opts *o, char **out, struct ng_err *err);

/* Every containerGroups / containerGroupProfiles resource of arm, in order:
 * *groups is a malloc'd array of borrowed pointers. */
int policy_arm_groups(const cJSON *arm, const cJSON ***groups, size_t *n, struct ng_err *err);

/* Checks an image-facts object's shape (name is for messages). Extra keys are
 * allowed. */
int policy_image_facts_check(const cJSON *facts, const char *name, struct ng_err *err);

/* Fails on an object with a repeated key anywhere in j (Python's json keeps
 * the last, cJSON finds the first: refuse rather than guess). */
int policy_json_unique_keys(const cJSON *j, const char *name, int depth, struct ng_err *err);

/* hostdata: lowercase hex SHA-256 of the policy bytes. */
void policy_hostdata(const char *policy, char out[65]);

#endif
