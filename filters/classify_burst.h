/*
 * First-packet classification of a burst of packets: the same verdicts, deciding
 * rules, counter, limit and log effects as flt_classify on each packet in order, but
 * with the fast path's memory loads of all packets started before any is needed.
 *
 * Why: on a large ruleset a lookup is a chain of dependent cache misses (the packet,
 * the interval records, the vector words, the matched rule); one packet at a time the
 * CPU waits for each in turn. Over a burst, each stage runs for every packet and
 * prefetches what the next stage will read, so the misses of a stage overlap (DPDK's
 * rte_acl walks several packets' tries at once for the same reason).
 */
#ifndef VIFWALL_FILTERS_CLASSIFY_BURST_H
#define VIFWALL_FILTERS_CLASSIFY_BURST_H

#include "filters/ruleset.h"

/* Packets a burst handles in one pipeline pass; longer bursts are cut into these. */
#define FLT_CLASSIFY_BURST 32

/*
 * flt_classify(@rs, @ct, @pkts[i], @hi[i], &@v[i]) for i = 0 .. @n - 1, in that order
 * (effects with state, such as limits and logs, happen in packet order). Only the
 * side-effect-free lookups run ahead. With conntrack in use (flt_ruleset_uses_ct and
 * @ct), every packet's conntrack step must see the previous packet's, so the burst is
 * classified one packet at a time. Never allocates, never fails.
 */
void flt_classify_burst(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			const struct flt_pkt *const *pkts, const struct flt_hookinfo *const *hi,
			unsigned n, struct flt_verdict *v);

#endif
