/* cmd_apply.c: `nutapply apply` brings Azure to what a verified bundle
 * describes, each step idempotent and skipped when done (issue 8;
 * azure-rest.md §8 for the volume); `nutapply plan` says what it would do. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/progress.h"
#include "applyctx.h"

const char cmd_apply_usage[] =
    "Usage: nutapply apply BUNDLE --trust PUB... [--threshold N] [--replace-volume]\n"
    "                      [--key-file JWK] [--parallel N] [--json] [--quiet] [--ca-file F]\n"
    "\n"
    "Verifies BUNDLE (signatures, threshold, expiry, every digest) before any network\n"
    "request, then, each step skipped when already done:\n"
    "  1. volume: uploads encfs.img to its page blob when the bundle creates it; a blob\n"
    "     holding another volume is never touched without --replace-volume (which\n"
    "     leases and snapshots it first); an interrupted upload resumes;\n"
    "  2. key: imports the BYOK-wrapped key, or the private JWK of --key-file when the\n"
    "     bundle carries none (exportable, never immutable), or updates the release\n"
    "     policy of the existing key's current version and reads it back;\n"
    "  3. deploy: the bundle's ARM template, secure parameters filled now\n"
    "     (storageAccountKey by listKeys, registryPassword from\n"
    "     NUTAPPLY_REGISTRY_PASSWORD);\n"
    "  4. restarts the group when it already existed; waits until every container runs;\n"
    "  5. prints a receipt: bundle digest, hostdata, what each step did, times.\n"
    "Endpoints come from the bundle's manifest (deployment.cloud). The blob is\n"
    "written with AZURE_STORAGE_KEY when set, else an Entra token.\n"
    "\n"
    "Options:\n" APPLY_OPTS
    "  --timeout SECONDS    for the deployment and the containers (default 1800)\n"
    "  --replace-volume     replace a blob of another volume (snapshot first)\n"
    "  --key-file JWK       the mint key as a private JWK, for a bundle without BYOK\n"
    "  --parallel N         concurrent Put Page uploads (1-64, default 8)\n"
    "\n"
    "Exit status: 0 done, 1 failure (one line on stderr), 2 usage.\n"
    "Example: nutapply apply bundle.tgz --trust ops.pub --trust sec.pub --threshold 2\n";

const char cmd_plan_usage[] =
    "Usage: nutapply plan BUNDLE --trust PUB... [--threshold N] [--json] [--ca-file F]\n"
    "\n"
    "Read-only: verifies BUNDLE, then says what `nutapply apply` would change: the\n"
    "volume blob (absent, this volume, or whose), the key's current release policy vs\n"
    "the bundle's, the group's current CCE policy hash vs the bundle's hostdata.\n"
    "\n"
    "Options:\n" APPLY_OPTS "\n"
    "Exit status: 0 nothing to change, 3 changes pending, 1 failure, 2 usage.\n"
    "Example: nutapply plan bundle.tgz --trust ops.pub\n";

#define WHAT 256

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void wipe_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static int step_volume(struct apply_ctx *c, char *what, struct ng_err *err)
{
	static const char *const act[] = {"unchanged: the blob already holds this volume",
					  "created and uploaded", "resumed and completed",
					  "replaced (snapshot %s first)"};
	struct blob_opts bo = {.replace = c->replace_volume, .parallel = c->parallel};
	struct blob_result r;
	char path[4096];
	int rc;

	if (strcmp(apply_str(c->vol, "action"), "create") || !*c->volume_id) {
		snprintf(what, WHAT, "skipped: the bundle references a volume");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/encfs.img", c->dir);
	if ((rc = blob_upload_volume(c->s.http, &c->blob, apply_str(c->vol, "blob"), path,
				     c->manifest_id, c->volume_id, &bo, &r, err)))
		return ng_err_prefix(err, rc, "volume");
	snprintf(what, WHAT, act[r.action], r.snapshot);
	if (r.action == BLOB_UNCHANGED)
		return 0;
	snprintf(what + strlen(what), WHAT - strlen(what), ", %llu bytes of page data sent",
		 (unsigned long long)r.put_bytes);
	return 1;
}

/* `nutgen key new` keeps an RSA key as PKCS#8 (gen/keys.c); Key Vault imports
 * a JWK (RFC 7518 §6.3.2), made HSM-protected by the request's Hsm flag. */
