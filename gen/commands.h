/* The subcommands of nutgen, one file each (gen/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("explain", cmd_explain, "explain the policy and key release of a deployment for review")
CMD("init", cmd_init, "write a deployment file for the Nutshell mint with the seed's defaults")
CMD("policy", cmd_policy, "print the CCE policy (or hostdata) of an ARM template or deployment")
