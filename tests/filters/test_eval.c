/*
 * The rule engine end to end: small nft scripts loaded through the kernel
 * (flt_ruleset_load), frames built here with correct checksums, and the verdict, the
 * deciding rule (by its line in the script) and chain that flt_classify reports.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if_arp.h>
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
#include "filters/packet.h"
#include "filters/ruleset.h"
#include "tests/lib/nft_text.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

static const char *const ports[] = {"vif1.0", "vif2.0", "uplink", NULL};

/* --- frames ------------------------------------------------------------------- */

struct frame {
	uint8_t b[256];
	uint32_t len;
};

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

static void eth(struct frame *f, uint16_t proto)
{
	static const uint8_t dst[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x02};
	static const uint8_t src[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x01};

	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	f->b[12] = (uint8_t)(proto >> 8);
	f->b[13] = (uint8_t)proto;
}

/* IPv4 frame around @l4 (whose checksum field at @csum_off is filled in here, unless
 * @csum_off is negative). */
static void ip4(struct frame *f, const char *src, const char *dst, uint8_t proto, const uint8_t *l4,
		uint32_t l4len, int csum_off)
{
	uint8_t *ip = f->b + 14, *t = ip + 20, pseudo[12];
	uint16_t c;

	eth(f, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4len) >> 8);
	ip[3] = (uint8_t)(20 + l4len);
	ip[8] = 64;
	ip[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, ip + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
	c = csum_fold(csum_add(0, ip, 20));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memcpy(t, l4, l4len);
	if (csum_off >= 0) {
		memcpy(pseudo, ip + 12, 8);
		pseudo[8] = 0;
		pseudo[9] = proto;
		pseudo[10] = (uint8_t)(l4len >> 8);
		pseudo[11] = (uint8_t)l4len;
		c = csum_fold(csum_add(csum_add(0, pseudo, 12), t, l4len));
		t[csum_off] = (uint8_t)(c >> 8);
		t[csum_off + 1] = (uint8_t)c;
	}
	f->len = 14 + 20 + l4len;
}

static void tcp4(struct frame *f, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		 uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint8_t t[20] = {0};

	t[0] = (uint8_t)(sport >> 8);
	t[1] = (uint8_t)sport;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4;
	t[13] = flags;
	t[14] = 0xff; /* window 65535 */
	t[15] = 0xff;
	ip4(f, src, dst, 6, t, sizeof(t), 16);
}

static void udp4(struct frame *f, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	uint8_t u[12] = {0};

	u[0] = (uint8_t)(sport >> 8);
	u[1] = (uint8_t)sport;
	u[2] = (uint8_t)(dport >> 8);
	u[3] = (uint8_t)dport;
	u[5] = sizeof(u);
	memcpy(u + 8, "ping", 4);
	ip4(f, src, dst, 17, u, sizeof(u), 6);
}