static int jwk_from_pkcs8(const char *path, const cJSON *file, cJSON **out, struct ng_err *err)
{
	static const char *const jwk[] = {"n", "e", "d", "p", "q", "dp", "dq", "qi"};
	static const char *const par[] = {
	    OSSL_PKEY_PARAM_RSA_N,	   OSSL_PKEY_PARAM_RSA_E,
	    OSSL_PKEY_PARAM_RSA_D,	   OSSL_PKEY_PARAM_RSA_FACTOR1,
	    OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
	    OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
	const char *b64 = apply_str(file, "pkcs8");
	uint8_t *der = NULL, bin[1024];
	const uint8_t *p;
	size_t n = 0;
	EVP_PKEY *pk = NULL;
	int rc = base64url_decode(b64, strlen(b64), &der, &n, err);

	p = der;
	if (rc || !(pk = d2i_AutoPrivateKey(NULL, &p, (long)n)) ||
	    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) > 8192 ||
	    !(*out = cJSON_CreateObject()) || !cJSON_AddStringToObject(*out, "kty", "RSA"))
		rc = NG_EINVAL;
	for (int i = 0; !rc && i < 8; i++) {
		BIGNUM *bn = NULL;
		int len = EVP_PKEY_get_bn_param(pk, par[i], &bn) ? BN_bn2bin(bn, bin) : 0;
		char *v = len > 0 ? base64url_encode(bin, (size_t)len) : NULL;

		if (!v || !cJSON_AddStringToObject(*out, jwk[i], v))
			rc = NG_EINVAL;
		if (v)
			OPENSSL_cleanse(v, strlen(v));
		free(v);
		BN_clear_free(bn);
	}
	OPENSSL_cleanse(bin, sizeof(bin));
	if (der)
		OPENSSL_cleanse(der, n);
	free(der);
	EVP_PKEY_free(pk);
	return rc ? ng_errf(err, NG_EINVAL,
			    "--key-file %s: pkcs8 is not an RSA private key: give the file "
			    "`nutgen key new --type RSA-HSM` wrote",
			    path)
		  : 0;
}

/* The key to import when absent: the BYOK transfer blob as {kty, key_hsm}
 * with the blob's JSON base64url-encoded (azure-rest.md §3.2), or, for a
 * bundle without one, the operator's key from a file (never argv): nutgen's
 * key file or a private JWK. */
static int import_key(struct apply_ctx *c, cJSON **out, struct ng_err *err)
{
	const char *blob =
	    bundle_member_get(c->b, "key-byok.json") ? apply_member(c, "key-byok.json", err) : NULL;
	cJSON *f = NULL;
	char *b64;
	int rc;

	*out = NULL;
	if (blob) {
		b64 = base64url_encode((const uint8_t *)blob, strlen(blob));
		if (b64 && (*out = cJSON_CreateObject()))
			cJSON_AddStringToObject(*out, "kty", apply_str(c->key, "type"));
		if (!b64 || !*out || !cJSON_AddStringToObject(*out, "key_hsm", b64))
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
		else
			rc = 0;
		free(b64);
		return rc;
	}
	if (!c->key_file)
		return 0;
	if ((rc = az_read_json(c->key_file, 65536, &f, err)))
		return rc;
	if (*apply_str(f, "pkcs8"))
		rc = jwk_from_pkcs8(c->key_file, f, out, err);
	else if (*apply_str(f, "kty") && (*apply_str(f, "d") || *apply_str(f, "k")))
		*out = f, f = NULL;
	else
		rc = ng_errf(err, NG_EINVAL,
			     "--key-file %s: neither nutgen's key file nor a private JWK (kty and "
			     "d or k): give the mint key `nutgen key new` wrote",
			     c->key_file);
	az_json_wipe(f);
	cJSON_Delete(f);
	return rc;
}

