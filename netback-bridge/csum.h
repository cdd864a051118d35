/*
 * Completing checksums the sender left to hardware. A guest's TCP/UDP frames often
 * arrive with only the pseudo-header sum in place (checksum offload through veth or
 * xen-netback): the kernel would finish them in the NIC or in dev_queue_xmit, but a
 * frame we receive on a packet socket and send on another is never finished by
 * anyone, and its receiver drops it. The connection tracker also checks checksums,
 * so this runs before the rules.
 */
#ifndef VIFWALL_NB_CSUM_H
#define VIFWALL_NB_CSUM_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/packet.h"

/*
 * Compute and store the TCP or UDP checksum of @pkt, parsed from @frame (the same
 * bytes as pkt->frame, writable). Returns true when it was written; false when the
 * frame is not an unfragmented TCP or UDP packet whose transport header fits in the
 * packet (then nothing is changed: the rule engine sees it as it came).
 */
bool nb_csum_complete(const struct flt_pkt *pkt, uint8_t *frame);

/*
 * Put @pkt's TCP or UDP checksum field back in the partial form a GSO frame is sent
 * with: the folded pseudo-header sum (addresses, protocol, transport length), which
 * the segmenting device or kernel completes for every segment. Call it after the
 * rules (which need the full checksum). Returns the transport header's offset, or 0
 * when @pkt is not an unfragmented TCP or UDP packet (then nothing is changed).
 */
uint32_t nb_csum_to_partial(const struct flt_pkt *pkt, uint8_t *frame);

/* One's complement sum of @len bytes at @p added to @sum (not folded). */
uint64_t nb_csum_add(uint64_t sum, const uint8_t *p, uint32_t len);

/* Fold @sum to 16 bits, in network byte order as stored in a header, not inverted. */
uint16_t nb_csum_fold(uint64_t sum);

#endif
