/*
 * The bridge's setup and its poll loop. The loop sleeps in poll() on every port's
 * descriptor and the caller's own (control socket, signals), then takes turns over
 * the ports, one burst from each per turn, until all are quiet. The ruleset is read
 * through one atomic pointer at the start of every turn, so a reload swaps it between
 * two turns and no frame ever sees two rulesets.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filters/conntrack.h"
#include "netback-bridge/bridge_internal.h"

/* Turns per nb_bridge_run_once before the caller's fds get a look again. */
#define NB_MAX_TURNS 64
/* Conntrack buckets examined for expiry per round: keeps the cost per round small. */
#define NB_CT_GC_BUDGET 256

static uint64_t now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nb_bridge_new(const struct nb_bridge_config *cfg, struct nb_bridge **out)
{
	struct nb_bridge *br;
	int rc;

	if (!cfg || cfg->burst > NB_BURST_MAX)
		return -EINVAL;
	br = calloc(1, sizeof(*br));
	if (!br)
		return -ENOMEM;
	rc = nb_switch_new(&cfg->sw, &br->sw);
	if (rc < 0) {
		free(br);
		return rc;
	}
	rc = flt_fc_new(cfg->flowcache_entries, &br->fc);
	if (rc < 0) {
		nb_switch_free(br->sw);
		free(br);
		return rc;
	}
	br->log = cfg->log;
	br->ct = cfg->ct;
	br->burst = cfg->burst ? cfg->burst : 32;
	atomic_init(&br->rules, NULL);
	atomic_init(&br->turns, 0);
	*out = br;
	return 0;
}

void nb_bridge_free(struct nb_bridge *br)
{
	if (!br)
		return;
	for (unsigned i = 0; i < br->nports; i++)
		nb_port_close(br->ports[i].port);
	nb_switch_free(br->sw);
	flt_fc_free(br->fc);
	free(br);
}

int nb_bridge_add_port(struct nb_bridge *br, struct nb_port *port, const struct nb_antispoof *as,
		       unsigned *index)
{
	struct nb_bport *bp;
	int rc;

	if (br->nports == NB_MAX_PORTS) {
		nb_port_close(port);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < br->nports; i++) {
		if (!strncmp(br->ports[i].port->name, port->name, NB_IFNAMSIZ)) {
			nb_port_close(port);
			return -EEXIST;
		}
	}
	bp = &br->ports[br->nports];
	memset(bp, 0, sizeof(*bp));
	if (as && as->have_mac) {
		rc = nb_switch_add_static(br->sw, as->mac, (uint16_t)br->nports);
		if (rc < 0) {
			nb_port_close(port);
			return rc;
		}
	}
	bp->port = port;
	if (as)
		bp->as = *as;
	/* Ports added after a ruleset was installed need their ifindex looked up. */
	br->seen_rules = NULL;
	if (index)
		*index = br->nports;
	br->nports++;
	flt_log(br->log, LOG_INFO, "port %s (%s)%s", port->name, port->ops->name,
		as && as->enabled ? ": anti-spoofing on" : "");
	return 0;
}

int nb_bridge_remove_port(struct nb_bridge *br, const char *name)
{
	unsigned i, last;

	for (i = 0; i < br->nports; i++)
		if (!strncmp(br->ports[i].port->name, name, NB_IFNAMSIZ))
			break;
	if (i == br->nports)
		return -ENOENT;
	flt_log(br->log, LOG_INFO, "port %s removed", br->ports[i].port->name);
	nb_port_close(br->ports[i].port);
	/* A guest that comes back on another port must not find its MAC pinned here. */
	nb_switch_flush_port(br->sw, (uint16_t)i);
	last = br->nports - 1;
	if (i != last) {
		/* Keep the ports dense: the burst path walks 0..nports-1 without holes. */
		br->ports[i] = br->ports[last];
		nb_switch_renumber_port(br->sw, (uint16_t)last, (uint16_t)i);
	}
	memset(&br->ports[last], 0, sizeof(br->ports[last]));
	br->nports--;
	return 0;
}

const struct flt_ruleset *nb_bridge_ruleset_swap(struct nb_bridge *br, const struct flt_ruleset *rs)
{
	return atomic_exchange_explicit(&br->rules, rs, memory_order_acq_rel);
}

uint64_t nb_bridge_turns(const struct nb_bridge *br)
{
	return atomic_load_explicit(&br->turns, memory_order_acquire);
}

/* The ruleset for this turn; when it changed, the ports' ifindexes in its numbering
 * (a string compare per port, once per reload, not per frame). */
static const struct flt_ruleset *rules_current(struct nb_bridge *br)
{
	const struct flt_ruleset *rs = atomic_load_explicit(&br->rules, memory_order_acquire);

	if (rs != br->seen_rules) {
		for (unsigned i = 0; i < br->nports; i++)
			br->ports[i].rs_ifindex =
				rs ? flt_ruleset_ifindex(rs, br->ports[i].port->name) : 0;
		br->seen_rules = rs;
		/* The old ruleset may be freed once this turn is over: no verdict of it
		 * may be served again, even to a new ruleset at the same address. */
		flt_fc_invalidate(br->fc);
	}
	return rs;
}

int nb_bridge_run_once(struct nb_bridge *br, struct pollfd *extra, unsigned n_extra, int timeout_ms)
{
	unsigned np = br->nports;
	int rc;

	if (n_extra > NB_MAX_EXTRA_FDS)
		return -EINVAL;
	for (unsigned i = 0; i < np; i++)
		br->pfd[i] =
			(struct pollfd){.fd = nb_port_poll_fd(br->ports[i].port), .events = POLLIN};
	if (n_extra)
		memcpy(&br->pfd[np], extra, n_extra * sizeof(*extra));
	rc = poll(br->pfd, np + n_extra, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = br->pfd[np + i].revents;

	/* Every port is tried, readable or not: looking at a ring costs no syscall. */
	for (unsigned t = 0; t < NB_MAX_TURNS; t++) {
		const struct flt_ruleset *rs = rules_current(br);
		unsigned got = 0;

		br->now_ns = now_monotonic();
		for (unsigned i = 0; i < np; i++)
			got += nb_bridge_burst(br, rs, (uint16_t)i);
		atomic_fetch_add_explicit(&br->turns, 1, memory_order_release);
		if (!got)
			break;
	}
	if (br->ct)
		flt_ct_gc(br->ct, now_monotonic(), NB_CT_GC_BUDGET);
	return 0;
}

unsigned nb_bridge_port_count(const struct nb_bridge *br)
{
	return br->nports;
}

int nb_bridge_port_info(struct nb_bridge *br, unsigned i, struct nb_port_info *info)
{
	struct nb_port_io_stats io;

	if (i >= br->nports)
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	memcpy(info->name, br->ports[i].port->name, NB_IFNAMSIZ);
	info->backend = br->ports[i].port->ops->name;
	info->guest = br->ports[i].as.enabled;
	info->c = br->ports[i].c;
	nb_port_stats(br->ports[i].port, &io);
	info->c.ring_drops = io.ring_drops;
	info->c.drops[NB_DROP_TRUNCATED] += io.truncated;
	return 0;
}

void nb_bridge_switch_stats(const struct nb_bridge *br, struct nb_switch_stats *st)
{
	nb_switch_get_stats(br->sw, now_monotonic(), st);
}

void nb_bridge_flowcache_stats(const struct nb_bridge *br, struct flt_fc_stats *st)
{
	flt_fc_get_stats(br->fc, st);
}
