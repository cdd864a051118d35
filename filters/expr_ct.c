/*
 * ct (get): connection tracking facts (state, direction, status, mark, addresses,
 * ports...) through the userspace tracker (conntrack.h), which writes the register
 * bytes exactly as nft_ct_get_eval. Keys the tracker does not implement, and every
 * `ct ... set`, are refused at load.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/conntrack.h"
#include "filters/expr.h"

struct ct_priv {
	uint32_t key;
	int dir;
	uint8_t dreg;
};

static const char *const ct_key_names[] = {
	"state",     "direction", "status",   "mark",	   "secmark",	"expiration",
	"helper",    "l3proto",	  "saddr",    "daddr",	   "protocol",	"proto-src",
	"proto-dst", "label",	  "packets",  "bytes",	   "avgpkt",	"zone",
	"event",     "ip saddr",  "ip daddr", "ip6 saddr", "ip6 daddr", "id",
};

/* Register bytes the kernel's nft_ct_get_init validates for @key (inet family). */
static uint32_t ct_key_len(uint32_t key)
{
	switch (key) {
	case NFT_CT_DIRECTION:
	case NFT_CT_L3PROTOCOL:
	case NFT_CT_PROTOCOL:
		return 1;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
	case NFT_CT_ZONE:
		return 2;
	case NFT_CT_SRC:
	case NFT_CT_DST:
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6:
	case NFT_CT_LABELS:
		return 16;
	case NFT_CT_BYTES:
	case NFT_CT_PKTS:
	case NFT_CT_AVGPKT:
		return 8;
	default:
		return 4;
	}
}

static int ct_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct ct_priv *p = flt_expr_priv(e);

	p->key = nftnl_expr_get_u32(nle, NFTNL_EXPR_CT_KEY);
	p->dir = nftnl_expr_is_set(nle, NFTNL_EXPR_CT_DIR)
			 ? nftnl_expr_get_u8(nle, NFTNL_EXPR_CT_DIR)
			 : -1;
	const char *name = p->key < sizeof(ct_key_names) / sizeof(ct_key_names[0])
				   ? ct_key_names[p->key]
				   : "?";

	if (nftnl_expr_is_set(nle, NFTNL_EXPR_CT_SREG))
		return flt_compile_fail(cc, -EOPNOTSUPP, "'ct %s set' (it changes the connection)",
					name);
	if (!flt_ct_key_supported(p->key, p->dir))
		return flt_compile_fail(cc, -EOPNOTSUPP, "'ct%s %s'",
					p->dir >= 0 ? (p->dir ? " reply" : " original") : "", name);
	cc->uses_ct = true;
	return flt_reg_store(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_CT_DREG), ct_key_len(p->key),
			     &p->dreg);
}

static void ct_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct ct_priv *p = flt_expr_priv(e);
	uint8_t *dst = (uint8_t *)&regs->data[p->dreg];

	if (!pc->cp || !flt_ct_get(pc->cp, p->key, p->dir, pc->hi->now_ns, dst,
				   FLT_REG_DATA_BYTES - p->dreg * 4u))
		regs->verdict.code = FLT_NFT_BREAK;
}

static void ct_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct ct_priv *p = flt_expr_priv(e);

	d->kind = FLT_XK_LOAD;
	d->dreg = p->dreg;
	d->src = FLT_XS_CT;
	d->key = p->key;
	d->arg = p->dir;
	d->dlen = (uint8_t)ct_key_len(p->key);
	d->stable = true;
	switch (p->key) {
	case NFT_CT_DIRECTION:
	case NFT_CT_L3PROTOCOL:
	case NFT_CT_PROTOCOL:
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		d->pad_zero = true; /* nft_reg_store8/16 */
		break;
	case NFT_CT_SRC:
	case NFT_CT_DST:
		/* 4 or 16 bytes depending on the connection: the rest of the register
		 * keeps what was there before, so only 4 are surely written. */
		d->stable = false;
		d->dlen = 4;
		break;
	default:
		break;
	}
}

const struct flt_expr_ops flt_expr_ct_ops = {
	.name = "ct",
	.size = sizeof(struct ct_priv),
	.compile = ct_compile,
	.eval = ct_eval,
	.describe = ct_describe,
};
