/* cmd_volume.c: `nutapply volume upload|status`: the volume step of apply on
 * its own, for operators (inspect a blob, finish an interrupted upload) and
 * for tests that need the upload without a bundle. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/progress.h"
#include "blob.h"

const char cmd_volume_usage[] =
    "Usage: nutapply volume upload [OPTIONS] --image FILE --bundle-id ID --volume-id ID "
    "BLOB_URL\n"
    "       nutapply volume status [OPTIONS] BLOB_URL\n"
    "\n"
    "upload: makes the page blob at BLOB_URL hold the volume image FILE, safely:\n"
    "  - absent: created (If-None-Match: *), marked nutapply_state=uploading, only the\n"
    "    non-zero 512-byte pages sent (<= 4 MiB per Put Page, several in parallel, each\n"
    "    with Content-MD5), every range read back and compared, then marked complete;\n"
    "  - already this volume and complete: nothing is sent (says so);\n"
    "  - this volume, interrupted: resumed; what is there is verified, not re-sent;\n"
    "  - any other blob: refused, nothing written, unless --replace-volume, which\n"
    "    leases it, takes a snapshot (printed), then replaces it.\n"
    "status: prints what the blob holds (size, nutapply state, bundle and volume ids,\n"
    "  ETag, lease state, bytes written); read-only.\n"
    "\n"
    "Options:\n"
    "  --image FILE          the volume image (e.g. the bundle's encfs.img)\n"
    "  --bundle-id ID        recorded in the blob's metadata (nutapply_bundle)\n"
    "  --volume-id ID        identifies the volume (nutapply_volume); a blob with\n"
    "                        another id is never touched without --replace-volume\n"
    "  --replace-volume      lease, snapshot and replace a blob holding other data\n"
    "  --parallel N          concurrent Put Page calls (1-64, default 8)\n"
    "  --chunk BYTES         bytes per Put Page (multiple of 512, <= 4194304)\n"
    "  --auth key|token      Shared Key (default when AZURE_STORAGE_KEY or\n"
    "                        --account-key-file is given) or an Entra token for\n"
    "                        Azure Storage from the credential chain (environment,\n"
    "                        workload identity, managed identity, Azure CLI)\n"
    "  --account-key-file F  file holding the base64 account key (else the\n"
    "                        AZURE_STORAGE_KEY environment variable; never argv)\n"
    "  --cloud NAME          AzureCloud (default), AzureUSGovernment, AzureChinaCloud\n"
    "  --cloud-file FILE     a custom cloud: JSON naming every endpoint\n"
    "  --ca-file FILE        add a CA (PEM) to the system trust store\n"
    "  --budget SECONDS      time allowed per HTTP call, retries included (300)\n"
    "  --json                print the result as JSON on stdout\n"
    "  -q, --quiet           no progress or credential notes on stderr\n"
    "\n"
    "Environment: NUTAPPLY_HTTP_DEBUG=1 logs each HTTP attempt on stderr (no\n"
    "secrets). Exit status: 0 done, 1 failure (one line on stderr), 2 usage.\n"
    "Example: AZURE_STORAGE_KEY=... nutapply volume upload --image encfs.img \\\n"
    "  --bundle-id b1 --volume-id v1 https://acct.blob.core.windows.net/vol/encfs.img\n";

static const char *const action_name[] = {"unchanged", "created", "resumed", "replaced"};

static void print_json_str(const char *k, const char *v, int last)
{
	cJSON *s = cJSON_CreateString(v);
	char *p = s ? cJSON_PrintUnformatted(s) : NULL;
	printf("\"%s\":%s%s", k, p ? p : "\"\"", last ? "" : ",");
	free(p);
	cJSON_Delete(s);
}

int cmd_volume(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"image", 1, 0, 'i'},     {"bundle-id", 1, 0, 'b'},
	    {"volume-id", 1, 0, 'v'}, {"replace-volume", 0, 0, 'R'},
	    {"parallel", 1, 0, 'p'},  {"chunk", 1, 0, 'c'},
	    {"auth", 1, 0, 'a'},      {"account-key-file", 1, 0, 'k'},
	    {"cloud", 1, 0, 'C'},     {"cloud-file", 1, 0, 'F'},
	    {"ca-file", 1, 0, 'A'},   {"json", 0, 0, 'j'},
	    {"quiet", 0, 0, 'q'},     {"help", 0, 0, 'h'},
	    {"budget", 1, 0, 'B'},    {0, 0, 0, 0}};
	const char *sub, *image = NULL, *bundle = NULL, *volume = NULL, *auth_mode = NULL;
	const char *keyfile = NULL, *cloud_name = "AzureCloud", *cloud_file = NULL;
	struct blob_opts bo = {0};
	struct http_opts ho = {0};
	struct ng_err err = {{0}};
	struct az_cloud cloud;
	struct http_ctx *http = NULL;
	struct az_cred *cred = NULL;
	struct blob_auth ba = {0};
	uint8_t *key = NULL;
	size_t keylen = 0;
	char account[128];
	int json = 0, quiet = 0, rc, opt;

	if (argc < 2 || (strcmp(argv[1], "upload") && strcmp(argv[1], "status")))
		return cli_usage_error("nutapply", "volume", "expected 'upload' or 'status'");
	sub = argv[1];
	argc--, argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (opt) {
		case 'i':
			image = optarg;
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'v':
			volume = optarg;
			break;
		case 'R':
			bo.replace = 1;
			break;
		case 'p':
			bo.parallel = atoi(optarg);
			if (bo.parallel < 1 || bo.parallel > 64)
				return cli_usage_error("nutapply", "volume",
						       "--parallel %s: give 1 to 64", optarg);
			break;
		case 'c':
			bo.chunk = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'a':
			auth_mode = optarg;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'C':
			cloud_name = optarg;
			break;
		case 'F':
			cloud_file = optarg;
			break;
		case 'A':
			ho.ca_file = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'B':
			ho.budget_s = atof(optarg);
			if (ho.budget_s < 1)
				return cli_usage_error("nutapply", "volume",
						       "--budget %s: give seconds >= 1", optarg);
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_volume_usage, stdout);
			return 0;
		default:
			return cli_usage_error("nutapply", "volume", "unknown option");
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("nutapply", "volume", "give exactly one BLOB_URL");
	const char *url = argv[optind];
	if (!strcmp(sub, "upload") && (!image || !bundle || !volume))
		return cli_usage_error("nutapply", "volume",
				       "upload needs --image, --bundle-id and --volume-id");
	if (auth_mode && strcmp(auth_mode, "key") && strcmp(auth_mode, "token"))
		return cli_usage_error("nutapply", "volume", "--auth: 'key' or 'token'");
	if (strchr(url, '?'))
		return cli_usage_error("nutapply", "volume",
				       "BLOB_URL must not carry a query (no SAS in argv)");
	progress_set_quiet(quiet);

	if ((rc = blob_account_from_url(url, account, sizeof(account), &err)))
		return cli_fail("nutapply volume", rc, &err);
	if (cloud_file) {
		uint8_t *d;
		size_t dl;
		cJSON *j;
		if ((rc = read_file_capped(cloud_file, 65536, &d, &dl, &err)))
			return cli_fail("nutapply volume", rc, &err);
		j = cJSON_ParseWithLength((char *)d, dl);
		free(d);
		rc = j ? az_cloud_from_json(j, &cloud, &err)
		       : ng_errf(&err, NG_EINVAL, "%s: not JSON", cloud_file);
		cJSON_Delete(j);
	} else {
		rc = az_cloud_named(cloud_name, &cloud, &err);
	}
	if (rc)
		return cli_fail("nutapply volume", rc, &err);

	if (!auth_mode || !strcmp(auth_mode, "key")) {
		uint8_t *d = NULL;
		size_t dl = 0;
		const char *ek = getenv("AZURE_STORAGE_KEY");
		if (keyfile) {
			if ((rc = read_file_capped(keyfile, 4096, &d, &dl, &err)))
				return cli_fail("nutapply volume", rc, &err);
			while (dl && (d[dl - 1] == '\n' || d[dl - 1] == '\r' || d[dl - 1] == ' '))
				d[--dl] = 0;
		} else if (ek && *ek) {
			d = (uint8_t *)strdup(ek);
			dl = strlen(ek);
		}
		if (d) {
			rc = base64_decode((char *)d, dl, &key, &keylen, &err);
			OPENSSL_cleanse(d, dl);
			free(d);
			if (rc)
				return cli_fail("nutapply volume", rc,
						(ng_errf(&err, rc,
							 "account key: not base64: copy the key "
							 "from the storage account's access keys"),
						 &err));
		} else if (auth_mode) {
			return cli_usage_error("nutapply", "volume",
					       "--auth key needs AZURE_STORAGE_KEY or "
					       "--account-key-file");
		}
	}
	if ((rc = http_ctx_new(&ho, &http, &err)))
		goto done;
	if (key) {
		ba.account = account;
		ba.key = key;
		ba.key_len = keylen;
	} else {
		if ((rc = az_cred_new(http, &cloud, quiet, &cred, &err)))
			goto done;
		ba.cred = cred;
		ba.resource = cloud.storage_resource;
	}

	if (!strcmp(sub, "status")) {
		struct blob_state st;
		if ((rc = blob_status(http, &ba, url, &st, &err)))
			goto done;
		if (json) {
			printf("{\"exists\":%s,\"size\":%llu,\"written_bytes\":%llu,",
			       st.exists ? "true" : "false", (unsigned long long)st.size,
			       (unsigned long long)st.written_bytes);
			print_json_str("state", st.state, 0);
			print_json_str("bundle", st.bundle, 0);
			print_json_str("volume", st.volume, 0);
			print_json_str("etag", st.etag, 0);
			print_json_str("lease_state", st.lease_state, 1);
			printf("}\n");
		} else if (!st.exists) {
			printf("absent: %s\n", url);
		} else {
			printf("size: %llu\nwritten: %llu\nstate: %s\nbundle: %s\nvolume: %s\n"
			       "etag: %s\nlast-modified: %s\nlease: %s\n",
			       (unsigned long long)st.size, (unsigned long long)st.written_bytes,
			       st.state[0] ? st.state : "(none: not made by nutapply)", st.bundle,
			       st.volume, st.etag, st.last_modified, st.lease_state);
		}
		goto done;
	}

	struct blob_result r;
	rc = blob_upload_volume(http, &ba, url, image, bundle, volume, &bo, &r, &err);
	if (rc)
		goto done;
	if (json) {
		printf("{\"action\":\"%s\",\"image_size\":%llu,\"nonzero_bytes\":%llu,"
		       "\"put_bytes\":%llu,\"sent_bytes\":%llu,\"ranges\":%llu,\"put_calls\":%llu,"
		       "\"verified_ranges\":%llu,\"cleared_ranges\":%llu,",
		       action_name[r.action], (unsigned long long)r.image_size,
		       (unsigned long long)r.nonzero_bytes, (unsigned long long)r.put_bytes,
		       (unsigned long long)r.sent_bytes, (unsigned long long)r.ranges,
		       (unsigned long long)r.put_calls, (unsigned long long)r.verified_ranges,
		       (unsigned long long)r.cleared_ranges);
		print_json_str("snapshot", r.snapshot, 1);
		printf("}\n");
	} else if (r.action == BLOB_UNCHANGED) {
		printf("volume: unchanged: the blob already holds volume %s (complete); nothing "
		       "sent\n",
		       volume);
	} else {
		printf("volume: %s: %llu non-zero of %llu bytes, %llu Put Page calls (%llu "
		       "bytes), %llu ranges verified%s%s\n",
		       action_name[r.action], (unsigned long long)r.nonzero_bytes,
		       (unsigned long long)r.image_size, (unsigned long long)r.put_calls,
		       (unsigned long long)r.put_bytes, (unsigned long long)r.verified_ranges,
		       r.snapshot[0] ? ", snapshot " : "", r.snapshot);
	}
done:
	if (key) {
		OPENSSL_cleanse(key, keylen);
		free(key);
	}
	az_cred_free(cred);
	http_ctx_free(http);
	return rc ? cli_fail("nutapply volume", rc, &err) : 0;
}
