/*
 * The bridge's state, shared by bridge.c (setup, the poll loop) and bridge_burst.c
 * (the per-frame path), and tap.c (capture taps). Nothing else includes it.
 */
#ifndef VIFWALL_NB_BRIDGE_INTERNAL_H
#define VIFWALL_NB_BRIDGE_INTERNAL_H

#include <stdatomic.h>

#include "netback-bridge/bridge.h"
#include "netback-bridge/reject.h"

/* Frames waiting to go out of one port; flushed after every ingress burst, so they
 * always point into a ring whose frames are still valid. */
struct nb_txq {
	unsigned n;
	struct nb_frame f[NB_BURST_MAX];
};

struct nb_bport {
	struct nb_port *port;
	struct nb_antispoof as;
	uint32_t rs_ifindex; /* the port's ifindex in the current ruleset's numbering */
	struct nb_port_counters c;
	struct nb_txq txq;
	uint8_t tap; /* NB_TAP_RX | NB_TAP_TX: a capture wants this port's frames (tap.h) */
};

struct nb_bridge {
	const struct flt_logger *log;
	struct flt_ct_table *ct;
	struct flt_flowcache *fc; /* verdicts of flows seen (filters/flowcache.h) */
	struct nb_switch *sw;
	unsigned burst;
	unsigned nports;
	_Atomic(const struct flt_ruleset *) rules;
	const struct flt_ruleset *seen_rules; /* what rs_ifindex was computed for */
	_Atomic uint64_t turns;
	const struct nb_tap *tap; /* captures and traces (tap.h); NULL when none */
	bool tap_drops;		  /* dropped frames go to tap->drop */
	uint64_t now_ns;	  /* monotonic time of the current turn */
	struct nb_bport ports[NB_MAX_PORTS];
	struct pollfd pfd[NB_MAX_PORTS + NB_MAX_EXTRA_FDS];
	struct nb_frame rx[NB_BURST_MAX];
	/* Answers to rejected frames of the current burst (reject.h), sent back out of
	 * their ingress port with the burst's other frames. */
	unsigned nrej;
	uint8_t rej[NB_BURST_MAX][NB_REJECT_MAX];
};

/* Receive one burst on port @in and forward it; returns how many frames came in. */
unsigned nb_bridge_burst(struct nb_bridge *br, const struct flt_ruleset *rs, uint16_t in);

#endif
