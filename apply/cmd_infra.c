/* cmd_infra.c: `nutapply infra plan|up|down`: the Azure resources of a
 * deployment (templates/infra/infra.json) and target.json (docs/infra.md). */
#include <getopt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"
#include "arm.h"
#include "azcall.h"
#include "blob_req.h"
#include "keyvault.h"

#define DEP "/providers/Microsoft.Resources/deployments/nutgen-infra"

const char cmd_infra_usage[] =
    "Usage: nutapply infra plan|up INFRA.json [-o target.json] [OPTIONS]\n"
    "       nutapply infra down INFRA.json --yes [--quick] [--purge]\n"
    "                [--snapshot | --delete-data --download FILE] [OPTIONS]\n"
    "The Azure resources of a deployment (templates/infra/infra.json, docs/infra.md):\n"
    "plan shows what up would change; up deploys it, creates the key-exchange key,\n"
    "writes target.json and prints the KEK fingerprint; down deletes the container\n"
    "group, then the rest but the encfs volume's account and group (and --quick is\n"
    "refused) unless --delete-data --download FILE copied it first. --snapshot\n"
    "snapshots the volume; --purge purges the soft-deleted vault unless purge\n"
    "protection forbids it. Options: -o FILE, --timeout SECONDS (per ARM operation,\n"
    "default 1800), --cloud NAME, --cloud-file FILE, --ca-file FILE, -q/--quiet\n"
    "Exit status: 0 done, 1 failure or refusal (one line on stderr), 2 usage.\n";

// clang-format off
enum { F_SUB, F_RG, F_LOC, F_KV, F_SA, F_ATT, F_MI, F_SHARE, F_CG, F_KEK, F_OPID, F_OPTYPE,
       F_HSM, F_MAA, F_N };
// clang-format on

/* INFRA.json member, seed environment variable, seed default, template parameter. */
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
    {"managed_hsm", "NUTGEN_MANAGED_HSM", "", "managedHsm"},
    {"attestation_endpoint", "NUTGEN_ATTESTATION_ENDPOINT", "", "attestationEndpoint"},
};

/* What `down` deletes after the container group, in this order. */
static const int down_order[] = {F_KV, F_SA, F_ATT, F_MI, F_RG};
static const char *const rtype[F_MI + 1][2] = {
    [F_RG] = {"resource group", ARM_API_DEPLOYMENTS},
    [F_KV] = {"Microsoft.KeyVault/vaults", "2023-07-01"},
    [F_SA] = {"Microsoft.Storage/storageAccounts", ARM_API_STORAGE},
    [F_ATT] = {"Microsoft.Attestation/attestationProviders", "2021-06-01"},
    [F_MI] = {"Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31"},
};

struct infra {
	char v[F_N][256];
	struct az_session s;
	struct arm_client *arm;
	double timeout;
	const char *download;
	int quiet, yes, quick, purge, delete_data, snapshot;
};

static int load_spec(const char *path, struct infra *in, struct ng_err *err)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.():/";
	cJSON *j = NULL;
	int rc = az_read_json(path, 64 << 10, &j, err), known = 0;

	for (int k = 0; k < F_N && !rc; k++) {
		const char *e = getenv(fields[k][1]),
			   *f = cJSON_GetStringValue(
			       cJSON_GetObjectItemCaseSensitive(j, fields[k][0]));
		known += f && strlen(f) < sizeof(in->v[k]);
		snprintf(in->v[k], sizeof(in->v[k]), "%s", e && *e ? e : f ? f : fields[k][2]);
		const char *v = in->v[k];
		int url = k >= F_HSM; /* names go into ARM paths: no ':' nor '/' */
		if (v[strspn(v, ok)] ||
		    (url ? *v && strncmp(v, "https://", 8) : !!strpbrk(v, ":/")))
			rc = ng_errf(err, NG_EINVAL, "%s: %s: %s", path, fields[k][0],
				     url ? "want an https:// URL of letters, digits and -_.():/"
					 : "only letters, digits and -_.() allowed");
	}
	if (!rc && (!cJSON_IsObject(j) || known != cJSON_GetArraySize(j) || !in->v[F_SUB][0]))
		rc = ng_errf(err, NG_EINVAL,
			     "%s: want an object of short strings naming the subscription (or set "
			     "AZURE_SUBSCRIPTION_ID), members as docs/infra.md lists",
			     path);
	cJSON_Delete(j);
	return rc;
}

