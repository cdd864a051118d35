/*
 * Per-port counters of the data plane: what came in, what went out, and why every
 * dropped frame was dropped. Each worker has its own set per port and is its only
 * writer; readers (stats, the control socket) in another thread load them relaxed
 * (nb_counter_read) and may see a slightly stale value, never a torn one. Relaxed
 * single-writer atomics cost a plain add on x86: no locked instruction.
 */
#ifndef VIFWALL_NB_COUNTERS_H
#define VIFWALL_NB_COUNTERS_H

#include <stdint.h>

/* Why a frame was dropped. Counted on the port the frame came in on, except
 * NB_DROP_TX, which is counted on the port that failed to send it. */
enum nb_drop_reason {
	NB_DROP_NONE = 0,     /* not dropped; keep first */
	NB_DROP_SPOOF_MAC,    /* Ethernet source is not the guest's MAC */
	NB_DROP_SPOOF_IP4,    /* IPv4 source is not one of the guest's addresses */
	NB_DROP_SPOOF_IP6,    /* IPv6 source is not one of the guest's addresses */
	NB_DROP_SPOOF_ARP,    /* ARP sender MAC or IP is not the guest's (or not Ethernet/IPv4) */
	NB_DROP_SPOOF_ND,     /* neighbour advertisement for an address not the guest's */
	NB_DROP_RULE,	      /* the forward chain said drop or reject (once per egress port) */
	NB_DROP_MALFORMED,    /* runt or an IP header the kernel would refuse */
	NB_DROP_ETHERTYPE,    /* neither IP nor ARP */
	NB_DROP_CONNTRACK,    /* the connection tracker dropped it (table full) */
	NB_DROP_LOCAL,	      /* destination lives on the port it came from */
	NB_DROP_TRUNCATED,    /* larger than the receive ring's block: only part was captured */
	NB_DROP_TX,	      /* the egress port refused it (queue full, too big for its MTU) */
	NB_DROP_REASON_COUNT, /* number of values; keep last */
};

struct nb_port_counters {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t drops[NB_DROP_REASON_COUNT]; /* drops[NB_DROP_NONE] stays 0 */
	uint64_t ring_drops;		      /* frames the kernel could not put in the ring */
};

/* Add @n to counter @c; only its owning worker does. */
static inline void nb_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* A counter another thread writes. */
static inline uint64_t nb_counter_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* A short stable name for @r ("spoof-mac", "rule"...), for counters and traces;
 * "invalid" for a value out of range. Never NULL. */
const char *nb_drop_reason_name(enum nb_drop_reason r);

/* Sum of every drop counter of @c, ring drops included. */
uint64_t nb_port_counters_drops(const struct nb_port_counters *c);

#endif
