/*
 * Unit tests of the connection tracker (filters/conntrack*.c). Real frames, with
 * correct checksums, are built by the small builder below and go through the packet
 * parser, flt_ct_in and flt_ct_confirm as the rule engine does; every step checks what
 * nft's `ct` expression would read (state, direction, status, expiration...) and the
 * TCP state, as the kernel's conntrack computes them (default sysctls).
 *
 * Compared with the real kernel (6.18 here): three network namespaces (vwct-c, vwct-fw,
 * vwct-s), vwct-fw forwarding between two veths with an inet forward chain counting
 * `ct state {invalid,new,established,related,untracked}`, `ct direction reply` and
 * `ct status assured`; hand-made frames injected on AF_PACKET sockets, counters read
 * after each. The kernel gave, packet by packet, what the tests marked "kernel:" assert:
 * SYN new; SYN/ACK established+reply; ACK established+assured; data 1e6 beyond the
 * window, an ACK of unsent data, a RST before what the peer acknowledged, SYN|FIN, a
 * bad TCP checksum: invalid; the exact RST established+reply; loose pickup: ACK new,
 * reply established (not assured), next ACK assured; RST|ACK answering a SYN
 * established+reply and the next SYN new; ICMP echo reply without request invalid,
 * request new, reply established; port unreachable with no flow invalid, with a UDP
 * flow related+reply; UDP reply established, not assured within 2 s, assured after;
 * ICMPv6 packet-too-big quoting a TCP SYN related+reply. (Neighbour solicitations to
 * multicast never reach the forward hook, so untracked was not compared.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/conntrack.h"
#include "filters/packet.h"

#define SEC 1000000000ull

#define ST_INV NF_CT_STATE_INVALID_BIT
#define ST_EST NF_CT_STATE_BIT(IP_CT_ESTABLISHED)
#define ST_REL NF_CT_STATE_BIT(IP_CT_RELATED)
#define ST_NEW NF_CT_STATE_BIT(IP_CT_NEW)
#define ST_UNT NF_CT_STATE_UNTRACKED_BIT

enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32 };

/* ---- frame builder ---- */

struct frame {
	uint8_t b[2048];
	uint32_t n;
};