/* The KEK's SubjectPublicKeyInfo (RFC 5280 §4.1) as PEM, and its SHA-256 (docs/infra.md).
 * RSA 4096, e = 65537 has one DER layout: this prefix (RFC 8017 A.1.1), n, e; a
 * JWK's n has no leading zero (RFC 7518 §6.3.1.1). */
static int kek_spki(const cJSON *jwk, char pem[1024], char fp[72])
{
	static const char pre[] = "\x30\x82\x02\x22\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01"
				  "\x01\x01\x05\x00\x03\x82\x02\x0f\x00\x30\x82\x02\x0a\x02\x82"
				  "\x02\x01\x00";
	const char *n64 = az_json_str(jwk, "n"), *e64 = az_json_str(jwk, "e");
	uint8_t der[sizeof(pre) - 1 + 512 + 5], *n = NULL, d[32];
	size_t nl = 0;
	char *b64 = NULL;

	if (n64 && e64 && !strcmp(e64, "AQAB"))
		base64url_decode(n64, strlen(n64), &n, &nl, NULL);
	if (nl == 512 && n[0] >= 0x80) {
		memcpy(der, pre, sizeof(pre) - 1);
		memcpy(der + sizeof(pre) - 1, n, 512);
		memcpy(der + sizeof(pre) - 1 + 512, "\x02\x03\x01\x00\x01", 5);
		sha256(der, sizeof(der), d);
		memcpy(fp, "sha256:", 7);
		hex_encode(d, 32, fp + 7);
		b64 = base64_encode(der, sizeof(der));
	}
	pem += sprintf(pem, "-----BEGIN PUBLIC KEY-----\n");
	for (size_t i = 0; b64 && i < strlen(b64); i += 64) /* 736 characters */
		pem += sprintf(pem, "%.64s\n", b64 + i);
	sprintf(pem, "-----END PUBLIC KEY-----\n");
	int rc = b64 ? 0 : -1;
	free(n);
	free(b64);
	return rc;
}

/* target.json: the deployment's `target` output (live names and endpoints), the
 * cloud, and the KEK, created when absent (not retried: a retry could add a
 * version) and refused when another kind of key. No key, token or SAS goes in. */
static int write_target(struct infra *in, const cJSON *target, const char *out, struct ng_err *err)
{
	cJSON *t = cJSON_Duplicate(target, 1), *kek = NULL, *o;
	char *text = NULL, pem[1024], fp[72] = "", url[768];
	const char *vault = az_json_str(t, "key_vault.uri");
	struct az_api api = {in->s.http, in->s.cred,
			     vault && strstr(vault, ".managedhsm.") ? "https://managedhsm.azure.net"
								    : in->s.cloud.vault_resource};
	struct kv_client *kv = NULL;
	struct http_resp r;
	int rc = vault
		     ? kv_client_new(in->s.http, in->s.cred, &in->s.cloud, vault, &kv, err)
		     : ng_errf(err, NG_ENET, "deployment nutgen-infra: no vault URI in its output");

	if (!rc)
		rc = kv_get_key(kv, in->v[F_KEK], &kek, err);
	kv_client_free(kv);
	int made = rc == NG_ENOTFOUND;
	if (made) {
		cJSON *body =
		    cJSON_Parse("{\"kty\":\"RSA-HSM\",\"key_size\":4096,"
				"\"key_ops\":[\"import\"],\"attributes\":{\"enabled\":true}}");
		snprintf(url, sizeof(url), "%.*s/keys/%s/create?api-version=7.4",
			 (int)strlen(vault) - (vault[strlen(vault) - 1] == '/'), vault,
			 in->v[F_KEK]);
		http_resp_init(&r);
		if (!(rc = az_call(&api, "POST", url, body, 0, &r, &kek, err)) && r.status != 200)
			rc = http_status_err(&r, err, NG_ENET, "create the key-exchange key");
		http_resp_free(&r);
		cJSON_Delete(body);
	}
	const cJSON *key = cJSON_GetObjectItem(kek, "key"),
		    *ops = cJSON_GetObjectItem(key, "key_ops");
	const char *kty = az_json_str(key, "kty"),
		   *op = cJSON_GetStringValue(cJSON_GetArrayItem(ops, 0));
	if (!rc && (!kty || strcmp(kty, "RSA-HSM") || cJSON_GetArraySize(ops) != 1 || !op ||
		    strcmp(op, "import") || !az_json_str(key, "kid") || kek_spki(key, pem, fp)))
		rc = ng_errf(err, NG_EEXIST,
			     "kek %s: exists but is not an RSA-HSM 4096 key with key_ops [import]; "
			     "name another kek_name in the infra file",
			     in->v[F_KEK]);
	if (rc)
		goto out;
	printf("kek %s: %s\n", in->v[F_KEK],
	       made ? "created (RSA-HSM 4096, key_ops import)" : "present");
	cJSON_AddStringToObject(t, "cloud", in->s.cloud.name);
	o = cJSON_AddObjectToObject(t, "kek");
	cJSON_AddStringToObject(o, "name", in->v[F_KEK]);
	cJSON_AddStringToObject(o, "kid", az_json_str(key, "kid"));
	cJSON_AddStringToObject(o, "public_key_pem", pem);
	cJSON_AddStringToObject(o, "sha256", fp);
	if (!(text = cJSON_Print(t)))
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
	else if (!(rc = write_file_atomic(out, text, strlen(text), 0644, err)))
		printf("%s: written\nkek fingerprint: %s\n", out, fp + 7); /* bare hex */
out:
	cJSON_Delete(kek);
	cJSON_Delete(t);
	free(text);
	return rc;
}

