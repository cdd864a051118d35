/*
 * The packet parser: Ethernet + VLAN tags, then IPv4 or IPv6 validated the way the
 * kernel's receive path does before any netfilter hook, then the transport header
 * located the way nf_tables' pktinfo does at an inet hook. The rule engine is
 * tested differentially against the kernel, so every rule here follows a named
 * kernel function; deviations are called out where they are.
 *
 * All offsets are checked against frame_len (and, past the IP header, against the
 * IP packet length, which is what the kernel's skb->len is after trimming).
 */
#include <stdbool.h>
#include <string.h>

#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include "filters/packet.h"

#define IP4_HLEN   20
#define IP6_HLEN   40
#define IP4_MF	   0x2000
#define IP4_OFFSET 0x1fff

/* Hop-by-hop option types the kernel's ip6_parse_tlv() treats specially. */
enum {
	IP6_TLV_PAD1 = 0,
	IP6_TLV_PADN = 1,
	IP6_TLV_ROUTERALERT = 5,
	IP6_TLV_CALIPSO = 7,
	IP6_TLV_IOAM = 49,
	IP6_TLV_JUMBO = 0xc2,
};

/* net.ipv6.max_hbh_opts_number's default: more non-padding options are dropped. */
#define IP6_MAX_HBH_OPTS 8

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static enum flt_pkt_status pkt_finish(struct flt_pkt *pkt, enum flt_pkt_status st)
{
	pkt->status = (uint8_t)st;
	if (st != FLT_PKT_IP)
		pkt->nfproto = NFPROTO_UNSPEC;
	if (st != FLT_PKT_IP && st != FLT_PKT_L2)
		pkt->len = 0;
	return st;
}

/* One's complement sum of @n bytes (n even), folded: 0 when an IPv4 header's
 * checksum is right, as the kernel's ip_fast_csum() reports it. */
static uint16_t pkt_ip4_csum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < n; i += 2)
		sum += rd16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ip_rcv_core()'s checks, then nft_set_pktinfo_ipv4(). */
static enum flt_pkt_status pkt_parse_ip4(struct flt_pkt *pkt)
{
	const uint8_t *p = pkt->frame + pkt->nh;
	uint32_t avail = pkt->frame_len - pkt->nh;
	uint32_t hlen, tot_len;
	uint16_t frag;

	if (avail < IP4_HLEN)
		return FLT_PKT_BAD_IP4;
	hlen = (p[0] & 0x0fu) * 4;
	if ((p[0] >> 4) != 4 || hlen < IP4_HLEN)
		return FLT_PKT_BAD_IP4;
	if (avail < hlen)
		return FLT_PKT_BAD_IP4;
	if (pkt_ip4_csum(p, hlen) != 0)
		return FLT_PKT_BAD_IP4;
	tot_len = rd16(p + 2);
	/* Truncated (the kernel counts it apart, but drops it all the same). */
	if (tot_len > avail || tot_len < hlen)
		return FLT_PKT_BAD_IP4;

	pkt->len = tot_len;
	pkt->nfproto = NFPROTO_IPV4;
	pkt->l4proto = p[9];
	pkt->th = pkt->nh + hlen;
	pkt->flags |= FLT_PKT_F_L4;
	frag = rd16(p + 6);
	pkt->fragoff = frag & IP4_OFFSET;
	if (frag & (IP4_MF | IP4_OFFSET))
		pkt->flags |= FLT_PKT_F_FRAG;
	return FLT_PKT_IP;
}

static bool ip6_addr_is_loopback(const uint8_t *a)
{
	static const uint8_t lo[16] = {[15] = 1};

	return memcmp(a, lo, sizeof(lo)) == 0;
}

/* One hop-by-hop option (not padding) at @off of the IPv6 header @p, as the kernel's
 * ipv6_hop_*() handlers and ip6_tlvopt_unknown() judge it with default sysctls. */
