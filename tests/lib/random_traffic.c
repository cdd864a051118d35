/*
 * Random traffic for the differential tests (test_fastpath, test_flowcache): IPv4 and
 * IPv6 frames near prefix and port edges, truncated and fragmented ones among them,
 * and random rulesets over the constructs the fast path and the flow cache reason
 * about. One xorshift generator, seeded by the test, so a failure repeats.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/random_traffic.h"

static uint64_t rng = 0x5eed1234abcdull;

void rt_seed(uint64_t seed)
{
	rng = seed;
}

uint64_t rt_rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

unsigned rt_pick(unsigned n)
{
	return (unsigned)(rt_rnd() % n);
}

/* --- random frames ---------------------------------------------------------------- */

static const char *const v4pool[] = {"10.0.0.1",   "10.0.0.200",  "10.0.1.7",
				     "10.1.2.3",   "192.168.1.1", "172.16.5.4",
				     "10.0.0.255", "0.0.0.0",	  "255.255.255.255"};
static const char *const v6pool[] = {"2001:db8::1", "2001:db8:1::5",  "2001:db9::1",
				     "fe80::1",	    "2001:db8::ffff", "::1"};
const uint16_t rt_portpool[RT_NPORTPOOL] = {0, 1, 22, 53, 79, 80, 81, 443, 1023, 1024, 8080, 65535};

/* A pool address with a few random low bits flipped: lands near prefix edges. */
static void addr_near(int af, uint8_t *a)
{
	unsigned alen = af == AF_INET ? 4 : 16, bit;

	if (af == AF_INET)
		inet_pton(af, v4pool[rt_pick(9)], a); /* the pools are valid addresses */
	else
		inet_pton(af, v6pool[rt_pick(6)], a);
	if (rt_pick(3) == 0)
		return;
	bit = rt_pick(8 * alen);
	for (unsigned i = 0; i < 1 + rt_pick(3); i++, bit++)
		if (bit < 8 * alen && rt_pick(2))
			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

static uint16_t port_near(void)
{
	uint16_t p = rt_portpool[rt_pick(12)];

	return rt_pick(3) ? p : (uint16_t)(p + rt_pick(3) - 1);
}

uint32_t rt_csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

uint16_t rt_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A random IPv4 or IPv6 frame; returns its length. The transport header may be cut
 * short (truncated fields) and IPv4 frames may be fragments. */
uint32_t rt_frame(uint8_t *f)
{
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47};
	int af = rt_pick(4) ? AF_INET : AF_INET6;
	uint8_t proto = protos[rt_pick(8)], l4[40] = {0}, *ip = f + 14;
	uint32_t l4len = 20, iplen, hl = af == AF_INET ? 20 : 40;
	uint16_t c;

	memcpy(f, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x00\x00\x01", 12);
	if (rt_pick(6) == 0)
		f[11] = 0x09;
	if (af == AF_INET6 && proto == 1)
		proto = 58;
	if (af == AF_INET && proto == 58)
		proto = 1;
	/* transport header */
	uint16_t sp = port_near(), dp = port_near();
	l4[0] = (uint8_t)(sp >> 8);
	l4[1] = (uint8_t)sp;
	l4[2] = (uint8_t)(dp >> 8);
	l4[3] = (uint8_t)dp;
	for (int i = 4; i < 12; i++)
		l4[i] = rt_pick(2) ? (uint8_t)rt_rnd() : 0;
	if (proto == 6) {
		static const uint8_t fl[] = {0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x03, 0x00};
		l4[12] = 5 << 4;
		l4[13] = fl[rt_pick(8)];
		l4[14] = l4[15] = 0xff;
	} else if (proto == 17) {
		l4len = 8 + rt_pick(4);
	} else if (proto == 1 || proto == 58) {
		l4[0] = rt_pick(2) ? 8 : 128; /* echo request */
		l4[1] = 0;
		l4len = 8;
	} else {
		l4len = 8;
	}
	if (rt_pick(5) == 0)
		l4len = rt_pick(l4len + 1); /* truncated inside the transport header */
	iplen = hl + l4len;
	if (af == AF_INET) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(iplen >> 8);
		ip[3] = (uint8_t)iplen;
		ip[4] = (uint8_t)rt_rnd();
		if (rt_pick(8) == 0)
			ip[6] = 0x20; /* MF: first fragment */
		else if (rt_pick(10) == 0)
			ip[7] = (uint8_t)(1 + rt_pick(4)); /* a later fragment */
		ip[8] = rt_pick(4) ? 64 : (uint8_t)rt_pick(3);
		ip[9] = proto;
		addr_near(AF_INET, ip + 12);
		addr_near(AF_INET, ip + 16);
		c = rt_csum_fold(rt_csum_add(0, ip, 20));
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		f[12] = 0x08;
		f[13] = 0x00;
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4len >> 8);
		ip[5] = (uint8_t)l4len;
		ip[6] = proto;
		ip[7] = rt_pick(4) ? 64 : 1;
		addr_near(AF_INET6, ip + 8);
		addr_near(AF_INET6, ip + 24);
		f[12] = 0x86;
		f[13] = 0xdd;
	}
	memcpy(ip + hl, l4, l4len);
	if (l4len == 20 || (proto != 6 && l4len >= 8)) {
		/* transport checksum, so conntrack sees valid packets */
		uint8_t ps[40] = {0};
		unsigned pl;
		int off = proto == 6 ? 16 : proto == 17 ? 6 : 2;

		if (af == AF_INET) {
			memcpy(ps, ip + 12, 8);
			ps[9] = proto;
			ps[10] = (uint8_t)(l4len >> 8);
			ps[11] = (uint8_t)l4len;
			pl = proto == 1 ? 0 : 12;
		} else {
			memcpy(ps, ip + 8, 32);
			ps[34] = (uint8_t)(l4len >> 8);
			ps[35] = (uint8_t)l4len;
			ps[39] = proto;
			pl = 40;
		}
		if (proto == 17) {
			ip[hl + 4] = (uint8_t)(l4len >> 8);
			ip[hl + 5] = (uint8_t)l4len;
		}
		if (proto != 47) {
			ip[hl + off] = ip[hl + off + 1] = 0;
			c = rt_csum_fold(rt_csum_add(rt_csum_add(0, ps, pl), ip + hl, l4len));
			ip[hl + off] = (uint8_t)(c >> 8);
			ip[hl + off + 1] = (uint8_t)c;
		}
	}
	return 14 + iplen + (rt_pick(6) == 0 ? rt_pick(8) : 0); /* sometimes Ethernet padding */
}

