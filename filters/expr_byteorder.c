/*
 * byteorder: convert one 2, 4 or 8-byte value between network and host order, as the
 * kernel's nft_byteorder.c (which no longer accepts multi-value conversions: len must
 * equal size). A 2-byte result zeroes the rest of its word, like nft_reg_store16.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct byteorder_priv {
	uint8_t sreg, dreg, op, size;
};

static int byteorder_compile(struct flt_expr *e, const struct nftnl_expr *nle,
			     struct flt_compile *cc)
{
	struct byteorder_priv *p = flt_expr_priv(e);
	uint32_t op = nftnl_expr_get_u32(nle, NFTNL_EXPR_BYTEORDER_OP);
	uint32_t size = nftnl_expr_get_u32(nle, NFTNL_EXPR_BYTEORDER_SIZE);
	uint32_t len = nftnl_expr_get_u32(nle, NFTNL_EXPR_BYTEORDER_LEN);
	int rc;

	if (op != NFT_BYTEORDER_NTOH && op != NFT_BYTEORDER_HTON)
		return flt_compile_fail(cc, -EINVAL, "byteorder operation %u", op);
	if (size != 2 && size != 4 && size != 8)
		return flt_compile_fail(cc, -EINVAL, "a byteorder of %u-byte values", size);
	if (len != size)
		return flt_compile_fail(cc, -EOPNOTSUPP,
					"a byteorder of %u bytes in %u-byte values", len, size);
	p->op = (uint8_t)op;
	p->size = (uint8_t)size;
	rc = flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_BYTEORDER_SREG), len, &p->sreg);
	if (rc < 0)
		return rc;
	return flt_reg_store(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_BYTEORDER_DREG), len, &p->dreg);
}

static void byteorder_eval(const struct flt_expr *e, struct flt_regs *regs,
			   const struct flt_pktctx *pc)
{
	const struct byteorder_priv *p = flt_expr_priv(e);
	const uint32_t *src = &regs->data[p->sreg];
	uint32_t *dst = &regs->data[p->dreg];
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;

	(void)pc;
	/* hton and ntoh are the same swap on any one host; kept apart for clarity. */
	switch (p->size) {
	case 8:
		memcpy(&v64, src, 8);
		v64 = p->op == NFT_BYTEORDER_NTOH ? be64toh(v64) : htobe64(v64);
		memcpy(dst, &v64, 8);
		break;
	case 4:
		v32 = *src;
		*dst = p->op == NFT_BYTEORDER_NTOH ? be32toh(v32) : htobe32(v32);
		break;
	default:
		memcpy(&v16, src, 2);
		flt_reg_store16(dst, p->op == NFT_BYTEORDER_NTOH ? be16toh(v16) : htobe16(v16));
		break;
	}
}

static void byteorder_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct byteorder_priv *p = flt_expr_priv(e);

	d->kind = FLT_XK_BYTEORDER;
	d->sreg = p->sreg;
	d->slen = p->size;
	d->dreg = p->dreg;
	d->dlen = p->size;
	d->op = p->op;
	d->size = p->size;
	d->pad_zero = p->size == 2; /* nft_reg_store16 */
}

const struct flt_expr_ops flt_expr_byteorder_ops = {
	.name = "byteorder",
	.size = sizeof(struct byteorder_priv),
	.compile = byteorder_compile,
	.eval = byteorder_eval,
	.describe = byteorder_describe,
};
