/* policy.c: confcom's ARM → CCE policy translation. Section numbers refer to
 * ../shared/research/confcom-policy.md. */
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/jsonw.h"
#include "arm_expr.h"
#include "templates.h"

#define MAX_CONTAINERS 64

const cJSON *policy_prof(const struct policy_ctx *c, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(c->o->profile, key);
}

int policy_resolve(const struct policy_ctx *c, const char *s, char **out, int *unresolved,
		   struct ng_err *err)
{
	return arm_expr_resolve(c->arm, c->o->parameters, c->cname, s, out, unresolved, err);
}
static int resolve_str(const struct policy_ctx *c, const cJSON *v, const char *what, char **out,
		       struct ng_err *err)
{
	int unres;
	if (!cJSON_IsString(v))
		return ng_errf(err, NG_EINVAL, "container %s: %s must be a string", c->cname, what);
	if (policy_resolve(c, v->valuestring, out, &unres, err) < 0)
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
static cJSON *resolve_list(const struct policy_ctx *c, const cJSON *list, const char *what,
			   struct ng_err *err)
{
	cJSON *out = cJSON_CreateArray();
	const cJSON *it;
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > POLICY_MAX_ITEMS) {
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

static int mounts(const struct policy_ctx *c, const cJSON *cprops, const cJSON *volumes, cJSON *out,
		  struct ng_err *err)
{
	const cJSON *vms = cJSON_GetObjectItem(cprops, "volumeMounts"), *vm, *d;
	const cJSON *srcs = policy_prof(c, "mount_sources"),
		    *types = policy_prof(c, "mount_volume_types");
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
	cJSON_ArrayForEach(d, policy_prof(c, "default_mounts"))
	    cJSON_AddItemToArray(out, cJSON_Duplicate(d, 1));
	return 0;
}

static int exec_processes(const struct policy_ctx *c, const cJSON *cprops, cJSON *out,
			  struct ng_err *err)
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
		if (cJSON_IsTrue(policy_prof(c, "dedupe_exec_processes"))) {
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
		cJSON_ArrayForEach(d, policy_prof(c, "debug_exec_processes"))
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

static int capabilities(const struct policy_ctx *c, const cJSON *sc, int priv, cJSON *ctr,
			struct ng_err *err)
{
	const cJSON *caps = sc ? cJSON_GetObjectItem(sc, "capabilities") : NULL;
	const cJSON *add = caps ? cJSON_GetObjectItem(caps, "add") : NULL;
	const cJSON *drop = caps ? cJSON_GetObjectItem(caps, "drop") : NULL;
	const cJSON *base =
	    policy_prof(c, priv ? "privileged_capabilities" : "unprivileged_capabilities");
	cJSON *empty = cJSON_CreateArray();
	cJSON *o;
	if (policy_check_str_list(add) < 0 || policy_check_str_list(drop) < 0) {
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

static cJSON *idname(const char *pattern, const char *strategy)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "pattern", pattern);
	cJSON_AddStringToObject(o, "strategy", strategy);
	return o;
}

static int run_as(const struct policy_ctx *c, const cJSON *v, const char *what, char *out,
		  size_t cap, struct ng_err *err)
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

static int user(const struct policy_ctx *c, const cJSON *sc, const cJSON *cfg, cJSON *ctr,
		struct ng_err *err)
{
	char u[32], g[32];
	int hu, hg;
	cJSON *usr = cJSON_Duplicate(policy_prof(c, "default_user"), 1);
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
					  idname(s, policy_all_digits(s) ? "id" : "name"));
		if (colon)
			cJSON_ReplaceItemInArray(
			    cJSON_GetObjectItem(usr, "group_idnames"), 0,
			    idname(colon + 1, policy_all_digits(colon + 1) ? "id" : "name"));
		free(s);
	}
	return 0;
}

static cJSON *signals(const struct policy_ctx *c, const cJSON *cfg)
{
	const cJSON *ss = cJSON_GetObjectItemCaseSensitive(cfg, "StopSignal");
	cJSON *out;
	if (cJSON_IsString(ss) && *ss->valuestring) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(policy_prof(c, "signal_names"),
								  ss->valuestring);
		out = cJSON_CreateArray();
		/* confcom keeps an unknown or numeric name as the string. */
		cJSON_AddItemToArray(out, cJSON_IsNumber(n) ? cJSON_CreateNumber(n->valuedouble)
							    : cJSON_CreateString(ss->valuestring));
		return out;
	}
	return cJSON_Duplicate(policy_prof(c, "container_signals"), 1);
}

size_t policy_image_repo_len(const char *ref)
{
	size_t n = strcspn(ref, "@");
	const char *slash = memrchr(ref, '/', n), *colon = memrchr(ref, ':', n);
	if (colon && (!slash || colon > slash))
		n = (size_t)(colon - ref);
	return n;
}

const cJSON *policy_find_image(const cJSON *const *images, size_t nimages, const char *image)
{
	const cJSON *by_repo = NULL;
	size_t rn = policy_image_repo_len(image);
	int nrepo = 0;
	for (size_t i = 0; i < nimages; i++) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(images[i], "image");
		if (!cJSON_IsString(n))
			continue;
		if (!strcmp(n->valuestring, image))
			return images[i];
		/* `nutgen image inspect` names an image <repository>@<digest>:
		 * accept it for a tag of the same repository when it is the
		 * only one (the operator chose the archive of that tag). */
		if (policy_image_repo_len(n->valuestring) == rn &&
		    !strncmp(n->valuestring, image, rn) && n->valuestring[rn] == '@' &&
		    !strchr(image + rn, '@')) {
			by_repo = images[i];
			nrepo++;
		}
	}
	return nrepo == 1 ? by_repo : NULL;
}

static const cJSON *find_image(const struct policy_ctx *c, const char *image)
{
	return policy_find_image(c->images, c->nimages, image);
}

static int build_container(struct policy_ctx *c, const cJSON *ctn, const cJSON *volumes,
			   cJSON **out, struct ng_err *err)
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
	if (policy_env_rules(c, props, cfg, rules, err) < 0)
		goto done;

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
					    : policy_prof(c, "default_working_dir")->valuestring);
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

int policy_group_containers(const cJSON *arm, const cJSON *group, const cJSON *const *images,
			    size_t nimages, const struct policy_opts *o, cJSON **out,
			    struct ng_err *err)
{
	struct policy_ctx c = {arm, images, nimages, o, "?"};
	const cJSON *props = cJSON_GetObjectItem(group, "properties");
	const cJSON *vols = props ? cJSON_GetObjectItem(props, "volumes") : NULL;
	static const char *const lists[] = {"containers", "initContainers"};
	cJSON *all, *pause;
	int total = 0;

	*out = NULL;
	if (policy_profile_check(o->profile, err) < 0)
		return -1;
	{
		const cJSON *it;
		cJSON_ArrayForEach(it, o->parameters) if (
		    !arm_lookup_ci(cJSON_GetObjectItemCaseSensitive(arm, "parameters"),
				   it->string)) return ng_errf(err, NG_EINVAL,
							       "parameters file: '%s' is not a "
							       "parameter of the template",
							       it->string);
	}
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
	pause = cJSON_Duplicate(policy_prof(&c, "pause_container"), 1);
	cJSON_ReplaceItemInObject(pause, "allow_stdio_access", cJSON_CreateBool(!o->disable_stdio));
	cJSON_AddItemToArray(all, pause);
	*out = all;
	return 0;
}
