/* Pure parts of the Key Vault and ARM clients: release policies compared as
 * JSON (the service may re-serialise them and Microsoft's tools send standard
 * base64, azure-rest.md §3.1, §11.2), secure template parameters filled only
 * from their sources, client construction refusing hostile names. The
 * base64 strings below were made with Python's base64 module. */
#include <string.h>

#include "../../apply/arm.h"
#include "../../apply/azcall.h"
#include "../../apply/keyvault.h"
#include "harness.h"

static const char policy[] = "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\","
			     "\"allOf\":[{\"claim\":\"x\",\"equals\":\"false\"}]}]}";

static int matches(const char *data)
{
	char doc[512];
	snprintf(doc, sizeof(doc), "{\"release_policy\":{\"data\":\"%s\"}}", data);
	cJSON *b = cJSON_Parse(doc), *p = cJSON_Parse(policy);
	int r = kv_policy_matches(b, p);
	cJSON_Delete(b);
	cJSON_Delete(p);
	return r;
}

static void test_policy_matches(void)
{
	/* base64.urlsafe_b64encode(json.dumps(p, separators=(",",":")).encode()).rstrip(b"=") of
	 * the same policy with its keys in another order */
	CU_ASSERT(matches("eyJhbnlPZiI6W3siYWxsT2YiOlt7ImVxdWFscyI6ImZhbHNlIiwiY2xhaW0iOiJ4In1dLC"
			  "JhdXRob3JpdHkiOiJodHRwczovL2EifV0sInZlcnNpb24iOiIxLjAuMCJ9"));
	/* standard base64 with padding of the original bytes */
	CU_ASSERT(matches("eyJ2ZXJzaW9uIjoiMS4wLjAiLCJhbnlPZiI6W3siYXV0aG9yaXR5IjoiaHR0cHM6Ly9hIiwi"
			  "YWxsT2YiOlt7ImNsYWltIjoieCIsImVxdWFscyI6ImZhbHNlIn1dfV19"));
	/* equals "true" instead of "false" */
	CU_ASSERT(
	    !matches("eyJ2ZXJzaW9uIjoiMS4wLjAiLCJhbnlPZiI6W3siYXV0aG9yaXR5IjoiaHR0cHM6Ly9hIiwi"
		     "YWxsT2YiOlt7ImNsYWltIjoieCIsImVxdWFscyI6InRydWUifV19XX0"));
	CU_ASSERT(!matches("not base64!"));
	CU_ASSERT(!matches(""));
}

static void test_secure_params(void)
{
	cJSON *t = cJSON_Parse("{\"parameters\":{\"storageAccountKey\":{\"type\":\"secureString\"},"
			       "\"registryPassword\":{\"type\":\"securestring\"},"
			       "\"plain\":{\"type\":\"string\"}}}");
	cJSON *p =
	    cJSON_Parse("{\"plain\":{\"value\":\"v\"},\"registryPassword\":{\"value\":\"old\"}}");
	struct ng_err err = {{0}};

	CU_ASSERT(arm_fill_secure_params(t, p, NULL, "pw", &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "storageAccountKey") && strstr(err.msg, "--storage-account"));
	CU_ASSERT(arm_fill_secure_params(t, p, "key", NULL, &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "NUTAPPLY_REGISTRY_PASSWORD") != NULL);
	CU_ASSERT_EQUAL(arm_fill_secure_params(t, p, "key", "pw", &err), 0);
	CU_ASSERT_STRING_EQUAL(az_json_str(p, "storageAccountKey.value"), "key");
	CU_ASSERT_STRING_EQUAL(az_json_str(p, "registryPassword.value"), "pw");
	CU_ASSERT_STRING_EQUAL(az_json_str(p, "plain.value"), "v");
	cJSON_Delete(t);
	/* A secure parameter nutapply cannot fill is refused by name. */
	t = cJSON_Parse("{\"parameters\":{\"adminPassword\":{\"type\":\"securestring\"}}}");
	CU_ASSERT(arm_fill_secure_params(t, p, "key", "pw", &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "adminPassword") != NULL);
	cJSON_Delete(t);
	cJSON_Delete(p);
}

static void test_hostile_names(void)
{
	struct az_cloud cloud;
	struct ng_err err = {{0}};
	struct kv_client *kv = NULL;
	struct arm_client *arm = NULL;

	CU_ASSERT_EQUAL(az_cloud_named("AzureCloud", &cloud, &err), 0);
	CU_ASSERT(kv_client_new(NULL, NULL, &cloud, "a/../b", &kv, &err) == NG_EINVAL);
	CU_ASSERT(kv_client_new(NULL, NULL, &cloud, "https://v.example/?x", &kv, &err) ==
		  NG_EINVAL);
	CU_ASSERT(arm_client_new(NULL, NULL, &cloud, "sub/../x", "rg", &arm, &err) == NG_EINVAL);
	CU_ASSERT(arm_client_new(NULL, NULL, &cloud, "s", "rg?api-version=1", &arm, &err) ==
		  NG_EINVAL);
	CU_ASSERT_EQUAL(kv_client_new(NULL, NULL, &cloud, "https://v.vault.azure.net/", &kv, &err),
			0);
	CU_ASSERT_EQUAL(arm_client_new(NULL, NULL, &cloud, "s-1", "rg_(1).x", &arm, &err), 0);
	CU_ASSERT(arm_deploy(arm, "bad name", NULL, NULL, 1, &err) == NG_EINVAL);
	CU_ASSERT(arm_storage_key(arm, "a/b", &(char *){NULL}, &err) == NG_EINVAL);
	kv_client_free(kv);
	arm_client_free(arm);
	/* Names go into URL paths: only letters, digits and the allowed extras. */
	CU_ASSERT_EQUAL(az_name_ok("key name", "mint-1", 127, "-", &err), 0);
	CU_ASSERT(az_name_ok("key name", "a%2f..", 127, "-", &err) == NG_EINVAL);
	CU_ASSERT(strstr(err.msg, "key name 'a%2f..'") != NULL);
	CU_ASSERT(az_name_ok("key name", "", 127, "-", &err) == NG_EINVAL);
	CU_ASSERT(az_name_ok("group", "abcd", 3, "-", &err) == NG_EINVAL);
}

static const struct ng_test tests[] = {{"policy_matches", test_policy_matches},
				       {"secure_params", test_secure_params},
				       {"hostile_names", test_hostile_names}};

NG_TEST_MAIN("apply_azure", tests)
