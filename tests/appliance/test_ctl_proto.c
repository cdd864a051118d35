/*
 * Tests of the control protocol's framing and parsing (appliance/ctl_proto.c): what
 * goes in comes out, every malformed message is refused with its own error and the
 * decoder carries on (or, for lost framing, stops), and splitting the input
 * anywhere changes nothing.
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

#include "appliance/ctl_proto.h"

/* What one message turned into: a message (its summary) or a refusal. */
struct outcome {
	int rc; /* 1, -EBADMSG, -EPROTO, -ENOMEM */
	enum app_ctl_errcode code;
	int64_t err_id;
	enum app_ctl_type type;
	int64_t id;
	char cmd[40];
	char text[300]; /* "error", or the raw bytes for a chunk */
	size_t raw_len;
};

struct buf {
	uint8_t *p;
	size_t len;
};

static void buf_add(struct buf *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len);
	assert_non_null(b->p);
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Frame a hand-written body with a hand-made header: lets tests lie in any field. */
static void buf_add_frame(struct buf *b, unsigned version, unsigned type, uint16_t flags,
			  const char *body)
{
	uint8_t hdr[APP_CTL_HDR_LEN];
	size_t len = strlen(body);

	app_ctl_header_write(hdr, type, flags, (uint32_t)len);
	hdr[4] = (uint8_t)version;
	buf_add(b, hdr, sizeof(hdr));
	buf_add(b, body, len);
}

static void buf_add_req(struct buf *b, const char *body)
{
	buf_add_frame(b, APP_CTL_VERSION, APP_CTL_REQUEST, 0, body);
}

/* Feed @b in pieces of @step bytes (0: all at once); collect up to @max outcomes. */
static size_t decode_all(enum app_ctl_role role, size_t max_body, const struct buf *b, size_t step,
			 struct outcome *out, size_t max)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	size_t pos = 0, n = 0;

	assert_int_equal(app_ctl_decoder_new(role, max_body, &d), 0);
	while (pos < b->len && n < max) {
		size_t piece = step && step < b->len - pos ? step : b->len - pos;
		size_t off = 0, used;

		while (off < piece && n < max) {
			int rc = app_ctl_decoder_feed(d, b->p + pos + off, piece - off, &used, &m);
			struct outcome *o = &out[n];

			assert_true(used <= piece - off);
			off += used;
			if (rc == 0) {
				assert_int_equal(off, piece);
				continue;
			}
			memset(o, 0, sizeof(*o));
			o->rc = rc;
			n++;
			if (rc < 0) {
				o->code = app_ctl_decoder_error(d)->code;
				o->err_id = app_ctl_decoder_error(d)->id;
				snprintf(o->text, sizeof(o->text), "%s",
					 app_ctl_decoder_error(d)->msg);
				if (rc == -EPROTO)
					goto done;
				continue;
			}
			o->type = m.type;
			o->id = m.id;
			if (m.cmd)
				snprintf(o->cmd, sizeof(o->cmd), "%s", m.cmd);
			if (m.error)
				snprintf(o->text, sizeof(o->text), "%s", m.error);
			if (m.raw_len)
				snprintf(o->text, sizeof(o->text), "%.*s",
					 (int)(m.raw_len < 79 ? m.raw_len : 79), (char *)m.raw);
			o->raw_len = m.raw_len;
			if (m.type == APP_CTL_REQUEST)
				assert_true(json_is_object(m.args));
			app_ctl_msg_clear(&m);
		}
		pos += piece;
	}
done:
	app_ctl_decoder_free(d);
	return n;
}

static void test_request_round_trip(void **state)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	json_t *args = json_pack("{s:s, s:i}", "rules", "table inet vifwall {}\n", "n", 3);
	json_t *req = app_ctl_request_build(42, "load", args);
	uint8_t *wire;
	size_t len, used;

	(void)state;
	assert_int_equal(app_ctl_encode_json(APP_CTL_REQUEST, 0, req, 0, &wire, &len), 0);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_SERVER, 0, &d), 0);
	assert_int_equal(app_ctl_decoder_feed(d, wire, len, &used, &m), 1);
	assert_int_equal(used, len);
	assert_int_equal(m.type, APP_CTL_REQUEST);
	assert_int_equal(m.id, 42);
	assert_string_equal(m.cmd, "load");
	assert_true(json_equal(m.args, args));
	assert_false(app_ctl_decoder_busy(d));
	app_ctl_msg_clear(&m);
	app_ctl_decoder_free(d);
	free(wire);
	json_decref(req);
	json_decref(args);
}