/* The last deployment's `target` output, or NULL (none, or it failed). */
static const cJSON *target_output(struct infra *in, cJSON **dep, struct ng_err *err)
{
	cJSON_Delete(*dep);
	*dep = NULL;
	arm_request(in->arm, "GET", DEP, ARM_API_DEPLOYMENTS, NULL, in->timeout, dep, err);
	return cJSON_GetObjectItem(
	    cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetObjectItem(*dep, "properties"), "outputs"), "target"),
	    "value");
}

/* what-if first (azure-rest.md §4.4); up creates the group, deploys what changed. */
static int plan_up(struct infra *in, int up, const char *out, struct ng_err *err)
{
	cJSON *tmpl = NULL, *p = cJSON_CreateObject(), *body = cJSON_CreateObject(), *wi = NULL, *c;
	cJSON *dep = NULL, *pr;
	const cJSON *target = NULL;
	char path[4200], exe[4096] = "";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int rc, changes = 0;

	exe[n > 0 ? n : 0] = 0; /* the template beside bin/, else in the source tree */
	*(strrchr(exe, '/') ? strrchr(exe, '/') : exe) = 0;
	snprintf(path, sizeof(path), "%s/../templates/infra/infra.json", exe);
	if (access(path, R_OK) && getenv("NG_SRCDIR"))
		snprintf(path, sizeof(path), "%s/templates/infra/infra.json", getenv("NG_SRCDIR"));
	if ((rc = az_read_json(path, 1 << 20, &tmpl, err)))
		goto out;
	for (int k = 0; k < F_N; k++)
		if (fields[k][3])
			cJSON_AddStringToObject(cJSON_AddObjectToObject(p, fields[k][3]), "value",
						in->v[k]);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "assignOperator"), "value",
			      in->v[F_OPID][0] != 0);
	cJSON_AddStringToObject(body, "location", in->v[F_LOC]);
	rc = arm_request(in->arm, "GET", "", ARM_API_DEPLOYMENTS, NULL, in->timeout, NULL, err);
	if (rc == NG_ENOTFOUND && !up) {
		printf("resource group %s: absent: up creates it and every resource\n",
		       in->v[F_RG]);
		rc = 0;
		goto out;
	}
	if (rc == NG_ENOTFOUND && !(rc = arm_request(in->arm, "PUT", "", ARM_API_DEPLOYMENTS, body,
						     in->timeout, NULL, err)))
		printf("resource group %s: created in %s\n", in->v[F_RG], in->v[F_LOC]);
	cJSON_DeleteItemFromObject(body, "location");
	cJSON_AddStringToObject(pr = cJSON_AddObjectToObject(body, "properties"), "mode",
				"Incremental");
	cJSON_AddItemReferenceToObject(pr, "template", tmpl);
	cJSON_AddItemReferenceToObject(pr, "parameters", p);
	if (rc || (rc = arm_request(in->arm, "POST", DEP "/whatIf", ARM_API_DEPLOYMENTS, body,
				    in->timeout, &wi, err)))
		goto out;
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(wi, "properties"), "changes"))
	{
		const char *ty = az_json_str(c, "changeType"), *id = az_json_str(c, "resourceId");
		changes += ty && strcmp(ty, "NoChange") && strcmp(ty, "Ignore");
		printf("  %-9s %s\n", ty ? ty : "?", id ? id : "?");
	}
	if (!up)
		printf("plan: %d change(s)\n", changes);
	else if (!changes && (target = target_output(in, &dep, err)))
		printf("infrastructure: no change\n");
	else if (!(rc = arm_deploy(in->arm, "nutgen-infra", tmpl, p, in->timeout, err)))
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

