/*
 * Tests of what `vifwall capture` and `vifwall trace` build on: the requests and
 * their limits, the capture record format (a reader that trusts no length), the
 * capture buffer (libpcap's filter, bounded and lossy, the count), the one-line
 * frame summary and the trace line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "appliance/capture_buf.h"
#include "appliance/frame_summary.h"
#include "appliance/tap_proto.h"

/* Ethernet + IPv4 + ICMP echo request 10.0.0.11 -> 10.0.0.1, id 7 seq 1, 8 data bytes. */
static const uint8_t icmp_echo[] = {
	0x02, 0, 0, 0,	0, 0x01, 0x02, 0, 0,  0, 0, 0x11, 0x08, 0x00,			  /* eth */
	0x45, 0, 0, 36, 0, 1,	 0,    0, 64, 1, 0, 0,	  10,	0,    0, 11, 10, 0, 0, 1, /* ip */
	8,    0, 0, 0,	0, 7,	 0,    1,						  /* icmp */
	1,    2, 3, 4,	5, 6,	 7,    8,
};

/* Ethernet + IPv4 + UDP 10.0.0.11:5000 -> 10.0.0.1:53. */
static const uint8_t udp_dns[] = {
	0x02, 0,  0,  0, 0, 0x01, 0x02, 0, 0,  0,  0, 0x11, 0x08, 0x00, 0x45, 0, 0,  28, 0, 1, 0,
	0,    64, 17, 0, 0, 10,	  0,	0, 11, 10, 0, 0,    1,	  0x13, 0x88, 0, 53, 0,	 8, 0, 0,
};

/* VLAN 5, IPv4 TCP SYN 10.0.0.1:40000 -> 10.0.0.11:80. */
static const uint8_t vlan_tcp_syn[] = {
	0x02, 0,    0,	  0,	0,  0x11, 0x02, 0,    0,    0,	  0, 0x01, 0x81, 0x00, 0,
	5,    0x08, 0x00, 0x45, 0,  0,	  40,	0,    1,    0,	  0, 64,   6,	 0,    0,
	10,   0,    0,	  1,	10, 0,	  0,	11,   0x9c, 0x40, 0, 80,   0,	 0,    0,
	1,    0,    0,	  0,	0,  0x50, 0x02, 0xff, 0xff, 0,	  0, 0,	   0,
};

/* ARP request: who has 10.0.0.1, tell 10.0.0.11. */
static const uint8_t arp_req[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,	   0, 0,  0x11, 0x08, 0x06,
	0,    1,    0x08, 0,	6,    4,    0,	  1, 0x02, 0, 0,  0,	0,    0x11,
	10,   0,    0,	  11,	0,    0,    0,	  0, 0,	   0, 10, 0,	0,    1,
};

/* IPv6 ICMPv6 echo request fe80::1 -> fe80::2 id 3 seq 4. */
static const uint8_t icmp6_echo[] = {
	0x33, 0x33, 0, 0, 0,  1,   0x02, 0,    0, 0, 0, 0x11, 0x86, 0xdd, 0x60, 0,
	0,    0,    0, 8, 58, 255, 0xfe, 0x80, 0, 0, 0, 0,    0,    0,	  0,	0,
	0,    0,    0, 0, 0,  1,   0xfe, 0x80, 0, 0, 0, 0,    0,    0,	  0,	0,
	0,    0,    0, 0, 0,  2,   128,	 0,    0, 0, 0, 3,    0,    4,
};

static json_t *parse_json(const char *text)
{
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);

	assert_non_null(j);
	return j;
}

/* --- requests --- */

static void test_capture_req_defaults_and_round_trip(void **state)
{
	struct app_capture_req req, back;
	char err[256];
	json_t *args = parse_json("{\"port\": \"web1\"}"), *built;

	(void)state;
	assert_int_equal(app_capture_req_parse(args, &req, err, sizeof(err)), 0);
	assert_string_equal(req.port, "web1");
	assert_string_equal(req.filter, "");
	assert_int_equal(req.snaplen, APP_CAPTURE_SNAPLEN_MAX);
	assert_int_equal(req.count, 0);
	json_decref(args);

	req.filter = "icmp and host 10.0.0.1";
	req.count = 100;
	req.snaplen = 96;
	built = app_capture_req_build(&req);
	assert_non_null(built);
	assert_int_equal(app_capture_req_parse(built, &back, err, sizeof(err)), 0);
	assert_string_equal(back.port, "web1");
	assert_string_equal(back.filter, "icmp and host 10.0.0.1");
	assert_int_equal(back.count, 100);
	assert_int_equal(back.snaplen, 96);
	json_decref(built);
}

