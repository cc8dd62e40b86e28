/* nutgen pack: the low-level bundle writer (SPEC.md §3) for tests and for
 * bundles assembled by other tools: given manifest fields and member files,
 * writes a signed bundle. `nutgen build` is the normal way to make one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "bundle_cli.h"

const char cmd_pack_usage[] =
    "Usage: nutgen pack --fields FIELDS.json --sign-key K [--sign-key K2...] -o OUT.tgz\n"
    "                   [--sparse NAME]... [--passphrase-fd N] NAME=PATH...\n"
    "\n"
    "Low-level: packs the given files as bundle members NAME into a signed bundle.\n"
    "FIELDS.json is a JSON object of manifest fields (SPEC.md §5): at least \"created\"\n"
    "and \"serial\"; format, generator and members are filled in. `nutgen build` makes\n"
    "bundles from a deployment; this is for tests and other tooling.\n"
    "\n"
    "  --fields FILE       manifest fields\n"
    "  --sign-key K        signing key (PEM path or OpenSSL store URI); repeatable\n"
    "  --sparse NAME       store member NAME as a PAX sparse file (holes kept)\n"
    "  --passphrase-fd N   passphrase of the signing key(s) from descriptor N\n"
    "  -o, --out FILE      bundle to write (atomically)\n";

int cmd_pack(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fields", required_argument, 0, 'F'}, {"sign-key", required_argument, 0, 'k'},
	    {"sparse", required_argument, 0, 's'}, {"passphrase-fd", required_argument, 0, 'f'},
	    {"out", required_argument, 0, 'o'},	   {0, 0, 0, 0}};
	const char *fields = NULL, *out = NULL, *keysrc[8], *sparse[8];
	size_t nkeys = 0, nsparse = 0, nin = 0;
	struct bundle_input in[MANIFEST_MAX_MEMBERS];
	EVP_PKEY *keys[8] = {0};
	uint8_t *fb = NULL;
	size_t fl;
	cJSON *fj = NULL;
	struct ng_err err;
	int c, passfd = -1, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			fields = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			if (nkeys == 8)
				return cli_usage_error("nutgen", "pack", "at most 8 --sign-key");
			keysrc[nkeys++] = optarg;
			break;
		case 's':
			if (nsparse == 8)
				return cli_usage_error("nutgen", "pack", "at most 8 --sparse");
			sparse[nsparse++] = optarg;
			break;
		case 'f':
			passfd = (int)bcli_number(optarg, 1 << 20);
			if (passfd < 0)
				return cli_usage_error("nutgen", "pack", "bad --passphrase-fd");
			break;
		default:
			return cli_usage_error("nutgen", "pack", "unknown option");
		}
	}
	if (!fields || !out || !nkeys)
		return cli_usage_error("nutgen", "pack",
				       "--fields, --sign-key and -o are required");
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || nin == MANIFEST_MAX_MEMBERS)
			return cli_usage_error("nutgen", "pack", "'%s' is not NAME=PATH", argv[i]);
		*eq = 0;
		in[nin] = (struct bundle_input){.name = argv[i], .path = eq + 1};
		for (size_t k = 0; k < nsparse; k++)
			in[nin].sparse |= !strcmp(sparse[k], argv[i]);
		nin++;
	}
	if ((rc = read_file_capped(fields, 1 << 20, &fb, &fl, &err)))
		goto fail;
	fj = cJSON_ParseWithLength((char *)fb, fl);
	if (!cJSON_IsObject(fj)) {
		rc = ng_errf(&err, NG_EINVAL, "%s: not a JSON object", fields);
		goto fail;
	}
	for (size_t i = 0; i < nkeys; i++)
		if ((rc = bcli_load_key(keysrc[i], passfd, &keys[i], &err)))
			goto fail;
	rc = bundle_create(out, fj, in, nin, keys, nkeys, &err);
fail:
	for (size_t i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i]);
	cJSON_Delete(fj);
	free(fb);
	return rc ? cli_fail("nutgen pack", rc, &err) : 0;
}