static void tcp6(struct frame *f, const char *src, const char *dst, uint16_t dport)
{
	uint8_t *ip = f->b + 14, *t = ip + 40, pseudo[40];
	uint16_t c;

	eth(f, 0x86dd);
	memset(ip, 0, 40 + 20);
	ip[0] = 0x60;
	ip[5] = 20;
	ip[6] = 6;
	ip[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
	t[0] = 0x9c;
	t[1] = 0x40;
	t[2] = (uint8_t)(dport >> 8);
	t[3] = (uint8_t)dport;
	t[12] = 5 << 4;
	t[13] = TCP_SYN;
	t[14] = t[15] = 0xff;
	memset(pseudo, 0, sizeof(pseudo));
	memcpy(pseudo, ip + 8, 32);
	pseudo[35] = 20;
	pseudo[39] = 6;
	c = csum_fold(csum_add(csum_add(0, pseudo, 40), t, 20));
	t[16] = (uint8_t)(c >> 8);
	t[17] = (uint8_t)c;
	f->len = 14 + 40 + 20;
}

/* --- loading and classifying --------------------------------------------------- */

struct ctx {
	char path[64];
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	uint64_t now;
};

static int load_text(struct ctx *c, const char *text, char **err)
{
	struct flt_load_opts o = {.path = c->path, .ports = ports};

	assert_int_equal(test_nft_file(text, c->path), 0);
	return flt_ruleset_load(&o, &c->rs, err);
}

static struct ctx *load(const char *text)
{
	struct ctx *c = calloc(1, sizeof(*c));
	char *err = NULL;
	int rc;

	assert_non_null(c);
	rc = load_text(c, text, &err);
	if (rc < 0)
		fail_msg("load failed (%d): %s", rc, err ? err : "?");
	assert_int_equal(flt_ct_table_new(NULL, &c->ct), 0);
	c->now = 1000000000ull;
	return c;
}

static void unload(struct ctx *c)
{
	flt_ruleset_free(c->rs);
	flt_ct_table_free(c->ct);
	unlink(c->path);
	free(c);
}

/* Classify @f on the forward hook from port @in to port @out. */
static struct flt_verdict run(struct ctx *c, const struct frame *f, const char *in, const char *out)
{
	struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
				  .iiftype = ARPHRD_ETHER,
				  .oiftype = ARPHRD_ETHER,
				  .pkttype = PACKET_HOST,
				  .now_ns = c->now};
	struct flt_verdict v;
	struct flt_pkt pkt;

	strncpy(hi.iifname, in, FLT_IFNAMSIZ - 1);
	strncpy(hi.oifname, out, FLT_IFNAMSIZ - 1);
	hi.iif = flt_ruleset_ifindex(c->rs, in);
	hi.oif = flt_ruleset_ifindex(c->rs, out);
	flt_pkt_parse(&pkt, f->b, f->len);
	memset(&v, 0xa5, sizeof(v));
	flt_classify(c->rs, c->ct, &pkt, &hi, &v);
	return v;
}

/* The line (in the test's script) of the rule that decided, 0 for a policy. */
static unsigned line_of(struct ctx *c, const struct flt_verdict *v)
{
	struct flt_rule_src src;

	if (!v->rule_handle)
		return 0;
	assert_int_equal(flt_ruleset_rule_src(c->rs, v->rule_handle, &src), 0);
	return src.line;
}

#define assert_verdict(c, v, code_, line_, chain_)                                                 \
	do {                                                                                       \
		assert_int_equal((v).code, (code_));                                               \
		assert_int_equal(line_of((c), &(v)), (line_));                                     \
		assert_non_null((v).chain);                                                        \
		assert_string_equal((v).chain, (chain_));                                          \
	} while (0)

#define HEAD	     "table inet vifwall {\n\tchain forward {\n"		     /* lines 1-2 */
#define BASE(policy) "\t\ttype filter hook forward priority 0; policy " policy ";\n" /* 3 */

/* --- tests -------------------------------------------------------------------- */

