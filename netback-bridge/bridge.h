/*
 * The forwarding engine: ports, the learning switch, anti-spoofing and the rule
 * engine joined into one poll loop. Every frame a port receives is parsed once,
 * checked against its port's anti-spoofing, learned, and for every egress port the
 * switch picks, run through the forward chain of the current ruleset; what is
 * accepted is sent in bursts. A port gives at most one burst per loop turn, so a
 * guest flooding its vif cannot starve the others.
 *
 * Threads: the caller's thread runs the loop (nb_bridge_run_once) as worker 0; with
 * nb_bridge_config.workers > 1 the bridge starts the other workers itself, each with
 * its own handle on every port (the backend's fanout: a flow's frames always reach
 * the same worker, so flows are never reordered) and its own flow cache, sharing the
 * MAC table, the conntrack table and the ruleset (locks and atomics, see
 * bridge_internal.h). Call every function here from the loop's thread; those that
 * change ports or taps park the other workers meanwhile.
 */
#ifndef VIFWALL_NB_BRIDGE_H
#define VIFWALL_NB_BRIDGE_H

#include <poll.h>
#include <stdint.h>

#include "filters/flowcache.h"
#include "filters/log.h"
#include "filters/ruleset.h"
#include "netback-bridge/antispoof.h"
#include "netback-bridge/counters.h"
#include "netback-bridge/port.h"
#include "netback-bridge/switch.h"

#define NB_MAX_PORTS	 64
#define NB_MAX_EXTRA_FDS 64 /* caller fds nb_bridge_run_once() polls too */
#define NB_MAX_WORKERS	 16 /* more would only share the few vCPUs a driver domain has */

struct nb_bridge;

struct nb_bridge_config {
	const struct flt_logger *log; /* NULL: stderr */
	struct nb_switch_config sw;   /* MAC table size and aging */
	struct flt_ct_table *ct;      /* borrowed; may be NULL when no ruleset uses ct */
	unsigned burst;		      /* frames per port per turn, <= NB_BURST_MAX; 0: 32 */
	uint32_t flowcache_entries; /* flow cache size per worker (filters/flowcache.h); 0: 65536 */
	unsigned workers;	    /* forwarding threads, the caller's included; 0: 1.
				       With more than one, every port's backend must
				       share a device (open_sibling) and @ct must have
				       been made shared (flt_ct_config.shared). */
};

/* Create a bridge with no port and no ruleset (frames are dropped by rule until one
 * is installed). Returns 0 and *out, -EINVAL or -ENOMEM. */
int nb_bridge_new(const struct nb_bridge_config *cfg, struct nb_bridge **out);

/* Close every port and free @br; NULL is a no-op. The installed ruleset and the
 * conntrack table stay the caller's. */
void nb_bridge_free(struct nb_bridge *br);

/*
 * Add @port (the bridge owns it from now on, also on failure). @as is the guest
 * port's anti-spoofing (copied; NULL for the uplink, which is never checked); its
 * MAC, when set, becomes a static switch entry. With several workers the bridge
 * opens one sibling handle per other worker. Returns 0 and the port's index in
 * *@index (may be NULL), -ENOSPC past NB_MAX_PORTS, -EEXIST for a name or MAC
 * already used, the backend's error opening siblings (-EOPNOTSUPP when it cannot),
 * or the switch's error.
 */
int nb_bridge_add_port(struct nb_bridge *br, struct nb_port *port, const struct nb_antispoof *as,
		       unsigned *index);

/*
 * Detach port @name: forget its MAC entries (static and learned), close it. The last
 * port takes its index, so indexes of nb_bridge_port_info() change; call it from the
 * loop's thread between two nb_bridge_run_once() (nothing is queued then). Returns 0
 * or -ENOENT when no port has that name.
 */
int nb_bridge_remove_port(struct nb_bridge *br, const char *name);

/*
 * Install @rs (borrowed; NULL drops every frame) for the next burst and return the
 * ruleset it replaces. A burst sees exactly one ruleset. Call it from the loop's
 * thread between two nb_bridge_run_once() calls: when it returns, no worker uses the
 * old ruleset any more (it waits until the others have finished their turn) and the
 * caller may free it.
 */
const struct flt_ruleset *nb_bridge_ruleset_swap(struct nb_bridge *br,
						 const struct flt_ruleset *rs);

/* Loop turns of worker 0 so far (tests use it to see the loop move). */
uint64_t nb_bridge_turns(const struct nb_bridge *br);

/* Forwarding threads, the caller's included. */
unsigned nb_bridge_workers(const struct nb_bridge *br);

/*
 * One round of the loop: poll the ports and the caller's @extra fds (their revents are
 * set on return) for up to @timeout_ms, then forward until the ports are quiet or a
 * bounded number of turns have passed, so the caller's fds are served often. Returns
 * 0, or -errno when poll itself failed (EINTR is 0).
 */
int nb_bridge_run_once(struct nb_bridge *br, struct pollfd *extra, unsigned n_extra,
		       int timeout_ms);

/* What one port did (summed over the workers). */
struct nb_port_info {
	char name[NB_IFNAMSIZ];
	const char *backend;
	bool guest; /* anti-spoofing on */
	struct nb_port_counters c;
	uint64_t worker_rx[NB_MAX_WORKERS]; /* frames each worker received on the port */
};

/* How many ports; they are numbered 0..n-1 in the order they were added. */
unsigned nb_bridge_port_count(const struct nb_bridge *br);

/* Counters of port @i (reads the backend's counters: not for the packet path).
 * Returns 0 or -ENOENT. */
int nb_bridge_port_info(struct nb_bridge *br, unsigned i, struct nb_port_info *info);

/* The MAC table's counters. */
void nb_bridge_switch_stats(struct nb_bridge *br, struct nb_switch_stats *st);

/* The flow caches' counters (hits, misses, evictions...), all workers' added up. */
void nb_bridge_flowcache_stats(struct nb_bridge *br, struct flt_fc_stats *st);

#endif
