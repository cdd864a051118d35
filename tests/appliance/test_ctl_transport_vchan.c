/*
 * Tests of the vchan control transport without Xen. The test defines the libxenvchan
 * and xenstore calls the transport makes (an executable's own symbols win over the
 * shared libraries'), as an in-memory pair of bounded byte rings with a pipe per side
 * standing in for the event channel: writes and reads signal the peer, closing drops
 * the side's "live" flag and signals, as libxenvchan does. The rings are small and
 * not a power of two so that every message is split across many reads and writes.
 *
 * What only the Xen harness (tests/xen/checks/10-control.sh) can show: that Xen
 * grants the ring and binds the event channel to domain 0 alone, libxenvchan's real
 * notification protocol, xenstore permissions, and dom0's CLI resolving a domain name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libxenvchan.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>

#include <cmocka.h>

#include "appliance/ctl_client.h"
#include "appliance/ctl_proto.h"
#include "appliance/ctl_server.h"
#include "appliance/ctl_transport_vchan.h"

#define RING	 1000 /* bytes each way */
#define PATH	 "/local/domain/3/data/vifwall/ctl"
#define N_CHUNKS 100
#define CHUNK	 1514

/* ---- the fake libxenvchan and xenstore ---- */

struct ring {
	uint8_t buf[RING];
	size_t head, len;
};

struct pair {
	struct ring to_srv, to_cli;
	int srv_live, cli_live; /* libxenvchan's: 1 open, 0 closed, 2 (client) not yet */
	int srv_evt[2], cli_evt[2];
	int ends;
};

struct fake_end {
	struct libxenvchan v; /* first: the transport sets v.blocking */
	struct pair *p;
	bool server;
};

static struct {
	pthread_mutex_t lock;
	struct pair *offered; /* what PATH advertises, NULL when withdrawn */
	char offered_path[128];
	int server_domain;	    /* the peer domain the last server was granted to */
	size_t read_min, write_min; /* ring sizes asked for */
	int withdrawals;	    /* xs_rm of the advertised path */
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .server_domain = -1};

static struct fake_end *end_of(struct libxenvchan *v)
{
	return (struct fake_end *)v;
}

static void signal_fd(int fd)
{
	ssize_t n = write(fd, "e", 1);

	(void)n; /* a full pipe is already readable */
}

static void signal_peer(struct fake_end *e)
{
	signal_fd(e->server ? e->p->cli_evt[1] : e->p->srv_evt[1]);
}

static struct ring *ring_in(struct fake_end *e)
{
	return e->server ? &e->p->to_srv : &e->p->to_cli;
}

static struct ring *ring_out(struct fake_end *e)
{
	return e->server ? &e->p->to_cli : &e->p->to_srv;
}

static struct fake_end *end_new(struct pair *p, bool server)
{
	struct fake_end *e = calloc(1, sizeof(*e));

	e->p = p;
	e->server = server;
	e->v.is_server = server;
	e->v.blocking = 1;
	p->ends++;
	return e;
}

