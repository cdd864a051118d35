/*
 * The one packet parser of vifwall: turns an Ethernet frame (from a guest, hence
 * untrusted) into the offsets the rule engine and the data plane need, with the
 * same meaning the kernel's nf_tables gives them at an inet forward hook
 * (nft_set_pktinfo_ipv4 / __nft_set_pktinfo_ipv6). Never reads outside
 * [frame, frame + frame_len). Never allocates.
 */
#ifndef VIFWALL_FILTERS_PACKET_H
#define VIFWALL_FILTERS_PACKET_H

#include <stdint.h>

/* What the parser found. Anything but FLT_PKT_IP and FLT_PKT_L2 is a frame the
 * kernel's IP stack would have dropped before any netfilter hook. */
enum flt_pkt_status {
	FLT_PKT_IP = 0,       /* valid IPv4 or IPv6 header: nfproto, nh, len are set */
	FLT_PKT_L2,           /* not IP (ARP, other ethertypes): only proto and nh are set */
	FLT_PKT_RUNT,         /* shorter than an Ethernet header (or its VLAN tags) */
	FLT_PKT_BAD_IP4,      /* IPv4 header the kernel's ip_rcv refuses */
	FLT_PKT_BAD_IP6,      /* IPv6 header the kernel's ipv6_rcv refuses */
	FLT_PKT_STATUS_COUNT, /* number of values; keep last */
};

enum {
	FLT_PKT_F_L4 = 1 << 0,   /* transport header found: l4proto and th are valid */
	FLT_PKT_F_FRAG = 1 << 1, /* a fragment (IPv4 MF or offset; IPv6 fragment header) */
};

#define FLT_PKT_MAX_VLAN 2 /* 802.1ad + 802.1Q; deeper stacks are FLT_PKT_L2 */

struct flt_pkt {
	const uint8_t *frame; /* Ethernet header */
	uint32_t frame_len;   /* bytes readable at frame */
	uint32_t len;         /* kernel's skb->len at the hook: L3 packet length from nh,
				 trailing Ethernet padding trimmed */
	uint16_t proto;       /* ethertype after VLAN tags, host byte order */
	uint16_t nh;          /* offset of the network header in frame */
	uint16_t th;          /* offset of the transport header (FLT_PKT_F_L4) */
	uint16_t fragoff;     /* nonzero: not the first fragment (kernel's pkt->fragoff) */
	uint8_t nfproto;      /* NFPROTO_IPV4, NFPROTO_IPV6, or NFPROTO_UNSPEC */
	uint8_t l4proto;      /* IPPROTO_* of the transport header (FLT_PKT_F_L4) */
	uint8_t flags;        /* FLT_PKT_F_* */
	uint8_t vlan_depth;   /* VLAN tags between the MAC addresses and proto */
	uint8_t status;       /* enum flt_pkt_status */
};

/*
 * Parse @frame_len bytes at @frame into @pkt.
 * Returns the status (also stored in pkt->status); pkt->frame/frame_len are always set.
 */
enum flt_pkt_status flt_pkt_parse(struct flt_pkt *pkt, const uint8_t *frame, uint32_t frame_len);

/* A short name for a status, for counters and traces ("bad-ip4"...). */
const char *flt_pkt_status_name(enum flt_pkt_status st);

/* Bytes of the L3 packet, for bounds checks: payload reads must end at or before
 * pkt->nh + pkt->len (for IP) — what the kernel's skb holds at the hook. */
static inline uint32_t flt_pkt_end(const struct flt_pkt *pkt)
{
	return pkt->status == FLT_PKT_IP ? (uint32_t)pkt->nh + pkt->len : pkt->frame_len;
}

#endif