static void test_policy(void **state)
{
	struct ctx *c = load(HEAD BASE("drop") "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;
	struct flt_ruleset_stats st;

	(void)state;
	tcp4(&f, "10.0.0.1", "10.0.0.2", 1234, 80, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	assert_int_equal(v.rule_handle, 0);
	flt_ruleset_get_stats(c->rs, &st);
	assert_int_equal(st.chains, 1);
	assert_int_equal(st.rules, 0);
	unload(c);

	c = load(HEAD BASE("accept") "\t}\n}\n");
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	unload(c);
}

static void test_non_ip(void **state)
{
	struct ctx *c = load(HEAD BASE("drop") "\t}\n}\n");
	struct frame f = {.len = 60};
	struct flt_verdict v;

	(void)state;
	eth(&f, 0x0806);
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(v.code, FLT_ACCEPT);
	assert_int_equal(v.rule_handle, 0);
	assert_null(v.chain);
	eth(&f, 0x88cc); /* LLDP */
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(v.code, FLT_DROP);
	assert_null(v.chain);
	udp4(&f, "10.0.0.1", "10.0.0.2", 1, 2);
	f.b[14 + 10] ^= 1; /* IPv4 header checksum broken */
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(v.code, FLT_DROP);
	assert_null(v.chain);
	unload(c);
}

static void test_ifname_wildcard(void **state)
{
	struct ctx *c = load(HEAD BASE("drop") "\t\tiifname \"vif*\" oifname \"uplink\" accept\n"
					       "\t\tiif \"uplink\" oif \"vif2.0\" accept\n"
					       "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;

	(void)state;
	udp4(&f, "10.0.0.1", "10.0.0.2", 1000, 53);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	v = run(c, &f, "vif2.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	v = run(c, &f, "uplink", "vif1.0");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	v = run(c, &f, "uplink", "vif2.0");
	assert_verdict(c, v, FLT_ACCEPT, 5, "forward");
	assert_true(flt_ruleset_ifindex(c->rs, "uplink") > 0);
	assert_int_equal(flt_ruleset_ifindex(c->rs, "nosuch"), 0);
	unload(c);
}

static void test_saddr_prefix_v4_v6(void **state)
{
	struct ctx *c = load(HEAD BASE("accept") "\t\tip saddr 10.0.0.0/24 drop\n"
						 "\t\tip6 saddr 2001:db8::/32 drop\n"
						 "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;

	(void)state;
	udp4(&f, "10.0.0.200", "10.9.0.1", 1, 2);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 4, "forward");
	udp4(&f, "10.0.1.5", "10.9.0.1", 1, 2);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	tcp6(&f, "2001:db8:1::5", "2001:db9::1", 22);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 5, "forward");
	tcp6(&f, "2001:db9::5", "2001:db8::1", 22);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	unload(c);
}

static void test_tcp_dport_range(void **state)
{
	struct ctx *c = load(HEAD BASE("drop") "\t\ttcp dport 1000-2000 accept\n"
					       "\t\ttcp dport != 10-60000 accept\n"
					       "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;
	static const struct {
		uint16_t port;
		int code;
		unsigned line;
	} cases[] = {{9, FLT_ACCEPT, 5},    {10, FLT_DROP, 0},	   {999, FLT_DROP, 0},
		     {1000, FLT_ACCEPT, 4}, {1500, FLT_ACCEPT, 4}, {2000, FLT_ACCEPT, 4},
		     {2001, FLT_DROP, 0},   {60000, FLT_DROP, 0},  {60001, FLT_ACCEPT, 5},
		     {65535, FLT_ACCEPT, 5}};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, cases[i].port, TCP_SYN, 1, 0);
		v = run(c, &f, "vif1.0", "uplink");
		assert_verdict(c, v, cases[i].code, cases[i].line, "forward");
	}
	/* A UDP packet never matches "tcp dport": the l4proto check breaks first. */
	udp4(&f, "10.0.0.1", "10.0.0.2", 40000, 1500);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	udp4(&f, "10.0.0.1", "10.0.0.2", 40000, 5);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	unload(c);
}

static void test_tcp_flags(void **state)
{
	struct ctx *c = load(HEAD BASE("accept") "\t\ttcp flags & (syn|ack) == syn counter drop\n"
						 "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;
	uint64_t pk, by;

	(void)state;
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 4, "forward");
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN | TCP_FIN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 4, "forward");
	tcp4(&f, "10.0.0.2", "10.0.0.1", 80, 40000, TCP_SYN | TCP_ACK, 1, 2);
	v = run(c, &f, "uplink", "vif1.0");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 2, 2);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(flt_ruleset_rule_counter(c->rs, v.rule_handle, &pk, &by), 0);
	assert_int_equal(pk, 3); /* the two SYNs above and this one */
	assert_int_equal(by, 3 * 40);
	unload(c);
}

