/*
 * vifwalld's life: load and check the rules before touching any port (a bad ruleset
 * must leave the appliance as it was: forwarding nothing), then ports, then the loop.
 * Signals arrive through a signalfd polled with the ports, so no handler runs
 * asynchronously and no global is needed. A reload (SIGHUP) builds the new ruleset
 * beside the running one and swaps it in between two turns of the loop; a failed
 * reload changes nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "appliance/daemon_internal.h"
#include "filters/conntrack.h"
#include "filters/ruleset.h"

#define LOOP_TIMEOUT_MS 200

static int rules_load(struct app_daemon *d, struct flt_ruleset **out)
{
	char *err = NULL;
	int rc = app_daemon_rules_compile(d, d->cfg->rules, out, &err);

	if (rc < 0) {
		/* err already names file:line; keep it whole, it may span lines. */
		flt_log(d->log, LOG_ERR, "%s: ruleset refused:\n%s", d->cfg->rules,
			err ? err : strerror(-rc));
		free(err);
	}
	return rc;
}

static int ports_open(struct app_daemon *d)
{
	for (unsigned i = 0; i < d->cfg->nports; i++) {
		const struct app_daemon_port *p = &d->cfg->ports[i];
		struct nb_port *port;
		int rc;

		if ((rc = app_daemon_port_isolate(p->name, d->log)) < 0)
			return rc;
		rc = nb_port_open(&nb_port_afpacket_ops, p->name, &d->port_cfg, &port);
		if (rc < 0) {
			flt_log(d->log, LOG_ERR, "port %s: cannot open: %s", p->name,
				strerror(-rc));
			return rc;
		}
		rc = nb_bridge_add_port(d->br, port, p->uplink ? NULL : &p->as, NULL);
		if (rc < 0) {
			flt_log(d->log, LOG_ERR, "port %s: cannot attach: %s", p->name,
				rc == -EEXIST ? "its MAC is another port's" : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Inside a Xen domain, serve the guests' vifs from xenstore; elsewhere (tests in
 * network namespaces) the ports are the command line's only. */
static int hotplug_start(struct app_daemon *d)
{
	struct app_hotplug_config hc = {.br = d->br, .log = d->log, .port = &d->port_cfg};
	int rc = app_hotplug_new(&hc, &d->hp);

	if (rc == -ENOENT) {
		flt_log(d->log, LOG_DEBUG, "no xenstore: vif hotplug off");
		return 0;
	}
	return rc;
}

/* How many forwarding threads: as configured, else one per online CPU. */
static unsigned workers_count(const struct app_daemon_config *cfg)
{
	long n = cfg->workers ? (long)cfg->workers : sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > NB_MAX_WORKERS ? NB_MAX_WORKERS : (unsigned)n;
}

/* The configured sizes are the totals: each worker gets its share of every port's
 * ring and of the flow cache, so memory does not grow with the number of CPUs. */
static void workers_share(struct app_daemon *d, struct nb_bridge_config *bc)
{
	unsigned blocks = d->cfg->port.ring_blocks ? d->cfg->port.ring_blocks : 256;

	d->workers = workers_count(d->cfg);
	d->port_cfg = d->cfg->port;
	d->port_cfg.ring_blocks = blocks / d->workers < 4 ? 4 : blocks / d->workers;
	bc->workers = d->workers;
	if (bc->flowcache_entries)
		bc->flowcache_entries /= d->workers;
}

int app_daemon_start(const struct app_daemon_config *cfg, const struct flt_logger *log,
		     struct app_daemon **out)
{
	struct nb_bridge_config bc = {
		.log = log,
		.sw = {.max_entries = cfg->mac_table_entries,
		       .max_age_ns = (uint64_t)cfg->mac_table_age_s * 1000000000u},
		.burst = cfg->burst,
		.flowcache_entries = cfg->flow_cache_entries,
	};
	struct flt_ct_config ctc = {.max_entries = cfg->conntrack_entries};
	struct app_daemon *d = calloc(1, sizeof(*d));
	sigset_t sigs;
	int rc;

	if (!d)
		return -ENOMEM;
	d->cfg = cfg;
	d->log = log;
	d->sigfd = -1;
	workers_share(d, &bc);
	ctc.shared = d->workers > 1;
	for (unsigned i = 0; i < cfg->nports; i++)
		d->port_names[i] = cfg->ports[i].name;
	if ((rc = rules_load(d, &d->rs)) < 0)
		goto fail;
	if ((rc = app_daemon_rules_remember(d, d->cfg->rules, d->cfg->rules)) < 0)
		goto fail;
	if ((rc = flt_ct_table_new(&ctc, &d->ct)) < 0) {
		flt_log(log, LOG_ERR, "cannot create the connection table: %s", strerror(-rc));
		goto fail;
	}
	bc.ct = d->ct;
	if ((rc = nb_bridge_new(&bc, &d->br)) < 0) {
		flt_log(log, LOG_ERR, "cannot create the bridge: %s", strerror(-rc));
		goto fail;
	}
	flt_log(log, LOG_INFO,
		"%u forwarding worker%s, %u ring blocks each per port, handed over after %u ms",
		d->workers, d->workers == 1 ? "" : "s", d->port_cfg.ring_blocks,
		d->port_cfg.retire_ms ? d->port_cfg.retire_ms : 1);
	if ((rc = ports_open(d)) < 0)
		goto fail;
	nb_bridge_ruleset_swap(d->br, d->rs);
	d->generation = 1;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	d->sigfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0) {
		rc = -errno;
		flt_log(log, LOG_ERR, "signalfd: %s", strerror(errno));
		goto fail;
	}
	if (cfg->ctl && (rc = app_daemon_ctl_open(d, cfg->ctl)) < 0)
		goto fail;
	if ((rc = hotplug_start(d)) < 0)
		goto fail;
	/* In a Xen domain dom0 controls us over a vchan, --ctl or not. */
	if (d->hp && !d->ctl && (rc = app_daemon_ctl_open(d, NULL)) < 0)
		goto fail;
	if (d->hp && (rc = app_daemon_vchan_start(d)) < 0)
		flt_log(log, LOG_ERR, "no control vchan for dom0: %s", strerror(-rc));
	*out = d;
	return 0;
fail:
	app_daemon_free(d);
	return rc;
}

/* SIGHUP: the rules file again, compiled in a thread (daemon_load.c). */
static void rules_reload(struct app_daemon *d)
{
	int rc = app_daemon_load_start(d, d->cfg->rules, NULL, d->cfg->rules, NULL);

	if (rc == -EBUSY)
		flt_log(d->log, LOG_WARNING, "SIGHUP: a load is running; send it again after it");
	else if (rc < 0)
		flt_log(d->log, LOG_ERR, "reload failed: %s; the running ruleset stays",
			strerror(-rc));
}

void app_daemon_rules_swap(struct app_daemon *d, struct flt_ruleset *rs)
{
	/* The loop runs in this thread, between two rounds: nothing uses the old one. */
	nb_bridge_ruleset_swap(d->br, rs);
	flt_ruleset_free(d->rs);
	d->rs = rs;
	d->generation++;
}

void app_daemon_log_stats(struct app_daemon *d)
{
	struct nb_switch_stats ss;

	for (unsigned i = 0; i < nb_bridge_port_count(d->br); i++) {
		struct nb_port_info pi;
		char why[512] = "";
		size_t off = 0;

		nb_bridge_port_info(d->br, i, &pi);
		for (unsigned r = 1; r < NB_DROP_REASON_COUNT && off < sizeof(why); r++)
			if (pi.c.drops[r])
				off += (size_t)snprintf(why + off, sizeof(why) - off, " %s=%llu",
							nb_drop_reason_name(r),
							(unsigned long long)pi.c.drops[r]);
		flt_log(d->log, LOG_INFO,
			"stats port %s: rx %llu pkts %llu bytes, tx %llu pkts %llu bytes, "
			"ring-drops %llu, drops%s",
			pi.name, (unsigned long long)pi.c.rx_packets,
			(unsigned long long)pi.c.rx_bytes, (unsigned long long)pi.c.tx_packets,
			(unsigned long long)pi.c.tx_bytes, (unsigned long long)pi.c.ring_drops,
			why[0] ? why : " none");
	}
	nb_bridge_switch_stats(d->br, &ss);
	flt_log(d->log, LOG_INFO,
		"stats mac-table: %u/%u entries, learned %llu, moved %llu, evicted %llu",
		ss.entries, ss.max_entries, (unsigned long long)ss.learned,
		(unsigned long long)ss.moved, (unsigned long long)ss.evicted);
}

/* Returns true when the daemon should stop. */
static bool signals_handle(struct app_daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			flt_log(d->log, LOG_INFO, "%s: stopping", strsignal((int)si.ssi_signo));
			return true;
		case SIGHUP:
			rules_reload(d);
			break;
		case SIGUSR1:
			app_daemon_log_stats(d);
			break;
		case SIGUSR2: /* as if xenstored went away: reconnect, resynchronise */
			if (d->hp)
				app_hotplug_reconnect(d->hp);
			else
				flt_log(d->log, LOG_INFO, "SIGUSR2: no xenstore (not in Xen)");
			break;
		}
	}
	return false;
}

