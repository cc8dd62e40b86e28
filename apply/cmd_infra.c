/* cmd_infra.c: `nutapply infra plan|up|down`: the Azure resources a
 * deployment needs, from templates/infra/infra.json, and target.json for
 * the air-gapped side (docs/infra.md). */
#include <getopt.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"
#include "arm.h"
#include "azcall.h"
#include "infra.h"
#include "keyvault.h"

#define DEP_NAME "nutgen-infra"
#define KEK_BITS 4096

const char cmd_infra_usage[] =
    "Usage: nutapply infra plan|up INFRA.json [OPTIONS]\n"
    "       nutapply infra down INFRA.json --yes [--quick] [--purge]\n"
    "                [--delete-data (--snapshot | --download FILE)] [OPTIONS]\n"
    "\n"
    "The Azure resources a deployment needs (templates/infra/infra.json, one ARM\n"
    "deployment at resource-group scope): Key Vault Premium (RBAC, soft delete, purge\n"
    "protection) or an existing Managed HSM, storage account (HTTPS only, TLS 1.2, no\n"
    "anonymous access) with the encfs container and the Caddy share, attestation\n"
    "provider (or a shared one), managed identity, role assignments. INFRA.json names\n"
    "them; each name defaults as the seed's environment variable (RESOURCE_GROUP, ...),\n"
    "which also overrides the file (docs/infra.md).\n"
    "  plan   what-if: prints what up would change; changes nothing\n"
    "  up     what-if, deploy when something changes, create the key-exchange key\n"
    "         (RSA-HSM 4096, key_ops import) if absent, write target.json and print\n"
    "         the KEK fingerprint (SHA-256 of its DER SubjectPublicKeyInfo) to type\n"
    "         into `nutgen build --kek-fingerprint`\n"
    "  down   container group first, then the rest. The encfs volume blob is the\n"
    "         mint's database: its storage account is kept while it exists, unless\n"
    "         --delete-data with --download FILE (a local copy first; --snapshot\n"
    "         snapshots it and keeps the account). --quick deletes the resource\n"
    "         group and refuses while the blob exists unless --delete-data --download.\n"
    "         The vault is left soft-deleted; --purge purges it unless purge\n"
    "         protection forbids it.\n"
    "\n"
    "Options:\n"
    "  -o, --out FILE         target.json to write (up; default target.json)\n"
    "  --template FILE        the infra template (default templates/infra/infra.json)\n"
    "  --timeout SECONDS      per ARM operation (default 1800)\n"
    "  --cloud NAME, --cloud-file FILE, --ca-file FILE, -q/--quiet: as nutapply deploy\n"
    "\n"
    "Exit status: 0 done, 1 failure or refusal (one line on stderr), 2 usage.\n"
    "Example: nutapply infra up infra.json -o target.json\n";

/* INFRA.json members, the seed's environment variable, the seed default. */
static const char *const fields[][3] = {
    {"subscription", "AZURE_SUBSCRIPTION_ID", ""},
    {"resource_group", "RESOURCE_GROUP", "rg-nutshell-tee"},
    {"location", "LOCATION", "northeurope"},
    {"key_vault", "KEY_VAULT_NAME", "kv-nutshell-tee"},
    {"storage_account", "STORAGE_ACCOUNT", "stnutshelltee"},
    {"attestation_provider", "ATTESTATION_PROVIDER", "attestnutshelltee"},
    {"managed_identity", "MANAGED_IDENTITY_NAME", "id-nutshell-tee"},
    {"caddy_file_share", "CADDY_FILE_SHARE", "caddy"},
    {"container_group", "CONTAINER_GROUP_NAME", "nutshell-tee"},
    {"kek_name", "NUTGEN_KEK_NAME", "nutgen-kek"},
    {"managed_hsm", "NUTGEN_MANAGED_HSM", ""},
    {"attestation_endpoint", "NUTGEN_ATTESTATION_ENDPOINT", ""},
    {"operator_principal_id", "NUTGEN_OPERATOR_PRINCIPAL_ID", ""},
    {"operator_principal_type", "NUTGEN_OPERATOR_PRINCIPAL_TYPE", "User"},
};

