/*
 * The fast path against the reference evaluator: the same nft script loaded twice
 * through the kernel (flt_ruleset_load, as root), once per evaluator, and the same
 * packets through both, each with its own connection tracker. Every verdict, deciding
 * rule, chain and reject code, every rule's counters and the number of log messages
 * must be equal. Rulesets are generated at random from the constructs the fast path
 * reasons about (prefixes of every length, ranges, !=, <, >, wildcard interface names,
 * tcp flag masks, ct state, sets, meta length and mark) mixed with side effects
 * (counter, limit, log, mark set, jump, goto, return) in rules that do not end the
 * walk; packets are near the rules' boundaries, truncated, fragmented, IPv4 and IPv6.
 * The ClassBench 1k sets and fw1_10k (tests/bench/classbench.py) go through both too.
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

#include "filters/bvcls.h"
#include "filters/bvcls_internal.h" /* to run both popcount paths */
#include "filters/conntrack.h"
#include "filters/packet.h"
#include "filters/ruleset.h"

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

/* --- the two instances ----------------------------------------------------------- */

struct side {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	unsigned logs;
};

struct pair {
	char path[64];
	struct side s[2]; /* 0: reference, 1: fast */
};

static void count_log(void *arg, int level, const char *msg)
{
	(void)level;
	(void)msg;
	(*(unsigned *)arg)++;
}

static void pair_load(struct pair *p, const char *text)
{
	struct flt_ruleset_stats st;
	int fd;

	strcpy(p->path, "/tmp/vifwall-test-fast-XXXXXX.nft");
	fd = mkstemps(p->path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	for (int i = 0; i < 2; i++) {
		struct flt_logger lg = {.fn = count_log, .arg = &p->s[i].logs, .max_level = 7};
		struct flt_load_opts o = {.path = p->path,
					  .ports = ports,
					  .log = &lg,
					  .eval = i ? FLT_EVAL_FAST : FLT_EVAL_REFERENCE};
		char *err = NULL;
		int rc = flt_ruleset_load(&o, &p->s[i].rs, &err);

		if (rc < 0)
			fail_msg("load failed (%d): %s\n%s", rc, err ? err : "?", text);
		p->s[i].logs = 0;
		assert_int_equal(flt_ct_table_new(NULL, &p->s[i].ct), 0);
	}
	flt_ruleset_get_stats(p->s[0].rs, &st);
	assert_int_equal(st.fast_chains, 0);
	flt_ruleset_get_stats(p->s[1].rs, &st);
	assert_true(st.fast_chains > 0); /* the fast path is on */
}

static void pair_free(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		flt_ruleset_free(p->s[i].rs);
		flt_ct_table_free(p->s[i].ct);
	}
	unlink(p->path);
}

static void pair_run(struct pair *p, const uint8_t *frame, uint32_t len, const char *in,
		     const char *out, uint64_t now, const char *what)
{
	struct flt_verdict v[2];
	struct flt_pkt pkt;

	flt_pkt_parse(&pkt, frame, len);
	for (int i = 0; i < 2; i++) {
		struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
					  .iiftype = ARPHRD_ETHER,
					  .oiftype = ARPHRD_ETHER,
					  .pkttype = PACKET_HOST,
					  .mark = (uint32_t)(now & 1),
					  .now_ns = now};

		strncpy(hi.iifname, in, FLT_IFNAMSIZ - 1);
		strncpy(hi.oifname, out, FLT_IFNAMSIZ - 1);
		hi.iif = flt_ruleset_ifindex(p->s[i].rs, in);
		hi.oif = flt_ruleset_ifindex(p->s[i].rs, out);
		memset(&v[i], 0, sizeof(v[i]));
		flt_classify(p->s[i].rs, p->s[i].ct, &pkt, &hi, &v[i]);
	}
	if (v[0].code != v[1].code || v[0].rule_handle != v[1].rule_handle ||
	    (v[0].chain == NULL) != (v[1].chain == NULL) ||
	    (v[0].chain && strcmp(v[0].chain, v[1].chain)) ||
	    v[0].reject_type != v[1].reject_type ||
	    v[0].reject_icmp_code != v[1].reject_icmp_code) {
		for (uint32_t i = 0; i < len; i++)
			fprintf(stderr, "%02x%s", frame[i], i % 16 == 15 ? "\n" : " ");
		fprintf(stderr, "\n%s -> %s\n", in, out);
		fail_msg("%s: reference %d rule %llu chain %s, fast %d rule %llu chain %s", what,
			 v[0].code, (unsigned long long)v[0].rule_handle,
			 v[0].chain ? v[0].chain : "-", v[1].code,
			 (unsigned long long)v[1].rule_handle, v[1].chain ? v[1].chain : "-");
	}
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
			fail_msg("%s: rule %llu counts %llu/%llu (reference) vs %llu/%llu", what,
				 (unsigned long long)h[i], (unsigned long long)pk[0],
				 (unsigned long long)by[0], (unsigned long long)pk[1],
				 (unsigned long long)by[1]);
	}
	assert_int_equal(p->s[0].logs, p->s[1].logs);
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

