/* policy_text.c: profiles, container groups, fragments and the policy text
 * layout (../shared/research/confcom-policy.md §0, §1). */
#include "policy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/jsonw.h"
#include "templates.h"

#define POLICY_MAX (16u << 20)

int policy_all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

int policy_check_str_list(const cJSON *l)
{
	const cJSON *it;
	if (!l || cJSON_IsNull(l))
		return 0;
	if (!cJSON_IsArray(l) || cJSON_GetArraySize(l) > 128)
		return -1;
	cJSON_ArrayForEach(it, l) if (!cJSON_IsString(it)) return -1;
	return 0;
}

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
		if (policy_check_str_list(cJSON_GetObjectItemCaseSensitive(cfg, lists[i])) < 0)
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

int policy_profile_check(const cJSON *p, struct ng_err *err)
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
			    (i == 3 && !policy_all_digits(v->valuestring))) {
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
