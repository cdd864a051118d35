/*
 * The flow cache against plain classification: the same nft script loaded twice
 * through the kernel (flt_ruleset_load, as root), the same packets through
 * flt_classify on one side and flt_classify_fc on the other, each side with its own
 * connection tracker. Every verdict, deciding rule and chain, every rule's counters
 * and the number of log messages must be equal, while the cache actually serves
 * hits. Random rulesets and frames come from the generator of test_fastpath.c (copied
 * below: a test binary has one main); packets repeat from a small pool of flows so
 * that entries are reused, with time moving on so limits refill and conntrack states
 * change. Targeted tests: ct new -> established, limit and tcp flags, reload, and a
 * bounded table under a million distinct flows.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filters/conntrack.h"
#include "filters/flowcache.h"
#include "filters/packet.h"
#include "filters/ruleset.h"
#include "tests/lib/nft_text.h"

static const char *const ports[] = {"vif1.0", "vif2.0", "uplink", NULL};

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* --- random frames ---------------------------------------------------------------- */

static const char *const v4pool[] = {"10.0.0.1",   "10.0.0.200",  "10.0.1.7",
				     "10.1.2.3",   "192.168.1.1", "172.16.5.4",
				     "10.0.0.255", "0.0.0.0",	  "255.255.255.255"};
static const char *const v6pool[] = {"2001:db8::1", "2001:db8:1::5",  "2001:db9::1",
				     "fe80::1",	    "2001:db8::ffff", "::1"};
static const uint16_t portpool[] = {0, 1, 22, 53, 79, 80, 81, 443, 1023, 1024, 8080, 65535};

/* A pool address with a few random low bits flipped: lands near prefix edges. */
static void addr_near(int af, uint8_t *a)
{
	unsigned alen = af == AF_INET ? 4 : 16, bit;

	if (af == AF_INET)
		assert_int_equal(inet_pton(af, v4pool[pick(9)], a), 1);
	else
		assert_int_equal(inet_pton(af, v6pool[pick(6)], a), 1);
	if (pick(3) == 0)
		return;
	bit = pick(8 * alen);
	for (unsigned i = 0; i < 1 + pick(3); i++, bit++)
		if (bit < 8 * alen && pick(2))
			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

static uint16_t port_near(void)
{
	uint16_t p = portpool[pick(12)];

	return pick(3) ? p : (uint16_t)(p + pick(3) - 1);
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A random IPv4 or IPv6 frame; returns its length. The transport header may be cut
 * short (truncated fields) and IPv4 frames may be fragments. */
static uint32_t frame_random(uint8_t *f)
{
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1, 58, 47};
	int af = pick(4) ? AF_INET : AF_INET6;
	uint8_t proto = protos[pick(8)], l4[40] = {0}, *ip = f + 14;
	uint32_t l4len = 20, iplen, hl = af == AF_INET ? 20 : 40;
	uint16_t c;

	memcpy(f, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x00\x00\x01", 12);
	if (pick(6) == 0)
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
		l4[i] = pick(2) ? (uint8_t)rnd() : 0;
	if (proto == 6) {
		static const uint8_t fl[] = {0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x03, 0x00};
		l4[12] = 5 << 4;
		l4[13] = fl[pick(8)];
		l4[14] = l4[15] = 0xff;
	} else if (proto == 17) {
		l4len = 8 + pick(4);
	} else if (proto == 1 || proto == 58) {
		l4[0] = pick(2) ? 8 : 128; /* echo request */
		l4[1] = 0;
		l4len = 8;
	} else {
		l4len = 8;
	}
	if (pick(5) == 0)
		l4len = pick(l4len + 1); /* truncated inside the transport header */
	iplen = hl + l4len;
	if (af == AF_INET) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(iplen >> 8);
		ip[3] = (uint8_t)iplen;
		ip[4] = (uint8_t)rnd();
		if (pick(8) == 0)
			ip[6] = 0x20; /* MF: first fragment */
		else if (pick(10) == 0)
			ip[7] = (uint8_t)(1 + pick(4)); /* a later fragment */
		ip[8] = pick(4) ? 64 : (uint8_t)pick(3);
		ip[9] = proto;
		addr_near(AF_INET, ip + 12);
		addr_near(AF_INET, ip + 16);
		c = csum_fold(csum_add(0, ip, 20));
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
		ip[7] = pick(4) ? 64 : 1;
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
			c = csum_fold(csum_add(csum_add(0, ps, pl), ip + hl, l4len));
			ip[hl + off] = (uint8_t)(c >> 8);
			ip[hl + off + 1] = (uint8_t)c;
		}
	}
	return 14 + iplen + (pick(6) == 0 ? pick(8) : 0); /* sometimes Ethernet padding */
}

