/*
 * The control protocol's framing and parsing (see ctl_proto.h for the wire format).
 * The decoder is a small state machine fed whatever bytes arrived, so the same code
 * serves a nonblocking server, a blocking client and the fuzzer. It trusts nothing:
 * the header is checked before anything is allocated, and only the declared length
 * is ever allocated. Every refusal carries a message a user can act on, because it
 * goes back verbatim in the error reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/ctl_proto.h"

/* Longest command name; names are short words, and bounding them keeps logs sane. */
#define CMD_NAME_MAX 32

enum dec_state {
	DEC_HDR,  /* collecting the 12 header bytes */
	DEC_BODY, /* collecting the body into a buffer of exactly its length */
	DEC_SKIP, /* discarding the body of a refused message */
	DEC_DEAD, /* framing lost: nothing more can be read */
};

struct app_ctl_decoder {
	enum app_ctl_role role;
	size_t max_body;
	enum dec_state state;
	uint8_t hdr[APP_CTL_HDR_LEN];
	size_t hdr_have;
	enum app_ctl_type type;
	uint16_t flags;
	uint32_t len;
	uint8_t *body;
	size_t body_have;
	size_t skip_left;
	struct app_ctl_error err;
};

static const uint8_t magic_bytes[4] = {0x56, 0x46, 0x57, 0x43};

static const char *const errcode_names[] = {
	[APP_CTL_E_NONE] = "none",	     [APP_CTL_E_MAGIC] = "bad-magic",
	[APP_CTL_E_OVERSIZE] = "too-large",  [APP_CTL_E_VERSION] = "unsupported-version",
	[APP_CTL_E_TYPE] = "bad-type",	     [APP_CTL_E_FLAGS] = "bad-flags",
	[APP_CTL_E_JSON] = "invalid-json",   [APP_CTL_E_NOT_OBJECT] = "not-an-object",
	[APP_CTL_E_ID] = "bad-id",	     [APP_CTL_E_CMD] = "bad-cmd",
	[APP_CTL_E_ARGS] = "bad-args",	     [APP_CTL_E_REPLY] = "bad-reply",
	[APP_CTL_E_NOMEM] = "out-of-memory",
};

const char *app_ctl_errcode_name(enum app_ctl_errcode code)
{
	if ((size_t)code >= sizeof(errcode_names) / sizeof(errcode_names[0]))
		return "unknown";
	return errcode_names[code];
}

int app_ctl_errcode_fatal(enum app_ctl_errcode code)
{
	return code == APP_CTL_E_MAGIC || code == APP_CTL_E_OVERSIZE;
}

int app_ctl_decoder_new(enum app_ctl_role role, size_t max_body, struct app_ctl_decoder **out)
{
	struct app_ctl_decoder *d;

	if (role != APP_CTL_ROLE_SERVER && role != APP_CTL_ROLE_CLIENT)
		return -EINVAL;
	if (max_body == 0 || max_body > APP_CTL_MAX_MSG)
		max_body = APP_CTL_MAX_MSG;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->role = role;
	d->max_body = max_body;
	d->err.id = -1;
	*out = d;
	return 0;
}

void app_ctl_decoder_free(struct app_ctl_decoder *d)
{
	if (!d)
		return;
	free(d->body);
	free(d);
}

const struct app_ctl_error *app_ctl_decoder_error(const struct app_ctl_decoder *d)
{
	return &d->err;
}

int app_ctl_decoder_busy(const struct app_ctl_decoder *d)
{
	return d->state == DEC_BODY || d->state == DEC_SKIP || (d->state == DEC_HDR && d->hdr_have);
}

void app_ctl_msg_clear(struct app_ctl_msg *m)
{
	json_decref(m->body);
	free(m->raw);
	memset(m, 0, sizeof(*m));
}