/* --- random rulesets --------------------------------------------------------------- */

void rt_addf(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* One rule's protocols: nft refuses "ip ... ip6 ..." or "tcp ... udp ..." in one rule. */
struct rule_ctx {
	int fam;	/* 0 any, 4 ip, 6 ip6 */
	const char *l4; /* "tcp", "udp" or "th" */
};

static void match_random(char *r, size_t len, struct rule_ctx *rc)
{
	static const char *const ops[] = {"", "!= ", "< ", "> ", "<= ", ">= "};
	const char *l4 = rc->l4;
	char a[64];
	uint8_t b[16];
	unsigned k = rt_pick(17);

	/* Family-specific matches follow the rule's family once one is chosen. */
	if ((k <= 1 || k == 9 || k == 14) && rc->fam == 6)
		k = 2;
	else if (k == 2 && rc->fam == 4)
		k = 0;
	if ((k == 7 || k == 13) && strcmp(l4, "tcp"))
		k = 3;
	if (k == 16 && strcmp(l4, "udp"))
		k = 4;
	if (!strcmp(l4, "none") && (k == 3 || k == 4 || k == 5 || k == 14))
		k = 10;
	if (k <= 1 || k == 9 || k == 14)
		rc->fam = 4;
	if (k == 2)
		rc->fam = 6;
	switch (k) {
	case 0:
	case 1:
		addr_near(AF_INET, b);
		inet_ntop(AF_INET, b, a, sizeof(a));
		rt_addf(r, len, "ip %s %s%s/%u ", rt_pick(2) ? "saddr" : "daddr",
			rt_pick(4) ? "" : "!= ", a, 1 + rt_pick(32));
		break;
	case 2:
		addr_near(AF_INET6, b);
		inet_ntop(AF_INET6, b, a, sizeof(a));
		rt_addf(r, len, "ip6 %s %s/%u ", rt_pick(2) ? "saddr" : "daddr", a,
			1 + rt_pick(128));
		break;
	case 3:
	case 4: {
		uint16_t x = port_near(), y = port_near();

		if (rt_pick(3))
			rt_addf(r, len, "%s %s %s%u ", l4, rt_pick(2) ? "sport" : "dport",
				ops[rt_pick(6)], x);
		else
			rt_addf(r, len, "%s dport %s%u-%u ", l4,
				rt_pick(3) ? "" : "!= ", x < y ? x : y, x < y ? y : x);
		break;
	}
	case 5:
		rt_addf(r, len, "meta l4proto %s ", strcmp(l4, "th") ? l4 : "{ tcp, udp }");
		break;
	case 6: {
		static const char *const n[] = {"iifname \"vif*\"", "iifname != \"vif1.0\"",
						"oifname \"uplink\"", "oifname \"vif*\"",
						"iif \"vif2.0\""};
		rt_addf(r, len, "%s ", n[rt_pick(5)]);
		break;
	}
	case 7:
		rt_addf(r, len, "%s ",
			rt_pick(2) ? "tcp flags & (syn|ack) == syn" : "tcp flags & (fin|rst) != 0");
		break;
	case 8: {
		static const char *const n[] = {"ct state new", "ct state established,related",
						"ct state invalid", "ct direction reply",
						"ct state != established"};
		rt_addf(r, len, "%s ", n[rt_pick(5)]);
		break;
	}
	case 9:
		rt_addf(r, len, "ip daddr %s{ 10.0.0.1, 10.0.1.0/24, 192.168.0.0/16 } ",
			rt_pick(3) ? "" : "!= ");
		break;
	case 10:
		rt_addf(r, len, "meta length %s ", rt_pick(2) ? "40-60" : "> 50");
		break;
	case 11:
		rt_addf(r, len, "meta mark %s ", rt_pick(2) ? "5" : "!= 0");
		break;
	case 12:
		rt_addf(r, len, "%s ", rc->fam == 6 ? "ip6 hoplimit 64" : "ip ttl < 2");
		rc->fam = rc->fam == 6 ? 6 : 4;
		break;
	case 13:
		/* byte-aligned masks become shorter loads at the same offset: merged */
		rt_addf(r, len, "tcp sequence & %s ",
			rt_pick(2)   ? "0xffff0000 == 0"
			: rt_pick(2) ? "0xffffff00 != 0"
				     : "0xff000000 == 0");
		break;
	case 14:
		rt_addf(r, len, "ip protocol %s ", strcmp(l4, "th") ? l4 : "icmp");
		if (!strcmp(l4, "th"))
			rc->l4 = "none"; /* no port match may follow an icmp protocol */
		break;
	case 15:
		rt_addf(r, len, "ether saddr %s ",
			rt_pick(2) ? "00:16:3e:00:00:01" : "00:16:3e:00:00:09");
		break;
	default:
		rt_addf(r, len, "udp length %s ", rt_pick(2) ? "< 10" : "10");
		break;
	}
}

static void action_random(char *r, size_t len, bool sub)
{
	static const char *const acts[] = {
		"accept",
		"drop",
		"counter",
		"counter accept",
		"counter drop",
		"limit rate 3/second burst 2 packets counter accept",
		"limit rate over 2/second counter",
		"reject",
		"log prefix \"fp \" counter",
		"meta mark set 5 counter",
		"counter jump sub",
		"goto sub",
	};
	unsigned n = sizeof(acts) / sizeof(acts[0]);

	if (sub && rt_pick(5) == 0)
		rt_addf(r, len, "return");
	else
		rt_addf(r, len, "%s", acts[rt_pick(sub ? n - 2 : n)]);
}

void rt_ruleset(char *buf, size_t len, unsigned nrules)
{
	static const char *const l4s[] = {"tcp", "udp", "th"};

	buf[0] = 0;
	rt_addf(buf, len,
		"table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward "
		"priority 0; policy %s;\n",
		rt_pick(2) ? "accept" : "drop");
	for (unsigned i = 0; i < nrules; i++) {
		struct rule_ctx rc = {0, l4s[rt_pick(3)]};

		rt_addf(buf, len, "\t\t");
		for (unsigned m = rt_pick(4); m > 0; m--)
			match_random(buf, len, &rc);
		action_random(buf, len, false);
		rt_addf(buf, len, "\n");
	}
	rt_addf(buf, len, "\t}\n\tchain sub {\n");
	for (unsigned i = 0; i < 1 + nrules / 3; i++) {
		struct rule_ctx rc = {0, l4s[rt_pick(3)]};

		rt_addf(buf, len, "\t\t");
		for (unsigned m = rt_pick(3); m > 0; m--)
			match_random(buf, len, &rc);
		action_random(buf, len, true);
		rt_addf(buf, len, "\n");
	}
	rt_addf(buf, len, "\t}\n}\n");
}