static uint32_t csum_sum(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Offset of the L4 checksum field for @proto, or -1. */
static int csum_off(uint8_t proto)
{
	switch (proto) {
	case 6:
		return 16;
	case 17:
		return 6;
	case 1:
	case 58:
		return 2;
	default:
		return -1;
	}
}

/* Ethernet + IPv4 (or IPv6 when @src contains ':') + @l4, checksums computed. */
static void mk(struct frame *f, const char *src, const char *dst, uint8_t proto, const uint8_t *l4,
	       uint32_t l4len)
{
	bool v6 = strchr(src, ':') != NULL;
	uint8_t *ip = f->b + 14, *t;
	uint32_t hl = v6 ? 40 : 20, s = 0;
	int co = csum_off(proto);

	memset(f->b, 0, sizeof(f->b));
	memcpy(f->b, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	put16(f->b + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = 64;
		inet_pton(AF_INET6, src, ip + 8);
		inet_pton(AF_INET6, dst, ip + 24);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		ip[8] = 64;
		ip[9] = proto;
		inet_pton(AF_INET, src, ip + 12);
		inet_pton(AF_INET, dst, ip + 16);
		put16(ip + 10, csum_fold(csum_sum(0, ip, 20)));
	}
	t = ip + hl;
	memcpy(t, l4, l4len);
	if (co >= 0) {
		t[co] = t[co + 1] = 0;
		if (v6) {
			s = csum_sum(0, ip + 8, 32) + l4len + proto;
		} else if (proto != 1) {
			s = csum_sum(0, ip + 12, 8) + l4len + proto;
		}
		uint16_t c = csum_fold(csum_sum(s, t, l4len));
		if (proto == 17 && c == 0)
			c = 0xffff;
		put16(t + co, c);
	}
	f->n = 14 + hl + l4len;
}

static uint32_t tcp_hdr(uint8_t *t, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack,
			uint8_t flags, uint16_t win, uint32_t paylen)
{
	memset(t, 0, 20 + paylen);
	put16(t, sp);
	put16(t + 2, dp);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	put16(t + 14, win);
	memset(t + 20, 'x', paylen);
	return 20 + paylen;
}

static uint32_t udp_hdr(uint8_t *t, uint16_t sp, uint16_t dp, uint32_t paylen)
{
	memset(t, 0, 8 + paylen);
	put16(t, sp);
	put16(t + 2, dp);
	put16(t + 4, (uint16_t)(8 + paylen));
	memset(t + 8, 'u', paylen);
	return 8 + paylen;
}

static uint32_t icmp_hdr(uint8_t *t, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	memset(t, 0, 16);
	t[0] = type;
	t[1] = code;
	put16(t + 4, id);
	put16(t + 6, seq);
	return 16;
}

/* An ICMP error quoting the L3 packet of @inner (its first @quote bytes). */
static uint32_t icmp_err(uint8_t *t, uint8_t type, uint8_t code, const struct frame *inner,
			 uint32_t quote)
{
	memset(t, 0, 8);
	t[0] = type;
	t[1] = code;
	if (quote > inner->n - 14)
		quote = inner->n - 14;
	memcpy(t + 8, inner->b + 14, quote);
	return 8 + quote;
}

/* ---- driving the tracker ---- */

struct res {
	uint32_t state, status, expiration;
	int dir; /* -1: none */
	int tcp; /* enum tcp_conntrack, -1 */
	bool drop, inexact;
};

struct ctx {
	struct flt_ct_table *t;
	uint64_t now;
	uint32_t cseq, sseq; /* next sequence number of the client and the server */
};

static struct res feed(struct ctx *c, const struct frame *f, bool accept)
{
	struct flt_pkt pkt;
	struct flt_ct_pkt cp;
	struct res r = {.dir = -1};
	uint8_t reg[16];

	assert_int_equal(flt_pkt_parse(&pkt, f->b, f->n), FLT_PKT_IP);
	flt_ct_in(c->t, &pkt, c->now, &cp);
	assert_true(flt_ct_get(&cp, NFT_CT_STATE, -1, c->now, reg, sizeof(reg)));
	memcpy(&r.state, reg, 4);
	if (flt_ct_get(&cp, NFT_CT_STATUS, -1, c->now, reg, sizeof(reg)))
		memcpy(&r.status, reg, 4);
	if (flt_ct_get(&cp, NFT_CT_DIRECTION, -1, c->now, reg, sizeof(reg)))
		r.dir = reg[0];
	if (flt_ct_get(&cp, NFT_CT_EXPIRATION, -1, c->now, reg, sizeof(reg)))
		memcpy(&r.expiration, reg, 4);
	r.tcp = flt_ct_tcp_state(&cp);
	r.drop = cp.drop;
	r.inexact = cp.inexact;
	flt_ct_confirm(c->t, &cp, accept);
	assert_null(cp.ct);
	return r;
}

#define CLI4 "10.0.0.1"
#define SRV4 "10.0.0.2"
#define CLI6 "2001:db8::1"
#define SRV6 "2001:db8::2"

static const char *cli = CLI4, *srv = SRV4;

/* One TCP segment between the client (port 40000) and the server (port 80). */
static struct res tcp(struct ctx *c, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
		      uint32_t paylen, bool accept)
{
	struct frame f;
	uint8_t l4[1500];
	uint32_t n;

	if (from_client)
		n = tcp_hdr(l4, 40000, 80, seq, ack, flags, 64000, paylen);
	else
		n = tcp_hdr(l4, 80, 40000, seq, ack, flags, 64000, paylen);
	mk(&f, from_client ? cli : srv, from_client ? srv : cli, 6, l4, n);
	return feed(c, &f, accept);
}

/* Client and server segments that follow the sequence numbers. */
static struct res cseg(struct ctx *c, uint8_t flags, uint32_t paylen)
{
	struct res r = tcp(c, true, flags, c->cseq, (flags & ACK) ? c->sseq : 0, paylen, true);

	c->cseq += paylen + !!(flags & (SYN | FIN));
	return r;
}

static struct res sseg(struct ctx *c, uint8_t flags, uint32_t paylen)
{
	struct res r = tcp(c, false, flags, c->sseq, (flags & ACK) ? c->cseq : 0, paylen, true);

	c->sseq += paylen + !!(flags & (SYN | FIN));
	return r;
}

static struct res udp(struct ctx *c, bool from_client, bool accept)
{
	struct frame f;
	uint8_t l4[64];
	uint32_t n = from_client ? udp_hdr(l4, 5000, 53, 10) : udp_hdr(l4, 53, 5000, 10);

	mk(&f, from_client ? cli : srv, from_client ? srv : cli, 17, l4, n);
	return feed(c, &f, accept);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(flt_ct_table_new(NULL, &c->t), 0);
	c->now = 1000 * SEC;
	c->cseq = 1000;
	c->sseq = 5000000;
	cli = CLI4;
	srv = SRV4;
	*state = c;
	return 0;
}

static int setup6(void **state)
{
	setup(state);
	cli = CLI6;
	srv = SRV6;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	flt_ct_table_free(c->t);
	free(c);
	return 0;
}

static void handshake(struct ctx *c)
{
	struct res r;

	r = cseg(c, SYN, 0);
	assert_int_equal(r.state, ST_NEW);
	assert_int_equal(r.tcp, TCP_CONNTRACK_SYN_SENT);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.dir, IP_CT_DIR_ORIGINAL);
	assert_int_equal(r.expiration, 0); /* unconfirmed: the kernel reads 0 too */
	r = sseg(c, SYN | ACK, 0);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_int_equal(r.tcp, TCP_CONNTRACK_SYN_RECV);
	assert_int_equal(r.status, IPS_CONFIRMED | IPS_SEEN_REPLY);
	assert_int_equal(r.expiration, 60000);
	r = cseg(c, ACK, 0);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_ORIGINAL);
	assert_int_equal(r.tcp, TCP_CONNTRACK_ESTABLISHED);
	assert_int_equal(r.status, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	assert_int_equal(r.expiration, 432000000u);
}

/* kernel: SYN new, SYN/ACK and ACK established, data established, FIN teardown to
 * TIME_WAIT with a 120 s timeout. */
static void test_tcp_lifecycle(void **state)
{
	struct ctx *c = *state;
	struct res r;

	handshake(c);
	r = cseg(c, PSH | ACK, 100);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.expiration, 300000); /* unacknowledged data */
	r = sseg(c, ACK, 0);
	assert_int_equal(r.expiration, 432000000u);
	r = cseg(c, FIN | ACK, 0);
	assert_int_equal(r.tcp, TCP_CONNTRACK_FIN_WAIT);
	assert_int_equal(r.state, ST_EST);
	r = sseg(c, ACK, 0);
	assert_int_equal(r.tcp, TCP_CONNTRACK_CLOSE_WAIT);
	r = sseg(c, FIN | ACK, 0);
	assert_int_equal(r.tcp, TCP_CONNTRACK_LAST_ACK);
	r = cseg(c, ACK, 0);
	assert_int_equal(r.tcp, TCP_CONNTRACK_TIME_WAIT);
	assert_int_equal(r.expiration, 120000);

	/* A new SYN on the same ports re-opens: a fresh entry. */
	c->cseq += 100000;
	r = cseg(c, SYN, 0);
	assert_int_equal(r.state, ST_NEW);
	assert_int_equal(r.tcp, TCP_CONNTRACK_SYN_SENT);
	assert_int_equal(r.status, 0);
}

