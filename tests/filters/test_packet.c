/*
 * Unit tests of the packet parser (filters/packet.c). Frames are built in C by the
 * small fb_* helpers below (Ethernet, VLAN tags, IPv4 with a computed checksum,
 * IPv6 and its extension headers), one builder per case, and every case states
 * every field the parser sets. The expected values follow the kernel functions
 * named in packet.c (ip_rcv_core, ip6_rcv_core, ipv6_find_hdr...).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filters/packet.h"

#define ETH_IP4	   0x0800
#define ETH_IP6	   0x86dd
#define ETH_ARP	   0x0806
#define ETH_8021Q  0x8100
#define ETH_8021AD 0x88a8

#define P_HOP	  0
#define P_ICMP	  1
#define P_TCP	  6
#define P_UDP	  17
#define P_ROUTING 43
#define P_FRAG	  44
#define P_ESP	  50
#define P_AH	  51
#define P_ICMP6	  58
#define P_NONE	  59
#define P_DST	  60

#define F_L4   FLT_PKT_F_L4
#define F_FRAG FLT_PKT_F_FRAG

/* ---- frame builder ---- */

struct fb {
	uint8_t b[4096];
	uint32_t n;
};

static void fb_u8(struct fb *f, uint8_t v)
{
	f->b[f->n++] = v;
}

static void fb_u16(struct fb *f, uint16_t v)
{
	fb_u8(f, (uint8_t)(v >> 8));
	fb_u8(f, (uint8_t)v);
}

static void fb_zero(struct fb *f, uint32_t n)
{
	memset(f->b + f->n, 0, n);
	f->n += n;
}

static void fb_bytes(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

/* Destination then source MAC; the caller appends tags and the ethertype. */
static void fb_macs(struct fb *f)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};

	fb_bytes(f, macs, sizeof(macs));
}

static void fb_eth(struct fb *f, uint16_t type)
{
	fb_macs(f);
	fb_u16(f, type);
}

static void ip4_csum_fix(struct fb *f, uint32_t off)
{
	uint8_t *ip = f->b + off;
	uint32_t hlen = (ip[0] & 15u) * 4, sum = 0;

	ip[10] = ip[11] = 0;
	for (uint32_t i = 0; i < hlen; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
}

/* An IPv4 header with @optwords 4-byte words of options (NOPs) and tot_len covering
 * @payload more bytes; returns its offset. The payload itself is not appended. */
static uint32_t fb_ip4(struct fb *f, uint8_t proto, uint16_t payload, uint16_t frag,
		       unsigned optwords)
{
	uint32_t off = f->n, hlen = 20 + optwords * 4;

	fb_u8(f, (uint8_t)(0x40 | (hlen / 4)));
	fb_u8(f, 0);
	fb_u16(f, (uint16_t)(hlen + payload));
	fb_u16(f, 0x1234); /* id */
	fb_u16(f, frag);
	fb_u8(f, 64);
	fb_u8(f, proto);
	fb_u16(f, 0);
	fb_bytes(f, (const uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
	for (unsigned i = 0; i < optwords * 4; i++)
		fb_u8(f, 1); /* NOP */
	ip4_csum_fix(f, off);
	return off;
}

static const uint8_t addr_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t addr_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static uint32_t fb_ip6_addrs(struct fb *f, uint8_t next, uint16_t plen, const uint8_t *src,
			     const uint8_t *dst)
{
	uint32_t off = f->n;

	fb_bytes(f, (const uint8_t[]){0x60, 0, 0, 0}, 4);
	fb_u16(f, plen);
	fb_u8(f, next);
	fb_u8(f, 64);
	fb_bytes(f, src, 16);
	fb_bytes(f, dst, 16);
	return off;
}

static uint32_t fb_ip6(struct fb *f, uint8_t next, uint16_t plen)
{
	return fb_ip6_addrs(f, next, plen, addr_src, addr_dst);
}

/* An 8-byte hop-by-hop or destination options header holding one PadN. */
static void fb_opts8(struct fb *f, uint8_t next)
{
	fb_bytes(f, (const uint8_t[]){next, 0, 1, 4, 0, 0, 0, 0}, 8);
}

/* A hop-by-hop header holding the 6 option bytes @opt. */
static void fb_hbh(struct fb *f, uint8_t next, const uint8_t opt[6])
{
	fb_u8(f, next);
	fb_u8(f, 0);
	fb_bytes(f, opt, 6);
}

/* Destination options or routing header of (units + 1) * 8 bytes, zero-filled. */
static void fb_ext(struct fb *f, uint8_t next, uint8_t units)
{
	fb_u8(f, next);
	fb_u8(f, units);
	fb_zero(f, (units + 1u) * 8 - 2);
}

static void fb_frag6(struct fb *f, uint8_t next, uint16_t offset_bytes, int more)
{
	fb_u8(f, next);
	fb_u8(f, 0);
	fb_u16(f, (uint16_t)(offset_bytes | (more ? 1 : 0)));
	fb_bytes(f, (const uint8_t[]){0, 0, 0x12, 0x34}, 4);
}

/* AH with a 12-byte ICV: (4 + 2) * 4 = 24 bytes. */
static void fb_ah(struct fb *f, uint8_t next)
{
	fb_u8(f, next);
	fb_u8(f, 4);
	fb_zero(f, 22);
}

/* ---- the cases ---- */

struct want {
	uint8_t status;
	uint16_t proto, nh;
	uint32_t len, th;
	uint8_t l4proto;
	uint16_t fragoff;
	uint8_t flags, nfproto, vlan_depth;
};

struct pcase {
	const char *name;
	void (*build)(struct fb *f);
	struct want w;
};

static void b_ip4_tcp(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_TCP, 20, 0, 0);
	fb_zero(f, 20);
}

static void b_ip4_udp(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_UDP, 8 + 4, 0x4000 /* DF */, 0);
	fb_zero(f, 12);
}

/* 42-byte ICMP echo padded to the 60-byte Ethernet minimum. */
static void b_ip4_icmp_padded(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_ICMP, 8, 0, 0);
	fb_zero(f, 8);
	memset(f->b + f->n, 0xee, 18);
	f->n += 18;
}

