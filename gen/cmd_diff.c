/* nutgen diff: what changed between two bundles, for the reviewer who must
 * co-sign the new one. Semantic, not textual: JSON members by path, the
 * policy per container and field, sidecar arguments decoded, and the volume
 * and key only as header facts (digests and the manifest's facts, never
 * content). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "bundle_cli.h"
#include "jsondiff.h"

const char cmd_diff_usage[] =
    "Usage: nutgen diff OLD.tgz NEW.tgz\n"
    "\n"
    "Shows what changed from OLD to NEW, one line per change, addressed by path:\n"
    "identity and images (manifest), the CCE policy per container and field\n"
    "(policy.rego), hostdata, the key release policy, the ARM template by JSON path,\n"
    "the sidecar arguments (decoded), the deployment, and the volume and key as header\n"
    "facts only (action, size, digest; never key material). Both bundles are fully\n"
    "checked first; signatures need not be trusted here (use `nutgen verify`).\n"
    "created, generator and serial are shown but do not count as differences.\n"
    "\n"
    "Exit status: 0 no differences, 1 differences (or an error), 2 usage error.\n";

/* Members diffed as JSON, by path. */
static const char *const json_members[] = {"arm-template.json", "deployment.json",
					   "importkeyconfig.json", "release-policy.json"};

static cJSON *member_json(const struct bundle *b, const char *name)
{
	const struct bundle_member *m = bundle_member_get(b, name);

	return m && m->data ? cJSON_ParseWithLength((const char *)m->data, (size_t)m->size) : NULL;
}

/* sidecar-args.json: {"EncfsSideCarArgs": base64(JSON), ...} with every value
 * decoded, so a reviewer sees the fields. */
static cJSON *sidecar_json(const struct bundle *b)
{
	cJSON *o = member_json(b, "sidecar-args.json"), *e, *next;

	for (e = o ? o->child : NULL; e; e = next) {
		uint8_t *raw = NULL;
		size_t n;
		cJSON *dec;
		next = e->next;
		if (!cJSON_IsString(e) || !e->string ||
		    base64_decode(e->valuestring, strlen(e->valuestring), &raw, &n, NULL))
			continue;
		dec = cJSON_ParseWithLength((const char *)raw, n);
		free(raw);
		if (dec)
			cJSON_ReplaceItemInObjectCaseSensitive(o, e->string, dec);
	}
	return o;
}

/* Members whose changes were already shown by a semantic view: their digest
 * line is information only. A member that changed in bytes but showed no
 * semantic change (say, reformatted JSON) still counts. */
struct shown {
	const char *names[16];
	size_t n;
};

static int was_shown(const struct shown *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return 1;
	return 0;
}

static size_t diff_members(const struct bundle *a, const struct bundle *b, const struct shown *sh,
			   struct buf *out)
{
	size_t n = 0;
	char ha[65], hb[65];

	for (size_t i = 0; i < a->nmembers; i++) {
		const struct bundle_member *x = &a->members[i], *y = bundle_member_get(b, x->name);
		hex_encode(x->sha256, 32, ha);
		if (!y) {
			buf_printf(out, "member %s: removed (%" PRIu64 " bytes, sha256 %.16s…)\n",
				   x->name, x->size, ha);
			n++;
		} else if (memcmp(x->sha256, y->sha256, 32)) {
			int info = was_shown(sh, x->name);
			hex_encode(y->sha256, 32, hb);
			buf_printf(out,
				   "%smember %s: changed (%" PRIu64 " -> %" PRIu64
				   " bytes, sha256 %.16s… -> %.16s…)\n",
				   info ? "(info) " : "", x->name, x->size, y->size, ha, hb);
			n += !info;
		}
	}
	for (size_t i = 0; i < b->nmembers; i++) {
		const struct bundle_member *y = &b->members[i];
		if (bundle_member_get(a, y->name))
			continue;
		hex_encode(y->sha256, 32, hb);
		buf_printf(out, "member %s: added (%" PRIu64 " bytes, sha256 %.16s…)\n", y->name,
			   y->size, hb);
		n++;
	}
	return n;
}