/* --- random rulesets --------------------------------------------------------------- */

static void addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *buf, size_t len, const char *fmt, ...)
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
	unsigned k = pick(17);

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
		addf(r, len, "ip %s %s%s/%u ", pick(2) ? "saddr" : "daddr", pick(4) ? "" : "!= ", a,
		     1 + pick(32));
		break;
	case 2:
		addr_near(AF_INET6, b);
		inet_ntop(AF_INET6, b, a, sizeof(a));
		addf(r, len, "ip6 %s %s/%u ", pick(2) ? "saddr" : "daddr", a, 1 + pick(128));
		break;
	case 3:
	case 4: {
		uint16_t x = port_near(), y = port_near();

		if (pick(3))
			addf(r, len, "%s %s %s%u ", l4, pick(2) ? "sport" : "dport", ops[pick(6)],
			     x);
		else
			addf(r, len, "%s dport %s%u-%u ", l4, pick(3) ? "" : "!= ", x < y ? x : y,
			     x < y ? y : x);
		break;
	}
	case 5:
		addf(r, len, "meta l4proto %s ", strcmp(l4, "th") ? l4 : "{ tcp, udp }");
		break;
	case 6: {
		static const char *const n[] = {"iifname \"vif*\"", "iifname != \"vif1.0\"",
						"oifname \"uplink\"", "oifname \"vif*\"",
						"iif \"vif2.0\""};
		addf(r, len, "%s ", n[pick(5)]);
		break;
	}
	case 7:
		addf(r, len, "%s ",
		     pick(2) ? "tcp flags & (syn|ack) == syn" : "tcp flags & (fin|rst) != 0");
		break;
	case 8: {
		static const char *const n[] = {"ct state new", "ct state established,related",
						"ct state invalid", "ct direction reply",
						"ct state != established"};
		addf(r, len, "%s ", n[pick(5)]);
		break;
	}
	case 9:
		addf(r, len, "ip daddr %s{ 10.0.0.1, 10.0.1.0/24, 192.168.0.0/16 } ",
		     pick(3) ? "" : "!= ");
		break;
	case 10:
		addf(r, len, "meta length %s ", pick(2) ? "40-60" : "> 50");
		break;
	case 11:
		addf(r, len, "meta mark %s ", pick(2) ? "5" : "!= 0");
		break;
	case 12:
		addf(r, len, "%s ", rc->fam == 6 ? "ip6 hoplimit 64" : "ip ttl < 2");
		rc->fam = rc->fam == 6 ? 6 : 4;
		break;
	case 13:
		/* byte-aligned masks become shorter loads at the same offset: merged */
		addf(r, len, "tcp sequence & %s ",
		     pick(2)   ? "0xffff0000 == 0"
		     : pick(2) ? "0xffffff00 != 0"
			       : "0xff000000 == 0");
		break;
	case 14:
		addf(r, len, "ip protocol %s ", strcmp(l4, "th") ? l4 : "icmp");
		if (!strcmp(l4, "th"))
			rc->l4 = "none"; /* no port match may follow an icmp protocol */
		break;
	case 15:
		addf(r, len, "ether saddr %s ",
		     pick(2) ? "00:16:3e:00:00:01" : "00:16:3e:00:00:09");
		break;
	default:
		addf(r, len, "udp length %s ", pick(2) ? "< 10" : "10");
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

	if (sub && pick(5) == 0)
		addf(r, len, "return");
	else
		addf(r, len, "%s", acts[pick(sub ? n - 2 : n)]);
}

