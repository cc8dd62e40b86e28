/* cmd_deploy.c: `nutapply deploy`: the deploy and restart steps of apply on
 * their own (a template and its parameters instead of a bundle), for
 * operators and for tests that drive the ARM client without a bundle. */
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "arm.h"
#include "azcall.h"

const char cmd_deploy_usage[] =
    "Usage: nutapply deploy [OPTIONS] --subscription ID --resource-group RG --template FILE\n"
    "\n"
    "Deploys the ARM template (mode Incremental) into the resource group and waits for\n"
    "the deployment, polling its operation as ARM asks (Retry-After). Secure template\n"
    "parameters are filled now, never stored: storageAccountKey from the storage\n"
    "account's keys (ARM listKeys), registryPassword from NUTAPPLY_REGISTRY_PASSWORD.\n"
    "A failed deployment is reported with ARM's message for the failed operation.\n"
    "With --group, a group that existed before is restarted afterwards, and the\n"
    "command waits until every container of the group runs.\n"
    "\n"
    "Options:\n"
    "  --subscription ID      subscription (else AZURE_SUBSCRIPTION_ID)\n"
    "  --resource-group RG    resource group\n"
    "  --template FILE        ARM template (JSON, at most 4 MiB)\n"
    "  --parameters FILE      parameter values: {\"p\":{\"value\":..}} or a parameters file\n"
    "  --storage-account A    storage account whose key fills storageAccountKey\n"
    "  --group NAME           the container group the template deploys\n"
    "  --name NAME            deployment name (default nutapply)\n"
    "  --timeout SECONDS      for the deployment and for the containers (default 1800)\n"
    "  --cloud NAME           AzureCloud (default), AzureUSGovernment, AzureChinaCloud\n"
    "  --cloud-file FILE      a custom cloud: JSON naming every endpoint\n"
    "  --ca-file FILE         add a CA (PEM) to the system trust store\n"
    "  -q, --quiet            no credential notes on stderr\n"
    "\n"
    "Exit status: 0 done, 1 failure (one line on stderr), 2 usage.\n"
    "Example: NUTAPPLY_REGISTRY_PASSWORD=... nutapply deploy --subscription $SUB \\\n"
    "  --resource-group mint-rg --template template.json --storage-account mintstore \\\n"
    "  --group mint\n";

/* The parameters object: a bare {"p":{"value":..}} or a deployment
 * parameters file's "parameters" member. */
static int load_params(const char *path, cJSON **out, struct ng_err *err)
{
	cJSON *j = NULL, *p;
	int rc;

	if (!path)
		return (*out = cJSON_CreateObject()) ? 0 : ng_errf(err, NG_ENOMEM, "out of memory");
	if ((rc = az_read_json(path, 1 << 20, &j, err)))
		return rc;
	if ((p = cJSON_DetachItemFromObjectCaseSensitive(j, "parameters"))) {
		cJSON_Delete(j);
		j = p;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return ng_errf(err, NG_EINVAL, "%s: parameters must be a JSON object", path);
	}
	*out = j;
	return 0;
}

int cmd_deploy(int argc, char **argv)
{
	static const struct option lo[] = {{"subscription", 1, 0, 's'},
					   {"resource-group", 1, 0, 'g'},
					   {"template", 1, 0, 't'},
					   {"parameters", 1, 0, 'p'},
					   {"storage-account", 1, 0, 'a'},
					   {"group", 1, 0, 'G'},
					   {"name", 1, 0, 'n'},
					   {"timeout", 1, 0, 'T'},
					   {"cloud", 1, 0, 'C'},
					   {"cloud-file", 1, 0, 'F'},
					   {"ca-file", 1, 0, 'A'},
					   {"quiet", 0, 0, 'q'},
					   {"help", 0, 0, 'h'},
					   {0, 0, 0, 0}};
	const char *sub = getenv("AZURE_SUBSCRIPTION_ID"), *rg = NULL, *tfile = NULL;
	const char *pfile = NULL, *acct = NULL, *group = NULL, *name = "nutapply";
	const char *cloud = NULL, *cloud_file = NULL, *ca = NULL;
	const char *regpw = getenv("NUTAPPLY_REGISTRY_PASSWORD");
	double timeout = 1800;
	int quiet = 0, rc, opt, existed = 0;
	struct ng_err err = {{0}};
	struct az_session s;
	struct arm_client *arm = NULL;
	cJSON *tmpl = NULL, *params = NULL, *probe = NULL, *g = NULL;
	char *skey = NULL;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			sub = optarg;
			break;
		case 'g':
			rg = optarg;
			break;
		case 't':
			tfile = optarg;
			break;
		case 'p':
			pfile = optarg;
			break;
		case 'a':
			acct = optarg;
			break;
		case 'G':
			group = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'T':
			if ((timeout = atof(optarg)) <= 0)
				return cli_usage_error("nutapply", "deploy",
						       "--timeout: seconds > 0");
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
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(cmd_deploy_usage, stdout);
			return 0;
		default:
			return cli_usage_error("nutapply", "deploy", "unknown option");
		}
	}
	if (optind != argc || !sub || !rg || !tfile)
		return cli_usage_error("nutapply", "deploy",
				       "needs --subscription, --resource-group and --template");
	/* Every input is checked, and every secure parameter has a source,
	 * before the first request. */
	if ((rc = az_read_json(tfile, 4 << 20, &tmpl, &err)) ||
	    (rc = load_params(pfile, &params, &err)) ||
	    (rc = !(probe = cJSON_Duplicate(params, 1)) ? NG_ENOMEM : 0) ||
	    (rc = arm_fill_secure_params(tmpl, probe, acct ? "-" : NULL, regpw, &err)))
		goto out;
	if ((rc = az_session_open(&s, cloud, cloud_file, ca, quiet, &err)))
		goto out;
	if ((rc = arm_client_new(s.http, s.cred, &s.cloud, sub, rg, &arm, &err)))
		goto close;
	if (cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItem(tmpl, "parameters"),
					     "storageAccountKey") &&
	    (rc = arm_storage_key(arm, acct, &skey, &err)))
		goto close;
	if ((rc = arm_fill_secure_params(tmpl, params, skey, regpw, &err)))
		goto close;
	if (group) {
		rc = arm_group_get(arm, group, &g, &err);
		if (rc && rc != NG_ENOTFOUND)
			goto close;
		existed = rc == 0;
	}
	if ((rc = arm_deploy(arm, name, tmpl, params, timeout, &err)))
		goto close;
	printf("deployment %s: succeeded\n", name);
	if (group && existed) {
		/* The group ran before: a restart makes every container start
		 * from the new definition's images and volume. */
		if ((rc = arm_group_restart(arm, group, timeout, &err)))
			goto close;
		printf("container group %s: restarted\n", group);
	}
	if (group && !(rc = arm_group_wait_running(arm, group, timeout, &err)))
		printf("container group %s: every container runs\n", group);
close:
	arm_client_free(arm);
	az_session_close(&s);
out:
	if (skey) {
		OPENSSL_cleanse(skey, strlen(skey));
		free(skey);
	}
	az_json_wipe(params);
	az_json_wipe(probe);
	cJSON_Delete(params);
	cJSON_Delete(probe);
	cJSON_Delete(tmpl);
	cJSON_Delete(g);
	return rc ? cli_fail("nutapply deploy", rc, &err) : 0;
}
