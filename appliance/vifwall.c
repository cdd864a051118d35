/*
 * vifwall: the command-line tool. Offline commands (check, replay) work on files;
 * the others talk to vifwalld, over its unix socket inside the appliance or over
 * a vchan from dom0 (-d DOMAIN). This file holds main() and the command table.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/commands.h"

static const struct app_cmd *const commands[] = {
	&app_cmd_check, &app_cmd_replay,   &app_cmd_load,    &app_cmd_show,  &app_cmd_ports,
	&app_cmd_stats, &app_cmd_reattach, &app_cmd_capture, &app_cmd_trace,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: vifwall [-d DOMAIN | --ctl SOCKET] COMMAND [ARGS]\n"
		     "       vifwall --help | --version\n"
		     "       vifwall COMMAND --help\n\n"
		     "vifwall controls a vifwall appliance and works with its filter rules.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(out, "\nOptions:\n"
		     "  -d DOMAIN     from dom0: the appliance's domain (name or domid), over\n"
		     "                its vchan\n"
		     "  --ctl SOCKET  vifwalld's control socket (default /run/vifwall/ctl)\n"
		     "  -h, --help    this help\n"
		     "  --version     print the version\n");
}

int main(int argc, char **argv)
{
	struct app_global_opts g = {.ctl_path = "/run/vifwall/ctl"};
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("vifwall %s\n", VIFWALL_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--ctl") && i + 1 < argc) {
			g.ctl_path = argv[++i];
		} else if ((!strcmp(argv[i], "-d") || !strcmp(argv[i], "--domain")) &&
			   i + 1 < argc) {
			g.domain = argv[++i];
		} else {
			fprintf(stderr, "vifwall: unknown option '%s' (see vifwall --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (size_t c = 0; c < N_COMMANDS; c++) {
		if (strcmp(argv[i], commands[c]->name))
			continue;
		if (app_cmd_wants_help(argc - i, argv + i)) {
			app_cmd_print_help(commands[c], stdout);
			return 0;
		}
		return commands[c]->run(&g, argc - i, argv + i);
	}
	fprintf(stderr, "vifwall: unknown command '%s' (see vifwall --help)\n", argv[i]);
	return 2;
}