static size_t diff_bundles(const struct bundle *a, const struct bundle *b, struct buf *out)
{
	static const char *const info[] = {"created", "generator", "serial"};
	cJSON *ma = cJSON_Duplicate(a->m->json, 1), *mb = cJSON_Duplicate(b->m->json, 1);
	cJSON *x, *y;
	struct buf ignored;
	struct shown sh = {.n = 0};
	size_t n = 0, k;

	/* Facts that always change between builds: shown, not counted. */
	buf_init(&ignored, 0);
	for (size_t i = 0; i < 3; i++)
		jsondiff("(info) manifest ", info[i], cJSON_GetObjectItemCaseSensitive(ma, info[i]),
			 cJSON_GetObjectItemCaseSensitive(mb, info[i]), out);
	for (size_t i = 0; i < 3; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(ma, info[i]);
		cJSON_DeleteItemFromObjectCaseSensitive(mb, info[i]);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(ma, "members");
	cJSON_DeleteItemFromObjectCaseSensitive(mb, "members");
	n += jsondiff("manifest ", "$", ma, mb, out);
	cJSON_Delete(ma);
	cJSON_Delete(mb);

	{
		const struct bundle_member *pa = bundle_member_get(a, "policy.rego"),
					   *pb = bundle_member_get(b, "policy.rego");
		x = pa && pa->data ? jsondiff_rego((const char *)pa->data) : NULL;
		y = pb && pb->data ? jsondiff_rego((const char *)pb->data) : NULL;
		if ((k = jsondiff("policy.rego ", "$", x, y, out)))
			sh.names[sh.n++] = "policy.rego";
		n += k;
		cJSON_Delete(x);
		cJSON_Delete(y);
	}
	{
		const struct bundle_member *ha = bundle_member_get(a, "hostdata.txt"),
					   *hb = bundle_member_get(b, "hostdata.txt");
		if (ha && hb && ha->data && hb->data &&
		    strcmp((char *)ha->data, (char *)hb->data)) {
			buf_printf(out, "hostdata: %.64s -> %.64s\n", (char *)ha->data,
				   (char *)hb->data);
			sh.names[sh.n++] = "hostdata.txt";
			n++;
		}
	}
	for (size_t i = 0; i < sizeof(json_members) / sizeof(json_members[0]); i++) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s ", json_members[i]);
		x = member_json(a, json_members[i]);
		y = member_json(b, json_members[i]);
		if ((k = jsondiff(prefix, "$", x, y, out)))
			sh.names[sh.n++] = json_members[i];
		n += k;
		cJSON_Delete(x);
		cJSON_Delete(y);
	}
	x = sidecar_json(a);
	y = sidecar_json(b);
	if ((k = jsondiff("sidecar-args.json ", "$", x, y, out)))
		sh.names[sh.n++] = "sidecar-args.json";
	n += k;
	cJSON_Delete(x);
	cJSON_Delete(y);
	/* Every member by digest: catches what the views above do not show
	 * (encfs.img, the wrapped key, explain.txt) without showing content. */
	n += diff_members(a, b, &sh, out);
	buf_free(&ignored);
	return n;
}

int cmd_diff(int argc, char **argv)
{
	struct bundle_read_opts ro = {.allow_expired = 1};
	struct bundle *a = NULL, *b = NULL;
	struct ng_err err;
	struct buf out;
	size_t n;
	int rc;

	if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
		return cli_usage_error("nutgen", "diff", "give OLD.tgz and NEW.tgz");
	if ((rc = bundle_open(argv[1], &ro, &a, &err)) ||
	    (rc = bundle_open(argv[2], &ro, &b, &err))) {
		bundle_free(a);
		return cli_fail("nutgen diff", rc, &err);
	}
	buf_init(&out, 0);
	n = diff_bundles(a, b, &out);
	if (out.len)
		fwrite(out.data, 1, out.len, stdout);
	if (n)
		printf("%zu difference(s)\n", n);
	else
		printf("no differences\n");
	buf_free(&out);
	bundle_free(a);
	bundle_free(b);
	return n ? 1 : 0;
}
