/*
 * The scalar reference evaluator: nft_do_chain's semantics, rule by rule and
 * expression by expression, for the base chains of one hook. The rest of vifwall
 * (fast classifiers, flow cache) is tested against this.
 *
 * - An expression that sets NFT_BREAK ends its rule; the next rule starts with
 *   NFT_CONTINUE. Any other verdict ends the rule and is acted upon.
 * - accept/drop end the chain walk; jump pushes the rule after the current one
 *   (at most FLT_JUMP_STACK_SIZE deep, checked at load as the kernel does), goto
 *   replaces the chain, return and the end of a chain pop, the end of the base
 *   chain applies its policy.
 * - Several base chains on one hook run in priority order, as netfilter's hook list:
 *   an accept goes on to the next one, a drop is final.
 *
 * With a fast path (fastpath.h), a chain walk asks the chain's classifier for the next
 * rule whose side-effect-free start can match and runs that rule here (in full, or
 * from its first side effect when the classifier checked all of its start exactly);
 * the rules in between would have broken out before doing anything. Jumps, returns
 * and verdicts are handled by the same code for both.
 */
#include "filters/fastpath.h"
#include "filters/flowcache.h"
#include "filters/ruleset_internal.h"

struct jump_frame {
	uint32_t chain, rule; /* where to continue: rule index in chain */
	bool located;	      /* pos holds the chain's located packet */
	struct flt_bvcls_pos pos;
};

/* Run one rule from expression @start (0 but for the fast path's exact candidates).
 * Returns true when it ended with a verdict (in @regs), false when it broke or ran to
 * its end. */
static inline bool rule_run(const struct flt_rule *r, uint32_t start, struct flt_regs *regs,
			    const struct flt_pktctx *pc)
{
	regs->verdict.code = FLT_NFT_CONTINUE;
	for (uint32_t i = start; i < r->nexprs; i++) {
		const struct flt_expr *e = r->exprs[i];

		e->ops->eval(e, regs, pc);
		if (__builtin_expect(pc->trace != NULL, 0))
			flt_fc_trace_note(pc->trace, e);
		if (regs->verdict.code != FLT_NFT_CONTINUE)
			break;
	}
	return regs->verdict.code != FLT_NFT_BREAK && regs->verdict.code != FLT_NFT_CONTINUE;
}

/* Evaluate the rules of @chain from @rule on. Returns the index of the rule that
 * ended the walk (its verdict is in @regs), or chain->nrules when the chain ran out.
 * With @pos, only the rules the chain's classifier @ci of @f names are run; with @h
 * too, the first of them is the one @h names (a burst looked it up ahead). */
static uint32_t chain_walk(const struct flt_chain *chain, uint32_t rule, struct flt_regs *regs,
			   const struct flt_pktctx *pc, const struct flt_fast *f, uint32_t ci,
			   const struct flt_bvcls_pos *pos, const struct flt_fast_hint *h)
{
	uint32_t start = 0;

	for (;; rule++) {
		if (h) {
			rule = h->first;
			start = h->start;
			h = NULL;
		} else if (pos) {
			rule = flt_fast_next(f, ci, pos, rule, &start);
		}
		if (rule >= chain->nrules)
			break;
		if (rule_run(&chain->rules[rule], start, regs, pc))
			return rule;
	}
	regs->verdict.code = FLT_NFT_CONTINUE;
	return chain->nrules;
}

/* nft_do_chain for base chain @base. Returns FLT_NF_ACCEPT or FLT_NF_DROP and, in
 * @v, the deciding rule and chain. @h: the base chain's locate and first candidate,
 * worked out ahead (NULL: here). */