static void b_ip4_options(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_UDP, 8, 0, 2);
	fb_zero(f, 8);
}

static void b_ip4_frag_first(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_UDP, 16, 0x2000 /* MF */, 0);
	fb_zero(f, 16);
}

static void b_ip4_frag_middle(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_UDP, 16, 0x2000 | 185, 0);
	fb_zero(f, 16);
}

static void b_ip4_frag_last(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_TCP, 16, 370, 0);
	fb_zero(f, 16);
}

static void b_ip4_bad_ihl(struct fb *f)
{
	uint32_t ip;

	fb_eth(f, ETH_IP4);
	ip = fb_ip4(f, P_TCP, 20, 0, 0);
	fb_zero(f, 20);
	f->b[ip] = 0x44;
	ip4_csum_fix(f, ip); /* sums 16 bytes only; ihl is refused before that */
}

static void b_ip4_bad_version(struct fb *f)
{
	uint32_t ip;

	fb_eth(f, ETH_IP4);
	ip = fb_ip4(f, P_TCP, 20, 0, 0);
	fb_zero(f, 20);
	f->b[ip] = 0x65;
	ip4_csum_fix(f, ip);
}

static void b_ip4_bad_csum(struct fb *f)
{
	uint32_t ip;

	fb_eth(f, ETH_IP4);
	ip = fb_ip4(f, P_TCP, 20, 0, 0);
	fb_zero(f, 20);
	f->b[ip + 11] ^= 1;
}

static void b_ip4_totlen_big(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_TCP, 21, 0, 0); /* one byte more than the frame holds */
	fb_zero(f, 20);
}

static void b_ip4_totlen_small(struct fb *f)
{
	uint32_t ip;

	fb_eth(f, ETH_IP4);
	ip = fb_ip4(f, P_TCP, 20, 0, 0);
	fb_zero(f, 20);
	f->b[ip + 3] = 19; /* tot_len 19 < ihl * 4 */
	ip4_csum_fix(f, ip);
}

static void b_ip4_short_hdr(struct fb *f)
{
	fb_eth(f, ETH_IP4);
	fb_ip4(f, P_TCP, 0, 0, 0);
	f->n--; /* 19 bytes of IPv4 header */
}

static void b_ip4_hdr_past_frame(struct fb *f)
{
	uint32_t ip;

	fb_eth(f, ETH_IP4);
	ip = fb_ip4(f, P_TCP, 0, 0, 0);
	f->b[ip] = 0x46; /* ihl 6: 24 bytes, the frame holds 20 */
}

static void b_ip6_tcp(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_TCP, 20);
	fb_zero(f, 20);
}

/* hop-by-hop (8) + destination options (16) + routing (24) + TCP. */
static void b_ip6_chain(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 8 + 16 + 24 + 20);
	fb_opts8(f, P_DST);
	fb_ext(f, P_ROUTING, 1);
	fb_ext(f, P_TCP, 2);
	fb_zero(f, 20);
}

