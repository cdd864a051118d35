/*
 * vifwalld's command line, applied over the configuration file (daemon_config.c does
 * the file and the checks both share). Every mistake is refused before anything
 * starts, with a message naming the argument (or FILE:LINE) at fault and what a good
 * one looks like: a daemon that half-starts on a typo in a guest's address would
 * forward that guest unfiltered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "appliance/daemon_config.h"

static const char usage[] =
	"usage: vifwalld [--config FILE] [--check-config]\n"
	"                --rules RULES.nft --uplink IFNAME\n"
	"                [--port IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off]]...\n"
	"                [--ctl SOCKET] [--ring-blocks N] [--ring-retire-ms MS]\n"
	"                [--workers N] [-v]\n"
	"\n"
	"Forwards and filters frames between the uplink and the guest ports with the\n"
	"forward chain of RULES.nft (table inet vifwall).\n"
	"\n"
	"  --config FILE    read the settings from FILE (default " APP_DAEMON_CONFIG_DEFAULT ",\n"
	"                   read only when it exists); the options below override it.\n"
	"                   --rules and --uplink may then come from the file\n"
	"  --check-config   print the settings file and options make, then exit\n"
	"  --rules FILE     the ruleset; refused at start with nft's file:line when bad\n"
	"  --uplink IFNAME  the port toward the outside (never anti-spoofed)\n"
	"  --port SPEC      a guest port; repeat for every guest. SPEC is the device name,\n"
	"                   then comma-separated: mac=MAC (the guest's MAC), ip=ADDR (IPv4\n"
	"                   or IPv6, repeat for several), antispoof=off. Anti-spoofing is\n"
	"                   on when ip= is given. A port the file also names takes\n"
	"                   this SPEC instead of the file's settings.\n"
	"  --ctl SOCKET     serve the control protocol (vifwall load/show/ports/stats)\n"
	"                   on this unix socket, e.g. /run/vifwall/ctl\n"
	"  --ring-blocks N  each port's receive ring: N blocks of 128 KiB, 4 to 4096\n"
	"                   (default 256: 32 MiB a port; a 128 MiB appliance wants 32),\n"
	"                   shared out among the workers\n"
	"  --ring-retire-ms MS  how long a partly filled receive block waits for more\n"
	"                   frames, 1 to 100 (default 4): the latency a quiet port adds,\n"
	"                   against one wake-up and one timer interrupt per block\n"
	"  --workers N      forwarding threads, 1 to 16; 0 (default): one per online CPU.\n"
	"                   Every port's flows are spread over them (PACKET_FANOUT)\n"
	"  -v, --verbose    log debug messages\n"
	"\n"
	"Signals: TERM/INT stop, HUP reloads RULES.nft, USR1 logs the counters.\n"
	"Exit status: 0 stopped, 1 could not start, 2 bad options or configuration.\n"
	"See vifwalld(8) for the configuration file.\n";

static int bad(const char *fmt, const char *a, const char *b)
{
	fputs("vifwalld: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputs(" (see vifwalld --help)\n", stderr);
	return -EINVAL;
}

/* @opt's value @val: a decimal number from @min to @max into *@out, else -EINVAL with
 * the message said. */
static int num_opt(const char *opt, const char *val, unsigned min, unsigned max, unsigned *out)
{
	char msg[160];
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(val, &end, 10);
	if (!isdigit((unsigned char)*val) || *end || errno || n < min || n > max) {
		snprintf(msg, sizeof(msg), "%s '%.40s' is not a number from %u to %u", opt, val,
			 min, max);
		return bad("%s%s", msg, "");
	}
	*out = (unsigned)n;
	return 0;
}

/* IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off]: a new port, or the file's port of
 * that name said again from scratch (the file's are ports[1] to [@nfile - 1]). */
static int port_parse(struct app_daemon_config *cfg, unsigned nfile, const char *spec)
{
	char buf[512], err[512], *save = NULL, *tok;
	struct app_daemon_port *p;
	unsigned before = cfg->nports;

	if (strlen(spec) >= sizeof(buf))
		return bad("--port '%.40s...' is too long%s", spec, "");
	strcpy(buf, spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || buf[0] == ',')
		return bad("--port '%s' names no device%s", spec, "");
	if (app_daemon_config_port(cfg, tok, true, &p, err, sizeof(err)) < 0)
		return bad("--port '%s': %s", spec, err);
	if (cfg->nports == before && p >= cfg->ports + nfile)
		return bad("port '%s' is given twice%s", tok, "");
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');

		if (!val)
			return bad("'%s' in '%s' is not KEY=VALUE (mac=, ip=, antispoof=)", tok,
				   spec);
		*val++ = '\0';
		if (app_daemon_config_port_set(p, tok, val, err, sizeof(err)) < 0)
			return bad("--port '%s': %s", spec, err);
	}
	return 0;
}

