/* render.c: deployment → ARM template, CCE policy, hostdata, sidecar
 * arguments, release policy, importkey config and review text (render.h).
 *
 * The policy is computed from the rendered ARM template itself (policy.c in
 * nutgen mode), so it describes the containers exactly as ARM starts them. */
#include "render.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/jsonw.h"
#include "deployment.h"
#include "render_int.h"
#include "policy.h"
#include "templates.h"

static const struct jsonw_opts PRETTY_ORDERED = {2, ",", ": ", 0, 1};

void render_out_free(struct render_out *o)
{
	if (!o)
		return;
	free(o->policy);
	free(o->hostdata);
	free(o->arm_template);
	free(o->release_policy);
	free(o->importkey_config);
	free(o->encfs_sidecar_args);
	free(o->skr_sidecar_args);
	free(o->explain);
	free(o->profile);
	memset(o, 0, sizeof(*o));
}

/* ---- template substitution: "{{name}}" ---- */

static int subst_string(const char *s, const cJSON *vars, cJSON **repl, struct ng_err *err)
{
	struct buf b;
	const char *p = s;
	*repl = NULL;
	if (!strstr(s, "{{"))
		return 0;
	if (!strncmp(s, "{{", 2) && strstr(s, "}}") && !strcmp(strstr(s, "}}"), "}}")) {
		char key[128];
		size_t n = strlen(s) - 4;
		const cJSON *v;
		if (n < sizeof(key) && !strchr(s + 2, '{')) {
			memcpy(key, s + 2, n);
			key[n] = 0;
			v = cJSON_GetObjectItemCaseSensitive(vars, key);
			if (!v)
				return ng_errf(err, NG_EINTERNAL, "ARM template: unknown {{%s}}",
					       key);
			*repl = cJSON_Duplicate(v, 1);
			return 0;
		}
	}
	buf_init(&b, 1u << 20);
	while (*p) {
		const char *o = strstr(p, "{{"), *c;
		char key[128];
		const cJSON *v;
		if (!o) {
			buf_puts(&b, p);
			break;
		}
		c = strstr(o, "}}");
		if (!c || (size_t)(c - o - 2) >= sizeof(key)) {
			buf_free(&b);
			return ng_errf(err, NG_EINTERNAL, "ARM template: unterminated {{");
		}
		buf_append(&b, p, (size_t)(o - p));
		memcpy(key, o + 2, (size_t)(c - o - 2));
		key[c - o - 2] = 0;
		v = cJSON_GetObjectItemCaseSensitive(vars, key);
		if (!cJSON_IsString(v)) {
			buf_free(&b);
			return ng_errf(err, NG_EINTERNAL, "ARM template: {{%s}} is not a string",
				       key);
		}
		buf_puts(&b, v->valuestring);
		p = c + 2;
	}
	*repl = cJSON_CreateString((char *)b.data);
	buf_free(&b);
	return 0;
}

static int subst_tree(cJSON *node, const cJSON *vars, struct ng_err *err)
{
	cJSON *it = node ? node->child : NULL;
	while (it) {
		cJSON *next = it->next, *r;
		if (it->string && strstr(it->string, "{{")) {
			if (subst_string(it->string, vars, &r, err) < 0)
				return -1;
			if (!cJSON_IsString(r)) {
				cJSON_Delete(r);
				return ng_errf(err, NG_EINTERNAL, "ARM template: bad key");
			}
			free(it->string);
			it->string = strdup(r->valuestring);
			cJSON_Delete(r);
		}
		if (cJSON_IsString(it)) {
			if (subst_string(it->valuestring, vars, &r, err) < 0)
				return -1;
			if (r) {
				if (r->string)
					free(r->string);
				r->string = it->string ? strdup(it->string) : NULL;
				if (cJSON_IsArray(node))
					cJSON_ReplaceItemViaPointer(node, it, r);
				else
					cJSON_ReplaceItemViaPointer(node, it, r);
			}
		} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			if (subst_tree(it, vars, err) < 0)
				return -1;
		}
		it = next;
	}
	return 0;
}

/* ---- image pinning ---- */

