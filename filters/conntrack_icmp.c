/*
 * ICMP and ICMPv6 in conntrack (nf_conntrack_proto_icmp.c, nf_conntrack_proto_icmpv6.c):
 * queries (echo, timestamp, node information...) are tracked by id with a 30 s timeout;
 * error messages are tied to the connection of the packet they quote (RELATED, in the
 * direction of that connection they travel) without creating entries; ICMPv6 neighbour
 * discovery and MLD are marked untracked; everything else is invalid.
 */
#include <string.h>

#include <netinet/in.h>
#include <linux/netfilter.h>

#include "filters/conntrack_internal.h"

#define ICMP_MAX_TYPE	    18 /* NR_ICMP_TYPES: higher types are "a mystery" */
#define ICMP6_REDIRECT	    137
#define ND_OPT_REDIRECT_HDR 4

static bool icmp_is_err(uint8_t type)
{
	/* dest unreachable, source quench, redirect, time exceeded, parameter problem */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The ICMPv6 types the kernel never tracks (noct_valid_new): MLD queries, reports and
 * done, router/neighbour solicitation and advertisement, MLDv2 reports, multicast
 * router discovery. */
static bool icmp6_untracked(uint8_t type)
{
	return (type >= 130 && type <= 136) || type == 143 || type == 151 || type == 152;
}

/*
 * nf_conntrack_inet_error(): find the connection of the packet quoted at @nhoff. It must
 * be a confirmed, live entry, and the error must travel to the address that connection
 * sends to in the direction found (else a host could relate errors to flows it never
 * saw). Returns 1 with out->ct set, or 0 (invalid).
 */
static int icmp_inet_error(struct flt_ct_table *t, const struct ct_view *v, uint32_t nhoff,
			   const uint8_t *outer_daddr, uint64_t now, struct flt_ct_pkt *out)
{
	struct ct_tuple orig, inner;
	struct flt_ct_entry *e;
	uint8_t daddr[16] = {0};
	uint8_t proto;
	int dataoff, dir;

	dataoff = ct_l4_locate(v, nhoff, &proto);
	if (dataoff <= 0 || !ct_get_tuple(v, nhoff, (uint32_t)dataoff, proto, &orig))
		return 0;
	/* The quoted packet went the other way: look up its inverse. */
	if (!ct_invert_tuple(&inner, &orig))
		return 0;
	e = ct_find(t, &inner, now, &dir);
	if (!e)
		return 0;
	memcpy(daddr, outer_daddr, v->pf == NFPROTO_IPV4 ? 4 : 16);
	if (memcmp(daddr, e->tuple[dir].dst, 16) != 0)
		return 0;
	out->ct = e;
	out->ctinfo = dir == IP_CT_DIR_REPLY ? IP_CT_RELATED_REPLY : IP_CT_RELATED;
	return 1;
}

/* nf_conntrack_icmpv6_redirect(): a redirect quotes a packet after its options. */
static int icmp6_redirect(struct flt_ct_table *t, const struct ct_view *v, uint32_t dataoff,
			  uint64_t now, struct flt_ct_pkt *out)
{
	const uint8_t *rd = ct_ptr(v, dataoff, 40), *opt;

	if (!rd)
		return 0;
	if (rd[1] != 0)
		return 1;
	/* RFC 4861 8.1: from a link-local router, hop limit 255. */
	if (v->p[7] != 255 || !(v->p[8] == 0xfe && (v->p[9] & 0xc0) == 0x80))
		return 0;
	dataoff += 40;
	opt = ct_ptr(v, dataoff, 2);
	if (!opt || opt[1] == 0)
		return 0;
	if (opt[0] != ND_OPT_REDIRECT_HDR)
		return 1;
	return icmp_inet_error(t, v, dataoff + 8, v->p + 24, now, out);
}

/*
 * nf_conntrack_handle_icmp(): runs before the normal lookup for ICMP in IPv4 and ICMPv6
 * in IPv6. Returns 0 when the packet is invalid; 1 when the caller goes on, unless this
 * function already gave the packet a conntrack (related error) or marked it untracked.
 */
int ct_icmp_error(struct flt_ct_table *t, const struct ct_view *v, uint32_t dataoff, uint8_t proto,
		  uint64_t now, struct flt_ct_pkt *out)
{
	const uint8_t *h;

	if (v->pf == NFPROTO_IPV4 && proto == IPPROTO_ICMP) {
		h = ct_ptr(v, dataoff, 8);
		if (!h)
			return 0;
		if (!v->first_frag && ct_checksum_bad(v, dataoff, IPPROTO_ICMP))
			return 0;
		if (h[0] > ICMP_MAX_TYPE)
			return 0;
		if (!icmp_is_err(h[0]))
			return 1;
		return icmp_inet_error(t, v, dataoff + 8, v->p + 16, now, out);
	}
	if (v->pf == NFPROTO_IPV6 && proto == IPPROTO_ICMPV6) {
		h = ct_ptr(v, dataoff, 8);
		if (!h)
			return 0;
		if (!v->first_frag && ct_checksum_bad(v, dataoff, IPPROTO_ICMPV6))
			return 0;
		if (icmp6_untracked(h[0])) {
			out->untracked = true;
			out->ctinfo = FLT_CT_UNTRACKED;
			return 1;
		}
		if (h[0] == ICMP6_REDIRECT)
			return icmp6_redirect(t, v, dataoff, now, out);
		if (h[0] >= 128)
			return 1;
		return icmp_inet_error(t, v, dataoff + 8, v->p + 24, now, out);
	}
	return 1;
}

/* nf_conntrack_icmp_packet() / nf_conntrack_icmpv6_packet(): only a query opens an
 * entry; every accepted packet refreshes it. */
enum ct_verdict ct_icmp_packet(struct flt_ct_table *t, struct flt_ct_entry *e, uint8_t pf,
			       uint64_t now)
{
	uint8_t type = e->tuple[IP_CT_DIR_ORIGINAL].dp[0];

	if (e->tuple[0].proto == IPPROTO_ICMP) {
		if (pf != NFPROTO_IPV4)
			return CT_INVALID;
		if (type != 8 && type != 13 && type != 15 && type != 17)
			return CT_INVALID;
		ct_refresh(e, t->to.icmp, now);
		return CT_ACCEPT;
	}
	if (pf != NFPROTO_IPV6)
		return CT_INVALID;
	if (!(e->status & IPS_CONFIRMED) && type != 128 && type != 139)
		return CT_INVALID;
	ct_refresh(e, t->to.icmpv6, now);
	return CT_ACCEPT;
}
