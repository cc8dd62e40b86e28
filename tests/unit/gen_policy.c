/* One test per rule of ../shared/research/confcom-policy.md §2 (ARM container
 * → policy container). Expected values are written from the document (or
 * taken from tests/data/confcom/confcom-constants.json, the research copy of
 * confcom's constants), never from our own output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gen/policy.h"
#include "harness.h"

static const char facts_base[] =
    "{\"image\":\"img:1\",\"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Entrypoint\":null,"
    "\"Cmd\":null,\"WorkingDir\":\"\",\"User\":\"\",\"StopSignal\":null},"
    "\"layer_roothashes\":[\"1111111111111111111111111111111111111111111111111111111111111111\","
    "\"2222222222222222222222222222222222222222222222222222222222222222\"]}";

static cJSON *profile(const char *name)
{
	cJSON *p = NULL;
	struct ng_err err;
	CU_ASSERT_EQUAL_FATAL(policy_profile_load(name, &p, &err), 0);
	return p;
}

/* Builds a one-group template around the container properties `cprops` (a
 * JSON object text), plus optional group volumes, and returns the
 * containers list (user containers then pause), or NULL with err set. */
static cJSON *run(const char *cprops, const char *volumes, const char *facts, const char *params,
		  int strict, int debug, int disable_stdio, const char *prof, struct ng_err *err)
{
	char *arm_text;
	cJSON *arm, *img, *p = profile(prof ? prof : "current"), *out = NULL;
	const cJSON **groups;
	size_t n;
	struct policy_opts o = {0};
	const cJSON *imgs[1];

	CU_ASSERT_FATAL(asprintf(&arm_text,
				 "{\"parameters\":%s,\"variables\":{\"v1\":\"from-var\"},"
				 "\"resources\":[{\"type\":\"Microsoft.ContainerInstance/"
				 "containerGroups\",\"properties\":{\"containers\":[{\"name\":"
				 "\"c1\",\"properties\":%s}],\"volumes\":%s}}]}",
				 params ? params : "{}", cprops, volumes ? volumes : "[]") > 0);
	arm = cJSON_Parse(arm_text);
	free(arm_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arm);
	img = cJSON_Parse(facts ? facts : facts_base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	CU_ASSERT_EQUAL_FATAL(policy_image_facts_check(img, "facts", err), 0);
	imgs[0] = img;
	o.profile = p;
	o.strict = strict;
	o.debug = debug;
	o.disable_stdio = disable_stdio;
	CU_ASSERT_EQUAL_FATAL(policy_arm_groups(arm, &groups, &n, err), 0);
	if (policy_group_containers(arm, groups[0], imgs, 1, &o, &out, err) < 0)
		out = NULL;
	free(groups);
	cJSON_Delete(arm);
	cJSON_Delete(img);
	cJSON_Delete(p);
	return out;
}

/* The field `key` of the first container equals the JSON text `want`. */
static void expect(const char *cprops, const char *volumes, const char *facts, const char *key,
		   const char *want)
{
	struct ng_err err = {{0}};
	cJSON *all = run(cprops, volumes, facts, NULL, 0, 0, 0, NULL, &err);
	cJSON *w = cJSON_Parse(want);
	const cJSON *got;
	if (!all)
		fprintf(stderr, "error: %s\n", err.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	got = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(all, 0), key);
	if (!cJSON_Compare(got, w, 1)) {
		char *s = cJSON_PrintUnformatted(got);
		fprintf(stderr, "\n%s: got %s\n want %s\n", key, s, want);
		free(s);
		CU_FAIL("field differs");
	}
	cJSON_Delete(w);
	cJSON_Delete(all);
}

static void expect_fail(const char *cprops, const char *volumes, const char *facts, int strict,
			const char *msg_part)
{
	struct ng_err err = {{0}};
	cJSON *all = run(cprops, volumes, facts, NULL, strict, 0, 0, NULL, &err);
	CU_ASSERT_PTR_NULL(all);
	if (!strstr(err.msg, msg_part))
		fprintf(stderr, "\nerror '%s' lacks '%s'\n", err.msg, msg_part);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, msg_part));
	cJSON_Delete(all);
}

