/*
 * libFuzzer target for what dom0's CLI reads from the appliance during `vifwall
 * capture` and `vifwall trace` (appliance/tap_proto.c, appliance/frame_summary.c),
 * and for the daemon's check of capture and trace requests: over a vchan these
 * bytes come from another domain, so none may crash, overread or hang.
 *
 * Input: byte 0 picks what the rest is:
 *   0: a raw stream chunk of capture records (each record's frame summarised);
 *   1: a JSON text, formatted as a trace record and checked as capture and trace args;
 *   2: one frame, summarised with a caplen taken from byte 1.
 * Seeds: tests/fuzz/corpus/capture/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/frame_summary.h"
#include "appliance/tap_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static void records(const uint8_t *p, size_t n)
{
	struct app_caprec r;
	char line[256];
	size_t off = 0, last = 0;
	int rc;

	while ((rc = app_caprec_next(p, n, &off, &r)) == 1) {
		CHECK(off > last && off <= n);
		CHECK(r.caplen <= r.len && r.data + r.caplen == p + off);
		app_frame_summary(r.data, r.caplen, r.len, line, sizeof(line));
		CHECK(strlen(line) < sizeof(line));
		last = off;
	}
	CHECK(rc == 0 || rc == -EBADMSG);
	CHECK(rc != 0 || off == n);
}

static void json_text(const uint8_t *p, size_t n)
{
	struct app_capture_req req;
	uint64_t count;
	char line[512], err[256];
	json_t *j = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);

	if (!j)
		return;
	app_trace_format(j, line, sizeof(line));
	CHECK(strlen(line) < sizeof(line));
	if (app_capture_req_parse(j, &req, err, sizeof(err)) == 0) {
		CHECK(req.port[0] && strlen(req.port) < sizeof(req.port));
		CHECK(req.snaplen >= 1 && req.snaplen <= APP_CAPTURE_SNAPLEN_MAX);
		CHECK(req.count <= APP_CAPTURE_COUNT_MAX);
		CHECK(strlen(req.filter) <= APP_CAPTURE_FILTER_MAX);
	}
	if (app_trace_req_parse(j, &count, err, sizeof(err)) == 0)
		CHECK(count <= APP_CAPTURE_COUNT_MAX);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[256];
	uint8_t *copy;

	if (size < 2)
		return 0;
	/* A copy of exactly the bytes given, so ASan sees any read past them. */
	copy = malloc(size - 2 ? size - 2 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 2, size - 2);
	switch (data[0] % 3) {
	case 0:
		records(copy, size - 2);
		break;
	case 1:
		json_text(copy, size - 2);
		break;
	case 2: {
		uint32_t caplen = (uint32_t)(size - 2) < data[1] ? (uint32_t)(size - 2) : data[1];

		app_frame_summary(copy, caplen, (uint32_t)(size - 2) + data[1], line, sizeof(line));
		CHECK(strlen(line) < sizeof(line));
		break;
	}
	}
	free(copy);
	return 0;
}
