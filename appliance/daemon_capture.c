/*
 * vifwalld's side of `vifwall capture` and `vifwall trace`: the commands start a
 * stream (ctl_server.h), the bridge's taps (netback-bridge/tap.h) copy frames and
 * drops into bounded per-client buffers inside the packet path, and after every
 * round of the loop app_daemon_taps_drain() sends what they hold. A client that
 * does not read fills its connection's queue; then its buffer fills and frames are
 * dropped and counted (told to the client as {"dropped": N} chunks and in the END
 * summary), so a stopped client never slows forwarding.
 *
 * With several forwarding workers the tap callbacks run in their threads: everything
 * they share with the loop's thread (slots, buffers, trace rings) is touched under the
 * bridge's tap lock (nb_bridge_tap_lock), which the bridge holds around callbacks.
 *
 * Limits a client cannot raise: APP_CAPTURE_MAX captures and APP_TRACE_MAX traces
 * at once, snaplen and count as tap_proto.h says, CAPTURE_BUF_BYTES and
 * TRACE_RING records per client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appliance/capture_buf.h"
#include "appliance/daemon_internal.h"
#include "appliance/frame_summary.h"
#include "appliance/tap_proto.h"
#include "filters/ruleset.h"
#include "netback-bridge/tap.h"

#define CAPTURE_BUF_BYTES (256u << 10) /* records waiting for one capture's client */
#define TRACE_RING	  256u	       /* drops waiting for one trace's client */
#define TRACE_SNAP	  128u	       /* bytes of a dropped frame kept for its summary */

struct capture {
	struct app_taps *taps;
	struct app_ctl_stream *stream; /* NULL: the slot is free */
	char port[APP_IFNAMSIZ];
	struct app_capbuf *cb;
	uint64_t dropped_told;
};

/* A dropped frame as the packet path saw it; made into JSON after the round. */
struct trace_rec {
	struct timespec ts;
	char in[APP_IFNAMSIZ], out[APP_IFNAMSIZ];
	enum nb_drop_reason why;
	bool ruled; /* a verdict decided: handle and chain are set */
	uint64_t handle;
	const char *chain; /* owned by the ruleset of generation gen */
	uint64_t gen;	   /* d->generation when it was dropped */
	uint32_t len, caplen;
	uint8_t data[TRACE_SNAP];
};

struct trace {
	struct app_taps *taps;
	struct app_ctl_stream *stream;
	uint64_t count, drops, dropped, dropped_told;
	bool complete;
	unsigned head, n;
	struct trace_rec ring[TRACE_RING];
};

struct app_taps {
	struct app_daemon *d;
	struct nb_tap tap;
	struct capture cap[APP_CAPTURE_MAX];
	struct trace tr[APP_TRACE_MAX];
};

/* --- the packet path's side: copy, never allocate or wait --- */

static void tap_frame(void *arg, const char *port, unsigned dir, const struct nb_frame *f)
{
	struct app_taps *t = arg;
	struct timespec ts = {0, 0};

	for (unsigned i = 0; i < APP_CAPTURE_MAX; i++) {
		struct capture *c = &t->cap[i];

		if (!c->stream || strncmp(c->port, port, APP_IFNAMSIZ) ||
		    !app_capbuf_match(c->cb, f->data, f->len))
			continue;
		if (!ts.tv_sec)
			clock_gettime(CLOCK_REALTIME, &ts); /* vDSO: no syscall */
		app_capbuf_keep(c->cb, f->data, f->len,
				dir == NB_TAP_RX ? APP_CAPREC_RX : APP_CAPREC_TX, &ts);
	}
}

