/* vifwall show: the running ruleset as written, with each rule's handle and counters. */
#include <stdio.h>

#include "appliance/commands.h"

static int show_run(const struct app_global_opts *g, int argc, char **argv)
{
	json_t *res;

	(void)argv;
	if (argc != 1) {
		app_cmd_print_help(&app_cmd_show, stderr);
		return 2;
	}
	if (app_cli_call(g, "show", NULL, &res))
		return 1;
	printf("# %s (generation %lld)\n%s", json_string_value(json_object_get(res, "name")),
	       json_integer_value(json_object_get(res, "generation")),
	       json_string_value(json_object_get(res, "text")));
	json_decref(res);
	return 0;
}

const struct app_cmd app_cmd_show = {
	.name = "show",
	.summary = "show the running ruleset with live rule counters",
	.usage = "show",
	.help = "Prints the ruleset vifwalld runs, as it was written, each rule followed by\n"
		"# handle N [packets P bytes B] when the rule has a counter.\n",
	.run = show_run,
};
