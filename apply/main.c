/* nutapply: the online half. It verifies a bundle before it makes any network
 * request, then brings Azure to the state the bundle describes; see
 * docs/architecture.md. Kept small enough to audit: it links no code that only
 * nutgen needs (no libcryptsetup, no ext4). */
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
	    "nutapply",
	    "Applies a signed nutgen bundle to Azure: verifies it, uploads the encrypted volume,\n"
	    "sets the key release policy, deploys and restarts the container group, and checks\n"
	    "that the live mint attests to the bundle's hostdata.",
	    cmds, (int)(sizeof(cmds) / sizeof(cmds[0])) - 1};

	return cli_main(&prog, argc, argv);
}