/* Copies the volume blob into sf, renamed into place only when complete: its
 * written page ranges (§1.5) by Get Blob of at most 4 MiB, each under
 * If-Match (a blob that changes fails the copy), its length and the MD5 the
 * service computes for it (x-ms-range-get-content-md5, §1.9) checked. */
static int download(struct infra *in, const struct blob_auth *a, const char *url,
		    struct safefile *sf, struct ng_err *err)
{
	struct blob_state st;
	struct blob_range *rg = NULL;
	size_t n = 0;
	int rc = blob_status(in->s.http, a, url, &st, err);

	if (!rc && ftruncate(sf->fd, (off_t)st.size))
		rc = ng_errf(err, NG_EIO, "%s: cannot size it to %llu bytes", in->download,
			     (unsigned long long)st.size);
	if (!rc)
		rc = blob_page_ranges(in->s.http, a, url, &rg, &n, err);
	for (size_t i = 0; i < n && !rc; i++)
		for (uint64_t o = rg[i].off, end = o + rg[i].len; o < end && !rc;
		     o += BLOB_MAX_PUT) {
			uint64_t l = end - o < BLOB_MAX_PUT ? end - o : BLOB_MAX_PUT;
			uint8_t md[16];
			char *md64 = NULL;
			const char *m = NULL;
			struct breq q;
			struct http_resp r;

			http_resp_init(&r);
			if (breq_init(&q, "GET", url, NULL) ||
			    breq_add(&q, "x-ms-range: bytes=%llu-%llu", (unsigned long long)o,
				     (unsigned long long)(o + l - 1)) ||
			    breq_add(&q, "If-Match: %s", st.etag) ||
			    breq_add(&q, "x-ms-range-get-content-md5: true"))
				rc = ng_errf(err, NG_ENOMEM, "download: out of memory");
			else if (!(rc = blob_call(in->s.http, a, &q, NULL, 0, &r, err)) &&
				 r.status != 206)
				rc = http_status_err(&r, err, NG_ENET,
						     "download of the volume blob");
			else if (!rc && r.body.len == l && o + l <= st.size &&
				 (m = http_resp_header(&r, "Content-MD5")) &&
				 EVP_Digest(r.body.data, l, md, NULL, EVP_md5(), NULL))
				md64 = base64_encode(md, 16);
			if (!rc && (!md64 || strcmp(md64, m)))
				rc = ng_errf(err, NG_ENET,
					     "download of the volume blob: the range at byte %llu "
					     "differs from its length or Content-MD5",
					     (unsigned long long)o);
			else if (!rc && pwrite(sf->fd, r.body.data, l, (off_t)o) != (ssize_t)l)
				rc = ng_errf(err, NG_EIO, "%s: write failed", in->download);
			free(md64);
			breq_free(&q);
			http_resp_free(&r);
		}
	free(rg);
	if (!rc && !(rc = safefile_commit(sf, err)))
		printf("volume blob: downloaded to %s (%llu bytes, each range's Content-MD5 "
		       "checked)\n",
		       in->download, (unsigned long long)st.size);
	return rc;
}

/* A vault's delete leaves it soft-deleted (azure-rest.md §3); as the seed's
 * cleanup.sh, it is purged only with --purge, never under purge protection. */
