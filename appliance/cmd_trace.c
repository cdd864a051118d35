/*
 * vifwall trace: every frame vifwalld drops, as it happens, one line each: time,
 * port, the drop counter's reason, for a rule's drop the rule (file:line, handle),
 * and what the frame was. Ctrl-C ends it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/commands.h"
#include "appliance/ctl_client.h"
#include "appliance/tap_proto.h"

static int trace_run(const struct app_global_opts *g, int argc, char **argv)
{
	struct app_ctl_client *c = NULL;
	uint64_t count = 0, shown = 0, dropped = 0;
	struct app_ctl_chunk ch;
	json_t *args, *res = NULL, *v;
	char *err = NULL, *end, line[1024];
	int opt, rc, status = 0;

	optind = 1;
	while ((opt = getopt(argc, argv, "c:")) != -1) {
		unsigned long long n;

		if (opt != 'c') {
			app_cmd_print_help(&app_cmd_trace, stderr);
			return 2;
		}
		errno = 0;
		n = strtoull(optarg, &end, 10);
		if (errno || *end || optarg[0] == '-' || !n || n > APP_CAPTURE_COUNT_MAX) {
			fprintf(stderr, "vifwall trace: -c wants a number from 1 to %u\n",
				APP_CAPTURE_COUNT_MAX);
			return 2;
		}
		count = n;
	}
	if (optind != argc) {
		app_cmd_print_help(&app_cmd_trace, stderr);
		return 2;
	}
	app_cli_catch_stop();
	setvbuf(stdout, NULL, _IOLBF, 0);
	args = json_pack("{s:I}", "count", (json_int_t)count);
	rc = args ? app_cli_connect(g, &c, &err) : -ENOMEM;
	if (rc == 0) {
		app_ctl_client_set_interrupt(c, &app_cli_stop);
		rc = app_ctl_client_call_stream(c, "trace", args, &res, &err);
	}
	json_decref(args);
	json_decref(res);
	while (rc == 0 && !(count && shown == count)) {
		rc = app_ctl_client_stream_next(c, &ch, &res, &err);
		if (rc == 0) {
			v = json_object_get(res, "dropped");
			if (json_is_integer(v))
				dropped = (uint64_t)json_integer_value(v);
			json_decref(res);
			break;
		}
		if (rc < 0)
			break;
		rc = 0;
		v = json_object_get(ch.json, "dropped");
		if (json_is_integer(v)) {
			dropped = (uint64_t)json_integer_value(v);
		} else if (ch.json) {
			puts(app_trace_format(ch.json, line, sizeof(line)));
			shown++;
		}
		app_ctl_chunk_clear(&ch);
	}
	if (rc < 0 && !app_cli_stop) {
		fprintf(stderr, "vifwall trace: %s\n", err ? err : strerror(-rc));
		status = 1;
	}
	if (c)
		fprintf(stderr, "%llu drops shown\n%llu drops not shown (the client fell behind)\n",
			(unsigned long long)shown, (unsigned long long)dropped);
	app_ctl_client_free(c);
	free(err);
	return status;
}

const struct app_cmd app_cmd_trace = {
	.name = "trace",
	.summary = "print the frames vifwalld drops as it drops them, with reason and rule",
	.usage = "trace [-c N]",
	.help = "  -c N   stop after N drops\n\n"
		"One line per dropped frame: time, ingress port (> egress port for a rule's\n"
		"drop), the reason as `vifwall stats` counts it (rule, spoof-ip4, malformed...),\n"
		"for a rule its file:line, handle, chain and text (or the chain's policy), and\n"
		"the frame (addresses, protocol, ports). Drops at transmit (tx) and in the\n"
		"receive ring (truncated, ring drops) are counted by `vifwall stats` only.\n"
		"A trace that cannot keep up loses lines rather than slowing vifwalld; how many\n"
		"is printed at the end. Ctrl-C stops it.\n",
	.run = trace_run,
};
