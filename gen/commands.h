/* The subcommands of nutgen, one file each (gen/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("encfs", cmd_encfs, "create or check the LUKS2-encrypted ext4 volume image (encfs.img)")
CMD("key", cmd_key, "make the encfs key (oct-HSM or RSA-HSM), optionally wrapped for BYOK")
