/*
 * vifwalld's core, apart from main(): its configuration (the command line over
 * /etc/vifwall/vifwalld.conf), the setup of ports, rules and the bridge, and the loop
 * that runs until SIGTERM or SIGINT. main() only parses, starts, runs and frees.
 */
#ifndef VIFWALL_APPLIANCE_DAEMON_H
#define VIFWALL_APPLIANCE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netback-bridge/antispoof.h"
#include "netback-bridge/bridge.h"

struct app_daemon_port {
	char name[NB_IFNAMSIZ];
	bool uplink;
	signed char antispoof;	/* as written: -1 off, 1 on, 0 unsaid (on when ip is given) */
	struct nb_antispoof as; /* as.enabled: anti-spoofing on */
};

/* Filled by the command line (daemon_args.c) over the configuration file
 * (daemon_config.c, which also sets the defaults and prints it back). */
struct app_daemon_config {
	const char *rules;	    /* the nft ruleset file */
	const char *ctl;	    /* control socket path, or NULL */
	int verbosity;		    /* 0: info, 1: debug */
	struct nb_port_config port; /* every port's ring (--ring-blocks, --ring-retire-ms),
				       the blocks shared out among the workers */
	unsigned nports;	    /* ports[0] is the uplink */
	struct app_daemon_port ports[NB_MAX_PORTS];
	/* Bounded tables: memory grows with these and nothing else. */
	uint32_t mac_table_entries;  /* learning switch (rounded up to a power of two) */
	uint32_t mac_table_age_s;    /* a learned MAC unused this long is forgotten */
	uint32_t conntrack_entries;  /* connection tracker's pool (one, shared) */
	uint32_t flow_cache_entries; /* per-flow verdict cache, shared out among workers */
	unsigned burst;		     /* frames per port per loop turn */
	unsigned workers;	     /* forwarding threads; 0: one per online CPU */
	/* Where rules and ctl point when the configuration file set them. */
	char rules_buf[4096], ctl_buf[108];
};

/*
 * Fill @cfg from the configuration file (--config FILE, else /etc/vifwall/vifwalld.conf
 * when it exists) and then vifwalld's command line, which overrides it:
 *   [--config FILE] [--check-config] [--rules FILE] [--uplink IFNAME]
 *   [--port IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off]]... [--ctl SOCKET]
 *   [--ring-blocks N] [--ring-retire-ms MS] [--workers N] [-v]
 * Returns 0; 1 when --help, --version or --check-config was asked and answered on
 * stdout; -EINVAL after printing what is wrong to stderr (a file's errors name
 * FILE:LINE). @argv's strings must outlive @cfg.
 */
int app_daemon_args_parse(int argc, char **argv, struct app_daemon_config *cfg);

/*
 * Make @name safe to be a port before the daemon takes it: refuse a device the
 * kernel itself would forward from (enslaved to a bridge, bond or similar), turn
 * IPv6 off on it so the kernel neither answers nor sends there, and warn about IPv4
 * addresses on it. Returns 0, -ENODEV when there is no such device, or -EBUSY when it
 * has a master; each failure is logged.
 */
int app_daemon_port_isolate(const char *name, const struct flt_logger *log);

struct app_daemon;

/*
 * Load the rules (refusing a bad file with nft's file:line), create the connection
 * tracker, isolate and open the ports, install the ruleset. SIGTERM, SIGINT (stop),
 * SIGHUP (reload the rules file) and SIGUSR1 (log the counters) must already be
 * blocked in the calling thread: the daemon reads them from a signalfd.
 * Returns 0 and *out, or -errno after logging why.
 */
int app_daemon_start(const struct app_daemon_config *cfg, const struct flt_logger *log,
		     struct app_daemon **out);

/* Forward until SIGTERM or SIGINT. Returns 0, or -errno when the loop failed. */
int app_daemon_run(struct app_daemon *d);

/* Log every port's counters and the MAC table's, one line each. */
void app_daemon_log_stats(struct app_daemon *d);

/* Close the ports and free everything; NULL is a no-op. */
void app_daemon_free(struct app_daemon *d);

#endif