static int digest_ok(const char *s)
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return 0;
	for (s += 7; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f'))
			return 0;
	return 1;
}

/* The image string ARM pulls and the policy lists: <repository>@<digest>
 * when pinning (docker reference grammar: a tag follows the last ':' after
 * the last '/'). */
static int pin_image(const struct deployment *d, enum render_container c, const cJSON *facts,
		     char **out, struct ng_err *err)
{
	const char *ref = deployment_image_ref(d, c);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(facts, "manifest_digest");
	const char *at = strstr(ref, "@sha256:");
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(ref, ':');
	size_t repo_len;

	*out = NULL;
	if (md && (!cJSON_IsString(md) || !digest_ok(md->valuestring)))
		return ng_errf(err, NG_EINVAL,
			       "image facts of %s: manifest_digest must be sha256:<64 hex>", ref);
	if (at && md && strcmp(at + 1, md->valuestring))
		return ng_errf(err, NG_EVERIFY,
			       "$.containers.%s.image: %s names digest %s but its image facts "
			       "are of %s: pass the facts of that image",
			       deployment_container_key(c), ref, at + 1, md->valuestring);
	if (!deployment_bool(d, "pin_image_digests") || at) {
		*out = strdup(ref);
		return *out ? 0 : NG_ENOMEM;
	}
	if (!md)
		return ng_errf(err, NG_EINVAL,
			       "$.containers.%s.image: cannot pin %s by digest: its image facts "
			       "have no manifest_digest (use nutgen image inspect, or set "
			       "pin_image_digests to false)",
			       deployment_container_key(c), ref);
	repo_len = (colon && (!slash || colon > slash)) ? (size_t)(colon - ref) : strlen(ref);
	if (asprintf(out, "%.*s@%s", (int)repo_len, ref, md->valuestring) < 0)
		return ng_errf(err, NG_ENOMEM, "out of memory");
	return 0;
}

/* ---- sidecar arguments ---- */

static char *b64_json(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j), *b;
	if (!s)
		return NULL;
	b = base64_encode((const uint8_t *)s, strlen(s));
	free(s);
	return b;
}

/* The release key as both SKR clients name it (encfs sidecar arguments and
 * the key import config, sidecars.md): "key" {kid, kty, authority, akv} and,
 * for an RSA-HSM key, "key_derivation", added to `parent`. Returns "akv". */
static cJSON *add_skr_key(cJSON *parent, const struct deployment *d, const struct keyfacts *k)
{
	cJSON *key = cJSON_AddObjectToObject(parent, "key"), *akv, *o;
	cJSON_AddStringToObject(key, "kid", k->name);
	cJSON_AddStringToObject(key, "kty", k->type);
	o = cJSON_AddObjectToObject(key, "authority");
	cJSON_AddStringToObject(o, "endpoint", deployment_endpoints(d)->attestation_host);
	akv = cJSON_AddObjectToObject(key, "akv");
	cJSON_AddStringToObject(akv, "endpoint", k->vault_host);
	if (!strcmp(k->type, "RSA-HSM")) {
		o = cJSON_AddObjectToObject(parent, "key_derivation");
		cJSON_AddStringToObject(o, "salt", k->salt);
		cJSON_AddStringToObject(o, "label", k->label);
	}
	return akv;
}

static cJSON *identity_obj(const char *client_id)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "client_id", client_id);
	return o;
}

static cJSON *encfs_args(const struct deployment *d, const struct keyfacts *k,
			 const cJSON *certcache, const char *client_id)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *fs = cJSON_AddArrayToObject(root, "azure_filesystems");
	cJSON *f = cJSON_CreateObject(), *o;
	cJSON_AddItemToArray(fs, f);
	cJSON_AddStringToObject(f, "mount_point", deployment_str(d, "encfs.mount_point"));
	cJSON_AddStringToObject(f, "azure_url", k->blob_url);
	/* Managed identity, never a SAS: the arguments are public (policy). */
	cJSON_AddBoolToObject(f, "azure_url_private", 1);
	cJSON_AddBoolToObject(f, "read_write", deployment_bool(d, "encfs.read_write"));
	add_skr_key(f, d, k);
	o = cJSON_AddObjectToObject(root, "azure_info");
	cJSON_AddItemToObject(o, "certcache", cJSON_Duplicate(certcache, 1));
	if (client_id && *client_id)
		cJSON_AddItemToObject(o, "identity", identity_obj(client_id));
	return root;
}

