/* nutgen init DIR: writes DIR/deployment.json for the Nutshell mint with the
 * seed's defaults (docs/deployment.md), environment overrides applied. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "deployment.h"

const char cmd_init_usage[] =
    "Usage: nutgen init DIR\n"
    "\n"
    "Writes DIR/deployment.json: a deployment of the Nutshell mint with the defaults of the\n"
    "seed scripts (names, paths, mint environment, Caddy share, encfs key encfs-key RSA-HSM).\n"
    "The seed scripts' environment variables (RESOURCE_GROUP, LOCATION, KEY_VAULT_NAME,\n"
    "STORAGE_ACCOUNT, ATTESTATION_PROVIDER, MANAGED_IDENTITY_NAME, NUTSHELL_IMAGE,\n"
    "CADDY_IMAGE, ENCFS_IMAGE, CUSTOM_DOMAIN, DNS_NAME_LABEL, ACME_EMAIL, ENCFS_KEY_ID, ...)\n"
    "fill the matching fields; see docs/deployment.md. DIR is created if missing; an\n"
    "existing deployment.json is never overwritten.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

int cmd_init(int argc, char **argv)
{
	static const struct option lopts[] = {{0, 0, 0, 0}};
	struct ng_err err = {{0}};
	char *text = NULL, path[4096];
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1)
		return cli_usage_error("nutgen", "init", "unknown option");
	if (optind != argc - 1)
		return cli_usage_error("nutgen", "init", "give one directory");
	if ((size_t)snprintf(path, sizeof(path), "%s/deployment.json", argv[optind]) >=
	    sizeof(path))
		return cli_usage_error("nutgen", "init", "directory name too long");
	if (mkdir(argv[optind], 0755) < 0 && errno != EEXIST) {
		ng_errf(&err, NG_EIO, "%s: cannot create: %s", argv[optind], strerror(errno));
		return cli_fail("nutgen init", NG_EIO, &err);
	}
	if (access(path, F_OK) == 0) {
		ng_errf(&err, NG_EEXIST, "%s exists: edit it, or remove it to start over", path);
		return cli_fail("nutgen init", NG_EEXIST, &err);
	}
	if ((rc = deployment_default_text(1, &text, &err)) < 0)
		return cli_fail("nutgen init", rc, &err);
	rc = write_file_atomic(path, text, strlen(text), 0644, &err);
	free(text);
	if (rc < 0)
		return cli_fail("nutgen init", rc, &err);
	fprintf(stderr, "wrote %s\n", path);
	if (!getenv("DNS_NAME_LABEL") && !getenv("CUSTOM_DOMAIN"))
		fprintf(stderr, "next: set dns.label or dns.custom_domain in it\n");
	return 0;
}