struct libxenvchan *libxenvchan_server_init(struct xentoollog_logger *logger, int domain,
					    const char *xs_path, size_t read_min, size_t write_min)
{
	struct pair *p = calloc(1, sizeof(*p));
	struct fake_end *e;

	(void)logger;
	assert_int_equal(pipe2(p->srv_evt, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pipe2(p->cli_evt, O_NONBLOCK | O_CLOEXEC), 0);
	p->srv_live = 1;
	p->cli_live = 2;
	e = end_new(p, true);
	pthread_mutex_lock(&fake.lock);
	fake.offered = p;
	snprintf(fake.offered_path, sizeof(fake.offered_path), "%s", xs_path);
	fake.server_domain = domain;
	fake.read_min = read_min;
	fake.write_min = write_min;
	pthread_mutex_unlock(&fake.lock);
	return &e->v;
}

struct libxenvchan *libxenvchan_client_init(struct xentoollog_logger *logger, int domain,
					    const char *xs_path)
{
	struct fake_end *e = NULL;

	(void)logger;
	(void)domain;
	pthread_mutex_lock(&fake.lock);
	if (fake.offered && !strcmp(xs_path, fake.offered_path)) {
		e = end_new(fake.offered, false);
		e->p->cli_live = 1;
		signal_peer(e);
	}
	pthread_mutex_unlock(&fake.lock);
	if (!e)
		errno = ENOENT;
	return e ? &e->v : NULL;
}

int libxenvchan_is_open(struct libxenvchan *v)
{
	struct fake_end *e = end_of(v);
	int open;

	pthread_mutex_lock(&fake.lock);
	open = e->server ? e->p->cli_live : e->p->srv_live;
	pthread_mutex_unlock(&fake.lock);
	return open;
}

int libxenvchan_data_ready(struct libxenvchan *v)
{
	int n;

	pthread_mutex_lock(&fake.lock);
	n = (int)ring_in(end_of(v))->len;
	pthread_mutex_unlock(&fake.lock);
	return n;
}

int libxenvchan_read(struct libxenvchan *v, void *buf, size_t size)
{
	struct fake_end *e = end_of(v);
	struct ring *r;
	size_t n;

	pthread_mutex_lock(&fake.lock);
	r = ring_in(e);
	n = size < r->len ? size : r->len;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)buf)[i] = r->buf[(r->head + i) % RING];
	r->head = (r->head + n) % RING;
	r->len -= n;
	if (n)
		signal_peer(e); /* room to write */
	pthread_mutex_unlock(&fake.lock);
	if (!n && libxenvchan_is_open(v) == 0)
		return -1;
	return (int)n;
}

int libxenvchan_write(struct libxenvchan *v, const void *buf, size_t size)
{
	struct fake_end *e = end_of(v);
	struct ring *r;
	size_t n;

	if (libxenvchan_is_open(v) == 0)
		return -1;
	pthread_mutex_lock(&fake.lock);
	r = ring_out(e);
	n = size < RING - r->len ? size : RING - r->len;
	for (size_t i = 0; i < n; i++)
		r->buf[(r->head + r->len + i) % RING] = ((const uint8_t *)buf)[i];
	r->len += n;
	if (n)
		signal_peer(e);
	pthread_mutex_unlock(&fake.lock);
	return (int)n;
}

int libxenvchan_fd_for_select(struct libxenvchan *v)
{
	struct fake_end *e = end_of(v);

	return e->server ? e->p->srv_evt[0] : e->p->cli_evt[0];
}

int libxenvchan_wait(struct libxenvchan *v)
{
	char b[64];

	/* Only called after poll said the fd is readable: drain what is pending. */
	return read(libxenvchan_fd_for_select(v), b, sizeof(b)) > 0 ? 0 : -1;
}

void libxenvchan_close(struct libxenvchan *v)
{
	struct fake_end *e = end_of(v);
	struct pair *p = e->p;
	bool last;

	pthread_mutex_lock(&fake.lock);
	if (e->server) {
		p->srv_live = 0;
		if (fake.offered == p) /* libxenvchan's close_xs_srv */
			fake.offered = NULL;
	} else {
		p->cli_live = 0;
	}
	signal_peer(e);
	last = --p->ends == 0;
	pthread_mutex_unlock(&fake.lock);
	free(e);
	if (last) {
		close(p->srv_evt[0]);
		close(p->srv_evt[1]);
		close(p->cli_evt[0]);
		close(p->cli_evt[1]);
		free(p);
	}
}

static int fake_xs;

struct xs_handle *xs_open(unsigned long flags)
{
	(void)flags;
	return (struct xs_handle *)&fake_xs;
}

void xs_close(struct xs_handle *xs)
{
	assert_ptr_equal(xs, &fake_xs);
}

bool xs_rm(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
	bool found;

	(void)xs;
	(void)t;
	pthread_mutex_lock(&fake.lock);
	found = fake.offered && !strcmp(path, fake.offered_path);
	if (found) {
		fake.offered = NULL;
		fake.withdrawals++;
	}
	pthread_mutex_unlock(&fake.lock);
	return found;
}

static bool offered(void)
{
	bool o;

	pthread_mutex_lock(&fake.lock);
	o = fake.offered != NULL;
	pthread_mutex_unlock(&fake.lock);
	return o;
}

