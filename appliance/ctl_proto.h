/*
 * vifwall's control protocol: the bytes between the CLI `vifwall` and the daemon
 * vifwalld, whatever carries them (a unix socket inside the appliance, a vchan from
 * dom0). Framing, parsing and building only; no I/O happens here.
 *
 * Wire format (every integer in network byte order):
 *
 *   offset size  field
 *   0      4     magic    "VFWC" (0x56 0x46 0x57 0x43)
 *   4      1     version  APP_CTL_VERSION
 *   5      1     type     enum app_ctl_type
 *   6      2     flags    APP_CTL_F_*
 *   8      4     length   body bytes that follow, at most APP_CTL_MAX_MSG
 *   12     len   body
 *
 * The header layout is the same in every protocol version, so a peer speaking another
 * version can still be told so, and the connection survives it.
 *
 * Bodies are JSON objects, except a stream chunk with APP_CTL_F_RAW whose body is
 * opaque bytes (pcap data, trace text) passed through untouched:
 *
 *   request  {"id": N, "cmd": "load", "args": {...}}          ("args" optional)
 *   reply    {"id": N, "ok": true, "result": ...}
 *            {"id": N, "ok": false, "error": "what to do", "code": "invalid-json"}
 *   chunk    raw bytes (APP_CTL_F_RAW), or any JSON object (e.g. one trace record)
 *   end      like a reply: how the stream ended, and its summary result or error
 *
 * "id" is a non-negative integer chosen by the client and echoed back; it is null
 * in an error reply to a request whose id could not be read. "code" is optional and
 * names the error for programs (app_ctl_errcode_name()).
 *
 * Streams: a reply carrying APP_CTL_F_STREAM says chunks follow on the same
 * connection, closed by one END message. A connection carries at most one stream at
 * a time; a client that wants to stop one closes the connection.
 */
#ifndef VIFWALL_APPLIANCE_CTL_PROTO_H
#define VIFWALL_APPLIANCE_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define APP_CTL_MAGIC	0x56465743u /* "VFWC" */
#define APP_CTL_VERSION 1
#define APP_CTL_HDR_LEN 12

/*
 * Largest body, either way. `load` carries a whole ruleset as one JSON string and
 * `show` returns it back with counters: a 10,000-rule ClassBench ruleset is about
 * 1.5 MB of nft text, and JSON escaping plus per-rule counters add well under half
 * again, so 4 MiB leaves room for twice that. A peer can make us hold at most this
 * much (plus its parsed JSON) per connection.
 */
#define APP_CTL_MAX_MSG (4u << 20)

enum app_ctl_type {
	APP_CTL_REQUEST = 1,
	APP_CTL_REPLY = 2,
	APP_CTL_CHUNK = 3,
	APP_CTL_END = 4,
};

#define APP_CTL_F_RAW	 0x0001 /* chunk only: the body is bytes, not JSON */
#define APP_CTL_F_STREAM 0x0002 /* reply only: chunks and an END follow */
#define APP_CTL_F_KNOWN	 (APP_CTL_F_RAW | APP_CTL_F_STREAM)

/* Which side decodes: a server accepts requests, a client everything else. */
enum app_ctl_role {
	APP_CTL_ROLE_SERVER,
	APP_CTL_ROLE_CLIENT,
};

/* Why a message was refused. The fatal ones make the stream unreadable. */
enum app_ctl_errcode {
	APP_CTL_E_NONE = 0,
	APP_CTL_E_MAGIC,      /* fatal: not our protocol, or lost framing */
	APP_CTL_E_OVERSIZE,   /* fatal: declared length above the limit */
	APP_CTL_E_VERSION,    /* the body was skipped */
	APP_CTL_E_TYPE,	      /* unknown type, or not one this role accepts */
	APP_CTL_E_FLAGS,      /* unknown flag, or a flag on the wrong type */
	APP_CTL_E_JSON,	      /* body is not valid JSON */
	APP_CTL_E_NOT_OBJECT, /* body is JSON but not an object */
	APP_CTL_E_ID,	      /* "id" missing or not a non-negative integer */
	APP_CTL_E_CMD,	      /* request: "cmd" missing, not a string, or empty */
	APP_CTL_E_ARGS,	      /* request: "args" present but not an object */
	APP_CTL_E_REPLY,      /* reply or end: "ok"/"error" missing or mistyped */
	APP_CTL_E_NOMEM,
};

/* A refusal, as the decoder saw it: enough to build the error reply. */
struct app_ctl_error {
	enum app_ctl_errcode code;
	int64_t id; /* the message's id when it could be read, else -1 */
	char msg[256];
};

