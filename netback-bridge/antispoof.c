/*
 * nb_antispoof_check(): what a guest may put in the source fields of its frames.
 * The rules are listed in antispoof.h. Reads go through flt_pkt_ptr() so a short or
 * lying frame is dropped, never over-read. The ARP and neighbour discovery checks
 * matter as much as the IP ones: without them a guest could still take over another
 * guest's address by poisoning its neighbours' caches.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "netback-bridge/antispoof.h"

#define ETH_P_IP4   0x0800
#define ETH_P_IP6   0x86dd
#define ETH_P_ARP_  0x0806
#define ICMP6_ND_NA 136
#define ND_OPT_TLLA 2
#define DHCP_CLIENT 68
#define DHCP_SERVER 67

int nb_antispoof_init(struct nb_antispoof *as, const uint8_t *mac)
{
	static const uint8_t zero[6];

	memset(as, 0, sizeof(*as));
	if (!mac)
		return 0;
	if ((mac[0] & 1) || !memcmp(mac, zero, 6))
		return -EINVAL;
	memcpy(as->mac, mac, 6);
	as->have_mac = true;
	/* RFC 4291 appendix A: flip the universal/local bit, put ff:fe in the middle. */
	as->ll6[0] = 0xfe;
	as->ll6[1] = 0x80;
	as->ll6[8] = mac[0] ^ 0x02;
	as->ll6[9] = mac[1];
	as->ll6[10] = mac[2];
	as->ll6[11] = 0xff;
	as->ll6[12] = 0xfe;
	memcpy(&as->ll6[13], &mac[3], 3);
	return 0;
}

static bool ip4_bad_for_guest(const struct in_addr *a)
{
	uint8_t first = ((const uint8_t *)&a->s_addr)[0];

	return a->s_addr == 0 || first == 127 || first >= 224;
}

int nb_antispoof_add_ip(struct nb_antispoof *as, int af, const void *addr)
{
	if (af == AF_INET) {
		const struct in_addr *a = addr;

		if (ip4_bad_for_guest(a))
			return -EINVAL;
		for (unsigned i = 0; i < as->n4; i++)
			if (as->ip4[i].s_addr == a->s_addr)
				goto on;
		if (as->n4 == NB_AS_MAX_ADDRS)
			return -ENOSPC;
		as->ip4[as->n4++] = *a;
	} else if (af == AF_INET6) {
		const struct in6_addr *a = addr;

		if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a) ||
		    IN6_IS_ADDR_LOOPBACK(a))
			return -EINVAL;
		for (unsigned i = 0; i < as->n6; i++)
			if (IN6_ARE_ADDR_EQUAL(&as->ip6[i], a))
				goto on;
		if (as->n6 == NB_AS_MAX_ADDRS)
			return -ENOSPC;
		as->ip6[as->n6++] = *a;
	} else {
		return -EAFNOSUPPORT;
	}
on:
	as->enabled = true;
	return 0;
}

static bool ip4_owned(const struct nb_antispoof *as, const uint8_t *a)
{
	for (unsigned i = 0; i < as->n4; i++)
		if (!memcmp(&as->ip4[i], a, 4))
			return true;
	return false;
}