static int readable(struct app_ctl_transport *t, int ms)
{
	struct pollfd p = {.fd = t->ops->fd(t), .events = POLLIN};

	return poll(&p, 1, ms);
}

/* ---- the transport on its own ---- */

static void test_server_offers_to_dom0_and_withdraws_once_connected(void **state)
{
	struct app_ctl_transport *srv, *cli, *cli2 = NULL;
	bool closed = false;
	char b[8];

	(void)state;
	assert_int_equal(app_ctl_transport_vchan_server(PATH, &closed, &srv), 0);
	assert_int_equal(fake.server_domain, 0); /* granted to dom0 alone */
	assert_int_equal(fake.read_min, APP_CTL_VCHAN_RING_IN);
	assert_int_equal(fake.write_min, APP_CTL_VCHAN_RING_OUT);
	assert_true(offered());
	assert_string_equal(srv->ops->name, "vchan");
	/* No client yet: nothing to read, and not the end either. */
	assert_int_equal(srv->ops->read(srv, b, sizeof(b)), -EAGAIN);

	assert_int_equal(app_ctl_transport_vchan_client(3, PATH, &cli), 0);
	assert_string_equal(cli->peer, "domain 3");
	assert_int_equal(readable(srv, 1000), 1);
	srv->ops->notify(srv);
	/* Taken: a second dom0 client finds no offer and waits for the next one. */
	assert_false(offered());
	assert_int_equal(fake.withdrawals, 1);
	assert_int_equal(app_ctl_transport_vchan_client(3, PATH, &cli2), -ENOENT);
	assert_null(cli2);

	app_ctl_transport_close(cli);
	assert_false(closed);
	app_ctl_transport_close(srv);
	assert_true(closed); /* the daemon offers a fresh vchan */
}

static void test_partial_io_and_end_of_stream(void **state)
{
	struct app_ctl_transport *srv, *cli;
	static uint8_t out[3000], in[3000];
	bool closed = false;
	size_t got = 0;
	ssize_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7);
	assert_int_equal(app_ctl_transport_vchan_server(PATH, &closed, &srv), 0);
	assert_int_equal(app_ctl_transport_vchan_client(3, PATH, &cli), 0);
	/* A full ring takes part of a write, then nothing until the peer reads. */
	assert_int_equal(cli->ops->write(cli, out, sizeof(out)), RING);
	assert_int_equal(cli->ops->write(cli, out + RING, sizeof(out) - RING), -EAGAIN);
	assert_int_equal(srv->ops->read(srv, in, 600), 600);
	assert_int_equal(cli->ops->write(cli, out + RING, sizeof(out) - RING), 600);
	/* The client leaves: what it wrote is still read, then the end of the stream. */
	app_ctl_transport_close(cli);
	while ((n = srv->ops->read(srv, in + 600 + got, sizeof(in))) > 0)
		got += (size_t)n;
	assert_int_equal(n, 0);
	assert_int_equal(600 + got, RING + 600);
	assert_memory_equal(in, out, RING + 600);
	assert_int_equal(srv->ops->write(srv, out, 10), -EPIPE);
	app_ctl_transport_close(srv);
	assert_true(closed);
}

/* ---- the control server and client over it, as vifwalld and dom0's CLI ---- */

struct harness {
	struct app_ctl_server *srv;
	struct app_ctl_server_config cfg;
	struct flt_logger log;
	bool closed; /* the offered vchan is gone: offer another (daemon_vchan.c) */
	int offers;  /* atomic: vchans offered so far */
	pthread_t thread;
	int stop[2];
};

static void log_quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

static int cmd_echo(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	(void)arg;
	app_ctl_reply_result(reply, json_incref(args));
	return 0;
}