/* kernel: a SYN dropped by the ruleset leaves no entry, so the SYN/ACK is invalid
 * (no SYN/ACK can open a connection) and the retransmitted SYN is new again. */
static void test_syn_dropped(void **state)
{
	struct ctx *c = *state;
	struct flt_ct_stats st;
	struct res r;

	r = tcp(c, true, SYN, 1000, 0, 0, false);
	assert_int_equal(r.state, ST_NEW);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.inserted, 0);
	r = tcp(c, false, SYN | ACK, 7000, 1001, 0, true);
	assert_int_equal(r.state, ST_INV);
	r = tcp(c, true, SYN, 1000, 0, 0, true);
	assert_int_equal(r.state, ST_NEW);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.inserted, 1);
}

/* Segments beyond the receiver's window or acknowledging unsent data are invalid; the
 * connection is unharmed. */
static void test_tcp_window(void **state)
{
	struct ctx *c = *state;
	struct res r;

	handshake(c);
	r = tcp(c, true, PSH | ACK, c->cseq + 1000000, c->sseq, 10, true);
	assert_int_equal(r.state, ST_INV);
	r = tcp(c, true, ACK, c->cseq, c->sseq + 50000, 0, true);
	assert_int_equal(r.state, ST_INV);
	/* Old data already acknowledged: ignored, still established. */
	r = cseg(c, PSH | ACK, 100);
	r = sseg(c, ACK, 0);
	r = tcp(c, true, PSH | ACK, c->cseq - 100, c->sseq, 100, true);
	assert_int_equal(r.state, ST_EST);
	r = cseg(c, ACK, 0);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.tcp, TCP_CONNTRACK_ESTABLISHED);
}

