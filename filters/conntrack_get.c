/*
 * Reading a packet's conntrack for nft's `ct` expression: the bytes nft_ct_get_eval puts
 * in the destination register, and where it breaks instead (NFT_BREAK), for the keys
 * vifwall implements. The rule compiler asks flt_ct_key_supported() at load time, so an
 * unsupported key never reaches the packet path.
 */
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/conntrack_internal.h"

bool flt_ct_key_supported(uint32_t key, int dir)
{
	switch (key) {
	case NFT_CT_STATE:
	case NFT_CT_DIRECTION:
	case NFT_CT_STATUS:
	case NFT_CT_MARK:
	case NFT_CT_EXPIRATION:
		return dir == -1; /* the kernel refuses a direction on these */
	case NFT_CT_L3PROTOCOL:
	case NFT_CT_PROTOCOL:
		return dir >= -1 && dir <= IP_CT_DIR_REPLY; /* accepted and ignored */
	case NFT_CT_SRC:
	case NFT_CT_DST:
	case NFT_CT_SRC_IP:
	case NFT_CT_DST_IP:
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6:
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
		return dir == IP_CT_DIR_ORIGINAL || dir == IP_CT_DIR_REPLY;
	default:
		/* helper, labels, bytes/packets (acct off), zone, id, secmark, ... */
		return false;
	}
}

static bool put_u32(uint8_t *dst, uint32_t len, uint32_t val)
{
	if (len < 4)
		return false;
	memcpy(dst, &val, 4);
	return true;
}

/* nft_reg_store8/16: the value at the start of a zeroed 32-bit register. */
static bool put_small(uint8_t *dst, uint32_t len, const uint8_t *val, unsigned n)
{
	if (len < 4)
		return false;
	memset(dst, 0, 4);
	memcpy(dst, val, n);
	return true;
}

static bool put_addr(uint8_t *dst, uint32_t len, const uint8_t *addr, unsigned n)
{
	if (len < n)
		return false;
	memcpy(dst, addr, n);
	return true;
}

/* nf_ct_expires() in ms. An unconfirmed entry's timeout is still relative in the kernel
 * and nf_ct_expires() compares it with the jiffies clock: on any machine up for more
 * than a few minutes that reads 0. */
static uint32_t ct_expiration_ms(const struct flt_ct_entry *e, uint64_t now)
{
	if (!(e->status & IPS_CONFIRMED) || ct_expired(e, now))
		return 0;
	return (uint32_t)((e->timeout - now) / 1000000u);
}

bool flt_ct_get(const struct flt_ct_pkt *cp, uint32_t key, int dir, uint64_t now_ns, uint8_t *dst,
		uint32_t len)
{
	const struct flt_ct_entry *e = cp->ct;
	const struct ct_tuple *tu;
	unsigned alen;
	uint8_t b;

	if (!flt_ct_key_supported(key, dir))
		return false;
	if (key == NFT_CT_STATE) {
		uint32_t state;

		if (e)
			state = NF_CT_STATE_BIT(cp->ctinfo);
		else if (cp->untracked)
			state = NF_CT_STATE_UNTRACKED_BIT;
		else
			state = NF_CT_STATE_INVALID_BIT;
		return put_u32(dst, len, state);
	}
	if (!e)
		return false;

	switch (key) {
	case NFT_CT_DIRECTION:
		b = CTINFO2DIR(cp->ctinfo);
		return put_small(dst, len, &b, 1);
	case NFT_CT_STATUS:
		return put_u32(dst, len, e->status);
	case NFT_CT_MARK:
		return put_u32(dst, len, 0); /* setting marks is not supported */
	case NFT_CT_EXPIRATION:
		return put_u32(dst, len, ct_expiration_ms(e, now_ns));
	case NFT_CT_L3PROTOCOL:
		return put_small(dst, len, &e->tuple[0].l3, 1);
	case NFT_CT_PROTOCOL:
		return put_small(dst, len, &e->tuple[0].proto, 1);
	default:
		break;
	}

	tu = &e->tuple[dir];
	alen = tu->l3 == NFPROTO_IPV4 ? 4 : 16;
	switch (key) {
	case NFT_CT_SRC:
		return len >= 16 && put_addr(dst, len, tu->src, alen);
	case NFT_CT_DST:
		return len >= 16 && put_addr(dst, len, tu->dst, alen);
	case NFT_CT_PROTO_SRC:
		return put_small(dst, len, tu->sp, 2);
	case NFT_CT_PROTO_DST:
		return put_small(dst, len, tu->dp, 2);
	case NFT_CT_SRC_IP:
		return tu->l3 == NFPROTO_IPV4 && put_addr(dst, len, tu->src, 4);
	case NFT_CT_DST_IP:
		return tu->l3 == NFPROTO_IPV4 && put_addr(dst, len, tu->dst, 4);
	case NFT_CT_SRC_IP6:
		return tu->l3 == NFPROTO_IPV6 && put_addr(dst, len, tu->src, 16);
	case NFT_CT_DST_IP6:
		return tu->l3 == NFPROTO_IPV6 && put_addr(dst, len, tu->dst, 16);
	default:
		return false;
	}
}
