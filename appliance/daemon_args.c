/*
 * vifwalld's command line. Every mistake is refused before anything starts, with a
 * message naming the argument at fault and what a good one looks like: a daemon that
 * half-starts on a typo in a guest's address would forward that guest unfiltered.
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

#include "appliance/daemon.h"

static const char usage[] =
	"usage: vifwalld --rules RULES.nft --uplink IFNAME\n"
	"                [--port IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off]]...\n"
	"                [--ctl SOCKET] [--ring-blocks N] [-v]\n"
	"\n"
	"Forwards and filters frames between the uplink and the guest ports with the\n"
	"forward chain of RULES.nft (table inet vifwall).\n"
	"\n"
	"  --rules FILE     the ruleset; refused at start with nft's file:line when bad\n"
	"  --uplink IFNAME  the port toward the outside (never anti-spoofed)\n"
	"  --port SPEC      a guest port; repeat for every guest. SPEC is the device name,\n"
	"                   then comma-separated: mac=MAC (the guest's MAC), ip=ADDR (IPv4\n"
	"                   or IPv6, repeat for several), antispoof=off. Anti-spoofing is\n"
	"                   on when ip= is given.\n"
	"  --ctl SOCKET     serve the control protocol (vifwall load/show/ports/stats)\n"
	"                   on this unix socket, e.g. /run/vifwall/ctl\n"
	"  --ring-blocks N  each port's receive ring: N blocks of 128 KiB, 4 to 4096\n"
	"                   (default 256: 32 MiB a port; a 128 MiB appliance wants 32)\n"
	"  -v, --verbose    log debug messages\n"
	"\n"
	"Signals: TERM/INT stop, HUP reloads RULES.nft, USR1 logs the counters.\n";

static int bad(const char *fmt, const char *a, const char *b)
{
	fputs("vifwalld: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputs(" (see vifwalld --help)\n", stderr);
	return -EINVAL;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= NB_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ',' || isspace((unsigned char)*s))
			return false;
	return true;
}

static int port_add_name(struct app_daemon_config *cfg, const char *name, const char *spec)
{
	if (!ifname_ok(name))
		return bad("'%s' in '%s' is not a device name (1 to 15 characters, no '/', ':', "
			   "',' or spaces)",
			   name, spec);
	for (unsigned i = 0; i < cfg->nports; i++)
		if (!strcmp(cfg->ports[i].name, name))
			return bad("port '%s' is given twice%s", name, "");
	if (cfg->nports == NB_MAX_PORTS)
		return bad("more than %s ports%s", "64", "");
	strcpy(cfg->ports[cfg->nports].name, name);
	nb_antispoof_init(&cfg->ports[cfg->nports].as, NULL);
	cfg->nports++;
	return 0;
}

static int port_opt_mac(struct app_daemon_port *p, const char *val, const char *spec)
{
	struct ether_addr ea;
	struct nb_antispoof as;

	if (!ether_aton_r(val, &ea))
		return bad("mac '%s' in '%s' is not a MAC address (write it as 00:16:3e:00:00:01)",
			   val, spec);
	if (p->as.have_mac)
		return bad("'%s' gives mac= twice%s", spec, "");
	if (nb_antispoof_init(&as, ea.ether_addr_octet) < 0)
		return bad("mac '%s' in '%s' is multicast or zero: no guest can own it", val, spec);
	/* Keep addresses given before mac=. */
	as.enabled = p->as.enabled;
	as.n4 = p->as.n4;
	as.n6 = p->as.n6;
	memcpy(as.ip4, p->as.ip4, sizeof(as.ip4));
	memcpy(as.ip6, p->as.ip6, sizeof(as.ip6));
	p->as = as;
	return 0;
}

static int port_opt_ip(struct app_daemon_port *p, const char *val, const char *spec)
{
	unsigned char addr[16];
	int af = strchr(val, ':') ? AF_INET6 : AF_INET;
	int rc;

	if (inet_pton(af, val, addr) != 1)
		return bad("ip '%s' in '%s' is not an IPv4 or IPv6 address (no prefix length)", val,
			   spec);
	rc = nb_antispoof_add_ip(&p->as, af, addr);
	if (rc == -ENOSPC)
		return bad("'%s': more than 16 addresses of one family%s", spec, "");
	if (rc < 0)
		return bad("ip '%s' in '%s' is unspecified, multicast or loopback: no guest can "
			   "own it",
			   val, spec);
	return 0;
}

/* IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off] */
static int port_parse(struct app_daemon_config *cfg, const char *spec)
{
	char buf[512], *save = NULL, *tok;
	bool as_off = false;
	struct app_daemon_port *p;
	int rc;

	if (strlen(spec) >= sizeof(buf))
		return bad("--port '%.40s...' is too long%s", spec, "");
	strcpy(buf, spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || buf[0] == ',')
		return bad("--port '%s' names no device%s", spec, "");
	if ((rc = port_add_name(cfg, tok, spec)) < 0)
		return rc;
	p = &cfg->ports[cfg->nports - 1];
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *val = strchr(tok, '=');

		if (!val)
			return bad("'%s' in '%s' is not KEY=VALUE (mac=, ip=, antispoof=)", tok,
				   spec);
		*val++ = '\0';
		if (!strcmp(tok, "mac"))
			rc = port_opt_mac(p, val, spec);
		else if (!strcmp(tok, "ip"))
			rc = port_opt_ip(p, val, spec);
		else if (!strcmp(tok, "antispoof") && !strcmp(val, "off"))
			as_off = true, rc = 0;
		else if (!strcmp(tok, "antispoof"))
			rc = bad("antispoof=%s in '%s': only antispoof=off is known (it is on "
				 "whenever ip= is given)",
				 val, spec);
		else
			rc = bad("unknown key '%s' in '%s' (mac=, ip=, antispoof=off)", tok, spec);
		if (rc < 0)
			return rc;
	}
	if (as_off)
		p->as.enabled = false;
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
		{0},
	};
	const char *uplink = NULL;
	const char *portspecs[NB_MAX_PORTS];
	unsigned nspecs = 0;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			cfg->rules = optarg;
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
			cfg->ctl = optarg;
			break;
		case 'v':
			cfg->verbosity++;
			break;
		case 'b': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || n < 4 || n > 4096)
				return bad("--ring-blocks '%s' is not a number from 4 to 4096%s",
					   optarg, "");
			cfg->port.ring_blocks = (unsigned)n;
			break;
		}
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
	if (!cfg->rules)
		return bad("--rules FILE is required%s%s", "", "");
	if (!uplink)
		return bad("--uplink IFNAME is required%s%s", "", "");
	if ((rc = port_add_name(cfg, uplink, uplink)) < 0)
		return rc;
	cfg->ports[0].uplink = true;
	for (unsigned i = 0; i < nspecs; i++)
		if ((rc = port_parse(cfg, portspecs[i])) < 0)
			return rc;
	return 0;
}