static int load_spec(const char *path, struct infra *in, struct ng_err *err)
{
	cJSON *j = NULL, *m;
	int rc;

	if ((rc = az_read_json(path, 64 << 10, &j, err)))
		return rc;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return ng_errf(err, NG_EINVAL, "%s: not a JSON object (docs/infra.md)", path);
	}
	cJSON_ArrayForEach(m, j)
	{
		int k = 0;
		while (k < F_N && strcmp(fields[k][0], m->string))
			k++;
		if (k == F_N || !cJSON_IsString(m) || strlen(m->valuestring) >= sizeof(in->v[0])) {
			rc = ng_errf(err, NG_EINVAL,
				     "%s: member '%.40s' is unknown or not a short string "
				     "(docs/infra.md lists the members)",
				     path, m->string);
			break;
		}
	}
	for (int k = 0; k < F_N && !rc; k++) {
		const char *e = getenv(fields[k][1]);
		m = cJSON_GetObjectItemCaseSensitive(j, fields[k][0]);
		snprintf(in->v[k], sizeof(in->v[k]), "%s",
			 e && *e	     ? e
			 : cJSON_IsString(m) ? m->valuestring
					     : fields[k][2]);
		for (const char *p = in->v[k]; *p && !rc; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "-_.:/()",
				    *p))
				rc = ng_errf(err, NG_EINVAL, "%s: %s: character '%c' not allowed",
					     path, fields[k][0], *p);
	}
	if (!rc && !in->v[F_SUB][0])
		rc = ng_errf(err, NG_EINVAL,
			     "%s: no subscription: set \"subscription\" or AZURE_SUBSCRIPTION_ID",
			     path);
	if (!rc && (in->v[F_HSM][0] || in->v[F_ATTURL][0]) &&
	    (strncmp(in->v[F_HSM][0] ? in->v[F_HSM] : "https://", "https://", 8) ||
	     strncmp(in->v[F_ATTURL][0] ? in->v[F_ATTURL] : "https://", "https://", 8)))
		rc = ng_errf(err, NG_EINVAL,
			     "%s: managed_hsm and attestation_endpoint are https:// URLs", path);
	cJSON_Delete(j);
	return rc;
}

static cJSON *params(const struct infra *in)
{
	cJSON *p = cJSON_CreateObject();
	const char *const names[][2] = {{"location", in->v[F_LOC]},
					{"keyVaultName", in->v[F_KV]},
					{"storageAccountName", in->v[F_SA]},
					{"containerName", "encfs"},
					{"fileShareName", in->v[F_SHARE]},
					{"attestationName", in->v[F_ATT]},
					{"identityName", in->v[F_MI]},
					{"operatorPrincipalId", in->v[F_OPID]},
					{"operatorPrincipalType", in->v[F_OPTYPE]}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(p, names[i][0]), "value",
					names[i][1]);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "createVault"), "value", !in->v[F_HSM][0]);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "createAttestation"), "value",
			      !in->v[F_ATTURL][0]);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(p, "assignOperator"), "value",
			      in->v[F_OPID][0] != 0);
	return p;
}

static int read_template(const char *file, cJSON **out, struct ng_err *err)
{
	char path[PATH_MAX + 64], exe[PATH_MAX];
	ssize_t n;
	const char *src = getenv("NG_SRCDIR");

	if (!file) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = 0;
		if (strrchr(exe, '/'))
			*strrchr(exe, '/') = 0;
		snprintf(path, sizeof(path), "%s/../templates/infra/infra.json", exe);
		if (access(path, R_OK) && src)
			snprintf(path, sizeof(path), "%s/templates/infra/infra.json", src);
		file = path;
	}
	return az_read_json(file, 1 << 20, out, err);
}

/* what-if (§4.4); prints each change, returns the count of real changes,
 * or -1 - every resource when the group is absent. */
