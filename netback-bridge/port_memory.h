/*
 * A port backend in memory: frames are handed to it by the caller instead of a
 * device, and what the bridge transmits is kept for the caller to look at. For unit
 * tests and the frame-path fuzzer, which drive the real bridge (switch, anti-spoofing,
 * rules, conntrack, reject) with no network namespace and no syscalls on the burst path.
 *
 * Its poll descriptor is -1 (poll() skips it): drive it with nb_bridge_run_once(br,
 * NULL, 0, 0), which tries every port each turn whether readable or not.
 */
#ifndef VIFWALL_NB_PORT_MEMORY_H
#define VIFWALL_NB_PORT_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "netback-bridge/port.h"

#define NB_MEM_QUEUE   64	   /* frames waiting to be received, at most */
#define NB_MEM_MAX_LEN (64u << 10) /* bytes per frame, at most (a GSO frame) */
#define NB_MEM_KEEP    256	   /* transmitted frames kept for inspection */

extern const struct nb_port_ops nb_port_memory_ops;

/* Queue a frame of @len bytes (copied) for the port's next rx_burst, with the
 * NB_FRAME_* @flags and, for NB_FRAME_GSO, @gso_size/@gso_type. Returns 0, -ENOSPC
 * when the queue is full, -EMSGSIZE for len 0 or above NB_MEM_MAX_LEN. */
int nb_port_memory_push(struct nb_port *p, const void *data, size_t len, uint32_t flags,
			uint16_t gso_size, uint8_t gso_type);

/* What the bridge sent out of this port. */
struct nb_port_memory_tx {
	uint64_t frames, bytes;
	/* Frame number i (from 0) is in last[i % NB_MEM_KEEP] until NB_MEM_KEEP later
	 * ones overwrite it; kept = min(frames, NB_MEM_KEEP). */
	unsigned kept;
	struct {
		uint32_t len, flags;
		uint8_t data[128]; /* the first 128 bytes */
	} last[NB_MEM_KEEP];
};
const struct nb_port_memory_tx *nb_port_memory_sent(const struct nb_port *p);

/* Forget what was sent. */
void nb_port_memory_clear(struct nb_port *p);

#endif