/* Capture-like: N_CHUNKS raw frames, byte 0 numbering them, then the end. */
static int cmd_capture(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	static uint8_t frame[CHUNK];
	struct app_ctl_stream *st;
	json_t *summary;
	int rc;

	(void)arg;
	(void)args;
	rc = app_ctl_reply_stream(reply, json_pack("{s:s}", "linktype", "ethernet"), NULL, NULL,
				  &st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < N_CHUNKS; i++) {
		memset(frame, 0xab, sizeof(frame));
		frame[0] = (uint8_t)i;
		assert_int_equal(app_ctl_stream_write(st, frame, sizeof(frame)), 0);
	}
	summary = json_pack("{s:i}", "packets", N_CHUNKS);
	app_ctl_stream_end(st, summary, NULL); /* borrows the summary */
	json_decref(summary);
	return 0;
}

static const struct app_ctl_command commands[] = {
	{"echo", cmd_echo},
	{"capture", cmd_capture},
};

/* What daemon_vchan.c's tick does: keep a vchan on offer. */
static void offer(struct harness *h)
{
	struct app_ctl_transport *t;

	if (!h->closed)
		return;
	assert_int_equal(app_ctl_transport_vchan_server(PATH, &h->closed, &t), 0);
	h->closed = false;
	assert_int_equal(app_ctl_server_add_transport(h->srv, t), 0);
	__atomic_add_fetch(&h->offers, 1, __ATOMIC_SEQ_CST);
}

static void *server_loop(void *arg)
{
	struct harness *h = arg;
	struct pollfd fds[8];

	for (;;) {
		size_t n;

		app_ctl_server_pollfds(h->srv, fds, 7); /* closes clients that left */
		offer(h);
		n = app_ctl_server_pollfds(h->srv, fds, 7);
		fds[n] = (struct pollfd){.fd = h->stop[0], .events = POLLIN};
		if (poll(fds, n + 1, 50) < 0)
			continue;
		if (fds[n].revents)
			break;
		app_ctl_server_handle(h->srv, fds, n);
	}
	return NULL;
}

static void harness_start(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->closed = true;
	h->log = (struct flt_logger){.fn = log_quiet, .max_level = LOG_DEBUG};
	h->cfg = (struct app_ctl_server_config){
		.commands = commands,
		.n_commands = sizeof(commands) / sizeof(commands[0]),
		.log = &h->log,
	};
	assert_int_equal(app_ctl_server_new(&h->cfg, &h->srv), 0);
	offer(h);
	assert_int_equal(pipe(h->stop), 0);
	assert_int_equal(pthread_create(&h->thread, NULL, server_loop, h), 0);
}

static void harness_stop(struct harness *h)
{
	assert_int_equal(write(h->stop[1], "x", 1), 1);
	pthread_join(h->thread, NULL);
	app_ctl_server_free(h->srv);
	assert_false(offered()); /* closing the server closed its vchan */
	close(h->stop[0]);
	close(h->stop[1]);
}

/* Connect as dom0's CLI does: wait for the offer, then connect. */
static struct app_ctl_client *connect_ok(void)
{
	struct app_ctl_transport *t = NULL;
	struct app_ctl_client *c = NULL;

	for (int i = 0; i < 500 && !t; i++)
		if (app_ctl_transport_vchan_client(3, PATH, &t) < 0)
			usleep(10000);
	assert_non_null(t);
	assert_int_equal(app_ctl_client_new(t, &c), 0);
	app_ctl_client_set_timeout(c, 10000);
	return c;
}

static void test_calls_and_streams_over_the_vchan(void **state)
{
	struct harness h;
	struct app_ctl_client *c;
	struct app_ctl_chunk chunk;
	json_t *res = NULL, *end = NULL, *args;
	char *err = NULL, *big = malloc(200001);
	int rc, n = 0;

	(void)state;
	harness_start(&h);
	c = connect_ok();
	/* 200 kB each way through a 1000-byte ring. */
	memset(big, 'x', 200000);
	big[200000] = '\0';
	args = json_pack("{s:s}", "rules", big);
	rc = app_ctl_client_call(c, "echo", args, &res, &err);
	if (rc)
		fail_msg("echo: %s", err);
	assert_string_equal(json_string_value(json_object_get(res, "rules")), big);
	json_decref(res);
	json_decref(args);
	free(big);

	/* A capture's frames arrive all, whole and in order. */
	rc = app_ctl_client_call_stream(c, "capture", NULL, &res, &err);
	if (rc)
		fail_msg("capture: %s", err);
	assert_string_equal(json_string_value(json_object_get(res, "linktype")), "ethernet");
	json_decref(res);
	while ((rc = app_ctl_client_stream_next(c, &chunk, &end, &err)) == 1) {
		assert_int_equal(chunk.len, CHUNK);
		assert_int_equal(chunk.data[0], n);
		assert_int_equal(chunk.data[CHUNK - 1], 0xab);
		n++;
		app_ctl_chunk_clear(&chunk);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, N_CHUNKS);
	assert_int_equal(json_integer_value(json_object_get(end, "packets")), N_CHUNKS);
	json_decref(end);

	/* The connection still serves requests after the stream. */
	assert_int_equal(app_ctl_client_call(c, "echo", NULL, &res, &err), 0);
	json_decref(res);
	app_ctl_client_free(c);
	free(err);
	harness_stop(&h);
}