static bool pkt_ip6_hbh_opt_ok(const uint8_t *p, uint32_t off, uint32_t *len)
{
	uint8_t type = p[off];
	uint32_t jumbo;

	switch (type) {
	case IP6_TLV_ROUTERALERT:
		return p[off + 1] == 2;
	case IP6_TLV_IOAM:
		/* Misaligned is dropped; aligned is ignored while ioam6_enabled is 0. */
		return (off & 3) == 0;
	case IP6_TLV_JUMBO:
		/* ipv6_hop_jumbo(): a jumbogram (RFC 2675) has payload_len 0 and its
		 * length, above 65535, here; the packet is trimmed to it. Any other
		 * use of the option is a drop. */
		if (p[off + 1] != 4 || (off & 3) != 2 || rd16(p + 4) != 0)
			return false;
		jumbo = (uint32_t)rd16(p + off + 2) << 16 | rd16(p + off + 4);
		if (jumbo <= 0xffff || jumbo > *len - IP6_HLEN)
			return false;
		*len = IP6_HLEN + jumbo;
		return true;
	case IP6_TLV_CALIPSO:
		/* With CONFIG_NETLABEL (Debian, and this machine) calipso_validate()
		 * needs a configured CALIPSO DOI; the appliance configures none. */
		return false;
	default:
		/* The two high bits say what to do with an unknown option: only 00
		 * (skip) lets the packet through; the others drop it. */
		return (type & 0xc0) == 0;
	}
}

/* ipv6_parse_hopopts() + ip6_parse_tlv(true, ...): the hop-by-hop header right after
 * the IPv6 header must fit in *@len bytes and hold well-formed options. A jumbo
 * option may shorten *@len. */
static bool pkt_ip6_hbh_ok(const uint8_t *p, uint32_t *len)
{
	uint32_t end, off = IP6_HLEN + 2;
	unsigned padlen = 0, count = 0;

	if (*len < IP6_HLEN + 8)
		return false;
	end = IP6_HLEN + (p[IP6_HLEN + 1] + 1u) * 8;
	if (end > *len)
		return false;
	while (off < end) {
		uint32_t optlen;

		if (p[off] == IP6_TLV_PAD1) {
			/* RFC 4942 2.1.9.5: padding never needs more than 7 bytes. */
			if (++padlen > 7)
				return false;
			off++;
			continue;
		}
		if (end - off < 2)
			return false;
		optlen = p[off + 1] + 2u;
		if (optlen > end - off)
			return false;
		if (p[off] == IP6_TLV_PADN) {
			padlen += optlen;
			if (padlen > 7)
				return false;
			for (uint32_t i = 2; i < optlen; i++) {
				if (p[off + i] != 0)
					return false;
			}
		} else {
			if (++count > IP6_MAX_HBH_OPTS)
				return false;
			if (!pkt_ip6_hbh_opt_ok(p, off, len))
				return false;
			padlen = 0;
		}
		off += optlen;
	}
	return true;
}

/* The kernel's ipv6_ext_hdr() minus NEXTHDR_NONE: headers ipv6_find_hdr() walks. */
static bool ip6_walks(uint8_t nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_AH || nexthdr == IPPROTO_DSTOPTS;
}

static void pkt_set_l4(struct flt_pkt *pkt, uint8_t proto, uint32_t th)
{
	pkt->l4proto = proto;
	pkt->th = th;
	pkt->flags |= FLT_PKT_F_L4;
}

/*
 * ipv6_find_hdr(skb, &thoff, -1, &frag_off, &flags) with flags = IP6_FH_F_AUTH, as
 * nft_set_pktinfo_ipv6() calls it. Reads are bounded by pkt->len (the kernel's
 * skb_header_pointer() against the trimmed skb); a failed read is an error, which
 * leaves FLT_PKT_F_L4 unset. Only the first 2 bytes of an extension header are
 * read (4 of a routing or fragment header), so the offset may end past the packet.
 */
static void pkt_ip6_find_l4(struct flt_pkt *pkt)
{
	const uint8_t *p = pkt->frame + pkt->nh;
	uint32_t len = pkt->len;
	uint32_t off = IP6_HLEN;
	uint8_t next = p[6];

	while (ip6_walks(next)) {
		uint32_t hdrlen;
		uint8_t inner;

		if (off + 2 > len)
			return;
		inner = p[off];
		if (next == IPPROTO_ROUTING && off + 4 > len)
			return;
		if (next == IPPROTO_AH)
			break; /* IP6_FH_F_AUTH: AH is the "transport" header for nft */
		if (next == IPPROTO_FRAGMENT) {
			uint16_t fo;

			pkt->flags |= FLT_PKT_F_FRAG;
			if (off + 4 > len)
				return;
			fo = rd16(p + off + 2) & ~7u;
			if (fo) {
				/* A later fragment: its "protocol" is the fragment header's
				 * next header, unless that is an extension header (error).
				 * The kernel leaves thoff unset here; we point past the
				 * fragment header, and fragoff keeps transport loads off. */
				if (!ip6_walks(inner)) {
					pkt->fragoff = fo;
					pkt_set_l4(pkt, inner, pkt->nh + off + 8);
				}
				return;
			}
			hdrlen = 8;
		} else {
			hdrlen = (p[off + 1] + 1u) * 8;
		}
		next = inner;
		off += hdrlen;
	}
	/* A transport protocol, ESP, NEXTHDR_NONE or AH. */
	pkt_set_l4(pkt, next, pkt->nh + off);
}