int app_daemon_run(struct app_daemon *d)
{
	flt_log(d->log, LOG_INFO, "forwarding between %u ports", nb_bridge_port_count(d->br));
	for (;;) {
		/* fds[0]: signals; then hotplug's xenstore and netlink fds; then the control
		 * server's listener and clients. */
		struct pollfd fds[NB_MAX_EXTRA_FDS] = {{.fd = d->sigfd, .events = POLLIN}};
		size_t n = 1, nload = 0;
		unsigned nhp = 0;
		int rc;

		app_daemon_vchan_tick(d);
		if (d->hp)
			nhp = app_hotplug_pollfds(d->hp, fds + 1, NB_MAX_EXTRA_FDS - 1);
		n += nhp;
		if (d->ctl)
			n += app_ctl_server_pollfds(d->ctl, fds + n, NB_MAX_EXTRA_FDS - n - 1);
		if (d->load) { /* last: the control server ignores entries not its own */
			nload = n;
			fds[n++] = (struct pollfd){.fd = app_daemon_load_fd(d), .events = POLLIN};
		}
		rc = nb_bridge_run_once(d->br, fds, (unsigned)n, LOOP_TIMEOUT_MS);
		if (rc < 0) {
			flt_log(d->log, LOG_ERR, "poll: %s", strerror(-rc));
			return rc;
		}
		/* Before anything can swap the ruleset the round's drops were decided by. */
		app_daemon_taps_drain(d);
		if ((fds[0].revents & POLLIN) && signals_handle(d))
			return 0;
		if (d->hp)
			app_hotplug_handle(d->hp, fds + 1, nhp);
		if (d->ctl)
			app_ctl_server_handle(d->ctl, fds + 1 + nhp, n - 1 - nhp);
		if (nload && (fds[nload].revents & POLLIN))
			app_daemon_load_finish(d);
	}
}

void app_daemon_free(struct app_daemon *d)
{
	if (!d)
		return;
	app_ctl_server_free(d->ctl);
	app_daemon_load_free(d);  /* after the server, which cancels its deferred reply */
	app_daemon_taps_free(d);  /* after the server, which cancels their streams */
	app_daemon_vchan_free(d); /* after the server, which closes its vchan */
	app_hotplug_free(d->hp);  /* before the bridge: it holds a pointer to it */
	if (d->sigfd >= 0)
		close(d->sigfd);
	free(d->rules_text);
	free(d->rules_name);
	nb_bridge_free(d->br); /* closes the ports first: nothing forwards any more */
	flt_ct_table_free(d->ct);
	if (d->rs)
		flt_ruleset_free(d->rs);
	free(d);
}