static void b_ip6_frag_first(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_FRAG, 8 + 16);
	fb_frag6(f, P_UDP, 0, 1);
	fb_zero(f, 16);
}

static void b_ip6_frag_later(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_FRAG, 8 + 16);
	fb_frag6(f, P_UDP, 1448, 0);
	fb_zero(f, 16);
}

/* A later fragment whose fragment header names an extension header: error. */
static void b_ip6_frag_later_ext(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_FRAG, 8 + 16);
	fb_frag6(f, P_DST, 1448, 1);
	fb_zero(f, 16);
}

static void b_ip6_frag_later_none(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_FRAG, 8 + 8);
	fb_frag6(f, P_NONE, 8, 0);
	fb_zero(f, 8);
}

static void b_ip6_none(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_NONE, 0);
}

static void b_ip6_dst_none(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_DST, 8 + 4);
	fb_opts8(f, P_NONE);
	fb_zero(f, 4); /* ignored bytes after "no next header" */
}

static void b_ip6_ah_tcp(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_AH, 24 + 20);
	fb_ah(f, P_TCP);
	fb_zero(f, 20);
}

static void b_ip6_hbh_ah(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 8 + 24 + 8);
	fb_opts8(f, P_AH);
	fb_ah(f, P_UDP);
	fb_zero(f, 8);
}

static void b_ip6_esp(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_DST, 8 + 16);
	fb_opts8(f, P_ESP);
	fb_zero(f, 16);
}

/* Destination options header cut after its first byte. */
static void b_ip6_ext_cut(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_DST, 1);
	fb_u8(f, P_TCP);
}

/* Its length (2048 bytes) runs past the packet: the kernel reads only 2 bytes. */
static void b_ip6_ext_long(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_DST, 8);
	fb_u8(f, P_TCP);
	fb_u8(f, 255);
	fb_zero(f, 6);
}

/* A routing header needs 4 bytes (struct ipv6_rt_hdr) before the walk goes on. */
static void b_ip6_rt_cut(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_ROUTING, 3);
	fb_bytes(f, (const uint8_t[]){P_TCP, 0, 0}, 3);
}

static void b_ip6_frag_cut(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_FRAG, 3);
	fb_bytes(f, (const uint8_t[]){P_UDP, 0, 0}, 3);
}

static void b_ip6_empty_tcp(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_TCP, 0);
	fb_zero(f, 14); /* Ethernet padding only */
}

static void b_ip6_jumbo(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 0);
	fb_bytes(f, (const uint8_t[]){P_TCP, 0, 0xc2, 4, 0, 1, 0, 0}, 8);
	fb_zero(f, 20);
}

/* payload_len 0 + hop-by-hop without a jumbo option: the kernel does not trim, and
 * forwards the whole frame, padding included (seen on kernel 6.18). */
static void b_ip6_plen0_hbh(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 0);
	fb_opts8(f, P_UDP);
	fb_zero(f, 8 + 6);
}

static void b_ip6_plen_big(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_TCP, 21);
	fb_zero(f, 20);
}

static void b_ip6_bad_version(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_TCP, 20);
	fb_zero(f, 20);
	f->b[14] = 0x40;
}

static void b_ip6_short_hdr(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_TCP, 0);
	f->n--;
}