static const char jump_nft[] = HEAD BASE("accept") /* 1-3 */
	"\t\tip saddr 10.0.0.1 jump sub\n"	   /* 4 */
	"\t\tip saddr 10.0.0.2 goto sub\n"	   /* 5 */
	"\t\tip daddr 10.9.9.9 drop\n"		   /* 6 */
	"\t}\n"					   /* 7 */
	"\tchain sub {\n"			   /* 8 */
	"\t\ttcp dport 22 return\n"		   /* 9 */
	"\t\ttcp dport 23 drop\n"		   /* 10 */
	"\t\ttcp dport 24 jump deeper\n"	   /* 11 */
	"\t\ttcp dport 24 reject with tcp reset\n" /* 12 */
	"\t}\n"					   /* 13 */
	"\tchain deeper {\n"			   /* 14 */
	"\t\tip daddr 10.9.9.8 accept\n"	   /* 15 */
	"\t}\n"					   /* 16 */
	"}\n";

static void test_jump_goto_return(void **state)
{
	struct ctx *c = load(jump_nft);
	struct frame f;
	struct flt_verdict v;

	(void)state;
	/* return from sub goes on after the jump */
	tcp4(&f, "10.0.0.1", "10.9.9.9", 40000, 22, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 6, "forward");
	/* after a goto, return ends at the base chain's policy */
	tcp4(&f, "10.0.0.2", "10.9.9.9", 40000, 22, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	/* a verdict inside the jumped-to chain */
	tcp4(&f, "10.0.0.1", "10.9.9.9", 40000, 23, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 10, "sub");
	/* falling off the end of a regular chain returns too */
	tcp4(&f, "10.0.0.1", "10.9.9.9", 40000, 80, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 6, "forward");
	/* two levels: accept deep inside */
	tcp4(&f, "10.0.0.1", "10.9.9.8", 40000, 24, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 15, "deeper");
	/* two levels: deeper falls through, back in sub the reject decides */
	tcp4(&f, "10.0.0.1", "10.9.9.7", 40000, 24, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_REJECT, 12, "sub");
	assert_int_equal(v.reject_type, NFT_REJECT_TCP_RST);
	unload(c);
}

static void test_anon_set_and_vmap(void **state)
{
	struct ctx *c = load(HEAD BASE(
		"drop") "\t\tip daddr { 10.1.1.1, 10.1.1.2 } tcp dport { 80, 443 } accept\n" /* 4 */
			"\t\tip saddr vmap { 10.0.0.1 : accept, 10.0.0.2 : drop, "
			"10.0.0.3 : jump sub }\n"				      /* 5 */
			"\t\tip saddr != { 10.0.0.4, 10.0.0.5 } udp dport 9 accept\n" /* 6 */
			"\t}\n"							      /* 7 */
			"\tchain sub {\n"					      /* 8 */
			"\t\tudp dport 53 accept\n"				      /* 9 */
			"\t}\n}\n");
	struct frame f;
	struct flt_verdict v;

	(void)state;
	tcp4(&f, "10.0.0.9", "10.1.1.2", 40000, 443, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	tcp4(&f, "10.0.0.9", "10.1.1.3", 40000, 443, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	udp4(&f, "10.0.0.1", "10.1.1.3", 40000, 1);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 5, "forward");
	udp4(&f, "10.0.0.2", "10.1.1.3", 40000, 1);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 5, "forward");
	udp4(&f, "10.0.0.3", "10.1.1.3", 40000, 53);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 9, "sub");
	udp4(&f, "10.0.0.3", "10.1.1.3", 40000, 54); /* sub falls through, back to rule 6 */
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	udp4(&f, "10.0.0.6", "10.1.1.3", 40000, 9);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 6, "forward");
	udp4(&f, "10.0.0.4", "10.1.1.3", 40000, 9);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	unload(c);
}

