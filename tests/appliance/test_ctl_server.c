/*
 * Tests of the control server and client over a real unix socket in a temporary
 * directory: the server runs its poll loop in a thread, as vifwalld would, and
 * the test is the CLI. Raw sockets stand in for broken or hostile clients.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "appliance/ctl_client.h"
#include "appliance/ctl_proto.h"
#include "appliance/ctl_server.h"

#define TRACE_CHUNKS 5

/* The daemon's side of the test: what handlers see and do. */
struct daemon {
	pthread_mutex_t lock; /* guards log */
	char log[16384];
	struct app_ctl_stream *trace; /* a stream fed from the loop, as a trace would be */
	int trace_sent;
	int cancelled;		     /* atomic: the trace's client went away */
	struct app_ctl_stream *slow; /* a deferred reply, finished from the loop */
	json_t *slow_args;
	int slow_ticks;
	int slow_cancelled; /* atomic: the slow command's client went away */
	int clients;	    /* atomic: the server's client count, published by the loop */
};

struct harness {
	char dir[64];
	char path[96];
	struct daemon dm;
	struct flt_logger log;
	struct app_ctl_server_config cfg;
	struct app_ctl_server *srv;
	pthread_t thread;
	int stop[2];
};

static void log_to_buffer(void *arg, int level, const char *msg)
{
	struct daemon *dm = arg;
	size_t n;

	(void)level;
	pthread_mutex_lock(&dm->lock);
	n = strlen(dm->log);
	snprintf(dm->log + n, sizeof(dm->log) - n, "%s\n", msg);
	pthread_mutex_unlock(&dm->lock);
}

static int log_has(struct daemon *dm, const char *needle)
{
	int found;

	pthread_mutex_lock(&dm->lock);
	found = strstr(dm->log, needle) != NULL;
	pthread_mutex_unlock(&dm->lock);
	return found;
}

static int cmd_echo(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	(void)arg;
	app_ctl_reply_result(reply, json_incref(args));
	return 0;
}

static int cmd_fail(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	(void)arg;
	return app_ctl_reply_error(reply, "rules.nft:3: syntax error (%s)",
				   json_string_value(json_object_get(args, "why")));
}

static int cmd_errno(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	(void)arg;
	(void)args;
	(void)reply;
	return -ENOENT;
}

static int cmd_big(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	size_t n = (size_t)json_integer_value(json_object_get(args, "bytes"));
	char *s = malloc(n + 1);

	(void)arg;
	memset(s, 'r', n);
	s[n] = '\0';
	app_ctl_reply_result(reply, json_string(s));
	free(s);
	return 0;
}

/* A capture-like stream written entirely inside the handler, lossy when the queue fills. */
static int cmd_capture(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	int n = (int)json_integer_value(json_object_get(args, "n"));
	size_t size = (size_t)json_integer_value(json_object_get(args, "size"));
	struct app_ctl_stream *st;
	int sent = 0, dropped = 0, rc;
	char *pkt = malloc(size + 1);

	(void)arg;
	rc = app_ctl_reply_stream(reply, json_pack("{s:s}", "linktype", "ethernet"), NULL, NULL,
				  &st);
	if (rc < 0) {
		free(pkt);
		return rc;
	}
	for (int i = 0; i < n; i++) {
		snprintf(pkt, size + 1, "%0*d", (int)size, i);
		rc = app_ctl_stream_write(st, pkt, size);
		if (rc == -ENOBUFS)
			dropped++;
		else if (rc == 0)
			sent++;
		else
			break;
	}
	free(pkt);
	json_t *sum = json_pack("{s:i, s:i}", "sent", sent, "dropped", dropped);
	app_ctl_stream_end(st, sum, NULL);
	json_decref(sum);
	return 0;
}

static void trace_cancel(void *arg, struct app_ctl_stream *st)
{
	struct daemon *dm = arg;

	assert_ptr_equal(st, dm->trace);
	dm->trace = NULL;
	__atomic_store_n(&dm->cancelled, 1, __ATOMIC_SEQ_CST);
}

/* A trace-like stream: chunks come later, from the daemon's loop. */
static int cmd_trace(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct daemon *dm = arg;

	(void)args;
	if (dm->trace)
		return app_ctl_reply_error(reply, "one trace at a time in this test");
	dm->trace_sent = 0;
	return app_ctl_reply_stream(reply, NULL, trace_cancel, dm, &dm->trace);
}