static void ruleset_random(char *buf, size_t len, unsigned nrules)
{
	static const char *const l4s[] = {"tcp", "udp", "th"};

	buf[0] = 0;
	addf(buf, len,
	     "table inet vifwall {\n\tchain forward {\n\t\ttype filter hook forward "
	     "priority 0; policy %s;\n",
	     pick(2) ? "accept" : "drop");
	for (unsigned i = 0; i < nrules; i++) {
		struct rule_ctx rc = {0, l4s[pick(3)]};

		addf(buf, len, "\t\t");
		for (unsigned m = pick(4); m > 0; m--)
			match_random(buf, len, &rc);
		action_random(buf, len, false);
		addf(buf, len, "\n");
	}
	addf(buf, len, "\t}\n\tchain sub {\n");
	for (unsigned i = 0; i < 1 + nrules / 3; i++) {
		struct rule_ctx rc = {0, l4s[pick(3)]};

		addf(buf, len, "\t\t");
		for (unsigned m = pick(3); m > 0; m--)
			match_random(buf, len, &rc);
		action_random(buf, len, true);
		addf(buf, len, "\n");
	}
	addf(buf, len, "\t}\n}\n");
}

/* --- the two sides ----------------------------------------------------------------- */

struct side {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	unsigned logs;
};

struct pair {
	struct side s[2]; /* 0: flt_classify, 1: flt_classify_fc */
	struct flt_flowcache *fc;
};

static void count_log(void *arg, int level, const char *msg)
{
	(void)level;
	(void)msg;
	(*(unsigned *)arg)++;
}

/* Load @text into @s (ruleset only; conntrack stays). Returns 0 or the load's error,
 * printing nft's message when @must. */
static int side_load(struct side *s, const char *text, bool must)
{
	struct flt_logger lg = {.fn = count_log, .arg = &s->logs, .max_level = 7};
	char *err = NULL;
	int rc = test_ruleset_from_text(text, ports, &lg, &s->rs, &err);

	if (rc < 0 && must)
		fail_msg("load failed (%d): %s\n%s", rc, err ? err : "?", text);
	free(err);
	return rc;
}

static int pair_load(struct pair *p, const char *text, uint32_t entries, bool must)
{
	for (int i = 0; i < 2; i++) {
		int rc = side_load(&p->s[i], text, must);

		if (rc < 0) {
			if (i) {
				flt_ruleset_free(p->s[0].rs);
				flt_ct_table_free(p->s[0].ct);
			}
			return rc;
		}
		p->s[i].logs = 0;
		assert_int_equal(flt_ct_table_new(NULL, &p->s[i].ct), 0);
	}
	assert_int_equal(flt_fc_new(entries, &p->fc), 0);
	return 0;
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		flt_ruleset_free(p->s[i].rs);
		flt_ct_table_free(p->s[i].ct);
	}
	flt_fc_free(p->fc);
}

static void verdict_fail(const uint8_t *frame, uint32_t len, const char *what,
			 const struct flt_verdict *v)
{
	for (uint32_t i = 0; i < len; i++)
		fprintf(stderr, "%02x%s", frame[i], i % 16 == 15 ? "\n" : " ");
	fail_msg("%s: plain %d rule %llu chain %s, cached %d rule %llu chain %s", what, v[0].code,
		 (unsigned long long)v[0].rule_handle, v[0].chain ? v[0].chain : "-", v[1].code,
		 (unsigned long long)v[1].rule_handle, v[1].chain ? v[1].chain : "-");
}