static int what_if(struct infra *in, const cJSON *tmpl, int *changes, struct ng_err *err)
{
	cJSON *body = cJSON_CreateObject(), *pr = cJSON_AddObjectToObject(body, "properties");
	cJSON *res = NULL, *c;
	char path[128];
	int rc;

	cJSON_AddStringToObject(pr, "mode", "Incremental");
	cJSON_AddItemToObject(pr, "template", cJSON_Duplicate(tmpl, 1));
	cJSON_AddItemToObject(pr, "parameters", params(in));
	snprintf(path, sizeof(path), "/providers/Microsoft.Resources/deployments/%s/whatIf",
		 DEP_NAME);
	rc = arm_request(in->arm, "POST", path, ARM_API_DEPLOYMENTS, body, in->timeout, &res, err);
	cJSON_Delete(body);
	if (rc)
		return ng_err_prefix(err, rc, "what-if");
	*changes = 0;
	cJSON_ArrayForEach(c,
			   cJSON_GetObjectItem(cJSON_GetObjectItem(res, "properties"), "changes"))
	{
		const char *t = az_json_str(c, "changeType"), *id = az_json_str(c, "resourceId");
		if (!t || !id)
			continue;
		int real = strcmp(t, "NoChange") && strcmp(t, "Ignore");
		*changes += real;
		printf("  %-9s %s\n", t, id);
	}
	cJSON_Delete(res);
	return 0;
}

int infra_get(struct infra *in, const char *type, const char *name, const char *api, cJSON **out,
	      struct ng_err *err)
{
	char path[512];
	snprintf(path, sizeof(path), "/providers/%s/%s", type, name);
	return arm_request(in->arm, "GET", path, api, NULL, in->timeout, out, err);
}

/* The KEK's SubjectPublicKeyInfo from its JWK: PEM and SHA-256. */
static int kek_spki(const cJSON *key, char **pem, char fp[72], int *bits, struct ng_err *err)
{
	const char *n64 = az_json_str(key, "n"), *e64 = az_json_str(key, "e");
	uint8_t *n = NULL, *e = NULL, *der = NULL, d[32];
	size_t nl = 0, el = 0;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *ps = NULL;
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	BIO *b = NULL;
	int rc = NG_ECRYPTO, dl;

	if (!n64 || !e64 || base64url_decode(n64, strlen(n64), &n, &nl, NULL) ||
	    base64url_decode(e64, strlen(e64), &e, &el, NULL)) {
		rc = ng_errf(err, NG_ENET, "key vault: the KEK has no RSA public key (n, e)");
		goto out;
	}
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	if (!bld || !pc || !bn || !be || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(ps = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata_init(pc) <= 0 ||
	    EVP_PKEY_fromdata(pc, &pk, EVP_PKEY_PUBLIC_KEY, ps) <= 0 ||
	    (dl = i2d_PUBKEY(pk, &der)) <= 0 || !(b = BIO_new(BIO_s_mem())) ||
	    !PEM_write_bio_PUBKEY(b, pk)) {
		rc = ng_errf(err, NG_ECRYPTO, "KEK public key: OpenSSL refused it");
		goto out;
	}
	*bits = EVP_PKEY_get_bits(pk);
	sha256(der, (size_t)dl, d);
	memcpy(fp, "sha256:", 7);
	hex_encode(d, 32, fp + 7);
	char *mem;
	long ml = BIO_get_mem_data(b, &mem);
	if (!(*pem = strndup(mem, (size_t)ml)))
		goto out;
	rc = 0;
out:
	free(n);
	free(e);
	OPENSSL_free(der);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_free(ps);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pc);
	BIO_free(b);
	return rc;
}

/* Gets the KEK, creating it (RSA-HSM 4096, import only) when absent;
 * refuses one that is not an import-only RSA key. */