static void test_capture_req_limits(void **state)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{"{}", "\"port\" must name a port"},
		{"{\"port\": \"\"}", "\"port\" must name a port"},
		{"{\"port\": 5}", "\"port\" must name a port"},
		{"{\"port\": \"a-name-of-16-chr\"}", "\"port\" must name a port"},
		{"{\"port\": \"we\\u0000b1\"}", "\"port\" must name a port"},
		{"{\"port\": \"web1\", \"filter\": 1}", "\"filter\" must be"},
		{"{\"port\": \"web1\", \"count\": -1}", "\"count\" must be 0 to 1000000000"},
		{"{\"port\": \"web1\", \"count\": 1000000001}", "\"count\" must be"},
		{"{\"port\": \"web1\", \"count\": \"5\"}", "\"count\" must be"},
		{"{\"port\": \"web1\", \"snaplen\": 0}", "\"snaplen\" must be 1 to 65535"},
		{"{\"port\": \"web1\", \"snaplen\": 65536}", "\"snaplen\" must be 1 to 65535"},
	};
	struct app_capture_req req;
	char err[256], *longf;
	json_t *args;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		args = parse_json(bad[i].json);
		assert_int_equal(app_capture_req_parse(args, &req, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].json, err);
		json_decref(args);
	}
	/* The expression is bounded: 4096 characters pass, 4097 do not. */
	longf = malloc(APP_CAPTURE_FILTER_MAX + 2);
	assert_non_null(longf);
	memset(longf, 'x', APP_CAPTURE_FILTER_MAX + 1);
	longf[APP_CAPTURE_FILTER_MAX + 1] = 0;
	args = json_pack("{s:s, s:s}", "port", "web1", "filter", longf);
	assert_int_equal(app_capture_req_parse(args, &req, err, sizeof(err)), -EINVAL);
	json_decref(args);
	longf[APP_CAPTURE_FILTER_MAX] = 0;
	args = json_pack("{s:s, s:s}", "port", "web1", "filter", longf);
	assert_int_equal(app_capture_req_parse(args, &req, err, sizeof(err)), 0);
	json_decref(args);
	free(longf);
	assert_int_equal(app_capture_req_parse(NULL, &req, err, sizeof(err)), -EINVAL);
}