/* One frame through both sides; returns the (equal) verdict. */
static struct flt_verdict pair_run(struct pair *p, const uint8_t *frame, uint32_t len,
				   const char *in, const char *out, uint64_t now, uint32_t mark,
				   const char *what)
{
	struct flt_verdict v[2];
	struct flt_pkt pkt;

	flt_pkt_parse(&pkt, frame, len);
	for (int i = 0; i < 2; i++) {
		struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
					  .iiftype = ARPHRD_ETHER,
					  .oiftype = ARPHRD_ETHER,
					  .pkttype = PACKET_HOST,
					  .mark = mark,
					  .now_ns = now};

		strncpy(hi.iifname, in, FLT_IFNAMSIZ - 1);
		strncpy(hi.oifname, out, FLT_IFNAMSIZ - 1);
		hi.iif = flt_ruleset_ifindex(p->s[i].rs, in);
		hi.oif = flt_ruleset_ifindex(p->s[i].rs, out);
		memset(&v[i], 0, sizeof(v[i]));
		flt_classify_fc(p->s[i].rs, p->s[i].ct, i ? p->fc : NULL, &pkt, &hi, &v[i]);
	}
	if (v[0].code != v[1].code || v[0].rule_handle != v[1].rule_handle ||
	    (v[0].chain == NULL) != (v[1].chain == NULL) ||
	    (v[0].chain && strcmp(v[0].chain, v[1].chain)) ||
	    v[0].reject_type != v[1].reject_type || v[0].reject_icmp_code != v[1].reject_icmp_code)
		verdict_fail(frame, len, what, v);
	return v[1];
}

/* Every rule's counters, and the log count, equal. */
static void pair_check_counters(struct pair *p, const char *what)
{
	uint64_t h[4096];
	unsigned n = flt_ruleset_rule_handles(p->s[0].rs, h, 4096);

	assert_int_equal(n, flt_ruleset_rule_handles(p->s[1].rs, NULL, 0));
	for (unsigned i = 0; i < n && i < 4096; i++) {
		uint64_t pk[2], by[2];
		int rc0 = flt_ruleset_rule_counter(p->s[0].rs, h[i], &pk[0], &by[0]);
		int rc1 = flt_ruleset_rule_counter(p->s[1].rs, h[i], &pk[1], &by[1]);

		assert_int_equal(rc0, rc1);
		if (pk[0] != pk[1] || by[0] != by[1])
			fail_msg("%s: rule %llu counts %llu/%llu (plain) vs %llu/%llu (cached)",
				 what, (unsigned long long)h[i], (unsigned long long)pk[0],
				 (unsigned long long)by[0], (unsigned long long)pk[1],
				 (unsigned long long)by[1]);
	}
	assert_int_equal(p->s[0].logs, p->s[1].logs);
}

/* --- frames built by hand ------------------------------------------------------------- */

/* An IPv4 frame (valid IP checksum; UDP checksum 0, i.e. none; TCP checksum valid).
 * Returns its length. */
static uint32_t frame_v4(uint8_t *f, uint8_t proto, uint32_t saddr, uint32_t daddr, uint16_t sp,
			 uint16_t dp, uint8_t tcpflags)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint32_t l4len = proto == 6 ? 20 : 8, sum;
	uint16_t c;

	memset(f, 0, 14 + 20 + l4len);
	memcpy(f, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x00\x00\x01\x08\x00", 14);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[8] = 64;
	ip[9] = proto;
	saddr = htonl(saddr);
	daddr = htonl(daddr);
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	l4[0] = (uint8_t)(sp >> 8);
	l4[1] = (uint8_t)sp;
	l4[2] = (uint8_t)(dp >> 8);
	l4[3] = (uint8_t)dp;
	if (proto == 17) {
		l4[5] = (uint8_t)l4len;
	} else if (proto == 6) {
		uint8_t ps[12] = {0};

		l4[4] = 0x12; /* some sequence number */
		l4[12] = 5 << 4;
		l4[13] = tcpflags;
		l4[14] = 0xff;
		memcpy(ps, ip + 12, 8);
		ps[9] = 6;
		ps[11] = (uint8_t)l4len;
		sum = csum_add(csum_add(0, ps, 12), l4, l4len);
		c = csum_fold(sum);
		l4[16] = (uint8_t)(c >> 8);
		l4[17] = (uint8_t)c;
	}
	return 14 + 20 + l4len;
}

