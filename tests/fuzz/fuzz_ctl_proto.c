/*
 * libFuzzer target for the control protocol decoder (appliance/ctl_proto.c): over a
 * vchan the bytes come from another domain, so any byte string, cut anywhere, must
 * decode without a crash, a leak or an allocation above the limit, and cutting it
 * differently must not change what comes out.
 *
 * Input layout: byte 0 picks the role (bit 0) and the body limit (bits 1-3: the
 * default 4 MiB, or small limits so oversize is reachable in short inputs);
 * byte 1 seeds the split sizes; the rest is the stream.
 * Seeds: tests/fuzz/corpus/ctl_proto/.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#define MAX_OUTCOMES 64

/* What one message became; two decodings of the same bytes must agree on all of it. */
struct outcome {
	int rc;
	enum app_ctl_errcode code;
	int64_t err_id;
	enum app_ctl_type type;
	int64_t id;
	size_t raw_len;
	char cmd[33];
};

/* Re-encode a decoded message and decode it again: it must come back the same. */
static void check_round_trip(enum app_ctl_role role, size_t max, const struct app_ctl_msg *m)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg back;
	uint8_t *wire;
	size_t len, used;
	int rc;

	if (m->body)
		rc = app_ctl_encode_json(m->type, m->flags, m->body, max, &wire, &len);
	else
		rc = app_ctl_encode_raw(m->raw, m->raw_len, max, &wire, &len);
	/* Compact JSON may be longer than the input (e.g. "\/" stays short, "é" grows). */
	if (rc == -EMSGSIZE || rc == -ENOMEM)
		return;
	CHECK(rc == 0);
	CHECK(app_ctl_decoder_new(role, max, &d) == 0);
	rc = app_ctl_decoder_feed(d, wire, len, &used, &back);
	CHECK(rc == 1 && used == len);
	CHECK(back.type == m->type && back.flags == m->flags && back.id == m->id);
	CHECK(back.raw_len == m->raw_len);
	CHECK(!m->raw_len || !memcmp(back.raw, m->raw, m->raw_len));
	CHECK(!m->cmd || !strcmp(back.cmd, m->cmd));
	CHECK(!m->body || json_equal(back.body, m->body));
	app_ctl_msg_clear(&back);
	app_ctl_decoder_free(d);
	free(wire);
}

static void check_msg(enum app_ctl_role role, size_t max, const struct app_ctl_msg *m)
{
	switch (m->type) {
	case APP_CTL_REQUEST:
		CHECK(role == APP_CTL_ROLE_SERVER);
		CHECK(m->cmd && m->cmd[0] && strlen(m->cmd) <= 32);
		CHECK(json_is_object(m->args) && m->id >= 0);
		break;
	case APP_CTL_REPLY:
	case APP_CTL_END:
		CHECK(role == APP_CTL_ROLE_CLIENT);
		CHECK(m->ok ? m->result != NULL : m->error != NULL);
		break;
	case APP_CTL_CHUNK:
		CHECK(role == APP_CTL_ROLE_CLIENT);
		CHECK(m->raw_len <= (max ? max : APP_CTL_MAX_MSG));
		CHECK((m->flags & APP_CTL_F_RAW) ? !m->body : json_is_object(m->body));
		break;
	default:
		CHECK(0);
	}
	check_round_trip(role, max, m);
}

/*
 * Decode @data fed in pieces whose sizes come from @seed (0: all at once).
 * Returns how many outcomes were recorded.
 */
static size_t decode(enum app_ctl_role role, size_t max, const uint8_t *data, size_t size,
		     uint32_t seed, struct outcome *out)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	size_t pos = 0, n = 0, used;
	int dead = 0;

	CHECK(app_ctl_decoder_new(role, max, &d) == 0);
	while (pos < size && n < MAX_OUTCOMES) {
		size_t piece = size - pos;
		int rc;

		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % (piece < 64 ? piece : 64);
		}
		rc = app_ctl_decoder_feed(d, data + pos, piece, &used, &m);
		CHECK(used <= piece);
		if (dead) {
			CHECK(rc == -EPROTO && used == 0);
			break;
		}
		pos += used;
		if (rc == 0) {
			CHECK(used == piece);
			continue;
		}
		out[n] = (struct outcome){.rc = rc};
		if (rc == 1) {
			check_msg(role, max, &m);
			out[n].type = m.type;
			out[n].id = m.id;
			out[n].raw_len = m.raw_len;
			if (m.cmd)
				strcpy(out[n].cmd, m.cmd);
			app_ctl_msg_clear(&m);
		} else {
			const struct app_ctl_error *e = app_ctl_decoder_error(d);

			CHECK(rc == -EBADMSG || rc == -EPROTO || rc == -ENOMEM);
			CHECK(e->code != APP_CTL_E_NONE && e->msg[0]);
			CHECK((rc == -EPROTO) == app_ctl_errcode_fatal(e->code));
			out[n].code = e->code;
			out[n].err_id = e->id;
			dead = rc == -EPROTO;
		}
		n++;
	}
	app_ctl_decoder_free(d);
	return n;
}

static int outcome_equal(const struct outcome *a, const struct outcome *b)
{
	return a->rc == b->rc && a->code == b->code && a->err_id == b->err_id &&
	       a->type == b->type && a->id == b->id && a->raw_len == b->raw_len &&
	       !strcmp(a->cmd, b->cmd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[8] = {0, 1, 16, 64, 256, 1024, 4096, APP_CTL_MAX_MSG};
	struct outcome whole[MAX_OUTCOMES], split[MAX_OUTCOMES];
	enum app_ctl_role role;
	size_t max, n;

	if (size < 2)
		return 0;
	role = data[0] & 1 ? APP_CTL_ROLE_CLIENT : APP_CTL_ROLE_SERVER;
	max = limits[(data[0] >> 1) & 7];
	n = decode(role, max, data + 2, size - 2, 0, whole);
	/* Outcomes past MAX_OUTCOMES are not compared, so only a full run must match. */
	if (n < MAX_OUTCOMES)
		CHECK(decode(role, max, data + 2, size - 2, 1u + data[1], split) == n);
	else
		decode(role, max, data + 2, size - 2, 1u + data[1], split);
	for (size_t i = 0; i < n; i++)
		CHECK(outcome_equal(&whole[i], &split[i]));
	return 0;
}
