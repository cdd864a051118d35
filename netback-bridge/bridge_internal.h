/*
 * The bridge's state, shared by bridge.c (setup, ports, the caller's loop),
 * bridge_worker.c (worker threads), bridge_burst.c (the per-frame path) and tap.c
 * (capture taps). Nothing else includes it.
 */
#ifndef VIFWALL_NB_BRIDGE_INTERNAL_H
#define VIFWALL_NB_BRIDGE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "netback-bridge/bridge.h"
#include "netback-bridge/reject.h"

/* Frames waiting to go out of one port; flushed after every ingress burst, so they
 * always point into a ring whose frames are still valid. */
struct nb_txq {
	unsigned n;
	struct nb_frame f[NB_BURST_MAX];
};

/* A port as every worker shares it: what it is and how it is checked. */
struct nb_bport {
	struct nb_port *port; /* worker 0's handle: the port's name and backend */
	struct nb_antispoof as;
	_Atomic uint8_t tap; /* NB_TAP_RX | NB_TAP_TX: a capture wants this port's frames */
};

/* A port as one worker serves it: its own handle on the device (a fanout sibling:
 * the device's flows are spread over the workers), its own transmit queue and
 * counters (summed when read), so the frame path shares nothing per port. */
struct nb_wport {
	struct nb_port *port;
	uint32_t rs_ifindex; /* the port's ifindex in the current ruleset's numbering */
	struct nb_port_counters c;
	struct nb_txq txq;
};

/* A received frame between the two passes of its burst (bridge_burst.c): the first
 * decides where it goes and builds its flow-cache key, the second filters and queues. */
struct nb_job {
	struct flt_pkt pkt;
	uint8_t nout;	 /* egress ports; 0: the first pass dropped the frame */
	uint8_t pkttype; /* PACKET_HOST, _BROADCAST or _MULTICAST, from the destination */
	uint16_t out[NB_MAX_PORTS];
	struct flt_fc_key key; /* out[0]'s, built when the frame has one egress port */
};

/* One thread of the data plane. Worker 0 is the caller's (nb_bridge_run_once); the
 * others run their own poll loop (bridge_worker.c). */
struct nb_worker {
	struct nb_bridge *br;
	unsigned id;
	struct flt_flowcache *fc;	      /* verdicts of flows seen (filters/flowcache.h) */
	const struct flt_ruleset *seen_rules; /* what rs_ifindex was computed for */
	uint64_t now_ns;		      /* monotonic time of the current turn */
	_Atomic uint64_t turns;
	struct nb_wport ports[NB_MAX_PORTS];
	struct nb_frame rx[NB_BURST_MAX];
	struct nb_job job[NB_BURST_MAX];
	/* Answers to rejected frames of the current burst (reject.h), sent back out of
	 * their ingress port with the burst's other frames. */
	unsigned nrej;
	uint8_t rej[NB_BURST_MAX][NB_REJECT_MAX];
	/* Workers 1..n-1 only: */
	pthread_t thread;
	int wake_fd; /* eventfd: pause or stop wanted */
	struct pollfd pfd[NB_MAX_PORTS + 1];
};

struct nb_bridge {
	const struct flt_logger *log;
	struct flt_ct_table *ct;
	struct nb_switch *sw;
	unsigned burst;
	unsigned nports;
	_Atomic(const struct flt_ruleset *) rules;
	_Atomic(const struct nb_tap *) tap; /* captures and traces (tap.h); NULL when none */
	_Atomic bool tap_drops;		    /* dropped frames go to tap->drop */
	struct nb_bport ports[NB_MAX_PORTS];
	struct pollfd pfd[NB_MAX_PORTS + NB_MAX_EXTRA_FDS];
	/* Workers. With more than one, what they share is locked: the MAC table by
	 * sw_lock (once per frame), the tap callbacks by tap_lock, the conntrack table by
	 * its own lock (filters/conntrack.h); the rest of the bridge (ports, taps set)
	 * changes only while every other worker is parked (nb_bridge_pause). */
	unsigned nworkers;
	struct nb_worker *workers;
	pthread_mutex_t sw_lock, tap_lock;
	pthread_mutex_t park_lock;
	pthread_cond_t parked_cv, resume_cv;
	_Atomic bool pause, stop;
	unsigned parked;
};

/* Receive one burst on port @in as worker @w and forward it; returns how many frames
 * came in. */
unsigned nb_worker_burst(struct nb_worker *w, const struct flt_ruleset *rs, uint16_t in);

/* The ruleset for @w's next turn; on a change, the ports' ifindexes in its numbering
 * and a fresh flow cache generation. */
const struct flt_ruleset *nb_worker_rules(struct nb_worker *w);

/* Turns over every port, one burst from each per turn, until they are quiet or a
 * bounded number of turns passed (a paused bridge ends them too). */
void nb_worker_round(struct nb_worker *w);

/* Start workers 1..n-1 / stop and join them (bridge_worker.c). */
int nb_workers_start(struct nb_bridge *br);
void nb_workers_stop(struct nb_bridge *br);

/* Park every worker but the caller's (worker 0) at the start of its next turn, and
 * let them go again: what changes the ports or the taps does so in between. No-ops
 * with one worker. Called from worker 0's thread only. */
void nb_bridge_pause(struct nb_bridge *br);
void nb_bridge_resume(struct nb_bridge *br);

/* Where a worker parks when nb_bridge_pause asked it to. */
void nb_worker_park(struct nb_worker *w);

static inline uint64_t nb_now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