static int kek_ensure(struct infra *in, const char *vault, cJSON **bundle, struct ng_err *err)
{
	struct kv_client *kv = NULL;
	int rc;

	if ((rc = kv_client_new(in->s.http, in->s.cred, &in->s.cloud, vault, &kv, err)))
		return rc;
	rc = kv_get_key(kv, in->v[F_KEK], bundle, err);
	if (rc == NG_ENOTFOUND) {
		struct az_api api = {in->s.http, in->s.cred,
				     strstr(vault, ".managedhsm.") ? "https://managedhsm.azure.net"
								   : in->s.cloud.vault_resource};
		struct http_resp r;
		char url[768];
		cJSON *body =
		    cJSON_Parse("{\"kty\":\"RSA-HSM\",\"key_size\":4096,"
				"\"key_ops\":[\"import\"],\"attributes\":{\"enabled\":true}}");
		snprintf(url, sizeof(url), "%.*s/keys/%s/create?api-version=7.4",
			 (int)strcspn(vault, "?") - (vault[strlen(vault) - 1] == '/'), vault,
			 in->v[F_KEK]);
		http_resp_init(&r);
		rc = az_call(&api, "POST", url, body, 0, &r, bundle, err);
		if (!rc && r.status != 200)
			rc = http_status_err(&r, err, NG_ENET, "create the key-exchange key");
		if (!rc)
			printf("kek %s: created (RSA-HSM %d, key_ops import)\n", in->v[F_KEK],
			       KEK_BITS);
		http_resp_free(&r);
		cJSON_Delete(body);
	} else if (!rc)
		printf("kek %s: present\n", in->v[F_KEK]);
	kv_client_free(kv);
	if (rc)
		return rc;
	const cJSON *ops = cJSON_GetObjectItem(cJSON_GetObjectItem(*bundle, "key"), "key_ops");
	const char *kty = az_json_str(*bundle, "key.kty");
	if (!kty || strcmp(kty, "RSA-HSM") || cJSON_GetArraySize(ops) != 1 ||
	    !cJSON_IsString(cJSON_GetArrayItem(ops, 0)) ||
	    strcmp(cJSON_GetArrayItem(ops, 0)->valuestring, "import"))
		return ng_errf(
		    err, NG_EEXIST,
		    "kek %s: exists but is not an RSA-HSM key with key_ops [import]; name "
		    "another kek_name in the infra file",
		    in->v[F_KEK]);
	return 0;
}

static void add(cJSON *o, const char *k, const char *v)
{
	cJSON_AddStringToObject(o, k, v ? v : "");
}

/* Reads every live name and endpoint, and writes target.json. */
static int write_target(struct infra *in, const char *out, struct ng_err *err)
{
	cJSON *kv = NULL, *mi = NULL, *att = NULL, *sa = NULL, *kek = NULL, *t = NULL;
	char *pem = NULL, *text = NULL, fp[72], blob[512], vault[300];
	int rc, bits = 0;
	uint8_t *old = NULL;
	size_t oldn = 0;

	if (in->v[F_HSM][0])
		snprintf(vault, sizeof(vault), "%s", in->v[F_HSM]);
	else if ((rc = infra_get(in, "Microsoft.KeyVault/vaults", in->v[F_KV], INFRA_API_KV, &kv,
				 err)))
		goto out;
	else
		snprintf(vault, sizeof(vault), "%s", az_json_str(kv, "properties.vaultUri") ?: "");
	if ((rc = infra_get(in, "Microsoft.ManagedIdentity/userAssignedIdentities", in->v[F_MI],
			    INFRA_API_MI, &mi, err)) ||
	    (rc = infra_get(in, "Microsoft.Storage/storageAccounts", in->v[F_SA], ARM_API_STORAGE,
			    &sa, err)) ||
	    (!in->v[F_ATTURL][0] &&
	     (rc = infra_get(in, "Microsoft.Attestation/attestationProviders", in->v[F_ATT],
			     INFRA_API_ATT, &att, err))))
		goto out;
	const char *attest =
	    in->v[F_ATTURL][0] ? in->v[F_ATTURL] : az_json_str(att, "properties.attestUri");
	snprintf(blob, sizeof(blob), "%s",
		 az_json_str(sa, "properties.primaryEndpoints.blob") ?: "");
	if (!vault[0] || !attest || !blob[0] || !az_json_str(mi, "properties.clientId") ||
	    !az_json_str(mi, "properties.principalId")) {
		rc = ng_errf(err, NG_ENET,
			     "ARM did not return the vault URI, attestation URI, blob "
			     "endpoint or identity ids; run `infra up` again");
		goto out;
	}
	if ((rc = kek_ensure(in, vault, &kek, err)) ||
	    (rc = kek_spki(cJSON_GetObjectItem(kek, "key"), &pem, fp, &bits, err)))
		goto out;
	if (bits != KEK_BITS) {
		rc = ng_errf(err, NG_EEXIST, "kek %s: RSA %d bits, want %d; name another kek_name",
			     in->v[F_KEK], bits, KEK_BITS);
		goto out;
	}
	t = cJSON_CreateObject();
	add(t, "format", "nutgen-target/1");
	add(t, "cloud", in->s.cloud.name);
	add(t, "subscription", in->v[F_SUB]);
	add(t, "resource_group", in->v[F_RG]);
	add(t, "location", in->v[F_LOC]);
	cJSON *o = cJSON_AddObjectToObject(t, "key_vault");
	add(o, "name", in->v[F_HSM][0] ? in->v[F_HSM] : in->v[F_KV]);
	add(o, "uri", vault);
	add(o, "kind", in->v[F_HSM][0] ? "managedhsm" : "vault");
	o = cJSON_AddObjectToObject(t, "kek");
	add(o, "name", in->v[F_KEK]);
	add(o, "kid", az_json_str(kek, "key.kid"));
	add(o, "public_key_pem", pem);
	add(o, "sha256", fp);
	o = cJSON_AddObjectToObject(t, "attestation");
	add(o, "name", in->v[F_ATTURL][0] ? in->v[F_ATTURL] : in->v[F_ATT]);
	add(o, "endpoint", attest);
	o = cJSON_AddObjectToObject(t, "identity");
	add(o, "name", in->v[F_MI]);
	add(o, "resource_id", az_json_str(mi, "id"));
	add(o, "client_id", az_json_str(mi, "properties.clientId"));
	add(o, "principal_id", az_json_str(mi, "properties.principalId"));
	o = cJSON_AddObjectToObject(t, "storage");
	add(o, "account", in->v[F_SA]);
	add(o, "blob_endpoint", blob);
	add(o, "container", "encfs");
	add(o, "blob", "encfs.img");
	add(o, "share", in->v[F_SHARE]);
	if (!(text = cJSON_Print(t))) {
		rc = ng_errf(err, NG_ENOMEM, "out of memory");
		goto out;
	}
	if (!read_file_capped(out, 1 << 20, &old, &oldn, NULL) && oldn == strlen(text) + 1 &&
	    !memcmp(old, text, oldn - 1))
		printf("%s: unchanged\n", out);
	else {
		size_t tl = strlen(text);
		text[tl] = '\n';
		rc = write_file_atomic(out, text, tl + 1, 0644, err);
		text[tl] = 0;
		if (!rc)
			printf("%s: written\n", out);
	}
	if (!rc)
		printf("kek fingerprint: %s\n", fp + 7); /* bare hex: what nutgen build takes */
out:
	free(old);
	free(text);
	free(pem);
	cJSON_Delete(t);
	cJSON_Delete(kv);
	cJSON_Delete(mi);
	cJSON_Delete(att);
	cJSON_Delete(sa);
	cJSON_Delete(kek);
	return rc;
}

