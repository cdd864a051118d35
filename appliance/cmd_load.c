/*
 * vifwall load RULES.nft: send a ruleset to the running vifwalld. The daemon compiles
 * it beside the running one and swaps only on success; on failure nft's error comes
 * back with file:line and the old rules keep running.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/commands.h"

static int load_run(const struct app_global_opts *g, int argc, char **argv)
{
	char *text = NULL;
	size_t cap = 0;
	json_t *res, *str;
	FILE *f;
	int rc;

	if (argc != 2) {
		app_cmd_print_help(&app_cmd_load, stderr);
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		fprintf(stderr, "vifwall load: cannot read %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	str = json_string(text);
	free(text);
	if (!str) {
		fprintf(stderr, "vifwall load: %s is not UTF-8 text\n", argv[1]);
		return 1;
	}
	rc = app_cli_call(g, "load", json_pack("{s:s, s:o}", "name", argv[1], "text", str), &res);
	if (rc)
		return rc;
	printf("%s: loaded: %lld chains, %lld rules, %lld sets, %lld elements (generation %lld)\n",
	       argv[1], json_integer_value(json_object_get(res, "chains")),
	       json_integer_value(json_object_get(res, "rules")),
	       json_integer_value(json_object_get(res, "sets")),
	       json_integer_value(json_object_get(res, "elements")),
	       json_integer_value(json_object_get(res, "generation")));
	json_decref(res);
	return 0;
}

const struct app_cmd app_cmd_load = {
	.name = "load",
	.summary = "load a ruleset into the running vifwalld, atomically",
	.usage = "load RULES.nft",
	.help = "Sends RULES.nft to vifwalld, which compiles it beside the running ruleset and\n"
		"swaps it in at once; established flows the new rules allow lose no packet.\n"
		"On an error (nft's message with file:line) the running rules stay. The file\n"
		"travels as text: `include` statements cannot be followed.\n",
	.run = load_run,
};
