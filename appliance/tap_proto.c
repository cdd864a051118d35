/*
 * Capture and trace requests and records (tap_proto.h). The records come from the
 * appliance to dom0's CLI over a vchan, so the reader trusts no length in them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "appliance/tap_proto.h"

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/* An optional integer member in [lo, hi]; @def when absent. */
static int int_arg(const json_t *args, const char *key, uint64_t lo, uint64_t hi, uint64_t def,
		   uint64_t *out)
{
	const json_t *v = json_object_get(args, key);
	json_int_t i;

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v))
		return -EINVAL;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < lo || (uint64_t)i > hi)
		return -EINVAL;
	*out = (uint64_t)i;
	return 0;
}

int app_capture_req_parse(const json_t *args, struct app_capture_req *req, char *err, size_t errlen)
{
	const json_t *port = json_object_get(args, "port");
	const json_t *filter = json_object_get(args, "filter");
	uint64_t snaplen;
	size_t n;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(args))
		return fail(err, errlen, "args must be an object");
	if (!json_is_string(port) || !(n = json_string_length(port)) || n >= APP_IFNAMSIZ ||
	    strlen(json_string_value(port)) != n)
		return fail(err, errlen, "\"port\" must name a port (1 to 15 characters)");
	memcpy(req->port, json_string_value(port), n + 1);
	req->filter = "";
	if (filter) {
		if (!json_is_string(filter) ||
		    json_string_length(filter) > APP_CAPTURE_FILTER_MAX ||
		    strlen(json_string_value(filter)) != json_string_length(filter))
			return fail(err, errlen,
				    "\"filter\" must be a pcap-filter expression of at "
				    "most 4096 characters");
		req->filter = json_string_value(filter);
	}
	if (int_arg(args, "count", 0, APP_CAPTURE_COUNT_MAX, 0, &req->count) < 0)
		return fail(err, errlen, "\"count\" must be 0 to 1000000000");
	if (int_arg(args, "snaplen", 1, APP_CAPTURE_SNAPLEN_MAX, APP_CAPTURE_SNAPLEN_MAX,
		    &snaplen) < 0)
		return fail(err, errlen, "\"snaplen\" must be 1 to 65535");
	req->snaplen = (uint32_t)snaplen;
	return 0;
}

json_t *app_capture_req_build(const struct app_capture_req *req)
{
	return json_pack("{s:s, s:s, s:I, s:I}", "port", req->port, "filter",
			 req->filter ? req->filter : "", "count", (json_int_t)req->count, "snaplen",
			 (json_int_t)req->snaplen);
}

int app_trace_req_parse(const json_t *args, uint64_t *count, char *err, size_t errlen)
{
	if (!json_is_object(args))
		return fail(err, errlen, "args must be an object");
	if (int_arg(args, "count", 0, APP_CAPTURE_COUNT_MAX, 0, count) < 0)
		return fail(err, errlen, "\"count\" must be 0 to 1000000000");
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t app_caprec_put(uint8_t *buf, size_t room, const struct app_caprec *r)
{
	size_t need = APP_CAPREC_HDR_LEN + r->caplen;

	if (room < need)
		return 0;
	put32(buf, r->sec);
	put32(buf + 4, r->nsec);
	put32(buf + 8, r->len);
	put32(buf + 12, r->caplen);
	buf[16] = r->dir;
	buf[17] = buf[18] = buf[19] = 0;
	if (r->caplen)
		memcpy(buf + APP_CAPREC_HDR_LEN, r->data, r->caplen);
	return need;
}

int app_caprec_next(const uint8_t *buf, size_t len, size_t *off, struct app_caprec *r)
{
	const uint8_t *p;

	if (*off >= len)
		return 0;
	if (len - *off < APP_CAPREC_HDR_LEN)
		return -EBADMSG;
	p = buf + *off;
	r->sec = get32(p);
	r->nsec = get32(p + 4);
	r->len = get32(p + 8);
	r->caplen = get32(p + 12);
	r->dir = p[16];
	if (r->nsec >= 1000000000u || r->caplen > r->len || r->caplen > APP_CAPTURE_SNAPLEN_MAX ||
	    (r->dir != APP_CAPREC_RX && r->dir != APP_CAPREC_TX) || p[17] || p[18] || p[19])
		return -EBADMSG;
	if (len - *off - APP_CAPREC_HDR_LEN < r->caplen)
		return -EBADMSG;
	r->data = p + APP_CAPREC_HDR_LEN;
	*off += APP_CAPREC_HDR_LEN + r->caplen;
	return 1;
}

static const char *str_or(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "?";
}

char *app_trace_format(const json_t *rec, char *buf, size_t n)
{
	const json_t *t = json_object_get(rec, "time_ns"), *rule = json_object_get(rec, "rule");
	const char *out = json_string_value(json_object_get(rec, "out"));
	char when[32] = "?", how[512] = "";
	struct tm tm;

	if (json_is_integer(t) && json_integer_value(t) >= 0) {
		uint64_t ns = (uint64_t)json_integer_value(t);
		time_t sec = (time_t)(ns / 1000000000u);

		if (localtime_r(&sec, &tm))
			snprintf(when, sizeof(when), "%02d:%02d:%02d.%06u", tm.tm_hour, tm.tm_min,
				 tm.tm_sec, (unsigned)(ns % 1000000000u / 1000u));
	}
	if (json_is_object(rule)) {
		const json_t *h = json_object_get(rule, "handle"),
			     *l = json_object_get(rule, "line");
		json_int_t handle = json_is_integer(h) ? json_integer_value(h) : 0;

		if (handle <= 0)
			snprintf(how, sizeof(how), "  policy of chain %s", str_or(rule, "chain"));
		else if (json_is_integer(l) && json_integer_value(l) > 0)
			snprintf(how, sizeof(how),
				 "  %s:%" JSON_INTEGER_FORMAT " (handle %" JSON_INTEGER_FORMAT
				 ") chain %s: %s",
				 str_or(rule, "file"), json_integer_value(l), handle,
				 str_or(rule, "chain"), str_or(rule, "text"));
		else
			snprintf(how, sizeof(how), "  handle %" JSON_INTEGER_FORMAT " chain %s",
				 handle, str_or(rule, "chain"));
	}
	snprintf(buf, n, "%s %s%s%s %s%s  %s", when, str_or(rec, "port"), out ? " > " : "",
		 out ? out : "", str_or(rec, "reason"), how, str_or(rec, "frame"));
	return buf;
}