#define INJECTED                                                                                   \
	"{\"pattern\":\"TERM=xterm\",\"strategy\":\"string\",\"required\":false},"                 \
	"{\"pattern\":\"(?i)(FABRIC)_.+=.+\",\"strategy\":\"re2\",\"required\":false},"            \
	"{\"pattern\":\"HOSTNAME=.+\",\"strategy\":\"re2\",\"required\":false},"                   \
	"{\"pattern\":\"T(E)?MP=.+\",\"strategy\":\"re2\",\"required\":false},"                    \
	"{\"pattern\":\"FabricPackageFileName=.+\",\"strategy\":\"re2\",\"required\":false},"      \
	"{\"pattern\":\"HostedServiceName=.+\",\"strategy\":\"re2\",\"required\":false},"          \
	"{\"pattern\":\"IDENTITY_API_VERSION=.+\",\"strategy\":\"re2\",\"required\":false},"       \
	"{\"pattern\":\"IDENTITY_HEADER=.+\",\"strategy\":\"re2\",\"required\":false},"            \
	"{\"pattern\":\"IDENTITY_SERVER_THUMBPRINT=.+\",\"strategy\":\"re2\",\"required\":false}," \
	"{\"pattern\":\"azurecontainerinstance_restarted_by=.+\",\"strategy\":\"re2\","            \
	"\"required\":false}"

static void test_id_verbatim(void)
{
	/* "no registry normalisation: caddy:2 stays caddy:2" */
	expect("{\"image\":\"caddy:2\"}", NULL,
	       "{\"image\":\"caddy:2\",\"config\":{\"Cmd\":[\"caddy\"]},\"layer_roothashes\":["
	       "\"1111111111111111111111111111111111111111111111111111111111111111\"]}",
	       "id", "\"caddy:2\"");
	expect("{\"image\":\"img:1\"}", NULL, NULL, "name", "\"c1\"");
}

static void test_layers_in_order(void)
{
	expect("{\"image\":\"img:1\"}", NULL, NULL, "layers",
	       "[\"1111111111111111111111111111111111111111111111111111111111111111\","
	       "\"2222222222222222222222222222222222222222222222222222222222222222\"]");
}

static const char facts_cmd[] =
    "{\"image\":\"img:1\",\"config\":{\"Entrypoint\":[\"/ep\",\"-x\"],\"Cmd\":[\"run\"],"
    "\"WorkingDir\":\"/app\",\"User\":\"1000:2000\",\"StopSignal\":\"SIGQUIT\"},"
    "\"layer_roothashes\":[\"1111111111111111111111111111111111111111111111111111111111111111\"]}";

static void test_command(void)
{
	/* template command replaces ENTRYPOINT and CMD */
	expect("{\"image\":\"img:1\",\"command\":[\"/bin/app\",\"a\"]}", NULL, facts_cmd, "command",
	       "[\"/bin/app\",\"a\"]");
	/* otherwise Entrypoint + Cmd; [] means "use the image" */
	expect("{\"image\":\"img:1\",\"command\":[]}", NULL, facts_cmd, "command",
	       "[\"/ep\",\"-x\",\"run\"]");
	expect("{\"image\":\"img:1\"}", NULL,
	       "{\"image\":\"img:1\",\"config\":{\"Cmd\":[\"/skr.sh\"]},\"layer_roothashes\":["
	       "\"1111111111111111111111111111111111111111111111111111111111111111\"]}",
	       "command", "[\"/skr.sh\"]");
	/* both empty: null in confcom mode, an error in nutgen mode */
	expect("{\"image\":\"img:1\"}", NULL, NULL, "command", "null");
	expect_fail("{\"image\":\"img:1\"}", NULL, NULL, 1, "set its command");
}

