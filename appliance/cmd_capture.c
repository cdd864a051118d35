/*
 * vifwall capture: frames vifwalld receives on and sends out of one port, picked by
 * a pcap-filter expression that vifwalld compiles and runs (only matching frames
 * cross the control channel), written as a pcap file with libpcap or printed one
 * line each. Ctrl-C ends it with the file complete.
 */
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "appliance/commands.h"
#include "appliance/ctl_client.h"
#include "appliance/frame_summary.h"
#include "appliance/tap_proto.h"

struct sink {
	pcap_t *dead;
	pcap_dumper_t *dump; /* NULL: print text */
	const char *port;
	uint64_t frames, max, dropped;
};

static void record_print(struct sink *s, const struct app_caprec *r)
{
	char line[512], when[32] = "?";
	time_t sec = (time_t)r->sec;
	struct tm tm;

	if (localtime_r(&sec, &tm))
		snprintf(when, sizeof(when), "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, r->nsec / 1000u);
	printf("%s %s %-3s %s\n", when, s->port, r->dir == APP_CAPREC_RX ? "In" : "Out",
	       app_frame_summary(r->data, r->caplen, r->len, line, sizeof(line)));
}

/* Write or print every record of one raw chunk. Returns 0 or -EBADMSG. */
static int chunk_take(struct sink *s, const uint8_t *data, size_t len)
{
	struct app_caprec r;
	size_t off = 0;
	int rc;

	while ((rc = app_caprec_next(data, len, &off, &r)) == 1) {
		if (s->max && s->frames == s->max)
			return 0;
		s->frames++;
		if (s->dump) {
			struct pcap_pkthdr h = {
				.ts = {.tv_sec = r.sec, .tv_usec = (suseconds_t)(r.nsec / 1000u)},
				.caplen = r.caplen,
				.len = r.len,
			};
			pcap_dump((u_char *)s->dump, &h, r.data);
		} else {
			record_print(s, &r);
		}
	}
	if (s->dump)
		pcap_dump_flush(s->dump);
	else
		fflush(stdout);
	return rc;
}

/* Read the stream to its end, Ctrl-C, or a failure. Returns the exit status. */
static int stream_read(struct app_ctl_client *c, struct sink *s)
{
	struct app_ctl_chunk ch;
	json_t *end = NULL, *v;
	char *err = NULL;
	int rc;

	while (!(s->max && s->frames == s->max)) {
		rc = app_ctl_client_stream_next(c, &ch, &end, &err);
		if (rc == 0) {
			v = json_object_get(end, "dropped");
			if (json_is_integer(v))
				s->dropped = (uint64_t)json_integer_value(v);
			json_decref(end);
			return 0;
		}
		if (rc < 0) {
			if (!app_cli_stop)
				fprintf(stderr, "vifwall capture: %s\n", err ? err : strerror(-rc));
			free(err);
			return app_cli_stop ? 0 : 1;
		}
		if (ch.json) {
			v = json_object_get(ch.json, "dropped");
			if (json_is_integer(v))
				s->dropped = (uint64_t)json_integer_value(v);
		} else if (chunk_take(s, ch.data, ch.len) < 0) {
			app_ctl_chunk_clear(&ch);
			fprintf(stderr,
				"vifwall capture: vifwalld sent a malformed capture record\n");
			return 1;
		}
		app_ctl_chunk_clear(&ch);
	}
	return 0;
}

static int capture_run(const struct app_global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{"write", required_argument, NULL, 'w'},
		{"count", required_argument, NULL, 'c'},
		{"snaplen", required_argument, NULL, 's'},
		{NULL, 0, NULL, 0},
	};
	struct app_capture_req req = {.snaplen = APP_CAPTURE_SNAPLEN_MAX};
	struct sink s = {0};
	struct app_ctl_client *c = NULL;
	const char *file = NULL;
	char *expr = NULL, *err = NULL, *end;
	size_t elen = 0;
	json_t *args, *res = NULL;
	int opt, rc, status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "w:c:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			file = optarg;
			break;
		case 'c':
		case 's': {
			unsigned long long n;

			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (errno || *end || optarg[0] == '-' || !n ||
			    n > (opt == 'c' ? APP_CAPTURE_COUNT_MAX : APP_CAPTURE_SNAPLEN_MAX)) {
				fprintf(stderr,
					"vifwall capture: -%c wants a number from 1 to %u\n", opt,
					opt == 'c' ? APP_CAPTURE_COUNT_MAX
						   : APP_CAPTURE_SNAPLEN_MAX);
				return 2;
			}
			if (opt == 'c')
				req.count = n;
			else
				req.snaplen = (uint32_t)n;
			break;
		}
		default:
			app_cmd_print_help(&app_cmd_capture, stderr);
			return 2;
		}
	}
	if (optind >= argc || strlen(argv[optind]) >= sizeof(req.port) || !argv[optind][0]) {
		app_cmd_print_help(&app_cmd_capture, stderr);
		return 2;
	}
	memcpy(req.port, argv[optind], strlen(argv[optind]) + 1);
	/* The expression is every word after PORT, as tcpdump takes it. */
	for (int i = optind + 1; i < argc; i++)
		elen += strlen(argv[i]) + 1;
	expr = calloc(1, elen + 1);
	if (!expr)
		return 1;
	for (int i = optind + 1; i < argc; i++) {
		if (i > optind + 1)
			strcat(expr, " ");
		strcat(expr, argv[i]);
	}
	req.filter = expr;
	if (file && !strcmp(file, "-") && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "vifwall capture: not writing pcap to a terminal; "
				"pipe -w - into a program, or leave -w out to print frames\n");
		free(expr);
		return 2;
	}

	app_cli_catch_stop();
	args = app_capture_req_build(&req);
	rc = args ? app_cli_connect(g, &c, &err) : -ENOMEM;
	if (rc == 0) {
		app_ctl_client_set_interrupt(c, &app_cli_stop);
		rc = app_ctl_client_call_stream(c, "capture", args, &res, &err);
	}
	json_decref(args);
	if (rc < 0) {
		fprintf(stderr, "vifwall capture: %s\n",
			app_cli_stop ? "interrupted"
			: err	     ? err
				     : strerror(-rc));
		status = 1;
		goto out;
	}
	s.port = req.port;
	s.max = req.count;
	if (file) {
		s.dead = pcap_open_dead(DLT_EN10MB, (int)req.snaplen);
		s.dump = s.dead ? pcap_dump_open(s.dead, file) : NULL;
		if (!s.dump) {
			fprintf(stderr, "vifwall capture: cannot write %s: %s\n", file,
				s.dead ? pcap_geterr(s.dead) : "out of memory");
			status = 1;
			goto out;
		}
	} else {
		setvbuf(stdout, NULL, _IOLBF, 0);
	}
	if (!file || strcmp(file, "-"))
		fprintf(stderr, "vifwall capture: listening on %s%s%s\n", req.port,
			expr[0] ? ", filter: " : "", expr);
	status = stream_read(c, &s);
	fprintf(stderr, "%llu packets captured\n%llu packets dropped by vifwalld\n",
		(unsigned long long)s.frames, (unsigned long long)s.dropped);
