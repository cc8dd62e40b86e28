/* cmd_infra.c: `nutapply infra plan|up|down`: the Azure resources a
 * deployment needs, deployed from templates/infra/infra.json, and
 * target.json for the air-gapped side (docs/infra.md). */
#include <getopt.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/jsonpath.h"
#include "arm.h"
#include "azcall.h"
#include "blob_req.h"
#include "keyvault.h"

#define TIMEOUT_S 1800.0 /* per ARM operation */
#define DEP	  "/providers/Microsoft.Resources/deployments/nutgen-infra"

const char cmd_infra_usage[] =
    "Usage: nutapply infra plan|up INFRA.json [-o target.json] [OPTIONS]\n"
    "       nutapply infra down INFRA.json --yes [--quick] [--delete-data --download FILE]\n"
    "\n"
    "The Azure resources of a deployment: one ARM deployment of templates/infra/infra.json\n"
    "named by INFRA.json and the seed's environment variables (docs/infra.md).\n"
    "  plan   what-if: prints what up would change; changes nothing\n"
    "  up     what-if, deploy when something changes, create the key-exchange key\n"
    "         (RSA-HSM 4096, key_ops import) if absent, write target.json, print the\n"
    "         KEK fingerprint (SHA-256 of its DER SubjectPublicKeyInfo)\n"
    "  down   container group first, then the rest; the storage account stays while it\n"
    "         holds the encfs volume unless --delete-data --download FILE copied it;\n"
    "         --quick deletes the resource group, refused while the volume is uncopied\n"
    "Options: -o/--out FILE, --cloud NAME, --cloud-file FILE, --ca-file FILE, -q/--quiet\n"
    "Exit status: 0 done, 1 failure or refusal (one line on stderr), 2 usage.\n";

enum { F_SUB, F_RG, F_LOC, F_KV, F_SA, F_ATT, F_MI, F_SHARE, F_CG, F_KEK, F_OPID, F_OPTYPE, F_N };

/* INFRA.json member, the seed's environment variable, the seed default, the
 * template parameter it fills. */
static const char *const fields[F_N][4] = {
    {"subscription", "AZURE_SUBSCRIPTION_ID", "", NULL},
    {"resource_group", "RESOURCE_GROUP", "rg-nutshell-tee", NULL},
    {"location", "LOCATION", "northeurope", "location"},
    {"key_vault", "KEY_VAULT_NAME", "kv-nutshell-tee", "keyVaultName"},
    {"storage_account", "STORAGE_ACCOUNT", "stnutshelltee", "storageAccountName"},
    {"attestation_provider", "ATTESTATION_PROVIDER", "attestnutshelltee", "attestationName"},
    {"managed_identity", "MANAGED_IDENTITY_NAME", "id-nutshell-tee", "identityName"},
    {"caddy_file_share", "CADDY_FILE_SHARE", "caddy", "fileShareName"},
    {"container_group", "CONTAINER_GROUP_NAME", "nutshell-tee", NULL},
    {"kek_name", "NUTGEN_KEK_NAME", "nutgen-kek", NULL},
    {"operator_principal_id", "NUTGEN_OPERATOR_PRINCIPAL_ID", "", "operatorPrincipalId"},
    {"operator_principal_type", "NUTGEN_OPERATOR_PRINCIPAL_TYPE", "User", "operatorPrincipalType"},
};

/* What `down` deletes after the container group, in this order. */
static const char *const rtype[F_MI + 1][2] = {
    [F_KV] = {"Microsoft.KeyVault/vaults", "2023-07-01"},
    [F_SA] = {"Microsoft.Storage/storageAccounts", ARM_API_STORAGE},
    [F_ATT] = {"Microsoft.Attestation/attestationProviders", "2021-06-01"},
    [F_MI] = {"Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31"},
};

struct infra {
	char v[F_N][256];
	struct az_session s;
	struct arm_client *arm;
	int quiet, yes, quick, delete_data;
	const char *download;
};

