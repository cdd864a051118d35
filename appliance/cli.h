/*
 * The command-line tool's command table. Each command is one struct app_cmd in
 * the table of appliance/vifwall.c: its name, a one-line summary, its usage and
 * option help, and the handler that runs it. Only commands that work are listed.
 */
#ifndef VIFWALL_APPLIANCE_CLI_H
#define VIFWALL_APPLIANCE_CLI_H

#include <jansson.h>
#include <signal.h>
#include <stdio.h>

/* Options common to every command, parsed before the command name. */
struct app_global_opts {
	const char *ctl_path; /* --ctl SOCKET: vifwalld's unix control socket */
	const char *domain;   /* -d DOMAIN: the appliance domain, from dom0 */
};

struct app_cmd {
	const char *name;
	const char *summary; /* one line for `vifwall --help` */
	const char *usage;   /* "check RULES.nft" */
	const char *help;    /* option lines and details for `vifwall CMD --help` */
	/* argv[0] is the command name. Returns the process exit status. */
	int (*run)(const struct app_global_opts *g, int argc, char **argv);
};

/* Print `vifwall CMD --help` for @cmd to @out. */
void app_cmd_print_help(const struct app_cmd *cmd, FILE *out);

/* True when argv holds -h or --help (commands call this before parsing). */
int app_cmd_wants_help(int argc, char **argv);

struct app_ctl_client;

/* Connect to vifwalld: over the vchan of @g->domain when set (dom0), else its unix
 * socket @g->ctl_path. Returns 0 and *@out, or -errno and *@err (malloc'd) saying what
 * to do. */
int app_cli_connect(const struct app_global_opts *g, struct app_ctl_client **out, char **err);

/*
 * Send @cmd with @args (stolen; NULL for none) to vifwalld through @g's control
 * socket and wait for the answer. Returns 0 and *result (json_decref() it), or 1
 * after printing to stderr why (vifwalld not running, its error message...).
 */
int app_cli_call(const struct app_global_opts *g, const char *cmd, json_t *args, json_t **result);

/* For commands that stream until stopped (capture, trace): Ctrl-C or SIGTERM sets
 * app_cli_stop and the command ends cleanly; a second Ctrl-C kills as usual. */
extern volatile sig_atomic_t app_cli_stop;
void app_cli_catch_stop(void);

#endif