/* ip6_rcv_core()'s checks, then nft_set_pktinfo_ipv6(). */
static enum flt_pkt_status pkt_parse_ip6(struct flt_pkt *pkt)
{
	const uint8_t *p = pkt->frame + pkt->nh;
	uint32_t avail = pkt->frame_len - pkt->nh;
	const uint8_t *saddr = p + 8, *daddr = p + 24;
	uint32_t plen, len;

	if (avail < IP6_HLEN || (p[0] >> 4) != 6)
		return FLT_PKT_BAD_IP6;
	/* RFC 4291 2.5.3 and 2.7 (+ errata 3480), checked on every non-loopback
	 * device: loopback addresses, multicast sources, and multicast destinations
	 * of reserved (0) or interface-local (1) scope never arrive from a wire. */
	if (ip6_addr_is_loopback(saddr) || ip6_addr_is_loopback(daddr))
		return FLT_PKT_BAD_IP6;
	if (daddr[0] == 0xff && (daddr[1] & 0x0f) <= 1)
		return FLT_PKT_BAD_IP6;
	if (saddr[0] == 0xff)
		return FLT_PKT_BAD_IP6;

	plen = rd16(p + 4);
	len = IP6_HLEN + plen;
	/* payload_len 0 before a hop-by-hop header announces a jumbogram: ipv6_rcv
	 * then does not trim, and leaves the length to a jumbo option (which needs a
	 * frame above 64 KiB). Without one, the kernel keeps the whole frame,
	 * Ethernet padding included, as the packet (checked against kernel 6.18:
	 * such a packet reaches the forward hook). So does this parser, rather than
	 * refusing it as a bad header. Before anything else, 0 is an empty payload. */
	if (plen == 0 && p[6] == IPPROTO_HOPOPTS)
		len = avail;
	else if (len > avail)
		return FLT_PKT_BAD_IP6;
	if (p[6] == IPPROTO_HOPOPTS && !pkt_ip6_hbh_ok(p, &len))
		return FLT_PKT_BAD_IP6;

	pkt->len = len;
	pkt->nfproto = NFPROTO_IPV6;
	pkt_ip6_find_l4(pkt);
	return FLT_PKT_IP;
}

enum flt_pkt_status flt_pkt_parse(struct flt_pkt *pkt, const uint8_t *frame, uint32_t frame_len)
{
	uint32_t off = 12; /* the ethertype (or VLAN TPID) after the two MAC addresses */

	memset(pkt, 0, sizeof(*pkt));
	pkt->frame = frame;
	pkt->frame_len = frame_len;
	if (frame_len < ETH_HLEN)
		return pkt_finish(pkt, FLT_PKT_RUNT);

	pkt->proto = rd16(frame + off);
	while (pkt->proto == ETH_P_8021Q || pkt->proto == ETH_P_8021AD) {
		if (pkt->vlan_depth == FLT_PKT_MAX_VLAN) {
			/* Too deep to look into: proto is the next TPID. */
			pkt->nh = (uint16_t)(off + 2);
			pkt->len = frame_len - pkt->nh;
			return pkt_finish(pkt, FLT_PKT_L2);
		}
		/* TPID (already read), TCI, then the next ethertype. */
		if (frame_len < off + 6)
			return pkt_finish(pkt, FLT_PKT_RUNT);
		off += 4;
		pkt->proto = rd16(frame + off);
		pkt->vlan_depth++;
	}
	pkt->nh = (uint16_t)(off + 2);

	switch (pkt->proto) {
	case ETH_P_IP:
		return pkt_finish(pkt, pkt_parse_ip4(pkt));
	case ETH_P_IPV6:
		return pkt_finish(pkt, pkt_parse_ip6(pkt));
	default:
		pkt->len = frame_len - pkt->nh;
		return pkt_finish(pkt, FLT_PKT_L2);
	}
}

const char *flt_pkt_status_name(enum flt_pkt_status st)
{
	static const char *const names[FLT_PKT_STATUS_COUNT] = {
		[FLT_PKT_IP] = "ip",	       [FLT_PKT_L2] = "l2",
		[FLT_PKT_RUNT] = "runt",       [FLT_PKT_BAD_IP4] = "bad-ip4",
		[FLT_PKT_BAD_IP6] = "bad-ip6",
	};

	if ((unsigned)st >= FLT_PKT_STATUS_COUNT)
		return "invalid";
	return names[st];
}