/* An IPv6 address the guest may use as its own: configured, or its link-local. */
static bool ip6_owned(const struct nb_antispoof *as, const uint8_t *a)
{
	for (unsigned i = 0; i < as->n6; i++)
		if (!memcmp(&as->ip6[i], a, 16))
			return true;
	if (as->have_mac)
		return !memcmp(as->ll6, a, 16);
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* DHCP's first messages come from 0.0.0.0 before the guest has its address. */
static bool ip4_is_dhcp_request(const struct flt_pkt *pkt)
{
	const uint8_t *udp;

	if (!(pkt->flags & FLT_PKT_F_L4) || pkt->l4proto != IPPROTO_UDP || pkt->fragoff)
		return false;
	udp = flt_pkt_ptr(pkt, pkt->th, 4);
	return udp && udp[0] == 0 && udp[1] == DHCP_CLIENT && udp[2] == 0 && udp[3] == DHCP_SERVER;
}

static enum nb_drop_reason check_ip4(const struct nb_antispoof *as, const struct flt_pkt *pkt)
{
	static const uint8_t any[4];
	const uint8_t *src = flt_pkt_ptr(pkt, pkt->nh + 12u, 4);

	if (!src)
		return NB_DROP_MALFORMED;
	if (ip4_owned(as, src) || (!memcmp(src, any, 4) && ip4_is_dhcp_request(pkt)))
		return NB_DROP_NONE;
	return NB_DROP_SPOOF_IP4;
}

/* A neighbour advertisement must announce one of the guest's addresses, and if it
 * names a link-layer address, the guest's own. */
static enum nb_drop_reason check_na(const struct nb_antispoof *as, const struct flt_pkt *pkt)
{
	uint32_t off = pkt->th + 24, end = flt_pkt_end(pkt);
	const uint8_t *target = flt_pkt_ptr(pkt, pkt->th + 8u, 16);

	if (!target || !ip6_owned(as, target))
		return NB_DROP_SPOOF_ND;
	while (as->have_mac && off + 2 <= end) {
		const uint8_t *opt = flt_pkt_ptr(pkt, off, 2);
		uint32_t len = (uint32_t)opt[1] * 8;

		if (!len)
			return NB_DROP_SPOOF_ND; /* RFC 4861 7.1.2: invalid, and a loop */
		if (opt[0] == ND_OPT_TLLA) {
			const uint8_t *lla = flt_pkt_ptr(pkt, off + 2, 6);

			if (!lla || memcmp(lla, as->mac, 6))
				return NB_DROP_SPOOF_ND;
		}
		off += len;
	}
	return NB_DROP_NONE;
}

static enum nb_drop_reason check_ip6(const struct nb_antispoof *as, const struct flt_pkt *pkt)
{
	static const uint8_t any[16];
	const uint8_t *src = flt_pkt_ptr(pkt, pkt->nh + 8u, 16);
	bool icmp6 = (pkt->flags & FLT_PKT_F_L4) && pkt->l4proto == IPPROTO_ICMPV6 && !pkt->fragoff;
	const uint8_t *type;

	if (!src)
		return NB_DROP_MALFORMED;
	if (!ip6_owned(as, src) && !(icmp6 && !memcmp(src, any, 16)))
		return NB_DROP_SPOOF_IP6;
	if (icmp6 && (type = flt_pkt_ptr(pkt, pkt->th, 1)) && *type == ICMP6_ND_NA)
		return check_na(as, pkt);
	return NB_DROP_NONE;
}

static enum nb_drop_reason check_arp(const struct nb_antispoof *as, const struct flt_pkt *pkt)
{
	static const uint8_t any[4];
	/* htype 1, ptype 0x0800, hlen 6, plen 4, oper, sha, spa, tha, tpa */
	const uint8_t *arp = flt_pkt_ptr(pkt, pkt->nh, 28);

	if (!arp || arp[0] || arp[1] != 1 || arp[2] != 0x08 || arp[3] || arp[4] != 6 || arp[5] != 4)
		return NB_DROP_SPOOF_ARP;
	if (memcmp(arp + 8, flt_pkt_eth_src(pkt), 6))
		return NB_DROP_SPOOF_ARP;
	if (!ip4_owned(as, arp + 14) && memcmp(arp + 14, any, 4))
		return NB_DROP_SPOOF_ARP;
	return NB_DROP_NONE;
}

enum nb_drop_reason nb_antispoof_check(const struct nb_antispoof *as, const struct flt_pkt *pkt)
{
	if (!as->enabled)
		return NB_DROP_NONE;
	if (pkt->status == FLT_PKT_RUNT)
		return NB_DROP_MALFORMED;
	if (as->have_mac && memcmp(flt_pkt_eth_src(pkt), as->mac, 6))
		return NB_DROP_SPOOF_MAC;
	if (pkt->status == FLT_PKT_IP && pkt->proto == ETH_P_IP4)
		return check_ip4(as, pkt);
	if (pkt->status == FLT_PKT_IP && pkt->proto == ETH_P_IP6)
		return check_ip6(as, pkt);
	if (pkt->status == FLT_PKT_L2 && pkt->proto == ETH_P_ARP_)
		return check_arp(as, pkt);
	/* Malformed IP and other ethertypes: the rule engine drops them anyway. */
	return NB_DROP_NONE;
}
