/* Help text shared by every command of the CLI. */
#include <string.h>

#include "appliance/cli.h"

void app_cmd_print_help(const struct app_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: vifwall %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help && cmd->help[0])
		fprintf(out, "\n%s", cmd->help);
}

int app_cmd_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}
