/* cmd_key.c: `nutapply key apply|show`: the key step of apply on its own,
 * for operators (check a vault's key and policy) and for tests that drive
 * the Key Vault client without a bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "azcall.h"
#include "keyvault.h"

const char cmd_key_usage[] =
    "Usage: nutapply key apply [OPTIONS] --vault VAULT --name NAME --key FILE --policy FILE\n"
    "       nutapply key show [OPTIONS] --vault VAULT --name NAME\n"
    "\n"
    "apply: makes key NAME in the vault carry the release policy in --policy:\n"
    "  - absent: imports --key with Hsm, exportable (never immutable) and the policy,\n"
    "    and checks the vault's answer is exportable with that policy;\n"
    "  - present with that policy: nothing is sent (says so);\n"
    "  - present otherwise: updates the policy of its current version and reads it\n"
    "    back to confirm. A key that is not exportable or has an immutable policy\n"
    "    is refused.\n"
    "show: prints the key's id, exportable flag and release policy; read-only.\n"
    "\n"
    "Options:\n"
    "  --vault VAULT        vault name ({VAULT}.vault.azure.net) or https:// URL\n"
    "                       (a Managed HSM)\n"
    "  --name NAME          key name (1-127 letters, digits, '-')\n"
    "  --key FILE           a private JWK (JSON), or a BYOK transfer blob (.byok JSON\n"
    "                       wrapped to the vault's key-exchange key, imported as\n"
    "                       key_hsm)\n"
    "  --kty KTY            key type of a BYOK blob: RSA-HSM (default), EC-HSM, oct-HSM\n"
    "  --policy FILE        the release policy (JSON, sent as is)\n"
    "  --cloud NAME         AzureCloud (default), AzureUSGovernment, AzureChinaCloud\n"
    "  --cloud-file FILE    a custom cloud: JSON naming every endpoint\n"
    "  --ca-file FILE       add a CA (PEM) to the system trust store\n"
    "  --json               print the result as JSON on stdout\n"
    "  -q, --quiet          no credential notes on stderr\n"
    "\n"
    "Credentials: the Azure chain (environment, workload identity, managed identity,\n"
    "Azure CLI); the identity needs Key Vault Crypto Officer. Exit status: 0 done,\n"
    "1 failure (one line on stderr), 2 usage.\n"
    "Example: nutapply key apply --vault myvault --name mint-key --key mint.byok \\\n"
    "  --policy release-policy.json\n";

/* The JsonWebKey to import: a BYOK transfer blob (azure-rest.md §3.2)
 * becomes {kty, key_hsm}; a private JWK goes as it is. */
static int load_key(const char *path, const char *kty, cJSON **out, struct ng_err *err)
{
	cJSON *j = NULL;
	int rc = az_read_json(path, 65536, &j, err);

	*out = NULL;
	if (rc)
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(j, "schema_version")) {
		char *text = cJSON_PrintUnformatted(j), *b64 = NULL;
		cJSON *k = cJSON_CreateObject();
		if (!az_json_str(j, "header.kid") || !az_json_str(j, "ciphertext"))
			rc = ng_errf(err, NG_EINVAL, "%s: BYOK blob lacks header.kid or ciphertext",
				     path);
		else if (!text || !k || !(b64 = base64url_encode((uint8_t *)text, strlen(text))) ||
			 !cJSON_AddStringToObject(k, "kty", kty) ||
			 !cJSON_AddStringToObject(k, "key_hsm", b64))
			rc = ng_errf(err, NG_ENOMEM, "out of memory");
		free(text);
		free(b64);
		cJSON_Delete(j);
		j = k;
	} else if (!az_json_str(j, "kty") || (!cJSON_GetObjectItemCaseSensitive(j, "d") &&
					      !cJSON_GetObjectItemCaseSensitive(j, "k"))) {
		rc = ng_errf(err, NG_EINVAL,
			     "%s: neither a BYOK blob nor a private JWK (kty and d or k)", path);
	}
	if (rc)
		cJSON_Delete(j);
	else
		*out = j;
	return rc;
}