static void test_trace_req(void **state)
{
	uint64_t count = 9;
	char err[128];
	json_t *args = parse_json("{}");

	(void)state;
	assert_int_equal(app_trace_req_parse(args, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 0);
	json_decref(args);
	args = parse_json("{\"count\": 3}");
	assert_int_equal(app_trace_req_parse(args, &count, err, sizeof(err)), 0);
	assert_int_equal(count, 3);
	json_decref(args);
	args = parse_json("{\"count\": true}");
	assert_int_equal(app_trace_req_parse(args, &count, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "count"));
	json_decref(args);
}

/* --- records --- */

static void test_caprec_round_trip(void **state)
{
	uint8_t buf[256];
	struct app_caprec in = {.sec = 1765000000,
				.nsec = 999999999,
				.len = 1500,
				.caplen = 4,
				.dir = APP_CAPREC_TX,
				.data = (const uint8_t *)"abcd"};
	struct app_caprec out;
	size_t len = 0, off = 0, n;

	(void)state;
	n = app_caprec_put(buf, sizeof(buf), &in);
	assert_int_equal(n, APP_CAPREC_HDR_LEN + 4);
	len += n;
	in.caplen = 0;
	in.dir = APP_CAPREC_RX;
	len += app_caprec_put(buf + len, sizeof(buf) - len, &in);
	assert_int_equal(app_caprec_put(buf, APP_CAPREC_HDR_LEN + 3,
					&(struct app_caprec){.caplen = 4,
							     .len = 4,
							     .dir = 1,
							     .data = (const uint8_t *)"abcd"}),
			 0);

	assert_int_equal(app_caprec_next(buf, len, &off, &out), 1);
	assert_int_equal(out.sec, 1765000000);
	assert_int_equal(out.nsec, 999999999);
	assert_int_equal(out.len, 1500);
	assert_int_equal(out.caplen, 4);
	assert_int_equal(out.dir, APP_CAPREC_TX);
	assert_memory_equal(out.data, "abcd", 4);
	assert_int_equal(app_caprec_next(buf, len, &off, &out), 1);
	assert_int_equal(out.caplen, 0);
	assert_int_equal(out.dir, APP_CAPREC_RX);
	assert_int_equal(app_caprec_next(buf, len, &off, &out), 0);
	assert_int_equal(off, len);
}

static void test_caprec_refuses_lies(void **state)
{
	uint8_t good[APP_CAPREC_HDR_LEN + 4], bad[sizeof(good)];
	struct app_caprec r = {.sec = 1,
			       .nsec = 2,
			       .len = 4,
			       .caplen = 4,
			       .dir = APP_CAPREC_RX,
			       .data = (const uint8_t *)"wxyz"};
	size_t off;

	(void)state;
	assert_int_equal(app_caprec_put(good, sizeof(good), &r), sizeof(good));
	/* Cut anywhere inside: refused, nothing read beyond. */
	for (size_t cut = 1; cut < sizeof(good); cut++) {
		off = 0;
		assert_int_equal(app_caprec_next(good, cut, &off, &r), -EBADMSG);
		assert_int_equal(off, 0);
	}
	/* One field at a time breaks a rule of the format. */
	struct {
		size_t at;
		uint8_t v;
	} lies[] = {
		{4, 0xff},	    /* nanoseconds >= 1e9 */
		{11, 3},	    /* len 3 < caplen 4 */
		{14, 1},	    /* caplen above the snaplen limit */
		{15, 5},	    /* caplen 5: more than the bytes there */
		{16, 0},	    /* direction */
		{16, 3},   {18, 1}, /* padding not zero */
	};
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		memcpy(bad, good, sizeof(good));
		bad[lies[i].at] = lies[i].v;
		off = 0;
		if (app_caprec_next(bad, sizeof(bad), &off, &r) != -EBADMSG)
			fail_msg("lie %zu accepted", i);
	}
}

/* --- the capture buffer --- */

static const struct timespec ts = {1765000000, 123456789};

static void test_capbuf_bad_filter_says_what_libpcap_says(void **state)
{
	struct app_capbuf *cb = NULL;
	char err[256];

	(void)state;
	assert_int_equal(app_capbuf_new("icmp and and", 65535, 0, 1 << 17, &cb, err, sizeof(err)),
			 -EINVAL);
	assert_null(cb);
	assert_non_null(strstr(err, "syntax error"));
	assert_int_equal(app_capbuf_new("host no.such.name.invalid", 65535, 0, 1 << 17, &cb, err,
					sizeof(err)),
			 -EINVAL);
	assert_true(strlen(err) > 0);
	/* A buffer that cannot hold one record of snaplen is refused. */
	assert_int_equal(app_capbuf_new("", 1000, 0, 1000, &cb, err, sizeof(err)), -EINVAL);
}

