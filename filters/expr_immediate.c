/*
 * immediate: load a constant into a data register, or set the verdict (accept, drop,
 * continue, break, return, jump, goto), as the kernel's nft_immediate.c. Jump and
 * goto targets are resolved to chain indexes here, once.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct imm_priv {
	uint8_t dreg; /* word index; 0 for the verdict register */
	uint8_t len;  /* bytes of data */
	struct flt_verdict_reg verdict;
	uint32_t data[4];
};

static int imm_compile_verdict(struct imm_priv *p, const struct nftnl_expr *nle,
			       struct flt_compile *cc)
{
	int32_t code = (int32_t)nftnl_expr_get_u32(nle, NFTNL_EXPR_IMM_VERDICT);
	const char *target;
	int idx;

	p->verdict.code = code;
	switch (code) {
	case FLT_NF_ACCEPT:
	case FLT_NF_DROP:
	case FLT_NFT_CONTINUE:
	case FLT_NFT_BREAK:
	case FLT_NFT_RETURN:
		return 0;
	case FLT_NFT_JUMP:
	case FLT_NFT_GOTO:
		target = nftnl_expr_get_str(nle, NFTNL_EXPR_IMM_CHAIN);
		idx = target ? flt_compile_chain_find(cc, target) : -ENOENT;
		if (idx < 0)
			return flt_compile_fail(cc, -ENOENT, "a jump to unknown chain '%s'",
						target ? target : "?");
		p->verdict.chain = (uint32_t)idx;
		return 0;
	case 3: /* NF_QUEUE */
		return flt_compile_fail(cc, -EOPNOTSUPP, "the 'queue' verdict");
	default:
		return flt_compile_fail(cc, -EINVAL, "verdict code %d", code);
	}
}

static int imm_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct imm_priv *p = flt_expr_priv(e);
	uint32_t dreg = nftnl_expr_get_u32(nle, NFTNL_EXPR_IMM_DREG);
	uint32_t len;
	int rc;

	if (dreg == NFT_REG_VERDICT) {
		p->dreg = 0;
		return imm_compile_verdict(p, nle, cc);
	}
	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_IMM_DATA, "data", p->data, sizeof(p->data),
			       &len);
	if (rc < 0)
		return rc;
	p->len = (uint8_t)len;
	return flt_reg_store(cc, dreg, len, &p->dreg);
}

static void imm_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct imm_priv *p = flt_expr_priv(e);

	(void)pc;
	if (p->dreg == 0)
		regs->verdict = p->verdict;
	else
		flt_reg_copy(&regs->data[p->dreg], p->data, p->len);
}

static void imm_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct imm_priv *p = flt_expr_priv(e);

	if (p->dreg == 0) /* a verdict */
		return;
	d->kind = FLT_XK_PURE;
	d->dreg = p->dreg;
	d->dlen = p->len;
}

const struct flt_expr_ops flt_expr_immediate_ops = {
	.name = "immediate",
	.size = sizeof(struct imm_priv),
	.compile = imm_compile,
	.eval = imm_eval,
	.describe = imm_describe,
};