static void tap_drop(void *arg, const struct nb_tap_drop *d)
{
	struct app_taps *t = arg;
	struct timespec ts = {0, 0};

	for (unsigned i = 0; i < APP_TRACE_MAX; i++) {
		struct trace *tr = &t->tr[i];
		struct trace_rec *r;

		if (!tr->stream || tr->complete)
			continue;
		if (tr->n == TRACE_RING) {
			tr->dropped++;
			continue;
		}
		if (!ts.tv_sec)
			clock_gettime(CLOCK_REALTIME, &ts);
		r = &tr->ring[(tr->head + tr->n++) % TRACE_RING];
		r->ts = ts;
		strncpy(r->in, d->in, APP_IFNAMSIZ - 1);
		r->in[APP_IFNAMSIZ - 1] = 0;
		r->out[0] = 0;
		if (d->out) {
			strncpy(r->out, d->out, APP_IFNAMSIZ - 1);
			r->out[APP_IFNAMSIZ - 1] = 0;
		}
		r->why = d->why;
		r->ruled = d->v && d->v->chain;
		r->handle = d->v ? d->v->rule_handle : 0;
		r->chain = d->v ? d->v->chain : NULL;
		r->gen = t->d->generation;
		r->len = d->f->len;
		r->caplen = d->f->len < TRACE_SNAP ? d->f->len : TRACE_SNAP;
		memcpy(r->data, d->f->data, r->caplen);
		tr->drops++;
		if (tr->count && tr->drops >= tr->count)
			tr->complete = true;
	}
}

/* --- taps on and off --- */

static void taps_apply(struct app_taps *t, const char *port)
{
	unsigned dirs = 0;
	bool traces = false, any = false;

	for (unsigned i = 0; i < APP_CAPTURE_MAX; i++) {
		any |= t->cap[i].stream != NULL;
		if (t->cap[i].stream && port && !strncmp(t->cap[i].port, port, APP_IFNAMSIZ))
			dirs = NB_TAP_RX | NB_TAP_TX;
	}
	for (unsigned i = 0; i < APP_TRACE_MAX; i++)
		traces |= t->tr[i].stream != NULL;
	if (port)
		nb_bridge_tap_port(t->d->br, port, dirs); /* gone already: nothing to undo */
	nb_bridge_tap_set(t->d->br, any || traces ? &t->tap : NULL, traces);
}

static void capture_release(struct capture *c)
{
	char port[APP_IFNAMSIZ];

	memcpy(port, c->port, sizeof(port));
	c->stream = NULL;
	app_capbuf_free(c->cb);
	c->cb = NULL;
	taps_apply(c->taps, port);
}

static void capture_cancel(void *arg, struct app_ctl_stream *stream)
{
	struct capture *c = arg;
	struct nb_bridge *br = c->taps->d->br;

	(void)stream;
	nb_bridge_tap_lock(br);
	capture_release(c);
	nb_bridge_tap_unlock(br);
}

static void trace_cancel(void *arg, struct app_ctl_stream *stream)
{
	struct trace *tr = arg;
	struct nb_bridge *br = tr->taps->d->br;

	(void)stream;
	nb_bridge_tap_lock(br);
	tr->stream = NULL;
	taps_apply(tr->taps, NULL);
	nb_bridge_tap_unlock(br);
}

static int taps_get(struct app_daemon *d, struct app_taps **out)
{
	if (!d->taps) {
		d->taps = calloc(1, sizeof(*d->taps));
		if (!d->taps)
			return -ENOMEM;
		d->taps->d = d;
		d->taps->tap =
			(struct nb_tap){.frame = tap_frame, .drop = tap_drop, .arg = d->taps};
	}
	*out = d->taps;
	return 0;
}

/* --- the commands --- */

