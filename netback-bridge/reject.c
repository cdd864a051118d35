/*
 * Answers to rejected frames (reject.h). The layouts and the rules for staying
 * silent follow the kernel's nf_reject_ipv4/ipv6 and icmp_send/icmpv6_send, which
 * answer for an inet table's forward hook: ICMP quotes as much of the original as
 * fits in 576 bytes (IPv4) or the IPv6 minimum MTU, resets take their sequence
 * numbers from the segment they answer, and the TTL / hop limit is the default 64.
 */
#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "netback-bridge/csum.h"
#include "netback-bridge/reject.h"

#define ETH_ALEN  6
#define REPLY_TTL 64
#define IP4_QUOTE (576 - 20 - 8)  /* icmp_send: the reply stays within 576 bytes */
#define IP6_QUOTE (1280 - 40 - 8) /* icmpv6_send: within the IPv6 minimum MTU */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* Store the checksum of @sum (nb_csum_add's big-endian word sum) into a header. */
static void put_csum(uint8_t *p, uint64_t sum)
{
	wr16(p, (uint16_t)~nb_csum_fold(sum));
}

/* The pseudo-header sum of an IPv4 or IPv6 packet whose header is at @ip. */
static uint64_t pseudo_sum(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4len)
{
	uint8_t tail[8] = {0};

	wr32(tail, l4len);
	tail[7] = proto;
	if (v6)
		return nb_csum_add(nb_csum_add(0, ip + 8, 32), tail, 8);
	return nb_csum_add(nb_csum_add(0, ip + 12, 8), tail + 2, 6);
}

/* nf_reject_verify_csum + nf_(ip|ip6)_checksum: a frame whose transport checksum is
 * wrong gets no answer (it may not be what its sender sent). */
static bool l4_csum_ok(const struct flt_pkt *pkt, bool v6)
{
	const uint8_t *ip = pkt->frame + pkt->nh;
	uint32_t end = flt_pkt_end(pkt);
	uint32_t l4len = end - pkt->th;
	const uint8_t *l4 = flt_pkt_ptr(pkt, pkt->th, l4len);
	uint64_t sum;

	if (!l4 || pkt->th > end)
		return false;
	switch (pkt->l4proto) {
	case IPPROTO_UDP:
		if (l4len < 8)
			return false;
		/* IPv4 UDP may go without a checksum; otherwise as TCP */
		if (!v6 && rd16(l4 + 6) == 0)
			return true;
		__attribute__((fallthrough));
	case IPPROTO_TCP:
	case IPPROTO_ICMPV6:
		sum = pseudo_sum(ip, v6, pkt->l4proto, l4len);
		break;
	case IPPROTO_ICMP:
		sum = 0;
		break;
	default:
		return true; /* no 16-bit one's complement checksum to verify */
	}
	return nb_csum_fold(nb_csum_add(sum, l4, l4len)) == 0xffff;
}

/* Layer 2 of the answer: the frame's header up to the network header (VLAN tags
 * kept), with the MAC addresses swapped. Returns its length. */
static uint32_t put_l2(const struct flt_pkt *pkt, uint8_t *out)
{
	memcpy(out, pkt->frame, pkt->nh);
	memcpy(out, pkt->frame + ETH_ALEN, ETH_ALEN);
	memcpy(out + ETH_ALEN, pkt->frame, ETH_ALEN);
	return pkt->nh;
}

static void put_ip4(uint8_t *ip, const uint8_t *orig, uint8_t tos, bool df, uint8_t proto,
		    uint16_t tot_len)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = tos;
	wr16(ip + 2, tot_len);
	if (df)
		ip[6] = 0x40;
	ip[8] = REPLY_TTL;
	ip[9] = proto;
	memcpy(ip + 12, orig + 16, 4); /* from the original destination */
	memcpy(ip + 16, orig + 12, 4); /* to its source */
	put_csum(ip + 10, nb_csum_add(0, ip, 20));
}

