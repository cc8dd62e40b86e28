/* cmd_apply.c: `nutapply apply` and `nutapply plan`: bring Azure to what a
 * verified bundle describes, each step idempotent and skipped when already
 * done (issue 8; azure-rest.md §8 for the volume), or say what would
 * change without changing anything. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/progress.h"
#include "applyctx.h"

#define COMMON_OPTS                                                                                \
	"  --trust PUB          trusted signer public key (PEM); repeatable, required\n"           \
	"  --threshold N        distinct trusted signers required (default 1)\n"                   \
	"  --ca-file FILE       add a CA (PEM) to the system trust store\n"                        \
	"  --json               print the result as JSON on stdout\n"                              \
	"  --timeout SECONDS    for the deployment and the containers (default 1800)\n"            \
	"  -q, --quiet          no progress or credential notes on stderr\n"

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
    "     bundle carries none (exportable, never immutable), or updates\n"
    "     the release policy of the existing key's current version and reads it back;\n"
    "  3. deploy: the bundle's ARM template, secure parameters filled now\n"
    "     (storageAccountKey by listKeys, registryPassword from\n"
    "     NUTAPPLY_REGISTRY_PASSWORD);\n"
    "  4. restarts the group when it already existed; waits until every container runs;\n"
    "  5. prints a receipt: bundle digest, hostdata, what each step did, times.\n"
    "Endpoints come from the bundle's manifest (deployment.cloud). The blob is\n"
    "written with AZURE_STORAGE_KEY when set, else an Entra token.\n"
    "\n"
    "Options:\n" COMMON_OPTS
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
    "Options:\n" COMMON_OPTS "\n"
    "Exit status: 0 nothing to change, 3 changes pending, 1 failure, 2 usage.\n"
    "Example: nutapply plan bundle.tgz --trust ops.pub\n";

struct step {
	const char *name;
	char what[160];
	double seconds;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The manifest's digest names the volume's writer and the deployment: it
 * does not change when the bundle is co-signed. */
static void manifest_id(const struct apply_ctx *c, char out[65])
{
	sha256_hex(c->b->manifest_bytes, c->b->manifest_len, out);
}

static int step_volume(struct apply_ctx *c, struct step *s, struct ng_err *err)
{
	const struct bundle_member *m = bundle_member_get(c->b, "encfs.img");
	struct blob_opts bo = {.replace = c->replace_volume, .parallel = c->parallel};
	struct blob_result r;
	char path[4096], vid[65], bid[65];
	static const char *const act[] = {"unchanged: the blob already holds this volume",
					  "created and uploaded", "resumed and completed",
					  "replaced (snapshot %s first)"};
	int rc;

	if (strcmp(apply_str(c->vol, "action"), "create") || !m) {
		snprintf(s->what, sizeof(s->what), "skipped: the bundle references a volume");
		return 0;
	}
	hex_encode(m->sha256, 32, vid);
	manifest_id(c, bid);
	snprintf(path, sizeof(path), "%s/encfs.img", c->dir);
	if ((rc = blob_upload_volume(c->s.http, &c->blob, apply_str(c->vol, "blob"), path, bid, vid,
				     &bo, &r, err)))
		return ng_err_prefix(err, rc, "volume");
	snprintf(s->what, sizeof(s->what), act[r.action], r.snapshot);
	if (r.action != BLOB_UNCHANGED)
		snprintf(s->what + strlen(s->what), sizeof(s->what) - strlen(s->what),
			 ", %llu bytes of page data sent", (unsigned long long)r.put_bytes);
	return r.action == BLOB_UNCHANGED ? 0 : 1;
}

/* The BYOK transfer blob as Key Vault imports it: {kty, key_hsm} with the
 * blob's JSON base64url-encoded (azure-rest.md §3.2). */
static int byok_key(struct apply_ctx *c, cJSON **out, struct ng_err *err)
{
	const char *blob = apply_member(c, "key-byok.json", err);
	char *b64;

	*out = NULL;
	if (!blob)
		return NG_EINVAL;
	if (!(b64 = base64url_encode((const uint8_t *)blob, strlen(blob))) ||
	    !(*out = cJSON_CreateObject()) ||
	    !cJSON_AddStringToObject(*out, "kty", apply_str(c->key, "type")) ||
	    !cJSON_AddStringToObject(*out, "key_hsm", b64)) {
		free(b64);
		return ng_errf(err, NG_ENOMEM, "out of memory");
	}
	free(b64);
	return 0;
}