static int capture_start(struct app_daemon *d, json_t *args, struct app_ctl_reply *reply)
{
	struct app_capture_req req;
	struct capture *c = NULL;
	struct app_taps *t;
	char err[512];
	int rc;

	if (app_capture_req_parse(args, &req, err, sizeof(err)) < 0)
		return app_ctl_reply_error(reply, "%s", err);
	if (nb_bridge_tap_dirs(d->br, req.port) < 0)
		return app_ctl_reply_error(reply, "no port '%s' (vifwall ports lists them)",
					   req.port);
	if ((rc = taps_get(d, &t)) < 0)
		return rc;
	for (unsigned i = 0; i < APP_CAPTURE_MAX && !c; i++)
		if (!t->cap[i].stream)
			c = &t->cap[i];
	if (!c)
		return app_ctl_reply_error(reply,
					   "%u captures are running, the most vifwalld "
					   "allows; stop one first",
					   APP_CAPTURE_MAX);
	rc = app_capbuf_new(req.filter, req.snaplen, req.count, CAPTURE_BUF_BYTES, &c->cb, err,
			    sizeof(err));
	if (rc == -EINVAL)
		return app_ctl_reply_error(reply, "bad filter expression '%s': %s", req.filter,
					   err);
	if (rc < 0)
		return rc;
	c->taps = t;
	c->dropped_told = 0;
	memcpy(c->port, req.port, sizeof(c->port));
	rc = app_ctl_reply_stream(reply,
				  json_pack("{s:s, s:I, s:i}", "port", req.port, "snaplen",
					    (json_int_t)req.snaplen, "linktype", 1),
				  capture_cancel, c, &c->stream);
	if (rc < 0) {
		app_capbuf_free(c->cb);
		c->cb = NULL;
		c->stream = NULL;
		return rc;
	}
	flt_log(d->log, LOG_INFO, "capture on %s started (filter '%s', count %llu)", req.port,
		req.filter, (unsigned long long)req.count);
	taps_apply(t, req.port);
	return 0;
}

/* Run @start under the tap lock: it fills slots the workers' callbacks read. */
static int tap_locked(struct app_daemon *d,
		      int (*start)(struct app_daemon *, json_t *, struct app_ctl_reply *),
		      json_t *args, struct app_ctl_reply *reply)
{
	int rc;

	nb_bridge_tap_lock(d->br);
	rc = start(d, args, reply);
	nb_bridge_tap_unlock(d->br);
	return rc;
}

int app_daemon_ctl_capture(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	return tap_locked(arg, capture_start, args, reply);
}

static int trace_start(struct app_daemon *d, json_t *args, struct app_ctl_reply *reply)
{
	struct trace *tr = NULL;
	struct app_taps *t;
	uint64_t count;
	char err[256];
	int rc;

	if (app_trace_req_parse(args, &count, err, sizeof(err)) < 0)
		return app_ctl_reply_error(reply, "%s", err);
	if ((rc = taps_get(d, &t)) < 0)
		return rc;
	for (unsigned i = 0; i < APP_TRACE_MAX && !tr; i++)
		if (!t->tr[i].stream)
			tr = &t->tr[i];
	if (!tr)
		return app_ctl_reply_error(reply,
					   "%u traces are running, the most vifwalld "
					   "allows; stop one first",
					   APP_TRACE_MAX);
	memset(tr, 0, sizeof(*tr));
	tr->taps = t;
	tr->count = count;
	rc = app_ctl_reply_stream(reply, json_object(), trace_cancel, tr, &tr->stream);
	if (rc < 0) {
		tr->stream = NULL;
		return rc;
	}
	flt_log(d->log, LOG_INFO, "trace started (count %llu)", (unsigned long long)count);
	taps_apply(t, NULL);
	return 0;
}

int app_daemon_ctl_trace(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	return tap_locked(arg, trace_start, args, reply);
}

/* --- after every round: send what the taps kept --- */

static json_t *trace_json(struct app_daemon *d, const struct trace_rec *r)
{
	char frame[256];
	json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s}", "time_ns",
			      (json_int_t)r->ts.tv_sec * 1000000000 + (json_int_t)r->ts.tv_nsec,
			      "port", r->in, "reason", nb_drop_reason_name(r->why), "len",
			      (json_int_t)r->len, "frame",
			      app_frame_summary(r->data, r->caplen, r->len, frame, sizeof(frame)));

	if (!o)
		return NULL;
	if (r->out[0])
		json_object_set_new(o, "out", json_string(r->out));
	/* The chain's name and the rule's source live in the ruleset that decided: only
	 * while it is still installed (a record kept for a lagging client may outlive it;
	 * the generation, not the pointer, tells, as a new ruleset may reuse the address). */
	if (r->ruled && r->gen == d->generation && d->rs) {
		struct flt_rule_src src;
		json_t *rule =
			json_pack("{s:s, s:I}", "chain", r->chain, "handle", (json_int_t)r->handle);

		if (rule && r->handle && flt_ruleset_rule_src(d->rs, r->handle, &src) == 0) {
			json_object_set_new(rule, "file", json_string(src.file ? src.file : ""));
			json_object_set_new(rule, "line", json_integer(src.line));
			json_object_set_new(rule, "text", json_string(src.text ? src.text : ""));
		}
		json_object_set_new(o, "rule", rule);
	}
	return o;
}

