/* The subcommands of nutapply, one file each (apply/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("apply", cmd_apply, "verify a bundle, then upload the volume, set the key, deploy and restart")
CMD("delete", cmd_delete, "delete the bundle's container group (keeps the volume and the key)")
CMD("infra", cmd_infra, "plan, create or tear down the Azure resources and write target.json for nutgen")
CMD("logs", cmd_logs, "print the logs of a container of the bundle's group")
CMD("plan", cmd_plan, "read-only: what apply would change (volume, release policy, group policy)")
CMD("restart", cmd_restart, "restart the bundle's container group and wait until it runs")
CMD("status", cmd_status, "the bundle's container group and its containers")
CMD("verify", cmd_verify, "check that a live mint attests to the bundle (MAA token, AMD SNP report)")
