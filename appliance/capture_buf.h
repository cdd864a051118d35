/*
 * One capture's frames on their way to its client: a pcap-filter program (compiled
 * by libpcap) picks frames, which are copied as capture records (tap_proto.h) into
 * a fixed buffer until the daemon's loop sends it. When the client lags and the
 * buffer is full, frames are dropped and counted, never waited for: the data plane
 * does not block on a capture.
 *
 * app_capbuf_offer() runs in the packet path: it never allocates, blocks or makes a
 * syscall. Not thread-safe; one capture belongs to the loop's thread.
 */
#ifndef VIFWALL_APPLIANCE_CAPTURE_BUF_H
#define VIFWALL_APPLIANCE_CAPTURE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct app_capbuf;

/*
 * Compile @filter ("" or NULL: every frame) for Ethernet frames, keep @snaplen bytes
 * of each, stop after @count frames (0: never), buffer @bufsize bytes (at least one
 * record of @snaplen). Returns 0 and *@out (app_capbuf_free()); -EINVAL when
 * libpcap refuses the expression or a size is out of range, with @err saying why
 * (libpcap's pcap_geterr() text for the expression); or -ENOMEM.
 */
int app_capbuf_new(const char *filter, uint32_t snaplen, uint64_t count, size_t bufsize,
		   struct app_capbuf **out, char *err, size_t errlen);

/* Free @cb; NULL is a no-op. */
void app_capbuf_free(struct app_capbuf *cb);

/* Does @cb want a frame of @len bytes at @data (filter passes, count not reached)? */
bool app_capbuf_match(const struct app_capbuf *cb, const uint8_t *data, uint32_t len);

/*
 * Keep a frame app_capbuf_match() accepted, stamped @ts, going in direction @dir
 * (APP_CAPREC_RX/TX). Returns 1 when kept, 0 when the buffer is full (the frame is
 * counted as dropped).
 */
int app_capbuf_keep(struct app_capbuf *cb, const uint8_t *data, uint32_t len, uint8_t dir,
		    const struct timespec *ts);

/* The records waiting to be sent: *@len bytes at the returned pointer. */
const uint8_t *app_capbuf_pending(const struct app_capbuf *cb, size_t *len);

/* The pending records went out: empty the buffer. */
void app_capbuf_sent(struct app_capbuf *cb);

struct app_capbuf_stats {
	uint64_t frames;  /* kept so far */
	uint64_t dropped; /* matched but lost because the buffer was full */
	bool complete;	  /* the count is reached: nothing more is kept */
};

void app_capbuf_stats(const struct app_capbuf *cb, struct app_capbuf_stats *st);

#endif
