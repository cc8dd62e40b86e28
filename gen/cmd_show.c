/* nutgen show: what a bundle says, for a reviewer (identity, images,
 * hostdata, signers, members). The whole bundle is checked as verify does,
 * except that signatures need not be trusted. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/jsonw.h"
#include "bundle_cli.h"

const char cmd_show_usage[] =
    "Usage: nutgen show BUNDLE [--json] [--trust PUB...] [--member NAME]\n"
    "\n"
    "Prints the bundle's identity (cloud, subscription, resource group, names), images\n"
    "and digests, policy profile and hostdata, volume and key actions, serial, creation\n"
    "and expiry times, signers (trusted or not, given --trust) and members. The bundle\n"
    "is fully checked first (structure, every signature, every digest); untrusted or\n"
    "missing signatures are reported, not refused. Use `nutgen verify` to decide.\n"
    "\n"
    "  --json          one JSON object instead of text\n"
    "  --trust PUB     mark signatures by this key as trusted; repeatable\n"
    "  --member NAME   print one (small) member's content instead, e.g. explain.txt\n";

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_object_line(const char *label, const cJSON *o)
{
	const cJSON *it;
	struct buf b;

	if (!o)
		return;
	printf("%-10s", label);
	cJSON_ArrayForEach(it, o)
	{
		buf_init(&b, 4096);
		if (cJSON_IsString(it))
			printf(" %s=%s", it->string, it->valuestring);
		else if (!jsonw_print(it, &JSONW_COMPACT_SORTED, &b, NULL))
			printf(" %s=%s", it->string, (char *)b.data);
		buf_free(&b);
	}
	printf("\n");
}

static void show_text(const char *path, const struct bundle *b, int64_t now)
{
	const cJSON *j = b->m->json, *imgs = cJSON_GetObjectItemCaseSensitive(j, "images"), *it;
	char hex[65], t[21];

	hex_encode(b->file_sha256, 32, hex);
	printf("bundle    %s (%" PRIu64 " bytes, sha256 %s)\n", path, b->file_size, hex);
	printf("format    %s v%d, by %s\n", MANIFEST_FORMAT, MANIFEST_VERSION,
	       str_at(j, "generator"));
	manifest_time_format(b->m->created, t);
	printf("created   %s   serial %" PRIu64, t, b->m->serial);
	if (b->m->expires) {
		manifest_time_format(b->m->expires, t);
		printf("   expires %s%s", t, now >= b->m->expires ? " (EXPIRED)" : "");
	}
	printf("\n");
	print_object_line("target", cJSON_GetObjectItemCaseSensitive(j, "deployment"));
	print_object_line("policy", cJSON_GetObjectItemCaseSensitive(j, "policy"));
	print_object_line("volume", cJSON_GetObjectItemCaseSensitive(j, "volume"));
	print_object_line("key", cJSON_GetObjectItemCaseSensitive(j, "key"));
	if (cJSON_GetArraySize(imgs) > 0) {
		printf("images\n");
		cJSON_ArrayForEach(it, imgs)
		{
			const char *c = str_at(it, "container"), *i = str_at(it, "image"),
				   *d = str_at(it, "digest");
			printf("  %-16s %s%s%s\n", c ? c : "?", i ? i : "?", d ? "  " : "",
			       d ? d : "");
		}
	}
	printf("signers   %zu signature(s), %u trusted\n", b->nsigs, b->trusted_signers);
	for (size_t i = 0; i < b->nsigs; i++)
		printf("  %s  %s\n", b->sigs[i].keyid,
		       b->sigs[i].trusted ? "trusted" : "valid, not trusted here");
	printf("members\n");
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct bundle_member *m = &b->members[i];
		hex_encode(m->sha256, 32, hex);
		printf("  %-22s %12" PRIu64 "  %s", m->name, m->size, hex);
		if (m->sparse)
			printf("  sparse: %" PRIu64 " bytes stored", m->stored);
		printf("\n");
	}
}

static int show_json(const char *path, const struct bundle *b, struct ng_err *err)
{
	cJSON *o = cJSON_CreateObject(), *bo, *sigs, *mem;
	char hex[65];
	struct buf out;
	int rc;

	buf_init(&out, 0);
	bo = cJSON_AddObjectToObject(o, "bundle");
	cJSON_AddStringToObject(bo, "path", path);
	cJSON_AddNumberToObject(bo, "size", (double)b->file_size);
	hex_encode(b->file_sha256, 32, hex);
	cJSON_AddStringToObject(bo, "sha256", hex);
	cJSON_AddItemToObject(o, "manifest", cJSON_Duplicate(b->m->json, 1));
	sigs = cJSON_AddArrayToObject(o, "signatures");
	for (size_t i = 0; i < b->nsigs; i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "keyid", b->sigs[i].keyid);
		cJSON_AddBoolToObject(s, "trusted", b->sigs[i].trusted);
		cJSON_AddItemToArray(sigs, s);
	}
	mem = cJSON_AddArrayToObject(o, "members");
	for (size_t i = 0; i < b->nmembers; i++) {
		cJSON *m = cJSON_CreateObject();
		hex_encode(b->members[i].sha256, 32, hex);
		cJSON_AddStringToObject(m, "name", b->members[i].name);
		cJSON_AddNumberToObject(m, "size", (double)b->members[i].size);
		cJSON_AddStringToObject(m, "sha256", hex);
		cJSON_AddBoolToObject(m, "sparse", b->members[i].sparse);
		cJSON_AddNumberToObject(m, "stored", (double)b->members[i].stored);
		cJSON_AddItemToArray(mem, m);
	}
	rc = jsonw_print(o, &JSONW_PRETTY_SORTED, &out, err);
	if (!rc)
		printf("%s\n", (char *)out.data);
	buf_free(&out);
	cJSON_Delete(o);
	return rc;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, 0, 'j'},
					     {"trust", required_argument, 0, 't'},
					     {"member", required_argument, 0, 'm'},
					     {0, 0, 0, 0}};
	struct bundle_read_opts ro = {.allow_expired = 1};
	uint8_t(*trust)[SIGKEY_PUB_LEN] = NULL;
	const char *member = NULL;
	size_t ntrust = 0;
	struct bundle *b = NULL;
	struct ng_err err;
	int c, json = 0, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'm':
			member = optarg;
			break;
		case 't':
			if ((rc = bcli_add_trust(optarg, &trust, &ntrust, &err))) {
				free(trust);
				return cli_fail("nutgen show", rc, &err);
			}
			break;
		default:
			free(trust);
			return cli_usage_error("nutgen", "show", "unknown option");
		}
	}
	if (optind != argc - 1) {
		free(trust);
		return cli_usage_error("nutgen", "show", "give one BUNDLE");
	}
	ro.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])trust;
	ro.ntrusted = ntrust;
	rc = bundle_open(argv[optind], &ro, &b, &err);
	free(trust);
	if (rc)
		return cli_fail("nutgen show", rc, &err);
	if (member) {
		const struct bundle_member *m = bundle_member_get(b, member);
		if (!m)
			rc = ng_errf(&err, NG_ENOTFOUND, "%s: no member '%.100s'", argv[optind],
				     member);
		else if (!m->data)
			rc = ng_errf(&err, NG_ELIMIT,
				     "%s: member '%s' is too large to print; extract it with tar",
				     argv[optind], member);
		else
			fwrite(m->data, 1, (size_t)m->size, stdout);
	} else if (json) {
		rc = show_json(argv[optind], b, &err);
	} else {
		show_text(argv[optind], b, (int64_t)time(NULL));
	}
	bundle_free(b);
	return rc ? cli_fail("nutgen show", rc, &err) : 0;
}
