/* applyctx.c: the shared setup of the bundle commands (see applyctx.h). */
#include "applyctx.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/digest.h"
#include "../bundle-format/fileio.h"

int apply_ctx_parse(struct apply_ctx *c, int argc, char **argv, const char *usage,
		    const char *extra, int max_operands)
{
	static const struct option lo[] = {
	    {"trust", 1, 0, 't'},    {"threshold", 1, 0, 'k'},	    {"ca-file", 1, 0, 'A'},
	    {"json", 0, 0, 'j'},     {"quiet", 0, 0, 'q'},	    {"timeout", 1, 0, 'T'},
	    {"yes", 0, 0, 'y'},	     {"replace-volume", 0, 0, 'r'}, {"help", 0, 0, 'h'},
	    {"parallel", 1, 0, 'p'}, {"key-file", 1, 0, 'K'},	    {0, 0, 0, 0}};
	int opt;

	memset(c, 0, sizeof(*c));
	c->cmd = argv[0];
	c->threshold = 1;
	c->timeout = 1800;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		if (strchr("yrpK", opt) && !strchr(extra, opt))
			opt = '?';
		switch (opt) {
		case 't':
			if (c->ntrust == APPLY_MAX_TRUST)
				return cli_usage_error("nutapply", c->cmd, "at most 16 --trust");
			c->trust[c->ntrust++] = optarg;
			break;
		case 'k':
			if ((c->threshold = (unsigned)atoi(optarg)) < 1 || c->threshold > 16)
				return cli_usage_error("nutapply", c->cmd, "--threshold: 1 to 16");
			break;
		case 'A':
			c->ca_file = optarg;
			break;
		case 'j':
			c->json = 1;
			break;
		case 'q':
			c->quiet = 1;
			break;
		case 'T':
			if ((c->timeout = atof(optarg)) <= 0)
				return cli_usage_error("nutapply", c->cmd,
						       "--timeout: seconds > 0");
			break;
		case 'y':
			c->yes = 1;
			break;
		case 'r':
			c->replace_volume = 1;
			break;
		case 'p':
			if ((c->parallel = atoi(optarg)) < 1 || c->parallel > 64)
				return cli_usage_error("nutapply", c->cmd, "--parallel: 1 to 64");
			break;
		case 'K':
			c->key_file = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			return cli_usage_error("nutapply", c->cmd, "unknown option");
		}
	}
	if (argc - optind < 1 || argc - optind > 1 + max_operands)
		return cli_usage_error("nutapply", c->cmd, "expected BUNDLE%s",
				       max_operands ? " [CONTAINER]" : "");
	if (!c->ntrust)
		return cli_usage_error(
		    "nutapply", c->cmd,
		    "--trust PUB: the public key(s) the bundle must be signed by");
	c->bundle_path = argv[optind];
	c->arg = argc - optind > 1 ? argv[optind + 1] : NULL;
	return 0;
}

const char *apply_str(const cJSON *obj, const char *field)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, field));
	return s ? s : "";
}

const char *apply_member(struct apply_ctx *c, const char *name, struct ng_err *err)
{
	const struct bundle_member *m = bundle_member_get(c->b, name);
	if (!m || !m->data)
		return ng_errf(err, NG_EINVAL, "%s: bundle has no member %s (SPEC §5.3)",
			       c->bundle_path, name),
		       NULL;
	return (const char *)m->data;
}

void apply_group_hostdata(const cJSON *group, char out[65])
{
	const char *p = az_json_str(group, "properties.confidentialComputeProperties.ccePolicy");
	uint8_t *d = NULL;
	size_t n = 0;
	struct ng_err e;

	out[0] = 0;
	if (p && !base64_decode(p, strlen(p), &d, &n, &e))
		sha256_hex(d, n, out);
	free(d);
}

/* The cloud: a named one, or "custom" with deployment.custom_cloud naming
 * every endpoint (cred.h az_cloud_from_json). */
