/* The subcommands of nutgen, one file each (gen/cmd_NAME.c defines
 * `int FUNC(int argc, char **argv)` and `const char FUNC_usage[]`).
 * CMD(name, function, one-line summary); keep the list sorted by name. */
CMD("build", cmd_build, "build a signed bundle from a deployment file")
CMD("diff", cmd_diff, "semantic diff of two bundles for reviewers (exit 1 when different)")
CMD("encfs", cmd_encfs, "create or check the LUKS2-encrypted ext4 volume image (encfs.img)")
CMD("explain", cmd_explain, "explain the policy and key release of a deployment for review")
CMD("image", cmd_image, "read and verify a container image archive (image inspect)")
CMD("init", cmd_init, "write a deployment file for the Nutshell mint with the seed's defaults")
CMD("key", cmd_key, "make the encfs key (oct-HSM or RSA-HSM), optionally wrapped for BYOK")
CMD("keygen", cmd_keygen, "make an Ed25519 key pair for signing bundles")
CMD("layer-hash", cmd_layer_hash, "dm-verity root hashes of image layers, as Azure computes them")
CMD("pack", cmd_pack, "low-level: pack member files into a signed bundle")
CMD("policy", cmd_policy, "print the CCE policy (or hostdata) of an ARM template or deployment")
CMD("show", cmd_show, "show what a bundle contains: identity, images, signers, members")
CMD("sign", cmd_sign, "co-sign a bundle in place after review")
CMD("target", cmd_target, "check a target.json from `nutapply infra up` against the KEK fingerprint")
CMD("verify", cmd_verify, "verify a bundle's signatures, digests and structure")
