/*
 * The fast path of the rule engine: per chain, a bit-vector classifier (bvcls.h) over
 * predicates derived from the side-effect-free start of every rule, so a chain walk
 * visits only the rules whose start can match the packet, and runs each of those
 * through the reference evaluator. Internal to filters/: eval.c runs it, ruleset.c
 * builds it.
 *
 * Exactness: a rule is skipped only when one of the tests in the part of it before
 * its first side effect or verdict is false for the packet; the kernel then breaks
 * out of that rule having done nothing. Every rule not skipped runs in full, except
 * that when the classifier checked every test of its start exactly (and nothing after
 * reads a register the start wrote) it runs from its first side effect on.
 */
#ifndef VIFWALL_FILTERS_FASTPATH_H
#define VIFWALL_FILTERS_FASTPATH_H

#include <stddef.h>
#include <stdint.h>

#include "filters/bvcls.h"
#include "filters/expr.h"

struct flt_ruleset;
struct flt_fast;

/*
 * Build the fast path of @rs (chains and rules compiled). Returns 0 and *out, or
 * -ENOMEM. *out is NULL (and 0 returned) when some rule uses an expression the fast
 * path cannot reason about (no describe op) or reads a register it did not write
 * first: then skipping rules could change what later rules see, and every walk
 * stays with the reference evaluator.
 */
int flt_fast_build(const struct flt_ruleset *rs, struct flt_fast **out);
void flt_fast_free(struct flt_fast *f);

/* Chains with a classifier, bytes held, and the dimensions chosen in all. */
struct flt_fast_stats {
	unsigned chains, dims;
	size_t memory;
};
void flt_fast_get_stats(const struct flt_fast *f, struct flt_fast_stats *st);

/*
 * Locate @pc's packet for chain @chain: gather the values of the chain's dimensions
 * (running the rules' own load expressions on scratch registers) and find their
 * intervals. Returns false when the chain has no classifier or when the packet is
 * one the classifier cannot decide exactly (a field truncated inside a merged
 * prefix): then walk the chain with the reference evaluator. Never allocates.
 */
bool flt_fast_locate(const struct flt_fast *f, uint32_t chain, const struct flt_pktctx *pc,
		     struct flt_bvcls_pos *pos);

/* The first rule index >= @from of chain @chain whose predicate holds for the
 * located packet, or UINT32_MAX when none does. *start: the index of the first of the
 * rule's expressions that still has to run (nonzero only when the classifier has
 * checked everything before it exactly, and nothing after it reads what it wrote). */
uint32_t flt_fast_next(const struct flt_fast *f, uint32_t chain, const struct flt_bvcls_pos *pos,
		       uint32_t from, uint32_t *start);

/* The verdict, FLT_NF_ACCEPT or FLT_NF_DROP, that rule @rule of chain @chain gives
 * whenever flt_fast_next names it: the classifier checked all of its start exactly
 * and all that is left of it is that verdict (no counter, log...). -1 otherwise: run
 * the rule. */
int flt_fast_verdict(const struct flt_fast *f, uint32_t chain, uint32_t rule);

/* What a burst (classify_burst.c) worked out ahead for one packet's first base chain:
 * whether flt_fast_locate succeeded, its position, flt_fast_next from rule 0 and, when
 * that is a rule, its flt_fast_verdict. */
struct flt_fast_hint {
	bool located;
	int8_t verdict;
	uint32_t first, start;
	struct flt_bvcls_pos pos;
};

/* flt_eval_hook (ruleset_internal.h) with the first base chain's locate and first
 * candidate taken from @h, computed for this very @pc; @h NULL: flt_eval_hook. */
void flt_eval_hook_hint(const struct flt_pktctx *pc, const struct flt_fast_hint *h,
			struct flt_verdict *v);

#endif