/* Tell the client how many records it lost since it was last told. */
static void dropped_tell(struct app_ctl_stream *s, uint64_t dropped, uint64_t *told)
{
	json_t *o;

	if (dropped == *told || !(o = json_pack("{s:I}", "dropped", (json_int_t)dropped)))
		return;
	if (app_ctl_stream_write_json(s, o) == 0)
		*told = dropped;
	json_decref(o);
}

static void capture_drain(struct app_daemon *d, struct capture *c)
{
	struct app_capbuf_stats st;
	const uint8_t *buf;
	size_t len;
	int rc;

	if (nb_bridge_tap_dirs(d->br, c->port) <= 0) {
		/* Removed, or removed and added again: this capture's port is gone. */
		char why[64];

		snprintf(why, sizeof(why), "port %s went away", c->port);
		app_ctl_stream_end(c->stream, NULL, why);
		flt_log(d->log, LOG_INFO, "capture on %s ended: the port went away", c->port);
		capture_release(c);
		return;
	}
	app_capbuf_stats(c->cb, &st);
	dropped_tell(c->stream, st.dropped, &c->dropped_told);
	buf = app_capbuf_pending(c->cb, &len);
	if (len) {
		rc = app_ctl_stream_write(c->stream, buf, len);
		if (rc == -ENOBUFS || rc == -EPIPE)
			return; /* lagging: try again next round; going away: cancel comes */
		app_capbuf_sent(c->cb); /* sent, or cannot ever be (-ENOMEM): lost */
	}
	if (st.complete) {
		json_t *res = json_pack("{s:I, s:I}", "frames", (json_int_t)st.frames, "dropped",
					(json_int_t)st.dropped);

		app_ctl_stream_end(c->stream, res, NULL);
		json_decref(res);
		flt_log(d->log, LOG_INFO, "capture on %s done: %llu frames, %llu dropped", c->port,
			(unsigned long long)st.frames, (unsigned long long)st.dropped);
		capture_release(c);
	}
}

static void trace_drain(struct app_daemon *d, struct trace *tr)
{
	dropped_tell(tr->stream, tr->dropped, &tr->dropped_told);
	while (tr->n) {
		json_t *o = trace_json(d, &tr->ring[tr->head]);
		int rc = o ? app_ctl_stream_write_json(tr->stream, o) : -ENOMEM;

		json_decref(o);
		if (rc == -ENOBUFS || rc == -EPIPE)
			return;
		tr->head = (tr->head + 1) % TRACE_RING;
		tr->n--;
	}
	if (tr->complete) {
		json_t *res = json_pack("{s:I, s:I}", "drops", (json_int_t)tr->drops, "dropped",
					(json_int_t)tr->dropped);

		app_ctl_stream_end(tr->stream, res, NULL);
		json_decref(res);
		tr->stream = NULL;
		taps_apply(tr->taps, NULL);
	}
}

void app_daemon_taps_drain(struct app_daemon *d)
{
	struct app_taps *t = d->taps;

	if (!t)
		return;
	nb_bridge_tap_lock(d->br);
	for (unsigned i = 0; i < APP_CAPTURE_MAX; i++)
		if (t->cap[i].stream)
			capture_drain(d, &t->cap[i]);
	for (unsigned i = 0; i < APP_TRACE_MAX; i++)
		if (t->tr[i].stream)
			trace_drain(d, &t->tr[i]);
	nb_bridge_tap_unlock(d->br);
}

void app_daemon_taps_free(struct app_daemon *d)
{
	if (!d->taps)
		return;
	/* The server is gone: its streams were cancelled, which untapped every port. */
	if (d->br)
		nb_bridge_tap_set(d->br, NULL, false);
	free(d->taps);
	d->taps = NULL;
}
