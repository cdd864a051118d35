/*
 * The flow cache: the first packet of a flow runs the chains, the next ones reuse its
 * verdict. Like an OVS megaflow, an entry is keyed by exactly what the ruleset can
 * look at, so reusing it is exact, not a guess:
 *
 * - At the first packet seen with a new ruleset, the cache derives a key plan from the
 *   rules' expressions: which bytes of the link, network and transport headers any
 *   payload load reads (per family and, for the transport header, per l4proto, when a
 *   rule's own `meta nfproto` / `meta l4proto` test guards the load), and which meta
 *   and ct facts are read. The key of a packet is then: hook, iif, oif, nfproto,
 *   l4proto and the parser's flags, how many bytes each header has up to the furthest
 *   byte read (a load past the end breaks), those bytes masked to what is read, and
 *   the value of every meta and ct load as its own expression computes it (ct state,
 *   direction, status... come from this packet's conntrack lookup). Two packets with
 *   the same key make every expression of every rule produce the same result, so
 *   they walk the same rules to the same verdict.
 * - While the first packet walks, the evaluator tells the cache which stateful
 *   expressions ran (flt_fc_trace_note). Counters (anonymous or named) are kept in the
 *   entry and bumped again on every hit, with the hit's own length. A walk that ran
 *   anything else with a per-packet effect (limit, log, reject) or an expression the
 *   cache does not know is not cached: that flow's packets always walk.
 * - Conntrack still sees every packet (flt_classify_fc runs it before the lookup);
 *   only the chain walk is skipped.
 * - A ruleset the plan cannot describe (a header byte past what a key can hold, an
 *   unknown expression) is not cached at all: every packet walks, counted as bypass.
 *
 * The table is a fixed array of 4-way buckets (entries rounded up to a power of two,
 * default 65536), allocated once, in huge pages where the kernel has them (hugemem.h):
 * no allocation per packet, and a new flow replaces the least recently used entry of
 * its bucket instead of growing anything.
 * A ruleset change (another struct flt_ruleset than the last one seen) bumps a
 * generation stored in every entry, so no entry of the old ruleset is ever served.
 *
 * Not thread-safe: one cache per worker. Counters it bumps are the ruleset's atomics.
 */
#ifndef VIFWALL_FILTERS_FLOWCACHE_H
#define VIFWALL_FILTERS_FLOWCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/packet.h"
#include "filters/ruleset.h"

struct flt_flowcache;
struct flt_ct_table;
struct flt_pktctx;
struct flt_expr;

#define FLT_FC_DEFAULT_ENTRIES 65536u
#define FLT_FC_MAX_ENTRIES     (1u << 24)

/*
 * Create a cache of @entries entries (0: FLT_FC_DEFAULT_ENTRIES; rounded up to a
 * power of two, at least 4). Returns 0 and *out, -EINVAL above FLT_FC_MAX_ENTRIES, or
 * -ENOMEM. Free with flt_fc_free().
 */
int flt_fc_new(uint32_t entries, struct flt_flowcache **out);

/* Free @fc; NULL is a no-op. */
void flt_fc_free(struct flt_flowcache *fc);

/*
 * Forget every entry and the ruleset last seen. The cache notices a different ruleset
 * pointer by itself; call this when a ruleset it has seen is freed and another might
 * be allocated at the same address before the cache sees something else (the bridge
 * calls it on every ruleset swap).
 */
void flt_fc_invalidate(struct flt_flowcache *fc);

/*
 * flt_classify (ruleset.h) through @fc: the same verdicts, deciding rules, counters,
 * limits and conntrack updates, but a packet whose key is cached skips the chain walk.
 * @fc NULL is plain flt_classify. Defined in ruleset.c, next to flt_classify.
 */
void flt_classify_fc(const struct flt_ruleset *rs, struct flt_ct_table *ct,
		     struct flt_flowcache *fc, const struct flt_pkt *pkt,
		     const struct flt_hookinfo *hi, struct flt_verdict *v);