out:
	if (s.dump)
		pcap_dump_close(s.dump);
	if (s.dead)
		pcap_close(s.dead);
	json_decref(res);
	app_ctl_client_free(c);
	free(err);
	free(expr);
	return status;
}

const struct app_cmd app_cmd_capture = {
	.name = "capture",
	.summary = "capture the frames of one port (pcap file, or one line each)",
	.usage = "capture PORT [-w FILE] [-c N] [-s SNAPLEN] [EXPR]",
	.help = "  PORT          a port of `vifwall ports` (a guest vif or the uplink); the\n"
		"                frames vifwalld receives on it and sends out of it\n"
		"  EXPR          a pcap-filter(7) expression, as tcpdump takes it (\"icmp\",\n"
		"                \"host 10.0.0.1 and tcp port 80\"); vifwalld runs it, so only\n"
		"                matching frames cross the control channel\n"
		"  -w FILE       write a pcap file (tcpdump -r, Wireshark); -w - writes it to\n"
		"                stdout (not a terminal). Without -w: one line per frame\n"
		"  -c N          stop after N frames\n"
		"  -s SNAPLEN    keep at most SNAPLEN bytes of each frame (default and most:\n"
		"                65535)\n\n"
		"Ctrl-C stops the capture; the file is complete. A client that cannot keep up\n"
		"loses frames rather than slowing vifwalld: how many is printed at the end\n"
		"(\"packets dropped by vifwalld\"). Exit status 1 for an unknown port, a bad\n"
		"EXPR (libpcap's message) or a lost connection.\n",
	.run = capture_run,
};
