/* cmd_group.c: `nutapply group show|restart|wait|delete`: the container
 * group's lifecycle on its own (azure-rest.md §4.5), without a bundle. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "arm.h"
#include "azcall.h"

const char cmd_group_usage[] =
    "Usage: nutapply group show|restart|wait|delete [OPTIONS] --subscription ID\n"
    "         --resource-group RG NAME\n"
    "\n"
    "show: the group's provisioning state and each container's state; read-only.\n"
    "restart: restarts every container in place, then waits until all run.\n"
    "wait: waits until provisioning succeeded and every container runs.\n"
    "delete: deletes the group (needs --yes) and waits until it is gone. The volume\n"
    "  blob, the key and the storage account are not touched.\n"
    "\n"
    "Options:\n"
    "  --subscription ID      subscription (else AZURE_SUBSCRIPTION_ID)\n"
    "  --resource-group RG    resource group\n"
    "  --timeout SECONDS      how long to wait (default 1800)\n"
    "  --yes                  confirm delete\n"
    "  --cloud NAME, --cloud-file FILE, --ca-file FILE, -q/--quiet: as for deploy\n"
    "\n"
    "Exit status: 0 done, 1 failure (one line on stderr), 2 usage.\n"
    "Example: nutapply group show --subscription $SUB --resource-group mint-rg mint\n";

static void show(const cJSON *g)
{
	const cJSON *c, *p = cJSON_GetObjectItem(g, "properties");

	printf("provisioning: %s\nstate: %s\n",
	       az_json_str(p, "provisioningState") ? az_json_str(p, "provisioningState") : "?",
	       az_json_str(p, "instanceView.state") ? az_json_str(p, "instanceView.state") : "?");
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(p, "containers"))
	{
		const cJSON *iv =
		    cJSON_GetObjectItem(cJSON_GetObjectItem(c, "properties"), "instanceView");
		const cJSON *rc = cJSON_GetObjectItem(iv, "restartCount");
		printf("container %s: %s (restarts %d)\n",
		       az_json_str(c, "name") ? az_json_str(c, "name") : "?",
		       az_json_str(iv, "currentState.state") ? az_json_str(iv, "currentState.state")
							     : "?",
		       cJSON_IsNumber(rc) ? rc->valueint : 0);
	}
}

int cmd_group(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"subscription", 1, 0, 's'}, {"resource-group", 1, 0, 'g'},
	    {"timeout", 1, 0, 'T'},	 {"yes", 0, 0, 'y'},
	    {"cloud", 1, 0, 'C'},	 {"cloud-file", 1, 0, 'F'},
	    {"ca-file", 1, 0, 'A'},	 {"quiet", 0, 0, 'q'},
	    {"help", 0, 0, 'h'},	 {0, 0, 0, 0}};
	const char *sub = getenv("AZURE_SUBSCRIPTION_ID"), *rg = NULL, *cloud = NULL;
	const char *cloud_file = NULL, *ca = NULL, *verb;
	double timeout = 1800;
	int quiet = 0, yes = 0, rc, opt;
	struct ng_err err = {{0}};
	struct az_session s;
	struct arm_client *arm = NULL;
	cJSON *g = NULL;

	if (argc < 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "restart") &&
			 strcmp(argv[1], "wait") && strcmp(argv[1], "delete")))
		return cli_usage_error("nutapply", "group",
				       "expected show, restart, wait or delete");
	verb = argv[1];
	argc--, argv++;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			sub = optarg;
			break;
		case 'g':
			rg = optarg;
			break;
		case 'T':
			if ((timeout = atof(optarg)) <= 0)
				return cli_usage_error("nutapply", "group",
						       "--timeout: seconds > 0");
			break;
		case 'y':
			yes = 1;
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
			fputs(cmd_group_usage, stdout);
			return 0;
		default:
			return cli_usage_error("nutapply", "group", "unknown option");
		}
	}
	if (optind != argc - 1 || !sub || !rg)
		return cli_usage_error("nutapply", "group",
				       "needs --subscription, --resource-group and one NAME");
	if (!strcmp(verb, "delete") && !yes)
		return cli_usage_error("nutapply", "group",
				       "delete stops the mint: confirm with --yes");
	const char *name = argv[optind];
	if ((rc = az_session_open(&s, cloud, cloud_file, ca, quiet, &err)))
		return cli_fail("nutapply group", rc, &err);
	if (!(rc = arm_client_new(s.http, s.cred, &s.cloud, sub, rg, &arm, &err))) {
		if (!strcmp(verb, "show") && !(rc = arm_group_get(arm, name, &g, &err)))
			show(g);
		else if (!strcmp(verb, "restart") &&
			 !(rc = arm_group_restart(arm, name, timeout, &err)) &&
			 !(rc = arm_group_wait_running(arm, name, timeout, &err)))
			printf("container group %s: restarted, every container runs\n", name);
		else if (!strcmp(verb, "wait") &&
			 !(rc = arm_group_wait_running(arm, name, timeout, &err)))
			printf("container group %s: every container runs\n", name);
		else if (!strcmp(verb, "delete") &&
			 !(rc = arm_group_delete(arm, name, timeout, &err)))
			printf("container group %s: deleted\n", name);
	}
	cJSON_Delete(g);
	arm_client_free(arm);
	az_session_close(&s);
	return rc ? cli_fail("nutapply group", rc, &err) : 0;
}
