/* cli.h: the command-line frame both programs share: git-style dispatch of
 * one subcommand per file, --help/--version, and the exit status contract
 * (0 success, 1 failure, 2 usage error) documented in docs/cli.md. */
#ifndef NG_CLI_H
#define NG_CLI_H

#include "err.h"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv); /* returns an exit status */
	const char *summary;		   /* one line for the program's --help */
	const char *usage;		   /* full text for `PROG CMD --help` */
};

struct cli_prog {
	const char *name;
	const char *summary;
	const struct cli_cmd *cmds;
	int ncmds;
};

/* Runs argv[1] as a subcommand. Handles --help, --version, `help CMD` and
 * `CMD --help` itself, so that every subcommand has help by construction. */
int cli_main(const struct cli_prog *prog, int argc, char **argv);

/* Prints "PROG: message" on stderr and returns the exit status for code
 * (2 for NG_EUSAGE, 1 otherwise). */
int cli_fail(const char *prog, int code, const struct ng_err *err);
/* Prints "PROG CMD: message\nTry 'PROG CMD --help'." and returns 2. */
int cli_usage_error(const char *prog, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when any argv element after the command is --quiet or -q. */
int cli_has_flag(int argc, char **argv, const char *flag);

extern const char *cli_version;

#endif