static int base_chain_run(const struct flt_ruleset *rs, uint32_t base, struct flt_regs *regs,
			  const struct flt_pktctx *pc, struct flt_verdict *v,
			  const struct flt_fast_hint *h)
{
	struct jump_frame stack[FLT_JUMP_STACK_SIZE];
	unsigned sp = 0;
	uint32_t chain = base, rule = 0, at;
	const struct flt_chain *c;
	struct flt_bvcls_pos pos;
	bool located;

	if (h) {
		located = h->located;
		if (located)
			pos = h->pos;
		else
			h = NULL;
	} else {
		located = rs->fast && flt_fast_locate(rs->fast, chain, pc, &pos);
	}
	for (;;) {
		c = &rs->chains[chain];
		at = chain_walk(c, rule, regs, pc, rs->fast, chain, located ? &pos : NULL, h);
		h = NULL;
		switch (regs->verdict.code) {
		case FLT_NF_ACCEPT:
		case FLT_NF_DROP:
			v->rule_handle = c->rules[at].handle;
			v->chain = c->name;
			return regs->verdict.code;
		case FLT_NFT_JUMP:
			if (sp >= FLT_JUMP_STACK_SIZE) {
				/* The kernel's WARN_ON_ONCE path; load-time checks prevent it. */
				v->rule_handle = c->rules[at].handle;
				v->chain = c->name;
				return FLT_NF_DROP;
			}
			stack[sp].chain = chain;
			stack[sp].rule = at + 1;
			stack[sp].located = located;
			if (located)
				stack[sp].pos = pos;
			sp++;
			/* fallthrough */
		case FLT_NFT_GOTO:
			chain = regs->verdict.chain;
			rule = 0;
			located = rs->fast && flt_fast_locate(rs->fast, chain, pc, &pos);
			continue;
		default: /* NFT_RETURN, or the end of the chain */
			break;
		}
		if (sp == 0)
			break;
		sp--;
		chain = stack[sp].chain;
		rule = stack[sp].rule;
		located = stack[sp].located;
		if (located)
			pos = stack[sp].pos;
	}
	c = &rs->chains[base];
	v->rule_handle = 0;
	v->chain = c->name;
	return c->policy;
}

void flt_eval_hook(const struct flt_pktctx *pc, struct flt_verdict *v)
{
	flt_eval_hook_hint(pc, NULL, v);
}

void flt_eval_hook_hint(const struct flt_pktctx *pc, const struct flt_fast_hint *h,
			struct flt_verdict *v)
{
	const struct flt_ruleset *rs = pc->rs;
	enum flt_hook hook = pc->hi->hook;
	struct flt_regs regs;
	uint32_t mark = pc->hi->mark;

	v->code = FLT_ACCEPT;
	v->rule_handle = 0;
	v->chain = NULL;
	v->reject_type = 0;
	v->reject_icmp_code = 0;
	if ((unsigned)hook >= FLT_HOOK_COUNT)
		return;
	/* The first candidate of the first base chain matches for sure and is a plain
	 * accept or drop: that is the verdict (a drop is final; an accept is when no other
	 * base chain follows), without a walk. */
	if (h && h->located && h->verdict >= 0 &&
	    (h->verdict == FLT_NF_DROP || rs->nbase[hook] == 1)) {
		const struct flt_chain *c = &rs->chains[rs->base[hook][0]];

		v->code = h->verdict == FLT_NF_DROP ? FLT_DROP : FLT_ACCEPT;
		v->rule_handle = c->rules[h->first].handle;
		v->chain = c->name;
		return;
	}
	for (uint32_t i = 0; i < rs->nbase[hook]; i++) {
		/* Zeroed, not left as the kernel's uninitialised stack: nft never emits a
		 * read of a register it did not write, and this keeps runs repeatable. */
		memset(&regs, 0, sizeof(regs));
		regs.mark = mark; /* skb->mark outlives one base chain */
		if (base_chain_run(rs, rs->base[hook][i], &regs, pc, v, i ? NULL : h) ==
		    FLT_NF_DROP) {
			v->code = FLT_DROP;
			if (regs.rejected) {
				v->code = FLT_REJECT;
				v->reject_type = regs.reject_type;
				v->reject_icmp_code = regs.reject_code;
			}
			return;
		}
		mark = regs.mark;
	}
}