static void slow_cancel(void *arg, struct app_ctl_stream *d)
{
	struct daemon *dm = arg;

	assert_ptr_equal(d, dm->slow);
	dm->slow = NULL;
	json_decref(dm->slow_args);
	__atomic_store_n(&dm->slow_cancelled, 1, __ATOMIC_SEQ_CST);
}

/* Like a ruleset load in a thread: the reply comes from the loop, 20 turns later;
 * args.fail asks for an error reply. */
static int cmd_slow(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct daemon *dm = arg;
	int rc;

	if (dm->slow)
		return app_ctl_reply_error(reply, "one slow command at a time in this test");
	rc = app_ctl_reply_defer(reply, slow_cancel, dm, &dm->slow);
	if (rc == 0) {
		dm->slow_args = json_incref(args);
		dm->slow_ticks = 0;
	}
	return rc;
}

static const struct app_ctl_command commands[] = {
	{"echo", cmd_echo},	  {"fail", cmd_fail},	{"errno", cmd_errno}, {"big", cmd_big},
	{"capture", cmd_capture}, {"trace", cmd_trace}, {"slow", cmd_slow},
};

/* One turn of the daemon's work outside the server: finish the slow command, feed
 * the trace stream. */
static void daemon_tick(struct daemon *dm, int limit)
{
	char line[64];

	if (dm->slow && ++dm->slow_ticks == 20) {
		if (json_is_true(json_object_get(dm->slow_args, "fail")))
			app_ctl_deferred_finish(dm->slow, NULL, "slow: it failed, as asked");
		else
			app_ctl_deferred_finish(dm->slow, json_pack("{s:O}", "echo", dm->slow_args),
						NULL);
		json_decref(dm->slow_args);
		dm->slow = NULL;
	}

	if (!dm->trace)
		return;
	if (dm->trace_sent == limit) {
		json_t *sum = json_pack("{s:i}", "lines", dm->trace_sent);

		app_ctl_stream_end(dm->trace, sum, NULL);
		json_decref(sum);
		dm->trace = NULL;
		return;
	}
	snprintf(line, sizeof(line), "drop %d reason=spoofed-ip\n", dm->trace_sent);
	if (app_ctl_stream_write(dm->trace, line, strlen(line)) == 0)
		dm->trace_sent++;
}

static void *server_loop(void *arg)
{
	struct harness *h = arg;
	struct pollfd fds[64];
	/* Endless traces in the cancel test; five lines otherwise. */
	int limit = h->cfg.max_clients == 3 ? -1 : TRACE_CHUNKS;

	for (;;) {
		size_t n = app_ctl_server_pollfds(h->srv, fds, 63);

		__atomic_store_n(&h->dm.clients, (int)app_ctl_server_clients(h->srv),
				 __ATOMIC_SEQ_CST);
		fds[n] = (struct pollfd){.fd = h->stop[0], .events = POLLIN};
		if (poll(fds, n + 1, 5) < 0)
			continue;
		if (fds[n].revents)
			break;
		app_ctl_server_handle(h->srv, fds, n);
		daemon_tick(&h->dm, limit);
	}
	return NULL;
}

static void harness_start_cfg(struct harness *h, size_t max_clients, size_t max_msg)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->dm.lock, NULL);
	snprintf(h->dir, sizeof(h->dir), "/tmp/vifwall-ctl-XXXXXX");
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->path, sizeof(h->path), "%s/run/ctl", h->dir);
	h->log = (struct flt_logger){.fn = log_to_buffer, .arg = &h->dm, .max_level = LOG_DEBUG};
	h->cfg = (struct app_ctl_server_config){
		.commands = commands,
		.n_commands = sizeof(commands) / sizeof(commands[0]),
		.arg = &h->dm,
		.log = &h->log,
		.max_clients = max_clients,
		.max_msg = max_msg,
	};
	assert_int_equal(app_ctl_server_open_unix(h->path, &h->cfg, &h->srv), 0);
	assert_int_equal(pipe(h->stop), 0);
	assert_int_equal(pthread_create(&h->thread, NULL, server_loop, h), 0);
}

static void harness_start(struct harness *h)
{
	harness_start_cfg(h, 0, 0);
}

