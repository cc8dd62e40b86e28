/* nutgen sign: a reviewer's co-signature, added in place (SPEC.md §4.3). */
#include <getopt.h>
#include <stdio.h>

#include "../bundle-format/cli.h"
#include "bundle_cli.h"

const char cmd_sign_usage[] =
    "Usage: nutgen sign BUNDLE --key K [--passphrase-fd N]\n"
    "\n"
    "Adds a signature by key K (a PEM file from `nutgen keygen` or an OpenSSL store\n"
    "URI such as pkcs11:...) to BUNDLE after checking its structure, digests and\n"
    "existing signatures. The bundle is rewritten atomically; nothing else changes.\n"
    "Review it first (`nutgen show`, `nutgen diff OLD BUNDLE`): a signature says you\n"
    "approve exactly this manifest. Signing twice with one key changes nothing.\n"
    "\n"
    "  --key K             signing key\n"
    "  --passphrase-fd N   its passphrase from descriptor N (else $NUTGEN_KEY_PASSPHRASE,\n"
    "                      else the terminal)\n";

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, 0, 'k'},
					     {"passphrase-fd", required_argument, 0, 'f'},
					     {0, 0, 0, 0}};
	struct bundle_read_opts ro = {0};
	const char *key = NULL;
	EVP_PKEY *k = NULL;
	uint8_t pub[SIGKEY_PUB_LEN];
	char id[SIGKEY_ID_HEX + 1];
	struct ng_err err;
	int c, passfd = -1, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key = optarg;
			break;
		case 'f':
			passfd = (int)bcli_number(optarg, 1 << 20);
			if (passfd < 0)
				return cli_usage_error("nutgen", "sign", "bad --passphrase-fd");
			break;
		default:
			return cli_usage_error("nutgen", "sign", "unknown option");
		}
	}
	if (!key || optind != argc - 1)
		return cli_usage_error("nutgen", "sign", "give one BUNDLE and --key");
	if ((rc = bcli_load_key(key, passfd, &k, &err)))
		return cli_fail("nutgen sign", rc, &err);
	rc = bundle_cosign(argv[optind], k, &ro, &err);
	if (rc >= 0 && !sigkey_public_raw(k, pub, NULL)) {
		sigkey_id(pub, id);
		printf("%s: %s by %s\n", argv[optind], rc == 1 ? "already signed" : "signed", id);
		rc = 0;
	}
	EVP_PKEY_free(k);
	return rc ? cli_fail("nutgen sign", rc, &err) : 0;
}