static void b_ip6_lo_dst(struct fb *f)
{
	static const uint8_t lo[16] = {[15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_UDP, 8, addr_src, lo);
	fb_zero(f, 8);
}

static void b_ip6_lo_src(struct fb *f)
{
	static const uint8_t lo[16] = {[15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_UDP, 8, lo, addr_dst);
	fb_zero(f, 8);
}

static void b_ip6_mc_src(struct fb *f)
{
	static const uint8_t mc[16] = {0xff, 0x02, [15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_UDP, 8, mc, addr_dst);
	fb_zero(f, 8);
}

static void b_ip6_mc_dst_if_local(struct fb *f)
{
	static const uint8_t mc[16] = {0xff, 0x01, [15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_UDP, 8, addr_src, mc);
	fb_zero(f, 8);
}

static void b_ip6_mc_dst_scope0(struct fb *f)
{
	static const uint8_t mc[16] = {0xff, 0x10, [15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_UDP, 8, addr_src, mc);
	fb_zero(f, 8);
}

static void b_ip6_mc_dst_link(struct fb *f)
{
	static const uint8_t mc[16] = {0xff, 0x02, [15] = 1};
	static const uint8_t ll[16] = {0xfe, 0x80, [15] = 1};

	fb_eth(f, ETH_IP6);
	fb_ip6_addrs(f, P_ICMP6, 8, ll, mc);
	fb_zero(f, 8);
}

/* A hop-by-hop header with the given 6 option bytes, then 8 bytes of UDP. */
#define HBH_CASE(fn, ...)                                                                          \
	static void fn(struct fb *f)                                                               \
	{                                                                                          \
		fb_eth(f, ETH_IP6);                                                                \
		fb_ip6(f, P_HOP, 16);                                                              \
		fb_hbh(f, P_UDP, (const uint8_t[6]){__VA_ARGS__});                                 \
		fb_zero(f, 8);                                                                     \
	}

HBH_CASE(b_hbh_ra_ok, 5, 2, 0, 0, 1, 0)			/* router alert, PadN(0) */
HBH_CASE(b_hbh_ra_bad, 5, 3, 0, 0, 0, 0)		/* router alert of length 3 */
HBH_CASE(b_hbh_unknown_skip, 0x1e, 4, 1, 2, 3, 4)	/* action 00: skip */
HBH_CASE(b_hbh_unknown_drop, 0x5e, 4, 1, 2, 3, 4)	/* action 01: drop */
HBH_CASE(b_hbh_unknown_icmp, 0x9e, 4, 1, 2, 3, 4)	/* action 10: drop + ICMP */
HBH_CASE(b_hbh_padn_dirty, 1, 4, 0, 0, 1, 0)		/* PadN must be zeros */
HBH_CASE(b_hbh_pad1_ok, 0, 0, 0, 0, 0, 0)		/* 6 x Pad1 */
HBH_CASE(b_hbh_opt_overrun, 0x1e, 5, 0, 0, 0, 0)	/* 7 bytes in 6 */
HBH_CASE(b_hbh_calipso, 7, 4, 0, 0, 0, 0)		/* too short, and no DOI */
HBH_CASE(b_hbh_ioam_misaligned, 0x31, 4, 0, 0, 0, 0)	/* at offset 42: not 4n */
HBH_CASE(b_hbh_jumbo_nonzero_plen, 0xc2, 4, 0, 1, 0, 0) /* jumbo with payload_len */

/* 8 padding bytes in a row (two PadN): more than 7 is refused. */
static void b_hbh_pad_too_long(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 16 + 8);
	fb_u8(f, P_UDP);
	fb_u8(f, 1);
	fb_bytes(f, (const uint8_t[]){1, 4, 0, 0, 0, 0, 1, 2, 0, 0, 0x1e, 2, 0, 0}, 14);
	fb_zero(f, 8);
}

/* IOAM at offset 44 (4n) is ignored, as ioam6_enabled is off by default. */
static void b_hbh_ioam_aligned(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 16 + 8);
	fb_u8(f, P_UDP);
	fb_u8(f, 1);
	fb_bytes(f, (const uint8_t[]){1, 0, 0x31, 4, 0, 0, 0, 0, 0x1e, 2, 0, 0, 0, 0}, 14);
	fb_zero(f, 8);
}

/* Nine skippable options: more than max_hbh_opts_number (8). */
static void b_hbh_too_many(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 24 + 8);
	fb_u8(f, P_UDP);
	fb_u8(f, 2);
	for (int i = 0; i < 9; i++)
		fb_bytes(f, (const uint8_t[]){0x1e, 0}, 2);
	fb_zero(f, 4); /* 4 x Pad1 */
	fb_zero(f, 8);
}

static void b_hbh_eight_opts(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 24 + 8);
	fb_u8(f, P_UDP);
	fb_u8(f, 2);
	for (int i = 0; i < 8; i++)
		fb_bytes(f, (const uint8_t[]){0x1e, 0}, 2);
	fb_bytes(f, (const uint8_t[]){1, 4, 0, 0, 0, 0}, 6);
	fb_zero(f, 8);
}

/* The hop-by-hop header (16 bytes) is longer than the payload (12). */
static void b_hbh_past_payload(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_HOP, 12);
	fb_u8(f, P_UDP);
	fb_u8(f, 1);
	fb_zero(f, 14);
}

/* A hop-by-hop header that is not first is not validated by ipv6_rcv. */
static void b_hbh_not_first(struct fb *f)
{
	fb_eth(f, ETH_IP6);
	fb_ip6(f, P_DST, 16 + 8);
	fb_opts8(f, P_HOP);
	fb_bytes(f, (const uint8_t[]){P_UDP, 0, 0x5e, 4, 1, 2, 3, 4}, 8);
	fb_zero(f, 8);
}