static void test_reply_chunk_end_round_trip(void **state)
{
	json_t *res = json_pack("{s:i}", "rules", 7);
	json_t *ok = app_ctl_reply_build(5, res, NULL, NULL);
	json_t *err = app_ctl_reply_build(-1, NULL, "no port 'vif9.0'", "bad-args");
	json_t *end = app_ctl_reply_build(5, NULL, NULL, NULL);
	json_t *rec = json_pack("{s:s}", "reason", "spoofed-ip");
	struct outcome o[8];
	struct buf b = {0};
	uint8_t *w;
	size_t len;

	(void)state;
	assert_int_equal(app_ctl_encode_json(APP_CTL_REPLY, APP_CTL_F_STREAM, ok, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_raw("\xd4\xc3\xb2\xa1pcap", 8, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_raw(NULL, 0, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_json(APP_CTL_CHUNK, 0, rec, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_json(APP_CTL_END, 0, end, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_json(APP_CTL_REPLY, 0, err, 0, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);

	assert_int_equal(decode_all(APP_CTL_ROLE_CLIENT, 0, &b, 0, o, 8), 6);
	assert_int_equal(o[0].type, APP_CTL_REPLY);
	assert_int_equal(o[0].id, 5);
	assert_int_equal(o[1].type, APP_CTL_CHUNK);
	assert_int_equal(o[1].raw_len, 8);
	assert_memory_equal(o[1].text + 4, "pcap", 4);
	assert_int_equal(o[2].type, APP_CTL_CHUNK);
	assert_int_equal(o[2].raw_len, 0);
	assert_int_equal(o[3].type, APP_CTL_CHUNK);
	assert_int_equal(o[4].type, APP_CTL_END);
	assert_int_equal(o[5].id, -1);
	assert_string_equal(o[5].text, "no port 'vif9.0'");
	free(b.p);
	json_decref(res);
	json_decref(ok);
	json_decref(err);
	json_decref(end);
	json_decref(rec);
}

static void test_reply_fields_reach_the_client(void **state)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	struct buf b = {0};
	size_t used;

	(void)state;
	buf_add_frame(&b, 1, APP_CTL_REPLY, 0, "{\"id\":3,\"ok\":true,\"result\":[1,2]}");
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	assert_int_equal(app_ctl_decoder_feed(d, b.p, b.len, &used, &m), 1);
	assert_true(m.ok);
	assert_int_equal(json_array_size(m.result), 2);
	app_ctl_msg_clear(&m);
	free(b.p);
	b = (struct buf){0};
	/* No "result" is JSON null, so callers need not test for NULL. */
	buf_add_frame(&b, 1, APP_CTL_REPLY, 0, "{\"id\":3,\"ok\":true}");
	assert_int_equal(app_ctl_decoder_feed(d, b.p, b.len, &used, &m), 1);
	assert_true(json_is_null(m.result));
	app_ctl_msg_clear(&m);
	app_ctl_decoder_free(d);
	free(b.p);
}

static void test_bad_magic_is_fatal_at_once(void **state)
{
	struct outcome o[4];
	struct buf b = {0};

	(void)state;
	buf_add(&b, "GET / HTTP/1.0\r\n\r\n", 18);
	buf_add_req(&b, "{\"id\":1,\"cmd\":\"ports\"}");
	assert_int_equal(decode_all(APP_CTL_ROLE_SERVER, 0, &b, 0, o, 4), 1);
	assert_int_equal(o[0].rc, -EPROTO);
	assert_int_equal(o[0].code, APP_CTL_E_MAGIC);
	assert_non_null(strstr(o[0].text, "not a vifwall control message"));
	assert_true(app_ctl_errcode_fatal(APP_CTL_E_MAGIC));
	free(b.p);
}

static void test_dead_decoder_stays_dead(void **state)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	struct buf b = {0};
	size_t used;

	(void)state;
	buf_add_req(&b, "{\"id\":1,\"cmd\":\"ports\"}");
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_SERVER, 0, &d), 0);
	/* Only the first byte is read: the rest is never looked at. */
	assert_int_equal(app_ctl_decoder_feed(d, "X", 1, &used, &m), -EPROTO);
	assert_int_equal(used, 1);
	assert_int_equal(app_ctl_decoder_feed(d, b.p, b.len, &used, &m), -EPROTO);
	assert_int_equal(used, 0);
	app_ctl_decoder_free(d);
	free(b.p);
}

static void test_oversize_is_fatal_before_allocating(void **state)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	uint8_t hdr[APP_CTL_HDR_LEN];
	size_t used;

	(void)state;
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_SERVER, 0, &d), 0);
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, 0xffffffffu);
	assert_int_equal(app_ctl_decoder_feed(d, hdr, sizeof(hdr), &used, &m), -EPROTO);
	assert_int_equal(app_ctl_decoder_error(d)->code, APP_CTL_E_OVERSIZE);
	assert_non_null(strstr(app_ctl_decoder_error(d)->msg, "4294967295 bytes"));
	assert_true(app_ctl_errcode_fatal(APP_CTL_E_OVERSIZE));
	app_ctl_decoder_free(d);
}