static void put_ip6(uint8_t *ip, const uint8_t *orig, uint8_t proto, uint16_t payload_len)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	wr16(ip + 4, payload_len);
	ip[6] = proto;
	ip[7] = REPLY_TTL;
	memcpy(ip + 8, orig + 24, 16);
	memcpy(ip + 24, orig + 8, 16);
}

/* icmp_send / icmpv6_send refuse to answer these sources and destinations. */
static bool addresses_answerable(const struct flt_pkt *pkt, bool v6)
{
	const uint8_t *ip = pkt->frame + pkt->nh;
	static const uint8_t zero[16];

	if (flt_pkt_eth_dst(pkt)[0] & 1)
		return false; /* sent to an Ethernet broadcast or multicast address */
	if (v6)
		return ip[24] != 0xff && ip[8] != 0xff && memcmp(ip + 8, zero, 16);
	return (ip[16] & 0xf0) != 0xe0 && rd32(ip + 16) != 0xffffffffu && (ip[12] & 0xf0) != 0xe0 &&
	       rd32(ip + 12) != 0xffffffffu && rd32(ip + 12) != 0;
}

/* Whether the original is an ICMP(v6) error: nobody answers an error with an error. */
static bool is_icmp_error(const struct flt_pkt *pkt, bool v6)
{
	const uint8_t *t = flt_pkt_ptr(pkt, pkt->th, 1);

	if (!(pkt->flags & FLT_PKT_F_L4))
		return false;
	if (v6)
		return pkt->l4proto == IPPROTO_ICMPV6 && (!t || *t < 128);
	if (pkt->l4proto != IPPROTO_ICMP)
		return false;
	/* icmp_send: errors, and types it does not know, get no answer */
	return !t || *t == 3 || *t == 4 || *t == 5 || *t == 11 || *t == 12 || *t > 18;
}

/* The ICMP(v6) code of @v for the packet's family (icmpx codes mapped as nft does). */
static int unreach_code(const struct flt_verdict *v, bool v6)
{
	static const uint8_t icmpx4[] = {
		[NFT_REJECT_ICMPX_NO_ROUTE] = 0,	  /* net unreachable */
		[NFT_REJECT_ICMPX_PORT_UNREACH] = 3,	  /* port unreachable */
		[NFT_REJECT_ICMPX_HOST_UNREACH] = 1,	  /* host unreachable */
		[NFT_REJECT_ICMPX_ADMIN_PROHIBITED] = 13, /* communication prohibited */
	};
	static const uint8_t icmpx6[] = {
		[NFT_REJECT_ICMPX_NO_ROUTE] = 0,	 /* no route */
		[NFT_REJECT_ICMPX_PORT_UNREACH] = 4,	 /* port unreachable */
		[NFT_REJECT_ICMPX_HOST_UNREACH] = 3,	 /* address unreachable */
		[NFT_REJECT_ICMPX_ADMIN_PROHIBITED] = 1, /* administratively prohibited */
	};

	if (v->reject_type == NFT_REJECT_ICMP_UNREACH)
		return v->reject_icmp_code;
	if (v->reject_icmp_code > NFT_REJECT_ICMPX_MAX)
		return -1;
	return v6 ? icmpx6[v->reject_icmp_code] : icmpx4[v->reject_icmp_code];
}

