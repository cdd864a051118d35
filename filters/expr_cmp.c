/*
 * cmp: compare a register with a constant, memcmp() over the constant's length, as
 * the kernel's nft_cmp_eval (its fast variants give the same answers). A mismatch
 * ends the rule (NFT_BREAK).
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct cmp_priv {
	uint8_t sreg, len, op;
	uint8_t data[16];
};

static int cmp_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct cmp_priv *p = flt_expr_priv(e);
	uint32_t len, op;
	int rc;

	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_CMP_DATA, "data", p->data, sizeof(p->data),
			       &len);
	if (rc < 0)
		return rc;
	op = nftnl_expr_get_u32(nle, NFTNL_EXPR_CMP_OP);
	if (op > NFT_CMP_GTE)
		return flt_compile_fail(cc, -EINVAL, "cmp operation %u", op);
	p->op = (uint8_t)op;
	p->len = (uint8_t)len;
	return flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_CMP_SREG), len, &p->sreg);
}

static void cmp_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct cmp_priv *p = flt_expr_priv(e);
	int d = memcmp(&regs->data[p->sreg], p->data, p->len);
	bool match;

	(void)pc;
	switch (p->op) {
	case NFT_CMP_EQ:
		match = d == 0;
		break;
	case NFT_CMP_NEQ:
		match = d != 0;
		break;
	case NFT_CMP_LT:
		match = d < 0;
		break;
	case NFT_CMP_LTE:
		match = d <= 0;
		break;
	case NFT_CMP_GT:
		match = d > 0;
		break;
	default: /* NFT_CMP_GTE */
		match = d >= 0;
		break;
	}
	if (!match)
		regs->verdict.code = FLT_NFT_BREAK;
}

static void cmp_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct cmp_priv *p = flt_expr_priv(e);

	d->kind = FLT_XK_CMP;
	d->sreg = p->sreg;
	d->slen = p->len;
	d->op = p->op;
	memcpy(d->data, p->data, sizeof(d->data));
}

const struct flt_expr_ops flt_expr_cmp_ops = {
	.name = "cmp",
	.size = sizeof(struct cmp_priv),
	.compile = cmp_compile,
	.eval = cmp_eval,
	.describe = cmp_describe,
};