/* tcp_error(): flag combinations no stack sends, and bad checksums. */
static void test_tcp_bad_flags(void **state)
{
	struct ctx *c = *state;
	static const uint8_t bad[] = {
		0,   SYN | FIN, SYN | RST,	FIN, FIN | SYN | RST | PSH | URG,
		PSH, URG,	SYN | FIN | ACK};
	struct frame f;
	uint8_t l4[64];

	for (unsigned i = 0; i < sizeof(bad); i++)
		assert_int_equal(tcp(c, true, bad[i], 1000, 0, 0, true).state, ST_INV);
	/* ECE/CWR/PSH never matter. */
	assert_int_equal(tcp(c, true, SYN | 0x40 | 0x80, 1000, 0, 0, false).state, ST_NEW);

	tcp_hdr(l4, 40000, 80, 1000, 0, SYN, 1000, 0);
	mk(&f, cli, srv, 6, l4, 20);
	f.b[14 + 20 + 16] ^= 0x55;
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	/* A data offset beyond the packet. */
	tcp_hdr(l4, 40000, 80, 1000, 0, SYN, 1000, 0);
	l4[12] = 6 << 4;
	mk(&f, cli, srv, 6, l4, 20);
	assert_int_equal(feed(c, &f, true).state, ST_INV);
}

/* RST: an exact one closes (CLOSE, 10 s), one before what the peer acknowledged is
 * invalid. */
static void test_tcp_rst(void **state)
{
	struct ctx *c = *state;
	struct res r;

	handshake(c);
	r = tcp(c, false, RST, c->sseq - 1000, 0, 0, true);
	assert_int_equal(r.state, ST_INV);
	r = tcp(c, false, RST, c->sseq, 0, 0, true);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_int_equal(r.tcp, TCP_CONNTRACK_CLOSE);
	assert_int_equal(r.expiration, 10000);
}

/* kernel: a RST answering a SYN (no reply seen) deletes the entry at once; the packet
 * still carries it (established, reply), and the next SYN is new. */
static void test_tcp_rst_to_syn(void **state)
{
	struct ctx *c = *state;
	struct flt_ct_stats st;
	struct res r;

	cseg(c, SYN, 0);
	r = tcp(c, false, RST | ACK, 0, c->cseq, 0, true);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_true(r.status & IPS_DYING);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.entries, 0);
	r = cseg(c, SYN, 0);
	assert_int_equal(r.state, ST_NEW);
}

/* tcp_loose=1: an ACK of a connection never seen opens it as ESTABLISHED (new), with
 * the 300 s unacknowledged timeout until the other side answers; assured after. */
static void test_tcp_loose(void **state)
{
	struct ctx *c = *state;
	struct res r;

	r = cseg(c, PSH | ACK, 50);
	assert_int_equal(r.state, ST_NEW);
	assert_int_equal(r.tcp, TCP_CONNTRACK_ESTABLISHED);
	r = cseg(c, ACK, 0);
	assert_int_equal(r.state, ST_NEW);
	assert_int_equal(r.expiration, 300000);
	r = sseg(c, ACK, 0);
	assert_int_equal(r.state, ST_EST);
	assert_false(r.status & IPS_ASSURED);
	r = cseg(c, ACK, 0);
	assert_int_equal(r.state, ST_EST);
	assert_true(r.status & IPS_ASSURED);
}

/* A SYN/ACK, a FIN or a RST cannot open anything. */

static void test_tcp_open_refused(void **state)
{
	struct ctx *c = *state;

	c->cseq = 1;
	assert_int_equal(tcp(c, true, FIN | ACK, 1, 1, 0, true).state, ST_INV);
	assert_int_equal(tcp(c, true, SYN | ACK, 9, 9, 0, true).state, ST_INV);
	assert_int_equal(tcp(c, true, RST, 9, 0, 0, true).state, ST_INV);
}