static struct flt_fc_stats fc_stats(const struct pair *p)
{
	struct flt_fc_stats st;

	flt_fc_get_stats(p->fc, &st);
	return st;
}

/* --- tests --------------------------------------------------------------------------- */

/* Random rulesets (side effects, jumps, ct, sets...) and frames from a small pool. */
static void test_random_rulesets(void **state)
{
	static char text[65536];
	const char *const names[] = {"vif1.0", "vif2.0", "uplink"};
	unsigned loaded = 0, packets = 0;
	uint64_t hits = 0, misses = 0, bypass = 0, uncacheable = 0;

	(void)state;
	unsigned rounds = getenv("FC_ROUNDS") ? (unsigned)atoi(getenv("FC_ROUNDS")) : 60;

	rng = getenv("FC_SEED") ? strtoull(getenv("FC_SEED"), NULL, 0) : 0xf10cac4eull;
	for (unsigned t = 0; t < rounds; t++) {
		struct pair p = {0};
		uint8_t pool[48][256];
		uint32_t plen[48];
		char what[64];

		ruleset_random(text, sizeof(text), 4 + pick(40));
		/* nft refuses some random combinations (ip and ip6 in one rule): skipped. */
		if (pair_load(&p, text, 64 + pick(2) * 4096, false) < 0)
			continue;
		loaded++;
		for (unsigned i = 0; i < 48; i++)
			plen[i] = frame_random(pool[i]);
		for (unsigned k = 0; k < 600; k++) {
			/* a frame keeps its ports, mostly: flows */
			unsigned f = pick(48), i = pick(8) ? f % 3 : pick(3),
				 j = (i + 1 + f % 2) % 3;

			snprintf(what, sizeof(what), "ruleset %u packet %u", t, k);
			pair_run(&p, pool[f], plen[f], names[i], names[j],
				 1000000000ull + k * 20000000ull, (uint32_t)(k & 1), what);
			packets++;
		}
		snprintf(what, sizeof(what), "ruleset %u", t);
		pair_check_counters(&p, what);
		hits += fc_stats(&p).hits;
		misses += fc_stats(&p).misses;
		bypass += fc_stats(&p).bypass;
		uncacheable += fc_stats(&p).uncacheable;
		pair_free(&p);
	}
	print_message("%u random rulesets, %u packets: %llu hits, %llu misses (%llu not cached), "
		      "%llu bypass\n",
		      loaded, packets, (unsigned long long)hits, (unsigned long long)misses,
		      (unsigned long long)uncacheable, (unsigned long long)bypass);
	assert_true(loaded >= rounds * 2 / 3);
	assert_true(hits > packets / 4); /* the cache is really used */
}