static cJSON *release_claims(const cJSON *rp, const char *hostdata)
{
	cJSON *all = cJSON_CreateArray();
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(rp, "claims"))
	{
		cJSON *o = cJSON_CreateObject();
		const char *eq = cJSON_GetStringValue(cJSON_GetObjectItem(c, "equals"));
		cJSON_AddStringToObject(o, "claim",
					cJSON_GetStringValue(cJSON_GetObjectItem(c, "claim")));
		cJSON_AddStringToObject(o, "equals", strcmp(eq, "{{hostdata}}") ? eq : hostdata);
		cJSON_AddItemToArray(all, o);
	}
	return all;
}

/* The Key Vault release policy (sidecars.md §4): Go field order, compact. */
int render_release_policy(const char *attestation_host, const char *hostdata, char **out,
			  struct ng_err *err)
{
	cJSON *rp, *root, *any, *auth;
	char url[600];
	*out = NULL;
	if (strlen(hostdata) != 64 || strspn(hostdata, "0123456789abcdef") != 64)
		return ng_errf(err, NG_EINVAL, "hostdata must be 64 lowercase hex digits");
	if (strlen(attestation_host) > 500 || strpbrk(attestation_host, "<>&\"\\/ "))
		return ng_errf(err, NG_EINVAL, "attestation host '%s' is not a host name",
			       attestation_host);
	if (templates_json("keyvault/release-policy.json", &rp, err) < 0)
		return -1;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version",
				cJSON_GetStringValue(cJSON_GetObjectItem(rp, "version")));
	any = cJSON_AddArrayToObject(root, "anyOf");
	auth = cJSON_CreateObject();
	cJSON_AddItemToArray(any, auth);
	snprintf(url, sizeof(url), "https://%s", attestation_host);
	cJSON_AddStringToObject(auth, "authority", url);
	cJSON_AddItemToObject(auth, "allOf", release_claims(rp, hostdata));
	*out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	cJSON_Delete(rp);
	return *out ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
}

static char *importkey_config(const struct deployment *d, const struct keyfacts *k,
			      const char *hostdata, struct ng_err *err)
{
	cJSON *rp, *root = cJSON_CreateObject(), *akv, *claims;
	struct buf b;
	if (templates_json("keyvault/release-policy.json", &rp, err) < 0) {
		cJSON_Delete(root);
		return NULL;
	}
	akv = add_skr_key(root, d, k);
	cJSON_AddStringToObject(akv, "api_version",
				cJSON_GetStringValue(cJSON_GetObjectItem(rp, "akv_api_version")));
	claims = cJSON_AddArrayToObject(root, "claims");
	cJSON_AddItemToArray(claims, release_claims(rp, hostdata));
	buf_init(&b, 1u << 20);
	if (jsonw_print(root, &PRETTY_ORDERED, &b, err) < 0) {
		buf_free(&b);
		b.data = NULL;
	} else {
		buf_puts(&b, "\n");
	}
	cJSON_Delete(root);
	cJSON_Delete(rp);
	return b.data ? buf_steal(&b) : NULL;
}

/* ---- the ARM template ---- */

static void var_str(cJSON *vars, const char *k, const char *v)
{
	cJSON_AddStringToObject(vars, k, v);
}

static cJSON *env_entry(const char *name, const char *value)
{
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "name", name);
	cJSON_AddStringToObject(e, "value", value);
	return e;
}