/* One malformed message followed by a good one: the refusal, then the message. */
static void expect_refused_then_ok(enum app_ctl_role role, const struct buf *bad,
				   enum app_ctl_errcode code, int64_t err_id, const char *needle)
{
	struct outcome o[4];
	struct buf b = {0};

	buf_add(&b, bad->p, bad->len);
	if (role == APP_CTL_ROLE_SERVER)
		buf_add_req(&b, "{\"id\":9,\"cmd\":\"ports\"}");
	else
		buf_add_frame(&b, 1, APP_CTL_REPLY, 0, "{\"id\":9,\"ok\":true}");
	for (size_t step = 0; step <= 1; step++) {
		assert_int_equal(decode_all(role, 0, &b, step, o, 4), 2);
		assert_int_equal(o[0].rc, -EBADMSG);
		assert_int_equal(o[0].code, code);
		assert_int_equal(o[0].err_id, err_id);
		assert_false(app_ctl_errcode_fatal(code));
		if (needle && !strstr(o[0].text, needle))
			fail_msg("error '%s' lacks '%s'", o[0].text, needle);
		assert_int_equal(o[1].rc, 1);
		assert_int_equal(o[1].id, 9);
	}
	free(b.p);
}

static void refused_frame(unsigned version, unsigned type, uint16_t flags, const char *body,
			  enum app_ctl_errcode code, int64_t err_id, const char *needle)
{
	struct buf b = {0};

	buf_add_frame(&b, version, type, flags, body);
	expect_refused_then_ok(type == APP_CTL_REQUEST || type > APP_CTL_END ? APP_CTL_ROLE_SERVER
									     : APP_CTL_ROLE_CLIENT,
			       &b, code, err_id, needle);
	free(b.p);
}

static void test_unsupported_version_keeps_connection(void **state)
{
	(void)state;
	refused_frame(2, APP_CTL_REQUEST, 0, "{\"id\":1,\"cmd\":\"ports\"}", APP_CTL_E_VERSION, -1,
		      "version 2 is not supported");
	refused_frame(0, APP_CTL_REQUEST, 0, "", APP_CTL_E_VERSION, -1, NULL);
}

static void test_bad_type_and_flags(void **state)
{
	struct buf b = {0};

	(void)state;
	refused_frame(1, 9, 0, "{}", APP_CTL_E_TYPE, -1, "unexpected message type 9");
	/* A server is sent a reply: well framed, but not for it. */
	buf_add_frame(&b, 1, APP_CTL_REPLY, 0, "{\"id\":1,\"ok\":true}");
	expect_refused_then_ok(APP_CTL_ROLE_SERVER, &b, APP_CTL_E_TYPE, -1, "reply");
	free(b.p);
	refused_frame(1, APP_CTL_REQUEST, 0x8000, "{\"id\":1,\"cmd\":\"ports\"}", APP_CTL_E_FLAGS,
		      -1, "0x8000");
	refused_frame(1, APP_CTL_REQUEST, APP_CTL_F_RAW, "{}", APP_CTL_E_FLAGS, -1, NULL);
	refused_frame(1, APP_CTL_END, APP_CTL_F_STREAM, "{\"id\":1,\"ok\":true}", APP_CTL_E_FLAGS,
		      -1, NULL);
}

static void test_invalid_json(void **state)
{
	(void)state;
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":1,\"cmd\":", APP_CTL_E_JSON, -1,
		      "not valid JSON");
	refused_frame(1, APP_CTL_REQUEST, 0, "", APP_CTL_E_JSON, -1, NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":1,\"cmd\":\"show\"} trailing", APP_CTL_E_JSON,
		      -1, NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":1,\"id\":2,\"cmd\":\"show\"}", APP_CTL_E_JSON,
		      -1, "duplicate");
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":1,\"cmd\":\"sh\\u0000ow\"}", APP_CTL_E_JSON,
		      -1, NULL);
}

