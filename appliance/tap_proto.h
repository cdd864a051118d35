/*
 * What `vifwall capture` and `vifwall trace` say to vifwalld and what comes back,
 * over the control protocol's streams (ctl_proto.h). Building, checking and
 * parsing only; no I/O. Both ends use it: the daemon checks requests against its
 * limits, the CLI reads the records (untrusted: they arrive over a vchan).
 *
 * capture {"port": "web1", "filter": "icmp", "count": 100, "snaplen": 65535}
 *   ("filter", "count" (0: no limit) and "snaplen" optional). The reply's result is
 *   {"port", "snaplen", "linktype": 1}; then raw chunks of whole capture records,
 *   JSON chunks {"dropped": N} whenever the count of lost records grows, and an END
 *   whose result is {"frames": N, "dropped": N}.
 *
 * Capture record (every integer in network byte order), back to back in a chunk:
 *
 *   offset size  field
 *   0      4     seconds   wall clock, since the epoch
 *   4      4     nanosec   < 1e9
 *   8      4     len       the frame's length on the wire
 *   12     4     caplen    bytes that follow: <= len, <= APP_CAPTURE_SNAPLEN_MAX
 *   16     1     dir       APP_CAPREC_RX or APP_CAPREC_TX
 *   17     3     zero
 *   20     caplen frame bytes
 *
 * trace {"count": N} ("count" optional). Chunks are JSON objects, one per dropped
 * frame: {"time_ns", "port", "out" (egress, rule drops), "reason" (a drop counter's
 * name), "len", "frame" (a one-line summary), "rule": {"chain", "handle", "file",
 * "line", "text"} (rule drops; "handle" 0 for a chain's policy)}, or
 * {"dropped": N} as for capture; END's result is {"drops": N, "dropped": N}.
 */
#ifndef VIFWALL_APPLIANCE_TAP_PROTO_H
#define VIFWALL_APPLIANCE_TAP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* What vifwalld grants a client, at most. */
#define APP_CAPTURE_SNAPLEN_MAX 65535u	    /* bytes kept of each frame */
#define APP_CAPTURE_COUNT_MAX	1000000000u /* -c N */
#define APP_CAPTURE_FILTER_MAX	4096u	    /* characters of a pcap-filter expression */
#define APP_CAPTURE_MAX		4u	    /* captures running at once */
#define APP_TRACE_MAX		4u	    /* traces running at once */

#define APP_CAPREC_HDR_LEN 20u
#define APP_CAPREC_RX	   1
#define APP_CAPREC_TX	   2

#define APP_IFNAMSIZ 16

struct app_capture_req {
	char port[APP_IFNAMSIZ];
	const char *filter; /* borrowed from the args; "" for every frame */
	uint32_t snaplen;   /* 1..APP_CAPTURE_SNAPLEN_MAX */
	uint64_t count;	    /* frames to capture; 0 without limit */
};

/*
 * Check a capture request's args. Fills @req (its filter points into @args) and
 * returns 0, or -EINVAL with @err saying what is wrong.
 */
int app_capture_req_parse(const json_t *args, struct app_capture_req *req, char *err,
			  size_t errlen);

/* The args of @req as JSON (a new reference), or NULL when out of memory. */
json_t *app_capture_req_build(const struct app_capture_req *req);

/* Check a trace request's args: @count as for capture. Returns 0 or -EINVAL + @err. */
int app_trace_req_parse(const json_t *args, uint64_t *count, char *err, size_t errlen);

/* One capture record; @data points into the buffer it was read from. */
struct app_caprec {
	uint32_t sec, nsec;
	uint32_t len, caplen;
	uint8_t dir;
	const uint8_t *data;
};

/*
 * Append @r (with its @caplen bytes at r->data) to @buf, which has @room bytes.
 * Returns the bytes written, or 0 when it does not fit.
 */
size_t app_caprec_put(uint8_t *buf, size_t room, const struct app_caprec *r);

/*
 * Read the record at *@off of @buf (@len bytes) and move *@off past it.
 * Returns 1 with *@r filled, 0 at the end of @buf, or -EBADMSG for a record that
 * is cut short or breaks a rule of the format (nothing is read past @len).
 */
int app_caprec_next(const uint8_t *buf, size_t len, size_t *off, struct app_caprec *r);

/*
 * Format one trace record (a JSON object as sent by vifwalld; anything missing or
 * mistyped shows as "?") as one line without newline into @buf (@n bytes, always
 * NUL-terminated). Returns @buf.
 */
char *app_trace_format(const json_t *rec, char *buf, size_t n);

#endif
