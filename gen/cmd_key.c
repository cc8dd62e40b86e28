/* cmd_key.c: `nutgen key new` (docs/encfs.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "byok.h"
#include "keys.h"

const char cmd_key_usage[] =
    "Usage: nutgen key new --type RSA-HSM|oct-HSM --out KEY [--label L]\n"
    "                      [--kek KEK.pem --kek-kid KID --byok-out BLOB.byok]\n"
    "\n"
    "Makes the key Key Vault releases to the encfs sidecar (docs/encfs.md).\n"
    "  --type T        oct-HSM (32 random bytes, the LUKS passphrase itself; Managed HSM)\n"
    "                  or RSA-HSM (RSA-2048; passphrase = HKDF-SHA256 of d with a random\n"
    "                  32-byte salt and the label)\n"
    "  --out KEY       key file, mode 0600, never overwritten. It holds the key in clear:\n"
    "                  keep it off any bundle and off shared disks\n"
    "  --label L       RSA-HSM HKDF label (default encfs)\n"
    "  --kek KEK.pem   the vault's key-exchange key (RSA public key, 2048..4096 bits):\n"
    "                  also write the key wrapped for BYOK import\n"
    "  --kek-kid KID   the KEK's versioned identifier https://<vault>/keys/<name>/<ver>\n"
    "  --byok-out F    the BYOK transfer blob (JSON; safe to ship in a bundle)\n"
    "\n"
    "Prints the non-secret facts the sidecar args need (kty, key_derivation) as JSON.\n"
    "Key material never appears on the command line, in output or in errors.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

static int key_new_main(int argc, char **argv)
{
	static const struct option opts[] = {{"type", required_argument, 0, 't'},
					     {"out", required_argument, 0, 'o'},
					     {"label", required_argument, 0, 'l'},
					     {"kek", required_argument, 0, 'K'},
					     {"kek-kid", required_argument, 0, 'I'},
					     {"byok-out", required_argument, 0, 'B'},
					     {"quiet", no_argument, 0, 'q'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *type = NULL, *out = NULL, *label = NULL, *kek_path = NULL, *kid = NULL,
		   *byok_out = NULL;
	struct byok_kek *kek = NULL;
	struct key *k = NULL;
	struct ng_err err = {{0}};
	char *blob = NULL;
	enum key_type t;
	struct stat st;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'K':
			kek_path = optarg;
			break;
		case 'I':
			kid = optarg;
			break;
		case 'B':
			byok_out = optarg;
			break;
		case 'q':
			break;
		case 'h':
			fputs(cmd_key_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("nutgen", "key new", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("nutgen", "key new", "unexpected argument '%s'",
				       argv[optind]);
	if (!type || !out)
		return cli_usage_error("nutgen", "key new", "--type and --out are required");
	if (key_type_parse(type, &t, &err) < 0)
		return cli_usage_error("nutgen", "key new", "--type: %s", err.msg);
	if (label && t != KEY_RSA_HSM)
		return cli_usage_error("nutgen", "key new", "--label applies to RSA-HSM only");
	if (!!kek_path != !!byok_out || (!kek_path && kid) || (kek_path && !kid))
		return cli_usage_error("nutgen", "key new",
				       "--kek, --kek-kid and --byok-out go together");
	if (lstat(out, &st) == 0 || (byok_out && lstat(byok_out, &st) == 0)) {
		ng_errf(&err, NG_EEXIST, "%s: already exists; keys are never overwritten",
			lstat(out, &st) == 0 ? out : byok_out);
		return cli_fail("nutgen key new", NG_EEXIST, &err);
	}
	cleanup_install_signals();
	/* Everything that can fail on input is checked before any file exists. */
	rc = kek_path ? byok_kek_load(kek_path, &kek, &err) : 0;
	if (rc == 0)
		rc = key_new(t, label, &k, &err);
	if (rc == 0 && kek)
		rc = byok_wrap_key(kek, kid, k, &blob, &err);
	if (rc == 0 && blob)
		rc = write_file_atomic(byok_out, blob, strlen(blob), 0644, &err);
	if (rc == 0) {
		rc = key_save(k, out, &err);
		if (rc < 0 && byok_out)
			remove(byok_out);
	}
	if (rc == 0) {
		if (!kek)
			fprintf(
			    stderr,
			    "nutgen key new: warning: %s holds the key in clear (mode 0600) and "
			    "no KEK was given: import it yourself, keep it out of any bundle, "
			    "and delete it when the image is made\n",
			    out);
		if (t == KEY_RSA_HSM)
			printf(
			    "{\"key_derivation\":{\"label\":\"%s\",\"salt\":\"%s\"},\"kty\":\"%s\"}"
			    "\n",
			    key_label(k), key_salt_hex(k), key_type_name(t));
		else
			printf("{\"kty\":\"%s\"}\n", key_type_name(t));
	}
	free(blob);
	key_free(k);
	byok_kek_free(kek);
	if (rc < 0)
		return cli_fail("nutgen key new", rc, &err);
	return CLI_EXIT_OK;
}

int cmd_key(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("nutgen", "key", "expected 'new'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(cmd_key_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "new"))
		return key_new_main(argc - 1, argv + 1);
	return cli_usage_error("nutgen", "key", "unknown subcommand '%s'", argv[1]);
}