static cJSON *build_vars(const struct deployment *d, char *const pinned[RC_COUNT],
			 const char *encfs_b64, const char *skr_b64, const char *identity_id)
{
	const struct deployment_endpoints *ep = deployment_endpoints(d);
	cJSON *vars = cJSON_CreateObject(), *env, *ip, *ports, *p, *creds;
	const cJSON *e;
	char key[64], idexpr[512];
	static const char *const fields[] = {"name",	   "cpu",   "memory_gb", "data_mount",
					     "file_share", "debug", "port"};

	var_str(vars, "container_group", deployment_str(d, "target.container_group"));
	var_str(vars, "location", deployment_str(d, "target.location"));
	var_str(vars, "storage_account", deployment_str(d, "target.storage_account"));
	var_str(vars, "hostdata", "");
	var_str(vars, "profile", deployment_str(d, "policy_profile"));
	var_str(vars, "cce_policy", "");
	snprintf(idexpr, sizeof(idexpr),
		 "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', '%s')]",
		 deployment_str(d, "target.managed_identity"));
	var_str(vars, "identity_id", identity_id && *identity_id ? identity_id : idexpr);
	var_str(vars, "domain", ep->domain);
	var_str(vars, "acme_email", deployment_str(d, "acme_email"));
	var_str(vars, "skr_sidecar_args", skr_b64);
	var_str(vars, "encfs.shared_dir", deployment_str(d, "encfs.shared_dir"));
	for (int c = 0; c < RC_COUNT; c++) {
		const cJSON *ct = deployment_get(d, "containers");
		ct = cJSON_GetObjectItemCaseSensitive(ct, deployment_container_key(c));
		snprintf(key, sizeof(key), "%s.image", deployment_container_key(c));
		var_str(vars, key, pinned[c]);
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(ct, fields[f]);
			if (!v)
				continue;
			snprintf(key, sizeof(key), "%s.%s", deployment_container_key(c), fields[f]);
			cJSON_AddItemToObject(vars, key, cJSON_Duplicate(v, 1));
		}
	}
	env = cJSON_AddArrayToObject(vars, "encfs_env");
	cJSON_AddItemToArray(env, env_entry("EncfsSideCarArgs", encfs_b64));
	if (*deployment_str(d, "encfs.log_level"))
		cJSON_AddItemToArray(env,
				     env_entry("LogLevel", deployment_str(d, "encfs.log_level")));

	/* The mint's environment as the seed sets it (seed-deployment.md §11.2),
	 * plus KEY_VAULT_NAME; values given in the deployment win. */
	env = cJSON_AddArrayToObject(vars, "mint_env");
	cJSON_ArrayForEach(e, deployment_get(d, "containers.mint.env"))
	    cJSON_AddItemToArray(env, env_entry(e->string, e->valuestring));
	if (!cJSON_GetObjectItemCaseSensitive(deployment_get(d, "containers.mint.env"),
					      "MAA_ENDPOINT"))
		cJSON_AddItemToArray(env, env_entry("MAA_ENDPOINT", ep->attestation_url));
	if (!cJSON_GetObjectItemCaseSensitive(deployment_get(d, "containers.mint.env"),
					      "KEY_VAULT_NAME"))
		cJSON_AddItemToArray(
		    env, env_entry("KEY_VAULT_NAME", deployment_str(d, "target.key_vault")));

	ip = cJSON_AddObjectToObject(vars, "ip_address");
	cJSON_AddStringToObject(ip, "type", "Public");
	ports = cJSON_AddArrayToObject(ip, "ports");
	for (int port = 80; port; port = port == 80 ? 443 : 0) {
		p = cJSON_CreateObject();
		cJSON_AddNumberToObject(p, "port", port);
		cJSON_AddStringToObject(p, "protocol", "TCP");
		cJSON_AddItemToArray(ports, p);
	}
	if (*deployment_str(d, "dns.label"))
		cJSON_AddStringToObject(ip, "dnsNameLabel", deployment_str(d, "dns.label"));

	creds = cJSON_AddArrayToObject(vars, "registry_credentials");
	if (*deployment_str(d, "registry.server")) {
		p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "server", deployment_str(d, "registry.server"));
		cJSON_AddStringToObject(p, "username", deployment_str(d, "registry.username"));
		cJSON_AddStringToObject(p, "password", "[parameters('imageRegistryPassword')]");
		cJSON_AddItemToArray(creds, p);
	}
	return vars;
}

/* ---- everything ---- */