static int plan_up(struct infra *in, int up, const char *tfile, const char *out, struct ng_err *err)
{
	cJSON *tmpl = NULL, *rg = NULL, *body;
	int rc, changes = 0;

	if ((rc = read_template(tfile, &tmpl, err)))
		return rc;
	rc = arm_request(in->arm, "GET", "", ARM_API_DEPLOYMENTS, NULL, in->timeout, &rg, err);
	if (rc == NG_ENOTFOUND && !up) {
		printf("resource group %s: absent: up creates it and every resource\n",
		       in->v[F_RG]);
		rc = 0;
		goto out;
	}
	if (rc == NG_ENOTFOUND) {
		body = cJSON_CreateObject();
		cJSON_AddStringToObject(body, "location", in->v[F_LOC]);
		rc = arm_request(in->arm, "PUT", "", ARM_API_DEPLOYMENTS, body, in->timeout, NULL,
				 err);
		cJSON_Delete(body);
		if (!rc)
			printf("resource group %s: created in %s\n", in->v[F_RG], in->v[F_LOC]);
	}
	if (rc || (rc = what_if(in, tmpl, &changes, err)))
		goto out;
	if (!up) {
		printf("plan: %d change(s)\n", changes);
		goto out;
	}
	if (changes) {
		cJSON *p = params(in);
		rc = arm_deploy(in->arm, DEP_NAME, tmpl, p, in->timeout, err);
		cJSON_Delete(p);
		if (rc)
			goto out;
		printf("deployment %s: succeeded (%d change(s))\n", DEP_NAME, changes);
	} else
		printf("infrastructure: no change\n");
	rc = write_target(in, out, err);
out:
	cJSON_Delete(tmpl);
	cJSON_Delete(rg);
	return rc;
}