static void test_capbuf_filter_picks_frames(void **state)
{
	struct app_capbuf *cb;
	struct app_capbuf_stats st;
	struct app_caprec r;
	const uint8_t *p;
	size_t len, off = 0;
	char err[256];

	(void)state;
	assert_int_equal(app_capbuf_new("icmp", 65535, 0, 1 << 17, &cb, err, sizeof(err)), 0);
	assert_true(app_capbuf_match(cb, icmp_echo, sizeof(icmp_echo)));
	assert_false(app_capbuf_match(cb, udp_dns, sizeof(udp_dns)));
	assert_false(app_capbuf_match(cb, arp_req, sizeof(arp_req)));
	assert_int_equal(app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), APP_CAPREC_RX, &ts), 1);
	p = app_capbuf_pending(cb, &len);
	assert_int_equal(len, APP_CAPREC_HDR_LEN + sizeof(icmp_echo));
	assert_int_equal(app_caprec_next(p, len, &off, &r), 1);
	assert_int_equal(r.sec, ts.tv_sec);
	assert_int_equal(r.nsec, ts.tv_nsec);
	assert_memory_equal(r.data, icmp_echo, sizeof(icmp_echo));
	app_capbuf_sent(cb);
	app_capbuf_pending(cb, &len);
	assert_int_equal(len, 0);
	app_capbuf_stats(cb, &st);
	assert_int_equal(st.frames, 1);
	assert_int_equal(st.dropped, 0);
	app_capbuf_free(cb);

	/* No expression: every frame; snaplen cuts the copy, not the length. */
	assert_int_equal(app_capbuf_new(NULL, 20, 0, 1 << 12, &cb, err, sizeof(err)), 0);
	assert_true(app_capbuf_match(cb, arp_req, sizeof(arp_req)));
	assert_int_equal(app_capbuf_keep(cb, udp_dns, sizeof(udp_dns), APP_CAPREC_TX, &ts), 1);
	p = app_capbuf_pending(cb, &len);
	off = 0;
	assert_int_equal(app_caprec_next(p, len, &off, &r), 1);
	assert_int_equal(r.caplen, 20);
	assert_int_equal(r.len, sizeof(udp_dns));
	assert_int_equal(r.dir, APP_CAPREC_TX);
	app_capbuf_free(cb);
}

static void test_capbuf_full_drops_and_counts(void **state)
{
	size_t rec = APP_CAPREC_HDR_LEN + sizeof(icmp_echo);
	struct app_capbuf_stats st;
	struct app_capbuf *cb;
	char err[64];
	size_t len;

	(void)state;
	/* Room for three records and a bit: the fourth and fifth are lost, counted. */
	assert_int_equal(
		app_capbuf_new("", 65535, 0, APP_CAPREC_HDR_LEN + 65535, &cb, err, sizeof(err)), 0);
	app_capbuf_free(cb);
	assert_int_equal(
		app_capbuf_new("", sizeof(icmp_echo), 0, 3 * rec + 10, &cb, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), 1, &ts), 1);
	assert_int_equal(app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), 1, &ts), 0);
	assert_int_equal(app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), 1, &ts), 0);
	app_capbuf_stats(cb, &st);
	assert_int_equal(st.frames, 3);
	assert_int_equal(st.dropped, 2);
	app_capbuf_pending(cb, &len);
	assert_int_equal(len, 3 * rec);
	/* Once sent, there is room again; the loss stays counted. */
	app_capbuf_sent(cb);
	assert_int_equal(app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), 1, &ts), 1);
	app_capbuf_stats(cb, &st);
	assert_int_equal(st.frames, 4);
	assert_int_equal(st.dropped, 2);
	app_capbuf_free(cb);
}

