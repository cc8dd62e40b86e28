/* cmd_encfs.c: `nutgen encfs create|check` (docs/encfs.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "../bundle-format/progress.h"
#include "encfs.h"
#include "keys.h"

const char cmd_encfs_usage[] =
    "Usage: nutgen encfs create --key-file K --out encfs.img [options]\n"
    "       nutgen encfs check encfs.img --key-file K\n"
    "\n"
    "The LUKS2-encrypted ext4 image the encfs sidecar opens (docs/encfs.md), made\n"
    "offline as an ordinary user: no root, no device-mapper.\n"
    "\n"
    "create options:\n"
    "  --key-file K        key from 'nutgen key new' (oct-HSM or RSA-HSM; RSA-HSM gets a\n"
    "                      second keyslot for the other private-exponent form), or exactly\n"
    "                      32 raw bytes used as the passphrase\n"
    "  --out FILE          image to write; never overwritten\n"
    "  --size SIZE         image size, a multiple of 4096, 64MiB..1TiB (default 1GiB)\n"
    "  --add SRC:DST       copy a file or directory SRC to DST inside the file system\n"
    "                      (repeatable; regular files and directories only)\n"
    "  --owner UID:GID     owner of the root directory, marker and added files (default 0:0)\n"
    "  --marker NAME       marker file at the root (default .persist-sentinel; '' for none)\n"
    "  --inodes N          inode count (default 4096)\n"
    "  --journal-mib M     ext4 journal size in MiB (default 16)\n"
    "  --quiet             no progress output\n"
    "\n"
    "check: opens the header with every passphrase of the key, checks the LUKS2\n"
    "parameters, decrypts the data segment into a private scratch file, checks that every\n"
    "hole is a free block and runs e2fsck -fn.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

static int parse_owner(const char *s, struct encfs_opts *o)
{
	char *e1, *e2;
	unsigned long u, g;

	u = strtoul(s, &e1, 10);
	if (e1 == s || *e1 != ':' || u > 0xfffffffeUL)
		return -1;
	g = strtoul(e1 + 1, &e2, 10);
	if (e2 == e1 + 1 || *e2 || g > 0xfffffffeUL)
		return -1;
	o->uid = (uid_t)u;
	o->gid = (gid_t)g;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *e;
	unsigned long v = strtoul(s, &e, 10);

	if (e == s || *e || *s == '-' || v > 0xffffffffUL)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int encfs_create_main(int argc, char **argv)
{
	static const struct option opts[] = {{"key-file", required_argument, 0, 'k'},
					     {"out", required_argument, 0, 'o'},
					     {"size", required_argument, 0, 's'},
					     {"add", required_argument, 0, 'a'},
					     {"owner", required_argument, 0, 'u'},
					     {"marker", required_argument, 0, 'm'},
					     {"inodes", required_argument, 0, 'N'},
					     {"journal-mib", required_argument, 0, 'J'},
					     {"quiet", no_argument, 0, 'q'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	struct encfs_opts o = {.size = ENCFS_DEFAULT_SIZE};
	struct encfs_add adds[ENCFS_MAX_ADDS];
	const char *keyfile = NULL, *out = NULL;
	struct key *k = NULL;
	struct ng_err err = {{0}};
	int c, rc;

	o.adds = adds;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (encfs_parse_size(optarg, &o.size, &err) < 0)
				return cli_usage_error("nutgen", "encfs create", "--size: %s",
						       err.msg);
			break;
		case 'a': {
			char *colon = strrchr(optarg, ':');
			if (!colon || colon == optarg || !colon[1])
				return cli_usage_error("nutgen", "encfs create",
						       "--add '%s': expected SRC:DST", optarg);
			if (o.nadds >= ENCFS_MAX_ADDS)
				return cli_usage_error("nutgen", "encfs create",
						       "--add: at most %d", ENCFS_MAX_ADDS);
			*colon = 0;
			adds[o.nadds].src = optarg;
			adds[o.nadds++].dst = colon + 1;
			break;
		}
		case 'u':
			if (parse_owner(optarg, &o) < 0)
				return cli_usage_error("nutgen", "encfs create",
						       "--owner '%s': expected UID:GID (numbers)",
						       optarg);
			break;
		case 'm':
			o.marker = optarg;
			break;
		case 'N':
			if (parse_u32(optarg, &o.inodes) < 0)
				return cli_usage_error("nutgen", "encfs create",
						       "--inodes '%s': expected a number", optarg);
			break;
		case 'J':
			if (parse_u32(optarg, &o.journal_mib) < 0)
				return cli_usage_error("nutgen", "encfs create",
						       "--journal-mib '%s': expected a number",
						       optarg);
			break;
		case 'q':
			progress_set_quiet(1);
			break;
		case 'h':
			fputs(cmd_encfs_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("nutgen", "encfs create", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("nutgen", "encfs create", "unexpected argument '%s'",
				       argv[optind]);
	if (!keyfile || !out)
		return cli_usage_error("nutgen", "encfs create",
				       "--key-file and --out are required");
	cleanup_install_signals();
	rc = encfs_validate(&o, &err);
	if (rc == 0)
		rc = key_load(keyfile, &k, &err);
	if (rc == 0)
		rc = encfs_create(out, k, &o, &err);
	key_free(k);
	if (rc < 0)
		return cli_fail("nutgen encfs create", rc, &err);
	return CLI_EXIT_OK;
}

static int encfs_check_main(int argc, char **argv)
{
	static const struct option opts[] = {{"key-file", required_argument, 0, 'k'},
					     {"quiet", no_argument, 0, 'q'},
					     {"help", no_argument, 0, 'h'},
					     {0, 0, 0, 0}};
	const char *keyfile = NULL;
	struct encfs_report rep;
	struct key *k = NULL;
	struct ng_err err = {{0}};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'q':
			break;
		case 'h':
			fputs(cmd_encfs_usage, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_usage_error("nutgen", "encfs check", "unknown option");
		}
	}
	if (optind + 1 != argc || !keyfile)
		return cli_usage_error("nutgen", "encfs check",
				       "expected one image and --key-file");
	cleanup_install_signals();
	rc = key_load(keyfile, &k, &err);
	if (rc == 0)
		rc = encfs_check(argv[optind], k, &rep, &err);
	key_free(k);
	if (rc < 0)
		return cli_fail("nutgen encfs check", rc, &err);
	printf("%s: ok: %d keyslot(s) open with the key, %llu blocks, %llu holes (all free "
	       "blocks), %llu bytes allocated, e2fsck clean\n",
	       argv[optind], rep.keyslots_ok, (unsigned long long)rep.blocks,
	       (unsigned long long)rep.holes, (unsigned long long)rep.allocated);
	return CLI_EXIT_OK;
}

int cmd_encfs(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("nutgen", "encfs", "expected 'create' or 'check'");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(cmd_encfs_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "create"))
		return encfs_create_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return encfs_check_main(argc - 1, argv + 1);
	return cli_usage_error("nutgen", "encfs", "unknown subcommand '%s'", argv[1]);
}