static void test_env_order_and_dedupe(void)
{
	expect(
	    "{\"image\":\"img:1\",\"environmentVariables\":[{\"name\":\"MY_VAR\",\"value\":"
	    "\"MY_VAL\"},{\"name\":\"PATH\",\"value\":\"/mine\"},{\"name\":\"E\",\"value\":\"\"}]}",
	    NULL,
	    "{\"image\":\"img:1\",\"config\":{\"Env\":[\"PATH=/usr/bin\",\"HOSTNAME=h\","
	    "\"A=b=c\"]},\"layer_roothashes\":["
	    "\"1111111111111111111111111111111111111111111111111111111111111111\"]}",
	    "env_rules",
	    "[{\"pattern\":\"MY_VAR=MY_VAL\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"PATH=/mine\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"E=\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"HOSTNAME=h\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"A=b=c\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"TERM=xterm\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"(?i)(FABRIC)_.+=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"T(E)?MP=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"FabricPackageFileName=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"HostedServiceName=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"IDENTITY_API_VERSION=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"IDENTITY_HEADER=.+\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"IDENTITY_SERVER_THUMBPRINT=.+\",\"strategy\":\"re2\",\"required\":"
	    "false},"
	    "{\"pattern\":\"azurecontainerinstance_restarted_by=.+\",\"strategy\":\"re2\","
	    "\"required\":false}]");
}

static void test_env_secure_and_wildcards(void)
{
	struct ng_err err = {{0}};
	const char *c =
	    "{\"image\":\"img:1\",\"environmentVariables\":[{\"name\":\"S\","
	    "\"secureValue\":\"hunter2\"},{\"name\":\"P\",\"value\":\"[parameters('p')]\"},"
	    "{\"name\":\"D\",\"value\":\"x-[parameters('d')]-y\"},{\"name\":\"V\","
	    "\"value\":\"[variables('v1')]\"},{\"name\":\"THIM_ENDPOINT\",\"value\":"
	    "\"===CONFIDENTIAL.THIM.ENDPOINT===\"}]}";
	const char *params = "{\"p\":{\"type\":\"string\"},\"d\":{\"defaultValue\":\"dv\"}}";
	cJSON *all = run(c, NULL, NULL, params, 0, 0, 0, NULL, &err);
	cJSON *want = cJSON_Parse(
	    "[{\"pattern\":\"S=hunter2\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"P=.*\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"D=x-dv-y\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"V=from-var\",\"strategy\":\"string\",\"required\":false},"
	    "{\"pattern\":\"THIM_ENDPOINT=.*\",\"strategy\":\"re2\",\"required\":false},"
	    "{\"pattern\":\"PATH=/usr/bin\",\"strategy\":\"string\",\"required\":false}," INJECTED
	    "]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	CU_ASSERT(
	    cJSON_Compare(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "env_rules"), want, 1));
	cJSON_Delete(all);
	cJSON_Delete(want);

	/* nutgen mode: a secret becomes a wildcard for its own name only and
	 * never appears; an unresolved parameter is an error. */
	all = run("{\"image\":\"img:1\",\"command\":[\"/x\"],\"environmentVariables\":[{\"name\":"
		  "\"S\",\"secureValue\":\"hunter2\"},{\"name\":\"K\",\"value\":\"v\"},{\"name\":"
		  "\"E\",\"value\":\"\"}]}",
		  NULL, NULL, NULL, 1, 0, 0, NULL, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	{
		char *s = cJSON_PrintUnformatted(all);
		CU_ASSERT_PTR_NULL(strstr(s, "hunter2"));
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(s, "{\"pattern\":\"S=.*\",\"strategy\":\"re2\",\"required\":true},"
			      "{\"pattern\":\"K=v\",\"strategy\":\"string\",\"required\":true},"
			      "{\"pattern\":\"E=\",\"strategy\":\"string\",\"required\":false},"
			      "{\"pattern\":\"PATH=/usr/bin\",\"strategy\":\"string\",\"required\":"
			      "false}"));
		free(s);
	}
	cJSON_Delete(all);
	all = run("{\"image\":\"img:1\",\"command\":[\"/x\"],\"environmentVariables\":[{\"name\":"
		  "\"P\",\"value\":\"[parameters('p')]\"}]}",
		  NULL, NULL, params, 1, 0, 0, NULL, &err);
	CU_ASSERT_PTR_NULL(all);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "unresolved parameter"));
}

