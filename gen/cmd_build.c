/* nutgen build: DEPLOYMENT.json -> signed bundle (build.h). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/progress.h"
#include "build.h"
#include "bundle_cli.h"

const char cmd_build_usage[] =
    "Usage: nutgen build DEPLOYMENT.json --sign-key K -o BUNDLE.tgz\n"
    "                    [--target target.json --kek-fingerprint FP]\n"
    "                    [--new-volume | --existing-volume] [--key-out FILE]\n"
    "                    [--image-info FACTS.json]... [--serial N] [--expires T]\n"
    "                    [--state-dir DIR] [--passphrase-fd N] [--quiet]\n"
    "\n"
    "Renders the deployment (policy, hostdata, ARM template, sidecar arguments, key\n"
    "release policy, importkey config, explain.txt) from the images' archives (or\n"
    "--image-info facts) and signs it all into BUNDLE.tgz (bundle-format/SPEC.md).\n"
    "\n"
    "The first bundle for a target creates the volume: a new key and encfs.img. The\n"
    "key is wrapped for the vault's HSM when target.json gives its key-exchange key\n"
    "(checked against --kek-fingerprint, typed from what `nutapply infra up` printed),\n"
    "else written to --key-out (mode 0600), never into the bundle in clear. Later\n"
    "bundles reference the existing volume (--existing-volume, or\n"
    "$.encfs.existing_volume.salt_hex): only template, policy and release policy change.\n"
    "nutgen remembers each target's volume (state in $NUTGEN_STATE_DIR, else\n"
    "$XDG_STATE_HOME/nutgen) and refuses a second create without --new-volume.\n"
    "\n"
    "Reproducible: with SOURCE_DATE_EPOCH set, a reference build gives the same bytes\n"
    "every time (the creation time and the default serial come from it).\n"
    "\n"
    "  --sign-key K          Ed25519 signing key (PEM or OpenSSL store URI); repeatable\n"
    "  -o, --out FILE        the bundle (written atomically)\n"
    "  --target FILE         target.json from `nutapply infra up`: its KEK, and its live\n"
    "                        names (vault, attestation, identity, storage) win over\n"
    "                        the deployment's (each change printed on stderr)\n"
    "  --kek-fingerprint FP  SHA-256 of the KEK's DER public key (hex; ':', ' ' and a\n"
    "                        sha256: prefix allowed)\n"
    "  --new-volume          create a new volume and key even if the target has one\n"
    "  --existing-volume     reference the target's existing volume and key\n"
    "  --key-out FILE        where the new key goes when there is no KEK\n"
    "  --image-info FILE     image facts (nutgen image inspect) instead of an archive\n"
    "  --serial N            manifest serial (default: the creation time in seconds)\n"
    "  --expires T           expiry: 2026-12-31T00:00:00Z or +30d / +12h\n"
    "  --state-dir DIR       build state directory\n"
    "  --passphrase-fd N     signing key passphrase from descriptor N\n"
    "  -q, --quiet           no progress output\n";

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {{"sign-key", required_argument, 0, 'k'},
					     {"out", required_argument, 0, 'o'},
					     {"target", required_argument, 0, 't'},
					     {"kek-fingerprint", required_argument, 0, 'F'},
					     {"new-volume", no_argument, 0, 'N'},
					     {"existing-volume", no_argument, 0, 'E'},
					     {"key-out", required_argument, 0, 'K'},
					     {"image-info", required_argument, 0, 'i'},
					     {"serial", required_argument, 0, 's'},
					     {"expires", required_argument, 0, 'x'},
					     {"state-dir", required_argument, 0, 'S'},
					     {"passphrase-fd", required_argument, 0, 'f'},
					     {"quiet", no_argument, 0, 'q'},
					     {0, 0, 0, 0}};
	const char *keys[8], *infos[16];
	struct build_opts o = {.passfd = -1, .sign_keys = keys, .image_info = infos};
	struct build_report rep;
	struct ng_err err;
	long long v;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:q", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (o.nsign == 8)
				return cli_usage_error("nutgen", "build", "at most 8 --sign-key");
			keys[o.nsign++] = optarg;
			break;
		case 'i':
			if (o.ninfo == 16)
				return cli_usage_error("nutgen", "build",
						       "at most 16 --image-info");
			infos[o.ninfo++] = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 't':
			o.target = optarg;
			break;
		case 'F':
			o.kek_fingerprint = optarg;
			break;
		case 'N':
			o.new_volume = 1;
			break;
		case 'E':
			o.existing_volume = 1;
			break;
		case 'K':
			o.key_out = optarg;
			break;
		case 'x':
			o.expires = optarg;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'q':
			progress_set_quiet(1);
			break;
		case 's':
			if ((v = bcli_number(optarg, 9007199254740991LL)) < 1)
				return cli_usage_error("nutgen", "build",
						       "--serial must be 1..2^53-1");
			o.serial = (uint64_t)v;
			break;
		case 'f':
			if ((o.passfd = (int)bcli_number(optarg, 1 << 20)) < 0)
				return cli_usage_error("nutgen", "build", "bad --passphrase-fd");
			break;
		default:
			return cli_usage_error("nutgen", "build", "unknown option");
		}
	}
	if (optind != argc - 1 || !o.out || !o.nsign)
		return cli_usage_error("nutgen", "build",
				       "give DEPLOYMENT.json, --sign-key and -o BUNDLE.tgz");
	o.deployment = argv[optind];
	if ((rc = build_run(&o, &rep, &err)))
		return cli_fail("nutgen build", rc, &err);
	printf("%s: %s bundle, serial %" PRIu64 ", hostdata %s\n", o.out,
	       rep.created_volume ? "create (new volume and key)" : "reference", rep.serial,
	       rep.hostdata);
	return 0;
}