/* UDP: new, established reply (SEEN_REPLY), assured only once the flow is older than
 * 2 s, with the 120 s stream timeout. */
static void test_udp(void **state)
{
	struct ctx *c = *state;
	struct res r;

	r = udp(c, true, true);
	assert_int_equal(r.state, ST_NEW);
	r = udp(c, true, true);
	assert_int_equal(r.state, ST_NEW);
	assert_int_equal(r.expiration, 30000);
	c->now += SEC / 2;
	r = udp(c, false, true);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_int_equal(r.status, IPS_CONFIRMED | IPS_SEEN_REPLY);
	c->now += SEC;
	r = udp(c, true, true);
	assert_int_equal(r.status, IPS_CONFIRMED | IPS_SEEN_REPLY);
	assert_int_equal(r.expiration, 30000);
	c->now += SEC;
	r = udp(c, true, true);
	assert_int_equal(r.status, IPS_CONFIRMED | IPS_SEEN_REPLY | IPS_ASSURED);
	assert_int_equal(r.expiration, 120000);
}

static void test_udp_malformed(void **state)
{
	struct ctx *c = *state;
	struct frame f;
	uint8_t l4[64];
	uint32_t n = udp_hdr(l4, 5000, 53, 10);

	/* A zero checksum is no checksum. */
	mk(&f, cli, srv, 17, l4, n);
	f.b[14 + 20 + 6] = f.b[14 + 20 + 7] = 0;
	assert_int_equal(feed(c, &f, false).state, ST_NEW);
	mk(&f, cli, srv, 17, l4, n);
	f.b[14 + 20 + 7] ^= 1;
	assert_int_equal(feed(c, &f, false).state, ST_INV);
	put16(l4 + 4, 40); /* longer than the packet */
	mk(&f, cli, srv, 17, l4, n);
	assert_int_equal(feed(c, &f, false).state, ST_INV);
}

static void test_icmp_echo(void **state)
{
	struct ctx *c = *state;
	struct frame f;
	uint8_t l4[64];
	struct res r;

	/* A reply without a request. */
	mk(&f, srv, cli, 1, l4, icmp_hdr(l4, 0, 0, 77, 1));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	mk(&f, cli, srv, 1, l4, icmp_hdr(l4, 8, 0, 77, 1));
	r = feed(c, &f, true);
	assert_int_equal(r.state, ST_NEW);
	mk(&f, srv, cli, 1, l4, icmp_hdr(l4, 0, 0, 77, 1));
	r = feed(c, &f, true);
	assert_int_equal(r.state, ST_EST);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_int_equal(r.expiration, 30000);
	/* Another id is another flow. */
	mk(&f, srv, cli, 1, l4, icmp_hdr(l4, 0, 0, 78, 1));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	/* Router advertisement: no reply type, never tracked. */
	mk(&f, srv, cli, 1, l4, icmp_hdr(l4, 9, 0, 0, 0));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	/* Unknown type, bad checksum. */
	mk(&f, cli, srv, 1, l4, icmp_hdr(l4, 40, 0, 0, 0));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	mk(&f, cli, srv, 1, l4, icmp_hdr(l4, 8, 0, 79, 1));
	f.b[14 + 20 + 2] ^= 1;
	assert_int_equal(feed(c, &f, true).state, ST_INV);
}

/* kernel: the port unreachable answering a UDP datagram is related, reply direction;
 * with no such flow, or sent to another host, it is invalid. No entry is created. */