static int load_spec(const char *path, struct infra *in, struct ng_err *err)
{
	cJSON *j = NULL;
	int rc = az_read_json(path, 64 << 10, &j, err), known = 0;

	for (int k = 0; k < F_N && !rc; k++) {
		const char *e = getenv(fields[k][1]),
			   *f = cJSON_GetStringValue(
			       cJSON_GetObjectItemCaseSensitive(j, fields[k][0]));
		known += f && strlen(f) < sizeof(in->v[k]);
		snprintf(in->v[k], sizeof(in->v[k]), "%s", e && *e ? e : f ? f : fields[k][2]);
		char bad = in->v[k][strspn(in->v[k], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
						     "QRSTUVWXYZ0123456789-_.:/()")];
		if (bad)
			rc = ng_errf(err, NG_EINVAL, "%s: %s: character '%c' not allowed", path,
				     fields[k][0], bad);
	}
	if (!rc && (!cJSON_IsObject(j) || known != cJSON_GetArraySize(j)))
		rc = ng_errf(err, NG_EINVAL,
			     "%s: want an object of short strings, members as docs/infra.md lists",
			     path);
	else if (!rc && !in->v[F_SUB][0])
		rc = ng_errf(err, NG_EINVAL,
			     "%s: no subscription: set \"subscription\" or AZURE_SUBSCRIPTION_ID",
			     path);
	cJSON_Delete(j);
	return rc;
}

/* The KEK's SubjectPublicKeyInfo (RFC 5280 §4.1) as PEM, and SHA-256 over
 * its DER: the fingerprint of docs/infra.md. RSA 4096 with e = 65537 has one
 * DER layout: this prefix (RFC 8017 A.1.1), n's 512 bytes, then e. */
static int kek_spki(const cJSON *jwk, char **pem, char fp[72])
{
	static const uint8_t pre[] = {0x30, 0x82, 0x02, 0x22, 0x30, 0x0d, 0x06, 0x09, 0x2a,
				      0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
				      0x00, 0x03, 0x82, 0x02, 0x0f, 0x00, 0x30, 0x82, 0x02,
				      0x0a, 0x02, 0x82, 0x02, 0x01, 0x00};
	const char *n64 = json_path_str(jwk, "n"), *e64 = json_path_str(jwk, "e");
	uint8_t der[sizeof(pre) + 512 + 5], *n = NULL, d[32];
	size_t nl = 0, z = 0;
	char *b64 = NULL, *w;

	if (n64 && e64 && !strcmp(e64, "AQAB"))
		base64url_decode(n64, strlen(n64), &n, &nl, NULL);
	while (nl - z > 512 && !n[z]) /* a leading zero byte is not part of n */
		z++;
	if (nl - z == 512 && n[z] >= 0x80) {
		memcpy(der, pre, sizeof(pre));
		memcpy(der + sizeof(pre), n + z, 512);
		memcpy(der + sizeof(pre) + 512, "\x02\x03\x01\x00\x01", 5);
		sha256(der, sizeof(der), d);
		memcpy(fp, "sha256:", 7);
		hex_encode(d, 32, fp + 7);
		b64 = base64_encode(der, sizeof(der));
	}
	if (b64 && (*pem = w = malloc(strlen(b64) * 2 + 64))) {
		w += sprintf(w, "-----BEGIN PUBLIC KEY-----\n");
		for (size_t i = 0; i < strlen(b64); i += 64) /* RFC 7468 §2: 64 per line */
			w += sprintf(w, "%.64s\n", b64 + i);
		sprintf(w, "-----END PUBLIC KEY-----\n");
	}
	free(n);
	free(b64);
	return *pem ? 0 : -1;
}

/* Gets the KEK, creating it (RSA-HSM 4096, import only) when absent; refuses
 * any other key of that name. The create is not retried (a retry could add
 * a version): a failed one stops, and the next up finds or creates it. */
static int kek_ensure(struct infra *in, const char *vault, cJSON **kek, char **pem, char fp[72],
		      struct ng_err *err)
{
	struct kv_client *kv = NULL;
	struct az_api api = {in->s.http, in->s.cred, in->s.cloud.vault_resource};
	struct http_resp r;
	char url[768];
	int rc = kv_client_new(in->s.http, in->s.cred, &in->s.cloud, vault, &kv, err), made = 0;