static void test_counter(void **state)
{
	struct ctx *c = load(HEAD BASE("accept") "\t\tip saddr 10.0.0.1 counter\n"
						 "\t\tcounter packets 10 bytes 1000\n"
						 "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;
	uint64_t pk, by, h1 = 0, h2 = 0;
	struct flt_rule_src src;

	(void)state;
	for (uint64_t h = 1; h < 16; h++) {
		if (flt_ruleset_rule_src(c->rs, h, &src) < 0)
			continue;
		if (src.line == 4)
			h1 = h;
		if (src.line == 5)
			h2 = h;
	}
	assert_true(h1 && h2);
	udp4(&f, "10.0.0.1", "10.0.0.2", 1, 2);
	for (int i = 0; i < 7; i++) {
		v = run(c, &f, "vif1.0", "uplink");
		assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	}
	udp4(&f, "10.0.0.3", "10.0.0.2", 1, 2);
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(flt_ruleset_rule_counter(c->rs, h1, &pk, &by), 0);
	assert_int_equal(pk, 7);
	assert_int_equal(by, 7 * 32); /* 20 bytes IPv4 + 12 bytes UDP */
	assert_int_equal(flt_ruleset_rule_counter(c->rs, h2, &pk, &by), 0);
	assert_int_equal(pk, 18);
	assert_int_equal(by, 1000 + 8 * 32);
	assert_int_equal(flt_ruleset_rule_counter(c->rs, 999, &pk, &by), -ENOENT);
	unload(c);
}

static void test_limit(void **state)
{
	struct ctx *c =
		load(HEAD BASE("drop") "\t\tudp dport 1 limit rate 2/second burst 2 packets "
				       "accept\n"
				       "\t\tudp dport 2 limit rate over 2/second burst 2 packets "
				       "drop\n"
				       "\t\tudp dport 2 accept\n"
				       "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;
	int expect1[] = {FLT_ACCEPT, FLT_ACCEPT, FLT_DROP, FLT_DROP};

	(void)state;
	/* rate 2/s: each packet costs 0.5 s of tokens, the bucket holds 2 packets. */
	udp4(&f, "10.0.0.1", "10.0.0.2", 1000, 1);
	for (int i = 0; i < 4; i++) {
		v = run(c, &f, "vif1.0", "uplink");
		assert_int_equal(v.code, expect1[i]);
	}
	c->now += 500000000ull; /* one packet's worth */
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	c->now += 10000000000ull; /* a long pause refills only up to the burst */
	for (int i = 0; i < 4; i++) {
		v = run(c, &f, "vif1.0", "uplink");
		assert_int_equal(v.code, expect1[i]);
	}
	/* Another worker's packet stamped a little earlier (its turn began before):
	 * the bucket is empty for it too, not full. */
	c->now -= 1000000ull;
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(v.code, FLT_DROP);
	c->now += 1000000ull;

	/* "over": matches once the rate is exceeded */
	udp4(&f, "10.0.0.1", "10.0.0.2", 1000, 2);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 6, "forward");
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 6, "forward");
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_DROP, 5, "forward");
	unload(c);
}

static void test_reject_codes(void **state)
{
	struct ctx *c = load(HEAD BASE("accept") "\t\ttcp dport 22 reject with tcp reset\n"
						 "\t\tudp dport 53 reject with icmpx type "
						 "port-unreachable\n"
						 "\t\tip saddr 10.0.0.9 reject with icmp type "
						 "host-prohibited\n"
						 "\t\tip saddr 10.0.0.8 reject\n"
						 "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;

	(void)state;
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 22, TCP_SYN, 1, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_REJECT, 4, "forward");
	assert_int_equal(v.reject_type, NFT_REJECT_TCP_RST);
	udp4(&f, "10.0.0.1", "10.0.0.2", 40000, 53);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_REJECT, 5, "forward");
	assert_int_equal(v.reject_type, NFT_REJECT_ICMPX_UNREACH);
	assert_int_equal(v.reject_icmp_code, NFT_REJECT_ICMPX_PORT_UNREACH);
	udp4(&f, "10.0.0.9", "10.0.0.2", 40000, 54);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_REJECT, 6, "forward");
	assert_int_equal(v.reject_type, NFT_REJECT_ICMP_UNREACH);
	assert_int_equal(v.reject_icmp_code, 10); /* ICMP_HOST_ANO */
	udp4(&f, "10.0.0.8", "10.0.0.2", 40000, 54);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_REJECT, 7, "forward");
	udp4(&f, "10.0.0.7", "10.0.0.2", 40000, 54);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 0, "forward");
	unload(c);
}