static void test_capbuf_count_completes(void **state)
{
	struct app_capbuf_stats st;
	struct app_capbuf *cb;
	char err[64];

	(void)state;
	assert_int_equal(app_capbuf_new("icmp", 65535, 2, 1 << 17, &cb, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		assert_true(app_capbuf_match(cb, icmp_echo, sizeof(icmp_echo)));
		app_capbuf_keep(cb, icmp_echo, sizeof(icmp_echo), 1, &ts);
	}
	app_capbuf_stats(cb, &st);
	assert_true(st.complete);
	assert_int_equal(st.frames, 2);
	assert_false(app_capbuf_match(cb, icmp_echo, sizeof(icmp_echo)));
	app_capbuf_free(cb);
}

/* --- summaries --- */

static void summary_is(const uint8_t *f, uint32_t caplen, uint32_t len, const char *want)
{
	char buf[256];

	app_frame_summary(f, caplen, len, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("got '%s', want '%s'", buf, want);
}

static void test_frame_summary(void **state)
{
	char small[8];

	(void)state;
	summary_is(icmp_echo, sizeof(icmp_echo), sizeof(icmp_echo),
		   "IP 10.0.0.11 > 10.0.0.1: ICMP echo request, id 7, seq 1, length 50");
	summary_is(udp_dns, sizeof(udp_dns), sizeof(udp_dns),
		   "IP 10.0.0.11.5000 > 10.0.0.1.53: UDP, length 42");
	summary_is(vlan_tcp_syn, sizeof(vlan_tcp_syn), sizeof(vlan_tcp_syn),
		   "vlan 5, IP 10.0.0.1.40000 > 10.0.0.11.80: Flags [S], length 58");
	summary_is(arp_req, sizeof(arp_req), sizeof(arp_req),
		   "ARP, Request who-has 10.0.0.1 tell 10.0.0.11, length 42");
	summary_is(icmp6_echo, sizeof(icmp6_echo), sizeof(icmp6_echo),
		   "IP6 fe80::1 > fe80::2: ICMP6 echo request, id 3, seq 4, length 62");
	/* A snapshot cut short says so and reads nothing beyond it. */
	summary_is(icmp_echo, 30, 1500, "IP [|truncated or bad header], length 1500");
	summary_is(udp_dns, 36, 42, "IP 10.0.0.11 > 10.0.0.1: proto 17 [|truncated], length 42");
	summary_is(icmp_echo, 10, 50, "[|ether], length 50");
	summary_is(vlan_tcp_syn, 15, 58, "vlan [|truncated], length 58");
	/* A small output buffer is cut, still NUL-terminated. */
	app_frame_summary(icmp_echo, sizeof(icmp_echo), sizeof(icmp_echo), small, sizeof(small));
	assert_string_equal(small, "IP 10.0");
}

static void test_trace_format(void **state)
{
	char line[512];
	json_t *rec;

	(void)state;
	rec = parse_json("{\"time_ns\": 0, \"port\": \"uplink\", \"out\": \"web1\", \"reason\": "
			 "\"rule\", \"len\": 98, \"frame\": \"IP 10.0.0.1 > 10.0.0.11: ICMP echo "
			 "request\", \"rule\": {\"chain\": \"forward\", \"handle\": 4, \"file\": "
			 "\"r.nft\", \"line\": 5, \"text\": \"ip saddr 10.0.0.1 drop\"}}");
	app_trace_format(rec, line, sizeof(line));
	assert_non_null(strstr(line,
			       " uplink > web1 rule  r.nft:5 (handle 4) chain forward: ip "
			       "saddr 10.0.0.1 drop  IP 10.0.0.1 > 10.0.0.11: ICMP echo request"));
	json_decref(rec);

	rec = parse_json(
		"{\"time_ns\": 0, \"port\": \"web1\", \"out\": \"uplink\", \"reason\": "
		"\"rule\", \"frame\": \"x\", \"rule\": {\"chain\": \"forward\", \"handle\": 0}}");
	assert_non_null(strstr(app_trace_format(rec, line, sizeof(line)),
			       "web1 > uplink rule  policy of chain forward  x"));
	json_decref(rec);

	rec = parse_json("{\"port\": \"web1\", \"reason\": \"spoof-ip4\", \"frame\": \"y\"}");
	assert_string_equal(app_trace_format(rec, line, sizeof(line)), "? web1 spoof-ip4  y");
	json_decref(rec);

	/* Anything missing or mistyped is a "?", never a crash. */
	rec = parse_json("{\"time_ns\": \"no\", \"port\": 3, \"rule\": {\"handle\": \"x\"}}");
	assert_string_equal(app_trace_format(rec, line, sizeof(line)),
			    "? ? ?  policy of chain ?  ?");
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_req_defaults_and_round_trip),
		cmocka_unit_test(test_capture_req_limits),
		cmocka_unit_test(test_trace_req),
		cmocka_unit_test(test_caprec_round_trip),
		cmocka_unit_test(test_caprec_refuses_lies),
		cmocka_unit_test(test_capbuf_bad_filter_says_what_libpcap_says),
		cmocka_unit_test(test_capbuf_filter_picks_frames),
		cmocka_unit_test(test_capbuf_full_drops_and_counts),
		cmocka_unit_test(test_capbuf_count_completes),
		cmocka_unit_test(test_frame_summary),
		cmocka_unit_test(test_trace_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
