#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"

#ifndef NUTGEN_VERSION
#define NUTGEN_VERSION "0.0.0-dev"
#endif

const char *cli_version = NUTGEN_VERSION;

static void print_help(const struct cli_prog *p, FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", p->name, p->summary);
	for (int i = 0; i < p->ncmds; i++)
		fprintf(f, "  %-14s %s\n", p->cmds[i].name, p->cmds[i].summary);
	fprintf(f,
		"\nGlobal options:\n"
		"  -h, --help      show this help; `%s COMMAND --help` for one command\n"
		"  --version       print the version\n\n"
		"Exit status: 0 success, 1 failure, 2 usage error.\n",
		p->name);
}

static const struct cli_cmd *find(const struct cli_prog *p, const char *name)
{
	for (int i = 0; i < p->ncmds; i++)
		if (strcmp(p->cmds[i].name, name) == 0)
			return &p->cmds[i];
	return NULL;
}

int cli_main(const struct cli_prog *p, int argc, char **argv)
{
	const struct cli_cmd *c;

	cleanup_install_signals();
	if (argc < 2) {
		print_help(p, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(p, stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("%s %s\n", p->name, cli_version);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			print_help(p, stdout);
			return CLI_EXIT_OK;
		}
		c = find(p, argv[2]);
		if (!c) {
			fprintf(stderr, "%s: unknown command '%s'; see '%s --help'\n", p->name,
				argv[2], p->name);
			return CLI_EXIT_USAGE;
		}
		fputs(c->usage, stdout);
		return CLI_EXIT_OK;
	}
	c = find(p, argv[1]);
	if (!c) {
		fprintf(stderr, "%s: unknown command '%s'; see '%s --help'\n", p->name, argv[1],
			p->name);
		return CLI_EXIT_USAGE;
	}
	if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
		fputs(c->usage, stdout);
		return CLI_EXIT_OK;
	}
	return c->run(argc - 1, argv + 1);
}

int cli_fail(const char *prog, int code, const struct ng_err *err)
{
	fprintf(stderr, "%s: %s\n", prog, err && err->msg[0] ? err->msg : ng_code_name(code));
	return code == NG_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int cli_usage_error(const char *prog, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", prog, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", prog, cmd);
	return CLI_EXIT_USAGE;
}

int cli_has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], flag))
			return 1;
	}
	return 0;
}