static void show(const char *name, cJSON *b, const char *action, int json)
{
	const char *data = az_json_str(b, "release_policy.data");
	uint8_t *pol = NULL;
	size_t pl = 0;
	struct ng_err e;
	int exp =
	    cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "attributes"), "exportable"));

	if (data && base64url_decode(data, strlen(data), &pol, &pl, &e) &&
	    base64_decode(data, strlen(data), &pol, &pl, &e))
		pol = NULL;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", name);
		if (action)
			cJSON_AddStringToObject(o, "action", action);
		cJSON_AddStringToObject(o, "kid",
					az_json_str(b, "key.kid") ? az_json_str(b, "key.kid") : "");
		cJSON_AddBoolToObject(o, "exportable", exp);
		cJSON *pj = pol ? cJSON_ParseWithLength((char *)pol, pl) : NULL;
		cJSON_AddItemToObject(o, "release_policy", pj ? pj : cJSON_CreateNull());
		char *t = cJSON_PrintUnformatted(o);
		puts(t ? t : "{}");
		free(t);
		cJSON_Delete(o);
	} else {
		if (action)
			printf("key %s: %s\n", name, action);
		printf("kid: %s\nexportable: %s\nrelease policy: %.*s\n",
		       az_json_str(b, "key.kid") ? az_json_str(b, "key.kid") : "?",
		       exp ? "yes" : "no", pol ? (int)pl : 6, pol ? (char *)pol : "(none)");
	}
	free(pol);
}

int cmd_key(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"vault", 1, 0, 'v'},      {"name", 1, 0, 'n'},    {"key", 1, 0, 'k'},
	    {"kty", 1, 0, 't'},	       {"policy", 1, 0, 'p'},  {"cloud", 1, 0, 'C'},
	    {"cloud-file", 1, 0, 'F'}, {"ca-file", 1, 0, 'A'}, {"json", 0, 0, 'j'},
	    {"quiet", 0, 0, 'q'},      {"help", 0, 0, 'h'},    {0, 0, 0, 0}};
	const char *vault = NULL, *name = NULL, *keyfile = NULL, *kty = "RSA-HSM", *polfile = NULL;
	const char *cloud = NULL, *cloud_file = NULL, *ca = NULL;
	int json = 0, quiet = 0, rc, opt;
	struct ng_err err = {{0}};
	struct az_session s;
	struct kv_client *kv = NULL;
	cJSON *key = NULL, *pol = NULL, *b = NULL;
	char *poltext = NULL;
	size_t pl = 0;

	if (argc < 2 || (strcmp(argv[1], "apply") && strcmp(argv[1], "show")))
		return cli_usage_error("nutapply", "key", "expected 'apply' or 'show'");
	int apply = !strcmp(argv[1], "apply");
	argc--, argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (opt) {
		case 'v':
			vault = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 't':
			kty = optarg;
			break;
		case 'p':
			polfile = optarg;
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
		case 'j':
			json = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_key_usage, stdout);
			return 0;
		default:
			return cli_usage_error("nutapply", "key", "unknown option");
		}
	}
	if (optind != argc || !vault || !name || (apply && (!keyfile || !polfile)))
		return cli_usage_error("nutapply", "key", "%s needs --vault, --name%s", argv[0],
				       apply ? ", --key and --policy" : "");
	if (strcmp(kty, "RSA-HSM") && strcmp(kty, "EC-HSM") && strcmp(kty, "oct-HSM"))
		return cli_usage_error("nutapply", "key", "--kty: RSA-HSM, EC-HSM or oct-HSM");
	/* Inputs first: a bad file costs no network request. */
	if (apply && ((rc = load_key(keyfile, kty, &key, &err)) ||
		      (rc = read_file_capped(polfile, 65536, (uint8_t **)&poltext, &pl, &err)) ||
		      (rc = strlen(poltext) != pl || !(pol = cJSON_Parse(poltext))
				? ng_errf(&err, NG_EINVAL, "%s: not a JSON release policy", polfile)
				: 0))) {
		az_json_wipe(key);
		cJSON_Delete(key);
		free(poltext);
		return cli_fail("nutapply key", rc, &err);
	}
	if (!(rc = az_session_open(&s, cloud, cloud_file, ca, quiet, &err))) {
		if (!(rc = kv_client_new(s.http, s.cred, &s.cloud, vault, &kv, &err))) {
			if (apply) {
				struct kv_result res;
				static const char *const what[] = {
				    "", "imported", "release policy updated",
				    "unchanged: it already has this release policy"};
				if (!(rc = kv_apply_key(kv, name, key, poltext, &res, &err)) &&
				    !(rc = kv_get_key(kv, name, &b, &err)))
					show(name, b, what[res.action], json);
			} else if (!(rc = kv_get_key(kv, name, &b, &err))) {
				show(name, b, NULL, json);
			}
		}
		kv_client_free(kv);
		az_session_close(&s);
	}
	cJSON_Delete(b);
	az_json_wipe(key); /* a plaintext JWK holds the private key */
	cJSON_Delete(key);
	cJSON_Delete(pol);
	free(poltext);
	return rc ? cli_fail("nutapply key", rc, &err) : 0;
}
