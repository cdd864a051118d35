/*
 * libFuzzer target for the packet parser (filters/packet.c): frames come from
 * guests, so any byte string must parse without reading outside the frame, and the
 * result must keep the promises packet.h makes. The input is copied to a buffer of
 * exactly its size, and the bytes at every offset the parser reports are read, so
 * ASan flags any offset that lies about the frame.
 * Seeds: tests/fuzz/corpus/packet/ (made with tests/fuzz/corpus/make_packet_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filters/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() rather than assert(): the check must hold in every build. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

/* Read every byte of [off, off + n): ASan reports any that is outside the copy. */
static uint8_t touch(const uint8_t *p, uint32_t off, uint32_t n)
{
	volatile uint8_t acc = 0;

	for (uint32_t i = 0; i < n; i++)
		acc ^= p[off + i];
	return acc;
}

static void check_ip(const struct flt_pkt *p)
{
	uint32_t end = flt_pkt_end(p);
	uint32_t min_hdr = p->nfproto == 2 ? 20 : 40;

	CHECK(p->nfproto == 2 || p->nfproto == 10);
	CHECK(p->proto == (p->nfproto == 2 ? 0x0800 : 0x86dd));
	CHECK(p->len >= min_hdr);
	CHECK(end <= p->frame_len);
	touch(p->frame, p->nh, p->len);
	CHECK((p->frame[p->nh] >> 4) == (p->nfproto == 2 ? 4 : 6));
	if (p->nfproto == 2)
		CHECK((uint32_t)((p->frame[p->nh] & 15) * 4) <= p->len);

	if (p->flags & FLT_PKT_F_L4) {
		CHECK(p->th >= p->nh + min_hdr);
		if (p->nfproto == 2) {
			CHECK(p->th <= end);
			CHECK(p->th == p->nh + (p->frame[p->nh] & 15u) * 4);
			CHECK(p->l4proto == p->frame[p->nh + 9]);
		} else {
			/* Only ipv6_find_hdr()'s overshoot: at most one extension header
			 * (2048 bytes) past the 2 bytes it read of it. */
			CHECK(p->th <= end + 2046);
		}
		if (p->th < end)
			touch(p->frame, p->th, end - p->th);
		if (flt_pkt_ptr(p, p->th, 1))
			CHECK(p->th < end);
	} else {
		/* The kernel sets a transport header for every valid IPv4 packet. */
		CHECK(p->nfproto == 10);
		CHECK(p->th == 0 && p->l4proto == 0);
	}
	if (p->fragoff)
		CHECK(p->flags & FLT_PKT_F_FRAG);
	if (p->nfproto == 10 && p->fragoff)
		CHECK((p->fragoff & 7) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *frame = malloc(size ? size : 1);
	struct flt_pkt p;
	enum flt_pkt_status st;

	if (!frame)
		return 0;
	memcpy(frame, data, size);
	st = flt_pkt_parse(&p, frame, (uint32_t)size);

	CHECK(st == p.status);
	CHECK(st < FLT_PKT_STATUS_COUNT);
	CHECK(p.frame == frame && p.frame_len == size);
	CHECK(strcmp(flt_pkt_status_name(st), "invalid") != 0);
	CHECK(p.vlan_depth <= FLT_PKT_MAX_VLAN);
	/* Only valid IP packets have a transport header, a protocol family, flags. */
	if (st != FLT_PKT_IP)
		CHECK(p.nfproto == 0 && p.flags == 0 && p.th == 0 && p.l4proto == 0 &&
		      p.fragoff == 0);

	switch (st) {
	case FLT_PKT_RUNT:
		CHECK(p.nh == 0 && p.len == 0);
		CHECK(size < 14u + 4u * FLT_PKT_MAX_VLAN);
		break;
	case FLT_PKT_L2:
		CHECK(p.nh == 14 + 4 * p.vlan_depth);
		CHECK((uint32_t)p.nh + p.len == p.frame_len);
		touch(frame, p.nh, p.len);
		touch(flt_pkt_eth_src(&p), 0, 6);
		break;
	case FLT_PKT_BAD_IP4:
	case FLT_PKT_BAD_IP6:
		CHECK(p.nh == 14 + 4 * p.vlan_depth && p.nh <= p.frame_len);
		CHECK(p.proto == (st == FLT_PKT_BAD_IP4 ? 0x0800 : 0x86dd));
		CHECK(p.len == 0);
		break;
	case FLT_PKT_IP:
		CHECK(p.nh == 14 + 4 * p.vlan_depth);
		touch(flt_pkt_eth_dst(&p), 0, 12);
		check_ip(&p);
		break;
	default:
		abort();
	}
	free(frame);
	return 0;
}