static int step_key(struct apply_ctx *c, char *what, struct ng_err *err)
{
	static const char *const act[] = {"", "imported with the bundle's release policy",
					  "release policy updated and read back",
					  "unchanged: it already has this release policy"};
	const char *pol = apply_member(c, "release-policy.json", err);
	cJSON *key = NULL;
	struct kv_result r;
	int rc;

	if (!pol)
		return NG_EINVAL;
	if (!c->kv)
		return ng_errf(err, NG_EINVAL, "%s: manifest lacks key.vault", c->bundle_path);
	if (!(rc = import_key(c, &key, err)))
		rc = kv_apply_key(c->kv, apply_str(c->key, "name"), key, pol, &r, err);
	az_json_wipe(key);
	cJSON_Delete(key);
	if (rc)
		return ng_err_prefix(err, rc, "key");
	snprintf(what, WHAT, "%s %s", apply_str(c->key, "name"), act[r.action]);
	return r.action != KV_UNCHANGED;
}

/* Skipped when deployment nutgen-<manifest id> succeeded and the group runs
 * the bundle's policy; a co-signed bundle keeps its manifest, hence its name. */
static int step_deploy(struct apply_ctx *c, char *what, struct ng_err *err)
{
	const char *text = apply_member(c, "arm-template.json", err);
	const char *regpw = getenv("NUTAPPLY_REGISTRY_PASSWORD");
	cJSON *tmpl = NULL, *params = NULL, *g = NULL, *d = NULL;
	char *skey = NULL, name[64], path[160], cur[65];
	int rc;

	if (!text)
		return NG_EINVAL;
	snprintf(name, sizeof(name), "nutgen-%.16s", c->manifest_id);
	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s", name);
	if ((rc = arm_group_get(c->arm, c->group, &g, err)) && rc != NG_ENOTFOUND)
		goto out;
	c->group_existed = !rc;
	apply_group_hostdata(g, cur);
	if (c->group_existed && !strcmp(cur, c->hostdata)) {
		rc = arm_request(c->arm, "GET", path, ARM_API_DEPLOYMENTS, NULL, c->timeout, &d,
				 err);
		if (rc && rc != NG_ENOTFOUND)
			goto out;
		if (!rc && !strcmp(apply_str(d, "properties.provisioningState"), "Succeeded")) {
			snprintf(
			    what, WHAT,
			    "unchanged: deployment %s succeeded, group %s runs hostdata %.12s…",
			    name, c->group, cur);
			goto out;
		}
	}
	if (!(tmpl = cJSON_Parse(text)) || !(params = cJSON_CreateObject())) {
		rc = ng_errf(err, NG_EINVAL, "%s: arm-template.json is not JSON", c->bundle_path);
		goto out;
	}
	/* A missing secret fails here, before listKeys fetches the storage key. */
	if ((rc = arm_fill_secure_params(tmpl, params, "-", regpw, err)))
		goto out;
	az_json_wipe(params);
	cJSON_Delete(params);
	params = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(tmpl, "parameters"),
					     "storageAccountKey") &&
	    (rc = arm_storage_key(c->arm, apply_str(c->dep, "storage_account"), &skey, err)))
		goto out;
	if (!params)
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	else if (!(rc = arm_fill_secure_params(tmpl, params, skey, regpw, err)) &&
		 !(rc = arm_deploy(c->arm, name, tmpl, params, c->timeout, err)))
		rc = 1;
	snprintf(what, WHAT, "deployment %s succeeded (group %s %s)", name, c->group,
		 c->group_existed ? "updated" : "created");
