/*
 * The bridge's setup and its poll loop. The loop sleeps in poll() on every port's
 * descriptor and the caller's own (control socket, signals), then takes turns over
 * the ports, one burst from each per turn, until all are quiet. The ruleset is read
 * through one atomic pointer at the start of every turn, so a reload swaps it between
 * two turns and no frame ever sees two rulesets.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filters/conntrack.h"
#include "netback-bridge/bridge_internal.h"

/* Turns per round before the caller's fds get a look again. */
#define NB_MAX_TURNS 64
/* Conntrack buckets examined for expiry per round: keeps the cost per round small. */
#define NB_CT_GC_BUDGET 256

static void workers_free(struct nb_bridge *br)
{
	for (unsigned i = 0; i < br->nworkers; i++)
		flt_fc_free(br->workers[i].fc);
	free(br->workers);
}

static void bridge_destroy(struct nb_bridge *br)
{
	if (br->workers)
		workers_free(br);
	nb_switch_free(br->sw);
	pthread_mutex_destroy(&br->sw_lock);
	pthread_mutex_destroy(&br->tap_lock);
	pthread_mutex_destroy(&br->park_lock);
	pthread_cond_destroy(&br->parked_cv);
	pthread_cond_destroy(&br->resume_cv);
	free(br);
}

