/* Help text and the call to vifwalld, shared by every command of the CLI. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/cli.h"
#include "appliance/ctl_client.h"

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

int app_cli_call(const struct app_global_opts *g, const char *cmd, json_t *args, json_t **result)
{
	struct app_ctl_client *c = NULL;
	char *err = NULL;
	int rc;

	if (!args)
		args = json_object();
	rc = app_cli_connect(g, &c, &err);
	if (rc == 0)
		rc = app_ctl_client_call(c, cmd, args, result, &err);
	json_decref(args);
	app_ctl_client_free(c);
	if (rc < 0) {
		fprintf(stderr, "vifwall %s: %s\n", cmd, err ? err : strerror(-rc));
		free(err);
		return 1;
	}
	return 0;
}

volatile sig_atomic_t app_cli_stop;

static void on_stop_signal(int sig)
{
	(void)sig;
	app_cli_stop = 1;
}

void app_cli_catch_stop(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal, .sa_flags = SA_RESETHAND};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
