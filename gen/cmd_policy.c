/* nutgen policy: prints the CCE policy (or its hostdata) of an ARM template
 * the way az confcom computes it, or of a deployment file the way nutgen
 * deploys it. */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle-format/cli.h"
#include "../bundle-format/fileio.h"
#include "policy.h"
#include "render.h"
#include "render_cli.h"

#define ARM_MAX	  (4u << 20)
#define FACTS_MAX (4u << 20)
#define MAX_FACTS 64

const char cmd_policy_usage[] =
    "Usage: nutgen policy --arm TEMPLATE.json --image-info FILE... [OPTIONS]\n"
    "       nutgen policy DEPLOYMENT.json --image-info FILE... [OPTIONS]\n"
    "\n"
    "Prints the CCE security policy of each container group, followed by a newline.\n"
    "\n"
    "With --arm (confcom mode) the policy is byte-for-byte what `az confcom acipolicygen\n"
    "--approve-wildcards` computes for the same template and images, quirks included:\n"
    "secureValue environment values are copied into the policy, unresolved parameters\n"
    "become NAME=.* rules, a container without command gets \"command\": null.\n"
    "\n"
    "With a DEPLOYMENT.json (docs/deployment.md) it renders the policy nutgen deploys:\n"
    "no debug shells unless --debug, sidecar arguments pinned exactly, secrets only as\n"
    "wildcards for their own name, and a container without command is an error.\n"
    "\n"
    "Options:\n"
    "  --arm FILE            ARM template (confcom mode)\n"
    "  --image-info FILE     image facts, JSON {\"image\", \"config\", \"layer_roothashes\"}\n"
    "                        as `nutgen image inspect` prints it (or a list of them);\n"
    "                        repeat once per image; matched on the template's image string\n"
    "  --profile NAME        confcom generation: current (default), late-1x, 1x, 1x-svn1,\n"
    "                        1.4.2 (see templates/policy/profiles/)\n"
    "  --debug               confcom's --debug-mode: /bin/sh and /bin/bash exec in every\n"
    "                        container, stack dumps and runtime logging allowed. UNSAFE\n"
    "                        for a mint holding money: anyone deploying can open a shell.\n"
    "  --disable-stdio       confcom's --disable-stdio\n"
    "  --infrastructure-svn N  replace the infrastructure fragment's minimum_svn\n"
    "  --exclude-default-fragments  no infrastructure fragment\n"
    "  --fragments-json FILE append the \"fragments\" of FILE (confcom's format)\n"
    "  --key-salt HEX        (deployment) HKDF salt of the RSA-HSM encfs key when the\n"
    "                        deployment has no encfs.existing_volume.salt_hex\n"
    "  --render-dir DIR      (deployment) also write everything rendered into DIR:\n"
    "                        policy.rego, hostdata, arm-template.json, release-policy.json,\n"
    "                        importkeyconfig.json, encfs-sidecar-args.b64,\n"
    "                        skr-sidecar-args.b64, explain.txt\n"
    "  --hostdata            print the hostdata (SHA-256 of the policy) instead\n"
    "  -o, --output FILE     write the exact policy bytes (no newline) to FILE;\n"
    "                        with several groups, FILE.1, FILE.2, ...\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

struct facts_set {
	cJSON *docs[MAX_FACTS];
	const cJSON *items[MAX_FACTS * 4];
	size_t ndocs, nitems;
};

