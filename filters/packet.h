/*
 * The one packet parser of vifwall: turns an Ethernet frame (from a guest, hence
 * untrusted) into the offsets the rule engine and the data plane need, with the
 * same meaning the kernel's nf_tables gives them at an inet forward hook
 * (nft_set_pktinfo_ipv4 / nft_set_pktinfo_ipv6). Never reads outside
 * [frame, frame + frame_len). Never allocates.
 *
 * What the kernel checks, and where (so the rule engine knows what is left to it):
 * - here: Ethernet and VLAN tags; ip_rcv_core (version, IHL, checksum, lengths);
 *   ip6_rcv_core (version, loopback/multicast address rules, payload length, the
 *   hop-by-hop options header and its TLVs); the transport header lookup of
 *   nft_set_pktinfo_ipv4 and of ipv6_find_hdr() as nft_set_pktinfo_ipv6 calls it.
 * - not here (they happen after PREROUTING, in the routing/forwarding code):
 *   IPv4 options (ip_options_compile), TTL / hop limit <= 1, martian addresses,
 *   MTU, pkt_type checks.
 */
#ifndef VIFWALL_FILTERS_PACKET_H
#define VIFWALL_FILTERS_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* What the parser found. Anything but FLT_PKT_IP and FLT_PKT_L2 is a frame the
 * kernel's IP stack would have dropped before any netfilter hook. */
enum flt_pkt_status {
	FLT_PKT_IP = 0,	      /* valid IPv4 or IPv6 header: nfproto, nh, len are set */
	FLT_PKT_L2,	      /* not IP (ARP, other ethertypes): only proto and nh are set */
	FLT_PKT_RUNT,	      /* shorter than an Ethernet header (or its VLAN tags) */
	FLT_PKT_BAD_IP4,      /* IPv4 header the kernel's ip_rcv refuses */
	FLT_PKT_BAD_IP6,      /* IPv6 header the kernel's ipv6_rcv refuses */
	FLT_PKT_STATUS_COUNT, /* number of values; keep last */
};

enum {
	/* Transport header found: l4proto and th are valid. Unset for IPv6 when
	 * ipv6_find_hdr() fails (truncated extension header, non-first fragment
	 * followed by an extension header): the kernel's pktinfo is then "unspec",
	 * so meta l4proto and every transport-header load do not match. */
	FLT_PKT_F_L4 = 1 << 0,
	FLT_PKT_F_FRAG = 1 << 1, /* a fragment (IPv4 MF or offset; IPv6 fragment header) */
};

#define FLT_PKT_MAX_VLAN 2 /* 802.1ad + 802.1Q; deeper stacks are FLT_PKT_L2 */

struct flt_pkt {
	const uint8_t *frame; /* Ethernet header */
	uint32_t frame_len;   /* bytes readable at frame */
	uint32_t len;	      /* IP: kernel's skb->len at the hook, the L3 packet length from
				 nh with trailing Ethernet padding trimmed (IPv4 tot_len,
				 IPv6 40 + payload_len). L2: frame_len - nh. Else 0. */
	uint32_t th;	      /* offset of the transport header in frame (FLT_PKT_F_L4).
				 For IPv6 it MAY lie beyond flt_pkt_end(): ipv6_find_hdr()
				 only reads the first bytes of each extension header, so
				 one whose length runs past the packet still yields an
				 l4proto. Bounds-check every read (flt_pkt_ptr()). */
	uint16_t proto;	      /* ethertype after VLAN tags, host byte order */
	uint16_t nh;	      /* offset of the network header in frame */
	uint16_t fragoff;     /* nonzero: not the first fragment (kernel's pkt->fragoff:
				 IPv4 in 8-byte units, IPv6 in bytes). Transport loads
				 never match when it is nonzero, as in nft_payload. */
	uint8_t nfproto;      /* NFPROTO_IPV4, NFPROTO_IPV6 (status FLT_PKT_IP), else
				 NFPROTO_UNSPEC */
	uint8_t l4proto;      /* IPPROTO_* of the transport header (FLT_PKT_F_L4); may be
				 IPPROTO_AH (the kernel stops there) or IPPROTO_NONE */
	uint8_t flags;	      /* FLT_PKT_F_* */
	uint8_t vlan_depth;   /* VLAN tags between the MAC addresses and proto */
	uint8_t status;	      /* enum flt_pkt_status */
};

/*
 * Parse @frame_len bytes at @frame into @pkt. Every field of @pkt is written.
 * Returns the status (also stored in pkt->status); pkt->frame/frame_len are always set.
 */
enum flt_pkt_status flt_pkt_parse(struct flt_pkt *pkt, const uint8_t *frame, uint32_t frame_len);

/* A short name for a status, for counters and traces ("bad-ip4"...); "invalid" for a
 * value out of range. Never NULL. */
const char *flt_pkt_status_name(enum flt_pkt_status st);

/* Bytes of the L3 packet, for bounds checks: payload reads must end at or before
 * pkt->nh + pkt->len (for IP) — what the kernel's skb holds at the hook. */
static inline uint32_t flt_pkt_end(const struct flt_pkt *pkt)
{
	return pkt->status == FLT_PKT_IP ? (uint32_t)pkt->nh + pkt->len : pkt->frame_len;
}

/* @n bytes at offset @off of the frame, or NULL when they do not all lie before
 * flt_pkt_end() (the kernel's skb_header_pointer() failing). */
static inline const uint8_t *flt_pkt_ptr(const struct flt_pkt *pkt, uint32_t off, uint32_t n)
{
	uint32_t end = flt_pkt_end(pkt);

	if (off > end || n > end - off)
		return NULL;
	return pkt->frame + off;
}

/* Destination MAC address (6 bytes). Valid unless status is FLT_PKT_RUNT. */
static inline const uint8_t *flt_pkt_eth_dst(const struct flt_pkt *pkt)
{
	return pkt->frame;
}

/* Source MAC address (6 bytes). Valid unless status is FLT_PKT_RUNT. */
static inline const uint8_t *flt_pkt_eth_src(const struct flt_pkt *pkt)
{
	return pkt->frame + 6;
}

/* The network header (nh), e.g. an ARP header for FLT_PKT_L2 with proto 0x0806.
 * Valid unless status is FLT_PKT_RUNT; check its length against flt_pkt_end(). */
static inline const uint8_t *flt_pkt_l3(const struct flt_pkt *pkt)
{
	return pkt->frame + pkt->nh;
}

#endif