static void set_err(struct app_ctl_decoder *d, enum app_ctl_errcode code, int64_t id,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_err(struct app_ctl_decoder *d, enum app_ctl_errcode code, int64_t id,
		    const char *fmt, ...)
{
	va_list ap;

	d->err.code = code;
	d->err.id = id;
	va_start(ap, fmt);
	vsnprintf(d->err.msg, sizeof(d->err.msg), fmt, ap);
	va_end(ap);
}

static int fail_framing(struct app_ctl_decoder *d)
{
	free(d->body);
	d->body = NULL;
	d->state = DEC_DEAD;
	return -EPROTO;
}

static const char *type_name(unsigned type)
{
	switch (type) {
	case APP_CTL_REQUEST:
		return "request";
	case APP_CTL_REPLY:
		return "reply";
	case APP_CTL_CHUNK:
		return "stream chunk";
	case APP_CTL_END:
		return "stream end";
	}
	return "unknown";
}

static int role_accepts(enum app_ctl_role role, unsigned type)
{
	if (role == APP_CTL_ROLE_SERVER)
		return type == APP_CTL_REQUEST;
	return type == APP_CTL_REPLY || type == APP_CTL_CHUNK || type == APP_CTL_END;
}

/* Reads "id": the client's number, echoed back. Replies may say null (-1). */
static int parse_id(json_t *body, int allow_null, int64_t *id)
{
	json_t *v = json_object_get(body, "id");

	if (allow_null && json_is_null(v)) {
		*id = -1;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*id = json_integer_value(v);
	return 0;
}

static int cmd_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (n >= CMD_NAME_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return n > 0;
}

static int check_request(struct app_ctl_decoder *d, struct app_ctl_msg *m)
{
	json_t *cmd, *args;

	if (parse_id(m->body, 0, &m->id)) {
		set_err(d, APP_CTL_E_ID, -1,
			"request needs an \"id\" that is a non-negative integer");
		return -EBADMSG;
	}
	cmd = json_object_get(m->body, "cmd");
	if (!cmd) {
		set_err(d, APP_CTL_E_CMD, m->id, "request has no \"cmd\" (the command to run)");
		return -EBADMSG;
	}
	if (!json_is_string(cmd) || !cmd_name_valid(json_string_value(cmd))) {
		set_err(d, APP_CTL_E_CMD, m->id,
			"\"cmd\" must be a command name: 1 to %d of a-z, 0-9, '-', '_'",
			CMD_NAME_MAX);
		return -EBADMSG;
	}
	m->cmd = json_string_value(cmd);
	args = json_object_get(m->body, "args");
	if (!args) {
		/* Handlers always get an object, so none of them tests for NULL. */
		args = json_object();
		if (!args || json_object_set_new(m->body, "args", args)) {
			set_err(d, APP_CTL_E_NOMEM, m->id, "out of memory");
			return -ENOMEM;
		}
	} else if (!json_is_object(args)) {
		set_err(d, APP_CTL_E_ARGS, m->id, "\"args\" of '%s' must be a JSON object", m->cmd);
		return -EBADMSG;
	}
	m->args = args;
	return 0;
}

static int check_reply(struct app_ctl_decoder *d, struct app_ctl_msg *m)
{
	json_t *ok, *error;

	if (parse_id(m->body, 1, &m->id)) {
		set_err(d, APP_CTL_E_ID, -1, "%s needs an \"id\" (integer or null)",
			type_name(m->type));
		return -EBADMSG;
	}
	ok = json_object_get(m->body, "ok");
	if (!json_is_boolean(ok)) {
		set_err(d, APP_CTL_E_REPLY, m->id, "%s needs \"ok\": true or false",
			type_name(m->type));
		return -EBADMSG;
	}
	m->ok = json_is_true(ok);
	if (m->ok) {
		m->result = json_object_get(m->body, "result");
		if (!m->result)
			m->result = json_null();
		return 0;
	}
	error = json_object_get(m->body, "error");
	if (!json_is_string(error)) {
		set_err(d, APP_CTL_E_REPLY, m->id, "failed %s needs an \"error\" string",
			type_name(m->type));
		return -EBADMSG;
	}
	m->error = json_string_value(error);
	return 0;
}

static const char *json_kind(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "value";
}

/* The body is complete: hand it over as a message, or say what is wrong with it. */
static int finish_body(struct app_ctl_decoder *d, struct app_ctl_msg *m)
{
	json_error_t jerr;
	int rc;

	d->state = DEC_HDR;
	d->hdr_have = 0;
	memset(m, 0, sizeof(*m));
	m->type = d->type;
	m->flags = d->flags;
	m->id = -1;
	if (d->flags & APP_CTL_F_RAW) {
		m->raw = d->body;
		m->raw_len = d->len;
		d->body = NULL;
		return 1;
	}
	m->body = json_loadb((const char *)d->body, d->len,
			     JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	free(d->body);
	d->body = NULL;
	if (!m->body) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			set_err(d, APP_CTL_E_NOMEM, -1, "out of memory parsing a %u-byte %s",
				d->len, type_name(d->type));
			return -ENOMEM;
		}
		set_err(d, APP_CTL_E_JSON, -1, "%s body is not valid JSON: %s (line %d, column %d)",
			type_name(d->type), jerr.text, jerr.line, jerr.column);
		return -EBADMSG;
	}
	if (!json_is_object(m->body)) {
		set_err(d, APP_CTL_E_NOT_OBJECT, -1, "%s body must be a JSON object, not %s",
			type_name(d->type), json_kind(m->body));
		rc = -EBADMSG;
	} else if (d->type == APP_CTL_REQUEST) {
		rc = check_request(d, m);
	} else if (d->type == APP_CTL_REPLY || d->type == APP_CTL_END) {
		rc = check_reply(d, m);
	} else {
		rc = 0;
	}
	if (rc < 0) {
		app_ctl_msg_clear(m);
		return rc;
	}
	return 1;
}

/* Refuse this message but keep the framing: its body is read and thrown away. */
static int skip_body(struct app_ctl_decoder *d)
{
	d->hdr_have = 0;
	if (d->len == 0) {
		d->state = DEC_HDR;
		return -EBADMSG;
	}
	d->skip_left = d->len;
	d->state = DEC_SKIP;
	return 0;
}

/* All 12 header bytes are in. Returns 0 to go on reading, else the feed's result. */
static int finish_header(struct app_ctl_decoder *d, struct app_ctl_msg *m)
{
	unsigned version = d->hdr[4], type = d->hdr[5];
	uint16_t flags;
	uint32_t len;

	memcpy(&flags, d->hdr + 6, sizeof(flags));
	memcpy(&len, d->hdr + 8, sizeof(len));
	flags = ntohs(flags);
	len = ntohl(len);
	d->type = type;
	d->flags = flags;
	d->len = len;
	if (len > d->max_body) {
		set_err(d, APP_CTL_E_OVERSIZE, -1,
			"message of %" PRIu32 " bytes exceeds the %zu-byte limit", len,
			d->max_body);
		return fail_framing(d);
	}
	if (version != APP_CTL_VERSION) {
		set_err(d, APP_CTL_E_VERSION, -1,
			"protocol version %u is not supported (this side speaks version %d): "
			"use vifwall and vifwalld from the same release",
			version, APP_CTL_VERSION);
		return skip_body(d);
	}
	if (!role_accepts(d->role, type)) {
		set_err(d, APP_CTL_E_TYPE, -1, "unexpected message type %u (%s) sent to a %s", type,
			type_name(type), d->role == APP_CTL_ROLE_SERVER ? "server" : "client");
		return skip_body(d);
	}
	if ((flags & ~APP_CTL_F_KNOWN) || ((flags & APP_CTL_F_RAW) && type != APP_CTL_CHUNK) ||
	    ((flags & APP_CTL_F_STREAM) && type != APP_CTL_REPLY)) {
		set_err(d, APP_CTL_E_FLAGS, -1, "flags 0x%04x are not valid on a %s", flags,
			type_name(type));
		return skip_body(d);
	}
	d->hdr_have = 0;
	if (len == 0)
		return finish_body(d, m);
	d->body = malloc(len);
	if (!d->body) {
		set_err(d, APP_CTL_E_NOMEM, -1, "out of memory for a %" PRIu32 "-byte message",
			len);
		/* Still skip the body: the next message may fit once memory is back. */
		return skip_body(d);
	}
	d->body_have = 0;
	d->state = DEC_BODY;
	return 0;
}

int app_ctl_decoder_feed(struct app_ctl_decoder *d, const void *buf, size_t len, size_t *used,
			 struct app_ctl_msg *msg)
{
	const uint8_t *p = buf;
	size_t n = 0, take;
	int rc;

	*used = 0;
	if (d->state == DEC_DEAD)
		return -EPROTO;
	while (n < len) {
		switch (d->state) {
		case DEC_HDR:
			/* Magic is checked byte by byte, so a stray peer is told at once. */
			if (d->hdr_have < sizeof(magic_bytes) && p[n] != magic_bytes[d->hdr_have]) {
				*used = n + 1;
				set_err(d, APP_CTL_E_MAGIC, -1,
					"not a vifwall control message (byte 0x%02x at offset %zu "
					"where the magic \"VFWC\" was expected)",
					p[n], d->hdr_have);
				return fail_framing(d);
			}
			d->hdr[d->hdr_have++] = p[n++];
			if (d->hdr_have == APP_CTL_HDR_LEN) {
				rc = finish_header(d, msg);
				if (rc) {
					*used = n;
					return rc;
				}
			}
			break;
		case DEC_BODY:
			take = d->len - d->body_have;
			if (take > len - n)
				take = len - n;
			memcpy(d->body + d->body_have, p + n, take);
			d->body_have += take;
			n += take;
			if (d->body_have == d->len) {
				*used = n;
				return finish_body(d, msg);
			}
			break;
		case DEC_SKIP:
			take = d->skip_left < len - n ? d->skip_left : len - n;
			d->skip_left -= take;
			n += take;
			if (d->skip_left == 0) {
				d->state = DEC_HDR;
				*used = n;
				return d->err.code == APP_CTL_E_NOMEM ? -ENOMEM : -EBADMSG;
			}
			break;
		case DEC_DEAD:
			*used = n;
			return -EPROTO;
		}
	}
	*used = n;
	return 0;
}

void app_ctl_header_write(uint8_t hdr[APP_CTL_HDR_LEN], enum app_ctl_type type, uint16_t flags,
			  uint32_t len)
{
	uint16_t f = htons(flags);
	uint32_t l = htonl(len);

	memcpy(hdr, magic_bytes, sizeof(magic_bytes));
	hdr[4] = APP_CTL_VERSION;
	hdr[5] = (uint8_t)type;
	memcpy(hdr + 6, &f, sizeof(f));
	memcpy(hdr + 8, &l, sizeof(l));
}

static size_t effective_max(size_t max_body)
{
	return max_body == 0 || max_body > APP_CTL_MAX_MSG ? APP_CTL_MAX_MSG : max_body;
}

int app_ctl_encode_json(enum app_ctl_type type, uint16_t flags, const json_t *body, size_t max_body,
			uint8_t **out, size_t *out_len)
{
	size_t need;
	uint8_t *buf;

	if (!json_is_object(body) || (flags & APP_CTL_F_RAW))
		return -EINVAL;
	need = json_dumpb(body, NULL, 0, JSON_COMPACT);
	if (need == 0)
		return -ENOMEM;
	if (need > effective_max(max_body))
		return -EMSGSIZE;
	buf = malloc(APP_CTL_HDR_LEN + need);
	if (!buf)
		return -ENOMEM;
	if (json_dumpb(body, (char *)buf + APP_CTL_HDR_LEN, need, JSON_COMPACT) != need) {
		free(buf);
		return -ENOMEM;
	}
	app_ctl_header_write(buf, type, flags, (uint32_t)need);
	*out = buf;
	*out_len = APP_CTL_HDR_LEN + need;
	return 0;
}

int app_ctl_encode_raw(const void *data, size_t len, size_t max_body, uint8_t **out,
		       size_t *out_len)
{
	uint8_t *buf;

	if (len > effective_max(max_body))
		return -EMSGSIZE;
	buf = malloc(APP_CTL_HDR_LEN + len);
	if (!buf)
		return -ENOMEM;
	app_ctl_header_write(buf, APP_CTL_CHUNK, APP_CTL_F_RAW, (uint32_t)len);
	if (len)
		memcpy(buf + APP_CTL_HDR_LEN, data, len);
	*out = buf;
	*out_len = APP_CTL_HDR_LEN + len;
	return 0;
}

json_t *app_ctl_request_build(int64_t id, const char *cmd, json_t *args)
{
	json_t *req = json_object();

	if (!req)
		return NULL;
	if (json_object_set_new(req, "id", json_integer(id)) ||
	    json_object_set_new(req, "cmd", json_string(cmd)) ||
	    (args && json_object_set(req, "args", args))) {
		json_decref(req);
		return NULL;
	}
	return req;
}

json_t *app_ctl_reply_build(int64_t id, json_t *result, const char *error, const char *code)
{
	json_t *rep = json_object(), *msg;

	if (!rep)
		return NULL;
	if (json_object_set_new(rep, "id", id < 0 ? json_null() : json_integer(id)))
		goto fail;
	if (!error) {
		if (json_object_set_new(rep, "ok", json_true()) ||
		    json_object_set(rep, "result", result ? result : json_null()))
			goto fail;
		return rep;
	}
	/* json_string() refuses invalid UTF-8; the failure must still get through. */
	msg = json_string(error);
	if (!msg)
		msg = json_string("(the error message was not valid UTF-8)");
	if (json_object_set_new(rep, "ok", json_false()) || json_object_set_new(rep, "error", msg))
		goto fail;
	if (code && json_object_set_new(rep, "code", json_string(code)))
		goto fail;
	return rep;
fail:
	json_decref(rep);
	return NULL;
}