	if (!rc)
		rc = kv_get_key(kv, in->v[F_KEK], kek, err);
	kv_client_free(kv);
	if (rc == NG_ENOTFOUND) {
		cJSON *body =
		    cJSON_Parse("{\"kty\":\"RSA-HSM\",\"key_size\":4096,"
				"\"key_ops\":[\"import\"],\"attributes\":{\"enabled\":true}}");
		snprintf(url, sizeof(url), "%.*s/keys/%s/create?api-version=7.4",
			 (int)strlen(vault) - (vault[strlen(vault) - 1] == '/'), vault,
			 in->v[F_KEK]);
		http_resp_init(&r);
		if (!(rc = az_call(&api, "POST", url, body, 0, &r, kek, err)) && r.status != 200)
			rc = http_status_err(&r, err, NG_ENET, "create the key-exchange key");
		http_resp_free(&r);
		cJSON_Delete(body);
		made = 1;
	}
	const cJSON *key = cJSON_GetObjectItem(*kek, "key"),
		    *ops = cJSON_GetObjectItem(key, "key_ops");
	const char *kty = json_path_str(key, "kty"),
		   *op = cJSON_GetStringValue(cJSON_GetArrayItem(ops, 0));
	if (!rc && (!kty || strcmp(kty, "RSA-HSM") || cJSON_GetArraySize(ops) != 1 || !op ||
		    strcmp(op, "import") || !json_path_str(key, "kid") || kek_spki(key, pem, fp)))
		rc = ng_errf(err, NG_EEXIST,
			     "kek %s: exists but is not an RSA-HSM 4096 key with key_ops [import]; "
			     "name another kek_name in the infra file",
			     in->v[F_KEK]);
	if (!rc)
		printf("kek %s: %s\n", in->v[F_KEK],
		       made ? "created (RSA-HSM 4096, key_ops import)" : "present");
	return rc;
}

/* target.json (docs/infra.md): the deployment's `target` output (the live
 * names and endpoints, read by reference() in the template), the cloud and
 * the KEK. No key, token or SAS ever goes in. */
static int write_target(struct infra *in, const cJSON *target, const char *out, struct ng_err *err)
{
	cJSON *t = cJSON_Duplicate(target, 1), *kek = NULL, *o, *m;
	char *pem = NULL, *text = NULL, fp[72] = "";
	const char *vault = json_path_str(t, "key_vault.uri");
	uint8_t *old = NULL;
	size_t oldn = 0, tl;
	int rc = vault
		     ? kek_ensure(in, vault, &kek, &pem, fp, err)
		     : ng_errf(err, NG_ENET, "deployment nutgen-infra: no vault URI in its output");

	if (rc)
		goto out;
	cJSON_AddStringToObject(t, "cloud", in->s.cloud.name);
	o = cJSON_AddObjectToObject(t, "kek");
	cJSON_AddStringToObject(o, "name", in->v[F_KEK]);
	cJSON_AddStringToObject(o, "kid", json_path_str(kek, "key.kid"));
	cJSON_AddStringToObject(o, "public_key_pem", pem);
	cJSON_AddStringToObject(o, "sha256", fp);
	cJSON_ArrayForEach(o, t) /* every member a non-empty string (gen/target.h) */
	    for (m = cJSON_IsObject(o) ? o->child : o; m && !rc;
		 m = cJSON_IsObject(o) ? m->next : NULL) if (!cJSON_GetStringValue(m) ||
							     !*m->valuestring) rc =
		ng_errf(err, NG_ENET, "deployment nutgen-infra: output %s is empty", m->string);
	if (rc || !(text = cJSON_Print(t))) {
		rc = rc ? rc : ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	tl = strlen(text);
	text[tl] = '\n'; /* written without its NUL */
	if (!read_file_capped(out, 1 << 20, &old, &oldn, NULL) && oldn == tl + 1 &&
	    !memcmp(old, text, oldn))
		printf("%s: unchanged\n", out);
	else if (!(rc = write_file_atomic(out, text, tl + 1, 0644, err)))
		printf("%s: written\n", out);
	if (!rc)
		printf("kek fingerprint: %s\n", fp + 7); /* bare hex: what nutgen build takes */
out:
	cJSON_Delete(kek);
	cJSON_Delete(t);
	free(old);
	free(text);
	free(pem);
	return rc;
}

/* The copy beside bin/ (a checkout or an install), else the source tree's. */
static int read_template(cJSON **out, struct ng_err *err)
{
	char path[PATH_MAX + 64], exe[PATH_MAX] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	*(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = 0;
	snprintf(path, sizeof(path), "%s/../templates/infra/infra.json", exe);
	if (access(path, R_OK) && getenv("NG_SRCDIR"))
		snprintf(path, sizeof(path), "%s/templates/infra/infra.json", getenv("NG_SRCDIR"));
	return az_read_json(path, 1 << 20, out, err);
}

/* The last deployment's `target` output, or NULL (none, or it failed). */
static const cJSON *target_output(struct infra *in, cJSON **dep, struct ng_err *err)
{
	cJSON_Delete(*dep);
	*dep = NULL;
	arm_request(in->arm, "GET", DEP, ARM_API_DEPLOYMENTS, NULL, TIMEOUT_S, dep, err);
	return cJSON_GetObjectItem(
	    cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(*dep, "properties"), "outputs"), "target"),
	    "value");
}

