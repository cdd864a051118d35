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
#include "tests/lib/random_traffic.h"
#include "tests/lib/nft_text.h"

static const char *const ports[] = {"vif1.0", "vif2.0", "uplink", NULL};

/* --- the two sides ----------------------------------------------------------------- */

struct side {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	unsigned logs;
};

struct pair {
	struct side s[2]; /* 0: flt_classify, 1: flt_classify_fc */
	struct flt_flowcache *fc;
	unsigned calls;
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
		if (i && (p->calls++ & 1)) {
			/* every other packet the bridge's way: the key built ahead */
			struct flt_fc_key key;

			flt_classify_fc_prefetch(p->s[i].rs, p->s[i].ct, p->fc, &pkt, &hi, &key);
			flt_classify_fc_key(p->s[i].rs, p->s[i].ct, p->fc, &pkt, &hi, &key, &v[i]);
		} else {
			flt_classify_fc(p->s[i].rs, p->s[i].ct, i ? p->fc : NULL, &pkt, &hi, &v[i]);
		}
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
	c = rt_csum_fold(rt_csum_add(0, ip, 20));
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
		sum = rt_csum_add(rt_csum_add(0, ps, 12), l4, l4len);
		c = rt_csum_fold(sum);
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

	rt_seed(getenv("FC_SEED") ? strtoull(getenv("FC_SEED"), NULL, 0) : 0xf10cac4eull);
	for (unsigned t = 0; t < rounds; t++) {
		struct pair p = {0};
		uint8_t pool[48][256];
		uint32_t plen[48];
		char what[64];

		rt_ruleset(text, sizeof(text), 4 + rt_pick(40));
		/* nft refuses some random combinations (ip and ip6 in one rule): skipped. */
		if (pair_load(&p, text, 64 + rt_pick(2) * 4096, false) < 0)
			continue;
		loaded++;
		for (unsigned i = 0; i < 48; i++)
			plen[i] = rt_frame(pool[i]);
		for (unsigned k = 0; k < 600; k++) {
			/* a frame keeps its ports, mostly: flows */
			unsigned f = rt_pick(48), i = rt_pick(8) ? f % 3 : rt_pick(3),
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

/* The key's shortcut (whole-word copies when every header has the bytes the rules
 * read, flowcache.c key_build) against its careful path (a header cut short): a rule
 * reads two bytes past the UDP header. A packet that has them (zeros) and one that
 * ends right after the UDP header, padded with zero bytes to the Ethernet minimum
 * (bytes the frame has, the packet does not), must not share an entry. */
static void test_short_packet_not_shortcut(void **state)
{
	const char *text = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy accept;\n"
			   "  udp dport 53 @th,64,16 0x0000 counter drop\n"
			   "  udp dport 53 counter accept\n }\n}\n";
	struct pair p = {0};
	uint8_t full[128], padded[128];
	uint32_t flen, plen;
	uint16_t c;

	(void)state;
	pair_load(&p, text, 0, true);
	/* 2 payload bytes, both zero: the first rule's load succeeds and matches */
	flen = frame_v4(full, 17, 0x0a000001, 0x0a000002, 4000, 53, 0) + 2;
	full[flen - 2] = full[flen - 1] = 0;
	full[14 + 3] = 20 + 8 + 2;
	full[14 + 10] = full[14 + 11] = 0;
	c = rt_csum_fold(rt_csum_add(0, full + 14, 20));
	full[14 + 10] = (uint8_t)(c >> 8);
	full[14 + 11] = (uint8_t)c;
	full[14 + 20 + 5] = 8 + 2;
	/* no payload, Ethernet padding to 60 bytes: the load breaks, the second rule */
	plen = frame_v4(padded, 17, 0x0a000001, 0x0a000002, 4000, 53, 0);
	memset(padded + plen, 0, 60 - plen);
	plen = 60;
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(
			pair_run(&p, full, flen, "vif1.0", "uplink", 1000 + i, 0, "full").code,
			FLT_DROP);
		assert_int_equal(
			pair_run(&p, padded, plen, "vif1.0", "uplink", 1000 + i, 0, "padded").code,
			FLT_ACCEPT);
	}
	assert_int_equal(fc_stats(&p).hits, 10); /* one miss each, then hits */
	pair_check_counters(&p, "short packet");
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

/* Keys built ahead for a whole burst, then looked up in order (the bridge's two
 * passes): the same verdicts as plain classification, hits from the second burst on,
 * and keys made stale by an invalidation in between are rebuilt, not trusted. */
static void test_keys_built_ahead(void **state)
{
	const char *text = "table inet vifwall {\n chain forward {\n"
			   "  type filter hook forward priority 0; policy drop;\n"
			   "  ip saddr 10.0.0.0/28 udp dport 53 counter accept\n"
			   "  ip saddr 10.0.0.16/28 counter drop\n"
			   "  udp dport 53-60 counter accept\n }\n}\n";
	const char *ct_text = "table inet vifwall {\n chain forward {\n"
			      "  type filter hook forward priority 0; policy drop;\n"
			      "  ct state established accept\n"
			      "  udp dport 53 accept\n }\n}\n";
	enum { N = 32 };
	static uint8_t f[N][128];
	struct flt_pkt pkt[N];
	struct flt_fc_key key[N];
	struct flt_verdict v[2];
	struct pair p = {0};
	struct flt_hookinfo hi[2];

	(void)state;
	pair_load(&p, text, 0, true);
	for (int i = 0; i < 2; i++) {
		hi[i] = (struct flt_hookinfo){.hook = FLT_HOOK_FORWARD, .pkttype = PACKET_HOST};
		strcpy(hi[i].iifname, "vif1.0");
		strcpy(hi[i].oifname, "uplink");
		hi[i].iif = flt_ruleset_ifindex(p.s[i].rs, "vif1.0");
		hi[i].oif = flt_ruleset_ifindex(p.s[i].rs, "uplink");
	}
	for (unsigned i = 0; i < N; i++)
		flt_pkt_parse(&pkt[i], f[i],
			      frame_v4(f[i], 17, 0x0a000000 + i, 0x0a0000fe, (uint16_t)(1000 + i),
				       (uint16_t)(50 + i % 12), 0));
	for (int round = 0; round < 3; round++) {
		if (round == 2) {
			/* built, then the cache forgets everything before the lookups */
			for (unsigned i = 0; i < N; i++)
				flt_classify_fc_prefetch(p.s[1].rs, NULL, p.fc, &pkt[i], &hi[1],
							 &key[i]);
			flt_fc_invalidate(p.fc);
		} else {
			for (unsigned i = 0; i < N; i++) {
				flt_classify_fc_prefetch(p.s[1].rs, NULL, p.fc, &pkt[i], &hi[1],
							 &key[i]);
				assert_int_not_equal(key[i].klen, 0);
			}
		}
		for (unsigned i = 0; i < N; i++) {
			flt_classify(p.s[0].rs, NULL, &pkt[i], &hi[0], &v[0]);
			flt_classify_fc_key(p.s[1].rs, NULL, p.fc, &pkt[i], &hi[1], &key[i], &v[1]);
			assert_int_equal(v[0].code, v[1].code);
			assert_int_equal(v[0].rule_handle, v[1].rule_handle);
		}
		if (round == 0)
			assert_int_equal(fc_stats(&p).misses, N);
		if (round == 1)
			assert_int_equal(fc_stats(&p).hits, N);
	}
	/* the stale keys of round 2 all missed: nothing served from a forgotten entry */
	assert_int_equal(fc_stats(&p).hits, N);
	assert_int_equal(fc_stats(&p).misses, 2 * N);
	pair_check_counters(&p, "keys ahead");
	pair_free(&p);

	/* With conntrack, a packet's key holds its ct state: not built ahead. */
	memset(&p, 0, sizeof(p));
	pair_load(&p, ct_text, 0, true);
	flt_classify_fc_prefetch(p.s[1].rs, p.s[1].ct, p.fc, &pkt[0], &hi[1], &key[0]);
	assert_int_equal(key[0].klen, 0);
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
		cmocka_unit_test(test_short_packet_not_shortcut),
		cmocka_unit_test(test_reload_invalidates),
		cmocka_unit_test(test_keys_built_ahead),
		cmocka_unit_test(test_random_rulesets),
		cmocka_unit_test(test_classbench),
		cmocka_unit_test(test_bounded_under_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
