/* The subcommands of nutapply, one file each (apply/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("verify", cmd_verify, "check that a live mint attests to the bundle (MAA token, AMD SNP report)")
CMD("volume", cmd_volume, "upload the volume image to its page blob, or show the blob's state")
