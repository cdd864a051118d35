/*
 * A frame in one line (frame_summary.h): Ethernet and up to two VLAN tags, ARP,
 * IPv4 and IPv6 (hop-by-hop, routing, destination and fragment headers skipped),
 * then TCP, UDP, ICMP or ICMPv6. Every read is checked against what was captured.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "appliance/frame_summary.h"

struct out {
	char *buf;
	size_t n, off;
};

static void say(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->off >= o->n)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->off, o->n - o->off, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->off += (size_t)k < o->n - o->off ? (size_t)k : o->n - o->off - 1;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void mac(struct out *o, const uint8_t *m)
{
	say(o, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void tcp_flags(struct out *o, uint8_t fl)
{
	static const char names[] = "FSRPAUEW";
	char s[9];
	unsigned k = 0;

	for (unsigned i = 0; i < 8; i++)
		if (fl & (1u << i))
			s[k++] = names[i] == 'A' ? '.' : names[i];
	s[k] = 0;
	say(o, "Flags [%s]", k ? s : "none");
}

static const char *icmp_name(unsigned type)
{
	switch (type) {
	case 0:
		return "echo reply";
	case 3:
		return "unreachable";
	case 5:
		return "redirect";
	case 8:
		return "echo request";
	case 11:
		return "time exceeded";
	default:
		return NULL;
	}
}

static const char *icmp6_name(unsigned type)
{
	switch (type) {
	case 1:
		return "destination unreachable";
	case 2:
		return "packet too big";
	case 3:
		return "time exceeded";
	case 128:
		return "echo request";
	case 129:
		return "echo reply";
	case 133:
		return "router solicitation";
	case 134:
		return "router advertisement";
	case 135:
		return "neighbor solicitation";
	case 136:
		return "neighbor advertisement";
	default:
		return NULL;
	}
}

/* The transport header of @proto at @p (@cap bytes captured); @sa/@da are the
 * addresses already formatted. */
static void l4(struct out *o, unsigned proto, const uint8_t *p, uint32_t cap, const char *sa,
	       const char *da, int v6)
{
	const char *name;

	switch (proto) {
	case IPPROTO_TCP:
		if (cap < 14)
			break;
		say(o, "%s.%u > %s.%u: ", sa, get16(p), da, get16(p + 2));
		tcp_flags(o, p[13]);
		return;
	case IPPROTO_UDP:
		if (cap < 4)
			break;
		say(o, "%s.%u > %s.%u: UDP", sa, get16(p), da, get16(p + 2));
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (cap < 2)
			break;
		name = v6 ? icmp6_name(p[0]) : icmp_name(p[0]);
		say(o, "%s > %s: %s ", sa, da, v6 ? "ICMP6" : "ICMP");
		if (name)
			say(o, "%s", name);
		else
			say(o, "type %u code %u", p[0], p[1]);
		if (cap >= 8 && (v6 ? p[0] == 128 || p[0] == 129 : p[0] == 0 || p[0] == 8))
			say(o, ", id %u, seq %u", get16(p + 4), get16(p + 6));
		return;
	default:
		say(o, "%s > %s: proto %u", sa, da, proto);
		return;
	}
	say(o, "%s > %s: proto %u [|truncated]", sa, da, proto);
}

static void ip4(struct out *o, const uint8_t *p, uint32_t cap)
{
	char sa[INET_ADDRSTRLEN], da[INET_ADDRSTRLEN];
	unsigned ihl;

	if (cap < 20 || (p[0] >> 4) != 4 || (ihl = (p[0] & 15u) * 4u) < 20) {
		say(o, "IP [|truncated or bad header]");
		return;
	}
	inet_ntop(AF_INET, p + 12, sa, sizeof(sa));
	inet_ntop(AF_INET, p + 16, da, sizeof(da));
	say(o, "IP ");
	if (get16(p + 6) & 0x1fff) { /* not the first fragment: no transport header */
		say(o, "%s > %s: proto %u (fragment)", sa, da, p[9]);
		return;
	}
	l4(o, p[9], p + (ihl < cap ? ihl : cap), cap > ihl ? cap - ihl : 0, sa, da, 0);
}

static void ip6(struct out *o, const uint8_t *p, uint32_t cap)
{
	char sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN];
	unsigned nh, off = 40;

	if (cap < 40 || (p[0] >> 4) != 6) {
		say(o, "IP6 [|truncated or bad header]");
		return;
	}
	inet_ntop(AF_INET6, p + 8, sa, sizeof(sa));
	inet_ntop(AF_INET6, p + 24, da, sizeof(da));
	say(o, "IP6 ");
	nh = p[6];
	/* A few extension headers, as tcpdump walks them. */
	for (unsigned i = 0; i < 8; i++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			if (cap < off + 2)
				break;
			unsigned next = p[off], hl = (p[off + 1] + 1u) * 8u;
			nh = next;
			off += hl;
		} else if (nh == 44) {
			if (cap < off + 8)
				break;
			if (get16(p + off + 2) & 0xfff8) {
				say(o, "%s > %s: proto %u (fragment)", sa, da, p[off]);
				return;
			}
			nh = p[off];
			off += 8;
		} else {
			break;
		}
	}
	l4(o, nh, p + (off < cap ? off : cap), off < cap ? cap - off : 0, sa, da, 1);
}

static void arp(struct out *o, const uint8_t *p, uint32_t cap)
{
	char spa[INET_ADDRSTRLEN], tpa[INET_ADDRSTRLEN];

	/* Ethernet/IPv4 ARP only; others by their op. */
	if (cap < 28 || get16(p) != 1 || get16(p + 2) != 0x0800 || p[4] != 6 || p[5] != 4) {
		say(o, "ARP%s", cap < 8 ? " [|truncated]" : "");
		if (cap >= 8)
			say(o, ", op %u", get16(p + 6));
		return;
	}
	inet_ntop(AF_INET, p + 14, spa, sizeof(spa));
	inet_ntop(AF_INET, p + 24, tpa, sizeof(tpa));
	if (get16(p + 6) == 1) {
		say(o, "ARP, Request who-has %s tell %s", tpa, spa);
	} else if (get16(p + 6) == 2) {
		say(o, "ARP, Reply %s is-at ", spa);
		mac(o, p + 8);
	} else {
		say(o, "ARP, op %u", get16(p + 6));
	}
}

char *app_frame_summary(const uint8_t *data, uint32_t caplen, uint32_t len, char *buf, size_t n)
{
	struct out o = {buf, n, 0};
	uint32_t off = 12;
	unsigned type;

	if (!n)
		return buf;
	buf[0] = 0;
	if (caplen > len)
		caplen = len;
	if (caplen < 14) {
		say(&o, "[|ether], length %u", len);
		return buf;
	}
	type = get16(data + 12);
	for (unsigned i = 0; i < 2 && (type == 0x8100 || type == 0x88a8); i++) {
		if (caplen < off + 6) {
			say(&o, "vlan [|truncated], length %u", len);
			return buf;
		}
		say(&o, "vlan %u, ", get16(data + off + 2) & 0xfff);
		off += 4;
		type = get16(data + off);
	}
	off += 2;
	switch (type) {
	case 0x0800:
		ip4(&o, data + off, caplen - off);
		break;
	case 0x86dd:
		ip6(&o, data + off, caplen - off);
		break;
	case 0x0806:
		arp(&o, data + off, caplen - off);
		break;
	default:
		mac(&o, data + 6);
		say(&o, " > ");
		mac(&o, data);
		say(&o, ", ethertype 0x%04x", type);
		break;
	}
	say(&o, ", length %u", len);
	return buf;
}
