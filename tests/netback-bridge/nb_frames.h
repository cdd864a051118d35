/*
 * Frame builders for the netback-bridge unit tests: Ethernet frames carrying IPv4,
 * IPv6, ARP, ICMPv6 neighbour advertisements, TCP and UDP, with the lengths and the
 * IPv4 header checksum right so flt_pkt_parse accepts them. Transport checksums are
 * left at zero.
 */
#ifndef VIFWALL_TESTS_NB_FRAMES_H
#define VIFWALL_TESTS_NB_FRAMES_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "filters/packet.h"
#include "netback-bridge/csum.h"

struct tf {
	uint8_t b[2048];
	uint32_t len;
};

static inline void tf_bytes(struct tf *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void tf_u8(struct tf *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static inline void tf_u16(struct tf *f, uint16_t v)
{
	tf_u8(f, (uint8_t)(v >> 8));
	tf_u8(f, (uint8_t)v);
}

static inline void tf_eth(struct tf *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	f->len = 0;
	tf_bytes(f, dst, 6);
	tf_bytes(f, src, 6);
	tf_u16(f, type);
}

/* IPv4 header at the current end, for @payload bytes of @proto that follow. */
static inline void tf_ip4(struct tf *f, const char *src, const char *dst, uint8_t proto,
			  uint16_t payload)
{
	uint32_t off = f->len, sum = 0;
	struct in_addr a;

	tf_u8(f, 0x45);
	tf_u8(f, 0);
	tf_u16(f, (uint16_t)(20 + payload));
	tf_u16(f, 1);
	tf_u16(f, 0x4000); /* DF */
	tf_u8(f, 64);
	tf_u8(f, proto);
	tf_u16(f, 0);
	inet_pton(AF_INET, src, &a);
	tf_bytes(f, &a, 4);
	inet_pton(AF_INET, dst, &a);
	tf_bytes(f, &a, 4);
	for (unsigned i = 0; i < 20; i += 2)
		sum += (uint32_t)f->b[off + i] << 8 | f->b[off + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	f->b[off + 10] = (uint8_t)(~sum >> 8);
	f->b[off + 11] = (uint8_t)~sum;
}

static inline void tf_ip6(struct tf *f, const char *src, const char *dst, uint8_t next,
			  uint16_t payload)
{
	struct in6_addr a;

	tf_u8(f, 0x60);
	tf_u8(f, 0);
	tf_u16(f, 0);
	tf_u16(f, payload);
	tf_u8(f, next);
	tf_u8(f, 255);
	inet_pton(AF_INET6, src, &a);
	tf_bytes(f, &a, 16);
	inet_pton(AF_INET6, dst, &a);
	tf_bytes(f, &a, 16);
}

/* UDP header and @n payload bytes (0x5a). */
static inline void tf_udp(struct tf *f, uint16_t sport, uint16_t dport, uint16_t n)
{
	tf_u16(f, sport);
	tf_u16(f, dport);
	tf_u16(f, (uint16_t)(8 + n));
	tf_u16(f, 0);
	memset(f->b + f->len, 0x5a, n);
	f->len += n;
}

/* TCP header (20 bytes, SYN) and @n payload bytes (0xa5). */
static inline void tf_tcp(struct tf *f, uint16_t sport, uint16_t dport, uint16_t n)
{
	tf_u16(f, sport);
	tf_u16(f, dport);
	tf_u16(f, 0x1234);
	tf_u16(f, 0x5678);
	tf_u16(f, 0);
	tf_u16(f, 0);
	tf_u16(f, 0x5002);
	tf_u16(f, 65535);
	tf_u16(f, 0);
	tf_u16(f, 0);
	memset(f->b + f->len, 0xa5, n);
	f->len += n;
}

static inline void tf_icmp_echo(struct tf *f)
{
	tf_u8(f, 8);
	tf_u8(f, 0);
	tf_u16(f, 0);
	tf_u16(f, 1);
	tf_u16(f, 1);
}

/* ARP over Ethernet/IPv4: operation @op, sender @sha/@spa, target @tpa. */
static inline void tf_arp(struct tf *f, uint16_t op, const uint8_t *sha, const char *spa,
			  const char *tpa)
{
	static const uint8_t zero[6];
	struct in_addr a;

	tf_u16(f, 1);
	tf_u16(f, 0x0800);
	tf_u8(f, 6);
	tf_u8(f, 4);
	tf_u16(f, op);
	tf_bytes(f, sha, 6);
	inet_pton(AF_INET, spa, &a);
	tf_bytes(f, &a, 4);
	tf_bytes(f, zero, 6);
	inet_pton(AF_INET, tpa, &a);
	tf_bytes(f, &a, 4);
}

/* ICMPv6 neighbour advertisement (or solicitation, type 135) for @target; with a
 * link-layer address option of type @opt_type (0: none) holding @lla, whose length
 * field is @opt_units (normally 1). */
static inline void tf_nd(struct tf *f, uint8_t type, const char *target, uint8_t opt_type,
			 const uint8_t *lla, uint8_t opt_units)
{
	struct in6_addr a;

	tf_u8(f, type);
	tf_u8(f, 0);
	tf_u16(f, 0);
	tf_u8(f, 0x60);
	tf_u8(f, 0);
	tf_u16(f, 0);
	inet_pton(AF_INET6, target, &a);
	tf_bytes(f, &a, 16);
	if (opt_type) {
		tf_u8(f, opt_type);
		tf_u8(f, opt_units);
		tf_bytes(f, lla, 6);
	}
}

/* Parse @f into @pkt and complete its TCP/UDP checksum (the builders leave it zero)
 * or its ICMP one. Returns what flt_pkt_parse returned. */
static inline int tf_finish(struct tf *f, struct flt_pkt *pkt)
{
	int rc = flt_pkt_parse(pkt, f->b, f->len);

	if (rc != FLT_PKT_IP)
		return rc;
	if (pkt->l4proto == IPPROTO_ICMP) {
		uint32_t n = flt_pkt_end(pkt) - pkt->th;
		uint16_t c = (uint16_t)~nb_csum_fold(nb_csum_add(0, f->b + pkt->th, n));

		f->b[pkt->th + 2] = (uint8_t)(c >> 8);
		f->b[pkt->th + 3] = (uint8_t)c;
	} else {
		nb_csum_complete(pkt, f->b);
	}
	return rc;
}

#endif