static void test_random_rulesets(void **state)
{
	static char text[65536];
	const char *const names[] = {"vif1.0", "vif2.0", "uplink"};
	unsigned loaded = 0, packets = 0;

	(void)state;
	unsigned rounds = getenv("FP_ROUNDS") ? (unsigned)atoi(getenv("FP_ROUNDS")) : 60;

	/* FP_SEED and FP_ROUNDS explore further than the default run does. */
	rng = getenv("FP_SEED") ? strtoull(getenv("FP_SEED"), NULL, 0) : 0x5eed1234abcdull;
	for (unsigned t = 0; t < rounds; t++) {
		struct pair p = {0};
		char what[64];
		char *err = NULL;
		struct flt_ruleset *probe;
		struct flt_load_opts o = {.ports = ports, .eval = FLT_EVAL_REFERENCE};
		int fd;

		ruleset_random(text, sizeof(text), 4 + pick(40));
		/* Some random combinations are refused by nft (e.g. ip and ip6 in one
		 * rule); a ruleset the kernel refuses is simply skipped. */
		strcpy(p.path, "/tmp/vifwall-test-fast-XXXXXX.nft");
		fd = mkstemps(p.path, 4);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
		close(fd);
		o.path = p.path;
		if (flt_ruleset_load(&o, &probe, &err) < 0) {
			if (getenv("FP_DEBUG"))
				fprintf(stderr, "%s", err ? err : "?\n");
			free(err);
			unlink(p.path);
			continue;
		}
		flt_ruleset_free(probe);
		unlink(p.path);
		if (getenv("FP_DEBUG")) {
			FILE *df = fopen("/tmp/fp-last.nft", "w");

			if (df) {
				fputs(text, df);
				fclose(df);
			}
		}
		pair_load(&p, text);
		loaded++;
		for (unsigned k = 0; k < 400; k++) {
			uint8_t f[256];
			uint32_t len = frame_random(f);
			unsigned i = pick(3), j = (i + 1 + pick(2)) % 3;

			snprintf(what, sizeof(what), "ruleset %u packet %u", t, k);
			pair_run(&p, f, len, names[i], names[j], 1000000000ull + k * 50000000ull,
				 what);
			packets++;
		}
		snprintf(what, sizeof(what), "ruleset %u", t);
		pair_check_counters(&p, what);
		pair_free(&p);
	}
	print_message("%u random rulesets, %u packets through both evaluators\n", loaded, packets);
	assert_true(loaded >= rounds * 2 / 3);
}