static int open_session(struct apply_ctx *c, struct ng_err *err)
{
	const char *name = apply_str(c->dep, "cloud");
	const cJSON *cc = cJSON_GetObjectItemCaseSensitive(c->dep, "custom_cloud");
	struct http_opts ho = {.ca_file = c->ca_file};
	int rc;

	if (!strcmp(name, "custom"))
		rc = az_cloud_from_json(cc, &c->s.cloud, err);
	else
		rc = az_cloud_named(*name ? name : "AzureCloud", &c->s.cloud, err);
	if (rc)
		return ng_err_prefix(err, rc, "%s: deployment.cloud", c->bundle_path);
	if ((rc = http_ctx_new(&ho, &c->s.http, err)) ||
	    (rc = az_cred_new(c->s.http, &c->s.cloud, c->quiet, &c->s.cred, err)))
		return rc;
	return 0;
}

int apply_ctx_open(struct apply_ctx *c, int extract, struct ng_err *err)
{
	uint8_t pubs[APPLY_MAX_TRUST][SIGKEY_PUB_LEN];
	struct bundle_read_opts o = {.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])pubs,
				     .ntrusted = c->ntrust,
				     .threshold = c->threshold};
	const char *ek = getenv("AZURE_STORAGE_KEY"), *blob = NULL;
	int rc;

	for (size_t i = 0; i < c->ntrust; i++)
		if ((rc = sigkey_load_public(c->trust[i], pubs[i], err)))
			return rc;
	if (extract && (rc = make_private_tmpdir("nutapply", &c->dir, err)))
		return rc;
	o.extract_dir = c->dir;
	/* Everything is verified before the first request (SPEC §6). */
	if ((rc = bundle_open(c->bundle_path, &o, &c->b, err)))
		return rc;
	hex_encode(c->b->file_sha256, 32, c->digest);
	c->dep = cJSON_GetObjectItemCaseSensitive(c->b->m->json, "deployment");
	c->vol = cJSON_GetObjectItemCaseSensitive(c->b->m->json, "volume");
	c->key = cJSON_GetObjectItemCaseSensitive(c->b->m->json, "key");
	c->group = apply_str(c->dep, "container_group");
	c->hostdata = az_json_str(c->b->m->json, "policy.hostdata");
	if (!*c->group || !c->hostdata || !*apply_str(c->dep, "subscription") ||
	    !*apply_str(c->dep, "resource_group"))
		return ng_errf(err, NG_EINVAL,
			       "%s: manifest lacks deployment.container_group, subscription, "
			       "resource_group or policy.hostdata: rebuild it with nutgen build",
			       c->bundle_path);
	if ((rc = open_session(c, err)) ||
	    (rc = arm_client_new(c->s.http, c->s.cred, &c->s.cloud,
				 apply_str(c->dep, "subscription"),
				 apply_str(c->dep, "resource_group"), &c->arm, err)))
		return rc;
	if (*apply_str(c->key, "vault") &&
	    (rc = kv_client_new(c->s.http, c->s.cred, &c->s.cloud, apply_str(c->key, "vault"),
				&c->kv, err)))
		return rc;
	/* The blob: Shared Key when AZURE_STORAGE_KEY is set, else an Entra
	 * token for storage (blob.h). */
	if (*(blob = apply_str(c->vol, "blob"))) {
		if ((rc = blob_account_from_url(blob, c->account, sizeof(c->account), err)))
			return rc;
		if (ek && *ek) {
			if (base64_decode(ek, strlen(ek), &c->storage_key, &c->storage_key_len,
					  err))
				return ng_errf(err, NG_EINVAL,
					       "AZURE_STORAGE_KEY: not base64: copy the key from "
					       "the storage account's access keys");
			c->blob.account = c->account;
			c->blob.key = c->storage_key;
			c->blob.key_len = c->storage_key_len;
		} else {
			c->blob.cred = c->s.cred;
			c->blob.resource = c->s.cloud.storage_resource;
		}
	}
	return 0;
}

void apply_ctx_close(struct apply_ctx *c)
{
	kv_client_free(c->kv);
	arm_client_free(c->arm);
	az_session_close(&c->s);
	bundle_free(c->b);
	if (c->storage_key) {
		OPENSSL_cleanse(c->storage_key, c->storage_key_len);
		free(c->storage_key);
	}
	if (c->dir) {
		remove_tree(c->dir);
		cleanup_unregister(c->dir);
		free(c->dir);
	}
	memset(c, 0, sizeof(*c));
}
