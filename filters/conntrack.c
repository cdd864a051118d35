/*
 * The connection tracking table and the core of nf_conntrack_in / nf_conntrack_confirm:
 * a fixed pool of entries and a chained hash table (both allocated up front), lookup of
 * a packet's tuple in both directions, creation of unconfirmed entries, the dispatch to
 * the protocol trackers (conntrack_tcp.c, conntrack_icmp.c, conntrack_proto.c), early
 * drop when the pool is full, confirmation, expiry.
 *
 * Where we knowingly differ from the kernel (and why):
 * - Fragments: the kernel reassembles IPv4/IPv6 fragments (nf_defrag) before conntrack;
 *   we do not. A non-first fragment gets no conntrack (state invalid) while the kernel
 *   would track the reassembled packet. A first fragment is tracked from the headers it
 *   carries, without the L4 checksum check (it covers the whole datagram) and with its
 *   own length where TCP window tracking uses the reassembled one.
 * - Early drop: the kernel scans 8 hash buckets from the new tuple's, seeded randomly,
 *   and drops the non-assured confirmed entries of the first bucket that has any; we do
 *   the same over our own buckets, so which entry goes differs. Expired entries met in
 *   that scan are reclaimed and, unlike the kernel, count as room made.
 * - Expiry happens on lookup, in the early-drop scan and in flt_ct_gc(); the kernel's
 *   gc worker runs on its own schedule. Entries are compared with nanosecond times,
 *   the kernel's with jiffies (4 ms at HZ=250), so a packet within a jiffy of a timeout
 *   may see the other outcome.
 * - Protocols: SCTP (and DCCP, which 6.1 still tracks) have dedicated trackers in the
 *   kernel; we track them generically and set flt_ct_pkt.inexact. UDP-Lite follows the
 *   kernel's rules but is also flagged inexact (its partial checksum path is untested
 *   against the kernel).
 * - No helpers, expectations, NAT, zones or timeout policies: IPS_EXPECTED and RELATED
 *   entries never occur; only ICMP errors are RELATED.
 * - The L4 checksum is always checked (as for CHECKSUM_NONE skbs). Packets that the
 *   kernel receives with CHECKSUM_UNNECESSARY/PARTIAL (veth from a local socket) are
 *   not checked there.
 */
#define _GNU_SOURCE /* PTHREAD_MUTEX_ADAPTIVE_NP */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "filters/conntrack_internal.h"
#include "filters/hugemem.h"

#define CT_DEFAULT_MAX	  65536u
#define CT_MAX_ENTRIES	  (1u << 26)
#define CT_EVICTION_RANGE 8 /* NF_CT_EVICTION_RANGE */
#define IPPROTO_DCCP_	  33

static uint64_t secs(uint32_t cfg, uint32_t dflt)
{
	return (uint64_t)(cfg ? cfg : dflt) * CT_NSEC;
}

static void ct_timeouts_init(struct flt_ct_timeouts *to, const struct flt_ct_config *c)
{
	static const uint32_t tcp_dflt[TCP_CONNTRACK_TIMEOUT_MAX] = {
		[TCP_CONNTRACK_SYN_SENT] = 120,	      [TCP_CONNTRACK_SYN_RECV] = 60,
		[TCP_CONNTRACK_ESTABLISHED] = 432000, [TCP_CONNTRACK_FIN_WAIT] = 120,
		[TCP_CONNTRACK_CLOSE_WAIT] = 60,      [TCP_CONNTRACK_LAST_ACK] = 30,
		[TCP_CONNTRACK_TIME_WAIT] = 120,      [TCP_CONNTRACK_CLOSE] = 10,
		[TCP_CONNTRACK_SYN_SENT2] = 120,      [TCP_CONNTRACK_RETRANS] = 300,
		[TCP_CONNTRACK_UNACK] = 300,
	};

	for (unsigned i = 0; i < TCP_CONNTRACK_TIMEOUT_MAX; i++)
		to->tcp[i] = secs(c->tcp_timeouts[i], tcp_dflt[i]);
	to->udp_unreplied = secs(c->udp_unreplied, 30);
	to->udp_replied = secs(c->udp_replied, 120);
	to->icmp = secs(c->icmp, 30);
	to->icmpv6 = secs(c->icmpv6, 30);
	to->generic = secs(c->generic, 600);
	to->gre_unreplied = c->gre_unreplied ? c->gre_unreplied : 30;
	to->gre_replied = c->gre_replied ? c->gre_replied : 180;
}

