/*
 * range: is a register between two constants (inclusive, memcmp order)? As the
 * kernel's nft_range_eval; NEQ inverts. A mismatch ends the rule.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct range_priv {
	uint8_t sreg, len, op;
	uint8_t from[16], to[16];
};

static int range_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct range_priv *p = flt_expr_priv(e);
	uint32_t flen, tlen, op;
	int rc;

	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_RANGE_FROM_DATA, "from", p->from,
			       sizeof(p->from), &flen);
	if (rc < 0)
		return rc;
	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_RANGE_TO_DATA, "to", p->to, sizeof(p->to),
			       &tlen);
	if (rc < 0)
		return rc;
	if (flen != tlen)
		return flt_compile_fail(cc, -EINVAL, "a range with bounds of %u and %u bytes", flen,
					tlen);
	op = nftnl_expr_get_u32(nle, NFTNL_EXPR_RANGE_OP);
	if (op != NFT_RANGE_EQ && op != NFT_RANGE_NEQ)
		return flt_compile_fail(cc, -EINVAL, "range operation %u", op);
	p->op = (uint8_t)op;
	p->len = (uint8_t)flen;
	return flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_RANGE_SREG), flen, &p->sreg);
}

static void range_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct range_priv *p = flt_expr_priv(e);
	int d1 = memcmp(&regs->data[p->sreg], p->from, p->len);
	int d2 = memcmp(&regs->data[p->sreg], p->to, p->len);
	bool inside = d1 >= 0 && d2 <= 0;

	(void)pc;
	if (inside != (p->op == NFT_RANGE_EQ))
		regs->verdict.code = FLT_NFT_BREAK;
}

static void range_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct range_priv *p = flt_expr_priv(e);

	d->kind = FLT_XK_RANGE;
	d->sreg = p->sreg;
	d->slen = p->len;
	d->invert = p->op == NFT_RANGE_NEQ;
	memcpy(d->data, p->from, sizeof(d->data));
	memcpy(d->data2, p->to, sizeof(d->data2));
}

const struct flt_expr_ops flt_expr_range_ops = {
	.name = "range",
	.size = sizeof(struct range_priv),
	.compile = range_compile,
	.eval = range_eval,
	.describe = range_describe,
};
