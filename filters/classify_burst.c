/*
 * flt_classify_burst: a software pipeline over up to FLT_CLASSIFY_BURST packets. Each
 * stage runs for every packet before the next stage starts, and prefetches what the
 * next stage reads: the packets' headers; locate (which prefetches the interval and
 * class records the lookup reads); the lookup of the first candidate rule, which
 * prefetches that rule, then its expression array, then its first expression to run
 * (unless the rule's verdict is known without running it, flt_fast_verdict). The last
 * stage walks the chains of each packet in order (flt_eval_hook_hint), starting from
 * the candidate found ahead, so its effects are those of flt_classify packet by
 * packet.
 */
#include "filters/classify_burst.h"
#include "filters/fastpath.h"
#include "filters/ruleset_internal.h"

/* Can packet @p be looked up ahead: an IP packet (others get flt_classify's fixed
 * verdicts) on a hook with a base chain. Whether that chain has a classifier is
 * flt_fast_locate's answer; conntrack is ruled out by the caller. */
static bool ahead(const struct flt_ruleset *rs, const struct flt_pkt *p,
		  const struct flt_hookinfo *hi)
{
	return p->status == FLT_PKT_IP && (unsigned)hi->hook < FLT_HOOK_COUNT &&
	       rs->nbase[hi->hook] > 0;
}

static void burst(const struct flt_ruleset *rs, const struct flt_pkt *const *pkts,
		  const struct flt_hookinfo *const *hi, unsigned n, struct flt_verdict *v)
{
	struct flt_fast_hint h[FLT_CLASSIFY_BURST];
	const struct flt_rule *r[FLT_CLASSIFY_BURST];
	bool go[FLT_CLASSIFY_BURST];

	for (unsigned i = 0; i < n; i++)
		__builtin_prefetch(pkts[i]->frame + pkts[i]->nh + 12); /* addresses, ports */
	for (unsigned i = 0; i < n; i++) {
		struct flt_pktctx pc = {.rs = rs, .pkt = pkts[i], .hi = hi[i]};
		uint32_t chain;

		go[i] = ahead(rs, pkts[i], hi[i]);
		h[i].located = false;
		h[i].verdict = -1;
		r[i] = NULL;
		if (!go[i])
			continue;
		chain = rs->base[hi[i]->hook][0];
		h[i].located = flt_fast_locate(rs->fast, chain, &pc, &h[i].pos);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t chain;

		if (!h[i].located)
			continue;
		chain = rs->base[hi[i]->hook][0];
		h[i].first = flt_fast_next(rs->fast, chain, &h[i].pos, 0, &h[i].start);
		h[i].verdict = -1;
		if (h[i].first < rs->chains[chain].nrules) {
			r[i] = &rs->chains[chain].rules[h[i].first];
			__builtin_prefetch(r[i]);
			h[i].verdict = (int8_t)flt_fast_verdict(rs->fast, chain, h[i].first);
		}
	}
	/* A rule that gives its verdict without running needs only its handle. */
	for (unsigned i = 0; i < n; i++)
		if (r[i] && h[i].verdict < 0)
			__builtin_prefetch(r[i]->exprs + h[i].start);
	for (unsigned i = 0; i < n; i++)
		if (r[i] && h[i].verdict < 0 && h[i].start < r[i]->nexprs)
			__builtin_prefetch(r[i]->exprs[h[i].start]);
	for (unsigned i = 0; i < n; i++) {
		struct flt_pktctx pc = {.rs = rs, .pkt = pkts[i], .hi = hi[i]};

		if (go[i])
			flt_eval_hook_hint(&pc, &h[i], &v[i]);
		else
			flt_classify(rs, NULL, pkts[i], hi[i], &v[i]);
	}
}

void flt_classify_burst(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			const struct flt_pkt *const *pkts, const struct flt_hookinfo *const *hi,
			unsigned n, struct flt_verdict *v)
{
	if (!rs->fast || (rs->uses_ct && ct)) {
		for (unsigned i = 0; i < n; i++)
			flt_classify(rs, ct, pkts[i], hi[i], &v[i]);
		return;
	}
	for (unsigned i = 0; i < n; i += FLT_CLASSIFY_BURST)
		burst(rs, pkts + i, hi + i, n - i < FLT_CLASSIFY_BURST ? n - i : FLT_CLASSIFY_BURST,
		      v + i);
}