static void harness_stop(struct harness *h)
{
	char dir[80];

	assert_int_equal(write(h->stop[1], "x", 1), 1);
	pthread_join(h->thread, NULL);
	app_ctl_server_free(h->srv);
	/* The server removes its own socket. */
	assert_int_equal(access(h->path, F_OK), -1);
	close(h->stop[0]);
	close(h->stop[1]);
	snprintf(dir, sizeof(dir), "%s/run", h->dir);
	rmdir(dir);
	rmdir(h->dir);
	pthread_mutex_destroy(&h->dm.lock);
}

static struct app_ctl_client *connect_ok(struct harness *h)
{
	struct app_ctl_client *c = NULL;
	char *err = NULL;

	if (app_ctl_client_connect_unix(h->path, &c, &err))
		fail_msg("connect: %s", err);
	app_ctl_client_set_timeout(c, 5000);
	return c;
}

static void wait_clients(struct harness *h, int n)
{
	for (int i = 0; i < 400; i++) {
		if (__atomic_load_n(&h->dm.clients, __ATOMIC_SEQ_CST) == n)
			return;
		usleep(5000);
	}
	fail_msg("the server has %d clients, expected %d",
		 __atomic_load_n(&h->dm.clients, __ATOMIC_SEQ_CST), n);
}

/* A raw connection, for clients that misbehave. */
static int raw_connect(struct harness *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void raw_send_req(int fd, const char *body)
{
	uint8_t hdr[APP_CTL_HDR_LEN];

	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, (uint32_t)strlen(body));
	raw_send(fd, hdr, sizeof(hdr));
	raw_send(fd, body, strlen(body));
}

/* Read one message from a raw connection. Returns 1, or 0 at end of stream. */
static int raw_recv(int fd, struct app_ctl_decoder *d, struct app_ctl_msg *m)
{
	uint8_t byte;
	size_t used;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int rc;

		assert_int_equal(poll(&p, 1, 5000), 1);
		if (recv(fd, &byte, 1, 0) != 1)
			return 0;
		rc = app_ctl_decoder_feed(d, &byte, 1, &used, m);
		assert_true(rc >= 0);
		if (rc == 1)
			return 1;
	}
}

static void test_call_returns_result(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	json_t *args = json_pack("{s:s, s:[i,i]}", "rules", "table inet vifwall {}", "n", 1, 2);
	json_t *res = NULL, *none = NULL;
	char *err = NULL;
	struct stat st;

	(void)state;
	harness_start(&h);
	assert_int_equal(stat(h.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call(c, "echo", args, &res, &err), 0);
	assert_true(json_equal(res, args));
	/* No args: handlers still get an (empty) object. */
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &none, &err), 0);
	assert_int_equal(json_object_size(none), 0);
	app_ctl_client_free(c);
	json_decref(res);
	json_decref(none);
	json_decref(args);
	harness_stop(&h);
}

static void test_errors_reach_the_user(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	json_t *res, *why = json_pack("{s:s}", "why", "missing brace");
	char *err = NULL;

	(void)state;
	harness_start(&h);
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call(c, "fail", why, &res, &err), -EREMOTEIO);
	assert_null(res);
	assert_string_equal(err, "rules.nft:3: syntax error (missing brace)");
	assert_int_equal(app_ctl_client_call(c, "errno", NULL, &res, &err), -EREMOTEIO);
	assert_string_equal(err, "errno: No such file or directory");
	assert_int_equal(app_ctl_client_call(c, "frobnicate", NULL, &res, &err), -EREMOTEIO);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
	assert_non_null(strstr(err, "echo"));
	assert_non_null(strstr(err, "trace"));
	/* And the connection is as good as new. */
	assert_int_equal(app_ctl_client_call(c, "echo", why, &res, &err), 0);
	json_decref(res);
	free(err);
	app_ctl_client_free(c);
	json_decref(why);
	harness_stop(&h);
}