static void test_ct_state(void **state)
{
	struct ctx *c = load(HEAD BASE("drop") "\t\tct state established,related accept\n"
					       "\t\tct state new iifname \"vif1.0\" tcp flags syn "
					       "accept\n"
					       "\t\tct state invalid counter drop\n"
					       "\t}\n}\n");
	struct frame f;
	struct flt_verdict v;

	(void)state;
	assert_true(flt_ruleset_uses_ct(c->rs));
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN, 1000, 0);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 5, "forward");
	c->now += 1000000;
	tcp4(&f, "10.0.0.2", "10.0.0.1", 80, 40000, TCP_SYN | TCP_ACK, 5000, 1001);
	v = run(c, &f, "uplink", "vif1.0");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	c->now += 1000000;
	tcp4(&f, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 1001, 5001);
	v = run(c, &f, "vif1.0", "uplink");
	assert_verdict(c, v, FLT_ACCEPT, 4, "forward");
	/* a new connection from the other side is not allowed */
	tcp4(&f, "10.0.0.2", "10.0.0.1", 40001, 22, TCP_SYN, 1, 0);
	v = run(c, &f, "uplink", "vif1.0");
	assert_verdict(c, v, FLT_DROP, 0, "forward");
	/* nor is an ACK out of nowhere (new, but not a SYN) */
	tcp4(&f, "10.0.0.1", "10.0.0.3", 40002, 80, TCP_ACK, 1, 1);
	v = run(c, &f, "vif1.0", "uplink");
	assert_int_equal(v.code, FLT_DROP);
	unload(c);
}

static void test_refused(void **state)
{
	static const struct {
		const char *rule, *expect;
	} cases[] = {
		{"ip saddr 1.2.3.4 fib daddr type local drop",
		 ":4: rule handle %s 'ip saddr 1.2.3.4 fib daddr type local drop': vifwall cannot "
		 "execute the 'fib' expression; remove it or see docs/rules.md"},
		{"meta priority set 1", "'meta priority set'"},
		{"ip ttl set 1", "'payload set'"},
		{"meta priority 1 accept", "'meta priority'"},
		{"quota 10 mbytes drop", "the 'quota' expression"},
		{"tcp option maxseg size 1400 drop", "the 'exthdr' expression"},
	};
	char text[512], *err;
	struct ctx c = {0};

	(void)state;
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), HEAD BASE("accept") "\t\t%s\n\t}\n}\n", cases[i].rule);
		err = NULL;
		assert_int_equal(load_text(&c, text, &err), -EOPNOTSUPP);
		assert_null(c.rs);
		assert_non_null(err);
		if (strstr(cases[i].expect, "%s")) {
			char want[512], *h = strstr(err, "rule handle ");

			assert_non_null(h);
			snprintf(want, sizeof(want), "%s%.*s", c.path, (int)strcspn(h + 12, " "),
				 h + 12);
			/* file, line, handle, text, construct, in that order */
			assert_true(!strncmp(err, c.path, strlen(c.path)));
			snprintf(want, sizeof(want), cases[i].expect, "");
			assert_non_null(strstr(err, ":4: rule handle "));
			assert_non_null(strstr(err, strchr(want, '\'')));
		} else if (!strstr(err, cases[i].expect)) {
			fail_msg("'%s': message '%s' lacks '%s'", cases[i].rule, err,
				 cases[i].expect);
		}
		free(err);
		unlink(c.path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),		 cmocka_unit_test(test_non_ip),
		cmocka_unit_test(test_ifname_wildcard),	 cmocka_unit_test(test_saddr_prefix_v4_v6),
		cmocka_unit_test(test_tcp_dport_range),	 cmocka_unit_test(test_tcp_flags),
		cmocka_unit_test(test_jump_goto_return), cmocka_unit_test(test_anon_set_and_vmap),
		cmocka_unit_test(test_counter),		 cmocka_unit_test(test_limit),
		cmocka_unit_test(test_reject_codes),	 cmocka_unit_test(test_ct_state),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
