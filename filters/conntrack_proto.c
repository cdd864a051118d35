/*
 * Conntrack's view of a packet: where its transport header is (get_l4proto), its tuple
 * (nf_ct_get_tuple) and the reverse one (nf_ct_invert_tuple), the L4 checksum check
 * conntrack does at PREROUTING (nf_checksum with nf_conntrack_checksum=1), and the
 * small trackers: UDP/UDP-Lite (nf_conntrack_proto_udp.c), GRE (..._gre.c) and refresh.
 *
 * The header walk is conntrack's own, not nft's: for IPv6 the kernel's conntrack uses
 * ipv6_skip_exthdr(), which skips AH and stops with an error at NEXTHDR_NONE, while
 * nft's pktinfo (filters/packet.c) uses ipv6_find_hdr(), which stops at AH. So the
 * packet parser's th/l4proto cannot be reused here.
 */
#include <string.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "filters/conntrack_internal.h"

#define GRE_VERSION_MASK 0x0007
#define GRE_VERSION_1	 0x0001
#define GRE_PROTO_PPP	 0x880b

static bool ip6_is_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_FRAGMENT ||
	       nh == IPPROTO_AH || nh == IPPROTO_NONE || nh == IPPROTO_DSTOPTS;
}

/* ipv6_skip_exthdr(): -1 on a truncated header or NEXTHDR_NONE. A later fragment stops
 * the walk at its fragment header with *fragoff set. */
static int ct_ip6_skip(const struct ct_view *v, uint32_t start, uint8_t *nexthdr, uint16_t *fragoff)
{
	uint8_t nh = *nexthdr;

	*fragoff = 0;
	while (ip6_is_ext(nh)) {
		const uint8_t *h;
		uint32_t hdrlen;

		if (nh == IPPROTO_NONE)
			return -1;
		h = ct_ptr(v, start, 2);
		if (!h)
			return -1;
		if (nh == IPPROTO_FRAGMENT) {
			const uint8_t *fp = ct_ptr(v, start + 2, 2);

			if (!fp)
				return -1;
			*fragoff = ct_rd16(fp);
			if (*fragoff & ~7u)
				break;
			hdrlen = 8;
		} else if (nh == IPPROTO_AH) {
			hdrlen = (h[1] + 2u) << 2;
		} else {
			hdrlen = (h[1] + 1u) << 3;
		}
		nh = h[0];
		start += hdrlen;
	}
	*nexthdr = nh;
	return (int)start;
}

/*
 * get_l4proto(): the offset of the transport header of the IP packet at @nhoff (the
 * packet itself, or the one inside an ICMP error), or -1 when conntrack cannot track it
 * (later fragment, truncated header).
 */
int ct_l4_locate(const struct ct_view *v, uint32_t nhoff, uint8_t *proto)
{
	const uint8_t *h;

	if (v->pf == NFPROTO_IPV4) {
		uint32_t dataoff;

		h = ct_ptr(v, nhoff, 20);
		if (!h)
			return -1;
		if (ct_rd16(h + 6) & 0x1fff)
			return -1;
		dataoff = nhoff + (h[0] & 0x0fu) * 4;
		*proto = h[9];
		if (dataoff > v->len)
			return -1;
		return (int)dataoff;
	}
	if (v->pf == NFPROTO_IPV6) {
		uint16_t fragoff;
		uint8_t nh;
		int off;

		h = ct_ptr(v, nhoff + 6, 1);
		if (!h)
			return -1;
		nh = h[0];
		off = ct_ip6_skip(v, nhoff + 40, &nh, &fragoff);
		if (off < 0 || (fragoff & ~7u))
			return -1;
		*proto = nh;
		return off;
	}
	return -1;
}

/* gre_pkt_to_tuple(): version 0 is tracked like a generic protocol; PPTP (version 1)
 * by call id, with no keymap (we run no PPTP helper). */
static bool ct_gre_tuple(const struct ct_view *v, uint32_t dataoff, struct ct_tuple *t)
{
	const uint8_t *g = ct_ptr(v, dataoff, 4);

	if (!g || (ct_rd16(g) & GRE_VERSION_MASK) != GRE_VERSION_1)
		return true;
	g = ct_ptr(v, dataoff, 8);
	if (!g)
		return true;
	if (ct_rd16(g + 2) != GRE_PROTO_PPP)
		return false;
	memcpy(t->dp, g + 6, 2);
	return true;
}