/* A bundle built without a KEK carries no wrapped key: the operator gives
 * the private JWK in a file (never argv), imported as it is (§3.1). */
static int jwk_key(const char *path, cJSON **out, struct ng_err *err)
{
	int rc = az_read_json(path, 65536, out, err);

	if (rc)
		return rc;
	if (!az_json_str(*out, "kty") || (!cJSON_GetObjectItemCaseSensitive(*out, "d") &&
					  !cJSON_GetObjectItemCaseSensitive(*out, "k"))) {
		az_json_wipe(*out);
		cJSON_Delete(*out);
		*out = NULL;
		return ng_errf(err, NG_EINVAL,
			       "--key-file %s: not a private JWK (kty and d or k): give the "
			       "mint key's private JWK",
			       path);
	}
	return 0;
}

static int step_key(struct apply_ctx *c, struct step *s, struct ng_err *err)
{
	const char *pol = apply_member(c, "release-policy.json", err);
	cJSON *key = NULL;
	struct kv_result r;
	int rc;
	static const char *const act[] = {"", "imported (BYOK) with the bundle's release policy",
					  "release policy updated and read back",
					  "unchanged: it already has this release policy"};

	if (!pol)
		return NG_EINVAL;
	if (!c->kv)
		return ng_errf(err, NG_EINVAL, "%s: manifest lacks key.vault", c->bundle_path);
	if (bundle_member_get(c->b, "key-byok.json")) {
		if ((rc = byok_key(c, &key, err)))
			return rc;
	} else if (c->key_file && (rc = jwk_key(c->key_file, &key, err))) {
		return rc;
	}
	rc = kv_apply_key(c->kv, apply_str(c->key, "name"), key, pol, &r, err);
	az_json_wipe(key);
	cJSON_Delete(key);
	if (rc)
		return ng_err_prefix(err, rc, "key");
	snprintf(s->what, sizeof(s->what), "%s %s", apply_str(c->key, "name"), act[r.action]);
	return r.action == KV_UNCHANGED ? 0 : 1;
}

/* Deploys unless deployment nutgen-<manifest id> succeeded and the group
 * runs the bundle's policy. *existed: the group was there before. */
static int step_deploy(struct apply_ctx *c, struct step *s, int *existed, struct ng_err *err)
{
	const char *text = apply_member(c, "arm-template.json", err);
	const char *regpw = getenv("NUTAPPLY_REGISTRY_PASSWORD");
	cJSON *tmpl = NULL, *params = NULL, *g = NULL, *d = NULL;
	char *skey = NULL, name[64], id[65], path[160], cur[65] = "";
	int rc;

	if (!text)
		return NG_EINVAL;
	manifest_id(c, id);
	snprintf(name, sizeof(name), "nutgen-%.16s", id);
	rc = arm_group_get(c->arm, c->group, &g, err);
	if (rc && rc != NG_ENOTFOUND)
		goto out;
	*existed = rc == 0;
	apply_group_hostdata(g, cur);
	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s", name);
	if (*existed && !strcmp(cur, c->hostdata)) {
		rc = arm_request(c->arm, "GET", path, ARM_API_DEPLOYMENTS, NULL, c->timeout, &d,
				 err);
		if (rc && rc != NG_ENOTFOUND)
			goto out;
		if (!rc && !strcmp(az_json_str(d, "properties.provisioningState")
				       ? az_json_str(d, "properties.provisioningState")
				       : "",
				   "Succeeded")) {
			snprintf(
			    s->what, sizeof(s->what),
			    "unchanged: deployment %s succeeded, group %s runs hostdata %.12s…",
			    name, c->group, cur);
			rc = 0;
			goto out;
		}
	}
	if (!(tmpl = cJSON_Parse(text)) || !(params = cJSON_CreateObject())) {
		rc = ng_errf(err, NG_EINVAL, "%s: arm-template.json is not JSON", c->bundle_path);
		goto out;
	}
	if ((rc = arm_fill_secure_params(tmpl, params, "-", regpw, err)))
		goto out;
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(tmpl, "parameters"),
					     "storageAccountKey") &&
	    (rc = arm_storage_key(c->arm, apply_str(c->dep, "storage_account"), &skey, err)))
		goto out;
	cJSON_Delete(params);
	if (!(params = cJSON_CreateObject())) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = arm_fill_secure_params(tmpl, params, skey, regpw, err)) ||
	    (rc = arm_deploy(c->arm, name, tmpl, params, c->timeout, err)))
		goto out;
	snprintf(s->what, sizeof(s->what), "deployment %s succeeded (group %s %s)", name, c->group,
		 *existed ? "updated" : "created");
	rc = 1;