static void test_malformed_body_then_connection_still_works(void **state)
{
	struct harness h;
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	int fd;

	(void)state;
	harness_start(&h);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	fd = raw_connect(&h);
	raw_send_req(fd, "{\"id\":1,\"cmd\":\"echo\",");
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_false(m.ok);
	assert_int_equal(m.id, -1);
	assert_string_equal(json_string_value(json_object_get(m.body, "code")), "invalid-json");
	app_ctl_msg_clear(&m);
	raw_send_req(fd, "{\"id\":2,\"cmd\":7}");
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_int_equal(m.id, 2);
	assert_string_equal(json_string_value(json_object_get(m.body, "code")), "bad-cmd");
	app_ctl_msg_clear(&m);
	raw_send_req(fd, "{\"id\":3,\"cmd\":\"echo\",\"args\":{\"x\":1}}");
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_true(m.ok);
	assert_int_equal(m.id, 3);
	assert_int_equal(json_integer_value(json_object_get(m.result, "x")), 1);
	app_ctl_msg_clear(&m);
	close(fd);
	app_ctl_decoder_free(d);
	harness_stop(&h);
}

static void expect_fatal(struct harness *h, const void *bytes, size_t len, const char *code)
{
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	int fd = raw_connect(h);

	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	raw_send(fd, bytes, len);
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_false(m.ok);
	assert_string_equal(json_string_value(json_object_get(m.body, "code")), code);
	app_ctl_msg_clear(&m);
	/* Then the server hangs up. */
	assert_int_equal(raw_recv(fd, d, &m), 0);
	close(fd);
	app_ctl_decoder_free(d);
}

static void test_framing_errors_close_the_connection(void **state)
{
	struct harness h;
	uint8_t hdr[APP_CTL_HDR_LEN];

	(void)state;
	harness_start(&h);
	expect_fatal(&h, "GET / HTTP/1.1\r\n", 16, "bad-magic");
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, APP_CTL_MAX_MSG + 1);
	expect_fatal(&h, hdr, sizeof(hdr), "too-large");
	wait_clients(&h, 0);
	assert_true(log_has(&h.dm, "closing the connection"));
	harness_stop(&h);
}

static void test_two_clients_one_stalled_mid_message(void **state)
{
	struct harness h;
	struct app_ctl_client *a, *b;
	uint8_t hdr[APP_CTL_HDR_LEN];
	json_t *res, *args = json_pack("{s:i}", "k", 1);
	char *err = NULL;
	int fd;

	(void)state;
	harness_start(&h);
	/* A raw client sends half a message and waits: nobody else may wait with it. */
	fd = raw_connect(&h);
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, 1000);
	raw_send(fd, hdr, sizeof(hdr));
	raw_send(fd, "{\"id\":1,", 8);
	a = connect_ok(&h);
	b = connect_ok(&h);
	for (int i = 0; i < 20; i++) {
		struct app_ctl_client *c = i % 2 ? a : b;

		json_object_set_new(args, "k", json_integer(i));
		assert_int_equal(app_ctl_client_call(c, "echo", args, &res, &err), 0);
		assert_int_equal(json_integer_value(json_object_get(res, "k")), i);
		json_decref(res);
	}
	wait_clients(&h, 3);
	/* Now the stalled client goes away in the middle of its message. */
	close(fd);
	wait_clients(&h, 2);
	assert_true(log_has(&h.dm, "went away in the middle of a message"));
	assert_int_equal(app_ctl_client_call(a, "echo", args, &res, &err), 0);
	json_decref(res);
	app_ctl_client_free(a);
	app_ctl_client_free(b);
	wait_clients(&h, 0);
	json_decref(args);
	harness_stop(&h);
}

static void test_stream_of_chunks(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	struct app_ctl_chunk ch;
	json_t *res, *end;
	char *err = NULL;
	int n = 0, rc;

	(void)state;
	harness_start(&h);
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call_stream(c, "trace", NULL, &res, &err), 0);
	while ((rc = app_ctl_client_stream_next(c, &ch, &end, &err)) == 1) {
		char want[64];

		snprintf(want, sizeof(want), "drop %d reason=spoofed-ip\n", n++);
		assert_int_equal(ch.len, strlen(want));
		assert_memory_equal(ch.data, want, ch.len);
		assert_null(ch.json);
		app_ctl_chunk_clear(&ch);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, TRACE_CHUNKS);
	assert_int_equal(json_integer_value(json_object_get(end, "lines")), TRACE_CHUNKS);
	json_decref(end);
	json_decref(res);
	/* The stream is over: the connection serves calls again. */
	assert_int_equal(app_ctl_client_stream_next(c, &ch, &end, &err), -EINVAL);
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &res, &err), 0);
	json_decref(res);
	/* A plain call refuses to swallow a stream. */
	assert_int_equal(app_ctl_client_call(c, "trace", NULL, &res, &err), -EPROTO);
	free(err);
	app_ctl_client_free(c);
	harness_stop(&h);
}