static int vault_purge(struct infra *in, struct ng_err *err)
{
	char path[1024];
	cJSON *d = NULL;
	const char *kv = in->v[F_KV];

	snprintf(path, sizeof(path),
		 "/subscriptions/%s/providers/Microsoft.KeyVault/locations/%s/deletedVaults/%s",
		 in->v[F_SUB], in->v[F_LOC], kv);
	int rc = arm_request(in->arm, "GET", path, rtype[F_KV][1], NULL, in->timeout, &d, err);
	int prot = cJSON_IsTrue(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(d, "properties"), "purgeProtectionEnabled"));
	cJSON_Delete(d);
	if (rc == NG_ENOTFOUND)
		printf("key vault %s: not soft-deleted: nothing to purge\n", kv);
	else if (!rc && (prot || !in->purge))
		printf("key vault %s: soft-deleted%s: recoverable until its retention ends%s\n", kv,
		       prot ? " with purge protection" : "",
		       !prot	   ? "; --purge purges it"
		       : in->purge ? "; it cannot be purged"
				   : "");
	else if (!rc && !(rc = arm_request(in->arm, "POST", strcat(path, "/purge"), rtype[F_KV][1],
					   NULL, in->timeout, NULL, err)))
		printf("key vault %s: purged\n", kv);
	return rc == NG_ENOTFOUND ? 0 : rc;
}

/* down: the volume blob (the mint's database; account key from listKeys,
 * §1.12) is looked at first. While it exists --quick is refused and its
 * account and group stay, unless --delete-data --download copied it. The
 * container group goes first: nothing writes the volume after. A snapshot
 * (§1.7) lives and dies with its account. */
static int down(struct infra *in, struct ng_err *err)
{
	struct blob_auth a = {.account = in->v[F_SA]};
	struct blob_state st = {0};
	struct safefile sf = {0};
	struct http_resp r;
	struct breq q;
	cJSON *sa = NULL;
	char *key = NULL, url[768], path[512];
	uint8_t *kb = NULL;
	size_t kl = 0;
	const char *ep, *snap = NULL;
	int rc, keep;

	snprintf(path, sizeof(path), "/providers/%s/%s", rtype[F_SA][0], in->v[F_SA]);
	rc = arm_request(in->arm, "GET", path, ARM_API_STORAGE, NULL, in->timeout, &sa, err);
	if (!rc && !(ep = az_json_str(sa, "properties.primaryEndpoints.blob")))
		rc = ng_errf(err, NG_ENET, "storage account %s: no blob endpoint", in->v[F_SA]);
	if (!rc && !(rc = arm_storage_key(in->arm, in->v[F_SA], &key, err)) &&
	    !(rc = base64_decode(key, strlen(key), &kb, &kl, err))) {
		snprintf(url, sizeof(url), "%s%sencfs/encfs.img", ep,
			 ep[strlen(ep) - 1] == '/' ? "" : "/");
		a.key = kb;
		a.key_len = kl;
		rc = blob_status(in->s.http, &a, url, &st, err);
	}
	rc = rc == NG_ENOTFOUND ? 0 : rc; /* no account: no volume */
	if ((keep = !rc && st.exists) && in->quick && !in->download)
		rc = ng_errf(err, NG_EEXIST,
			     "--quick refused: %s holds the encfs volume (the mint's "
			     "database); add --delete-data --download FILE, or drop --quick",
			     in->v[F_SA]);
	else if (keep && in->download)
		rc = safefile_open(&sf, in->download, 0600, err);
	else if (!rc && in->download)
		printf("volume blob: absent: nothing to download\n");
	if (!rc && !(rc = arm_group_delete(in->arm, in->v[F_CG], in->timeout, err)))
		printf("container group %s: deleted\n", in->v[F_CG]);
	if (!rc && keep && in->snapshot) {
		http_resp_init(&r);
		if (breq_init(&q, "PUT", url, "comp=snapshot"))
			rc = ng_errf(err, NG_ENOMEM, "snapshot: out of memory");
		else if (!(rc = blob_call(in->s.http, &a, &q, NULL, 0, &r, err)) &&
			 (r.status != 201 || !(snap = http_resp_header(&r, "x-ms-snapshot"))))
			rc = http_status_err(&r, err, NG_ENET, "snapshot of the volume blob");
		else if (!rc)
			printf("volume blob: snapshot %s\n", snap);
		breq_free(&q);
		http_resp_free(&r);
	}
	if (!rc && keep && in->download && !(rc = download(in, &a, url, &sf, err)))
		keep = 0;
	if (key)
		OPENSSL_cleanse(key, strlen(key));
	if (kb)
		OPENSSL_cleanse(kb, kl);
	free(key);
	free(kb);
	cJSON_Delete(sa);
	safefile_abort(&sf);
	for (int i = in->quick ? 4 : 0; i < 5 && !rc; i++) {
		int f = down_order[i];
		/* kept: the volume's account and group, a Managed HSM or a shared
		 * attestation provider named in the file */
		if ((keep && (f == F_SA || f == F_RG)) || (f == F_KV && in->v[F_HSM][0]) ||
		    (f == F_ATT && in->v[F_MAA][0]))
			continue;
		snprintf(path, sizeof(path), "/providers/%s/%s", rtype[f][0], in->v[f]);
		rc = arm_request(in->arm, "DELETE", f == F_RG ? "" : path, rtype[f][1], NULL,
				 in->timeout, NULL, err);
		if (rc == NG_ENOTFOUND)
			rc = 0;
		if (!rc)
			printf("%s %s: deleted\n", rtype[f][0], in->v[f]);
	}
	if (!rc && keep)
		printf("storage account %s: kept with its resource group: it holds the encfs "
		       "volume%s\n",
		       in->v[F_SA], in->snapshot ? " and its snapshot" : "");
	return rc || in->v[F_HSM][0] ? rc : vault_purge(in, err);
}