out:
	if (skey) {
		OPENSSL_cleanse(skey, strlen(skey));
		free(skey);
	}
	az_json_wipe(params);
	cJSON_Delete(params);
	cJSON_Delete(tmpl);
	cJSON_Delete(g);
	cJSON_Delete(d);
	return rc < 0 ? ng_err_prefix(err, rc, "deploy") : rc;
}

static void receipt(struct apply_ctx *c, struct step *st, int n, int changed, double total)
{
	if (c->json) {
		cJSON *o = cJSON_CreateObject(), *steps = cJSON_AddArrayToObject(o, "steps");
		cJSON_AddStringToObject(o, "bundle_sha256", c->digest);
		cJSON_AddStringToObject(o, "hostdata", c->hostdata);
		cJSON_AddNumberToObject(o, "serial", (double)c->b->m->serial);
		cJSON_AddBoolToObject(o, "changed", changed);
		cJSON_AddNumberToObject(o, "seconds", total);
		for (int i = 0; i < n; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "step", st[i].name);
			cJSON_AddStringToObject(e, "result", st[i].what);
			cJSON_AddNumberToObject(e, "seconds", st[i].seconds);
			cJSON_AddItemToArray(steps, e);
		}
		char *t = cJSON_PrintUnformatted(o);
		puts(t ? t : "{}");
		free(t);
		cJSON_Delete(o);
		return;
	}
	printf("bundle %s (serial %llu)\nhostdata %s\n", c->digest,
	       (unsigned long long)c->b->m->serial, c->hostdata);
	for (int i = 0; i < n; i++)
		printf("%-8s %s (%.1f s)\n", st[i].name, st[i].what, st[i].seconds);
	printf("%s in %.1f s\n", changed ? "applied" : "nothing changed: already applied", total);
}

int cmd_apply(int argc, char **argv)
{
	struct apply_ctx c;
	struct ng_err err = {{0}};
	struct step st[4] = {
	    {"volume", "", 0}, {"key", "", 0}, {"deploy", "", 0}, {"group", "", 0}};
	int rc, changed = 0, existed = 0;
	double t0 = now_s(), t;

	if ((rc = apply_ctx_parse(&c, argc, argv, cmd_apply_usage, "rpK", 0)))
		return rc < 0 ? 0 : rc;
	progress_set_quiet(c.quiet);
	if ((rc = apply_ctx_open(&c, 1, &err)))
		goto out;
	t = now_s();
	if ((rc = step_volume(&c, &st[0], &err)) < 0)
		goto out;
	changed |= rc;
	st[0].seconds = now_s() - t, t = now_s();
	if ((rc = step_key(&c, &st[1], &err)) < 0)
		goto out;
	changed |= rc;
	st[1].seconds = now_s() - t, t = now_s();
	if ((rc = step_deploy(&c, &st[2], &existed, &err)) < 0)
		goto out;
	changed |= rc;
	st[2].seconds = now_s() - t, t = now_s();
	/* A group that ran before restarts so that every container starts
	 * from the new definition, image and volume. */
	if (rc && existed && (rc = arm_group_restart(c.arm, c.group, c.timeout, &err)))
		goto out;
	if ((rc = arm_group_wait_running(c.arm, c.group, c.timeout, &err)))
		goto out;
	snprintf(st[3].what, sizeof(st[3].what), "%s%s: every container runs",
		 changed && existed ? "restarted, " : "", c.group);
	st[3].seconds = now_s() - t;
	receipt(&c, st, 4, changed, now_s() - t0);
out:
	apply_ctx_close(&c);
	return rc ? cli_fail("nutapply apply", rc, &err) : 0;
}

