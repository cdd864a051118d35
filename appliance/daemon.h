/*
 * vifwalld's core, apart from main(): its configuration (from the command line now,
 * a file later), the setup of ports, rules and the bridge, and the loop that runs
 * until SIGTERM or SIGINT. main() only parses, starts, runs and frees.
 */
#ifndef VIFWALL_APPLIANCE_DAEMON_H
#define VIFWALL_APPLIANCE_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "netback-bridge/antispoof.h"
#include "netback-bridge/bridge.h"

struct app_daemon_port {
	char name[NB_IFNAMSIZ];
	bool uplink;
	struct nb_antispoof as; /* as.enabled: anti-spoofing on */
};

struct app_daemon_config {
	const char *rules;	    /* the nft ruleset file */
	const char *ctl;	    /* control socket path, or NULL */
	int verbosity;		    /* 0: info, 1: debug */
	struct nb_port_config port; /* every port's ring (--ring-blocks) */
	unsigned nports;	    /* ports[0] is the uplink */
	struct app_daemon_port ports[NB_MAX_PORTS];
};

/*
 * Parse vifwalld's command line into @cfg:
 *   --rules FILE --uplink IFNAME [--port IFNAME[,mac=MAC][,ip=ADDR]...[,antispoof=off]]...
 *   [--ctl SOCKET] [--ring-blocks N] [-v]
 * Returns 0; 1 when --help or --version was asked and answered on stdout; -EINVAL
 * after printing what is wrong to stderr. @argv's strings must outlive @cfg.
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
