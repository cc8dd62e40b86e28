/* The subcommands of nutgen, one file each (gen/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("encfs", cmd_encfs, "create or check the LUKS2-encrypted ext4 volume image (encfs.img)")
CMD("explain", cmd_explain, "explain the policy and key release of a deployment for review")
CMD("init", cmd_init, "write a deployment file for the Nutshell mint with the seed's defaults")
CMD("key", cmd_key, "make the encfs key (oct-HSM or RSA-HSM), optionally wrapped for BYOK")
CMD("policy", cmd_policy, "print the CCE policy (or hostdata) of an ARM template or deployment")
