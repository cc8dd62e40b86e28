/* cmd_target.c: `nutgen target check`: the air-gapped side's look at a
 * target.json before a build (docs/infra.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "target.h"

const char cmd_target_usage[] =
    "Usage: nutgen target check TARGET.json --kek-fingerprint FP\n"
    "\n"
    "Reads the target.json `nutapply infra up` wrote and checks that its key vault\n"
    "key-exchange key (KEK) is the one whose SHA-256 (of the DER SubjectPublicKeyInfo)\n"
    "the operator types as FP, from what `up` printed or from a second channel. A\n"
    "mismatch is refused: a substituted KEK would give the mint's key to its holder.\n"
    "On success prints the fingerprint and the names nutgen renders with.\n"
    "FP: 64 hex digits, either case, ':' or ' ' separators and a sha256: prefix allowed.\n"
    "\n"
    "Exit status: 0 matches, 1 refused (one line on stderr), 2 usage.\n"
    "Example: nutgen target check target.json --kek-fingerprint sha256:3f2a...\n";

static int target_check_main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"kek-fingerprint", 1, 0, 'f'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	static const char *const shown[] = {"key_vault.uri",
					    "kek.kid",
					    "attestation.endpoint",
					    "identity.resource_id",
					    "identity.client_id",
					    "storage.account",
					    "storage.blob_endpoint",
					    "storage.share",
					    NULL};
	const char *fp = NULL;
	struct ng_err err = {{0}};
	struct target *t = NULL;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (opt == 'f')
			fp = optarg;
		else if (opt == 'h') {
			fputs(cmd_target_usage, stdout);
			return CLI_EXIT_OK;
		} else
			return cli_usage_error("nutgen", "target", "unknown option");
	}
	if (optind + 1 != argc || !fp)
		return cli_usage_error("nutgen", "target",
				       "want: target check TARGET.json --kek-fingerprint FP");
	if ((rc = target_load(argv[optind], fp, &t, &err)))
		return cli_fail("nutgen", rc, &err);
	printf("kek fingerprint %s: matches\n", target_fingerprint(t));
	for (const char *const *m = shown; *m; m++)
		printf("%s %s\n", *m, target_str(t, *m));
	target_free(t);
	return CLI_EXIT_OK;
}

int cmd_target(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("nutgen", "target", "expected 'check'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(cmd_target_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "check"))
		return target_check_main(argc - 1, argv + 1);
	return cli_usage_error("nutgen", "target", "unknown subcommand '%s'", argv[1]);
}