static void test_working_dir(void)
{
	expect("{\"image\":\"img:1\"}", NULL, NULL, "working_dir", "\"/\"");
	expect("{\"image\":\"img:1\"}", NULL, facts_cmd, "working_dir", "\"/app\"");
}

static void test_mounts(void)
{
	const char *vols = "[{\"name\":\"af\",\"azureFile\":{\"shareName\":\"s\"}},"
			   "{\"name\":\"ed\",\"emptyDir\":{}},{\"name\":\"se\",\"secret\":{}},"
			   "{\"name\":\"gr\",\"gitRepo\":{}},{\"name\":\"two\",\"emptyDir\":{},"
			   "\"secret\":{}}]";
	expect("{\"image\":\"img:1\",\"configMap\":{},\"volumeMounts\":[{\"name\":\"af\","
	       "\"mountPath\":\"/a\",\"readOnly\":false},{\"name\":\"ed\",\"mountPath\":\"/e\","
	       "\"readOnly\":true},{\"name\":\"se\",\"mountPath\":\"/s\"},{\"name\":\"gr\","
	       "\"mountPath\":\"/g\"},{\"name\":\"two\",\"mountPath\":\"/t\"}]}",
	       vols, NULL, "mounts",
	       "[{\"destination\":\"/a\",\"options\":[\"rbind\",\"rshared\",\"rw\"],\"source\":"
	       "\"sandbox:///tmp/atlas/azureFileVolume/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/e\",\"options\":[\"rbind\",\"rshared\",\"ro\"],\"source\":"
	       "\"sandbox:///tmp/atlas/emptydir/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/s\",\"options\":[\"rbind\",\"rshared\",\"rw\"],\"source\":"
	       "\"sandbox:///tmp/atlas/secretsVolume/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/g\",\"options\":[\"rbind\",\"rshared\",\"rw\"],\"source\":"
	       "\"sandbox:///tmp/atlas/gitRepoVolume/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/t\",\"options\":[\"rbind\",\"rshared\",\"rw\"],\"source\":"
	       "\"sandbox:///tmp/atlas/secretsVolume/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/mnt/configmap\",\"options\":[\"rbind\",\"rshared\",\"rw\"],"
	       "\"source\":\"sandbox:///tmp/atlas/emptydir/.+\",\"type\":\"bind\"},"
	       "{\"destination\":\"/etc/resolv.conf\",\"options\":[\"rbind\",\"rshared\",\"rw\"],"
	       "\"source\":\"sandbox:///tmp/atlas/resolvconf/.+\",\"type\":\"bind\"}]");
	expect_fail("{\"image\":\"img:1\",\"volumeMounts\":[{\"name\":\"nope\",\"mountPath\":"
		    "\"/x\"}]}",
		    vols, NULL, 0, "names no volume");
	expect_fail("{\"image\":\"img:1\",\"volumeMounts\":[{\"name\":\"af\",\"mountPath\":"
		    "\"/x\",\"readOnly\":\"yes\"}]}",
		    vols, NULL, 0, "readOnly must be");
}