static int key_facts(const struct deployment *d, const struct render_key *in, struct keyfacts *k,
		     struct ng_err *err)
{
	const struct deployment_endpoints *ep = deployment_endpoints(d);
	const char *ev_salt = deployment_str(d, "encfs.existing_volume.salt_hex");
	const char *ev_label = deployment_str(d, "encfs.existing_volume.label");
	k->name = in->name && *in->name ? in->name : deployment_str(d, "encfs.key_name");
	k->type = in->type && *in->type ? in->type : deployment_str(d, "encfs.key_type");
	k->vault_url = in->vault_url && *in->vault_url ? in->vault_url : ep->key_vault_url;
	k->blob_url = in->blob_url && *in->blob_url ? in->blob_url : ep->blob_url;
	k->salt = in->salt_hex && *in->salt_hex ? in->salt_hex : ev_salt;
	k->label = in->label && *in->label ? in->label : *ev_label ? ev_label : "encfs";
	if (strcmp(k->type, "RSA-HSM") && strcmp(k->type, "oct-HSM"))
		return ng_errf(err, NG_EINVAL, "key type %s: must be RSA-HSM or oct-HSM", k->type);
	if (strspn(k->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
		strlen(k->name) ||
	    !*k->name || strlen(k->name) > 127)
		return ng_errf(err, NG_EINVAL, "key name '%s': letters, digits and - only",
			       k->name);
	if (!strcmp(k->type, "RSA-HSM")) {
		size_t n = strlen(k->salt);
		/* An explicit salt: importkey picks a random one when empty
		 * (sidecars.md §4), which would make the volume unopenable. */
		if (!n || n % 2 || n > 1024 || strspn(k->salt, "0123456789abcdefABCDEF") != n)
			return ng_errf(
			    err, NG_EINVAL,
			    "RSA-HSM key %s needs its HKDF salt as hex (for an existing "
			    "volume: $.encfs.existing_volume.salt_hex from encfs-salt.txt)",
			    k->name);
		if (strpbrk(k->label, "\"\\\r\n"))
			return ng_errf(err, NG_EINVAL, "HKDF label must be plain text");
	}
	if (strncmp(k->vault_url, "https://", 8) || strncmp(k->blob_url, "https://", 8))
		return ng_errf(err, NG_EINVAL, "key vault and blob URLs must be https://");
	{
		const char *h = k->vault_url + 8, *sl = strchr(h, '/');
		k->vault_host = strndup(h, sl ? (size_t)(sl - h) : strlen(h));
	}
	return 0;
}

int render_deployment(const struct deployment *d, const struct render_in *in,
		      struct render_out *out, struct ng_err *err)
{
	char *pinned[RC_COUNT] = {0};
	cJSON *facts[RC_COUNT] = {0};
	cJSON *arm = NULL, *vars = NULL, *prof = NULL, *certcache_doc = NULL, *enc = NULL,
	      *skr = NULL, *containers = NULL;
	const cJSON **groups = NULL;
	size_t ngroups;
	struct keyfacts k = {0};
	struct policy_opts po = {0};
	char hd[65];
	int rc = -1, debug;