static void b_vlan_ip4(struct fb *f)
{
	fb_macs(f);
	fb_u16(f, ETH_8021Q);
	fb_u16(f, 100);
	fb_u16(f, ETH_IP4);
	fb_ip4(f, P_UDP, 8, 0, 0);
	fb_zero(f, 8);
}

static void b_qinq_ip6(struct fb *f)
{
	fb_macs(f);
	fb_u16(f, ETH_8021AD);
	fb_u16(f, 10);
	fb_u16(f, ETH_8021Q);
	fb_u16(f, 20);
	fb_u16(f, ETH_IP6);
	fb_ip6(f, P_TCP, 20);
	fb_zero(f, 20);
}

static void b_three_tags(struct fb *f)
{
	fb_macs(f);
	for (int i = 0; i < 3; i++) {
		fb_u16(f, ETH_8021Q);
		fb_u16(f, (uint16_t)(i + 1));
	}
	fb_u16(f, ETH_IP4);
	fb_ip4(f, P_UDP, 8, 0, 0);
	fb_zero(f, 8);
}

static void b_vlan_bad_ip4(struct fb *f)
{
	fb_macs(f);
	fb_u16(f, ETH_8021Q);
	fb_u16(f, 100);
	fb_u16(f, ETH_IP4);
	fb_zero(f, 20);
}

/* ARP request, padded to 60 bytes. */
static void b_arp(struct fb *f)
{
	fb_eth(f, ETH_ARP);
	fb_bytes(f, (const uint8_t[]){0, 1, 8, 0, 6, 4, 0, 1}, 8);
	fb_zero(f, 20);
	fb_zero(f, 18);
}

static void b_vlan_arp(struct fb *f)
{
	fb_macs(f);
	fb_u16(f, ETH_8021Q);
	fb_u16(f, 7);
	fb_u16(f, ETH_ARP);
	fb_zero(f, 28);
}

static void b_runt(struct fb *f)
{
	fb_macs(f);
	fb_u8(f, 0x08);
}

static void b_empty(struct fb *f)
{
	(void)f;
}

static void b_vlan_runt(struct fb *f)
{
	fb_macs(f);
	fb_u16(f, ETH_8021Q);
	fb_u16(f, 5);
	fb_u8(f, 0x08);
}

static void b_eth_only_ip4(struct fb *f)
{
	fb_eth(f, ETH_IP4);
}

#define IP4(pr, nh_, len_, th_, l4, fo, fl, vd)                                                    \
	{                                                                                          \
		FLT_PKT_IP, pr, nh_, len_, th_, l4, fo, fl, 2, vd                                  \
	}
#define IP6(nh_, len_, th_, l4, fo, fl, vd)                                                        \
	{                                                                                          \
		FLT_PKT_IP, ETH_IP6, nh_, len_, th_, l4, fo, fl, 10, vd                            \
	}
#define BAD(st, pr, nh_, vd)                                                                       \
	{                                                                                          \
		st, pr, nh_, 0, 0, 0, 0, 0, 0, vd                                                  \
	}
#define L2(pr, nh_, len_, vd)                                                                      \
	{                                                                                          \
		FLT_PKT_L2, pr, nh_, len_, 0, 0, 0, 0, 0, vd                                       \
	}