static void test_exec_processes(void)
{
	struct ng_err err = {{0}};
	const char *probes =
	    "{\"image\":\"img:1\",\"livenessProbe\":{\"exec\":{\"command\":["
	    "\"/live\"]}},\"readinessProbe\":{\"exec\":{\"command\":[\"/ready\"]}}}";
	const char *dup = "{\"image\":\"img:1\",\"livenessProbe\":{\"exec\":{\"command\":["
			  "\"/p\"]}},\"readinessProbe\":{\"exec\":{\"command\":[\"/p\"]}}}";
	cJSON *all;
	expect(
	    probes, NULL, NULL, "exec_processes",
	    "[{\"command\":[\"/ready\"],\"signals\":[]},{\"command\":[\"/live\"],\"signals\":[]}]");
	/* current drops exact duplicates (example 03) */
	expect(dup, NULL, NULL, "exec_processes", "[{\"command\":[\"/p\"],\"signals\":[]}]");
	all = run(dup, NULL, NULL, NULL, 0, 0, 0, "late-1x", &err);
	CU_ASSERT_EQUAL(
	    cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "exec_processes")),
	    2);
	cJSON_Delete(all);
	/* --debug-mode appends the two shells */
	all = run("{\"image\":\"img:1\"}", NULL, NULL, NULL, 0, 1, 0, NULL, &err);
	{
		cJSON *want = cJSON_Parse("[{\"command\":[\"/bin/sh\"],\"signals\":[]},"
					  "{\"command\":[\"/bin/bash\"],\"signals\":[]}]");
		CU_ASSERT(cJSON_Compare(
		    cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "exec_processes"), want, 1));
		cJSON_Delete(want);
	}
	cJSON_Delete(all);
}

static void test_signals(void)
{
	expect("{\"image\":\"img:1\"}", NULL, NULL, "signals", "[9,15]");
	expect("{\"image\":\"img:1\"}", NULL, facts_cmd, "signals", "[3]");
	expect("{\"image\":\"img:1\"}", NULL,
	       "{\"image\":\"img:1\",\"config\":{\"StopSignal\":\"SIGFOO\"},\"layer_roothashes\":["
	       "\"1111111111111111111111111111111111111111111111111111111111111111\"]}",
	       "signals", "[\"SIGFOO\"]");
}