/*
 * A packet's key, built ahead of its lookup. A burst builds every packet's key first
 * (flt_classify_fc_prefetch), which also starts loading its bucket, and only then
 * looks them up (flt_classify_fc_key): with many flows each lookup is a cache miss,
 * and this way the misses of a burst overlap instead of coming one after the other
 * (DPDK's rte_hash_lookup_bulk does the same). Caller-owned, no need to initialise.
 */
#define FLT_FC_KEY_WORDS 48 /* the key's 16 words and room for a header copy to run past */
struct flt_fc_key {
	uint8_t klen; /* 0: not built (the lookup builds it itself) */
	uint32_t gen; /* the cache's generation it was built under */
	const struct flt_ruleset *rs;
	uint64_t hash;
	uint64_t kw[FLT_FC_KEY_WORDS];
};

/*
 * Build the key flt_classify_fc_key(@rs, @ct, @fc, @pkt, @hi, @key, ...) will look up,
 * and start loading its bucket. Leaves the key unbuilt where it cannot be known yet:
 * a ruleset that uses conntrack with @ct set (the packet's ct state is part of its
 * key, and conntrack must see the burst's packets in order), a packet that is not
 * IP, a ruleset the cache cannot key. @pkt and @hi must not change in between.
 */
void flt_classify_fc_prefetch(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			      struct flt_flowcache *fc, const struct flt_pkt *pkt,
			      const struct flt_hookinfo *hi, struct flt_fc_key *key);

/* flt_classify_fc with the key @key built ahead; @key NULL or unbuilt: built here. */
void flt_classify_fc_key(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			 struct flt_flowcache *fc, const struct flt_pkt *pkt,
			 const struct flt_hookinfo *hi, const struct flt_fc_key *key,
			 struct flt_verdict *v);

struct flt_fc_stats {
	uint64_t hits;	      /* packets served from the cache */
	uint64_t misses;      /* packets that walked the chains (whether cached after or not) */
	uint64_t inserts;     /* entries written after a miss */
	uint64_t evictions;   /* live entries replaced by a new flow */
	uint64_t uncacheable; /* misses not cached: their walk ran a limit, log, reject... */
	uint64_t bypass;      /* packets walked because the ruleset cannot be cached */
	uint64_t flushes;     /* ruleset changes and invalidations */
	uint32_t entries;     /* table size */
	bool active;	      /* the current ruleset is cacheable */
};

/* Counters since the cache was created. */
void flt_fc_get_stats(const struct flt_flowcache *fc, struct flt_fc_stats *st);

/* --- for filters/ only --------------------------------------------------------------- */

/*
 * The chain walk of @pc (IP packet, conntrack done) through @fc: a hit fills @v and
 * bumps the entry's counters; a miss runs flt_eval_hook with a trace and caches the
 * result when the walk allows it.
 */
void flt_fc_eval(struct flt_flowcache *fc, const struct flt_pktctx *pc, struct flt_verdict *v);

/* flt_fc_eval with @key, when it was built for this cache, ruleset and generation. */
void flt_fc_eval_key(struct flt_flowcache *fc, const struct flt_pktctx *pc,
		     const struct flt_fc_key *key, struct flt_verdict *v);

/* Build @pc's key into @key and prefetch its bucket (see flt_classify_fc_prefetch). */
void flt_fc_key_build(struct flt_flowcache *fc, const struct flt_pktctx *pc,
		      struct flt_fc_key *key);

/* What one walk ran that a cached verdict has to repeat or forbids caching. */
#define FLT_FC_MAX_COUNTERS 3
struct flt_fc_trace {
	const struct flt_expr *counters[FLT_FC_MAX_COUNTERS];
	uint8_t ncounters;
	bool nocache;
};

/* Called by the evaluator after every expression it ran while pc->trace is set. */
void flt_fc_trace_note(struct flt_fc_trace *t, const struct flt_expr *e);

#endif