static int load_json(const char *path, size_t max, cJSON **out, struct ng_err *err)
{
	uint8_t *data;
	size_t n;
	int rc = read_file_capped(path, max, &data, &n, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	*out = cJSON_ParseWithLength((char *)data, n);
	free(data);
	if (!*out)
		return ng_errf(err, NG_EINVAL, "%s: not valid JSON", path);
	return 0;
}

static int add_facts(struct facts_set *fs, const char *path, struct ng_err *err)
{
	cJSON *doc;
	const cJSON *it;
	if (fs->ndocs == MAX_FACTS)
		return ng_errf(err, NG_ELIMIT, "more than %d --image-info files", MAX_FACTS);
	if (load_json(path, FACTS_MAX, &doc, err) < 0)
		return -1;
	fs->docs[fs->ndocs++] = doc;
	if (cJSON_IsObject(doc)) {
		if (policy_image_facts_check(doc, path, err) < 0)
			return -1;
		fs->items[fs->nitems++] = doc;
		return 0;
	}
	if (!cJSON_IsArray(doc) || cJSON_GetArraySize(doc) > 4)
		return ng_errf(err, NG_EINVAL,
			       "%s: image facts must be an object (or a list of up to 4)", path);
	cJSON_ArrayForEach(it, doc)
	{
		if (policy_image_facts_check(it, path, err) < 0)
			return -1;
		fs->items[fs->nitems++] = it;
	}
	return 0;
}

static int emit(const char *policy, int hostdata, const char *outpath, size_t idx, size_t n,
		struct ng_err *err)
{
	char hd[65];
	if (outpath) {
		char name[4096];
		if (n > 1)
			snprintf(name, sizeof(name), "%s.%zu", outpath, idx + 1);
		else
			snprintf(name, sizeof(name), "%s", outpath);
		if (write_file_atomic(name, policy, strlen(policy), 0644, err) < 0)
			return -1;
	}
	if (hostdata) {
		policy_hostdata(policy, hd);
		printf("%s\n", hd);
	} else if (!outpath) {
		fputs(policy, stdout);
		fputc('\n', stdout);
	}
	return 0;
}

static int cmd_policy_deployment(const char *path, const cJSON *const *facts, size_t nfacts,
				 int debug, const char *salt, int hostdata, const char *outpath,
				 const char *render_dir, struct ng_err *err);

int cmd_policy(int argc, char **argv)
{
	enum {
		O_ARM = 1,
		O_INFO,
		O_PROFILE,
		O_DEBUG,
		O_STDIO,
		O_SVN,
		O_EXCL,
		O_FRAG,
		O_HOST,
		O_SALT,
		O_RDIR
	};
	static const struct option lopts[] = {{"arm", required_argument, 0, O_ARM},
					      {"image-info", required_argument, 0, O_INFO},
					      {"profile", required_argument, 0, O_PROFILE},
					      {"debug", no_argument, 0, O_DEBUG},
					      {"disable-stdio", no_argument, 0, O_STDIO},
					      {"infrastructure-svn", required_argument, 0, O_SVN},
					      {"exclude-default-fragments", no_argument, 0, O_EXCL},
					      {"fragments-json", required_argument, 0, O_FRAG},
					      {"hostdata", no_argument, 0, O_HOST},
					      {"key-salt", required_argument, 0, O_SALT},
					      {"render-dir", required_argument, 0, O_RDIR},
					      {"output", required_argument, 0, 'o'},
					      {0, 0, 0, 0}};
	struct facts_set fs = {0};
	struct policy_opts po = {0};
	struct ng_err err = {{0}};
	const char *arm_path = NULL, *profile = "current", *frag_path = NULL, *outpath = NULL,
		   *salt = NULL, *render_dir = NULL;
	cJSON *arm = NULL, *prof = NULL, *fragdoc = NULL;
	const cJSON **groups = NULL;
	size_t ngroups = 0;
	int hostdata = 0, opt, rc = CLI_EXIT_FAIL, code = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", lopts, NULL)) != -1) {
		switch (opt) {
		case O_ARM:
			arm_path = optarg;
			break;
		case O_INFO:
			if (add_facts(&fs, optarg, &err) < 0) {
				code = NG_EINVAL;
				goto fail;
			}
			break;
		case O_PROFILE:
			profile = optarg;
			break;
		case O_DEBUG:
			po.debug = 1;
			break;
		case O_STDIO:
			po.disable_stdio = 1;
			break;
		case O_SVN:
			po.infra_svn = optarg;
			if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg)) {
				rc = cli_usage_error("nutgen", "policy",
						     "--infrastructure-svn must be digits");
				goto out;
			}
			break;
		case O_EXCL:
			po.exclude_default_fragments = 1;
			break;
		case O_FRAG:
			frag_path = optarg;
			break;
		case O_RDIR:
			render_dir = optarg;
			break;
		case O_SALT:
			salt = optarg;
			break;
		case O_HOST:
			hostdata = 1;
			break;
		case 'o':
			outpath = optarg;
			break;
		default:
			rc = cli_usage_error("nutgen", "policy", "unknown option");
			goto out;
		}
	}
	if (!arm_path) {
		if (optind != argc - 1) {
			rc = cli_usage_error("nutgen", "policy",
					     "give --arm TEMPLATE.json or one DEPLOYMENT.json");
			goto out;
		}
		if (cmd_policy_deployment(argv[optind], fs.items, fs.nitems, po.debug, salt,
					  hostdata, outpath, render_dir, &err) < 0) {
			code = NG_EINVAL;
			goto fail;
		}
		rc = 0;
		goto out;
	}
	if (optind != argc) {
		rc = cli_usage_error("nutgen", "policy", "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!fs.nitems) {
		rc = cli_usage_error("nutgen", "policy", "--arm needs at least one --image-info");
		goto out;
	}
	if ((code = policy_profile_load(profile, &prof, &err)) < 0)
		goto fail;
	po.profile = prof;
	if ((code = load_json(arm_path, ARM_MAX, &arm, &err)) < 0)
		goto fail;
	if (frag_path) {
		if ((code = load_json(frag_path, FACTS_MAX, &fragdoc, &err)) < 0)
			goto fail;
		po.extra_fragments = cJSON_GetObjectItemCaseSensitive(fragdoc, "fragments");
		if (!cJSON_IsArray(po.extra_fragments)) {
			code = ng_errf(&err, NG_EINVAL, "%s: no \"fragments\" list", frag_path);
			goto fail;
		}
	}
	if ((code = policy_arm_groups(arm, &groups, &ngroups, &err)) < 0) {
		ng_err_prefix(&err, code, "%s", arm_path);
		goto fail;
	}
	for (size_t i = 0; i < ngroups; i++) {
		char *text;
		if ((code = policy_group_text(arm, groups[i], fs.items, fs.nitems, &po, &text,
					      &err)) < 0) {
			ng_err_prefix(&err, code, "%s", arm_path);
			goto fail;
		}
		code = emit(text, hostdata, outpath, i, ngroups, &err);
		free(text);
		if (code < 0)
			goto fail;
	}
	rc = 0;
	goto out;
fail:
	rc = cli_fail("nutgen policy", code ? code : NG_EINVAL, &err);
out:
	free(groups);
	cJSON_Delete(arm);
	cJSON_Delete(prof);
	cJSON_Delete(fragdoc);
	for (size_t i = 0; i < fs.ndocs; i++)
		cJSON_Delete(fs.docs[i]);
	return rc;
}