/* tests/data/confcom/confcom-constants.json, parsed (NULL if it does not parse). */
static cJSON *confcom_constants(void)
{
	char path[1024];
	FILE *f;
	long n;
	char *text;
	cJSON *k;
	snprintf(path, sizeof(path), "%s/tests/data/confcom/confcom-constants.json", ng_srcdir());
	f = fopen(path, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	CU_ASSERT_EQUAL_FATAL(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	k = cJSON_Parse(text);
	free(text);
	return k;
}

static void test_privileged_and_caps(void)
{
	cJSON *k = confcom_constants();
	char *unpriv, *priv, *want;
	unpriv = cJSON_PrintUnformatted(
	    cJSON_GetObjectItem(k, "default_unprivileged_capabilities_sorted"));
	priv = cJSON_PrintUnformatted(
	    cJSON_GetObjectItem(k, "default_privileged_capabilities_sorted"));

	expect("{\"image\":\"img:1\"}", NULL, NULL, "allow_elevated", "false");
	CU_ASSERT(asprintf(&want,
			   "{\"ambient\":[],\"bounding\":%s,\"effective\":%s,\"inheritable\":[],"
			   "\"permitted\":%s}",
			   unpriv, unpriv, unpriv) > 0);
	expect("{\"image\":\"img:1\"}", NULL, NULL, "capabilities", want);
	free(want);
	expect("{\"image\":\"img:1\",\"securityContext\":{\"privileged\":\"TRUE\"}}", NULL, NULL,
	       "allow_elevated", "true");
	CU_ASSERT(asprintf(&want,
			   "{\"ambient\":[],\"bounding\":%s,\"effective\":%s,\"inheritable\":%s,"
			   "\"permitted\":%s}",
			   priv, priv, priv, priv) > 0);
	expect("{\"image\":\"img:1\",\"securityContext\":{\"privileged\":true}}", NULL, NULL,
	       "capabilities", want);
	free(want);
	/* example 02: add to bounding/effective/permitted, drop everywhere */
	{
		const char *l =
		    "[\"CAP_AUDIT_WRITE\",\"CAP_DAC_OVERRIDE\",\"CAP_DAC_READ_SEARCH\","
		    "\"CAP_FOWNER\",\"CAP_FSETID\",\"CAP_MKNOD\",\"CAP_NET_BIND_SERVICE\","
		    "\"CAP_NET_RAW\",\"CAP_SETFCAP\",\"CAP_SETGID\",\"CAP_SETPCAP\","
		    "\"CAP_SETUID\",\"CAP_SYS_CHROOT\",\"CAP_SYS_TIME\"]";
		CU_ASSERT(asprintf(&want,
				   "{\"ambient\":[],\"bounding\":%s,\"effective\":%s,"
				   "\"inheritable\":[],\"permitted\":%s}",
				   l, l, l) > 0);
		expect("{\"image\":\"img:1\",\"securityContext\":{\"capabilities\":{\"add\":["
		       "\"CAP_SYS_TIME\",\"CAP_DAC_READ_SEARCH\"],\"drop\":[\"CAP_CHOWN\","
		       "\"CAP_KILL\"]}}}",
		       NULL, NULL, "capabilities", want);
		free(want);
	}
	free(unpriv);
	free(priv);
	cJSON_Delete(k);
}

static void test_user(void)
{
	const char *dflt = "{\"user_idname\":{\"pattern\":\"\",\"strategy\":\"any\"},"
			   "\"group_idnames\":[{\"pattern\":\"\",\"strategy\":\"any\"}],"
			   "\"umask\":\"0022\"}";
	expect("{\"image\":\"img:1\"}", NULL, NULL, "user", dflt);
	expect("{\"image\":\"img:1\"}", NULL, facts_cmd, "user",
	       "{\"user_idname\":{\"pattern\":\"1000\",\"strategy\":\"id\"},\"group_idnames\":[{"
	       "\"pattern\":\"2000\",\"strategy\":\"id\"}],\"umask\":\"0022\"}");
	expect("{\"image\":\"img:1\"}", NULL,
	       "{\"image\":\"img:1\",\"config\":{\"User\":\"root\"},\"layer_roothashes\":["
	       "\"1111111111111111111111111111111111111111111111111111111111111111\"]}",
	       "user",
	       "{\"user_idname\":{\"pattern\":\"root\",\"strategy\":\"name\"},\"group_idnames\":[{"
	       "\"pattern\":\"\",\"strategy\":\"any\"}],\"umask\":\"0022\"}");
	/* the template's runAsUser wins over the image USER */
	expect("{\"image\":\"img:1\",\"securityContext\":{\"runAsUser\":0}}", NULL, facts_cmd,
	       "user",
	       "{\"user_idname\":{\"pattern\":\"0\",\"strategy\":\"id\"},\"group_idnames\":[{"
	       "\"pattern\":\"\",\"strategy\":\"any\"}],\"umask\":\"0022\"}");
	expect_fail("{\"image\":\"img:1\",\"securityContext\":{\"runAsUser\":\"x\"}}", NULL, NULL,
		    0, "runAsUser must be");
}

static void test_seccomp_nnp_stdio(void)
{
	struct ng_err err = {{0}};
	cJSON *all;
	expect("{\"image\":\"img:1\"}", NULL, NULL, "seccomp_profile_sha256", "\"\"");
	expect("{\"image\":\"img:1\"}", NULL, NULL, "no_new_privileges", "false");
	expect("{\"image\":\"img:1\",\"securityContext\":{\"allowPrivilegeEscalation\":false}}",
	       NULL, NULL, "no_new_privileges", "true");
	expect("{\"image\":\"img:1\",\"securityContext\":{\"allowPrivilegeEscalation\":\"false\"}}",
	       NULL, NULL, "no_new_privileges", "true");
	expect("{\"image\":\"img:1\"}", NULL, NULL, "allow_stdio_access", "true");
	all = run("{\"image\":\"img:1\"}", NULL, NULL, NULL, 0, 0, 1, NULL, &err);
	CU_ASSERT(
	    cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "allow_stdio_access")));
	CU_ASSERT(
	    cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 1), "allow_stdio_access")));
	cJSON_Delete(all);
}