static void test_stream_cancelled_when_client_leaves(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	struct app_ctl_chunk ch;
	json_t *res, *res2;
	char *err = NULL;

	(void)state;
	harness_start_cfg(&h, 3, 0); /* max_clients 3 makes the trace endless */
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call_stream(c, "trace", NULL, &res, &err), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(app_ctl_client_stream_next(c, &ch, NULL, &err), 1);
		app_ctl_chunk_clear(&ch);
	}
	/* One stream per connection: other commands need a connection of their own. */
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &res2, &err), -EBUSY);
	free(err);
	app_ctl_client_free(c);
	wait_clients(&h, 0);
	assert_int_equal(__atomic_load_n(&h.dm.cancelled, __ATOMIC_SEQ_CST), 1);
	json_decref(res);
	harness_stop(&h);
}

static void test_deferred_reply(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	json_t *args = json_pack("{s:i}", "n", 7), *res = NULL;
	char *err = NULL;
	int fd;

	(void)state;
	harness_start(&h);
	c = connect_ok(&h);
	/* The reply arrives when the loop finishes the work, as an ordinary reply. */
	assert_int_equal(app_ctl_client_call(c, "slow", args, &res, &err), 0);
	assert_true(json_equal(json_object_get(res, "echo"), args));
	json_decref(res);
	json_decref(args);
	args = json_pack("{s:b}", "fail", 1);
	assert_int_equal(app_ctl_client_call(c, "slow", args, &res, &err), -EREMOTEIO);
	assert_non_null(strstr(err, "it failed, as asked"));
	free(err);
	err = NULL;
	json_decref(args);
	/* The connection serves calls again. */
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &res, &err), 0);
	json_decref(res);
	app_ctl_client_free(c);

	/* Pipelined behind a pending reply: told busy at once, then the reply comes. */
	fd = raw_connect(&h);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	raw_send_req(fd, "{\"v\":1,\"id\":1,\"cmd\":\"slow\",\"args\":{}}");
	raw_send_req(fd, "{\"v\":1,\"id\":2,\"cmd\":\"echo\",\"args\":{}}");
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_int_equal(m.id, 2);
	assert_non_null(strstr(m.error, "still running"));
	app_ctl_msg_clear(&m);
	assert_int_equal(raw_recv(fd, d, &m), 1);
	assert_int_equal(m.id, 1);
	assert_null(m.error);
	app_ctl_msg_clear(&m);

	/* A client that leaves before its reply: the daemon is told, nothing is sent. */
	raw_send_req(fd, "{\"v\":1,\"id\":3,\"cmd\":\"slow\",\"args\":{}}");
	close(fd);
	wait_clients(&h, 0);
	assert_int_equal(__atomic_load_n(&h.dm.slow_cancelled, __ATOMIC_SEQ_CST), 1);
	app_ctl_decoder_free(d);
	harness_stop(&h);
}

static void test_lossy_stream_and_oversized_reply(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	struct app_ctl_chunk ch;
	json_t *res, *end, *args = json_pack("{s:i, s:i}", "n", 500, "size", 900);
	char *err = NULL;
	int got = 0, rc;

	(void)state;
	harness_start_cfg(&h, 0, 1000); /* queue bound: 2 * (1000 + 12) bytes */
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call_stream(c, "capture", args, &res, &err), 0);
	assert_string_equal(json_string_value(json_object_get(res, "linktype")), "ethernet");
	while ((rc = app_ctl_client_stream_next(c, &ch, &end, &err)) == 1) {
		assert_int_equal(ch.len, 900);
		got++;
		app_ctl_chunk_clear(&ch);
	}
	assert_int_equal(rc, 0);
	/* Chunks that did not fit were refused, counted, and the rest all arrived. */
	assert_int_equal(json_integer_value(json_object_get(end, "sent")), got);
	assert_true(json_integer_value(json_object_get(end, "dropped")) > 0);
	assert_int_equal(got + json_integer_value(json_object_get(end, "dropped")), 500);
	json_decref(end);
	json_decref(res);
	json_decref(args);
	/* A reply above the limit becomes an error that says so. */
	args = json_pack("{s:i}", "bytes", 2000);
	assert_int_equal(app_ctl_client_call(c, "big", args, &res, &err), -EREMOTEIO);
	assert_non_null(strstr(err, "exceeds the 1000-byte message limit"));
	free(err);
	json_decref(args);
	app_ctl_client_free(c);
	harness_stop(&h);
}

