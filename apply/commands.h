/* The subcommands of nutapply, one file each (apply/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("deploy", cmd_deploy, "deploy an ARM template with its secure parameters filled, restart and wait for the group")
CMD("group", cmd_group, "show, restart, wait for or delete the container group")
CMD("infra", cmd_infra, "plan, create or tear down the Azure resources and write target.json for nutgen")
CMD("key", cmd_key, "import the mint key or update its release policy in Key Vault, or show it")
CMD("verify", cmd_verify, "check that a live mint attests to the bundle (MAA token, AMD SNP report)")
CMD("volume", cmd_volume, "upload the volume image to its page blob, or show the blob's state")