/* A connection's later packets are not served its first packet's verdict. */
static void test_ct_new_then_established(void **state)
{
	const char *text = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy drop;\n"
			   "  ct state established counter accept\n"
			   "  ct state new udp dport 53 counter accept\n"
			   "  counter\n }\n}\n";
	struct pair p = {0};
	uint8_t q[128], r[128];
	uint32_t ql = frame_v4(q, 17, 0x0a000001, 0x0a000002, 4000, 53, 0);
	uint32_t rl = frame_v4(r, 17, 0x0a000002, 0x0a000001, 53, 4000, 0);
	struct flt_verdict first, again, reply, later;
	uint64_t now = 1000000000ull;

	(void)state;
	pair_load(&p, text, 0, true);
	first = pair_run(&p, q, ql, "vif1.0", "uplink", now, 0, "query");
	again = pair_run(&p, q, ql, "vif1.0", "uplink", now + 1000, 0, "query again");
	assert_int_equal(first.code, FLT_ACCEPT);
	/* ct state of an unreplied UDP flow stays new: same key, served from the cache */
	assert_int_equal(again.rule_handle, first.rule_handle);
	assert_int_equal(fc_stats(&p).hits, 1);
	reply = pair_run(&p, r, rl, "uplink", "vif1.0", now + 2000, 0, "reply");
	assert_int_equal(reply.code, FLT_ACCEPT);
	assert_true(reply.rule_handle != first.rule_handle); /* established */
	later = pair_run(&p, q, ql, "vif1.0", "uplink", now + 3000, 0, "query after reply");
	assert_int_equal(later.rule_handle, reply.rule_handle);
	for (unsigned i = 0; i < 10; i++)
		pair_run(&p, i & 1 ? r : q, i & 1 ? rl : ql, i & 1 ? "uplink" : "vif1.0",
			 i & 1 ? "vif1.0" : "uplink", now + 4000 + i, 0, "established");
	/* a new flow to a port the rules drop */
	ql = frame_v4(q, 17, 0x0a000001, 0x0a000002, 4001, 54, 0);
	assert_int_equal(pair_run(&p, q, ql, "vif1.0", "uplink", now + 9000, 0, "dropped").code,
			 FLT_DROP);
	assert_int_equal(pair_run(&p, q, ql, "vif1.0", "uplink", now + 9001, 0, "dropped").code,
			 FLT_DROP);
	pair_check_counters(&p, "ct");
	assert_true(fc_stats(&p).hits >= 10);
	pair_free(&p);
}

/* A limit is never cached around; tcp flags are part of the key. */
static void test_limit_and_tcp_flags(void **state)
{
	const char *text = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy accept;\n"
			   "  udp dport 53 limit rate 2/second burst 2 packets counter accept\n"
			   "  udp dport 53 counter drop\n"
			   "  tcp flags & (syn|ack) == syn counter drop\n"
			   "  tcp dport 22 counter accept\n }\n}\n";
	struct pair p = {0};
	uint8_t f[128];
	uint32_t len;
	unsigned accepted = 0;
	uint64_t now = 1000000000ull;
	struct flt_fc_stats st;

	(void)state;
	pair_load(&p, text, 0, true);
	len = frame_v4(f, 17, 0x0a000001, 0x0a000002, 4000, 53, 0);
	for (unsigned i = 0; i < 20; i++)
		accepted += pair_run(&p, f, len, "vif1.0", "uplink", now + i, 0, "limited").code ==
			    FLT_ACCEPT;
	assert_int_equal(accepted, 2); /* the burst, then over the limit */
	st = fc_stats(&p);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.uncacheable, 20);
	for (unsigned i = 0; i < 40; i++) {
		static const uint8_t fl[] = {0x02, 0x10, 0x12, 0x18};
		struct flt_verdict v;

		len = frame_v4(f, 6, 0x0a000001, 0x0a000002, 5000, 22, fl[i % 4]);
		v = pair_run(&p, f, len, "vif1.0", "uplink", now + 100 + i, 0, "tcp flags");
		assert_int_equal(v.code, fl[i % 4] == 0x02 ? FLT_DROP : FLT_ACCEPT);
	}
	st = fc_stats(&p);
	assert_int_equal(st.hits, 40 - 4); /* one miss per flag combination */
	pair_check_counters(&p, "limit and flags");
	pair_free(&p);
}

