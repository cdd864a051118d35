/*
 * vifwall reattach [--watch] [--appliance NAME] [--state FILE] [--xl PROGRAM]: dom0's
 * recovery service for the appliance's guests (appliance/reattach.h).
 */
#include <getopt.h>
#include <stdio.h>

#include "appliance/commands.h"
#include "appliance/reattach.h"

static int reattach_main(const struct app_global_opts *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"watch", no_argument, NULL, 'w'},
		{"appliance", required_argument, NULL, 'a'},
		{"state", required_argument, NULL, 's'},
		{"xl", required_argument, NULL, 'x'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	struct app_reattach_opts o = {
		.appliance = g->domain ? g->domain : "vifwall",
		.state = APP_REATTACH_STATE,
		.xl = "xl",
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "wa:s:x:v", longopts, NULL)) != -1) {
		switch (c) {
		case 'w':
			o.watch = true;
			break;
		case 'a':
			o.appliance = optarg;
			break;
		case 's':
			o.state = optarg;
			break;
		case 'x':
			o.xl = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		default:
			app_cmd_print_help(&app_cmd_reattach, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		app_cmd_print_help(&app_cmd_reattach, stderr);
		return 2;
	}
	return app_reattach_run(&o);
}

const struct app_cmd app_cmd_reattach = {
	.name = "reattach",
	.summary = "dom0: give guests their vifs back when the appliance restarts",
	.usage = "reattach [--watch] [--appliance NAME] [--state FILE] [--xl PROGRAM] [-v]",
	.help = "Runs in dom0. Records every vif the appliance serves (guest, devid, mac, ip,\n"
		"vifname, rate, mtu, model) in the state file. When a domain of the appliance's\n"
		"name runs again and its vifwalld is up, each vif whose guest still runs but "
		"whose\n"
		"frontend still names the dead backend is detached and attached again with the\n"
		"recorded settings (xl network-detach / network-attach).\n"
		"  --watch           keep running, woken by xenstore watches (the service)\n"
		"  --appliance NAME  the appliance's domain name (default vifwall, or -d DOMAIN)\n"
		"  --state FILE      the record (default " APP_REATTACH_STATE ")\n"
		"  --xl PROGRAM      the xl to run (default xl, from PATH)\n"
		"  -v, --verbose     log every xl run and every change of the record\n",
	.run = reattach_main,
};