static void test_malformed_request_then_the_connection_still_works(void **state)
{
	static const char bad[] = "{\"id\": 1, \"cmd\": ";
	struct harness h;
	struct app_ctl_transport *t = NULL;
	struct app_ctl_decoder *dec;
	struct app_ctl_client *c;
	struct app_ctl_msg msg;
	uint8_t hdr[APP_CTL_HDR_LEN], byte;
	json_t *res = NULL;
	char *err = NULL;
	size_t used;
	int rc = 0;

	(void)state;
	harness_start(&h);
	for (int i = 0; i < 500 && !t; i++)
		if (app_ctl_transport_vchan_client(3, PATH, &t) < 0)
			usleep(10000);
	assert_non_null(t);
	/* A well-framed request whose JSON body is cut short. */
	app_ctl_header_write(hdr, APP_CTL_REQUEST, 0, (uint32_t)strlen(bad));
	assert_int_equal(t->ops->write(t, hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(t->ops->write(t, bad, strlen(bad)), (ssize_t)strlen(bad));
	assert_int_equal(app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &dec), 0);
	while (rc == 0) {
		ssize_t n = t->ops->read(t, &byte, 1);

		if (n == -EAGAIN) {
			assert_int_equal(readable(t, 5000), 1);
			t->ops->notify(t);
			continue;
		}
		assert_int_equal(n, 1);
		rc = app_ctl_decoder_feed(dec, &byte, 1, &used, &msg);
		assert_true(rc >= 0);
	}
	assert_int_equal(msg.type, APP_CTL_REPLY);
	assert_false(msg.ok);
	assert_non_null(msg.error);
	app_ctl_msg_clear(&msg);
	app_ctl_decoder_free(dec);
	/* The same vchan then carries a good request. */
	assert_int_equal(app_ctl_client_new(t, &c), 0);
	app_ctl_client_set_timeout(c, 10000);
	rc = app_ctl_client_call(c, "echo", NULL, &res, &err);
	if (rc)
		fail_msg("echo after a malformed request: %s", err);
	json_decref(res);
	app_ctl_client_free(c);
	harness_stop(&h);
}

static void test_a_fresh_vchan_after_each_client(void **state)
{
	struct harness h;
	json_t *res = NULL;
	char *err = NULL;

	(void)state;
	harness_start(&h);
	for (int i = 0; i < 3; i++) {
		struct app_ctl_client *c = connect_ok();

		if (app_ctl_client_call(c, "echo", NULL, &res, &err))
			fail_msg("client %d: %s", i, err);
		json_decref(res);
		app_ctl_client_free(c);
	}
	/* One offer per client, plus the one waiting for the next. */
	for (int i = 0; i < 500 && __atomic_load_n(&h.offers, __ATOMIC_SEQ_CST) < 4; i++)
		usleep(10000);
	assert_int_equal(__atomic_load_n(&h.offers, __ATOMIC_SEQ_CST), 4);
	assert_true(offered());
	harness_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_offers_to_dom0_and_withdraws_once_connected),
		cmocka_unit_test(test_partial_io_and_end_of_stream),
		cmocka_unit_test(test_calls_and_streams_over_the_vchan),
		cmocka_unit_test(test_malformed_request_then_the_connection_still_works),
		cmocka_unit_test(test_a_fresh_vchan_after_each_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