static const struct pcase cases[] = {
	{"ip4 tcp", b_ip4_tcp, IP4(ETH_IP4, 14, 40, 34, P_TCP, 0, F_L4, 0)},
	{"ip4 udp df", b_ip4_udp, IP4(ETH_IP4, 14, 32, 34, P_UDP, 0, F_L4, 0)},
	{"ip4 icmp, padding trimmed", b_ip4_icmp_padded,
	 IP4(ETH_IP4, 14, 28, 34, P_ICMP, 0, F_L4, 0)},
	{"ip4 options", b_ip4_options, IP4(ETH_IP4, 14, 36, 42, P_UDP, 0, F_L4, 0)},
	{"ip4 first fragment", b_ip4_frag_first,
	 IP4(ETH_IP4, 14, 36, 34, P_UDP, 0, F_L4 | F_FRAG, 0)},
	{"ip4 middle fragment", b_ip4_frag_middle,
	 IP4(ETH_IP4, 14, 36, 34, P_UDP, 185, F_L4 | F_FRAG, 0)},
	{"ip4 last fragment", b_ip4_frag_last,
	 IP4(ETH_IP4, 14, 36, 34, P_TCP, 370, F_L4 | F_FRAG, 0)},
	{"ip4 ihl 4", b_ip4_bad_ihl, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 version 6", b_ip4_bad_version, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 bad checksum", b_ip4_bad_csum, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 tot_len too big", b_ip4_totlen_big, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 tot_len too small", b_ip4_totlen_small, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 header cut", b_ip4_short_hdr, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ip4 ihl past frame", b_ip4_hdr_past_frame, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},
	{"ethernet header only", b_eth_only_ip4, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 14, 0)},

	{"ip6 tcp", b_ip6_tcp, IP6(14, 60, 54, P_TCP, 0, F_L4, 0)},
	{"ip6 hop+dst+rt chain", b_ip6_chain, IP6(14, 108, 102, P_TCP, 0, F_L4, 0)},
	{"ip6 first fragment", b_ip6_frag_first, IP6(14, 64, 62, P_UDP, 0, F_L4 | F_FRAG, 0)},
	{"ip6 later fragment", b_ip6_frag_later, IP6(14, 64, 62, P_UDP, 1448, F_L4 | F_FRAG, 0)},
	{"ip6 later fragment, ext next", b_ip6_frag_later_ext, IP6(14, 64, 0, 0, 0, F_FRAG, 0)},
	{"ip6 later fragment, none next", b_ip6_frag_later_none,
	 IP6(14, 56, 62, P_NONE, 8, F_L4 | F_FRAG, 0)},
	{"ip6 no next header", b_ip6_none, IP6(14, 40, 54, P_NONE, 0, F_L4, 0)},
	{"ip6 dstopts then none", b_ip6_dst_none, IP6(14, 52, 62, P_NONE, 0, F_L4, 0)},
	{"ip6 ah stops the walk", b_ip6_ah_tcp, IP6(14, 84, 54, P_AH, 0, F_L4, 0)},
	{"ip6 hop then ah", b_ip6_hbh_ah, IP6(14, 80, 62, P_AH, 0, F_L4, 0)},
	{"ip6 esp", b_ip6_esp, IP6(14, 64, 62, P_ESP, 0, F_L4, 0)},
	{"ip6 ext header cut", b_ip6_ext_cut, IP6(14, 41, 0, 0, 0, 0, 0)},
	{"ip6 ext header runs past end", b_ip6_ext_long, IP6(14, 48, 54 + 2048, P_TCP, 0, F_L4, 0)},
	{"ip6 routing header cut", b_ip6_rt_cut, IP6(14, 43, 0, 0, 0, 0, 0)},
	{"ip6 fragment header cut", b_ip6_frag_cut, IP6(14, 43, 0, 0, 0, F_FRAG, 0)},
	{"ip6 empty payload, padding trimmed", b_ip6_empty_tcp, IP6(14, 40, 54, P_TCP, 0, F_L4, 0)},
	{"ip6 jumbogram longer than frame", b_ip6_jumbo, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 payload_len 0, hbh, no jumbo", b_ip6_plen0_hbh, IP6(14, 62, 62, P_UDP, 0, F_L4, 0)},
	{"ip6 payload_len too big", b_ip6_plen_big, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 version 4", b_ip6_bad_version, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 header cut", b_ip6_short_hdr, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 loopback destination", b_ip6_lo_dst, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 loopback source", b_ip6_lo_src, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 multicast source", b_ip6_mc_src, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 ff01:: destination", b_ip6_mc_dst_if_local, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 ff10:: destination", b_ip6_mc_dst_scope0, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"ip6 ff02::1 destination", b_ip6_mc_dst_link, IP6(14, 48, 54, P_ICMP6, 0, F_L4, 0)},

	{"hbh router alert", b_hbh_ra_ok, IP6(14, 56, 62, P_UDP, 0, F_L4, 0)},
	{"hbh router alert bad length", b_hbh_ra_bad, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh unknown option, skip", b_hbh_unknown_skip, IP6(14, 56, 62, P_UDP, 0, F_L4, 0)},
	{"hbh unknown option, drop", b_hbh_unknown_drop, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh unknown option, icmp", b_hbh_unknown_icmp, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh padn not zero", b_hbh_padn_dirty, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh pad1 x6", b_hbh_pad1_ok, IP6(14, 56, 62, P_UDP, 0, F_L4, 0)},
	{"hbh 8 bytes of padding", b_hbh_pad_too_long, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh option overruns header", b_hbh_opt_overrun, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh calipso", b_hbh_calipso, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh ioam misaligned", b_hbh_ioam_misaligned, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh ioam aligned", b_hbh_ioam_aligned, IP6(14, 64, 70, P_UDP, 0, F_L4, 0)},
	{"hbh jumbo option", b_hbh_jumbo_nonzero_plen, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh 9 options", b_hbh_too_many, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh 8 options", b_hbh_eight_opts, IP6(14, 72, 78, P_UDP, 0, F_L4, 0)},
	{"hbh longer than payload", b_hbh_past_payload, BAD(FLT_PKT_BAD_IP6, ETH_IP6, 14, 0)},
	{"hbh not first is not checked", b_hbh_not_first, IP6(14, 64, 70, P_UDP, 0, F_L4, 0)},

	{"vlan ip4 udp", b_vlan_ip4, IP4(ETH_IP4, 18, 28, 38, P_UDP, 0, F_L4, 1)},
	{"qinq ip6 tcp", b_qinq_ip6, IP6(22, 60, 62, P_TCP, 0, F_L4, 2)},
	{"three vlan tags", b_three_tags, L2(ETH_8021Q, 22, 32, 2)},
	{"vlan bad ip4", b_vlan_bad_ip4, BAD(FLT_PKT_BAD_IP4, ETH_IP4, 18, 1)},
	{"arp", b_arp, L2(ETH_ARP, 14, 46, 0)},
	{"vlan arp", b_vlan_arp, L2(ETH_ARP, 18, 28, 1)},
	{"runt 13 bytes", b_runt, BAD(FLT_PKT_RUNT, 0, 0, 0)},
	{"empty frame", b_empty, BAD(FLT_PKT_RUNT, 0, 0, 0)},
	{"vlan tag cut", b_vlan_runt, BAD(FLT_PKT_RUNT, ETH_8021Q, 0, 0)},
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

#define CHECK(name, got, want, field)                                                              \
	do {                                                                                       \
		if ((uint64_t)(got)->field != (uint64_t)(want)->field)                             \
			fail_msg("%s: %s is %llu, want %llu", name, #field,                        \
				 (unsigned long long)(got)->field,                                 \
				 (unsigned long long)(want)->field);                               \
	} while (0)

static void check_pkt(const char *name, const struct flt_pkt *p, const struct want *w)
{
	CHECK(name, p, w, status);
	CHECK(name, p, w, proto);
	CHECK(name, p, w, nh);
	CHECK(name, p, w, len);
	CHECK(name, p, w, th);
	CHECK(name, p, w, l4proto);
	CHECK(name, p, w, fragoff);
	CHECK(name, p, w, flags);
	CHECK(name, p, w, nfproto);
	CHECK(name, p, w, vlan_depth);
}

/* Parse a copy of @f in a buffer of exactly @len bytes, so ASan sees any read past it. */
static enum flt_pkt_status parse_exact(struct flt_pkt *p, const struct fb *f, uint32_t len,
				       uint8_t **buf)
{
	*buf = malloc(len ? len : 1);
	assert_non_null(*buf);
	memcpy(*buf, f->b, len);
	return flt_pkt_parse(p, *buf, len);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_CASES; i++) {
		struct fb f = {.n = 0};
		struct flt_pkt p;
		uint8_t *buf;
		enum flt_pkt_status st;

		cases[i].build(&f);
		st = parse_exact(&p, &f, f.n, &buf);
		assert_int_equal(st, p.status);
		assert_ptr_equal(p.frame, buf);
		assert_int_equal(p.frame_len, f.n);
		check_pkt(cases[i].name, &p, &cases[i].w);
		free(buf);
	}
}

/* Offsets never point past the frame (except an IPv6 th, which may, as documented). */
static void check_bounds(const char *name, const struct flt_pkt *p)
{
	if (p->status == FLT_PKT_RUNT) {
		if (p->nh != 0 || p->len != 0 || p->flags != 0)
			fail_msg("%s: runt with offsets", name);
		return;
	}
	if (p->nh > p->frame_len || (uint64_t)p->nh + p->len > p->frame_len)
		fail_msg("%s: nh %u + len %u past frame_len %u", name, p->nh, p->len, p->frame_len);
	if (p->flags & FLT_PKT_F_L4) {
		assert_int_equal(p->status, FLT_PKT_IP);
		if (p->nfproto == 2 && p->th > flt_pkt_end(p))
			fail_msg("%s: ip4 th %u past end %u", name, p->th, flt_pkt_end(p));
		if (p->th < p->nh + (p->nfproto == 2 ? 20u : 40u))
			fail_msg("%s: th %u inside the IP header", name, p->th);
	}
}

/* Every valid case cut at every length: status follows from where the cut falls. */
static void test_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_CASES; i++) {
		const struct want *w = &cases[i].w;
		struct fb f = {.n = 0};

		/* That one's len is the frame's length, not a header field's. */
		if ((w->status != FLT_PKT_IP && w->status != FLT_PKT_L2) ||
		    cases[i].build == b_ip6_plen0_hbh)
			continue;
		cases[i].build(&f);
		for (uint32_t len = 0; len <= f.n; len++) {
			struct flt_pkt p;
			uint8_t *buf;
			enum flt_pkt_status want;

			parse_exact(&p, &f, len, &buf);
			if (len < w->nh)
				want = FLT_PKT_RUNT;
			else if (w->status == FLT_PKT_L2 || len >= w->nh + w->len)
				want = w->status;
			else
				want = w->nfproto == 2 ? FLT_PKT_BAD_IP4 : FLT_PKT_BAD_IP6;
			if (p.status != want)
				fail_msg("%s cut at %u: status %s, want %s", cases[i].name, len,
					 flt_pkt_status_name(p.status), flt_pkt_status_name(want));
			check_bounds(cases[i].name, &p);
			if (want == w->status && w->status == FLT_PKT_IP) {
				/* Only padding was cut: the same packet. */
				check_pkt(cases[i].name, &p, w);
			} else if (want == FLT_PKT_L2) {
				assert_int_equal(p.len, len - w->nh);
				assert_int_equal(p.nh, w->nh);
			}
			free(buf);
		}
	}
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(flt_pkt_status_name(FLT_PKT_IP), "ip");
	assert_string_equal(flt_pkt_status_name(FLT_PKT_L2), "l2");
	assert_string_equal(flt_pkt_status_name(FLT_PKT_RUNT), "runt");
	assert_string_equal(flt_pkt_status_name(FLT_PKT_BAD_IP4), "bad-ip4");
	assert_string_equal(flt_pkt_status_name(FLT_PKT_BAD_IP6), "bad-ip6");
	assert_string_equal(flt_pkt_status_name(FLT_PKT_STATUS_COUNT), "invalid");
	assert_string_equal(flt_pkt_status_name((enum flt_pkt_status) - 1), "invalid");
}

static void test_accessors(void **state)
{
	struct fb f = {.n = 0};
	struct flt_pkt p;

	(void)state;
	b_ip4_icmp_padded(&f); /* 60-byte frame, 28-byte IP packet at 14 */
	assert_int_equal(flt_pkt_parse(&p, f.b, f.n), FLT_PKT_IP);
	assert_memory_equal(flt_pkt_eth_dst(&p), ((const uint8_t[]){2, 0, 0, 0, 0, 2}), 6);
	assert_memory_equal(flt_pkt_eth_src(&p), ((const uint8_t[]){2, 0, 0, 0, 0, 1}), 6);
	assert_ptr_equal(flt_pkt_l3(&p), f.b + 14);
	assert_int_equal(flt_pkt_end(&p), 42);
	assert_ptr_equal(flt_pkt_ptr(&p, 34, 8), f.b + 34);
	assert_ptr_equal(flt_pkt_ptr(&p, 42, 0), f.b + 42);
	assert_null(flt_pkt_ptr(&p, 34, 9)); /* the padding is not the packet's */
	assert_null(flt_pkt_ptr(&p, 43, 0));
	assert_null(flt_pkt_ptr(&p, 40, UINT32_MAX)); /* no wrap-around */

	f.n = 0;
	b_arp(&f);
	assert_int_equal(flt_pkt_parse(&p, f.b, f.n), FLT_PKT_L2);
	assert_int_equal(flt_pkt_end(&p), 60);
	assert_ptr_equal(flt_pkt_ptr(&p, 14, 28), f.b + 14);
	assert_int_equal(flt_pkt_l3(&p)[7], 1); /* ARP opcode 1: request */
}

/* A struct reused across frames keeps nothing from the previous one. */
static void test_reuse(void **state)
{
	struct fb a = {.n = 0}, b = {.n = 0};
	struct flt_pkt p;

	(void)state;
	b_ip6_frag_later(&a);
	b_runt(&b);
	assert_int_equal(flt_pkt_parse(&p, a.b, a.n), FLT_PKT_IP);
	assert_int_equal(flt_pkt_parse(&p, b.b, b.n), FLT_PKT_RUNT);
	check_pkt("reuse", &p, &(const struct want)BAD(FLT_PKT_RUNT, 0, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),	     cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_status_names), cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
