/*
 * Shared between the conntrack files (conntrack.c: table and core; conntrack_proto.c:
 * header walk, tuples, checksums, UDP/GRE/generic; conntrack_tcp.c; conntrack_icmp.c;
 * conntrack_get.c). Not for other modules.
 */
#ifndef VIFWALL_FILTERS_CONNTRACK_INTERNAL_H
#define VIFWALL_FILTERS_CONNTRACK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>

#include "filters/conntrack.h"

#define CT_NSEC	   1000000000ull
#define CT_NONE	   UINT32_MAX
#define CT_DIR_MAX 2

/* The kernel's nf_conntrack_tuple, flattened. Compared with memcmp: keep every byte,
 * padding included, zeroed before filling. */
struct ct_tuple {
	uint8_t src[16]; /* IPv4 uses the first 4 bytes */
	uint8_t dst[16];
	uint8_t sp[2]; /* src.u.all: port, ICMP id, GRE key (network order) */
	uint8_t dp[2]; /* dst.u.all: port, GRE key, or ICMP {type, code} */
	uint8_t l3;    /* NFPROTO_IPV4 / NFPROTO_IPV6 */
	uint8_t proto; /* IPPROTO_* */
	uint8_t pad[2];
};

struct ct_tcp_side {
	uint32_t td_end, td_maxend, td_maxwin, td_maxack;
	uint8_t td_scale, flags;
};

struct ct_tcp {
	struct ct_tcp_side seen[2];
	uint32_t last_seq, last_ack, last_end;
	uint16_t last_win;
	uint8_t state, last_dir, last_index, last_flags, last_wscale, retrans;
};

struct flt_ct_entry {
	struct ct_tuple tuple[CT_DIR_MAX];
	uint32_t hnext[CT_DIR_MAX];  /* next node in the bucket chain (node = idx*2 + dir) */
	uint32_t bucket[CT_DIR_MAX]; /* the chain each direction hangs in */
	uint64_t timeout;	     /* ns: absolute once confirmed, relative before */
	uint32_t status;	     /* IPS_* */
	uint32_t free_next;	     /* pool free list */
	bool in_use, hashed;
	bool orphan; /* killed while a packet still points at it: freed at confirm */
	union {
		struct ct_tcp tcp;
		struct {
			uint64_t stream_ts;
		} udp;
		struct {
			uint32_t timeout, stream_timeout; /* seconds */
		} gre;
	} proto;
};

struct flt_ct_timeouts {
	uint64_t tcp[TCP_CONNTRACK_TIMEOUT_MAX];
	uint64_t udp_unreplied, udp_replied, icmp, icmpv6, generic;
	uint32_t gre_unreplied, gre_replied; /* seconds, copied into entries */
};

struct flt_ct_table {
	bool shared;	      /* flt_ct_config.shared: lock is used */
	pthread_mutex_t lock; /* flt_ct_in .. flt_ct_confirm, gc, stats */
	struct flt_ct_entry *pool;
	uint32_t *buckets; /* head node of each chain, CT_NONE when empty */
	uint32_t max, nbuckets, free_head, used;
	uint32_t gc_next;
	uint64_t seed;
	struct flt_ct_timeouts to;
	struct flt_ct_stats st;
};

/* The packet as conntrack sees it: the L3 packet (the kernel's skb data at PREROUTING). */
struct ct_view {
	const uint8_t *p; /* network header */
	uint32_t len;	  /* skb->len */
	uint8_t pf;	  /* NFPROTO_IPV4 / NFPROTO_IPV6 */
	bool first_frag;  /* a first fragment the kernel would have reassembled */
};

/* Verdicts of the protocol handlers, as nf_conntrack_in reads them. */
enum ct_verdict {
	CT_ACCEPT = 0, /* the packet keeps its conntrack */
	CT_INVALID,    /* -NF_ACCEPT: the packet loses its conntrack */
	CT_REPEAT,     /* -NF_REPEAT: entry killed, look up again */
	CT_DROP,       /* NF_DROP */
};

static inline uint16_t ct_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t ct_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* @n bytes at @off of the view, or NULL (skb_header_pointer failing). */
static inline const uint8_t *ct_ptr(const struct ct_view *v, uint32_t off, uint32_t n)
{
	if (off > v->len || n > v->len - off)
		return NULL;
	return v->p + off;
}

static inline bool ct_expired(const struct flt_ct_entry *e, uint64_t now)
{
	return (int64_t)(e->timeout - now) <= 0;
}

/* conntrack_proto.c */
int ct_l4_locate(const struct ct_view *v, uint32_t nhoff, uint8_t *proto);
bool ct_get_tuple(const struct ct_view *v, uint32_t nhoff, uint32_t dataoff, uint8_t proto,
		  struct ct_tuple *t);
bool ct_invert_tuple(struct ct_tuple *inv, const struct ct_tuple *orig);
bool ct_checksum_bad(const struct ct_view *v, uint32_t dataoff, uint8_t proto);
bool ct_checksum_bad_cov(const struct ct_view *v, uint32_t dataoff, uint32_t cover, uint8_t proto);
enum ct_verdict ct_udp_packet(struct flt_ct_table *t, struct flt_ct_entry *e,
			      const struct ct_view *v, uint32_t dataoff, bool lite, uint64_t now);
enum ct_verdict ct_gre_packet(struct flt_ct_table *t, struct flt_ct_entry *e, uint64_t now);
void ct_refresh(struct flt_ct_entry *e, uint64_t extra, uint64_t now);

/* conntrack_tcp.c */
enum ct_verdict ct_tcp_packet(struct flt_ct_table *t, struct flt_ct_entry *e,
			      const struct ct_view *v, uint32_t dataoff, uint8_t ctinfo,
			      uint64_t now);
bool ct_tcp_can_early_drop(const struct flt_ct_entry *e);

/* conntrack_icmp.c */
int ct_icmp_error(struct flt_ct_table *t, const struct ct_view *v, uint32_t dataoff, uint8_t proto,
		  uint64_t now, struct flt_ct_pkt *out);
enum ct_verdict ct_icmp_packet(struct flt_ct_table *t, struct flt_ct_entry *e, uint8_t pf,
			       uint64_t now);

/* conntrack.c */
struct flt_ct_entry *ct_find(struct flt_ct_table *t, const struct ct_tuple *tu, uint64_t now,
			     int *dir);
void ct_kill(struct flt_ct_table *t, struct flt_ct_entry *e, bool referenced);

#endif