out:
	wipe_free(skey);
	az_json_wipe(params);
	cJSON_Delete(params);
	cJSON_Delete(tmpl);
	cJSON_Delete(g);
	cJSON_Delete(d);
	return rc < 0 ? ng_err_prefix(err, rc, "deploy") : rc;
}

/* A group that ran before restarts so that every container starts from the
 * new definition, image and volume. */
static int step_group(struct apply_ctx *c, char *what, struct ng_err *err)
{
	int restart = c->changed && c->group_existed, rc;

	if ((restart && (rc = arm_group_restart(c->arm, c->group, c->timeout, err))) ||
	    (rc = arm_group_wait_running(c->arm, c->group, c->timeout, err)))
		return rc;
	snprintf(what, WHAT, "%s%s: every container runs", restart ? "restarted, " : "", c->group);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct apply_ctx *c, char *what, struct ng_err *err);
} steps[] = {
    {"volume", step_volume}, {"key", step_key}, {"deploy", step_deploy}, {"group", step_group}};
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static void receipt(struct apply_ctx *c, char what[][WHAT], const double *secs, double total)
{
	cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "steps"), *e;
	char *t;

	if (!c->json) {
		printf("bundle %s (serial %llu)\nhostdata %s\n", c->digest,
		       (unsigned long long)c->b->m->serial, c->hostdata);
		for (size_t i = 0; i < NSTEPS; i++)
			printf("%-8s %s (%.1f s)\n", steps[i].name, what[i], secs[i]);
		printf("%s in %.1f s\n",
		       c->changed ? "applied" : "nothing changed: already applied", total);
	}
	cJSON_AddStringToObject(o, "bundle_sha256", c->digest);
	cJSON_AddStringToObject(o, "hostdata", c->hostdata);
	cJSON_AddNumberToObject(o, "serial", (double)c->b->m->serial);
	cJSON_AddBoolToObject(o, "changed", c->changed);
	cJSON_AddNumberToObject(o, "seconds", total);
	for (size_t i = 0; i < NSTEPS; i++) {
		cJSON_AddItemToArray(a, e = cJSON_CreateObject());
		cJSON_AddStringToObject(e, "step", steps[i].name);
		cJSON_AddStringToObject(e, "result", what[i]);
		cJSON_AddNumberToObject(e, "seconds", secs[i]);
	}
	if (c->json && (t = cJSON_PrintUnformatted(o))) {
		puts(t);
		free(t);
	}
	cJSON_Delete(o);
}

int cmd_apply(int argc, char **argv)
{
	struct apply_ctx c;
	struct ng_err err = {{0}};
	char what[NSTEPS][WHAT] = {{0}};
	double secs[NSTEPS], t0 = now_s(), t;
	int rc;

	if ((rc = apply_ctx_parse(&c, argc, argv, cmd_apply_usage, "rpK", 0)))
		return rc < 0 ? 0 : rc;
	progress_set_quiet(c.quiet);
	if ((rc = apply_ctx_open(&c, 1, &err)))
		goto out;
	for (size_t i = 0; i < NSTEPS; i++) {
		t = now_s();
		if ((rc = steps[i].run(&c, what[i], &err)) < 0)
			goto out;
		c.changed |= rc;
		secs[i] = now_s() - t;
	}
	rc = 0;
	receipt(&c, what, secs, now_s() - t0);
out:
	apply_ctx_close(&c);
	return rc ? cli_fail("nutapply apply", rc, &err) : 0;
}

