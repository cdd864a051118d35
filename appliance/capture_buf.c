/*
 * A capture's filter and bounded buffer (capture_buf.h). The filter is libpcap's:
 * pcap_compile() on a dead DLT_EN10MB handle, run by pcap_offline_filter(), which
 * is pure BPF interpretation over the frame (no allocation, no syscall).
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/capture_buf.h"
#include "appliance/tap_proto.h"

struct app_capbuf {
	struct bpf_program prog;
	bool filtered;
	uint32_t snaplen;
	uint64_t count;
	struct app_capbuf_stats st;
	size_t len, size;
	uint8_t buf[];
};

int app_capbuf_new(const char *filter, uint32_t snaplen, uint64_t count, size_t bufsize,
		   struct app_capbuf **out, char *err, size_t errlen)
{
	struct app_capbuf *cb;
	pcap_t *dead;

	if (!snaplen || snaplen > APP_CAPTURE_SNAPLEN_MAX ||
	    bufsize < APP_CAPREC_HDR_LEN + snaplen) {
		snprintf(err, errlen, "snaplen %u or buffer %zu out of range", snaplen, bufsize);
		return -EINVAL;
	}
	cb = calloc(1, sizeof(*cb) + bufsize);
	if (!cb) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	cb->snaplen = snaplen;
	cb->count = count;
	cb->size = bufsize;
	if (filter && filter[0]) {
		dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
		if (!dead) {
			free(cb);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (pcap_compile(dead, &cb->prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "%s", pcap_geterr(dead));
			pcap_close(dead);
			free(cb);
			return -EINVAL;
		}
		pcap_close(dead);
		cb->filtered = true;
	}
	*out = cb;
	return 0;
}

void app_capbuf_free(struct app_capbuf *cb)
{
	if (!cb)
		return;
	if (cb->filtered)
		pcap_freecode(&cb->prog);
	free(cb);
}

bool app_capbuf_match(const struct app_capbuf *cb, const uint8_t *data, uint32_t len)
{
	struct pcap_pkthdr h = {.caplen = len, .len = len};

	if (cb->st.complete)
		return false;
	return !cb->filtered || pcap_offline_filter(&cb->prog, &h, data) != 0;
}

int app_capbuf_keep(struct app_capbuf *cb, const uint8_t *data, uint32_t len, uint8_t dir,
		    const struct timespec *ts)
{
	struct app_caprec r = {
		.sec = (uint32_t)ts->tv_sec,
		.nsec = (uint32_t)ts->tv_nsec,
		.len = len,
		.caplen = len < cb->snaplen ? len : cb->snaplen,
		.dir = dir,
		.data = data,
	};
	size_t n = app_caprec_put(cb->buf + cb->len, cb->size - cb->len, &r);

	if (!n) {
		cb->st.dropped++;
		return 0;
	}
	cb->len += n;
	cb->st.frames++;
	if (cb->count && cb->st.frames >= cb->count)
		cb->st.complete = true;
	return 1;
}

const uint8_t *app_capbuf_pending(const struct app_capbuf *cb, size_t *len)
{
	*len = cb->len;
	return cb->buf;
}

void app_capbuf_sent(struct app_capbuf *cb)
{
	cb->len = 0;
}

void app_capbuf_stats(const struct app_capbuf *cb, struct app_capbuf_stats *st)
{
	*st = cb->st;
}