/* plan and up: what-if first (azure-rest.md §4.4), one line per resource. */
static int plan_up(struct infra *in, int up, const char *out, struct ng_err *err)
{
	cJSON *tmpl = NULL, *p = cJSON_CreateObject(), *body = cJSON_CreateObject(), *wi = NULL, *c;
	cJSON *dep = NULL;
	const cJSON *target = NULL;
	int rc = read_template(&tmpl, err), changes = 0;

	for (int k = 0; k < F_N; k++)
		if (fields[k][3])
			cJSON_AddStringToObject(cJSON_AddObjectToObject(p, fields[k][3]), "value",
						in->v[k]);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "assignOperator"), "value",
			      in->v[F_OPID][0] != 0);
	cJSON_AddStringToObject(body, "location", in->v[F_LOC]);
	if (!rc)
		rc = arm_request(in->arm, "GET", "", ARM_API_DEPLOYMENTS, NULL, TIMEOUT_S, NULL,
				 err);
	if (rc == NG_ENOTFOUND && !up) {
		printf("resource group %s: absent: up creates it and every resource\n",
		       in->v[F_RG]);
		rc = 0;
		goto out;
	}
	if (rc == NG_ENOTFOUND && !(rc = arm_request(in->arm, "PUT", "", ARM_API_DEPLOYMENTS, body,
						     TIMEOUT_S, NULL, err)))
		printf("resource group %s: created in %s\n", in->v[F_RG], in->v[F_LOC]);
	cJSON_DeleteItemFromObject(body, "location");
	cJSON *pr = cJSON_AddObjectToObject(body, "properties");
	cJSON_AddStringToObject(pr, "mode", "Incremental");
	cJSON_AddItemReferenceToObject(pr, "template", tmpl);
	cJSON_AddItemReferenceToObject(pr, "parameters", p);
	if (rc || (rc = arm_request(in->arm, "POST", DEP "/whatIf", ARM_API_DEPLOYMENTS, body,
				    TIMEOUT_S, &wi, err)))
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(wi, "properties"), "changes"))
	{
		const char *ty = json_path_str(c, "changeType"),
			   *id = json_path_str(c, "resourceId");
		if (ty && id) {
			changes += strcmp(ty, "NoChange") && strcmp(ty, "Ignore");
			printf("  %-9s %s\n", ty, id);
		}
	}
	if (!up)
		printf("plan: %d change(s)\n", changes);
	else if (!changes && (target = target_output(in, &dep, err)))
		printf("infrastructure: no change\n");
	else if (!(rc = arm_deploy(in->arm, "nutgen-infra", tmpl, p, TIMEOUT_S, err)))
		printf("deployment nutgen-infra: succeeded (%d change(s))\n", changes);
	if (up && !rc)
		rc = write_target(in, target ? target : target_output(in, &dep, err), out, err);
out:
	cJSON_Delete(tmpl);
	cJSON_Delete(p);
	cJSON_Delete(body);
	cJSON_Delete(wi);
	cJSON_Delete(dep);
	return rc;
}

/* Before anything is deleted, the volume blob (the mint's database): its
 * account is kept (*keep), or with --download its written page ranges
 * (azure-rest.md §1.5) are copied first, 4 MiB per Get Blob, each length
 * checked, into a sparse 0600 temp file renamed when complete. --quick
 * refuses while it exists uncopied. Account key from listKeys (§1.12). */