static void test_icmp_related_udp(void **state)
{
	struct ctx *c = *state;
	struct frame q, f;
	struct flt_ct_stats st;
	uint8_t l4[128], u[64];
	struct res r;

	mk(&q, cli, srv, 17, u, udp_hdr(u, 5000, 53, 10));
	mk(&f, srv, cli, 1, l4, icmp_err(l4, 3, 3, &q, 28));
	assert_int_equal(feed(c, &f, true).state, ST_INV);

	assert_int_equal(udp(c, true, true).state, ST_NEW);
	r = feed(c, &f, true);
	assert_int_equal(r.state, ST_REL);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	/* An error in the original direction (quoting the reply). */
	mk(&q, srv, cli, 17, u, udp_hdr(u, 53, 5000, 10));
	mk(&f, "10.0.0.254", srv, 1, l4, icmp_err(l4, 11, 0, &q, 28));
	r = feed(c, &f, true);
	assert_int_equal(r.state, ST_REL);
	assert_int_equal(r.dir, IP_CT_DIR_ORIGINAL);
	/* Same quote, sent to a third host: invalid. */
	mk(&f, "10.0.0.254", "10.0.0.9", 1, l4, icmp_err(l4, 11, 0, &q, 28));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	/* Quote too short for the ports. */
	mk(&q, cli, srv, 17, u, udp_hdr(u, 5000, 53, 10));
	mk(&f, srv, cli, 1, l4, icmp_err(l4, 3, 3, &q, 22));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.entries, 1);
}

/* kernel: an ICMPv6 packet-too-big from a router, quoting a TCP segment of a known
 * flow, is related (reply direction). */
static void test_icmp6_related_tcp(void **state)
{
	struct ctx *c = *state;
	struct frame q, f;
	uint8_t l4[1500], t[64];
	struct res r;

	handshake(c);
	mk(&q, cli, srv, 6, t, tcp_hdr(t, 40000, 80, c->cseq, c->sseq, ACK, 1000, 0));
	mk(&f, "2001:db8:ffff::1", cli, 58, l4, icmp_err(l4, 2, 0, &q, 60));
	r = feed(c, &f, true);
	assert_int_equal(r.state, ST_REL);
	assert_int_equal(r.dir, IP_CT_DIR_REPLY);
	assert_int_equal(r.tcp, TCP_CONNTRACK_ESTABLISHED);
	/* Quoting a flow nobody opened. */
	mk(&q, cli, srv, 6, t, tcp_hdr(t, 40001, 80, 1, 1, ACK, 1000, 0));
	mk(&f, "2001:db8:ffff::1", cli, 58, l4, icmp_err(l4, 2, 0, &q, 60));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
}

/* ICMPv6 neighbour discovery and MLD are untracked; echo works as for IPv4. */
static void test_icmp6_untracked_and_echo(void **state)
{
	struct ctx *c = *state;
	static const uint8_t untracked[] = {130, 131, 132, 133, 134, 135, 136, 143, 151, 152};
	struct flt_pkt pkt;
	struct flt_ct_pkt cp;
	struct frame f;
	uint8_t l4[64], reg[16];
	struct res r;

	for (unsigned i = 0; i < sizeof(untracked); i++) {
		mk(&f, "fe80::1", "ff02::1:ff00:2", 58, l4, icmp_hdr(l4, untracked[i], 0, 0, 0));
		r = feed(c, &f, true);
		assert_int_equal(r.state, ST_UNT);
		assert_int_equal(r.dir, -1);
	}
	mk(&f, "fe80::1", "ff02::1:ff00:2", 58, l4, icmp_hdr(l4, 135, 0, 0, 0));
	flt_pkt_parse(&pkt, f.b, f.n);
	flt_ct_in(c->t, &pkt, c->now, &cp);
	assert_false(flt_ct_get(&cp, NFT_CT_STATUS, -1, c->now, reg, sizeof(reg)));
	flt_ct_confirm(c->t, &cp, true);

	mk(&f, cli, srv, 58, l4, icmp_hdr(l4, 128, 0, 5, 1));
	assert_int_equal(feed(c, &f, true).state, ST_NEW);
	mk(&f, srv, cli, 58, l4, icmp_hdr(l4, 129, 0, 5, 1));
	assert_int_equal(feed(c, &f, true).state, ST_EST);
	mk(&f, srv, cli, 58, l4, icmp_hdr(l4, 129, 0, 6, 1));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
}

/* Entries vanish after their timeout; the next packet is new again. */
static void test_timeouts(void **state)
{
	struct ctx *c = *state;
	struct frame f;
	uint8_t l4[64];
	struct flt_ct_stats st;

	assert_int_equal(udp(c, true, true).state, ST_NEW);
	c->now += 29 * SEC;
	assert_int_equal(udp(c, false, true).state, ST_EST);
	c->now += 30 * SEC; /* exactly the timeout: expired */
	assert_int_equal(udp(c, false, true).state, ST_NEW);

	mk(&f, cli, srv, 99, l4, 8); /* a generic protocol: 600 s */
	assert_int_equal(feed(c, &f, true).state, ST_NEW);
	c->now += 599 * SEC;
	mk(&f, srv, cli, 99, l4, 8);
	assert_int_equal(feed(c, &f, true).state, ST_EST);
	c->now += 601 * SEC;
	flt_ct_gc(c->t, c->now, 1u << 20);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.entries, 0);
	assert_true(st.expired >= 2);
}

