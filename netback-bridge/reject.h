/*
 * The answer to a frame the rules rejected (`reject`, `reject with icmp/icmpv6/icmpx
 * ...`, `reject with tcp reset`): built here as a whole Ethernet frame that goes back
 * out of the port the frame came in on, as the kernel's nf_send_unreach(6) and
 * nf_send_reset(6) answer at an inet forward hook. Like them it stays silent for a
 * frame whose checksum is wrong, a TCP reset, an ICMP(v6)
 * error, and anything sent to a broadcast or multicast address; and for fragments
 * (the kernel answers the reassembled packet; vifwall does not reassemble).
 */
#ifndef VIFWALL_NB_REJECT_H
#define VIFWALL_NB_REJECT_H

#include <stdint.h>

#include "filters/packet.h"
#include "filters/ruleset.h"

/* Room for any answer: Ethernet + 2 VLAN tags + IPv6 + ICMPv6 with 1232 bytes quoted. */
#define NB_REJECT_MAX 1294

/*
 * Build into @out (@cap bytes) the answer to @pkt (a parsed IP frame) for verdict @v
 * (code FLT_REJECT). Returns its length, or 0 when no answer is due or it does not
 * fit. Reads only inside the frame; never allocates.
 */
uint32_t nb_reject_build(const struct flt_pkt *pkt, const struct flt_verdict *v, uint8_t *out,
			 uint32_t cap);

#endif