	memset(out, 0, sizeof(*out));
	debug = in->debug > 0 ? 1 : in->debug < 0 ? 0 : deployment_bool(d, "debug");
	for (int c = 0; c < RC_COUNT; c++) {
		char what[64];
		snprintf(what, sizeof(what), "image facts of %s", deployment_container_key(c));
		if (!in->images[c]) {
			ng_errf(err, NG_EINVAL, "%s: missing", what);
			goto done;
		}
		/* The image name comes from the deployment; the facts' own
		 * (possibly null) "image" is replaced. */
		facts[c] = cJSON_Duplicate(in->images[c], 1);
		if (!cJSON_IsObject(facts[c])) {
			ng_errf(err, NG_EINVAL, "%s: not a JSON object", what);
			goto done;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(facts[c], "image");
		cJSON_AddStringToObject(facts[c], "image", deployment_image_ref(d, c));
		if (policy_image_facts_check(facts[c], what, err) < 0 ||
		    pin_image(d, (enum render_container)c, facts[c], &pinned[c], err) < 0)
			goto done;
		cJSON_ReplaceItemInObjectCaseSensitive(facts[c], "image",
						       cJSON_CreateString(pinned[c]));
	}
	if (key_facts(d, &in->key, &k, err) < 0)
		goto done;
	if (templates_json("sidecars/sidecars.json", &certcache_doc, err) < 0)
		goto done;
	enc = encfs_args(d, &k, cJSON_GetObjectItem(certcache_doc, "certcache"),
			 in->identity_client_id);
	skr = cJSON_CreateObject();
	cJSON_AddItemToObject(skr, "certcache",
			      cJSON_Duplicate(cJSON_GetObjectItem(certcache_doc, "certcache"), 1));
	if (in->identity_client_id && *in->identity_client_id)
		cJSON_AddItemToObject(skr, "identity", identity_obj(in->identity_client_id));
	out->encfs_sidecar_args = b64_json(enc);
	out->skr_sidecar_args = b64_json(skr);
	if (!out->encfs_sidecar_args || !out->skr_sidecar_args) {
		ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}

	if (templates_json("arm/container-group.json", &arm, err) < 0)
		goto done;
	vars = build_vars(d, pinned, out->encfs_sidecar_args, out->skr_sidecar_args,
			  in->identity_resource_id);
	if (subst_tree(arm, vars, err) < 0)
		goto done;
	/* Without a private registry there is no password to fill: a secure
	 * parameter nobody uses would make nutapply demand a value for it. */
	if (!*deployment_str(d, "registry.server"))
		cJSON_DeleteItemFromObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(arm, "parameters"), "imageRegistryPassword");

	if (policy_profile_load(deployment_str(d, "policy_profile"), &prof, err) < 0)
		goto done;
	po.profile = prof;
	po.debug = debug;
	po.strict = 1;
	if (policy_arm_groups(arm, &groups, &ngroups, err) < 0 ||
	    policy_group_text(arm, groups[0], (const cJSON *const *)facts, RC_COUNT, &po,
			      &out->policy, err) < 0 ||
	    policy_group_containers(arm, groups[0], (const cJSON *const *)facts, RC_COUNT, &po,
				    &containers, err) < 0)
		goto done;
	policy_hostdata(out->policy, hd);
	out->hostdata = strdup(hd);
	{
		cJSON *g = (cJSON *)groups[0];
		cJSON *props = cJSON_GetObjectItemCaseSensitive(g, "properties");
		char *b64 = base64_encode((const uint8_t *)out->policy, strlen(out->policy));
		cJSON_ReplaceItemInObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(props, "confidentialComputeProperties"),
		    "ccePolicy", cJSON_CreateString(b64));
		free(b64);
		cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(g, "tags"),
						       "nutgen-hostdata", cJSON_CreateString(hd));
	}
	{
		struct buf b;
		buf_init(&b, 64u << 20);
		if (jsonw_print(arm, &PRETTY_ORDERED, &b, err) < 0) {
			buf_free(&b);
			goto done;
		}
		buf_puts(&b, "\n");
		out->arm_template = buf_steal(&b);
	}
	if (render_release_policy(deployment_endpoints(d)->attestation_host, hd,
				  &out->release_policy, err) < 0)
		goto done;
	if (!(out->importkey_config = importkey_config(d, &k, hd, err)))
		goto done;
	out->explain =
	    render_explain(d, containers, hd, deployment_str(d, "policy_profile"), debug, &k);
	out->profile = strdup(deployment_str(d, "policy_profile"));
	if (!out->explain || !out->profile || !out->hostdata) {
		ng_errf(err, NG_ENOMEM, "out of memory");
		goto done;
	}
	rc = 0;
done:
	if (rc < 0)
		render_out_free(out);
	for (int c = 0; c < RC_COUNT; c++) {
		free(pinned[c]);
		cJSON_Delete(facts[c]);
	}
	free(k.vault_host);
	free(groups);
	cJSON_Delete(arm);
	cJSON_Delete(vars);
	cJSON_Delete(prof);
	cJSON_Delete(certcache_doc);
	cJSON_Delete(enc);
	cJSON_Delete(skr);
	cJSON_Delete(containers);
	return rc < 0 ? NG_EINVAL : 0;
}