int cmd_infra(int argc, char **argv)
{
	struct infra in = {.timeout = 1800};
	/* -o, --cloud-file, --ca-file, --download, --cloud, --timeout */
	const char *arg[7] = {NULL, "target.json"}, *bad = NULL;
	// clang-format off
	const struct option lo[] = {
	    {"out", 1, 0, 1}, {"cloud-file", 1, 0, 2}, {"ca-file", 1, 0, 3}, {"download", 1, 0, 4},
	    {"cloud", 1, 0, 5}, {"timeout", 1, 0, 6}, {"quiet", 0, &in.quiet, 1},
	    {"yes", 0, &in.yes, 1}, {"quick", 0, &in.quick, 1}, {"purge", 0, &in.purge, 1},
	    {"delete-data", 0, &in.delete_data, 1}, {"snapshot", 0, &in.snapshot, 1},
	    {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	// clang-format on
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
		else if (opt == 'o' || (opt >= 1 && opt <= 6))
			arg[opt == 'o' ? 1 : opt] = optarg;
		else if (opt)
			bad = "unknown option or missing value";
	}
	in.download = arg[4];
	if (arg[6] && (in.timeout = strtod(arg[6], NULL)) <= 0)
		bad = "--timeout: want seconds > 0";
	if (!bad && !up && !dn && strcmp(verb, "plan"))
		bad = "want plan, up or down";
	else if (!bad && optind + 1 != argc)
		bad = "want one INFRA.json";
	else if (!bad && !dn &&
		 (in.yes || in.quick || in.purge || in.delete_data || in.snapshot || in.download))
		bad =
		    "--yes, --quick, --purge, --snapshot, --delete-data, --download are options of "
		    "down";
	else if (!bad && dn && !in.yes)
		bad = "down deletes the deployment's resources: add --yes";
	else if (!bad && (in.delete_data != !!in.download || (in.delete_data && in.snapshot)))
		bad = "--delete-data goes with --download FILE (a checked copy first), not "
		      "--snapshot (a snapshot dies with its blob's account)";
	if (bad)
		return cli_usage_error("nutapply", "infra", "%s", bad);
	if (!(rc = load_spec(argv[optind], &in, &err)) &&
	    !(rc = az_session_open(&in.s, arg[5], arg[2], arg[3], in.quiet, &err)) &&
	    !(rc = arm_client_new(in.s.http, in.s.cred, &in.s.cloud, in.v[F_SUB], in.v[F_RG],
				  &in.arm, &err)))
		rc = dn ? down(&in, &err) : plan_up(&in, up, arg[1], &err);
	arm_client_free(in.arm);
	az_session_close(&in.s);
	return rc ? cli_fail("nutapply", rc, &err) : CLI_EXIT_OK;
}
