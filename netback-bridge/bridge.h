/*
 * The forwarding engine: ports, the learning switch, anti-spoofing and the rule
 * engine joined into one poll loop. Every frame a port receives is parsed once,
 * checked against its port's anti-spoofing, learned, and for every egress port the
 * switch picks, run through the forward chain of the current ruleset; what is
 * accepted is sent in bursts. A port gives at most one burst per loop turn, so a
 * guest flooding its vif cannot starve the others.
 *
 * Threads: one thread runs the loop (nb_bridge_run_once). nb_bridge_ruleset_swap may
 * be called from any thread; everything else from the loop's thread.
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

struct nb_bridge;

struct nb_bridge_config {
	const struct flt_logger *log; /* NULL: stderr */
	struct nb_switch_config sw;   /* MAC table size and aging */
	struct flt_ct_table *ct;      /* borrowed; may be NULL when no ruleset uses ct */
	unsigned burst;		      /* frames per port per turn, <= NB_BURST_MAX; 0: 32 */
	uint32_t flowcache_entries;   /* flow cache size (filters/flowcache.h); 0: 65536 */
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
 * MAC, when set, becomes a static switch entry. Returns 0 and the port's index in
 * *@index (may be NULL), -ENOSPC past NB_MAX_PORTS, -EEXIST for a name or MAC
 * already used, or the switch's error.
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
 * ruleset it replaces. A burst sees exactly one ruleset. The caller frees the old one
 * once no burst uses it: at once when the loop runs in the caller's own thread
 * between two nb_bridge_run_once() calls; from another thread, once
 * nb_bridge_turns() has moved on from its value after the swap.
 */
const struct flt_ruleset *nb_bridge_ruleset_swap(struct nb_bridge *br,
						 const struct flt_ruleset *rs);

/* Loop turns so far (an epoch for freeing swapped-out rulesets from another thread). */
uint64_t nb_bridge_turns(const struct nb_bridge *br);

/*
 * One round of the loop: poll the ports and the caller's @extra fds (their revents are
 * set on return) for up to @timeout_ms, then forward until the ports are quiet or a
 * bounded number of turns have passed, so the caller's fds are served often. Returns
 * 0, or -errno when poll itself failed (EINTR is 0).
 */
int nb_bridge_run_once(struct nb_bridge *br, struct pollfd *extra, unsigned n_extra,
		       int timeout_ms);

/* What one port did. */
struct nb_port_info {
	char name[NB_IFNAMSIZ];
	const char *backend;
	bool guest; /* anti-spoofing on */
	struct nb_port_counters c;
};

/* How many ports; they are numbered 0..n-1 in the order they were added. */
unsigned nb_bridge_port_count(const struct nb_bridge *br);

/* Counters of port @i (reads the backend's counters: not for the packet path).
 * Returns 0 or -ENOENT. */
int nb_bridge_port_info(struct nb_bridge *br, unsigned i, struct nb_port_info *info);

/* The MAC table's counters. */
void nb_bridge_switch_stats(const struct nb_bridge *br, struct nb_switch_stats *st);

/* The flow cache's counters (hits, misses, evictions...). */
void nb_bridge_flowcache_stats(const struct nb_bridge *br, struct flt_fc_stats *st);

#endif