static int workers_alloc(struct nb_bridge *br, const struct nb_bridge_config *cfg)
{
	br->nworkers = cfg->workers ? cfg->workers : 1;
	br->workers = calloc(br->nworkers, sizeof(*br->workers));
	if (!br->workers)
		return -ENOMEM;
	for (unsigned i = 0; i < br->nworkers; i++) {
		struct nb_worker *w = &br->workers[i];
		int rc;

		w->br = br;
		w->id = i;
		w->wake_fd = -1;
		atomic_init(&w->turns, 0);
		rc = flt_fc_new(cfg->flowcache_entries, &w->fc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void locks_init(struct nb_bridge *br)
{
	pthread_mutexattr_t ma;

	/* Held for a few hundred nanoseconds: spin a little before sleeping. */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&br->sw_lock, &ma);
	/* The tap's owner holds it around its own changes, which set taps (tap.h). */
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&br->tap_lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_mutex_init(&br->park_lock, NULL);
	pthread_cond_init(&br->parked_cv, NULL);
	pthread_cond_init(&br->resume_cv, NULL);
}

int nb_bridge_new(const struct nb_bridge_config *cfg, struct nb_bridge **out)
{
	struct nb_bridge *br;
	int rc;

	if (!cfg || cfg->burst > NB_BURST_MAX || cfg->workers > NB_MAX_WORKERS)
		return -EINVAL;
	br = calloc(1, sizeof(*br));
	if (!br)
		return -ENOMEM;
	locks_init(br);
	rc = nb_switch_new(&cfg->sw, &br->sw);
	if (rc < 0) {
		bridge_destroy(br);
		return rc;
	}
	rc = workers_alloc(br, cfg);
	if (rc < 0) {
		bridge_destroy(br);
		return rc;
	}
	br->log = cfg->log;
	br->ct = cfg->ct;
	br->burst = cfg->burst ? cfg->burst : 32;
	atomic_init(&br->rules, NULL);
	atomic_init(&br->tap, NULL);
	atomic_init(&br->tap_drops, false);
	atomic_init(&br->pause, false);
	atomic_init(&br->stop, false);
	rc = nb_workers_start(br);
	if (rc < 0) {
		bridge_destroy(br);
		return rc;
	}
	*out = br;
	return 0;
}

void nb_bridge_free(struct nb_bridge *br)
{
	if (!br)
		return;
	nb_workers_stop(br);
	for (unsigned i = 0; i < br->nports; i++)
		for (unsigned w = 0; w < br->nworkers; w++)
			nb_port_close(br->workers[w].ports[i].port);
	bridge_destroy(br);
}

unsigned nb_bridge_workers(const struct nb_bridge *br)
{
	return br->nworkers;
}

/* Give workers 1..n-1 their own handle on @port (fanout siblings). Returns 0 or the
 * backend's -errno, with every handle opened here closed again. */
static int port_siblings_open(struct nb_bridge *br, struct nb_port *port, unsigned slot)
{
	int rc = 0;

	br->workers[0].ports[slot] = (struct nb_wport){.port = port};
	for (unsigned w = 1; w < br->nworkers; w++) {
		struct nb_port *sp = NULL;

		rc = port->ops->open_sibling ? port->ops->open_sibling(port, &sp) : -EOPNOTSUPP;
		if (rc < 0) {
			while (--w > 0) {
				nb_port_close(br->workers[w].ports[slot].port);
				br->workers[w].ports[slot].port = NULL;
			}
			br->workers[0].ports[slot].port = NULL;
			return rc;
		}
		br->workers[w].ports[slot] = (struct nb_wport){.port = sp};
	}
	return 0;
}

int nb_bridge_add_port(struct nb_bridge *br, struct nb_port *port, const struct nb_antispoof *as,
		       unsigned *index)
{
	unsigned slot = br->nports;
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
	/* Siblings first: they may fail, and nothing is shared with the workers yet. */
	rc = port_siblings_open(br, port, slot);
	if (rc < 0) {
		flt_log(br->log, LOG_ERR, "port %s: cannot share it among %u workers: %s",
			port->name, br->nworkers, strerror(-rc));
		nb_port_close(port);
		return rc;
	}
	nb_bridge_pause(br);
	bp = &br->ports[slot];
	memset(bp, 0, sizeof(*bp));
	if (as && as->have_mac) {
		rc = nb_switch_add_static(br->sw, as->mac, (uint16_t)slot);
		if (rc < 0) {
			nb_bridge_resume(br);
			for (unsigned w = 0; w < br->nworkers; w++) {
				nb_port_close(br->workers[w].ports[slot].port);
				br->workers[w].ports[slot].port = NULL;
			}
			return rc;
		}
	}
	bp->port = port;
	if (as)
		bp->as = *as;
	/* Ports added after a ruleset was installed need their ifindex looked up. */
	for (unsigned w = 0; w < br->nworkers; w++)
		br->workers[w].seen_rules = NULL;
	if (index)
		*index = slot;
	br->nports++;
	nb_bridge_resume(br);
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
	nb_bridge_pause(br);
	for (unsigned w = 0; w < br->nworkers; w++)
		nb_port_close(br->workers[w].ports[i].port);
	/* A guest that comes back on another port must not find its MAC pinned here. */
	nb_switch_flush_port(br->sw, (uint16_t)i);
	last = br->nports - 1;
	if (i != last) {
		/* Keep the ports dense: the burst path walks 0..nports-1 without holes. */
		br->ports[i] = br->ports[last];
		for (unsigned w = 0; w < br->nworkers; w++)
			br->workers[w].ports[i] = br->workers[w].ports[last];
		nb_switch_renumber_port(br->sw, (uint16_t)last, (uint16_t)i);
	}
	memset(&br->ports[last], 0, sizeof(br->ports[last]));
	for (unsigned w = 0; w < br->nworkers; w++)
		memset(&br->workers[w].ports[last], 0, sizeof(br->workers[w].ports[last]));
	br->nports--;
	nb_bridge_resume(br);
	return 0;
}

const struct flt_ruleset *nb_bridge_ruleset_swap(struct nb_bridge *br, const struct flt_ruleset *rs)
{
	const struct flt_ruleset *old =
		atomic_exchange_explicit(&br->rules, rs, memory_order_acq_rel);

	/* Once every other worker has parked, none is still in a burst of the old one. */
	nb_bridge_pause(br);
	nb_bridge_resume(br);
	return old;
}

uint64_t nb_bridge_turns(const struct nb_bridge *br)
{
	return atomic_load_explicit(&br->workers[0].turns, memory_order_acquire);
}

const struct flt_ruleset *nb_worker_rules(struct nb_worker *w)
{
	struct nb_bridge *br = w->br;
	const struct flt_ruleset *rs = atomic_load_explicit(&br->rules, memory_order_acquire);

	if (rs != w->seen_rules) {
		/* A string compare per port, once per reload, not per frame. */
		for (unsigned i = 0; i < br->nports; i++)
			w->ports[i].rs_ifindex =
				rs ? flt_ruleset_ifindex(rs, br->ports[i].port->name) : 0;
		w->seen_rules = rs;
		/* The old ruleset may be freed once this turn is over: no verdict of it
		 * may be served again, even to a new ruleset at the same address. */
		flt_fc_invalidate(w->fc);
	}
	return rs;
}

void nb_worker_round(struct nb_worker *w)
{
	struct nb_bridge *br = w->br;

	/* Every port is tried, readable or not: looking at a ring costs no syscall. */
	for (unsigned t = 0; t < NB_MAX_TURNS; t++) {
		const struct flt_ruleset *rs;
		unsigned got = 0;

		if (w->id && atomic_load_explicit(&br->pause, memory_order_acquire))
			break;
		rs = nb_worker_rules(w);
		w->now_ns = nb_now_monotonic();
		for (unsigned i = 0; i < br->nports; i++)
			got += nb_worker_burst(w, rs, (uint16_t)i);
		atomic_fetch_add_explicit(&w->turns, 1, memory_order_release);
		if (!got)
			break;
	}
}

int nb_bridge_run_once(struct nb_bridge *br, struct pollfd *extra, unsigned n_extra, int timeout_ms)
{
	struct nb_worker *w = &br->workers[0];
	unsigned np = br->nports;
	int rc;

	if (n_extra > NB_MAX_EXTRA_FDS)
		return -EINVAL;
	for (unsigned i = 0; i < np; i++)
		br->pfd[i] =
			(struct pollfd){.fd = nb_port_poll_fd(w->ports[i].port), .events = POLLIN};
	if (n_extra)
		memcpy(&br->pfd[np], extra, n_extra * sizeof(*extra));
	rc = poll(br->pfd, np + n_extra, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < n_extra; i++)
		extra[i].revents = br->pfd[np + i].revents;
	nb_worker_round(w);
	/* One worker collects expired connections for all. */
	if (br->ct)
		flt_ct_gc(br->ct, nb_now_monotonic(), NB_CT_GC_BUDGET);
	return 0;
}

unsigned nb_bridge_port_count(const struct nb_bridge *br)
{
	return br->nports;
}

/* Add a worker's counters (written by that worker as we read: counters.h). */
static void counters_add(struct nb_port_counters *sum, const struct nb_port_counters *c)
{
	sum->rx_packets += nb_counter_read(&c->rx_packets);
	sum->rx_bytes += nb_counter_read(&c->rx_bytes);
	sum->tx_packets += nb_counter_read(&c->tx_packets);
	sum->tx_bytes += nb_counter_read(&c->tx_bytes);
	for (unsigned r = 0; r < NB_DROP_REASON_COUNT; r++)
		sum->drops[r] += nb_counter_read(&c->drops[r]);
}

int nb_bridge_port_info(struct nb_bridge *br, unsigned i, struct nb_port_info *info)
{
	if (i >= br->nports)
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	memcpy(info->name, br->ports[i].port->name, NB_IFNAMSIZ);
	info->backend = br->ports[i].port->ops->name;
	info->guest = br->ports[i].as.enabled;
	for (unsigned w = 0; w < br->nworkers; w++) {
		struct nb_wport *wp = &br->workers[w].ports[i];
		struct nb_port_io_stats io;

		counters_add(&info->c, &wp->c);
		nb_port_stats(wp->port, &io);
		info->c.ring_drops += io.ring_drops;
		info->c.drops[NB_DROP_TRUNCATED] += io.truncated;
		info->worker_rx[w] = nb_counter_read(&wp->c.rx_packets);
	}
	return 0;
}

void nb_bridge_switch_stats(struct nb_bridge *br, struct nb_switch_stats *st)
{
	pthread_mutex_lock(&br->sw_lock);
	nb_switch_get_stats(br->sw, nb_now_monotonic(), st);
	pthread_mutex_unlock(&br->sw_lock);
}

/* Every worker's cache, added up: one cache of the summed size to the operator. The
 * caches' counters are plain: read them with the workers parked (stats are rare). */
void nb_bridge_flowcache_stats(struct nb_bridge *br, struct flt_fc_stats *st)
{
	nb_bridge_pause(br);
	memset(st, 0, sizeof(*st));
	for (unsigned w = 0; w < br->nworkers; w++) {
		struct flt_fc_stats ws;

		flt_fc_get_stats(br->workers[w].fc, &ws);
		st->hits += ws.hits;
		st->misses += ws.misses;
		st->inserts += ws.inserts;
		st->evictions += ws.evictions;
		st->uncacheable += ws.uncacheable;
		st->bypass += ws.bypass;
		st->flushes += ws.flushes;
		st->entries += ws.entries;
		st->active |= ws.active;
	}
	nb_bridge_resume(br);
}
