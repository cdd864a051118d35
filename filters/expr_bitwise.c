/*
 * bitwise: mask-and-xor (how nft writes AND, OR, XOR, NOT with constants) and left
 * or right shifts across the 32-bit words of a register, word by word exactly as the
 * kernel's nft_bitwise.c, so bytes past the length in the last word come out the
 * same. The two-register AND/OR/XOR of newer kernels is refused: libnftnl here cannot
 * tell us which register or constant it uses.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct bitwise_priv {
	uint8_t sreg, dreg, op, len;
	uint32_t shift;
	uint32_t mask[4], xor[4]; /* zero past len, as the kernel's zeroed private area */
};

static int bitwise_compile_mask(struct bitwise_priv *p, const struct nftnl_expr *nle,
				struct flt_compile *cc)
{
	uint32_t mlen, xlen;
	int rc;

	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_BITWISE_MASK, "mask", p->mask, sizeof(p->mask),
			       &mlen);
	if (rc < 0)
		return rc;
	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_BITWISE_XOR, "xor", p->xor, sizeof(p->xor),
			       &xlen);
	if (rc < 0)
		return rc;
	if (mlen != p->len || xlen != p->len)
		return flt_compile_fail(cc, -EINVAL, "a bitwise of %u bytes with a %u-byte mask",
					p->len, mlen);
	return 0;
}

static int bitwise_compile_shift(struct bitwise_priv *p, const struct nftnl_expr *nle,
				 struct flt_compile *cc)
{
	uint32_t len;
	int rc;

	rc = flt_expr_get_data(cc, nle, NFTNL_EXPR_BITWISE_DATA, "shift", &p->shift,
			       sizeof(p->shift), &len);
	if (rc < 0)
		return rc;
	if (len != sizeof(p->shift) || p->shift >= 32)
		return flt_compile_fail(cc, -EINVAL, "a bitwise shift by %u", p->shift);
	/* The kernel computes x >> (32 - 0) for a zero shift: undefined in C, so its
	 * result depends on the compiler. Refuse rather than guess. */
	if (p->shift == 0)
		return flt_compile_fail(cc, -EOPNOTSUPP, "a bitwise shift by 0");
	/* The kernel's result buffer holds 16 words. */
	if (p->len > 64)
		return flt_compile_fail(cc, -EINVAL, "a bitwise shift of %u bytes", p->len);
	return 0;
}

static int bitwise_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct bitwise_priv *p = flt_expr_priv(e);
	uint32_t len = nftnl_expr_get_u32(nle, NFTNL_EXPR_BITWISE_LEN);
	uint32_t op = NFT_BITWISE_MASK_XOR;
	int rc;

	if (len > 255)
		return flt_compile_fail(cc, -ERANGE, "a bitwise of %u bytes", len);
	p->len = (uint8_t)len;
	rc = flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_BITWISE_SREG), len, &p->sreg);
	if (rc < 0)
		return rc;
	rc = flt_reg_store(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_BITWISE_DREG), len, &p->dreg);
	if (rc < 0)
		return rc;
	if (nftnl_expr_is_set(nle, NFTNL_EXPR_BITWISE_OP))
		op = nftnl_expr_get_u32(nle, NFTNL_EXPR_BITWISE_OP);
	p->op = (uint8_t)op;
	switch (op) {
	case NFT_BITWISE_MASK_XOR:
		return bitwise_compile_mask(p, nle, cc);
	case NFT_BITWISE_LSHIFT:
	case NFT_BITWISE_RSHIFT:
		return bitwise_compile_shift(p, nle, cc);
	default:
		return flt_compile_fail(cc, -EOPNOTSUPP, "bitwise operation %u", op);
	}
}

static void bitwise_eval(const struct flt_expr *e, struct flt_regs *regs,
			 const struct flt_pktctx *pc)
{
	const struct bitwise_priv *p = flt_expr_priv(e);
	const uint32_t *src = &regs->data[p->sreg];
	uint32_t *dst = &regs->data[p->dreg];
	unsigned n = (p->len + 3u) / 4, i;
	uint32_t res[16], carry = 0;

	(void)pc;
	switch (p->op) {
	case NFT_BITWISE_MASK_XOR:
		for (i = 0; i < n; i++)
			dst[i] = (src[i] & p->mask[i]) ^ p->xor [i];
		return;
	case NFT_BITWISE_LSHIFT:
		for (i = n; i > 0; i--) {
			res[i - 1] = (src[i - 1] << p->shift) | carry;
			carry = src[i - 1] >> (32 - p->shift);
		}
		break;
	default: /* NFT_BITWISE_RSHIFT */
		for (i = 0; i < n; i++) {
			res[i] = carry | (src[i] >> p->shift);
			carry = src[i] << (32 - p->shift);
		}
		break;
	}
	/* Through a buffer: source and destination may overlap. */
	memcpy(dst, res, n * 4);
}

static void bitwise_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct bitwise_priv *p = flt_expr_priv(e);

	d->sreg = p->sreg;
	d->slen = p->len;
	d->dreg = p->dreg;
	d->dlen = p->len;
	if (p->op != NFT_BITWISE_MASK_XOR || p->len > 16) {
		d->kind = FLT_XK_PURE;
		return;
	}
	d->kind = FLT_XK_BITWISE;
	memcpy(d->data, p->mask, sizeof(d->data));
	memcpy(d->data2, p->xor, sizeof(d->data2));
}

const struct flt_expr_ops flt_expr_bitwise_ops = {
	.name = "bitwise",
	.size = sizeof(struct bitwise_priv),
	.compile = bitwise_compile,
	.eval = bitwise_eval,
	.describe = bitwise_describe,
};