/* nf_ct_get_tuple(): false when the transport fields cannot be read. */
bool ct_get_tuple(const struct ct_view *v, uint32_t nhoff, uint32_t dataoff, uint8_t proto,
		  struct ct_tuple *t)
{
	const uint8_t *a, *l4;

	memset(t, 0, sizeof(*t));
	t->l3 = v->pf;
	if (v->pf == NFPROTO_IPV4) {
		a = ct_ptr(v, nhoff + 12, 8);
		if (!a)
			return false;
		memcpy(t->src, a, 4);
		memcpy(t->dst, a + 4, 4);
	} else {
		a = ct_ptr(v, nhoff + 8, 32);
		if (!a)
			return false;
		memcpy(t->src, a, 16);
		memcpy(t->dst, a + 16, 16);
	}
	t->proto = proto;

	switch (proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4 = ct_ptr(v, dataoff, 8);
		if (!l4)
			return false;
		t->dp[0] = l4[0]; /* type */
		t->dp[1] = l4[1]; /* code */
		memcpy(t->sp, l4 + 4, 2);
		return true;
	case IPPROTO_GRE:
		return ct_gre_tuple(v, dataoff, t);
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
		l4 = ct_ptr(v, dataoff, 4);
		if (!l4)
			return false;
		memcpy(t->sp, l4, 2);
		memcpy(t->dp, l4 + 2, 2);
		return true;
	default:
		return true;
	}
}

/* The ICMP types with a reply, as invmap in nf_conntrack_proto_icmp{,v6}.c: the reply's
 * type + 1, or 0 when there is none. */
static uint8_t ct_icmp_inverse(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP) {
		switch (type) {
		case 8: /* echo */
			return 0 + 1;
		case 0:
			return 8 + 1;
		case 13: /* timestamp */
			return 14 + 1;
		case 14:
			return 13 + 1;
		case 15: /* info request */
			return 16 + 1;
		case 16:
			return 15 + 1;
		case 17: /* address mask */
			return 18 + 1;
		case 18:
			return 17 + 1;
		default:
			return 0;
		}
	}
	switch (type) {
	case 128: /* echo request */
		return 129 + 1;
	case 129:
		return 128 + 1;
	case 139: /* node information query */
		return 140 + 1;
	case 140:
		return 139 + 1;
	default:
		return 0;
	}
}