static void test_pause_container(void)
{
	struct ng_err err = {{0}};
	cJSON *k = confcom_constants(), *want, *all;
	want = cJSON_Duplicate(cJSON_GetObjectItem(k, "pause_container_current"), 1);
	cJSON_DeleteItemFromObject(want, "_note");
	all = run("{\"image\":\"img:1\"}", NULL, NULL, NULL, 0, 0, 0, NULL, &err);
	CU_ASSERT_EQUAL(cJSON_GetArraySize(all), 2);
	CU_ASSERT(cJSON_Compare(cJSON_GetArrayItem(all, 1), want, 1));
	CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 1), "id"));
	cJSON_Delete(all);
	cJSON_Delete(want);
	cJSON_Delete(k);
}

static void test_bad_inputs(void)
{
	struct ng_err err = {{0}};
	cJSON *f = cJSON_Parse("{\"image\":\"x\",\"config\":{\"Env\":\"PATH=/\"},"
			       "\"layer_roothashes\":[]}");
	CU_ASSERT(policy_image_facts_check(f, "f.json", &err) < 0);
	cJSON_Delete(f);
	f = cJSON_Parse("{\"image\":\"x\",\"layer_roothashes\":["
			"\"1111111111111111111111111111111111111111111111111111111111111111\"],"
			"\"manifest_digest\":\"sha256:00\",\"layers\":[]}");
	CU_ASSERT_EQUAL(policy_image_facts_check(f, "f.json", &err), 0); /* extra keys ok */
	cJSON_Delete(f);
	expect_fail("{\"image\":\"other:1\"}", NULL, NULL, 0, "no image facts for other:1");
	expect_fail("{\"image\":\"img:1\",\"securityContext\":{\"privileged\":\"maybe\"}}", NULL,
		    NULL, 0, "privileged must be");
}

static void test_find_image(void)
{
	cJSON *a = cJSON_Parse("{\"image\":\"caddy@sha256:aa\"}");
	cJSON *b = cJSON_Parse("{\"image\":\"reg:5000/x/caddy:2\"}");
	cJSON *c2 = cJSON_Parse("{\"image\":\"caddy@sha256:bb\"}");
	const cJSON *set[] = {a, b}, *two[] = {a, c2};
	CU_ASSERT_EQUAL(policy_image_repo_len("reg:5000/x/caddy:2"), 16);
	CU_ASSERT_EQUAL(policy_image_repo_len("caddy@sha256:aa"), 5);
	CU_ASSERT_EQUAL(policy_image_repo_len("reg:5000/x"), 10);
	CU_ASSERT_PTR_EQUAL(policy_find_image(set, 2, "caddy:2"), a);
	CU_ASSERT_PTR_EQUAL(policy_find_image(set, 2, "reg:5000/x/caddy:2"), b);
	CU_ASSERT_PTR_NULL(policy_find_image(set, 2, "caddy@sha256:cc"));
	CU_ASSERT_PTR_NULL(policy_find_image(two, 2, "caddy:2")); /* ambiguous */
	CU_ASSERT_PTR_NULL(policy_find_image(set, 2, "other:1"));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c2);
}

static const struct ng_test tests[] = {
    {"image facts lookup", test_find_image},
    {"id and name verbatim", test_id_verbatim},
    {"layers in manifest order", test_layers_in_order},
    {"command", test_command},
    {"env rule order and name de-duplication", test_env_order_and_dedupe},
    {"env secureValue, parameters, THIM", test_env_secure_and_wildcards},
    {"working_dir", test_working_dir},
    {"mounts", test_mounts},
    {"exec_processes", test_exec_processes},
    {"signals", test_signals},
    {"allow_elevated and capabilities", test_privileged_and_caps},
    {"user", test_user},
    {"seccomp, no_new_privileges, stdio", test_seccomp_nnp_stdio},
    {"pause container", test_pause_container},
    {"bad inputs", test_bad_inputs},
};
NG_TEST_MAIN("policy", tests)
