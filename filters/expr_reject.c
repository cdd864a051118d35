/*
 * reject: drop, and tell the caller to answer with an ICMP/ICMPv6 unreachable (the
 * family's own code, or an icmpx code) or a TCP reset, as nft_reject_inet_eval does
 * before its NF_DROP. Type and code are validated as nft_reject_inet_init does.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct reject_priv {
	uint8_t type, code;
};

static int reject_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct reject_priv *p = flt_expr_priv(e);
	uint32_t type = nftnl_expr_get_u32(nle, NFTNL_EXPR_REJECT_TYPE);
	uint8_t code = nftnl_expr_get_u8(nle, NFTNL_EXPR_REJECT_CODE);

	switch (type) {
	case NFT_REJECT_ICMP_UNREACH:
	case NFT_REJECT_TCP_RST:
		break;
	case NFT_REJECT_ICMPX_UNREACH:
		if (code > NFT_REJECT_ICMPX_MAX)
			return flt_compile_fail(cc, -EINVAL, "reject with icmpx code %u", code);
		break;
	default:
		return flt_compile_fail(cc, -EINVAL, "reject type %u", type);
	}
	p->type = (uint8_t)type;
	p->code = code;
	return 0;
}

static void reject_eval(const struct flt_expr *e, struct flt_regs *regs,
			const struct flt_pktctx *pc)
{
	const struct reject_priv *p = flt_expr_priv(e);

	(void)pc;
	regs->rejected = true;
	regs->reject_type = p->type;
	regs->reject_code = p->code;
	regs->verdict.code = FLT_NF_DROP;
}

const struct flt_expr_ops flt_expr_reject_ops = {
	.name = "reject",
	.size = sizeof(struct reject_priv),
	.compile = reject_compile,
	.eval = reject_eval,
	.describe = flt_expr_describe_effect,
};
