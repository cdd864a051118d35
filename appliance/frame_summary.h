/*
 * One line saying what a frame is, in the spirit of tcpdump's brief output:
 * "IP 10.0.0.11 > 10.0.0.1: ICMP echo request, id 7, seq 1, length 84". Used by
 * `vifwall capture` without -w and by vifwalld for `vifwall trace`. Reads only the
 * first @caplen bytes (a capture's snapshot may be short of the frame) and says
 * "[|truncated]" where a header is cut; never reads past them.
 */
#ifndef VIFWALL_APPLIANCE_FRAME_SUMMARY_H
#define VIFWALL_APPLIANCE_FRAME_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

/* Describe the frame of @len bytes whose first @caplen are at @data, into @buf (@n
 * bytes, always NUL-terminated unless @n is 0). Returns @buf. */
char *app_frame_summary(const uint8_t *data, uint32_t caplen, uint32_t len, char *buf, size_t n);

#endif
