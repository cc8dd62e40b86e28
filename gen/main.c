/* nutgen: the offline half. Everything it does runs on an air-gapped machine
 * without network, Docker or root; see docs/architecture.md. */
#include "../bundle-format/cli.h"

#define CMD(n, f, s)                                                                               \
	int f(int, char **);                                                                       \
	extern const char f##_usage[];
#include "commands.h"
#undef CMD

static const struct cli_cmd cmds[] = {
#define CMD(n, f, s) {n, f, s, f##_usage},
#include "commands.h"
#undef CMD
    {0, 0, 0, 0}};

int main(int argc, char **argv)
{
	static const struct cli_prog prog = {
	    "nutgen",
	    "Builds signed deployment bundles for a Cashu Nutshell mint in an Azure confidential\n"
	    "container group, offline: CCE policy, hostdata, ARM template, key release policy and\n"
	    "the LUKS2-encrypted volume image.",
	    cmds, (int)(sizeof(cmds) / sizeof(cmds[0])) - 1};

	return cli_main(&prog, argc, argv);
}