static int guard_volume(struct infra *in, int *keep, struct ng_err *err)
{
	struct blob_auth a = {.account = in->v[F_SA]};
	struct blob_state st = {0};
	struct blob_range *rg = NULL;
	struct safefile sf = {.fd = -1};
	struct http_resp r;
	struct breq q;
	cJSON *sa = NULL;
	char *key = NULL, url[768], path[512];
	uint8_t *kb = NULL;
	size_t kl = 0, n = 0;
	uint64_t got = 0;
	const char *ep;
	int rc;

	snprintf(path, sizeof(path), "/providers/%s/%s", rtype[F_SA][0], in->v[F_SA]);
	if ((rc = arm_request(in->arm, "GET", path, ARM_API_STORAGE, NULL, TIMEOUT_S, &sa, err)))
		goto out;
	if (!(ep = json_path_str(sa, "properties.primaryEndpoints.blob"))) {
		rc = ng_errf(err, NG_ENET, "storage account %s: no blob endpoint", in->v[F_SA]);
		goto out;
	}
	snprintf(url, sizeof(url), "%s%sencfs/encfs.img", ep, ep[strlen(ep) - 1] == '/' ? "" : "/");
	if ((rc = arm_storage_key(in->arm, in->v[F_SA], &key, err)) ||
	    (rc = base64_decode(key, strlen(key), &kb, &kl, err)))
		goto out;
	a.key = kb;
	a.key_len = kl;
	if ((rc = blob_status(in->s.http, &a, url, &st, err)) || !st.exists)
		goto out;
	if (in->quick && !in->download)
		rc = ng_errf(
		    err, NG_EEXIST,
		    "--quick refused: %s holds the encfs volume (the mint's database); add "
		    "--delete-data --download FILE, or drop --quick to keep the storage account",
		    in->v[F_SA]);
	if (rc || (*keep = !in->download) || (rc = safefile_open(&sf, in->download, 0600, err)))
		goto out;
	if (ftruncate(sf.fd, (off_t)st.size))
		rc = ng_errf(err, NG_EIO, "%s: cannot size the download", in->download);
	else
		rc = blob_page_ranges(in->s.http, &a, url, &rg, &n, err);
	for (size_t i = 0; i < n && !rc; i++)
		for (uint64_t o = rg[i].off, end = o + rg[i].len, l = 0; o < end && !rc; o += l) {
			l = end - o < BLOB_MAX_PUT ? end - o : BLOB_MAX_PUT;
			http_resp_init(&r);
			if (end > st.size)
				rc = ng_errf(err, NG_ENET,
					     "download: a page range lies past the blob");
			else if (breq_init(&q, "GET", url, NULL) ||
				 breq_add(&q, "x-ms-range: bytes=%llu-%llu", (unsigned long long)o,
					  (unsigned long long)(o + l - 1)))
				rc = ng_errf(err, NG_ENOMEM, "download: out of memory");
			else if (!(rc = blob_call(in->s.http, &a, &q, NULL, 0, &r, err)) &&
				 r.status != 206 && r.status != 200)
				rc = http_status_err(&r, err, NG_ENET,
						     "download of the volume blob");
			else if (!rc && (r.body.len != l ||
					 pwrite(sf.fd, r.body.data, l, (off_t)o) != (ssize_t)l))
				rc = ng_errf(err, NG_EIO,
					     "download: range at %llu: short read or write",
					     (unsigned long long)o);
			got += l;
			breq_free(&q);
			http_resp_free(&r);
		}
	if (!rc && !(rc = safefile_commit(&sf, err)))
		printf("volume blob: downloaded to %s (%llu bytes of data, size %llu)\n",
		       in->download, (unsigned long long)got, (unsigned long long)st.size);
out:
	if (rc && sf.fd >= 0)
		safefile_abort(&sf);
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	if (kb)
		OPENSSL_cleanse(kb, kl);
	free(key);
	free(kb);
	free(rg);
	cJSON_Delete(sa);
	return rc == NG_ENOTFOUND ? 0 : rc;
}

/* `infra down`: the volume guarded, the container group first (nothing
 * writes the volume afterwards), then the rest. The vault has purge
 * protection (seed hazard H22): it stays soft-deleted, recoverable, until
 * its retention ends. */