/* Each line says what apply would do; pending is set when it would write. */
static int plan_volume(struct apply_ctx *c, char *line, int *pending, struct ng_err *err)
{
	const char *vid = c->volume_id;
	struct blob_state bs;
	int rc;

	if (!*apply_str(c->vol, "blob"))
		return snprintf(line, WHAT, "no volume in the bundle"), 0;
	if ((rc = blob_status(c->s.http, &c->blob, apply_str(c->vol, "blob"), &bs, err)))
		return rc;
	if (!bs.exists) {
		*pending |= *vid != 0;
		snprintf(line, WHAT, "absent: %s",
			 *vid ? "would be created" : "REFERENCED BUT MISSING");
	} else if (*vid && !strcmp(bs.volume, vid) && !strcmp(bs.state, "complete")) {
		snprintf(line, WHAT, "present, this volume: unchanged");
	} else {
		*pending |= *vid != 0;
		snprintf(line, WHAT, "present, volume %.16s (%s)%s", *bs.volume ? bs.volume : "?",
			 *bs.state ? bs.state : "not made by nutapply",
			 !*vid			   ? ": kept"
			 : !strcmp(bs.volume, vid) ? ": upload would resume"
						   : ": apply refuses without --replace-volume");
	}
	return 0;
}

static int plan_key(struct apply_ctx *c, char *line, int *pending, struct ng_err *err)
{
	const char *text = apply_member(c, "release-policy.json", err), *name;
	cJSON *kb = NULL, *pol = text ? cJSON_Parse(text) : NULL;
	int rc = 0;

	name = apply_str(c->key, "name");
	if (!pol)
		snprintf(line, WHAT, "bundle has no release policy");
	else if (!c->kv)
		snprintf(line, WHAT, "no vault in the manifest");
	else if ((rc = kv_get_key(c->kv, name, &kb, err)) == NG_ENOTFOUND)
		snprintf(line, WHAT, "%s absent: would be imported", name);
	else if (!rc && kv_policy_matches(kb, pol))
		snprintf(line, WHAT, "%s: release policy matches", name);
	else if (!rc)
		snprintf(line, WHAT, "%s: release policy differs: would be updated", name);
	*pending |= rc == NG_ENOTFOUND || (!rc && pol && c->kv && !kv_policy_matches(kb, pol));
	cJSON_Delete(kb);
	cJSON_Delete(pol);
	return rc == NG_ENOTFOUND ? 0 : rc;
}

static int plan_group(struct apply_ctx *c, char *line, int *pending, struct ng_err *err)
{
	cJSON *g = NULL;
	char cur[65];
	int rc = arm_group_get(c->arm, c->group, &g, err);

	apply_group_hostdata(g, cur);
	cJSON_Delete(g);
	if (rc && rc != NG_ENOTFOUND)
		return rc;
	*pending |= rc || strcmp(cur, c->hostdata);
	if (rc)
		snprintf(line, WHAT, "%s absent: would be created", c->group);
	else
		snprintf(line, WHAT, "%s runs hostdata %s, bundle %s%s", c->group, *cur ? cur : "?",
			 c->hostdata, strcmp(cur, c->hostdata) ? ": would deploy and restart" : "");
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	struct apply_ctx c;
	struct ng_err err = {{0}};
	char line[3][WHAT];
	int rc, pending = 0;

	if ((rc = apply_ctx_parse(&c, argc, argv, cmd_plan_usage, "", 0)))
		return rc < 0 ? 0 : rc;
	if ((rc = apply_ctx_open(&c, 0, &err)) || (rc = plan_volume(&c, line[0], &pending, &err)) ||
	    (rc = plan_key(&c, line[1], &pending, &err)) ||
	    (rc = plan_group(&c, line[2], &pending, &err)))
		goto out;
	if (c.json)
		printf("{\"volume\":\"%s\",\"key\":\"%s\",\"group\":\"%s\",\"changes\":%s}\n",
		       line[0], line[1], line[2], pending ? "true" : "false");
	else
		printf("volume   %s\nkey      %s\ngroup    %s\n%s\n", line[0], line[1], line[2],
		       pending ? "apply would change the above" : "nothing to change");
out:
	apply_ctx_close(&c);
	return rc ? cli_fail("nutapply plan", rc, &err) : pending ? 3 : 0;
}