/* A full table evicts a non-assured entry for a new one and keeps assured ones; when
 * all are assured the new packet is dropped. */
static void test_table_full(void **state)
{
	struct ctx *c = *state;
	struct flt_ct_config cfg = {.max_entries = 4};
	struct flt_ct_stats st;
	struct frame f;
	uint8_t l4[64];

	flt_ct_table_free(c->t);
	assert_int_equal(flt_ct_table_new(&cfg, &c->t), 0);
	/* Two assured UDP flows (ports 1, 2), two unreplied (3, 4). */
	for (uint16_t p = 1; p <= 4; p++) {
		mk(&f, cli, srv, 17, l4, udp_hdr(l4, p, 53, 0));
		assert_int_equal(feed(c, &f, true).state, ST_NEW);
	}
	c->now += SEC;
	for (uint16_t p = 1; p <= 2; p++) {
		mk(&f, srv, cli, 17, l4, udp_hdr(l4, 53, p, 0));
		assert_int_equal(feed(c, &f, true).state, ST_EST);
	}
	c->now += 2 * SEC;
	for (uint16_t p = 1; p <= 2; p++) {
		mk(&f, cli, srv, 17, l4, udp_hdr(l4, p, 53, 0));
		assert_true(feed(c, &f, true).status & IPS_ASSURED);
	}
	mk(&f, cli, srv, 17, l4, udp_hdr(l4, 5, 53, 0));
	assert_int_equal(feed(c, &f, true).state, ST_NEW);
	flt_ct_get_stats(c->t, &st);
	assert_true(st.early_drops >= 1);
	assert_int_equal(st.entries, 4 - st.early_drops + 1);
	for (uint16_t p = 1; p <= 2; p++) {
		mk(&f, cli, srv, 17, l4, udp_hdr(l4, p, 53, 0));
		assert_int_equal(feed(c, &f, true).state, ST_EST);
	}

	/* Now make every entry assured and try once more. */
	flt_ct_table_free(c->t);
	cfg.max_entries = 2;
	assert_int_equal(flt_ct_table_new(&cfg, &c->t), 0);
	for (uint16_t p = 1; p <= 2; p++) {
		mk(&f, cli, srv, 17, l4, udp_hdr(l4, p, 53, 0));
		feed(c, &f, true);
		mk(&f, srv, cli, 17, l4, udp_hdr(l4, 53, p, 0));
		feed(c, &f, true);
	}
	c->now += 3 * SEC;
	for (uint16_t p = 1; p <= 2; p++) {
		mk(&f, cli, srv, 17, l4, udp_hdr(l4, p, 53, 0));
		assert_true(feed(c, &f, true).status & IPS_ASSURED);
	}
	mk(&f, cli, srv, 17, l4, udp_hdr(l4, 9, 53, 0));
	assert_true(feed(c, &f, true).drop);
	flt_ct_get_stats(c->t, &st);
	assert_int_equal(st.table_full_drops, 1);
	assert_int_equal(st.entries, 2);
}