/* Deployment mode: see render.h. */
static int cmd_policy_deployment(const char *path, const cJSON *const *facts, size_t nfacts,
				 int debug, const char *salt, int hostdata, const char *outpath,
				 const char *render_dir, struct ng_err *err)
{
	struct render_out out;
	int rc = render_cli(path, facts, nfacts, debug ? 1 : -1, salt, &out, err);
	if (rc < 0)
		return rc;
	if (render_dir) {
		char hd[80];
		const char *files[][2] = {{"policy.rego", out.policy},
					  {"hostdata", hd},
					  {"arm-template.json", out.arm_template},
					  {"release-policy.json", out.release_policy},
					  {"importkeyconfig.json", out.importkey_config},
					  {"encfs-sidecar-args.b64", out.encfs_sidecar_args},
					  {"skr-sidecar-args.b64", out.skr_sidecar_args},
					  {"explain.txt", out.explain}};
		snprintf(hd, sizeof(hd), "%s\n", out.hostdata);
		if (mkdir(render_dir, 0755) < 0 && errno != EEXIST) {
			render_out_free(&out);
			return ng_errf(err, NG_EIO, "%s: cannot create: %s", render_dir,
				       strerror(errno));
		}
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", render_dir, files[i][0]);
			if ((rc = write_file_atomic(p, files[i][1], strlen(files[i][1]), 0644,
						    err)) < 0) {
				render_out_free(&out);
				return rc;
			}
		}
	}
	rc = emit(out.policy, hostdata, outpath, 0, 1, err);
	render_out_free(&out);
	return rc;
}