/* Hand-picked edges: a prefix of every length on both sides of its boundary. */
static void test_prefix_every_length(void **state)
{
	static char text[65536];
	struct pair p = {0};

	(void)state;
	text[0] = 0;
	addf(text, sizeof(text),
	     "table inet vifwall {\n\tchain forward {\n\t\ttype filter hook "
	     "forward priority 0; policy accept;\n");
	for (unsigned l = 1; l <= 32; l++)
		addf(text, sizeof(text),
		     "\t\tip saddr 10.85.170.85/%u counter\n"
		     "\t\tip daddr != 10.85.170.85/%u ip saddr 10.0.0.0/%u drop\n",
		     l, l, l < 8 ? l : 8);
	for (unsigned l = 1; l <= 128; l += 7)
		addf(text, sizeof(text),
		     "\t\tip6 saddr 2001:db8:5555:aaaa:5555:aaaa:5555:aaaa/%u "
		     "counter\n",
		     l);
	addf(text, sizeof(text), "\t}\n}\n");
	pair_load(&p, text);
	for (unsigned l = 0; l <= 32; l++)
		for (int side = -1; side <= 1; side++) {
			uint8_t f[128] = {0};
			uint32_t a = 0x0a55aa55u, mask = l ? ~0u << (32 - l) : 0;
			uint32_t x = side < 0 ? (a & mask) - 1 : side > 0 ? (a | ~mask) + 1 : a;

			memcpy(f, "\x00\x16\x3e\x00\x00\x02\x00\x16\x3e\x00\x00\x01\x08\x00", 14);
			uint8_t *ip = f + 14;
			ip[0] = 0x45;
			ip[3] = 28;
			ip[8] = 64;
			ip[9] = 17;
			for (int i = 0; i < 4; i++) {
				ip[12 + i] = (uint8_t)(x >> (24 - 8 * i));
				ip[16 + i] = (uint8_t)((x ^ 1) >> (24 - 8 * i));
			}
			uint16_t c = csum_fold(csum_add(0, ip, 20));
			ip[10] = (uint8_t)(c >> 8);
			ip[11] = (uint8_t)c;
			ip[25] = 8;
			pair_run(&p, f, 14 + 28, "vif1.0", "uplink", 1000000000ull, "prefix");
		}
	pair_check_counters(&p, "prefix");
	pair_free(&p);
}

/* --- the classifier's sparse and folded storage ----------------------------------- */

/* Rules shaped like a firewall's (prefixes on wide dimensions, so those are stored
 * sparse; a few port ranges and protocols, folded into a class; wildcards everywhere),
 * against a linear scan of the same ranges. With every dimension narrow (at most 4
 * bytes), flt_bvcls_locate32 must locate exactly as flt_bvcls_locate; and the lookup
 * must answer the same with and without the popcnt instruction. */
enum { SF_NR = 6000, SF_ND = 5, SF_NK = 20000 };

static void sparse_fold_one(const uint8_t *w, uint64_t seed)
{
	enum { NR = SF_NR, ND = SF_ND, NK = SF_NK };
	static flt_u128 lo[NR][ND], hi[NR][ND];
	static bool any[NR][ND];
	struct flt_bvcls_builder *b;
	struct flt_bvcls *c;
	bool narrow = true;

	rng = seed;
	for (unsigned d = 0; d < ND; d++)
		narrow &= w[d] <= 4;
	assert_int_equal(flt_bvcls_builder_new(ND, w, NR, &b), 0);
	for (unsigned r = 0; r < NR; r++)
		for (unsigned d = 0; d < ND; d++) {
			unsigned bits = 8 * w[d], plen;
			flt_u128 v = ((flt_u128)rnd() << 64 | rnd()) &
				     (bits < 128 ? ((flt_u128)1 << bits) - 1 : ~(flt_u128)0);

			any[r][d] = pick(3) == 0;
			if (any[r][d])
				continue;
			if (d < 2) { /* a prefix, mostly long: sparse */
				v = (v & (((flt_u128)1 << (bits - 16)) - 1)) |
				    ((flt_u128)pick(4) << (bits - 16));
				plen = bits / 2 + pick(bits / 2 + 1);
				lo[r][d] = plen ? v & ~(((flt_u128)1 << (bits - plen)) - 1) : 0;
				hi[r][d] = lo[r][d] |
					   (plen < bits ? ((flt_u128)1 << (bits - plen)) - 1 : 0);
			} else if (d < 4) { /* a port or a port range */
				lo[r][d] = portpool[pick(12)];
				hi[r][d] = pick(2) ? lo[r][d] : lo[r][d] + pick(2000);
				if (hi[r][d] > 65535)
					hi[r][d] = 65535;
			} else {
				lo[r][d] = hi[r][d] = pick(2) ? 6 : 17;
			}
			assert_int_equal(flt_bvcls_rule_range(b, r, d, lo[r][d], hi[r][d]), 0);
		}
	assert_int_equal(flt_bvcls_build(b, &c), 0);
	flt_bvcls_builder_free(b);
	for (unsigned k = 0; k < NK; k++) {
		struct flt_bvcls_key key = {0};
		struct flt_bvcls_pos pos;
		unsigned src = pick(NR);
		uint32_t from = pick(4) ? 0 : pick(NR), want = FLT_BVCLS_NONE;

		for (unsigned d = 0; d < ND; d++) { /* inside a random rule, mostly */
			key.present[d] = pick(20) != 0;
			key.value[d] = any[src][d] || !pick(4)
					       ? (flt_u128)rnd() & 0xffff
					       : lo[src][d] + (hi[src][d] - lo[src][d]) / 2;
			if (w[d] == 1)
				key.value[d] &= 0xff; /* a value of the dimension's width */
		}
		for (uint32_t r = from; r < NR && want == FLT_BVCLS_NONE; r++) {
			bool ok = true;

			for (unsigned d = 0; d < ND && ok; d++)
				ok = any[r][d] || (key.present[d] && key.value[d] >= lo[r][d] &&
						   key.value[d] <= hi[r][d]);
			if (ok)
				want = r;
		}
		flt_bvcls_locate(c, &key, &pos);
		assert_int_equal(flt_bvcls_first(c, &pos, from), want);
		c->popcnt = !c->popcnt;
		assert_int_equal(flt_bvcls_first(c, &pos, from), want);
		c->popcnt = !c->popcnt;
		assert_int_equal(flt_bvcls_narrow(c), narrow);
		if (narrow) {
			struct flt_bvcls_pos p32;
			uint32_t v[ND], absent = 0;

			for (unsigned d = 0; d < ND; d++) {
				v[d] = (uint32_t)key.value[d];
				absent |= (uint32_t)!key.present[d] << d;
			}
			flt_bvcls_locate32(c, v, absent, &p32);
			assert_memory_equal(p32.iv, pos.iv, sizeof(pos.iv[0]) * ND);
			assert_int_equal(p32.cls, pos.cls);
		}
	}
	flt_bvcls_free(c);
}

