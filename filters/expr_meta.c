/*
 * meta (get): packet and interface facts from the hook, with the kernel's register
 * layout (nft_meta_get_eval): interface names as 16 zero-padded bytes, ifindex, mark
 * and length as host-endian u32, protocol as the network-order u16 of skb->protocol,
 * types as u16, nfproto / l4proto / pkttype as u8 with the rest of the word zeroed.
 * Keys that depend on what vifwall does not have (sockets, cgroups, routes, time,
 * CPU, randomness, priority set by forwarding) are refused. Of the setters only
 * `meta mark set` is run (nft_meta_set_eval): the mark lives in the registers'
 * per-packet state, so later rules of the same walk see it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/if_packet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/expr.h"

struct meta_priv {
	uint8_t dreg; /* get: destination; set: source register */
	uint8_t key;
	bool is_set;
};

static const char *const meta_key_names[] = {
	[NFT_META_LEN] = "length",
	[NFT_META_PROTOCOL] = "protocol",
	[NFT_META_PRIORITY] = "priority",
	[NFT_META_MARK] = "mark",
	[NFT_META_IIF] = "iif",
	[NFT_META_OIF] = "oif",
	[NFT_META_IIFNAME] = "iifname",
	[NFT_META_OIFNAME] = "oifname",
	[NFT_META_IIFTYPE] = "iiftype",
	[NFT_META_OIFTYPE] = "oiftype",
	[NFT_META_SKUID] = "skuid",
	[NFT_META_SKGID] = "skgid",
	[NFT_META_NFTRACE] = "nftrace",
	[NFT_META_RTCLASSID] = "rtclassid",
	[NFT_META_SECMARK] = "secmark",
	[NFT_META_NFPROTO] = "nfproto",
	[NFT_META_L4PROTO] = "l4proto",
	[NFT_META_BRI_IIFNAME] = "ibrname",
	[NFT_META_BRI_OIFNAME] = "obrname",
	[NFT_META_PKTTYPE] = "pkttype",
	[NFT_META_CPU] = "cpu",
	[NFT_META_IIFGROUP] = "iifgroup",
	[NFT_META_OIFGROUP] = "oifgroup",
	[NFT_META_CGROUP] = "cgroup",
	[NFT_META_PRANDOM] = "random",
};

static const char *meta_key_name(uint32_t key)
{
	if (key < sizeof(meta_key_names) / sizeof(meta_key_names[0]) && meta_key_names[key])
		return meta_key_names[key];
	return "?";
}

static int meta_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct meta_priv *p = flt_expr_priv(e);
	uint32_t key = nftnl_expr_get_u32(nle, NFTNL_EXPR_META_KEY);
	uint32_t len;

	if (nftnl_expr_is_set(nle, NFTNL_EXPR_META_SREG)) {
		if (key != NFT_META_MARK)
			return flt_compile_fail(cc, -EOPNOTSUPP,
						"'meta %s set' (it changes the packet)",
						meta_key_name(key));
		p->key = (uint8_t)key;
		p->is_set = true;
		return flt_reg_load(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_META_SREG), 4, &p->dreg);
	}
	switch (key) {
	case NFT_META_PROTOCOL:
	case NFT_META_IIFTYPE:
	case NFT_META_OIFTYPE:
		len = 2;
		break;
	case NFT_META_LEN:
	case NFT_META_MARK:
	case NFT_META_IIF:
	case NFT_META_OIF:
	case NFT_META_NFPROTO:
	case NFT_META_L4PROTO:
	case NFT_META_PKTTYPE:
		len = 4;
		break;
	case NFT_META_IIFNAME:
	case NFT_META_OIFNAME:
		len = FLT_IFNAMSIZ;
		break;
	default:
		return flt_compile_fail(cc, -EOPNOTSUPP, "'meta %s' (key %u)", meta_key_name(key),
					key);
	}
	p->key = (uint8_t)key;
	return flt_reg_store(cc, nftnl_expr_get_u32(nle, NFTNL_EXPR_META_DREG), len, &p->dreg);
}

