/* nutgen explain DEPLOYMENT.json: what a reviewer approves, without Rego. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "render_cli.h"

#define FACTS_MAX (4u << 20)
#define MAX_FACTS 16

const char cmd_explain_usage[] =
    "Usage: nutgen explain DEPLOYMENT.json --image-info FILE... [--key-salt HEX] [--debug]\n"
    "\n"
    "Prints, per container, the image, layers, command, environment rules, mounts,\n"
    "privileges and allowed exec processes of the policy nutgen renders for the\n"
    "deployment, then what the Key Vault release policy requires.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

int cmd_explain(int argc, char **argv)
{
	enum { O_INFO = 1, O_SALT, O_DEBUG };
	static const struct option lopts[] = {{"image-info", required_argument, 0, O_INFO},
					      {"key-salt", required_argument, 0, O_SALT},
					      {"debug", no_argument, 0, O_DEBUG},
					      {0, 0, 0, 0}};
	cJSON *docs[MAX_FACTS] = {0};
	const cJSON *facts[MAX_FACTS];
	size_t n = 0;
	const char *salt = NULL;
	int debug = -1, opt, rc = CLI_EXIT_FAIL, code = NG_EINVAL;
	struct ng_err err = {{0}};
	struct render_out out;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		uint8_t *data;
		size_t len;
		switch (opt) {
		case O_INFO:
			if (n == MAX_FACTS) {
				rc = cli_usage_error("nutgen", "explain", "too many --image-info");
				goto out;
			}
			if ((code = read_file_capped(optarg, FACTS_MAX, &data, &len, &err)) < 0)
				goto fail;
			docs[n] = cJSON_ParseWithLength((char *)data, len);
			free(data);
			if (!cJSON_IsObject(docs[n])) {
				code = ng_errf(&err, NG_EINVAL, "%s: not a JSON object", optarg);
				goto fail;
			}
			facts[n] = docs[n];
			n++;
			break;
		case O_SALT:
			salt = optarg;
			break;
		case O_DEBUG:
			debug = 1;
			break;
		default:
			rc = cli_usage_error("nutgen", "explain", "unknown option");
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = cli_usage_error("nutgen", "explain", "give one DEPLOYMENT.json");
		goto out;
	}
	if ((code = render_cli(argv[optind], facts, n, debug, salt, &out, &err)) < 0)
		goto fail;
	fputs(out.explain, stdout);
	render_out_free(&out);
	rc = 0;
	goto out;
fail:
	rc = cli_fail("nutgen explain", code, &err);
out:
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(docs[i]);
	return rc;
}
