/*
 * vifwall's connection tracker: what the kernel's nf_conntrack computes for a packet
 * at PREROUTING (nf_conntrack_in) and confirms at POSTROUTING (nf_conntrack_confirm),
 * so that nft's `ct` expression (nft_ct_get_eval) gives the same answers in userspace
 * as in the kernel with default sysctls (tcp_loose=1, tcp_be_liberal=0, checksum=1,
 * acct=0, no helpers, no NAT, zone 0).
 *
 * Ownership: flt_ct_table_new() allocates everything (entry pool, hash table); nothing
 * on the packet path allocates or blocks. struct flt_ct_pkt lives on the caller's
 * stack; it may point into the table (the kernel's skb->_nfct reference) until
 * flt_ct_confirm() releases it, so call flt_ct_confirm() exactly once for every
 * flt_ct_in(), before the next flt_ct_in() of the same thread.
 *
 * Threads: a table made with flt_ct_config.shared may be used by several workers:
 * flt_ct_in() takes its lock and flt_ct_confirm() releases it, so one packet at a time
 * holds the table from lookup to confirmation, like a packet's conntrack reference in
 * the kernel (and everything between, the rules reading ct keys, sees a stable entry).
 * Without it the table belongs to one thread and nothing locks.
 *
 * Known divergences from the kernel are listed at the top of filters/conntrack.c.
 */
#ifndef VIFWALL_FILTERS_CONNTRACK_H
#define VIFWALL_FILTERS_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/packet.h"

struct flt_ct_table;
struct flt_ct_entry;

/* The kernel's internal IP_CT_UNTRACKED (not in the uapi headers). */
#define FLT_CT_UNTRACKED 7

struct flt_ct_config {
	uint32_t max_entries; /* pool size (nf_conntrack_max); 0 means 65536 */
	/* Timeouts in seconds; 0 means the kernel's default. */
	uint32_t tcp_timeouts[14]; /* indexed by enum tcp_conntrack, up to
				      TCP_CONNTRACK_TIMEOUT_MAX (RETRANS, UNACK) */
	uint32_t udp_unreplied, udp_replied;
	uint32_t icmp, icmpv6, generic;
	uint32_t gre_unreplied, gre_replied;
	bool shared; /* several threads use the table (see Threads above) */
};

/*
 * Create a table. @cfg may be NULL (all defaults). Returns 0 and *out, -EINVAL for an
 * unreasonable size, or -ENOMEM. Free with flt_ct_table_free().
 */
int flt_ct_table_new(const struct flt_ct_config *cfg, struct flt_ct_table **out);

/* Free a table and every entry in it. NULL is a no-op. No flt_ct_pkt may still point
 * into it. */
void flt_ct_table_free(struct flt_ct_table *t);

/* Per-packet result, like the kernel's skb->_nfct: lives on the caller's stack. */
struct flt_ct_pkt {
	struct flt_ct_entry *ct; /* NULL: no conntrack (state invalid or untracked) */
	uint64_t now_ns;	 /* the time given to flt_ct_in */
	uint8_t ctinfo;		 /* enum ip_conntrack_info when ct != NULL;
				    FLT_CT_UNTRACKED when untracked */
	bool invalid;		 /* no ct and not untracked: `ct state invalid` */
	bool untracked;		 /* the kernel set IP_CT_UNTRACKED (ICMPv6 ND, MLD) */
	bool drop;		 /* the kernel drops the packet in conntrack itself (table
				    full, TCP reopen race): it never reaches the rules */
	bool inexact;		 /* the kernel has a dedicated tracker for this protocol that
				    we do not implement (SCTP, DCCP on 6.1): the answer
				    comes from the generic tracker and may differ */
};

/*
 * What nf_conntrack_in does at PREROUTING for @pkt at time @now_ns (monotonic): find
 * the entry or create an unconfirmed one, run the protocol's state machine, and fill
 * @out. Never allocates, never fails: a packet the kernel would not track gets
 * out->invalid (or out->untracked, or out->drop).
 */
void flt_ct_in(struct flt_ct_table *t, const struct flt_pkt *pkt, uint64_t now_ns,
	       struct flt_ct_pkt *out);

/*
 * After the verdict: an entry created by this packet is inserted (confirmed) only when
 * @accepted, as the kernel does at POSTROUTING; a dropped first packet leaves nothing.
 * Releases @cp's reference into the table (cp->ct becomes NULL). Call once per
 * flt_ct_in, whatever the verdict.
 */
void flt_ct_confirm(struct flt_ct_table *t, struct flt_ct_pkt *cp, bool accepted);

/*
 * What nft_ct_get_eval writes into the destination register for @key (enum nft_ct_keys)
 * and @dir (-1 for none, IP_CT_DIR_ORIGINAL or IP_CT_DIR_REPLY), with the kernel's byte
 * layout: host-endian u32 for state, status, mark and expiration (ms); one u8 zero-padded
 * to 4 bytes for direction, l3proto, protocol; network-order 2 bytes zero-padded to 4 for
 * proto-src/proto-dst; network-order addresses (4 bytes for IPv4 and 16 for IPv6 with
 * NFT_CT_SRC/DST, like the kernel, which leaves the rest of the register alone).
 * @len is the room at @dst; it must be at least 16 for NFT_CT_SRC/DST and 4 otherwise.
 * Returns false exactly where the kernel's expression breaks (NFT_BREAK): no conntrack
 * for any key but state, or an address key of the other family; also for an
 * unsupported key or a too small @len.
 */
bool flt_ct_get(const struct flt_ct_pkt *cp, uint32_t key, int dir, uint64_t now_ns, uint8_t *dst,
		uint32_t len);

/* Whether flt_ct_get implements @key with @dir (-1 none), and the kernel accepts that
 * combination (nft_ct_get_init): the rule compiler refuses the rest at load time. */
bool flt_ct_key_supported(uint32_t key, int dir);

/* Expire timed-out entries, looking at no more than @budget hash buckets from where the
 * previous call stopped. */
void flt_ct_gc(struct flt_ct_table *t, uint64_t now_ns, unsigned budget);

struct flt_ct_stats {
	uint32_t entries;	   /* entries in use (confirmed or not) */
	uint32_t max_entries;	   /* pool size */
	uint64_t inserted;	   /* entries confirmed */
	uint64_t expired;	   /* entries removed after their timeout */
	uint64_t early_drops;	   /* non-assured entries evicted to make room */
	uint64_t table_full_drops; /* packets dropped: full and nothing to evict */
	uint64_t invalid;	   /* packets without a conntrack (state invalid) */
	uint64_t untracked;	   /* packets marked untracked */
};

/* Counters since the table was created. */
void flt_ct_get_stats(struct flt_ct_table *t, struct flt_ct_stats *st);

/* For tests and traces: the TCP state (enum tcp_conntrack) of @cp's entry, or -1 when
 * it has none or is not TCP. */
int flt_ct_tcp_state(const struct flt_ct_pkt *cp);

#endif