static int down(struct infra *in, struct ng_err *err)
{
	char path[512];
	int keep = 0, rc = guard_volume(in, &keep, err);

	if (rc || (rc = arm_group_delete(in->arm, in->v[F_CG], TIMEOUT_S, err)))
		return rc;
	printf("container group %s: deleted\n", in->v[F_CG]);
	for (int f = F_KV; f <= F_MI && !in->quick && !rc; f++) {
		snprintf(path, sizeof(path), "/providers/%s/%s", rtype[f][0], in->v[f]);
		if (!(f == F_SA && keep) &&
		    ((rc = arm_request(in->arm, "DELETE", path, rtype[f][1], NULL, TIMEOUT_S, NULL,
				       err)) == NG_ENOTFOUND ||
		     !rc))
			rc = printf("%s %s: deleted\n", rtype[f][0], in->v[f]) < 0;
	}
	if (!rc && keep)
		printf("storage account %s: kept: it holds the encfs volume; down --delete-data "
		       "--download FILE removes it\n",
		       in->v[F_SA]);
	else if (!rc && ((rc = arm_request(in->arm, "DELETE", "", ARM_API_DEPLOYMENTS, NULL,
					   TIMEOUT_S, NULL, err)) == NG_ENOTFOUND ||
			 !rc))
		rc = printf("resource group %s: deleted\n", in->v[F_RG]) < 0;
	if (!rc)
		printf("key vault %s: soft-deleted with purge protection: recoverable until its "
		       "retention ends, then purged by Azure\n",
		       in->v[F_KV]);
	return rc;
}

int cmd_infra(int argc, char **argv)
{
	enum { O_OUT = 1, O_CLOUD, O_CLOUDF, O_CA, O_DL, O_N };
	struct infra in = {0};
	const char *s[O_N] = {[O_OUT] = "target.json"}, *bad = NULL;
	const struct option lo[] = {{"out", 1, 0, O_OUT},
				    {"cloud", 1, 0, O_CLOUD},
				    {"cloud-file", 1, 0, O_CLOUDF},
				    {"ca-file", 1, 0, O_CA},
				    {"download", 1, 0, O_DL},
				    {"quiet", 0, &in.quiet, 1},
				    {"yes", 0, &in.yes, 1},
				    {"quick", 0, &in.quick, 1},
				    {"delete-data", 0, &in.delete_data, 1},
				    {"help", 0, 0, 'h'},
				    {0, 0, 0, 0}};
	const char *verb = argc > 1 ? argv[1] : "";
	int opt, rc, up = !strcmp(verb, "up"), dn = !strcmp(verb, "down");
	struct ng_err err = {{0}};

	optind = 2;
	while (!bad && (opt = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
		if (opt == 'h') {
			fputs(cmd_infra_usage, stdout);
			return CLI_EXIT_OK;
		}
		if (opt == 'q')
			in.quiet = 1;
		else if (opt == '?' || opt == ':')
			bad = "unknown option or missing value";
		else if (opt)
			s[opt == 'o' ? O_OUT : opt] = optarg;
	}
	in.download = s[O_DL];
	if (!bad && !up && !dn && strcmp(verb, "plan"))
		bad = "want plan, up or down";
	else if (!bad && optind + 1 != argc)
		bad = "want one INFRA.json";
	else if (!bad && !dn && (in.yes || in.quick || in.delete_data || in.download))
		bad = "--yes, --quick, --delete-data are options of down";
	else if (!bad && dn && !in.yes)
		bad = "down deletes the deployment's resources: add --yes";
	else if (!bad && !in.delete_data != !in.download)
		bad = "--delete-data goes with --download FILE (a copy first)";
	if (bad)
		return cli_usage_error("nutapply", "infra", "%s", bad);
	if (!(rc = load_spec(argv[optind], &in, &err)) &&
	    !(rc = az_session_open(&in.s, s[O_CLOUD], s[O_CLOUDF], s[O_CA], in.quiet, &err)) &&
	    !(rc = arm_client_new(in.s.http, in.s.cred, &in.s.cloud, in.v[F_SUB], in.v[F_RG],
				  &in.arm, &err)))
		rc = dn ? down(&in, &err) : plan_up(&in, up, s[O_OUT], &err);
	arm_client_free(in.arm);
	az_session_close(&in.s);
	return rc ? cli_fail("nutapply", rc, &err) : CLI_EXIT_OK;
}
