/*
 * The Internet checksum (RFC 1071) over TCP and UDP with their IPv4 / IPv6
 * pseudo-headers. Summed in 16-bit big-endian words into a 64-bit accumulator, which
 * cannot overflow for any frame (at most 32768 words of 0xffff), folded once at the
 * end. Plain C: a frame needs it only when its sender offloaded the checksum.
 */
#include <string.h>

#include "netback-bridge/csum.h"

#define ETH_P_IP4    0x0800
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

uint64_t nb_csum_add(uint64_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t nb_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Where the checksum field of @pkt's transport header is, and the sum of its
 * pseudo-header; false when @pkt is not an unfragmented TCP or UDP packet. */
static bool l4_pseudo(const struct flt_pkt *pkt, const uint8_t *frame, uint32_t *field,
		      uint32_t *l4len, uint64_t *sum)
{
	uint32_t end = flt_pkt_end(pkt);
	uint8_t tail[4];

	if (pkt->status != FLT_PKT_IP || !(pkt->flags & FLT_PKT_F_L4) ||
	    (pkt->flags & FLT_PKT_F_FRAG) || pkt->th >= end)
		return false;
	if (pkt->l4proto == IPPROTO_TCP_)
		*field = 16;
	else if (pkt->l4proto == IPPROTO_UDP_)
		*field = 6;
	else
		return false;
	*l4len = end - pkt->th;
	if (*l4len < *field + 2)
		return false;
	if (pkt->proto == ETH_P_IP4)
		*sum = nb_csum_add(0, frame + pkt->nh + 12, 8);
	else
		*sum = nb_csum_add(0, frame + pkt->nh + 8, 32);
	tail[0] = 0;
	tail[1] = pkt->l4proto;
	tail[2] = (uint8_t)(*l4len >> 8);
	tail[3] = (uint8_t)*l4len;
	*sum += *l4len >> 16; /* IPv6 jumbograms aside, 0 */
	*sum = nb_csum_add(*sum, tail, 4);
	return true;
}

bool nb_csum_complete(const struct flt_pkt *pkt, uint8_t *frame)
{
	uint32_t field, l4len;
	uint64_t sum;
	uint16_t c;

	if (!l4_pseudo(pkt, frame, &field, &l4len, &sum))
		return false;
	memset(frame + pkt->th + field, 0, 2);
	sum = nb_csum_add(sum, frame + pkt->th, l4len);
	c = (uint16_t)~nb_csum_fold(sum);
	if (c == 0 && pkt->l4proto == IPPROTO_UDP_)
		c = 0xffff; /* 0 means "no checksum" in UDP */
	frame[pkt->th + field] = (uint8_t)(c >> 8);
	frame[pkt->th + field + 1] = (uint8_t)c;
	return true;
}

uint32_t nb_csum_to_partial(const struct flt_pkt *pkt, uint8_t *frame)
{
	uint32_t field, l4len;
	uint64_t sum;
	uint16_t c;

	if (!l4_pseudo(pkt, frame, &field, &l4len, &sum))
		return 0;
	c = nb_csum_fold(sum);
	frame[pkt->th + field] = (uint8_t)(c >> 8);
	frame[pkt->th + field + 1] = (uint8_t)c;
	return pkt->th;
}