static void test_bvcls_sparse_fold(void **state)
{
	static const uint8_t wide[SF_ND] = {4, 16, 2, 2, 1};  /* an IPv6 address: 128-bit path */
	static const uint8_t narrow[SF_ND] = {4, 4, 2, 2, 1}; /* IPv4: flt_bvcls_locate32 */

	(void)state;
	sparse_fold_one(wide, 0xb17b17ull);
	sparse_fold_one(narrow, 0x5eed5eedull);
}

/* --- ClassBench ------------------------------------------------------------------- */

static void classbench_one(const char *set)
{
	char dir[512], cmd[2048], nft[128], pcap_path[128], errbuf[PCAP_ERRBUF_SIZE];
	const char *cb = getenv("CLASSBENCH_DIR");
	struct pcap_pkthdr *h;
	const u_char *d;
	struct pair p = {0};
	unsigned n = 0;
	pcap_t *pc;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", cb ? cb : "../shared/classbench");
	snprintf(cmd, sizeof(cmd), "%s/%s", dir, set);
	if (access(cmd, R_OK) != 0) {
		print_message("skipping %s: no %s (set CLASSBENCH_DIR)\n", set, cmd);
		return;
	}
	snprintf(nft, sizeof(nft), "/tmp/vifwall-test-fast-%s-%d.nft", set, getpid());
	snprintf(pcap_path, sizeof(pcap_path), "/tmp/vifwall-test-fast-%s-%d.pcap", set, getpid());
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 tests/bench/classbench.py nft %s/%s > %s && "
		 "/usr/bin/python3 tests/bench/classbench.py trace %s/%s 3000 7 %s",
		 dir, set, nft, dir, set, pcap_path);
	assert_int_equal(system(cmd), 0);
	f = fopen(nft, "r");
	assert_non_null(f);
	static char text[1 << 20];
	size_t tl = fread(text, 1, sizeof(text) - 1, f);
	text[tl] = 0;
	fclose(f);
	unlink(nft);
	pair_load(&p, text);
	pc = pcap_open_offline(pcap_path, errbuf);
	assert_non_null(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		char what[64];

		snprintf(what, sizeof(what), "%s packet %u", set, n++);
		pair_run(&p, d, h->caplen, "vif1.0", "uplink", 1000000000ull, what);
	}
	pcap_close(pc);
	unlink(pcap_path);
	pair_free(&p);
	print_message("%s: %u packets equal\n", set, n);
}

static void test_classbench(void **state)
{
	(void)state;
	classbench_one("acl1_1k");
	classbench_one("fw1_1k");
	classbench_one("ipc1_1k");
	classbench_one("fw1_10k"); /* large enough for sparse address dimensions */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bvcls_sparse_fold),
		cmocka_unit_test(test_prefix_every_length),
		cmocka_unit_test(test_random_rulesets),
		cmocka_unit_test(test_classbench),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
