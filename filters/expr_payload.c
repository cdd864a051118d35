/*
 * payload (load): copy bytes of the link-layer, network or transport header into a
 * register, as the kernel's nft_payload_eval at an inet hook. A read that does not
 * fit in the packet, or a transport read when there is no transport header (unknown
 * or truncated IPv6 extension chain) or on a non-first fragment, ends the rule.
 * Payload writes (mangling) and the inner/tunnel bases are refused.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct payload_priv {
	uint8_t dreg, base, offset, len;
};

static int payload_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct payload_priv *p = flt_expr_priv(e);
	uint32_t base = nftnl_expr_get_u32(nle, NFTNL_EXPR_PAYLOAD_BASE);
	uint32_t off = nftnl_expr_get_u32(nle, NFTNL_EXPR_PAYLOAD_OFFSET);
	uint32_t len = nftnl_expr_get_u32(nle, NFTNL_EXPR_PAYLOAD_LEN);

	if (nftnl_expr_is_set(nle, NFTNL_EXPR_PAYLOAD_SREG))
		return flt_compile_fail(cc, -EOPNOTSUPP,
					"'payload set' (a statement that rewrites the packet)");
	switch (base) {
	case NFT_PAYLOAD_LL_HEADER:
	case NFT_PAYLOAD_NETWORK_HEADER:
	case NFT_PAYLOAD_TRANSPORT_HEADER:
		break;
	case NFT_PAYLOAD_INNER_HEADER:
		return flt_compile_fail(cc, -EOPNOTSUPP, "payload of the inner header");
	default:
		return flt_compile_fail(cc, -EOPNOTSUPP, "payload base %u", base);
	}
	if (off > 255 || len > 255)
		return flt_compile_fail(cc, -ERANGE, "payload at offset %u, %u bytes", off, len);
	p->base = (uint8_t)base;
	p->offset = (uint8_t)off;
	p->len = (uint8_t)len;
	return flt_reg_store(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_PAYLOAD_DREG), len, &p->dreg);
}

static void payload_eval(const struct flt_expr *e, struct flt_regs *regs,
			 const struct flt_pktctx *pc)
{
	const struct payload_priv *p = flt_expr_priv(e);
	const struct flt_pkt *pkt = pc->pkt;
	uint32_t *dest = &regs->data[p->dreg];
	const uint8_t *src;
	uint32_t off;

	/* Before any check, as the kernel: a failed load still leaves this word zeroed. */
	if (p->len % 4)
		dest[p->len / 4] = 0;
	switch (p->base) {
	case NFT_PAYLOAD_LL_HEADER:
		/* The frame as received: an in-band VLAN tag reads as the kernel's rebuilt
		 * header of an accelerated tag would. */
		off = 0;
		break;
	case NFT_PAYLOAD_NETWORK_HEADER:
		off = pkt->nh;
		break;
	default:
		if (!(pkt->flags & FLT_PKT_F_L4) || pkt->fragoff)
			goto brk;
		off = pkt->th;
		break;
	}
	src = flt_pkt_ptr(pkt, off + p->offset, p->len);
	if (!src)
		goto brk;
	memcpy(dest, src, p->len);
	return;
brk:
	regs->verdict.code = FLT_NFT_BREAK;
}

static void payload_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct payload_priv *p = flt_expr_priv(e);

	d->kind = FLT_XK_LOAD;
	d->dreg = p->dreg;
	d->dlen = p->len;
	d->src = FLT_XS_PAYLOAD;
	d->key = p->base;
	d->arg = p->offset;
	d->pad_zero = true; /* payload_eval zeroes the last word first */
	d->stable = true;
}

const struct flt_expr_ops flt_expr_payload_ops = {
	.name = "payload",
	.size = sizeof(struct payload_priv),
	.compile = payload_compile,
	.eval = payload_eval,
	.describe = payload_describe,
};