int cmd_infra(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"out", 1, 0, 'o'},	     {"template", 1, 0, 't'},	 {"timeout", 1, 0, 'T'},
	    {"cloud", 1, 0, 'C'},    {"cloud-file", 1, 0, 'F'},	 {"ca-file", 1, 0, 'A'},
	    {"quiet", 0, 0, 'q'},    {"yes", 0, 0, 'y'},	 {"quick", 0, 0, 'Q'},
	    {"purge", 0, 0, 'P'},    {"delete-data", 0, 0, 'D'}, {"snapshot", 0, 0, 'S'},
	    {"download", 1, 0, 'd'}, {"help", 0, 0, 'h'},	 {0, 0, 0, 0}};
	const char *out = "target.json", *tfile = NULL, *cloud = NULL, *cloud_file = NULL,
		   *ca = NULL, *verb;
	struct down_opts d = {0};
	struct ng_err err = {{0}};
	struct infra *in;
	int opt, rc, quiet = 0, yes = 0;
	double timeout = 1800;

	if (argc < 2)
		return cli_usage_error("nutapply", "infra", "want plan, up or down");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cmd_infra_usage, stdout);
		return CLI_EXIT_OK;
	}
	verb = argv[1];
	if (strcmp(verb, "plan") && strcmp(verb, "up") && strcmp(verb, "down"))
		return cli_usage_error("nutapply", "infra", "want plan, up or down, not '%s'",
				       verb);
	optind = 2;
	while ((opt = getopt_long(argc, argv, "o:q", lo, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 't':
			tfile = optarg;
			break;
		case 'T':
			if ((timeout = atof(optarg)) <= 0)
				return cli_usage_error("nutapply", "infra",
						       "--timeout: seconds > 0");
			break;
		case 'C':
			cloud = optarg;
			break;
		case 'F':
			cloud_file = optarg;
			break;
		case 'A':
			ca = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'y':
			yes = 1;
			break;
		case 'Q':
			d.quick = 1;
			break;
		case 'P':
			d.purge = 1;
			break;
		case 'D':
			d.delete_data = 1;
			break;
		case 'S':
			d.snapshot = 1;
			break;
		case 'd':
			d.download = optarg;
			break;
		case 'h':
			fputs(cmd_infra_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("nutapply", "infra", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("nutapply", "infra", "%s needs one INFRA.json", verb);
	if (!strcmp(verb, "down")) {
		if (!yes)
			return cli_usage_error(
			    "nutapply", "infra",
			    "down deletes the deployment's resources: add --yes");
		if (d.delete_data && !d.snapshot == !d.download)
			return cli_usage_error("nutapply", "infra",
					       "--delete-data needs exactly one of --snapshot or "
					       "--download FILE");
		if ((d.snapshot || d.download) && !d.delete_data)
			return cli_usage_error("nutapply", "infra",
					       "--snapshot/--download go with --delete-data");
	} else if (yes || d.quick || d.purge || d.delete_data || d.snapshot || d.download)
		return cli_usage_error("nutapply", "infra",
				       "--yes, --quick, --purge, --delete-data "
				       "are options of down");
	if (!(in = calloc(1, sizeof(*in))))
		return cli_fail("nutapply", NG_ENOMEM, &err);
	in->timeout = timeout;
	struct stat a, b;
	if (!strcmp(verb, "up") && !stat(argv[optind], &a) && !stat(out, &b) &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		rc = ng_errf(&err, NG_EUSAGE,
			     "%s: -o names the infra file itself; write target.json "
			     "elsewhere",
			     out);
	else if (!(rc = load_spec(argv[optind], in, &err)) &&
		 !(rc = az_session_open(&in->s, cloud, cloud_file, ca, quiet, &err))) {
		in->open = 1;
		if (!(rc = arm_client_new(in->s.http, in->s.cred, &in->s.cloud, in->v[F_SUB],
					  in->v[F_RG], &in->arm, &err)))
			rc = !strcmp(verb, "down")
				 ? infra_down(in, &d, &err)
				 : plan_up(in, !strcmp(verb, "up"), tfile, out, &err);
	}
	arm_client_free(in->arm);
	if (in->open)
		az_session_close(&in->s);
	free(in);
	return rc ? cli_fail("nutapply", rc, &err) : CLI_EXIT_OK;
}