/* A new ruleset takes effect on the next packet, whatever was cached. */
static void test_reload_invalidates(void **state)
{
	const char *allow = "table inet vifwall {\n chain forward {\n"
			    "  type filter hook forward priority 0; policy drop;\n"
			    "  udp dport 53 counter accept\n }\n}\n";
	const char *deny = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy accept;\n"
			   "  udp dport 53 counter drop\n }\n}\n";
	struct pair p = {0};
	struct flt_ruleset *a;
	uint8_t f[128];
	uint32_t len = frame_v4(f, 17, 0x0a000001, 0x0a000002, 4000, 53, 0);

	(void)state;
	pair_load(&p, allow, 0, true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pair_run(&p, f, len, "vif1.0", "uplink", 1, 0, "allow").code,
				 FLT_ACCEPT);
	assert_int_equal(fc_stats(&p).hits, 2);
	pair_check_counters(&p, "allow");
	/* swap both sides to the deny ruleset */
	a = p.s[1].rs;
	for (int i = 0; i < 2; i++) {
		if (i == 0)
			flt_ruleset_free(p.s[0].rs);
		side_load(&p.s[i], deny, true);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(pair_run(&p, f, len, "vif1.0", "uplink", 2, 0, "deny").code,
				 FLT_DROP);
	assert_int_equal(fc_stats(&p).hits, 4);
	assert_int_equal(fc_stats(&p).flushes, 1);
	pair_check_counters(&p, "deny");
	/* and back: the old ruleset's entries belong to an old generation */
	flt_ruleset_free(p.s[1].rs);
	p.s[1].rs = a;
	flt_ruleset_free(p.s[0].rs);
	side_load(&p.s[0], allow, true);
	assert_int_equal(pair_run(&p, f, len, "vif1.0", "uplink", 3, 0, "allow again").code,
			 FLT_ACCEPT);
	assert_int_equal(fc_stats(&p).misses, 3);
	/* an explicit invalidation forgets everything too */
	flt_fc_invalidate(p.fc);
	pair_run(&p, f, len, "vif1.0", "uplink", 4, 0, "after invalidate");
	assert_int_equal(fc_stats(&p).misses, 4);
	pair_free(&p);
}

/* A million distinct flows through a 4096-entry cache: the table does not grow, an
 * established flow interleaved with the flood keeps hitting, counters stay exact. */
static void test_bounded_under_flood(void **state)
{
	const char *text = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy drop;\n"
			   "  ip saddr 10.9.9.9 udp sport 9 counter drop\n"
			   "  udp dport 53 counter accept\n"
			   "  ip saddr 10.0.0.0/8 counter accept\n }\n}\n";
	struct pair p = {0};
	uint8_t f[128], est[128];
	uint32_t estlen = frame_v4(est, 17, 0xc0a80001, 0x0a000002, 1234, 53, 0);
	unsigned nflows = getenv("FC_FLOOD") ? (unsigned)atoi(getenv("FC_FLOOD")) : 1000000;
	uint64_t est_hits = 0, before;
	struct flt_fc_stats st;

	(void)state;
	pair_load(&p, text, 4096, true);
	for (unsigned i = 0; i < nflows; i++) {
		uint32_t len = frame_v4(f, 17, 0x0a000000 | i, 0x0a000002, (uint16_t)(1024 + i % 7),
					(uint16_t)(i % 3 ? 53 : 80), 0);

		pair_run(&p, f, len, "vif1.0", "uplink", 1, 0, "flood");
		if (i % 8 == 0) {
			before = fc_stats(&p).hits;
			pair_run(&p, est, estlen, "vif2.0", "uplink", 1, 0, "established");
			est_hits += fc_stats(&p).hits - before;
		}
	}
	st = fc_stats(&p);
	print_message("%u flows: %llu hits %llu misses %llu evictions, established flow %llu/%u "
		      "hits\n",
		      nflows, (unsigned long long)st.hits, (unsigned long long)st.misses,
		      (unsigned long long)st.evictions, (unsigned long long)est_hits,
		      (nflows + 7) / 8);
	assert_int_equal(st.entries, 4096);
	assert_true(st.evictions + 4096 >= nflows); /* every flow beyond the table evicts */
	assert_true(st.inserts <= st.misses);
	/* Only the first packet of the established flow missed, unless a bucket took four
	 * new flows between two of its packets: allow a handful. */
	assert_true(est_hits + 8 >= (nflows + 7) / 8 - 1);
	pair_check_counters(&p, "flood");
	pair_free(&p);
}

/* The ClassBench fw1_1k trace twice: the second pass is served from the cache. */
static void test_classbench(void **state)
{
	char path[512], cmd[2048], nft[128], pcap_path[128], errbuf[PCAP_ERRBUF_SIZE];
	const char *cb = getenv("CLASSBENCH_DIR");
	static char text[1 << 20];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct pair p = {0};
	unsigned n = 0;
	pcap_t *pc;
	FILE *f;
	size_t tl;

	(void)state;
	snprintf(path, sizeof(path), "%s/fw1_1k", cb ? cb : "../shared/classbench");
	if (access(path, R_OK) != 0) {
		print_message("skipping: no %s (set CLASSBENCH_DIR)\n", path);
		return;
	}
	snprintf(nft, sizeof(nft), "/tmp/vifwall-test-fc-%d.nft", getpid());
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/vifwall-test-fc-%d.pcap", getpid());
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 tests/bench/classbench.py nft %s > %s && "
		 "/usr/bin/python3 tests/bench/classbench.py trace %s 3000 7 %s",
		 path, nft, path, pcap_path);
	assert_int_equal(system(cmd), 0);
	f = fopen(nft, "r");
	assert_non_null(f);
	tl = fread(text, 1, sizeof(text) - 1, f);
	text[tl] = 0;
	fclose(f);
	unlink(nft);
	pair_load(&p, text, 0, true);
	for (int pass = 0; pass < 2; pass++) {
		pc = pcap_open_offline(pcap_path, errbuf);
		assert_non_null(pc);
		while (pcap_next_ex(pc, &h, &d) == 1) {
			char what[64];

			snprintf(what, sizeof(what), "fw1_1k pass %d packet %u", pass, n++);
			pair_run(&p, d, h->caplen, "vif1.0", "uplink", 1000000000ull, 0, what);
		}
		pcap_close(pc);
	}
	unlink(pcap_path);
	assert_true(fc_stats(&p).hits >= n / 2);
	assert_int_equal(fc_stats(&p).bypass, 0);
	print_message("fw1_1k: %u packets equal, %llu hits\n", n,
		      (unsigned long long)fc_stats(&p).hits);
	pair_free(&p);
}

/* Construction limits. */
static void test_new_sizes(void **state)
{
	struct flt_flowcache *fc;
	struct flt_fc_stats st;

	(void)state;
	assert_int_equal(flt_fc_new(FLT_FC_MAX_ENTRIES + 1, &fc), -EINVAL);
	assert_int_equal(flt_fc_new(0, &fc), 0);
	flt_fc_get_stats(fc, &st);
	assert_int_equal(st.entries, FLT_FC_DEFAULT_ENTRIES);
	assert_false(st.active);
	flt_fc_free(fc);
	assert_int_equal(flt_fc_new(1000, &fc), 0);
	flt_fc_get_stats(fc, &st);
	assert_int_equal(st.entries, 1024);
	flt_fc_free(fc);
	flt_fc_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_sizes),
		cmocka_unit_test(test_ct_new_then_established),
		cmocka_unit_test(test_limit_and_tcp_flags),
		cmocka_unit_test(test_reload_invalidates),
		cmocka_unit_test(test_random_rulesets),
		cmocka_unit_test(test_classbench),
		cmocka_unit_test(test_bounded_under_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