/* The tuple keys, per direction, in the kernel's register layout. */
static void test_get_keys(void **state)
{
	struct ctx *c = *state;
	struct flt_pkt pkt;
	struct flt_ct_pkt cp;
	struct frame f;
	uint8_t l4[64], reg[16], a[16];

	cseg(c, SYN, 0);
	tcp_hdr(l4, 80, 40000, c->sseq, c->cseq, SYN | ACK, 1000, 0);
	mk(&f, srv, cli, 6, l4, 20);
	flt_pkt_parse(&pkt, f.b, f.n);
	flt_ct_in(c->t, &pkt, c->now, &cp);

	memset(reg, 0xee, sizeof(reg));
	assert_true(flt_ct_get(&cp, NFT_CT_SRC, IP_CT_DIR_ORIGINAL, c->now, reg, 16));
	inet_pton(AF_INET, cli, a);
	assert_memory_equal(reg, a, 4);
	assert_int_equal(reg[4], 0xee); /* the kernel writes 4 bytes for IPv4 */
	assert_true(flt_ct_get(&cp, NFT_CT_DST_IP, IP_CT_DIR_REPLY, c->now, reg, 16));
	assert_memory_equal(reg, a, 4);
	assert_false(flt_ct_get(&cp, NFT_CT_SRC_IP6, IP_CT_DIR_REPLY, c->now, reg, 16));
	assert_true(flt_ct_get(&cp, NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, c->now, reg, 16));
	assert_memory_equal(reg, "\x00\x50\x00\x00", 4);
	assert_true(flt_ct_get(&cp, NFT_CT_PROTO_SRC, IP_CT_DIR_REPLY, c->now, reg, 16));
	assert_memory_equal(reg, "\x00\x50\x00\x00", 4);
	assert_true(flt_ct_get(&cp, NFT_CT_PROTOCOL, -1, c->now, reg, 16));
	assert_memory_equal(reg, "\x06\x00\x00\x00", 4);
	assert_true(flt_ct_get(&cp, NFT_CT_L3PROTOCOL, IP_CT_DIR_REPLY, c->now, reg, 16));
	assert_memory_equal(reg, "\x02\x00\x00\x00", 4);
	assert_true(flt_ct_get(&cp, NFT_CT_MARK, -1, c->now, reg, 16));
	assert_memory_equal(reg, "\x00\x00\x00\x00", 4);
	assert_false(flt_ct_get(&cp, NFT_CT_SRC, IP_CT_DIR_ORIGINAL, c->now, reg, 4));
	flt_ct_confirm(c->t, &cp, true);

	assert_true(flt_ct_key_supported(NFT_CT_STATE, -1));
	assert_false(flt_ct_key_supported(NFT_CT_STATE, 0));
	assert_false(flt_ct_key_supported(NFT_CT_SRC, -1));
	assert_true(flt_ct_key_supported(NFT_CT_PROTOCOL, 1));
	assert_false(flt_ct_key_supported(NFT_CT_HELPER, -1));
	assert_false(flt_ct_key_supported(NFT_CT_BYTES, -1));
	assert_false(flt_ct_key_supported(NFT_CT_ZONE, -1));
	assert_false(flt_ct_key_supported(NFT_CT_LABELS, -1));
	assert_false(flt_ct_key_supported(NFT_CT_ID, -1));
}

/* Non-first fragments get no conntrack (the kernel would reassemble first). */
static void test_fragments(void **state)
{
	struct ctx *c = *state;
	struct frame f;
	uint8_t l4[64];

	mk(&f, cli, srv, 17, l4, udp_hdr(l4, 5000, 53, 10));
	f.b[14 + 6] = 0x00;
	f.b[14 + 7] = 0x10; /* offset 128 bytes */
	f.b[14 + 10] = f.b[14 + 11] = 0;
	put16(f.b + 14 + 10, csum_fold(csum_sum(0, f.b + 14, 20)));
	assert_int_equal(feed(c, &f, true).state, ST_INV);
	/* A first fragment: tracked, its partial checksum not checked. */
	mk(&f, cli, srv, 17, l4, udp_hdr(l4, 5000, 53, 10));
	f.b[14 + 6] = 0x20; /* MF */
	f.b[14 + 10] = f.b[14 + 11] = 0;
	put16(f.b + 14 + 10, csum_fold(csum_sum(0, f.b + 14, 20)));
	f.b[14 + 20 + 7] ^= 1;
	assert_int_equal(feed(c, &f, true).state, ST_NEW);
}

/* IPv6 flows behave as IPv4 ones. */
static void test_ipv6_tcp_udp(void **state)
{
	struct ctx *c = *state;
	struct res r;

	handshake(c);
	r = cseg(c, FIN | ACK, 0);
	assert_int_equal(r.tcp, TCP_CONNTRACK_FIN_WAIT);
	r = udp(c, true, true);
	assert_int_equal(r.state, ST_NEW);
	r = udp(c, false, true);
	assert_int_equal(r.state, ST_EST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tcp_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_bad_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_rst_to_syn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_loose, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_open_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_related_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp6_related_tcp, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_icmp6_untracked_and_echo, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_lifecycle, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_tcp_udp, setup6, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