/* Read --config FILE, or the default file when there is one. */
static int config_file(struct app_daemon_config *cfg, const char *path)
{
	char err[1024];
	int rc = app_daemon_config_read(path ? path : APP_DAEMON_CONFIG_DEFAULT, cfg, err,
					sizeof(err));

	if (rc == -ENOENT && !path)
		return 0;
	if (rc == -ENOENT)
		return bad("--config %s: no such file%s", path, "");
	if (rc < 0) {
		fprintf(stderr, "vifwalld: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

int app_daemon_args_parse(int argc, char **argv, struct app_daemon_config *cfg)
{
	static const struct option longopts[] = {
		{"rules", required_argument, NULL, 'r'},
		{"uplink", required_argument, NULL, 'u'},
		{"port", required_argument, NULL, 'p'},
		{"ctl", required_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"ring-blocks", required_argument, NULL, 'b'},
		{"ring-retire-ms", required_argument, NULL, 'R'},
		{"workers", required_argument, NULL, 'w'},
		{"config", required_argument, NULL, 'f'},
		{"check-config", no_argument, NULL, 'C'},
		{0},
	};
	/* What the command line says, applied over the file once it is read. */
	const char *uplink = NULL, *rules = NULL, *ctl = NULL, *config = NULL;
	const char *portspecs[NB_MAX_PORTS];
	unsigned nspecs = 0, ring_blocks = 0, retire_ms = 0;
	unsigned workers = 0;
	bool workers_set = false;
	int c, rc, verbosity = 0;
	bool check = false;
	char err[512];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules = optarg;
			break;
		case 'u':
			if (uplink)
				return bad("--uplink is given twice ('%s', '%s')", uplink, optarg);
			uplink = optarg;
			break;
		case 'p':
			if (nspecs == NB_MAX_PORTS - 1)
				return bad("more than %s guest ports%s", "63", "");
			portspecs[nspecs++] = optarg;
			break;
		case 'c':
			ctl = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'f':
			config = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'b':
			if (num_opt("--ring-blocks", optarg, 4, 4096, &ring_blocks) < 0)
				return -EINVAL;
			break;
		case 'R':
			if (num_opt("--ring-retire-ms", optarg, 1, 100, &retire_ms) < 0)
				return -EINVAL;
			break;
		case 'w':
			if (num_opt("--workers", optarg, 0, NB_MAX_WORKERS, &workers) < 0)
				return -EINVAL;
			workers_set = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("vifwalld %s\n", VIFWALL_VERSION);
			return 1;
		case ':':
			return bad("%s needs a value%s", argv[optind - 1], "");
		default:
			return bad("unknown option '%s'%s", argv[optind - 1], "");
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'%s", argv[optind], "");
	app_daemon_config_init(cfg);
	if ((rc = config_file(cfg, config)) < 0)
		return rc;
	if (rules)
		cfg->rules = rules;
	if (ctl)
		cfg->ctl = ctl;
	if (verbosity)
		cfg->verbosity = verbosity;
	if (ring_blocks)
		cfg->port.ring_blocks = ring_blocks;
	if (retire_ms)
		cfg->port.retire_ms = retire_ms;
	if (workers_set)
		cfg->workers = workers;
	if (uplink && app_daemon_config_set_uplink(cfg, uplink, err, sizeof(err)) < 0)
		return bad("--uplink: %s%s", err, "");
	for (unsigned i = 0, nfile = cfg->nports; i < nspecs; i++)
		if ((rc = port_parse(cfg, nfile, portspecs[i])) < 0)
			return rc;
	if (app_daemon_config_check(cfg, err, sizeof(err)) < 0)
		return bad("%s%s", err, "");
	if (check) {
		app_daemon_config_print(cfg, stdout);
		return 1;
	}
	return 0;
}
