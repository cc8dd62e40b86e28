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
#include "../bundle-format/jsonpath.h"

int apply_ctx_parse(struct apply_ctx *c, int argc, char **argv, const char *usage,
		    const char *extra, int max_operands)
{
	memset(c, 0, sizeof(*c));
	struct option lo[] = {{"trust", 1, 0, 't'},
			      {"threshold", 1, 0, 'k'},
			      {"ca-file", 1, 0, 'A'},
			      {"timeout", 1, 0, 'T'},
			      {"help", 0, 0, 'h'},
			      {"json", 0, &c->json, 1},
			      {"quiet", 0, &c->quiet, 1},
			      {"yes", 0, &c->yes, 1},
			      {"replace-volume", 0, &c->replace_volume, 1},
			      {"parallel", 1, 0, 'p'},
			      {"key-file", 1, 0, 'K'},
			      {0, 0, 0, 0}};
	const char *bad = NULL;
	int opt;

	c->cmd = argv[0];
	c->threshold = 1;
	c->timeout = 1800;
	optind = 1;
	while (!bad && (opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		if (opt == 'q')
			c->quiet = 1;
		else if (opt == 't' && c->ntrust == APPLY_MAX_TRUST)
			bad = "at most 16 --trust";
		else if (opt == 't')
			c->trust[c->ntrust++] = optarg;
		else if (opt == 'k' &&
			 ((c->threshold = (unsigned)atoi(optarg)) < 1 || c->threshold > 16))
			bad = "--threshold: 1 to 16";
		else if (opt == 'A')
			c->ca_file = optarg;
		else if (opt == 'T' && (c->timeout = atof(optarg)) <= 0)
			bad = "--timeout: seconds > 0";
		else if (opt == 'p' && ((c->parallel = atoi(optarg)) < 1 || c->parallel > 64))
			bad = "--parallel: 1 to 64";
		else if (opt == 'K')
			c->key_file = optarg;
		else if (opt == 'h')
			return fputs(usage, stdout), -1;
		else if (opt && !strchr("tkTp", opt))
			bad = "unknown option";
	}
	if (!bad &&
	    ((c->yes && !strchr(extra, 'y')) || (c->replace_volume && !strchr(extra, 'r')) ||
	     (c->parallel && !strchr(extra, 'p')) || (c->key_file && !strchr(extra, 'K'))))
		bad = "an option this command does not take: see --help";
	if (!bad && (argc - optind < 1 || argc - optind > 1 + max_operands))
		bad = max_operands ? "expected BUNDLE [CONTAINER]" : "expected BUNDLE";
	if (!bad && !c->ntrust)
		bad = "--trust PUB: the public key(s) the bundle must be signed by";
	if (bad)
		return cli_usage_error("nutapply", c->cmd, "%s", bad);
	c->bundle_path = argv[optind];
	c->arg = argc - optind > 1 ? argv[optind + 1] : NULL;
	return 0;
}

const char *apply_str(const cJSON *obj, const char *path)
{
	const char *s = json_path_str(obj, path);
	return s ? s : "";
}

const char *apply_member(struct apply_ctx *c, const char *name, struct ng_err *err)
{
	const struct bundle_member *m = bundle_member_get(c->b, name);
	if (m && m->data)
		return (const char *)m->data;
	ng_errf(err, NG_EINVAL, "%s: bundle has no member %s (SPEC §5.3)", c->bundle_path, name);
	return NULL;
}

void apply_group_hostdata(const cJSON *group, char out[65])
{
	const char *p = apply_str(group, "properties.confidentialComputeProperties.ccePolicy");
	uint8_t *d = NULL;
	size_t n = 0;
	struct ng_err e;

	out[0] = 0;
	if (*p && !base64_decode(p, strlen(p), &d, &n, &e))
		sha256_hex(d, n, out);
	free(d);
}

/* The cloud is a named one, or "custom" with deployment.custom_cloud naming
 * every endpoint. The blob is written with Shared Key when AZURE_STORAGE_KEY
 * is set, else with an Entra token for storage (blob.h). */
static int open_clients(struct apply_ctx *c, struct ng_err *err)
{
	const char *name = apply_str(c->dep, "cloud"), *ek = getenv("AZURE_STORAGE_KEY");
	const char *blob = apply_str(c->vol, "blob");
	struct http_opts ho = {.ca_file = c->ca_file};
	int rc;

	if (!strcmp(name, "custom"))
		rc = az_cloud_from_json(cJSON_GetObjectItem(c->dep, "custom_cloud"), &c->s.cloud,
					err);
	else
		rc = az_cloud_named(*name ? name : "AzureCloud", &c->s.cloud, err);
	if (rc)
		return ng_err_prefix(err, rc, "%s: deployment.cloud", c->bundle_path);
	if ((rc = http_ctx_new(&ho, &c->s.http, err)) ||
	    (rc = az_cred_new(c->s.http, &c->s.cloud, c->quiet, &c->s.cred, err)) ||
	    (rc = arm_client_new(c->s.http, c->s.cred, &c->s.cloud,
				 apply_str(c->dep, "subscription"),
				 apply_str(c->dep, "resource_group"), &c->arm, err)))
		return rc;
	if (*apply_str(c->key, "vault") &&
	    (rc = kv_client_new(c->s.http, c->s.cred, &c->s.cloud, apply_str(c->key, "vault"),
				&c->kv, err)))
		return rc;
	if (!*blob)
		return 0;
	if ((rc = blob_account_from_url(blob, c->account, sizeof(c->account), err)))
		return rc;
	c->blob.cred = c->s.cred;
	c->blob.resource = c->s.cloud.storage_resource;
	if (!ek || !*ek)
		return 0;
	if (base64_decode(ek, strlen(ek), &c->storage_key, &c->storage_key_len, err))
		return ng_errf(err, NG_EINVAL,
			       "AZURE_STORAGE_KEY: not base64: copy the key from "
			       "the storage account's access keys");
	c->blob = (struct blob_auth){
	    .account = c->account, .key = c->storage_key, .key_len = c->storage_key_len};
	return 0;
}

int apply_ctx_open(struct apply_ctx *c, int extract, struct ng_err *err)
{
	uint8_t pubs[APPLY_MAX_TRUST][SIGKEY_PUB_LEN];
	struct bundle_read_opts o = {.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])pubs,
				     .ntrusted = c->ntrust,
				     .threshold = c->threshold};
	const struct bundle_member *img;
	const cJSON *m;
	int rc;

	for (size_t i = 0; i < c->ntrust; i++)
		if ((rc = sigkey_load_public(c->trust[i], pubs[i], err)))
			return rc;
	if (extract && (rc = make_private_tmpdir("nutapply", &c->dir, err)))
		return rc;
	o.extract_dir = c->dir;
	if ((rc = bundle_open(c->bundle_path, &o, &c->b, err)))
		return rc;
	m = c->b->m->json;
	hex_encode(c->b->file_sha256, 32, c->digest);
	sha256_hex(c->b->manifest_bytes, c->b->manifest_len, c->manifest_id);
	if ((img = bundle_member_get(c->b, "encfs.img")))
		hex_encode(img->sha256, 32, c->volume_id);
	c->dep = cJSON_GetObjectItemCaseSensitive(m, "deployment");
	c->vol = cJSON_GetObjectItemCaseSensitive(m, "volume");
	c->key = cJSON_GetObjectItemCaseSensitive(m, "key");
	c->group = apply_str(c->dep, "container_group");
	c->hostdata = apply_str(m, "policy.hostdata");
	if (!*c->group || !*c->hostdata || !*apply_str(c->dep, "subscription") ||
	    !*apply_str(c->dep, "resource_group"))
		return ng_errf(err, NG_EINVAL,
			       "%s: manifest lacks deployment.container_group, subscription, "
			       "resource_group or policy.hostdata: rebuild it with nutgen build",
			       c->bundle_path);
	return open_clients(c, err);
}

void apply_ctx_close(struct apply_ctx *c)
{
	kv_client_free(c->kv);
	arm_client_free(c->arm);
	az_session_close(&c->s);
	bundle_free(c->b);
	if (c->storage_key)
		OPENSSL_cleanse(c->storage_key, c->storage_key_len);
	free(c->storage_key);
	if (c->dir) {
		remove_tree(c->dir);
		cleanup_unregister(c->dir);
		free(c->dir);
	}
	memset(c, 0, sizeof(*c));
}
