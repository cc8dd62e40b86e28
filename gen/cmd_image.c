/* nutgen image: reading container images from files (oci.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/buf.h"
#include "../bundle-format/cli.h"
#include "../bundle-format/jsonw.h"
#include "../bundle-format/progress.h"
#include "oci.h"
#include "ocilayers.h"

const char cmd_image_usage[] =
    "Usage: nutgen image inspect ARCHIVE [OPTIONS]\n"
    "\n"
    "Reads a container image offline, verifies every byte of it and prints its facts\n"
    "as JSON: the pinned reference registry/repo@sha256:<manifest digest>, the\n"
    "manifest and config digests, the platform, Env/Entrypoint/Cmd/WorkingDir/User/\n"
    "StopSignal, and per layer its digest, media type, size, diff_id and dm-verity\n"
    "root hash (as `nutgen layer-hash` computes it).\n"
    "\n"
    "ARCHIVE is an OCI image layout directory (skopeo copy ... oci:DIR, crane pull\n"
    "--format=oci), the same as a tar (oci-archive), or a `docker save` archive;\n"
    "tars may be gzip or zstd compressed. Index, manifest and config are checked\n"
    "against their digests, each layer against its digest and its diff_id.\n"
    "\n"
    "Options:\n"
    "  --platform OS/ARCH[/VARIANT]  image to take from a multi-platform index\n"
    "                                (default linux/amd64)\n"
    "  --reference REGISTRY/REPO     repository the image is pulled from (when the\n"
    "                                archive names none, or to override it); a\n"
    "                                :tag selects among docker-save images, an\n"
    "                                @sha256: digest must match the manifest\n"
    "  --digest sha256:HEX           the registry manifest digest; required for\n"
    "                                docker-save archives, which hold no manifest\n"
    "                                (reported as manifest_verified: false)\n"
    "  -j, --jobs N                  hash N layers in parallel (default 1)\n"
    "  --no-cache                    neither use nor update the layer cache\n"
    "                                ($XDG_CACHE_HOME/nutgen, ~/.cache/nutgen)\n"
    "  -q, --quiet                   no progress on stderr\n"
    "  -h, --help                    show this help\n"
    "\n"
    "Exit status: 0 success, 1 failure (the message names the offending digest),\n"
    "2 usage error.\n";

static int inspect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"platform", required_argument, 0, 'p'}, {"reference", required_argument, 0, 'r'},
	    {"digest", required_argument, 0, 'd'},   {"jobs", required_argument, 0, 'j'},
	    {"no-cache", no_argument, 0, 'n'},	     {"quiet", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},	     {0, 0, 0, 0}};
	struct oci_opts o;
	struct ng_err err = {{0}};
	struct buf out;
	cJSON *facts = NULL;
	int c, rc;

	memset(&o, 0, sizeof(o));
	o.jobs = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "j:qh", opts, NULL)) != -1) {
		char *end;
		long n;
		switch (c) {
		case 'p':
			o.platform = optarg;
			break;
		case 'r':
			o.reference = optarg;
			break;
		case 'd':
			o.digest = optarg;
			break;
		case 'n':
			o.no_cache = 1;
			break;
		case 'q':
			progress_set_quiet(1);
			break;
		case 'h':
			fputs(cmd_image_usage, stdout);
			return CLI_EXIT_OK;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > OCI_MAX_JOBS)
				return cli_usage_error("nutgen", "image inspect",
						       "--jobs must be 1 to %d", OCI_MAX_JOBS);
			o.jobs = (int)n;
			break;
		default:
			return cli_usage_error("nutgen", "image inspect", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("nutgen", "image inspect", "expected one ARCHIVE");
	if ((rc = oci_image_facts(argv[optind], &o, &facts, &err)))
		return cli_fail("nutgen image inspect", rc, &err);
	buf_init(&out, 0);
	rc = jsonw_print(facts, &JSONW_PRETTY_SORTED, &out, &err);
	cJSON_Delete(facts);
	if (!rc && (buf_puts(&out, "\n") || out.oom))
		rc = ng_errf(&err, NG_ENOMEM, "out of memory");
	if (!rc && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)))
		rc = ng_errf(&err, NG_EIO, "writing the facts to stdout failed");
	buf_free(&out);
	return rc ? cli_fail("nutgen image inspect", rc, &err) : CLI_EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("nutgen", "image", "expected a subcommand: inspect");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(cmd_image_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "inspect"))
		return inspect(argc - 1, argv + 1);
	return cli_usage_error("nutgen", "image", "unknown subcommand '%s' (expected inspect)",
			       argv[1]);
}