/* nf_ct_invert_tuple(): false for an ICMP type that has no reply. */
bool ct_invert_tuple(struct ct_tuple *inv, const struct ct_tuple *orig)
{
	memset(inv, 0, sizeof(*inv));
	inv->l3 = orig->l3;
	inv->proto = orig->proto;
	memcpy(inv->src, orig->dst, 16);
	memcpy(inv->dst, orig->src, 16);
	if (orig->proto == IPPROTO_ICMP || orig->proto == IPPROTO_ICMPV6) {
		uint8_t r = ct_icmp_inverse(orig->proto, orig->dp[0]);

		if (!r)
			return false;
		memcpy(inv->sp, orig->sp, 2);
		inv->dp[0] = (uint8_t)(r - 1);
		inv->dp[1] = orig->dp[1];
		return true;
	}
	memcpy(inv->sp, orig->dp, 2);
	memcpy(inv->dp, orig->sp, 2);
	return true;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += ct_rd16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

/*
 * nf_ip_checksum() / nf_ip6_checksum() on a CHECKSUM_NONE skb: the one's complement sum
 * over [dataoff, len) plus the pseudo-header (none for ICMPv4) must fold to 0xffff. The
 * length in the pseudo-header is the IP payload's, as the kernel computes it, not the
 * UDP length field.
 */
bool ct_checksum_bad(const struct ct_view *v, uint32_t dataoff, uint8_t proto)
{
	return ct_checksum_bad_cov(v, dataoff, v->len - dataoff, proto);
}

/* The same over the first @cover bytes of the transport data (UDP-Lite coverage); the
 * pseudo-header still carries the whole payload length. */
bool ct_checksum_bad_cov(const struct ct_view *v, uint32_t dataoff, uint32_t cover, uint8_t proto)
{
	uint32_t n = v->len - dataoff, sum = 0;

	if (v->pf == NFPROTO_IPV4) {
		if (proto != IPPROTO_ICMP) {
			sum = csum_add(sum, v->p + 12, 8);
			sum += proto;
			sum += n & 0xffff;
			sum += n >> 16;
		}
	} else {
		sum = csum_add(sum, v->p + 8, 32);
		sum += n >> 16;
		sum += n & 0xffff;
		sum += proto;
	}
	sum = csum_add(sum, v->p + dataoff, cover);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum != 0xffff;
}

/* nf_ct_refresh(): unconfirmed entries hold a relative timeout that confirmation
 * makes absolute. */
void ct_refresh(struct flt_ct_entry *e, uint64_t extra, uint64_t now)
{
	if (e->status & IPS_FIXED_TIMEOUT)
		return;
	e->timeout = (e->status & IPS_CONFIRMED) ? now + extra : extra;
}

/* udp_error() / udplite_error(): true when the packet is malformed or its checksum bad.
 * First fragments are not checked: the kernel checks the reassembled datagram. */
static bool ct_udp_error(const struct ct_view *v, uint32_t dataoff, bool lite)
{
	const uint8_t *h = ct_ptr(v, dataoff, 8);
	uint32_t udplen = v->len - dataoff, ulen;

	if (!h)
		return true;
	ulen = ct_rd16(h + 4);
	if (lite) {
		/* Coverage 0 means the whole datagram. */
		if (ulen != 0 && (ulen < 8 || ulen > udplen))
			return true;
		if (ct_rd16(h + 6) == 0)
			return true;
		return !v->first_frag &&
		       ct_checksum_bad_cov(v, dataoff, ulen ? ulen : udplen, IPPROTO_UDPLITE);
	}
	if (ulen > udplen || ulen < 8)
		return true;
	if (ct_rd16(h + 6) == 0)
		return false;
	return !v->first_frag && ct_checksum_bad(v, dataoff, IPPROTO_UDP);
}

/* nf_conntrack_udp_packet() and nf_conntrack_udplite_packet(). */
enum ct_verdict ct_udp_packet(struct flt_ct_table *t, struct flt_ct_entry *e,
			      const struct ct_view *v, uint32_t dataoff, bool lite, uint64_t now)
{
	uint32_t status = e->status;

	if (ct_udp_error(v, dataoff, lite))
		return CT_INVALID;
	if (lite) {
		if (status & IPS_SEEN_REPLY) {
			ct_refresh(e, t->to.udp_replied, now);
			e->status |= IPS_ASSURED;
		} else {
			ct_refresh(e, t->to.udp_unreplied, now);
		}
		return CT_ACCEPT;
	}
	if (!(status & IPS_CONFIRMED))
		e->proto.udp.stream_ts = now + 2 * CT_NSEC;
	if (status & IPS_SEEN_REPLY) {
		uint64_t extra = t->to.udp_unreplied;
		bool stream = false;

		/* Only a flow still alive 2 s after its first packet is a stream. */
		if ((int64_t)(now - e->proto.udp.stream_ts) > 0) {
			extra = t->to.udp_replied;
			stream = !(status & IPS_ASSURED);
		}
		ct_refresh(e, extra, now);
		if (stream)
			e->status |= IPS_ASSURED;
	} else {
		ct_refresh(e, t->to.udp_unreplied, now);
	}
	return CT_ACCEPT;
}

/* nf_conntrack_gre_packet(): assured as soon as a reply was seen. */
enum ct_verdict ct_gre_packet(struct flt_ct_table *t, struct flt_ct_entry *e, uint64_t now)
{
	if (!(e->status & IPS_CONFIRMED)) {
		e->proto.gre.timeout = t->to.gre_unreplied;
		e->proto.gre.stream_timeout = t->to.gre_replied;
	}
	if (e->status & IPS_SEEN_REPLY) {
		ct_refresh(e, e->proto.gre.stream_timeout * CT_NSEC, now);
		e->status |= IPS_ASSURED;
	} else {
		ct_refresh(e, e->proto.gre.timeout * CT_NSEC, now);
	}
	return CT_ACCEPT;
}
