/* Rendering against vectors produced outside nutgen: the release policy of
 * tests/data/sidecars/release-policy.json (Go encoding/json with importkey's
 * struct tags, ../shared/research/sidecars-vectors), and the deployment
 * loader's errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gen/deployment.h"
#include "../../gen/render.h"
#include "harness.h"

static char *slurp(const char *rel)
{
	char path[1024];
	FILE *f;
	long n;
	char *s;
	snprintf(path, sizeof(path), "%s/%s", ng_srcdir(), rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

static void test_release_policy_vector(void)
{
	struct ng_err err = {{0}};
	char *want = slurp("tests/data/sidecars/release-policy.json"), *got = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_EQUAL_FATAL(
	    render_release_policy(
		"sharedneu.neu.attest.azure.net",
		"cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c", &got, &err),
	    0);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
	free(want);
	CU_ASSERT(render_release_policy("h", "CADD", &got, &err) < 0);
	CU_ASSERT(render_release_policy(
		      "a/b", "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c",
		      &got, &err) < 0);
}

static void expect_load_error(const char *json, const char *part)
{
	struct ng_err err = {{0}};
	struct deployment *d = NULL;
	CU_ASSERT(deployment_parse(json, strlen(json), "t.json", 0, &d, &err) < 0);
	CU_ASSERT_PTR_NULL(d);
	if (!strstr(err.msg, part))
		fprintf(stderr, "\n'%s' lacks '%s'\n", err.msg, part);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, part));
}

static void test_deployment_errors(void)
{
	expect_load_error("[]", "t.json: not a JSON object");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"nope\":1}",
			  "t.json: $.nope: unknown field");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"target\":{\"location\":3}}",
			  "$.target.location: must be a string");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"target\":{\"cloud\":\"Mars\"}}",
			  "$.target.cloud: must be AzureCloud");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"target\":{\"cloud\":\"custom\"}}",
			  "$.target.custom_cloud: required");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"target\":{\"location\":\"westus9\"}}",
			  "$.target.endpoints.attestation");
	expect_load_error(
	    "{\"dns\":{\"label\":\"x\"},\"encfs\":{\"mount_point\":\"/mnt/other/m\"}}",
	    "$.encfs.mount_point: must be a direct child");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"containers\":{\"mint\":{\"port\":443}}}",
			  "$.containers.mint.port");
	expect_load_error(
	    "{\"dns\":{\"label\":\"x\"},\"containers\":{\"caddy\":{\"name\":\"nutshell-mint\"}}}",
	    "name: used twice");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"encfs\":{\"key_type\":\"oct-HSM\","
			  "\"existing_volume\":{\"salt_hex\":\"00\"}}}",
			  "RSA-HSM keys only");
	expect_load_error(
	    "{\"dns\":{\"label\":\"x\"},\"encfs\":{\"existing_volume\":{\"salt_hex\":\"0g\"}}}",
	    "$.encfs.existing_volume.salt_hex");
	expect_load_error(
	    "{\"dns\":{\"label\":\"x\"},\"target\":{\"endpoints\":{\"key_vault\":\"http://x\"}}}",
	    "$.target.endpoints.key_vault");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"version\":2}", "$.version: must be 1");
	expect_load_error("{\"dns\":{\"label\":\"x\"},\"dns\":{\"label\":\"y\"}}", "duplicate");
}

static void test_deployment_derived(void)
{
	struct ng_err err = {{0}};
	struct deployment *d = NULL;
	const char *j =
	    "{\"dns\":{\"label\":\"m1\"},\"target\":{\"key_vault_kind\":\"managed_hsm\","
	    "\"key_vault\":\"hsm1\"}}";
	const struct deployment_endpoints *ep;
	CU_ASSERT_EQUAL_FATAL(deployment_parse(j, strlen(j), "t", 0, &d, &err), 0);
	ep = deployment_endpoints(d);
	/* seed-deployment.md §2.4, §4.1, §11.7; sidecars.md §1.2 */
	CU_ASSERT_STRING_EQUAL(ep->key_vault_host, "hsm1.managedhsm.azure.net");
	CU_ASSERT_STRING_EQUAL(ep->attestation_url,
			       "https://attestnutshelltee.neu.attest.azure.net");
	CU_ASSERT_STRING_EQUAL(ep->attestation_host, "attestnutshelltee.neu.attest.azure.net");
	CU_ASSERT_STRING_EQUAL(ep->blob_url,
			       "https://stnutshelltee.blob.core.windows.net/encfs/encfs.img");
	CU_ASSERT_STRING_EQUAL(ep->domain, "m1.northeurope.azurecontainer.io");
	CU_ASSERT_STRING_EQUAL(deployment_container_name(d, RC_MINT), "nutshell-mint");
	CU_ASSERT_STRING_EQUAL(deployment_str(d, "containers.mint.env.MINT_DATABASE"),
			       "/app/data/mint");
	deployment_free(d);
	deployment_free(NULL);
}

static const struct ng_test tests[] = {
    {"release policy equals the Go-encoded vector", test_release_policy_vector},
    {"deployment errors name the JSON path", test_deployment_errors},
    {"deployment derived endpoints", test_deployment_derived},
};
NG_TEST_MAIN("render", tests)