int cmd_plan(int argc, char **argv)
{
	struct apply_ctx c;
	struct ng_err err = {{0}};
	struct blob_state bs;
	cJSON *kb = NULL, *g = NULL, *pol = NULL;
	char vid[65] = "", cur[65] = "", line[3][200];
	const struct bundle_member *m;
	int rc, pending = 0;

	if ((rc = apply_ctx_parse(&c, argc, argv, cmd_plan_usage, "", 0)))
		return rc < 0 ? 0 : rc;
	if ((rc = apply_ctx_open(&c, 0, &err)))
		goto out;
	if ((m = bundle_member_get(c.b, "encfs.img")))
		hex_encode(m->sha256, 32, vid);
	if (!*apply_str(c.vol, "blob")) {
		snprintf(line[0], 200, "no volume in the bundle");
	} else if ((rc = blob_status(c.s.http, &c.blob, apply_str(c.vol, "blob"), &bs, &err))) {
		goto out;
	} else if (!bs.exists) {
		pending |= *vid != 0;
		snprintf(line[0], 200, "absent: %s",
			 *vid ? "would be created" : "REFERENCED BUT MISSING");
	} else if (*vid && !strcmp(bs.volume, vid) && !strcmp(bs.state, "complete")) {
		snprintf(line[0], 200, "present, this volume: unchanged");
	} else {
		pending |= *vid != 0;
		snprintf(line[0], 200, "present, volume %.16s (%s)%s", *bs.volume ? bs.volume : "?",
			 *bs.state ? bs.state : "not made by nutapply",
			 *vid ? !strcmp(bs.volume, vid) ? ": upload would resume"
							: ": apply refuses without --replace-volume"
			      : ": kept");
	}
	if (!(pol = cJSON_Parse(apply_member(&c, "release-policy.json", &err)
				    ? apply_member(&c, "release-policy.json", &err)
				    : "")))
		snprintf(line[1], 200, "bundle has no release policy");
	else if (!c.kv)
		snprintf(line[1], 200, "no vault in the manifest");
	else if ((rc = kv_get_key(c.kv, apply_str(c.key, "name"), &kb, &err)) && rc != NG_ENOTFOUND)
		goto out;
	else if (rc)
		pending = 1,
		snprintf(line[1], 200, "%s absent: would be imported", apply_str(c.key, "name"));
	else if (kv_policy_matches(kb, pol))
		snprintf(line[1], 200, "%s: release policy matches", apply_str(c.key, "name"));
	else
		pending = 1, snprintf(line[1], 200, "%s: release policy differs: would be updated",
				      apply_str(c.key, "name"));
	if ((rc = arm_group_get(c.arm, c.group, &g, &err)) && rc != NG_ENOTFOUND)
		goto out;
	apply_group_hostdata(g, cur);
	if (rc)
		snprintf(line[2], 200, "%s absent: would be created", c.group);
	else
		snprintf(line[2], 200, "%s runs hostdata %s, bundle %s%s", c.group,
			 *cur ? cur : "?", c.hostdata,
			 strcmp(cur, c.hostdata) ? ": would deploy and restart" : "");
	pending |= rc != 0 || strcmp(cur, c.hostdata);
	rc = 0;
	if (c.json)
		printf("{\"volume\":\"%s\",\"key\":\"%s\",\"group\":\"%s\",\"changes\":%s}\n",
		       line[0], line[1], line[2], pending ? "true" : "false");
	else
		printf("volume   %s\nkey      %s\ngroup    %s\n%s\n", line[0], line[1], line[2],
		       pending ? "apply would change the above" : "nothing to change");
out:
	cJSON_Delete(kb);
	cJSON_Delete(g);
	cJSON_Delete(pol);
	apply_ctx_close(&c);
	return rc ? cli_fail("nutapply plan", rc, &err) : pending ? 3 : 0;
}
