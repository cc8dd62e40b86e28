/* cmd_status.c: `nutapply status|logs|restart|delete BUNDLE`: the container
 * group the bundle names, its lifecycle (azure-rest.md §4.5), thin over
 * arm.h. The bundle is verified first like for apply: it is where the
 * endpoints and names come from. */
#include <stdio.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "applyctx.h"

#define GROUP_OPTS                                                                                 \
	"Options:\n" APPLY_OPTS "  --timeout SECONDS    how long to wait (default 1800)\n"         \
	"Exit status: 0 done, 1 failure (one line on stderr), 2 usage.\n"

const char cmd_status_usage[] =
    "Usage: nutapply status BUNDLE --trust PUB... [--json]\n"
    "\n"
    "The bundle's container group: provisioning state, each container's state and\n"
    "restarts, and whether it runs the bundle's hostdata (--json: as ARM returns it);\n"
    "read-only.\n\n" GROUP_OPTS;
const char cmd_logs_usage[] = "Usage: nutapply logs BUNDLE [CONTAINER] --trust PUB...\n"
			      "\n"
			      "Prints the logs of one container (default mint) of the bundle's "
			      "group; read-only.\n\n" GROUP_OPTS;
const char cmd_restart_usage[] = "Usage: nutapply restart BUNDLE --trust PUB...\n"
				 "\n"
				 "Restarts every container of the bundle's group in place, then "
				 "waits until all run.\n\n" GROUP_OPTS;
const char cmd_delete_usage[] =
    "Usage: nutapply delete BUNDLE --trust PUB... --yes\n"
    "\n"
    "Deletes the bundle's container group and waits until it is gone. The volume\n"
    "blob (the mint's database), the key and the storage account are NOT touched.\n\n" GROUP_OPTS
    "  --yes                confirm: the mint stops\n";

static void show(struct apply_ctx *c, const cJSON *g)
{
	const cJSON *k, *p = cJSON_GetObjectItem(g, "properties");
	char cur[65];

	apply_group_hostdata(g, cur);
	printf("group %s\nprovisioning: %s\nstate: %s\nhostdata: %s (%s)\n", c->group,
	       apply_str(p, "provisioningState"), apply_str(p, "instanceView.state"),
	       *cur ? cur : "?", strcmp(cur, c->hostdata) ? "NOT the bundle's" : "the bundle's");
	cJSON_ArrayForEach(k, cJSON_GetObjectItem(p, "containers"))
	{
		const cJSON *iv =
		    cJSON_GetObjectItem(cJSON_GetObjectItem(k, "properties"), "instanceView");
		const cJSON *n = cJSON_GetObjectItem(iv, "restartCount");
		printf("container %s: %s (restarts %d)\n", apply_str(k, "name"),
		       apply_str(iv, "currentState.state"), cJSON_IsNumber(n) ? n->valueint : 0);
	}
}

static int group_cmd(int argc, char **argv, const char *usage, const char *extra, int operands)
{
	struct apply_ctx c;
	struct ng_err err = {{0}};
	cJSON *g = NULL;
	char path[300], prog[64];
	int rc;

	if ((rc = apply_ctx_parse(&c, argc, argv, usage, extra, operands)))
		return rc < 0 ? 0 : rc;
	if (!strcmp(c.cmd, "delete") && !c.yes)
		return cli_usage_error("nutapply", "delete",
				       "delete stops the mint: confirm with --yes");
	snprintf(prog, sizeof(prog), "nutapply %s", c.cmd);
	if ((rc = apply_ctx_open(&c, 0, &err)))
		goto out;
	if (!strcmp(c.cmd, "status")) {
		if (!(rc = arm_group_get(c.arm, c.group, &g, &err))) {
			char *t = c.json ? cJSON_PrintUnformatted(g) : NULL;
			if (t)
				puts(t);
			else
				show(&c, g);
			cJSON_free(t);
		}
	} else if (!strcmp(c.cmd, "logs")) {
		snprintf(
		    path, sizeof(path),
		    "/providers/Microsoft.ContainerInstance/containerGroups/%s/containers/%s/logs",
		    c.group, c.arg ? c.arg : "mint");
		if (!(rc = arm_request(c.arm, "GET", path, ARM_API_ACI, NULL, c.timeout, &g, &err)))
			fputs(apply_str(g, "content"), stdout);
	} else if (!strcmp(c.cmd, "restart")) {
		if (!(rc = arm_group_restart(c.arm, c.group, c.timeout, &err)) &&
		    !(rc = arm_group_wait_running(c.arm, c.group, c.timeout, &err)))
			printf("group %s: restarted, every container runs\n", c.group);
	} else if (!(rc = arm_group_delete(c.arm, c.group, c.timeout, &err))) {
		printf("group %s: deleted (volume blob and key kept)\n", c.group);
	}
out:
	cJSON_Delete(g);
	apply_ctx_close(&c);
	return rc ? cli_fail(prog, rc, &err) : 0;
}

int cmd_status(int argc, char **argv)
{
	return group_cmd(argc, argv, cmd_status_usage, "", 0);
}
int cmd_logs(int argc, char **argv)
{
	return group_cmd(argc, argv, cmd_logs_usage, "", 1);
}
int cmd_restart(int argc, char **argv)
{
	return group_cmd(argc, argv, cmd_restart_usage, "", 0);
}
int cmd_delete(int argc, char **argv)
{
	return group_cmd(argc, argv, cmd_delete_usage, "y", 0);
}
