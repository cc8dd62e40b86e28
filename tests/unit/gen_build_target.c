/* gen/build_target: target.json's live names over a deployment. The target
 * is the fixture tests/data/infra/target.json (its KEK fingerprint in
 * kek.sha256), edited in memory for the refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bundle-format/fileio.h"
#include "../../gen/build_target.h"
#include "../../gen/deployment.h"
#include "harness.h"

static char *doc, fp[80];

static struct target *load(const char *from, const char *to)
{
	char p[4096];
	uint8_t *d = NULL;
	size_t n = 0;
	struct target *t = NULL;
	struct ng_err err;
	FILE *f;
	char *m, *at;

	if (!doc) {
		snprintf(p, sizeof(p), "%s/tests/data/infra/target.json", ng_srcdir());
		CU_ASSERT_FATAL(read_file_capped(p, 1 << 20, &d, &n, NULL) == 0);
		doc = (char *)d;
		snprintf(p, sizeof(p), "%s/tests/data/infra/kek.sha256", ng_srcdir());
		CU_ASSERT_FATAL((f = fopen(p, "r")) != NULL);
		CU_ASSERT_FATAL(fgets(fp, sizeof(fp), f) != NULL);
		fclose(f);
		fp[strcspn(fp, "\n")] = 0;
	}
	m = malloc(strlen(doc) + (to ? strlen(to) : 0) + 1);
	strcpy(m, doc);
	if (from) { /* replace the first occurrence of from by to */
		CU_ASSERT_FATAL((at = strstr(doc, from)) != NULL);
		sprintf(m + (at - doc), "%s%s", to, at + strlen(from));
	}
	if (target_parse(m, strlen(m), "t.json", fp, &t, &err))
		fprintf(stderr, "%s\n", err.msg);
	free(m);
	CU_ASSERT_FATAL(t != NULL);
	return t;
}

/* A deployment whose $.target is target_members. */
static struct deployment *dep(const char *target_members)
{
	struct deployment *d = NULL;
	struct ng_err err;
	char json[1024];
	snprintf(json, sizeof(json), "{\"dns\": {\"label\": \"x\"}, \"target\": {%s}}",
		 target_members);
	if (deployment_parse(json, strlen(json), "d.json", 0, &d, &err))
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT_FATAL(d != NULL);
	return d;
}

static void test_names_taken(void)
{
	struct target *t = load("\"kv-nutshell-tee\"", "\"kv-live\"");
	struct deployment *d = dep("");
	struct ng_err err;

	CU_ASSERT_FATAL(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == 0);
	CU_ASSERT_STRING_EQUAL(deployment_str(d, "target.subscription"),
			       "00000000-0000-4000-8000-0000000000b5");
	CU_ASSERT_STRING_EQUAL(deployment_str(d, "target.key_vault"), "kv-live");
	/* the URI's trailing slash goes (the deployment's URL rule) */
	CU_ASSERT_STRING_EQUAL(deployment_endpoints(d)->key_vault_url,
			       "https://kv-nutshell-tee.vault.azure.net");
	CU_ASSERT_STRING_EQUAL(deployment_endpoints(d)->blob_url,
			       "https://stnutshelltee.blob.core.windows.net/encfs/encfs.img");
	CU_ASSERT_STRING_EQUAL(deployment_endpoints(d)->attestation_host,
			       "attestnutshelltee.neu.attest.azure.net");
	deployment_free(d);
	target_free(t);
}

static void test_kind_and_group(void)
{
	struct target *t = load("\"kind\": \"vault\"", "\"kind\": \"managedhsm\"");
	struct deployment *d = dep("\"resource_group\": \"rg-nutshell-tee\"");
	struct ng_err err;

	CU_ASSERT_FATAL(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == 0);
	CU_ASSERT_STRING_EQUAL(deployment_str(d, "target.key_vault_kind"), "managed_hsm");
	deployment_free(d);
	target_free(t);
}

static void test_refusals(void)
{
	struct target *t = load(NULL, NULL);
	struct deployment *d = dep("\"subscription\": \"99999999-0000-4000-8000-000000000000\""),
			  *keep = d;
	struct ng_err err;

	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "d.json: $.target.subscription is 99999999") != NULL);
	CU_ASSERT(d == keep);
	deployment_free(d);
	d = dep("\"resource_group\": \"rg-other\"");
	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "$.target.resource_group is rg-other but t.json") != NULL);
	deployment_free(d);
	target_free(t);

	/* an identity id ARM would evaluate, or another group's identity */
	t = load("\"/subscriptions/", "\"[concat('/subscriptions/')]");
	d = dep("");
	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "t.json: identity.resource_id is not the identity") != NULL);
	target_free(t);
	t = load("resourceGroups/rg-nutshell-tee", "resourceGroups/rg-x");
	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	target_free(t);
	t = load("11111111-1111-4111-8111-111111111111", "11111111-1111-4111-8111-11111111111g");
	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "identity.client_id is not a GUID") != NULL);
	target_free(t);
	/* a target value the deployment rules refuse */
	t = load("\"stnutshelltee\"", "\"ST-bad\"");
	CU_ASSERT(deployment_apply_target(&d, "d.json", t, "t.json", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "storage_account") != NULL);
	deployment_free(d);
	target_free(t);
	free(doc);
	doc = NULL;
}

static const struct ng_test tests[] = {
    {"names taken", test_names_taken},
    {"kind and group", test_kind_and_group},
    {"refusals", test_refusals},
};
NG_TEST_MAIN("gen_build_target", tests)
