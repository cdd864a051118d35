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
 * A third instance (fast path too) gets the same packets through flt_classify_burst, in
 * bursts of random length, and must give the reference's verdicts, counters and logs.
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
#include "filters/classify_burst.h"
#include "filters/conntrack.h"
#include "filters/packet.h"
#include "filters/ruleset.h"
#include "tests/lib/random_traffic.h"

static const char *const ports[] = {"vif1.0", "vif2.0", "uplink", NULL};

/* --- the two instances ----------------------------------------------------------- */

struct side {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	unsigned logs;
};

/* A packet waiting for the burst instance, with the reference's verdict. */
#define QMAX   40 /* longer than FLT_CLASSIFY_BURST: bursts get cut */
#define QFRAME 512
struct queued {
	uint8_t frame[QFRAME];
	struct flt_pkt pkt;
	struct flt_hookinfo hi;
	struct flt_verdict want;
	char what[64];
};

struct pair {
	char path[64];
	/* 0: reference, 1: fast; 2: fast through flt_classify_burst and 3: reference, both
	 * without conntrack (with it, a burst runs packet by packet: ct expressions then
	 * never match, which the random rulesets use a lot) */
	struct side s[4];
	struct queued q[QMAX];
	unsigned nq, burst; /* queued; length of the next burst */
	uint32_t lcg;	    /* burst lengths (not rt_pick: the rulesets stay as they were) */
};

static unsigned next_burst(struct pair *p)
{
	p->lcg = p->lcg * 1103515245u + 12345u;
	return 1 + (p->lcg >> 16) % QMAX;
}

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
	for (int i = 0; i < 4; i++) {
		struct flt_logger lg = {.fn = count_log, .arg = &p->s[i].logs, .max_level = 7};
		struct flt_load_opts o = {.path = p->path,
					  .ports = ports,
					  .log = &lg,
					  .eval = i % 3 ? FLT_EVAL_FAST : FLT_EVAL_REFERENCE};
		char *err = NULL;
		int rc = flt_ruleset_load(&o, &p->s[i].rs, &err);

		if (rc < 0)
			fail_msg("load failed (%d): %s\n%s", rc, err ? err : "?", text);
		p->s[i].logs = 0;
		if (i < 2)
			assert_int_equal(flt_ct_table_new(NULL, &p->s[i].ct), 0);
	}
	flt_ruleset_get_stats(p->s[0].rs, &st);
	assert_int_equal(st.fast_chains, 0);
	flt_ruleset_get_stats(p->s[1].rs, &st);
	assert_true(st.fast_chains > 0); /* the fast path is on */
	flt_ruleset_get_stats(p->s[2].rs, &st);
	assert_true(st.fast_chains > 0);
	p->nq = 0;
	p->burst = next_burst(p);
}

static bool verdict_differs(const struct flt_verdict *a, const struct flt_verdict *b)
{
	return a->code != b->code || a->rule_handle != b->rule_handle ||
	       (a->chain == NULL) != (b->chain == NULL) ||
	       (a->chain && strcmp(a->chain, b->chain)) || a->reject_type != b->reject_type ||
	       a->reject_icmp_code != b->reject_icmp_code;
}

/* The queued packets through the burst instance, compared with the reference. */
static void pair_flush(struct pair *p)
{
	const struct flt_pkt *pkts[QMAX];
	const struct flt_hookinfo *his[QMAX];
	struct flt_verdict v[QMAX];

	for (unsigned i = 0; i < p->nq; i++) {
		pkts[i] = &p->q[i].pkt;
		his[i] = &p->q[i].hi;
	}
	flt_classify_burst(p->s[2].rs, p->s[2].ct, pkts, his, p->nq, v);
	for (unsigned i = 0; i < p->nq; i++) {
		const struct flt_verdict *w = &p->q[i].want;

		if (verdict_differs(w, &v[i]))
			fail_msg("%s (burst of %u, #%u): reference %d rule %llu chain %s, burst %d "
				 "rule %llu chain %s",
				 p->q[i].what, p->nq, i, w->code,
				 (unsigned long long)w->rule_handle, w->chain ? w->chain : "-",
				 v[i].code, (unsigned long long)v[i].rule_handle,
				 v[i].chain ? v[i].chain : "-");
	}
	p->nq = 0;
	p->burst = next_burst(p);
}

static void pair_free(struct pair *p)
{
	pair_flush(p);
	for (int i = 0; i < 4; i++) {
		flt_ruleset_free(p->s[i].rs);
		flt_ct_table_free(p->s[i].ct);
	}
	unlink(p->path);
}