int flt_ct_table_new(const struct flt_ct_config *cfg, struct flt_ct_table **out)
{
	static const struct flt_ct_config dflt;
	struct flt_ct_table *t;
	uint32_t max, nb = 1;

	if (!cfg)
		cfg = &dflt;
	max = cfg->max_entries ? cfg->max_entries : CT_DEFAULT_MAX;
	if (max > CT_MAX_ENTRIES)
		return -EINVAL;
	while (nb < max)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->max = max;
	t->nbuckets = nb;
	t->pool = flt_hugemem_alloc((size_t)max * sizeof(*t->pool));
	t->buckets = flt_hugemem_alloc((size_t)nb * sizeof(*t->buckets));
	if (!t->pool || !t->buckets) {
		flt_ct_table_free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb; i++)
		t->buckets[i] = CT_NONE;
	for (uint32_t i = 0; i < max; i++)
		t->pool[i].free_next = i + 1 < max ? i + 1 : CT_NONE;
	t->free_head = 0;
	/* A secret seed, so a guest cannot aim all its flows at one chain. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	ct_timeouts_init(&t->to, cfg);
	t->st.max_entries = max;
	t->shared = cfg->shared;
	if (t->shared) {
		pthread_mutexattr_t ma;

		/* Held for one packet's classification: spin briefly before sleeping. */
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
		pthread_mutex_init(&t->lock, &ma);
		pthread_mutexattr_destroy(&ma);
	}
	*out = t;
	return 0;
}

void flt_ct_table_free(struct flt_ct_table *t)
{
	if (!t)
		return;
	flt_hugemem_free(t->pool, (size_t)t->max * sizeof(*t->pool));
	flt_hugemem_free(t->buckets, (size_t)t->nbuckets * sizeof(*t->buckets));
	if (t->shared)
		pthread_mutex_destroy(&t->lock);
	free(t);
}

