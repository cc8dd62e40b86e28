/* nutgen keygen: an Ed25519 bundle signing key pair (SPEC.md §4.1). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/sigkey.h"
#include "bundle_cli.h"

const char cmd_keygen_usage[] =
    "Usage: nutgen keygen -o KEY.pem [--pub KEY.pub] [--passphrase-fd N] [--no-passphrase]\n"
    "\n"
    "Makes an Ed25519 key pair for signing bundles: KEY.pem (PKCS#8, mode 0600) and\n"
    "KEY.pub (default: KEY.pem with .pub) to give reviewers and nutapply as --trust.\n"
    "Prints the key id (SHA-256 of the raw public key), which names its signatures.\n"
    "\n"
    "The private key is encrypted (AES-256-CBC, PBKDF2) with a passphrase read from\n"
    "descriptor N, else $NUTGEN_KEY_PASSPHRASE, else the terminal (asked twice; empty\n"
    "means none). Never on the command line. Without any of them, or with\n"
    "--no-passphrase, the key is stored unencrypted.\n"
    "Keys held in an HSM or smart card need no keygen: give their OpenSSL store URI\n"
    "(e.g. pkcs11:...) to --sign-key / --key.\n"
    "\n"
    "  -o, --out KEY.pem      private key to create (never overwritten)\n"
    "      --pub KEY.pub      public key to create\n"
    "      --passphrase-fd N  read the passphrase from descriptor N\n"
    "      --no-passphrase    store the private key unencrypted\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, 0, 'o'},
					     {"pub", required_argument, 0, 'p'},
					     {"passphrase-fd", required_argument, 0, 'f'},
					     {"no-passphrase", no_argument, 0, 'n'},
					     {0, 0, 0, 0}};
	const char *out = NULL, *pub = NULL;
	char pubbuf[4200], pass[1024], id[SIGKEY_ID_HEX + 1];
	struct sigkey_pass ps = {-1};
	uint8_t raw[SIGKEY_PUB_LEN];
	struct ng_err err;
	int c, nopass = 0, have = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			pub = optarg;
			break;
		case 'n':
			nopass = 1;
			break;
		case 'f':
			ps.fd = (int)bcli_number(optarg, 1 << 20);
			if (ps.fd < 0)
				return cli_usage_error("nutgen", "keygen",
						       "bad --passphrase-fd '%s'", optarg);
			break;
		default:
			return cli_usage_error("nutgen", "keygen", "unknown option");
		}
	}
	if (!out || optind != argc)
		return cli_usage_error("nutgen", "keygen", "give -o KEY.pem and nothing else");
	if (!pub) {
		size_t n = strlen(out);
		if (n > 4 && !strcmp(out + n - 4, ".pem"))
			n -= 4;
		if (n > 4000)
			return cli_usage_error("nutgen", "keygen", "path too long");
		snprintf(pubbuf, sizeof(pubbuf), "%.*s.pub", (int)n, out);
		pub = pubbuf;
	}
	if (!nopass) {
		have = sigkey_read_passphrase(&ps, "Passphrase for the new key (empty: none): ", 1,
					      pass, sizeof(pass), &err);
		if (have < 0)
			return cli_fail("nutgen keygen", have, &err);
		if (have && !pass[0])
			have = 0;
	}
	rc = sigkey_generate(out, pub, have ? pass : NULL, raw, &err);
	OPENSSL_cleanse(pass, sizeof(pass));
	if (rc)
		return cli_fail("nutgen keygen", rc, &err);
	if (!have)
		fprintf(stderr, "nutgen keygen: warning: %s is not encrypted; keep it offline\n",
			out);
	sigkey_id(raw, id);
	printf("%s\n", id);
	fprintf(stderr, "nutgen keygen: wrote %s (private, 0600) and %s (public)\n", out, pub);
	return 0;
}
