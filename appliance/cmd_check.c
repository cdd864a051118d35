/*
 * vifwall check RULES.nft: have the kernel judge the ruleset and the engine
 * compile it, exactly as a live load would, without touching a running appliance.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "appliance/commands.h"
#include "filters/ruleset.h"

static int check_run(const struct app_global_opts *g, int argc, char **argv)
{
	struct flt_load_opts opts = {0};
	struct flt_ruleset_stats st;
	struct flt_ruleset *rs;
	char *err = NULL;
	int rc;

	(void)g;
	if (argc != 2) {
		app_cmd_print_help(&app_cmd_check, stderr);
		return 2;
	}
	opts.path = argv[1];
	rc = flt_ruleset_load(&opts, &rs, &err);
	if (rc < 0) {
		fprintf(stderr, "%s", err ? err : "vifwall: cannot load the ruleset\n");
		free(err);
		return 1;
	}
	flt_ruleset_get_stats(rs, &st);
	printf("%s: ok: %u chains, %u rules, %u sets, %u elements\n", argv[1], st.chains, st.rules,
	       st.sets, st.elements);
	flt_ruleset_free(rs);
	return 0;
}

const struct app_cmd app_cmd_check = {
	.name = "check",
	.summary = "check a ruleset: the kernel's nft parser, then vifwall's compiler",
	.usage = "check RULES.nft",
	.help = "Loads RULES.nft into the kernel's nftables inside a private network namespace,\n"
		"then compiles it as vifwalld would. Prints one summary line and exits 0, or\n"
		"prints the error with file:line and exits 1.\n",
	.run = check_run,
};
