/* The subcommands of nutgen, one file each (gen/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("image", cmd_image, "read and verify a container image archive (image inspect)")
CMD("layer-hash", cmd_layer_hash, "dm-verity root hashes of image layers, as Azure computes them")