/*
 * One decoded message. Every pointer except @body and @raw points into @body and
 * lives as long as it does; app_ctl_msg_clear() frees both.
 */
struct app_ctl_msg {
	enum app_ctl_type type;
	uint16_t flags;
	json_t *body;	   /* the JSON object; NULL for a raw chunk */
	int64_t id;	   /* request, reply, end: -1 when the reply's id is null */
	const char *cmd;   /* request */
	json_t *args;	   /* request: an object, empty when the client sent none */
	int ok;		   /* reply, end */
	json_t *result;	   /* reply, end with ok: the result, JSON null when absent */
	const char *error; /* reply, end without ok */
	uint8_t *raw;	   /* raw chunk: the body bytes (NULL when empty) */
	size_t raw_len;
};

struct app_ctl_decoder;

/*
 * Create a decoder for one connection. @role says which messages are acceptable;
 * @max_body (0 means APP_CTL_MAX_MSG, and never more) bounds each body.
 * Returns 0 and sets *@out (free with app_ctl_decoder_free()), or -EINVAL, -ENOMEM.
 */
int app_ctl_decoder_new(enum app_ctl_role role, size_t max_body, struct app_ctl_decoder **out);

/* Free a decoder and any partial message it holds. NULL is a no-op. */
void app_ctl_decoder_free(struct app_ctl_decoder *d);

/*
 * Feed @len bytes as they arrived. Consumes bytes up to the end of the first complete
 * message at most and says how many in *@used; feed the rest again afterwards.
 * Only a validated header's declared length is ever allocated.
 *
 * Returns 1 when *@msg holds a message (the caller owns it: app_ctl_msg_clear());
 * 0 when every byte was consumed and more are needed;
 * -EBADMSG when one message was refused and skipped: app_ctl_decoder_error() says
 *   why, and the decoder is ready for the next message;
 * -EPROTO when framing is lost (bad magic, oversized length): app_ctl_decoder_error()
 *   says why, and every later call returns -EPROTO; the connection should close;
 * -ENOMEM when a body could not be allocated or parsed for lack of memory (the
 *   message is skipped, as for -EBADMSG).
 */
int app_ctl_decoder_feed(struct app_ctl_decoder *d, const void *buf, size_t len, size_t *used,
			 struct app_ctl_msg *msg);

/* The last refusal reported by app_ctl_decoder_feed(); owned by the decoder. */
const struct app_ctl_error *app_ctl_decoder_error(const struct app_ctl_decoder *d);

/* True while the decoder is in the middle of a message (some bytes of it are in). */
int app_ctl_decoder_busy(const struct app_ctl_decoder *d);

/* Free what @m owns and zero it. */
void app_ctl_msg_clear(struct app_ctl_msg *m);

/* A short stable name for @code ("invalid-json"), used as the reply's "code". */
const char *app_ctl_errcode_name(enum app_ctl_errcode code);

/* True for the codes after which the connection cannot go on. */
int app_ctl_errcode_fatal(enum app_ctl_errcode code);

/*
 * Build a request body. @args may be NULL (no args); it is borrowed, not stolen.
 * Returns a new reference, or NULL when out of memory or @cmd is not UTF-8.
 */
json_t *app_ctl_request_build(int64_t id, const char *cmd, json_t *args);

/*
 * Build a reply or end body. With @error NULL it is a success carrying @result
 * (borrowed; NULL gives JSON null); otherwise a failure with that message and the
 * optional @code name. @id < 0 writes "id": null. Returns a new reference or NULL.
 */
json_t *app_ctl_reply_build(int64_t id, json_t *result, const char *error, const char *code);

/*
 * Frame @body (a JSON object) as one message of @type with @flags.
 * Returns 0 and sets *@out (caller frees) and *@out_len (header included);
 * -EMSGSIZE when the body would exceed @max_body (0 means APP_CTL_MAX_MSG);
 * -EINVAL, -ENOMEM.
 */
int app_ctl_encode_json(enum app_ctl_type type, uint16_t flags, const json_t *body, size_t max_body,
			uint8_t **out, size_t *out_len);

/*
 * Frame @len bytes of @data as one raw stream chunk (APP_CTL_F_RAW is added).
 * Returns 0 and sets *@out (caller frees) and *@out_len; -EMSGSIZE, -ENOMEM.
 */
int app_ctl_encode_raw(const void *data, size_t len, size_t max_body, uint8_t **out,
		       size_t *out_len);

/* Write the 12-byte header for a body of @len bytes into @hdr. */
void app_ctl_header_write(uint8_t hdr[APP_CTL_HDR_LEN], enum app_ctl_type type, uint16_t flags,
			  uint32_t len);

#endif
