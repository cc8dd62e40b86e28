/* nutgen verify: the verification algorithm of SPEC.md §6, as nutapply runs
 * it before anything else. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/codec.h"
#include "../bundle-format/progress.h"
#include "bundle_cli.h"

const char cmd_verify_usage[] =
    "Usage: nutgen verify BUNDLE --trust PUB [--trust PUB...] [--threshold N]\n"
    "                     [--min-serial N] [--quiet]\n"
    "\n"
    "Checks BUNDLE as nutapply does before any network call: canonical tar.gz, the\n"
    "manifest, every signature, at least N distinct trusted signers (default 1), not\n"
    "expired, serial not below --min-serial, and every member's size and SHA-256,\n"
    "with nothing missing or extra. Writes nothing. Prints one line; exit 0 only when\n"
    "everything holds, else 1 with the reason.\n"
    "\n"
    "  --trust PUB       a trusted public key (.pub from `nutgen keygen`); repeatable\n"
    "  --threshold N     distinct trusted signatures required (default 1)\n"
    "  --min-serial N    refuse a bundle older than serial N (rollback protection)\n"
    "  -q, --quiet       no progress, no success line\n";

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"trust", required_argument, 0, 't'},
					     {"threshold", required_argument, 0, 'n'},
					     {"min-serial", required_argument, 0, 's'},
					     {"quiet", no_argument, 0, 'q'},
					     {0, 0, 0, 0}};
	struct bundle_read_opts ro = {.threshold = 1};
	uint8_t(*trust)[SIGKEY_PUB_LEN] = NULL;
	size_t ntrust = 0;
	struct bundle *b = NULL;
	struct ng_err err;
	char hex[65];
	int c, quiet = 0, rc = 0;
	long long v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((rc = bcli_add_trust(optarg, &trust, &ntrust, &err))) {
				free(trust);
				return cli_fail("nutgen verify", rc, &err);
			}
			break;
		case 'n':
			if ((v = bcli_number(optarg, BUNDLE_MAX_SIGS)) < 1) {
				free(trust);
				return cli_usage_error("nutgen", "verify",
						       "--threshold must be 1..%d",
						       BUNDLE_MAX_SIGS);
			}
			ro.threshold = (unsigned)v;
			break;
		case 's':
			if ((v = bcli_number(optarg, 9007199254740991LL)) < 0) {
				free(trust);
				return cli_usage_error("nutgen", "verify", "bad --min-serial");
			}
			ro.min_serial = (uint64_t)v;
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			free(trust);
			return cli_usage_error("nutgen", "verify", "unknown option");
		}
	}
	if (optind != argc - 1 || !ntrust) {
		free(trust);
		return cli_usage_error("nutgen", "verify",
				       "give one BUNDLE and at least one --trust");
	}
	progress_set_quiet(quiet);
	ro.trusted = (const uint8_t(*)[SIGKEY_PUB_LEN])trust;
	ro.ntrusted = ntrust;
	rc = bundle_open(argv[optind], &ro, &b, &err);
	free(trust);
	if (rc)
		return cli_fail("nutgen verify", rc, &err);
	hex_encode(b->file_sha256, 32, hex);
	if (!quiet)
		printf("%s: OK: serial %" PRIu64 ", %u trusted of %zu signature(s), %zu members, "
		       "sha256 %s\n",
		       argv[optind], b->m->serial, b->trusted_signers, b->nsigs, b->nmembers, hex);
	bundle_free(b);
	return 0;
}
