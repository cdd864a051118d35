/*
 * libFuzzer target for the answers to rejected frames (netback-bridge/reject.c): the
 * frame comes from a guest, so whatever it holds the builder must read only inside it,
 * write only inside its buffer, and produce a frame that itself parses as IP, whose
 * IPv4 header checksum holds and which is no longer than the buffer.
 * Input: a frame; its last byte picks the reject type and code (so the packet
 * parser's seeds, copied into tests/fuzz/corpus/reject/, work as they are).
 */
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netback-bridge/csum.h"
#include "netback-bridge/reject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[] = {NFT_REJECT_ICMP_UNREACH, NFT_REJECT_TCP_RST,
					NFT_REJECT_ICMPX_UNREACH};
	struct flt_verdict v = {.code = FLT_REJECT};
	uint8_t out[NB_REJECT_MAX], *frame;
	struct flt_pkt pkt, rp;
	uint32_t len, cap;

	if (size < 1 || size > 65536)
		return 0;
	v.reject_type = types[data[size - 1] % 3];
	v.reject_icmp_code = (uint8_t)(data[size - 1] / 3 % 16);
	cap = data[size - 1] & 1 ? NB_REJECT_MAX : 64 + data[size - 1] % 64;
	/* An exact-size copy, so that ASan sees any read past the frame. */
	frame = malloc(size - 1 ? size - 1 : 1);
	if (!frame)
		return 0;
	memcpy(frame, data, size - 1);
	flt_pkt_parse(&pkt, frame, (uint32_t)(size - 1));
	len = nb_reject_build(&pkt, &v, out, cap);
	CHECK(len <= cap);
	if (len) {
		CHECK(flt_pkt_parse(&rp, out, len) == FLT_PKT_IP);
		if (rp.nfproto == 2)
			CHECK(nb_csum_fold(nb_csum_add(0, out + rp.nh, 20)) == 0xffff);
	}
	free(frame);
	return 0;
}