static void test_body_not_object(void **state)
{
	(void)state;
	refused_frame(1, APP_CTL_REQUEST, 0, "[1,2]", APP_CTL_E_NOT_OBJECT, -1, "not array");
	refused_frame(1, APP_CTL_REQUEST, 0, "\"load\"", APP_CTL_E_NOT_OBJECT, -1, "not string");
	refused_frame(1, APP_CTL_CHUNK, 0, "17", APP_CTL_E_NOT_OBJECT, -1, "not number");
}

static void test_bad_cmd_keeps_the_id(void **state)
{
	(void)state;
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":4}", APP_CTL_E_CMD, 4, "no \"cmd\"");
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":4,\"cmd\":7}", APP_CTL_E_CMD, 4,
		      "command name");
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":4,\"cmd\":\"\"}", APP_CTL_E_CMD, 4, NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":4,\"cmd\":\"LOAD\\u001b[2J\"}", APP_CTL_E_CMD,
		      4, NULL);
	refused_frame(1, APP_CTL_REQUEST, 0,
		      "{\"id\":4,\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", APP_CTL_E_CMD, 4,
		      NULL);
}

static void test_bad_id_and_args(void **state)
{
	(void)state;
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"cmd\":\"ports\"}", APP_CTL_E_ID, -1, "\"id\"");
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":-1,\"cmd\":\"ports\"}", APP_CTL_E_ID, -1,
		      NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":\"1\",\"cmd\":\"ports\"}", APP_CTL_E_ID, -1,
		      NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":1.5,\"cmd\":\"ports\"}", APP_CTL_E_ID, -1,
		      NULL);
	refused_frame(1, APP_CTL_REQUEST, 0, "{\"id\":6,\"cmd\":\"load\",\"args\":[\"r.nft\"]}",
		      APP_CTL_E_ARGS, 6, "\"args\" of 'load'");
}

static void test_bad_replies(void **state)
{
	(void)state;
	refused_frame(1, APP_CTL_REPLY, 0, "{\"ok\":true}", APP_CTL_E_ID, -1, NULL);
	refused_frame(1, APP_CTL_REPLY, 0, "{\"id\":2}", APP_CTL_E_REPLY, 2, "\"ok\"");
	refused_frame(1, APP_CTL_REPLY, 0, "{\"id\":2,\"ok\":1}", APP_CTL_E_REPLY, 2, NULL);
	refused_frame(1, APP_CTL_END, 0, "{\"id\":2,\"ok\":false}", APP_CTL_E_REPLY, 2,
		      "\"error\"");
}

/* A realistic exchange with a bad message in the middle, split at every byte. */
static void test_one_byte_at_a_time(void **state)
{
	struct outcome whole[8], bytes[8], halves[8];
	struct buf b = {0};
	size_t n;

	(void)state;
	buf_add_req(&b, "{\"id\":1,\"cmd\":\"ports\"}");
	buf_add_req(&b, "{\"id\":2,\"cmd\":\"load\",\"args\":{\"rules\":\"table inet vifwall "
			"{\\n chain forward {\\n }\\n}\\n\"}}");
	buf_add_req(&b, "{\"id\":3,\"cmd\":");
	buf_add_frame(&b, 7, APP_CTL_REQUEST, 0, "{\"id\":4,\"cmd\":\"stats\"}");
	buf_add_req(&b, "{\"id\":5,\"cmd\":\"stats\"}");
	n = decode_all(APP_CTL_ROLE_SERVER, 0, &b, 0, whole, 8);
	assert_int_equal(n, 5);
	assert_int_equal(decode_all(APP_CTL_ROLE_SERVER, 0, &b, 1, bytes, 8), n);
	assert_int_equal(decode_all(APP_CTL_ROLE_SERVER, 0, &b, 13, halves, 8), n);
	assert_memory_equal(whole, bytes, n * sizeof(whole[0]));
	assert_memory_equal(whole, halves, n * sizeof(whole[0]));
	assert_string_equal(whole[1].cmd, "load");
	assert_int_equal(whole[2].code, APP_CTL_E_JSON);
	assert_int_equal(whole[3].code, APP_CTL_E_VERSION);
	assert_int_equal(whole[4].id, 5);
	free(b.p);
}