static uint32_t build_unreach(const struct flt_pkt *pkt, bool v6, int code, uint8_t *out,
			      uint32_t cap)
{
	const uint8_t *orig = pkt->frame + pkt->nh;
	uint32_t iplen = v6 ? 40 : 20;
	uint32_t quote =
		pkt->len < (v6 ? IP6_QUOTE : IP4_QUOTE) ? pkt->len : (v6 ? IP6_QUOTE : IP4_QUOTE);
	uint32_t l2, icmplen = 8 + quote;
	uint8_t *ip, *icmp;

	if (code < 0 || is_icmp_error(pkt, v6) || !flt_pkt_ptr(pkt, pkt->nh, quote) ||
	    pkt->nh + iplen + icmplen > cap)
		return 0;
	l2 = put_l2(pkt, out);
	ip = out + l2;
	icmp = ip + iplen;
	memset(icmp, 0, 8);
	icmp[0] = v6 ? 1 : 3; /* destination unreachable */
	icmp[1] = (uint8_t)code;
	memcpy(icmp + 8, orig, quote);
	if (v6) {
		put_ip6(ip, orig, IPPROTO_ICMPV6, (uint16_t)icmplen);
		put_csum(icmp + 2,
			 nb_csum_add(pseudo_sum(ip, true, IPPROTO_ICMPV6, icmplen), icmp, icmplen));
	} else {
		put_ip4(ip, orig, (uint8_t)((orig[1] & 0x1e) | 0xc0), false, IPPROTO_ICMP,
			(uint16_t)(iplen + icmplen));
		put_csum(icmp + 2, nb_csum_add(0, icmp, icmplen));
	}
	return l2 + iplen + icmplen;
}

/* nf_reject_ip(6)_tcphdr_put: RST, with the ACK of what the segment carried when it
 * had no ACK itself. */
static uint32_t build_reset(const struct flt_pkt *pkt, bool v6, uint8_t *out, uint32_t cap)
{
	const uint8_t *orig = pkt->frame + pkt->nh;
	const uint8_t *th = flt_pkt_ptr(pkt, pkt->th, 20);
	uint32_t iplen = v6 ? 40 : 20, l2, doff, payload;
	uint8_t *ip, *tcp;

	if (!(pkt->flags & FLT_PKT_F_L4) || pkt->l4proto != IPPROTO_TCP || !th ||
	    (th[13] & 0x04) /* RST */ || pkt->nh + iplen + 20 > cap)
		return 0;
	doff = (uint32_t)(th[12] >> 4) * 4;
	if (doff < 20 || pkt->th + doff > flt_pkt_end(pkt))
		return 0;
	payload = flt_pkt_end(pkt) - pkt->th - doff;
	l2 = put_l2(pkt, out);
	ip = out + l2;
	tcp = ip + iplen;
	memset(tcp, 0, 20);
	memcpy(tcp, th + 2, 2); /* source port: the original destination */
	memcpy(tcp + 2, th, 2);
	tcp[12] = 5 << 4;
	if (th[13] & 0x10) { /* ACK: the reset takes its sequence number from it */
		memcpy(tcp + 4, th + 8, 4);
		tcp[13] = 0x04;
	} else {
		uint32_t ack = rd32(th + 4) + payload + !!(th[13] & 0x02) + !!(th[13] & 0x01);

		wr32(tcp + 8, ack);
		tcp[13] = 0x14; /* RST, ACK */
	}
	if (v6)
		put_ip6(ip, orig, IPPROTO_TCP, 20);
	else
		put_ip4(ip, orig, 0, true, IPPROTO_TCP, (uint16_t)(iplen + 20));
	put_csum(tcp + 16, nb_csum_add(pseudo_sum(ip, v6, IPPROTO_TCP, 20), tcp, 20));
	return l2 + iplen + 20;
}

uint32_t nb_reject_build(const struct flt_pkt *pkt, const struct flt_verdict *v, uint8_t *out,
			 uint32_t cap)
{
	bool v6 = pkt->nfproto == NFPROTO_IPV6;

	/* Fragments get no answer: the kernel would answer the reassembled packet, and
	 * vifwall does not reassemble (docs/rules.md). */
	if (v->code != FLT_REJECT || pkt->status != FLT_PKT_IP || pkt->fragoff ||
	    (pkt->flags & FLT_PKT_F_FRAG) || !addresses_answerable(pkt, v6))
		return 0;
	if ((pkt->flags & FLT_PKT_F_L4) && !l4_csum_ok(pkt, v6))
		return 0;
	if (v->reject_type == NFT_REJECT_TCP_RST)
		return build_reset(pkt, v6, out, cap);
	return build_unreach(pkt, v6, unreach_code(v, v6), out, cap);
}