static void pair_run(struct pair *p, const uint8_t *frame, uint32_t len, const char *in,
		     const char *out, uint64_t now, const char *what)
{
	static const int order[4] = {0, 1, 3, 2}; /* 2 compares with 3 */
	struct flt_verdict v[4];
	struct flt_pkt pkt;
	struct queued *q = &p->q[p->nq];

	flt_pkt_parse(&pkt, frame, len);
	for (int k = 0; k < 4; k++) {
		int i = order[k];
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
		if (i == 2) { /* same rule files: same port indexes */
			assert_true(len <= QFRAME);
			memcpy(q->frame, frame, len);
			flt_pkt_parse(&q->pkt, q->frame, len);
			q->hi = hi;
			q->want = v[3];
			snprintf(q->what, sizeof(q->what), "%s", what);
			if (++p->nq == p->burst)
				pair_flush(p);
			break;
		}
		memset(&v[i], 0, sizeof(v[i]));
		flt_classify(p->s[i].rs, p->s[i].ct, &pkt, &hi, &v[i]);
	}
	if (verdict_differs(&v[0], &v[1])) {
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

	pair_flush(p);
	for (int k = 1; k < 3; k++) { /* fast against reference, burst against its reference */
		int r = k == 1 ? 0 : 3;

		assert_int_equal(n, flt_ruleset_rule_handles(p->s[k].rs, NULL, 0));
		for (unsigned i = 0; i < n && i < 4096; i++) {
			uint64_t pk[2], by[2];
			int rc0 = flt_ruleset_rule_counter(p->s[r].rs, h[i], &pk[0], &by[0]);
			int rc1 = flt_ruleset_rule_counter(p->s[k].rs, h[i], &pk[1], &by[1]);

			assert_int_equal(rc0, rc1);
			if (pk[0] != pk[1] || by[0] != by[1])
				fail_msg("%s%s: rule %llu counts %llu/%llu (reference) vs "
					 "%llu/%llu",
					 what, k == 2 ? " (burst)" : "", (unsigned long long)h[i],
					 (unsigned long long)pk[0], (unsigned long long)by[0],
					 (unsigned long long)pk[1], (unsigned long long)by[1]);
		}
		assert_int_equal(p->s[r].logs, p->s[k].logs);
	}
}

static void test_random_rulesets(void **state)
{
	static char text[65536];
	const char *const names[] = {"vif1.0", "vif2.0", "uplink"};
	unsigned loaded = 0, packets = 0;

	(void)state;
	unsigned rounds = getenv("FP_ROUNDS") ? (unsigned)atoi(getenv("FP_ROUNDS")) : 60;

	/* FP_SEED and FP_ROUNDS explore further than the default run does. */
	rt_seed(getenv("FP_SEED") ? strtoull(getenv("FP_SEED"), NULL, 0) : 0x5eed1234abcdull);
	for (unsigned t = 0; t < rounds; t++) {
		struct pair p = {0};
		char what[64];
		char *err = NULL;
		struct flt_ruleset *probe;
		struct flt_load_opts o = {.ports = ports, .eval = FLT_EVAL_REFERENCE};
		int fd;

		rt_ruleset(text, sizeof(text), 4 + rt_pick(40));
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
			uint32_t len = rt_frame(f);
			unsigned i = rt_pick(3), j = (i + 1 + rt_pick(2)) % 3;

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
	rt_addf(text, sizeof(text),
		"table inet vifwall {\n\tchain forward {\n\t\ttype filter hook "
		"forward priority 0; policy accept;\n");
	for (unsigned l = 1; l <= 32; l++)
		rt_addf(text, sizeof(text),
			"\t\tip saddr 10.85.170.85/%u counter\n"
			"\t\tip daddr != 10.85.170.85/%u ip saddr 10.0.0.0/%u drop\n",
			l, l, l < 8 ? l : 8);
	for (unsigned l = 1; l <= 128; l += 7)
		rt_addf(text, sizeof(text),
			"\t\tip6 saddr 2001:db8:5555:aaaa:5555:aaaa:5555:aaaa/%u "
			"counter\n",
			l);
	rt_addf(text, sizeof(text), "\t}\n}\n");
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
			uint16_t c = rt_csum_fold(rt_csum_add(0, ip, 20));
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

	rt_seed(seed);
	for (unsigned d = 0; d < ND; d++)
		narrow &= w[d] <= 4;
	assert_int_equal(flt_bvcls_builder_new(ND, w, NR, &b), 0);
	for (unsigned r = 0; r < NR; r++)
		for (unsigned d = 0; d < ND; d++) {
			unsigned bits = 8 * w[d], plen;
			flt_u128 v = ((flt_u128)rt_rnd() << 64 | rt_rnd()) &
				     (bits < 128 ? ((flt_u128)1 << bits) - 1 : ~(flt_u128)0);

			any[r][d] = rt_pick(3) == 0;
			if (any[r][d])
				continue;
			if (d < 2) { /* a prefix, mostly long: sparse */
				v = (v & (((flt_u128)1 << (bits - 16)) - 1)) |
				    ((flt_u128)rt_pick(4) << (bits - 16));
				plen = bits / 2 + rt_pick(bits / 2 + 1);
				lo[r][d] = plen ? v & ~(((flt_u128)1 << (bits - plen)) - 1) : 0;
				hi[r][d] = lo[r][d] |
					   (plen < bits ? ((flt_u128)1 << (bits - plen)) - 1 : 0);
			} else if (d < 4) { /* a port or a port range */
				lo[r][d] = rt_portpool[rt_pick(12)];
				hi[r][d] = rt_pick(2) ? lo[r][d] : lo[r][d] + rt_pick(2000);
				if (hi[r][d] > 65535)
					hi[r][d] = 65535;
			} else {
				lo[r][d] = hi[r][d] = rt_pick(2) ? 6 : 17;
			}
			assert_int_equal(flt_bvcls_rule_range(b, r, d, lo[r][d], hi[r][d]), 0);
		}
	assert_int_equal(flt_bvcls_build(b, &c), 0);
	flt_bvcls_builder_free(b);
	for (unsigned k = 0; k < NK; k++) {
		struct flt_bvcls_key key = {0};
		struct flt_bvcls_pos pos;
		unsigned src = rt_pick(NR);
		uint32_t from = rt_pick(4) ? 0 : rt_pick(NR), want = FLT_BVCLS_NONE;

		for (unsigned d = 0; d < ND; d++) { /* inside a random rule, mostly */
			key.present[d] = rt_pick(20) != 0;
			key.value[d] = any[src][d] || !rt_pick(4)
					       ? (flt_u128)rt_rnd() & 0xffff
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