/* A request whose body is exactly @size bytes: {"id":1,"cmd":"load","args":{"r":"xxx"}}. */
static json_t *request_of_size(size_t size)
{
	static const char frame[] = "{\"id\":1,\"cmd\":\"load\",\"args\":{\"r\":\"\"}}";
	size_t pad = size - (sizeof(frame) - 1);
	char *s = malloc(pad + 1);
	json_t *args, *req;

	memset(s, 'x', pad);
	s[pad] = '\0';
	args = json_pack("{s:s}", "r", s);
	req = app_ctl_request_build(1, "load", args);
	free(s);
	json_decref(args);
	assert_int_equal(json_dumpb(req, NULL, 0, JSON_COMPACT), size);
	return req;
}

static void test_max_size_boundary(void **state)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	json_t *at = request_of_size(APP_CTL_MAX_MSG);
	json_t *over = request_of_size(APP_CTL_MAX_MSG + 1);
	uint8_t *w, hdr[APP_CTL_HDR_LEN];
	size_t len, used;

	(void)state;
	assert_int_equal(app_ctl_encode_json(APP_CTL_REQUEST, 0, over, 0, &w, &len), -EMSGSIZE);
	assert_int_equal(app_ctl_encode_json(APP_CTL_REQUEST, 0, at, 0, &w, &len), 0);
	assert_int_equal(len, APP_CTL_HDR_LEN + APP_CTL_MAX_MSG);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_SERVER, 0, &d), 0);
	assert_int_equal(app_ctl_decoder_feed(d, w, len, &used, &m), 1);
	assert_string_equal(m.cmd, "load");
	app_ctl_msg_clear(&m);
	/* One byte more is refused from the header alone. */
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, APP_CTL_MAX_MSG + 1);
	assert_int_equal(app_ctl_decoder_feed(d, hdr, sizeof(hdr), &used, &m), -EPROTO);
	assert_int_equal(app_ctl_decoder_error(d)->code, APP_CTL_E_OVERSIZE);
	app_ctl_decoder_free(d);
	free(w);
	json_decref(at);
	json_decref(over);
}

static void test_smaller_limit_and_raw_limit(void **state)
{
	struct outcome o[2];
	struct buf b = {0};
	uint8_t *w;
	size_t len;
	char data[101] = {0};

	(void)state;
	assert_int_equal(app_ctl_encode_raw(data, 100, 100, &w, &len), 0);
	buf_add(&b, w, len);
	free(w);
	assert_int_equal(app_ctl_encode_raw(data, 101, 100, &w, &len), -EMSGSIZE);
	assert_int_equal(decode_all(APP_CTL_ROLE_CLIENT, 100, &b, 0, o, 2), 1);
	assert_int_equal(o[0].raw_len, 100);
	assert_int_equal(decode_all(APP_CTL_ROLE_CLIENT, 99, &b, 0, o, 2), 1);
	assert_int_equal(o[0].code, APP_CTL_E_OVERSIZE);
	free(b.p);
}

static void test_error_names(void **state)
{
	(void)state;
	for (int a = APP_CTL_E_NONE; a <= APP_CTL_E_NOMEM; a++) {
		assert_string_not_equal(app_ctl_errcode_name(a), "unknown");
		for (int b = a + 1; b <= APP_CTL_E_NOMEM; b++)
			assert_string_not_equal(app_ctl_errcode_name(a), app_ctl_errcode_name(b));
	}
	assert_string_equal(app_ctl_errcode_name(APP_CTL_E_JSON), "invalid-json");
	assert_string_equal(app_ctl_errcode_name(999), "unknown");
}

static void test_error_reply_shape(void **state)
{
	json_t *r = app_ctl_reply_build(-1, NULL, "bad \xff utf8", "bad-cmd");

	(void)state;
	assert_true(json_is_null(json_object_get(r, "id")));
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(json_string_value(json_object_get(r, "error")));
	assert_string_equal(json_string_value(json_object_get(r, "code")), "bad-cmd");
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_reply_chunk_end_round_trip),
		cmocka_unit_test(test_reply_fields_reach_the_client),
		cmocka_unit_test(test_bad_magic_is_fatal_at_once),
		cmocka_unit_test(test_dead_decoder_stays_dead),
		cmocka_unit_test(test_oversize_is_fatal_before_allocating),
		cmocka_unit_test(test_unsupported_version_keeps_connection),
		cmocka_unit_test(test_bad_type_and_flags),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_body_not_object),
		cmocka_unit_test(test_bad_cmd_keeps_the_id),
		cmocka_unit_test(test_bad_id_and_args),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_one_byte_at_a_time),
		cmocka_unit_test(test_max_size_boundary),
		cmocka_unit_test(test_smaller_limit_and_raw_limit),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_error_reply_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
