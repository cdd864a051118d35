/*
 * lookup: is the register key in a set; for maps, copy the element's data into the
 * destination register, or its verdict into the verdict register (verdict maps).
 * As nft_lookup_eval, including its catch-all rule: when the (possibly inverted)
 * answer is "no match", a catch-all element still matches.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"
#include "filters/ruleset_internal.h"
#include "filters/set.h"

struct lookup_priv {
	const struct flt_set *set;
	uint8_t sreg, dreg; /* dreg 0: verdict register */
	bool map, invert, catchall;
	uint32_t dlen;
};

static int lookup_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct lookup_priv *p = flt_expr_priv(e);
	const char *name = nftnl_expr_get_str(nle, NFTNL_EXPR_LOOKUP_SET);
	uint32_t flags = nftnl_expr_get_u32(nle, NFTNL_EXPR_LOOKUP_FLAGS);
	uint32_t dreg;
	int rc;

	p->set = name ? flt_setlist_find(cc->rs->sets, name) : NULL;
	if (!p->set)
		return flt_compile_fail(cc, -ENOENT, "a lookup in unknown set '%s'",
					name ? name : "?");
	if (flags & ~NFT_LOOKUP_F_INV)
		return flt_compile_fail(cc, -EINVAL, "lookup flags 0x%x", flags);
	p->invert = flags & NFT_LOOKUP_F_INV;
	/* Needed only for inverted lookups, where a catch-all changes the answer.
	 * set.h has no accessor for it yet. */
	p->catchall = flt_set_has_catchall(p->set);
	rc = flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_LOOKUP_SREG),
			  flt_set_key_len(p->set), &p->sreg);
	if (rc < 0)
		return rc;
	if (!nftnl_expr_is_set(nle, NFTNL_EXPR_LOOKUP_DREG))
		return 0;
	if (p->invert || !(flt_set_flags(p->set) & FLT_SET_F_MAP))
		return flt_compile_fail(cc, -EINVAL, "a map lookup in set '%s'", name);
	p->map = true;
	p->dlen = flt_set_data_len(p->set);
	dreg = nftnl_expr_get_u32(nle, NFTNL_EXPR_LOOKUP_DREG);
	if (flt_set_data_type(p->set) == FLT_SET_DATA_VERDICT) {
		if (dreg != NFT_REG_VERDICT)
			return flt_compile_fail(cc, -EINVAL, "verdict map '%s' into register %u",
						name, dreg);
		p->dreg = 0;
		return 0;
	}
	if (flt_set_flags(p->set) & FLT_SET_F_OBJECT)
		return flt_compile_fail(cc, -EOPNOTSUPP, "the object map '%s'", name);
	return flt_reg_store(cc, dreg, p->dlen, &p->dreg);
}

static void lookup_eval(const struct flt_expr *e, struct flt_regs *regs,
			const struct flt_pktctx *pc)
{
	const struct lookup_priv *p = flt_expr_priv(e);
	const struct flt_set_elem_data *d = NULL;
	bool found;

	(void)pc;
	/* flt_set_lookup already falls back to the catch-all for a miss. */
	found = flt_set_lookup(p->set, (const uint8_t *)&regs->data[p->sreg], &d);
	if (p->invert) {
		/* Kernel: a real hit inverted is a miss, which the catch-all rescues; a
		 * miss inverted is a match with nothing to copy. */
		if (!(!found || p->catchall))
			regs->verdict.code = FLT_NFT_BREAK;
		return;
	}
	if (!found) {
		regs->verdict.code = FLT_NFT_BREAK;
		return;
	}
	if (!p->map || !d)
		return;
	if (p->dreg == 0) {
		regs->verdict.code = d->verdict;
		regs->verdict.chain = d->chain_index;
	} else {
		flt_reg_copy(&regs->data[p->dreg], d->data, p->dlen);
	}
}

static void lookup_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct lookup_priv *p = flt_expr_priv(e);

	d->sreg = p->sreg;
	d->slen = (uint8_t)flt_set_key_len(p->set);
	if (p->map && p->dreg == 0) /* a verdict map */
		return;
	d->kind = FLT_XK_PURE;
	if (p->map) {
		d->dreg = p->dreg;
		d->dlen = (uint8_t)p->dlen;
	}
}

const struct flt_expr_ops flt_expr_lookup_ops = {
	.name = "lookup",
	.size = sizeof(struct lookup_priv),
	.compile = lookup_compile,
	.eval = lookup_eval,
	.describe = lookup_describe,
};