static uint32_t ct_hash(const struct flt_ct_table *t, const struct ct_tuple *tu)
{
	uint64_t h = t->seed, w;
	const uint8_t *p = (const uint8_t *)tu;

	_Static_assert(sizeof(struct ct_tuple) % 8 == 0, "tuple hashed in 8-byte words");
	for (size_t i = 0; i < sizeof(*tu); i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	return (uint32_t)h & (t->nbuckets - 1);
}

static uint32_t ct_index(const struct flt_ct_table *t, const struct flt_ct_entry *e)
{
	return (uint32_t)(e - t->pool);
}

static void ct_unhash(struct flt_ct_table *t, struct flt_ct_entry *e)
{
	uint32_t idx = ct_index(t, e);

	for (unsigned d = 0; d < CT_DIR_MAX; d++) {
		uint32_t *link = &t->buckets[e->bucket[d]];
		uint32_t node = idx * 2 + d;

		while (*link != CT_NONE && *link != node)
			link = &t->pool[*link >> 1].hnext[*link & 1];
		if (*link == node)
			*link = e->hnext[d];
	}
	e->hashed = false;
}

static void ct_free(struct flt_ct_table *t, struct flt_ct_entry *e)
{
	e->in_use = false;
	e->orphan = false;
	e->free_next = t->free_head;
	t->free_head = ct_index(t, e);
	t->used--;
}

/* nf_ct_kill(): out of the table now; freed now, or when the packet that still points
 * at it (@referenced) is done. */
void ct_kill(struct flt_ct_table *t, struct flt_ct_entry *e, bool referenced)
{
	if (e->hashed)
		ct_unhash(t, e);
	e->status |= IPS_DYING;
	if (referenced)
		e->orphan = true;
	else
		ct_free(t, e);
}

/* Walk @bucket's chain; an expired entry met on the way is removed (the kernel's
 * nf_ct_gc_expired on lookup). Returns the entry holding @tu, with the direction of
 * @tu in it in *dir, or NULL. */
static struct flt_ct_entry *ct_chain_find(struct flt_ct_table *t, uint32_t bucket,
					  const struct ct_tuple *tu, uint64_t now, int *dir)
{
restart:
	for (uint32_t n = t->buckets[bucket]; n != CT_NONE;) {
		struct flt_ct_entry *e = &t->pool[n >> 1];
		unsigned d = n & 1;

		if (ct_expired(e, now)) {
			ct_kill(t, e, false);
			t->st.expired++;
			goto restart; /* the chain changed under us */
		}
		if (memcmp(&e->tuple[d], tu, sizeof(*tu)) == 0) {
			*dir = (int)d;
			return e;
		}
		n = e->hnext[d];
	}
	return NULL;
}

struct flt_ct_entry *ct_find(struct flt_ct_table *t, const struct ct_tuple *tu, uint64_t now,
			     int *dir)
{
	return ct_chain_find(t, ct_hash(t, tu), tu, now, dir);
}

/* One bucket of early_drop(): reclaim expired entries, evict non-assured ones.
 * Returns how many entries went. */
static unsigned ct_early_drop_bucket(struct flt_ct_table *t, uint32_t bucket, uint64_t now)
{
	unsigned gone = 0;

restart:
	for (uint32_t n = t->buckets[bucket]; n != CT_NONE;) {
		struct flt_ct_entry *e = &t->pool[n >> 1];

		if (ct_expired(e, now)) {
			ct_kill(t, e, false);
			t->st.expired++;
			gone++;
			goto restart;
		}
		if (!(e->status & IPS_ASSURED)) {
			ct_kill(t, e, false);
			t->st.early_drops++;
			gone++;
			goto restart;
		}
		n = e->hnext[n & 1];
	}
	return gone;
}

/* __nf_conntrack_alloc(): an entry from the pool, making room if it is full. */
static struct flt_ct_entry *ct_alloc(struct flt_ct_table *t, uint32_t bucket, uint64_t now)
{
	struct flt_ct_entry *e;

	if (t->used >= t->max) {
		unsigned i;

		for (i = 0; i < CT_EVICTION_RANGE; i++) {
			if (ct_early_drop_bucket(t, (bucket + i) & (t->nbuckets - 1), now))
				break;
		}
		if (i == CT_EVICTION_RANGE || t->free_head == CT_NONE)
			return NULL;
	}
	e = &t->pool[t->free_head];
	t->free_head = e->free_next;
	t->used++;
	memset(e, 0, sizeof(*e));
	e->in_use = true;
	return e;
}

static void ct_mark_invalid(struct flt_ct_table *t, struct flt_ct_pkt *out)
{
	out->ct = NULL;
	out->invalid = true;
	t->st.invalid++;
}

/* nf_conntrack_handle_packet(): the protocol's tracker. */
static enum ct_verdict ct_handle(struct flt_ct_table *t, struct flt_ct_entry *e,
				 const struct ct_view *v, uint32_t dataoff, uint8_t ctinfo,
				 uint64_t now, struct flt_ct_pkt *out)
{
	switch (e->tuple[0].proto) {
	case IPPROTO_TCP:
		return ct_tcp_packet(t, e, v, dataoff, ctinfo, now);
	case IPPROTO_UDP:
		return ct_udp_packet(t, e, v, dataoff, false, now);
	case IPPROTO_UDPLITE:
		out->inexact = true;
		return ct_udp_packet(t, e, v, dataoff, true, now);
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return ct_icmp_packet(t, e, v->pf, now);
	case IPPROTO_GRE:
		return ct_gre_packet(t, e, now);
	case IPPROTO_SCTP:
	case IPPROTO_DCCP_:
		out->inexact = true;
		break;
	default:
		break;
	}
	ct_refresh(e, t->to.generic, now);
	return CT_ACCEPT;
}

static void ct_in(struct flt_ct_table *t, const struct flt_pkt *pkt, uint64_t now_ns,
		  struct flt_ct_pkt *out)
{
	struct ct_view v;
	struct ct_tuple tu;
	struct flt_ct_entry *e;
	enum ct_verdict verdict;
	uint8_t proto, ctinfo;
	int dataoff, dir;

	memset(out, 0, sizeof(*out));
	out->now_ns = now_ns;
	if (pkt->status != FLT_PKT_IP) {
		ct_mark_invalid(t, out);
		return;
	}
	v.p = pkt->frame + pkt->nh;
	v.len = pkt->len;
	v.pf = pkt->nfproto;
	v.first_frag = (pkt->flags & FLT_PKT_F_FRAG) && pkt->fragoff == 0;

	dataoff = ct_l4_locate(&v, 0, &proto);
	if (dataoff <= 0) {
		ct_mark_invalid(t, out);
		return;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (!ct_icmp_error(t, &v, (uint32_t)dataoff, proto, now_ns, out)) {
			ct_mark_invalid(t, out);
			return;
		}
		if (out->untracked) {
			t->st.untracked++;
			return;
		}
		if (out->ct)
			return; /* an error related to a known connection */
	}
repeat:
	/* resolve_normal_ct() */
	if (!ct_get_tuple(&v, 0, (uint32_t)dataoff, proto, &tu)) {
		ct_mark_invalid(t, out);
		return;
	}
	e = ct_find(t, &tu, now_ns, &dir);
	if (!e) {
		struct ct_tuple rep;
		uint32_t bucket = ct_hash(t, &tu);

		if (!ct_invert_tuple(&rep, &tu)) {
			ct_mark_invalid(t, out);
			return;
		}
		e = ct_alloc(t, bucket, now_ns);
		if (!e) {
			/* Too stressed to deal: the kernel drops the packet here. */
			out->drop = true;
			t->st.table_full_drops++;
			return;
		}
		e->tuple[IP_CT_DIR_ORIGINAL] = tu;
		e->tuple[IP_CT_DIR_REPLY] = rep;
		dir = IP_CT_DIR_ORIGINAL;
	}
	if (dir == IP_CT_DIR_REPLY)
		ctinfo = IP_CT_ESTABLISHED_REPLY;
	else if (e->status & IPS_SEEN_REPLY)
		ctinfo = IP_CT_ESTABLISHED;
	else
		ctinfo = IP_CT_NEW;

	verdict = ct_handle(t, e, &v, (uint32_t)dataoff, ctinfo, now_ns, out);
	if (verdict != CT_ACCEPT) {
		/* The packet gives up its conntrack; a new one is simply forgotten. */
		if (verdict == CT_REPEAT) {
			ct_kill(t, e, false);
			goto repeat;
		}
		if (!(e->status & IPS_CONFIRMED) && !e->orphan)
			ct_free(t, e);
		if (verdict == CT_DROP)
			out->drop = true;
		ct_mark_invalid(t, out);
		return;
	}
	if (ctinfo == IP_CT_ESTABLISHED_REPLY)
		e->status |= IPS_SEEN_REPLY;
	out->ct = e;
	out->ctinfo = ctinfo;
}

static void ct_hash_insert(struct flt_ct_table *t, struct flt_ct_entry *e)
{
	uint32_t idx = ct_index(t, e);

	for (unsigned d = 0; d < CT_DIR_MAX; d++) {
		uint32_t b = ct_hash(t, &e->tuple[d]);

		e->bucket[d] = b;
		e->hnext[d] = t->buckets[b];
		t->buckets[b] = idx * 2 + d;
	}
	e->hashed = true;
}

void flt_ct_in(struct flt_ct_table *t, const struct flt_pkt *pkt, uint64_t now_ns,
	       struct flt_ct_pkt *out)
{
	/* Released by flt_ct_confirm: the packet points into the table until then. */
	if (t->shared)
		pthread_mutex_lock(&t->lock);
	ct_in(t, pkt, now_ns, out);
}

static void ct_confirm(struct flt_ct_table *t, struct flt_ct_pkt *cp, bool accepted)
{
	struct flt_ct_entry *e = cp->ct;
	int dir;

	if (!e)
		return;
	cp->ct = NULL;
	if (e->orphan) {
		ct_free(t, e);
		return;
	}
	if (e->status & IPS_CONFIRMED)
		return;
	/* __nf_conntrack_confirm(): a dropped packet leaves no entry; nor does one that
	 * lost a race to an identical entry (only possible when the caller interleaves
	 * packets between flt_ct_in and flt_ct_confirm). */
	if (!accepted || ct_find(t, &e->tuple[0], cp->now_ns, &dir) ||
	    ct_find(t, &e->tuple[1], cp->now_ns, &dir)) {
		ct_free(t, e);
		return;
	}
	e->timeout += cp->now_ns;
	ct_hash_insert(t, e);
	e->status |= IPS_CONFIRMED;
	t->st.inserted++;
}

void flt_ct_confirm(struct flt_ct_table *t, struct flt_ct_pkt *cp, bool accepted)
{
	ct_confirm(t, cp, accepted);
	if (t->shared)
		pthread_mutex_unlock(&t->lock);
}

void flt_ct_gc(struct flt_ct_table *t, uint64_t now_ns, unsigned budget)
{
	if (t->shared)
		pthread_mutex_lock(&t->lock);
	while (budget--) {
		uint32_t b = t->gc_next;

	restart:
		for (uint32_t n = t->buckets[b]; n != CT_NONE;) {
			struct flt_ct_entry *e = &t->pool[n >> 1];

			if (ct_expired(e, now_ns)) {
				ct_kill(t, e, false);
				t->st.expired++;
				goto restart;
			}
			n = e->hnext[n & 1];
		}
		t->gc_next = (b + 1) & (t->nbuckets - 1);
	}
	if (t->shared)
		pthread_mutex_unlock(&t->lock);
}

void flt_ct_get_stats(struct flt_ct_table *t, struct flt_ct_stats *st)
{
	if (t->shared)
		pthread_mutex_lock(&t->lock);
	*st = t->st;
	st->entries = t->used;
	if (t->shared)
		pthread_mutex_unlock(&t->lock);
}

int flt_ct_tcp_state(const struct flt_ct_pkt *cp)
{
	if (!cp->ct || cp->ct->tuple[0].proto != IPPROTO_TCP)
		return -1;
	return cp->ct->proto.tcp.state;
}