static void test_client_that_never_reads_is_dropped(void **state)
{
	struct harness h;
	char body[1000];
	uint8_t hdr[APP_CTL_HDR_LEN];
	size_t total = 0;
	int fd, n;

	(void)state;
	harness_start_cfg(&h, 0, 1000);
	fd = raw_connect(&h);
	n = snprintf(body, sizeof(body), "{\"id\":1,\"cmd\":\"echo\",\"args\":{\"p\":\"%0*d\"}}",
		     900, 0);
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, (uint32_t)n);
	/* Pipeline requests and never read a reply, until the server hangs up. */
	while (total < (64u << 20)) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};

		if (poll(&p, 1, 5000) != 1)
			fail_msg("the server neither read nor dropped the client");
		if (p.revents & (POLLERR | POLLHUP))
			break;
		if (send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL) < 0 ||
		    send(fd, body, (size_t)n, MSG_NOSIGNAL) < 0)
			break;
		total += sizeof(hdr) + (size_t)n;
	}
	wait_clients(&h, 0);
	assert_true(log_has(&h.dm, "does not read its replies"));
	close(fd);
	harness_stop(&h);
}

static void test_connect_errors_say_what_to_do(void **state)
{
	struct app_ctl_client *c = NULL;
	char dir[] = "/tmp/vifwall-ctl-XXXXXX", path[96];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *err = NULL;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	assert_int_equal(app_ctl_client_connect_unix(path, &c, &err), -ENOENT);
	assert_non_null(strstr(err, "is vifwalld running? socket"));
	assert_non_null(strstr(err, path));
	/* A socket left behind by a dead daemon. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(app_ctl_client_connect_unix(path, &c, &err), -ECONNREFUSED);
	assert_non_null(strstr(err, "vifwalld is not running"));
	free(err);
	unlink(path);
	rmdir(dir);
}

static void test_permission_denied(void **state)
{
	struct harness h;
	pid_t pid;
	int status;

	(void)state;
	harness_start(&h);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct app_ctl_client *c;
		char *err = NULL;
		int rc;

		/* As root the 0600 mode would not apply: become nobody first. */
		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(3);
		rc = app_ctl_client_connect_unix(h.path, &c, &err);
		_exit(rc == -EACCES && strstr(err, "permission denied") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	harness_stop(&h);
}

static void test_listen_replaces_stale_socket_only(void **state)
{
	struct app_ctl_server_config cfg = {.commands = commands, .n_commands = 1};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/vifwall-ctl-XXXXXX", path[96];
	struct app_ctl_server *s1, *s2;
	struct flt_logger quiet = {.max_level = -1};
	int fd;

	(void)state;
	cfg.log = &quiet;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(app_ctl_server_open_unix(path, &cfg, &s1), 0);
	/* A live server is not replaced by a second daemon. */
	assert_int_equal(app_ctl_server_open_unix(path, &cfg, &s2), -EADDRINUSE);
	app_ctl_server_free(s1);
	assert_int_equal(access(path, F_OK), -1);
	/* Nor is a file that is not a socket. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(app_ctl_server_open_unix(path, &cfg, &s2), -EEXIST);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	rmdir(dir);
}

static void test_too_many_clients_are_told(void **state)
{
	struct harness h;
	struct app_ctl_client *a, *b, *c;
	json_t *res;
	char *err = NULL;

	(void)state;
	harness_start_cfg(&h, 2, 0);
	a = connect_ok(&h);
	b = connect_ok(&h);
	wait_clients(&h, 2);
	c = connect_ok(&h);
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &res, &err), -EREMOTEIO);
	assert_non_null(strstr(err, "too many control clients"));
	assert_int_equal(app_ctl_client_call(a, "echo", NULL, &res, &err), 0);
	json_decref(res);
	free(err);
	app_ctl_client_free(a);
	app_ctl_client_free(b);
	app_ctl_client_free(c);
	harness_stop(&h);
}

static void test_socketpair_transport(void **state)
{
	struct flt_logger quiet = {.max_level = -1};
	struct app_ctl_server_config cfg = {.commands = commands, .n_commands = 1, .log = &quiet};
	struct app_ctl_server *srv;
	struct app_ctl_transport *ts, *tc;
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	struct pollfd fds[4];
	int sv[2];
	size_t n;

	(void)state;
	/* No listener: a connected transport handed over, as a vchan would be. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(app_ctl_server_new(&cfg, &srv), 0);
	assert_int_equal(app_ctl_transport_unix_new(sv[0], &ts), 0);
	assert_int_equal(app_ctl_transport_unix_new(sv[1], &tc), 0);
	assert_int_equal(app_ctl_server_add_transport(srv, ts), 0);
	assert_int_equal(app_ctl_server_pollfd_count(srv), 1);
	raw_send_req(sv[1], "{\"id\":8,\"cmd\":\"echo\"}");
	n = app_ctl_server_pollfds(srv, fds, 4);
	assert_int_equal(n, 1);
	assert_int_equal(poll(fds, n, 1000), 1);
	assert_int_equal(app_ctl_server_handle(srv, fds, n), 0);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	assert_int_equal(raw_recv(sv[1], d, &m), 1);
	assert_int_equal(m.id, 8);
	assert_true(m.ok);
	app_ctl_msg_clear(&m);
	app_ctl_decoder_free(d);
	app_ctl_transport_close(tc);
	app_ctl_server_free(srv);
}

/* A transport that, like a vchan, only says "readable" (out_events POLLIN): a reply
 * finished between turns must still go out at the next turn without the client doing
 * anything (it waits for that reply). */
static void test_deferred_reply_on_an_event_only_transport(void **state)
{
	static struct app_ctl_transport_ops event_only;
	struct flt_logger quiet = {.max_level = -1};
	struct daemon dm = {0};
	struct app_ctl_server_config cfg = {.commands = commands,
					    .n_commands = sizeof(commands) / sizeof(commands[0]),
					    .arg = &dm,
					    .log = &quiet};
	struct app_ctl_server *srv;
	struct app_ctl_transport *ts;
	struct app_ctl_decoder *d;
	struct app_ctl_msg m;
	struct pollfd fds[4];
	int sv[2];
	size_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(app_ctl_server_new(&cfg, &srv), 0);
	assert_int_equal(app_ctl_transport_unix_new(sv[0], &ts), 0);
	event_only = *ts->ops;
	event_only.out_events = POLLIN;
	ts->ops = &event_only;
	assert_int_equal(app_ctl_server_add_transport(srv, ts), 0);
	raw_send_req(sv[1], "{\"v\":1,\"id\":5,\"cmd\":\"slow\",\"args\":{}}");
	n = app_ctl_server_pollfds(srv, fds, 4);
	assert_int_equal(poll(fds, n, 1000), 1);
	assert_int_equal(app_ctl_server_handle(srv, fds, n), 0);
	assert_non_null(dm.slow);
	/* The daemon's work ends between two turns. */
	app_ctl_deferred_finish(dm.slow, json_string("done"), NULL);
	json_decref(dm.slow_args);
	dm.slow = NULL;
	app_ctl_server_pollfds(srv, fds, 4);
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &d), 0);
	assert_int_equal(raw_recv(sv[1], d, &m), 1);
	assert_int_equal(m.id, 5);
	assert_true(m.ok);
	assert_string_equal(json_string_value(m.result), "done");
	app_ctl_msg_clear(&m);
	app_ctl_decoder_free(d);
	close(sv[1]);
	app_ctl_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call_returns_result),
		cmocka_unit_test(test_errors_reach_the_user),
		cmocka_unit_test(test_malformed_body_then_connection_still_works),
		cmocka_unit_test(test_framing_errors_close_the_connection),
		cmocka_unit_test(test_two_clients_one_stalled_mid_message),
		cmocka_unit_test(test_stream_of_chunks),
		cmocka_unit_test(test_stream_cancelled_when_client_leaves),
		cmocka_unit_test(test_deferred_reply),
		cmocka_unit_test(test_lossy_stream_and_oversized_reply),
		cmocka_unit_test(test_client_that_never_reads_is_dropped),
		cmocka_unit_test(test_connect_errors_say_what_to_do),
		cmocka_unit_test(test_permission_denied),
		cmocka_unit_test(test_listen_replaces_stale_socket_only),
		cmocka_unit_test(test_too_many_clients_are_told),
		cmocka_unit_test(test_socketpair_transport),
		cmocka_unit_test(test_deferred_reply_on_an_event_only_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