/* PACKET_LOOPBACK reads as broadcast or multicast, as nft_meta_get_eval_pkttype_lo. */
static uint8_t meta_pkttype(const struct flt_pktctx *pc)
{
	const struct flt_pkt *pkt = pc->pkt;
	const uint8_t *daddr;

	if (pc->hi->pkttype != PACKET_LOOPBACK)
		return pc->hi->pkttype;
	if (pkt->nfproto == NFPROTO_IPV6)
		return PACKET_MULTICAST;
	daddr = flt_pkt_ptr(pkt, pkt->nh + 16, 4);
	return daddr && (daddr[0] & 0xf0) == 0xe0 ? PACKET_MULTICAST : PACKET_BROADCAST;
}

static void meta_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct meta_priv *p = flt_expr_priv(e);
	const struct flt_hookinfo *hi = pc->hi;
	uint32_t *dest = &regs->data[p->dreg];

	switch (p->key) {
	case NFT_META_LEN:
		*dest = pc->pkt->len;
		break;
	case NFT_META_PROTOCOL:
		flt_reg_store16(dest, htons(pc->pkt->proto));
		break;
	case NFT_META_NFPROTO:
		flt_reg_store8(dest, pc->pkt->nfproto);
		break;
	case NFT_META_L4PROTO:
		if (!(pc->pkt->flags & FLT_PKT_F_L4))
			goto brk;
		flt_reg_store8(dest, pc->pkt->l4proto);
		break;
	case NFT_META_MARK:
		*dest = regs->mark;
		break;
	case NFT_META_IIF:
		*dest = hi->iif;
		break;
	case NFT_META_OIF:
		*dest = hi->oif;
		break;
	case NFT_META_IIFNAME:
		memcpy(dest, hi->iifname, FLT_IFNAMSIZ);
		break;
	case NFT_META_OIFNAME:
		memcpy(dest, hi->oifname, FLT_IFNAMSIZ);
		break;
	case NFT_META_IIFTYPE:
		/* The kernel reads skb->dev: the input port, none yet on output. */
		if (!hi->iifname[0] || hi->hook == FLT_HOOK_OUTPUT)
			goto brk;
		flt_reg_store16(dest, hi->iiftype);
		break;
	case NFT_META_OIFTYPE:
		if (!hi->oifname[0])
			goto brk;
		flt_reg_store16(dest, hi->oiftype);
		break;
	default: /* NFT_META_PKTTYPE */
		flt_reg_store8(dest, meta_pkttype(pc));
		break;
	}
	return;
brk:
	regs->verdict.code = FLT_NFT_BREAK;
}

/* meta mark set: the only setter compile lets through. */
static void meta_set_eval(const struct flt_expr *e, struct flt_regs *regs,
			  const struct flt_pktctx *pc)
{
	const struct meta_priv *p = flt_expr_priv(e);

	(void)pc;
	regs->mark = regs->data[p->dreg];
}

static void meta_dispatch_eval(const struct flt_expr *e, struct flt_regs *regs,
			       const struct flt_pktctx *pc)
{
	const struct meta_priv *p = flt_expr_priv(e);

	if (p->is_set)
		meta_set_eval(e, regs, pc);
	else
		meta_eval(e, regs, pc);
}

static void meta_describe(const struct flt_expr *e, struct flt_expr_desc *d)
{
	const struct meta_priv *p = flt_expr_priv(e);

	if (p->is_set) { /* changes the mark later rules see */
		d->kind = FLT_XK_EFFECT;
		d->sreg = p->dreg;
		d->slen = 4;
		return;
	}
	d->kind = FLT_XK_LOAD;
	d->dreg = p->dreg;
	d->src = FLT_XS_META;
	d->key = p->key;
	/* The mark can be changed by an earlier rule of the same walk. */
	d->stable = p->key != NFT_META_MARK;
	switch (p->key) {
	case NFT_META_IIFNAME:
	case NFT_META_OIFNAME:
		d->dlen = FLT_IFNAMSIZ;
		break;
	case NFT_META_PROTOCOL:
	case NFT_META_IIFTYPE:
	case NFT_META_OIFTYPE:
		d->dlen = 2;
		d->pad_zero = true;
		break;
	case NFT_META_NFPROTO:
	case NFT_META_L4PROTO:
	case NFT_META_PKTTYPE:
		d->dlen = 1;
		d->pad_zero = true;
		break;
	default:
		d->dlen = 4;
		break;
	}
}

const struct flt_expr_ops flt_expr_meta_ops = {
	.name = "meta",
	.size = sizeof(struct meta_priv),
	.compile = meta_compile,
	.eval = meta_dispatch_eval,
	.describe = meta_describe,
};
