/*
 * The control server: many clients at once inside the daemon's poll loop, none of
 * which can block it. Each connection has a decoder (its input is bounded by the
 * message limit) and a queue of encoded messages to send (bounded by max_out).
 * A client that stops reading is cut off when its queue overflows, rather than
 * holding the daemon's memory or time.
 *
 * Connections are closed only at safe points (the end of app_ctl_server_handle()
 * and the start of app_ctl_server_pollfds()), never from inside a handler or a
 * stream write, so a daemon callback never sees its own connection vanish under it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "appliance/ctl_server.h"

#define DEFAULT_MAX_CLIENTS 16
#define READ_CHUNK	    (64 * 1024)
/* Reads per client per handle() call: a 4 MiB upload must not starve the others. */
#define READS_PER_TURN 16

struct outmsg {
	struct outmsg *next;
	uint8_t *buf;
	size_t len;
};

struct conn;

struct app_ctl_stream {
	struct conn *conn;
	int64_t id;
	app_ctl_stream_cancel_fn cancel;
	void *cancel_arg;
	int deferred; /* one plain reply owed (app_ctl_reply_defer), not a stream */
};

struct conn {
	struct conn *next;
	struct app_ctl_server *srv;
	struct app_ctl_transport *t;
	struct app_ctl_decoder *dec;
	unsigned long serial; /* for logs: "client 7" */
	struct outmsg *out_head, *out_tail;
	size_t out_off;	  /* bytes of out_head already sent */
	size_t out_bytes; /* queued, not yet sent */
	int closing;	  /* send what is queued, then close */
	int doomed;	  /* close at the next safe point */
	int streaming;
	struct app_ctl_stream stream;
};

struct app_ctl_reply {
	struct conn *conn;
	const char *cmd;
	int64_t id;
	json_t *result;
	int has_error;
	int streamed;
	char error[512];
};

struct app_ctl_server {
	struct app_ctl_server_config cfg;
	int listen_fd;
	char *path;
	dev_t sock_dev;
	ino_t sock_ino;
	struct conn *conns;
	size_t n_conns;
	unsigned long next_serial;
	uint8_t rbuf[READ_CHUNK];
};

static void conn_free(struct conn *c)
{
	struct outmsg *m, *next;

	for (m = c->out_head; m; m = next) {
		next = m->next;
		free(m->buf);
		free(m);
	}
	app_ctl_decoder_free(c->dec);
	app_ctl_transport_close(c->t);
	free(c);
}

/* Take ownership of @buf and queue it; @soft refuses rather than drops the client. */
static int conn_queue(struct conn *c, uint8_t *buf, size_t len, int soft)
{
	struct app_ctl_server *srv = c->srv;
	struct outmsg *m;

	if (c->doomed) {
		free(buf);
		return -EPIPE;
	}
	if (c->out_bytes + len > (soft ? srv->cfg.max_out / 2 : srv->cfg.max_out)) {
		free(buf);
		if (soft)
			return -ENOBUFS;
		flt_log(srv->cfg.log, LOG_WARNING,
			"ctl: client %lu (%s) does not read its replies (%zu bytes queued): "
			"dropped",
			c->serial, c->t->peer, c->out_bytes);
		c->doomed = 1;
		return -ENOBUFS;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(buf);
		return -ENOMEM;
	}
	m->buf = buf;
	m->len = len;
	if (c->out_tail)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	c->out_bytes += len;
	return 0;
}

static int conn_queue_json(struct conn *c, enum app_ctl_type type, uint16_t flags,
			   const json_t *body, int soft)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (!body)
		return -ENOMEM;
	rc = app_ctl_encode_json(type, flags, body, c->srv->cfg.max_msg, &buf, &len);
	if (rc < 0)
		return rc;
	return conn_queue(c, buf, len, soft);
}

/* Queue a failure reply; when even that is impossible, the client must go. */
static void conn_queue_error(struct conn *c, enum app_ctl_type type, int64_t id, const char *error,
			     const char *code)
{
	json_t *body = app_ctl_reply_build(id, NULL, error, code);

	if (conn_queue_json(c, type, 0, body, 0) < 0)
		c->doomed = 1;
	json_decref(body);
}

static void reply_send(struct conn *c, struct app_ctl_reply *r)
{
	json_t *body;
	int rc;

	if (r->has_error) {
		conn_queue_error(c, APP_CTL_REPLY, r->id, r->error, NULL);
		return;
	}
	body = app_ctl_reply_build(r->id, r->result, NULL, NULL);
	rc = conn_queue_json(c, APP_CTL_REPLY, 0, body, 0);
	json_decref(body);
	if (rc == -EMSGSIZE) {
		snprintf(r->error, sizeof(r->error),
			 "the result of '%s' exceeds the %zu-byte message limit", r->cmd,
			 c->srv->cfg.max_msg);
		flt_log(c->srv->cfg.log, LOG_WARNING, "ctl: %s", r->error);
		conn_queue_error(c, APP_CTL_REPLY, r->id, r->error, "too-large");
	} else if (rc < 0 && rc != -ENOBUFS) {
		c->doomed = 1;
	}
}

static const struct app_ctl_command *command_find(const struct app_ctl_server *srv,
						  const char *name)
{
	for (size_t i = 0; i < srv->cfg.n_commands; i++)
		if (!strcmp(srv->cfg.commands[i].name, name))
			return &srv->cfg.commands[i];
	return NULL;
}

static void reply_unknown(struct conn *c, const struct app_ctl_msg *msg)
{
	const struct app_ctl_server *srv = c->srv;
	char text[512];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "unknown command '%s' (vifwalld knows:", msg->cmd);
	for (size_t i = 0; i < srv->cfg.n_commands && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, " %s", srv->cfg.commands[i].name);
	if (n < sizeof(text))
		snprintf(text + n, sizeof(text) - n, ")");
	conn_queue_error(c, APP_CTL_REPLY, msg->id, text, "unknown-command");
}

static void conn_dispatch(struct conn *c, struct app_ctl_msg *msg)
{
	const struct app_ctl_command *cmd;
	struct app_ctl_reply r = {.conn = c, .cmd = msg->cmd, .id = msg->id};
	int rc;

	if (c->streaming) {
		conn_queue_error(c, APP_CTL_REPLY, msg->id,
				 c->stream.deferred
					 ? "the previous command is still running on this "
					   "connection: wait for its reply"
					 : "a stream is running on this connection: open another "
					   "connection for other commands",
				 "busy");
		return;
	}
	cmd = command_find(c->srv, msg->cmd);
	if (!cmd) {
		reply_unknown(c, msg);
		return;
	}
	rc = cmd->run(c->srv->cfg.arg, msg->args, &r);
	if (rc < 0 && !r.has_error) {
		snprintf(r.error, sizeof(r.error), "%s: %s", msg->cmd, strerror(-rc));
		r.has_error = 1;
	}
	if (r.streamed) {
		/* The ok reply is out already; a late failure can only end the stream. */
		if (r.has_error && c->streaming && c->stream.deferred)
			app_ctl_deferred_finish(&c->stream, NULL, r.error);
		else if (r.has_error && c->streaming)
			app_ctl_stream_end(&c->stream, NULL, r.error);
	} else {
		reply_send(c, &r);
	}
	json_decref(r.result);
}

static void conn_refuse(struct conn *c, const struct app_ctl_error *err)
{
	int lvl = app_ctl_errcode_fatal(err->code) ? LOG_WARNING : LOG_INFO;

	flt_log(c->srv->cfg.log, lvl, "ctl: client %lu (%s): %s%s", c->serial, c->t->peer, err->msg,
		app_ctl_errcode_fatal(err->code) ? "; closing the connection" : "");
	conn_queue_error(c, APP_CTL_REPLY, err->id, err->msg, app_ctl_errcode_name(err->code));
	if (app_ctl_errcode_fatal(err->code))
		c->closing = 1;
}

static void conn_flush(struct conn *c);

/*
 * Decode and answer everything in @buf. Stops early once the connection must close.
 * Replies are pushed out as they are made, so a batch of pipelined requests fills the
 * socket buffer before it fills (and overflows) the output queue.
 */
static void conn_consume(struct conn *c, const uint8_t *buf, size_t len)
{
	struct app_ctl_msg msg;
	size_t off = 0, used;
	int rc;

	while (off < len && !c->closing && !c->doomed) {
		rc = app_ctl_decoder_feed(c->dec, buf + off, len - off, &used, &msg);
		off += used;
		if (rc == 1) {
			conn_dispatch(c, &msg);
			app_ctl_msg_clear(&msg);
		} else if (rc < 0) {
			conn_refuse(c, app_ctl_decoder_error(c->dec));
		}
		if (c->out_head)
			conn_flush(c);
	}
}

static void conn_cancel_stream(struct conn *c)
{
	if (!c->streaming)
		return;
	c->streaming = 0;
	if (c->stream.cancel)
		c->stream.cancel(c->stream.cancel_arg, &c->stream);
}

static void conn_read(struct conn *c)
{
	struct app_ctl_server *srv = c->srv;
	ssize_t n;

	for (int i = 0; i < READS_PER_TURN && !c->closing && !c->doomed; i++) {
		if (c->out_bytes > srv->cfg.max_out / 2)
			return; /* let it drain its replies before it asks for more */
		n = c->t->ops->read(c->t, srv->rbuf, sizeof(srv->rbuf));
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			flt_log(srv->cfg.log, LOG_INFO, "ctl: client %lu (%s): read: %s", c->serial,
				c->t->peer, strerror((int)-n));
			c->doomed = 1;
			return;
		}
		if (n == 0) {
			if (app_ctl_decoder_busy(c->dec))
				flt_log(srv->cfg.log, LOG_INFO,
					"ctl: client %lu (%s) went away in the middle of a message",
					c->serial, c->t->peer);
			/* A client closing during a stream is how it says stop. */
			if (c->streaming)
				c->doomed = 1;
			c->closing = 1;
			return;
		}
		conn_consume(c, srv->rbuf, (size_t)n);
	}
}

static void conn_flush(struct conn *c)
{
	struct outmsg *m;
	ssize_t n;

	while ((m = c->out_head) && !c->doomed) {
		n = c->t->ops->write(c->t, m->buf + c->out_off, m->len - c->out_off);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			flt_log(c->srv->cfg.log, LOG_INFO, "ctl: client %lu (%s): write: %s",
				c->serial, c->t->peer, strerror((int)-n));
			c->doomed = 1;
			return;
		}
		c->out_off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (c->out_off == m->len) {
			c->out_head = m->next;
			if (!c->out_head)
				c->out_tail = NULL;
			c->out_off = 0;
			free(m->buf);
			free(m);
		}
	}
}

/* Close what is finished: dropped clients, and closing ones with nothing left to send. */
static void server_reap(struct app_ctl_server *srv)
{
	struct conn **pp = &srv->conns, *c;

	while ((c = *pp)) {
		if (c->doomed || (c->closing && !c->out_head)) {
			*pp = c->next;
			srv->n_conns--;
			conn_cancel_stream(c);
			flt_log(srv->cfg.log, LOG_DEBUG, "ctl: client %lu (%s) closed", c->serial,
				c->t->peer);
			conn_free(c);
		} else {
			pp = &c->next;
		}
	}
}

int app_ctl_server_new(const struct app_ctl_server_config *cfg, struct app_ctl_server **out)
{
	struct app_ctl_server *srv;

	if (!cfg || (cfg->n_commands && !cfg->commands))
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	if (!srv->cfg.max_clients)
		srv->cfg.max_clients = DEFAULT_MAX_CLIENTS;
	if (!srv->cfg.max_msg || srv->cfg.max_msg > APP_CTL_MAX_MSG)
		srv->cfg.max_msg = APP_CTL_MAX_MSG;
	/* The largest reply must always fit, with room for a chunk or two behind it. */
	if (srv->cfg.max_out < 2 * (srv->cfg.max_msg + APP_CTL_HDR_LEN))
		srv->cfg.max_out = 2 * (srv->cfg.max_msg + APP_CTL_HDR_LEN);
	srv->listen_fd = -1;
	*out = srv;
	return 0;
}

int app_ctl_server_add_transport(struct app_ctl_server *srv, struct app_ctl_transport *t)
{
	struct conn *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		app_ctl_transport_close(t);
		return -ENOMEM;
	}
	c->srv = srv;
	c->t = t;
	c->serial = ++srv->next_serial;
	rc = app_ctl_decoder_new(APP_CTL_ROLE_SERVER, srv->cfg.max_msg, &c->dec);
	if (rc < 0) {
		conn_free(c);
		return rc;
	}
	c->next = srv->conns;
	srv->conns = c;
	srv->n_conns++;
	if (srv->n_conns > srv->cfg.max_clients) {
		/* Tell it why rather than hang up silently; it is reaped once told. */
		flt_log(srv->cfg.log, LOG_WARNING, "ctl: refusing client %lu (%s): %zu clients",
			c->serial, t->peer, srv->cfg.max_clients);
		conn_queue_error(c, APP_CTL_REPLY, -1,
				 "vifwalld has too many control clients; try again later", "busy");
		c->closing = 1;
		return -EMFILE;
	}
	flt_log(srv->cfg.log, LOG_DEBUG, "ctl: client %lu (%s) connected over %s", c->serial,
		t->peer, t->ops->name);
	return 0;
}

/* mkdir -p for the socket's directory; only directories we create get 0700. */
static int make_parent_dirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	/* Strip the file name and check what we got is a directory. */
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (stat(dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* A socket file is stale when nobody accepts on it (the last vifwalld died). */
static int remove_stale_socket(const struct sockaddr_un *sa, const struct flt_logger *log)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		flt_log(log, LOG_ERR, "ctl: %s exists and is not a socket; not replacing it",
			sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	rc = rc == 0 ? 0 : errno;
	close(fd);
	if (rc == 0) {
		flt_log(log, LOG_ERR, "ctl: another vifwalld is serving %s", sa->sun_path);
		return -EADDRINUSE;
	}
	if (rc != ECONNREFUSED)
		return -rc;
	flt_log(log, LOG_INFO, "ctl: removing stale socket %s", sa->sun_path);
	return unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

int app_ctl_server_listen_unix(struct app_ctl_server *srv, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const struct flt_logger *log = srv->cfg.log;
	struct stat st;
	int fd, rc;

	if (srv->listen_fd >= 0)
		return -EBUSY;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		flt_log(log, LOG_ERR, "ctl: socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	rc = make_parent_dirs(path);
	if (rc < 0) {
		flt_log(log, LOG_ERR, "ctl: cannot create the directory of %s: %s", path,
			strerror(-rc));
		return rc;
	}
	rc = remove_stale_socket(&sa, log);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Linux gives the socket file the mode of the socket inode: setting it before
	 * bind() leaves no moment when others could connect. chmod() after is for
	 * systems that ignore it.
	 */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0 || stat(path, &st) < 0) {
		rc = -errno;
		flt_log(log, LOG_ERR, "ctl: cannot listen on %s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	srv->path = strdup(path);
	if (!srv->path) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	srv->listen_fd = fd;
	srv->sock_dev = st.st_dev;
	srv->sock_ino = st.st_ino;
	flt_log(log, LOG_INFO, "ctl: listening on %s", path);
	return 0;
}

int app_ctl_server_open_unix(const char *path, const struct app_ctl_server_config *cfg,
			     struct app_ctl_server **out)
{
	struct app_ctl_server *srv;
	int rc = app_ctl_server_new(cfg, &srv);

	if (rc < 0)
		return rc;
	rc = app_ctl_server_listen_unix(srv, path);
	if (rc < 0) {
		app_ctl_server_free(srv);
		return rc;
	}
	*out = srv;
	return 0;
}

void app_ctl_server_free(struct app_ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	for (struct conn *c = srv->conns; c; c = c->next)
		c->doomed = 1;
	server_reap(srv);
	if (srv->listen_fd >= 0) {
		close(srv->listen_fd);
		/* A newer vifwalld may own the path by now: remove only our own file. */
		if (stat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev &&
		    st.st_ino == srv->sock_ino)
			unlink(srv->path);
	}
	free(srv->path);
	free(srv);
}

size_t app_ctl_server_pollfd_count(const struct app_ctl_server *srv)
{
	return srv->n_conns + (srv->listen_fd >= 0);
}

size_t app_ctl_server_pollfds(struct app_ctl_server *srv, struct pollfd *fds, size_t max)
{
	size_t n = 0;

	/* Output queued since the last turn outside a request (deferred replies, stream
	 * chunks from the daemon's loop) goes out now: a vchan only signals its fd when
	 * the peer does something, so waiting for "writable" could wait for ever. */
	for (struct conn *c = srv->conns; c; c = c->next)
		if (c->out_head && !c->doomed)
			conn_flush(c);
	server_reap(srv);
	if (srv->listen_fd >= 0 && n < max)
		fds[n++] = (struct pollfd){.fd = srv->listen_fd, .events = POLLIN};
	for (struct conn *c = srv->conns; c && n < max; c = c->next) {
		short ev = 0;

		if (!c->closing && c->out_bytes <= srv->cfg.max_out / 2)
			ev |= POLLIN;
		if (c->out_head)
			ev |= c->t->ops->out_events;
		fds[n++] = (struct pollfd){.fd = c->t->ops->fd(c->t), .events = ev};
	}
	return n;
}

static int server_accept(struct app_ctl_server *srv)
{
	struct app_ctl_transport *t;
	int fd, rc;

	for (;;) {
		fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ECONNABORTED)
				return 0;
			rc = -errno;
			flt_log(srv->cfg.log, LOG_ERR, "ctl: accept on %s: %s", srv->path,
				strerror(-rc));
			return rc;
		}
		rc = app_ctl_transport_unix_new(fd, &t);
		if (rc == 0)
			app_ctl_server_add_transport(srv, t);
	}
}

static struct conn *conn_by_fd(struct app_ctl_server *srv, int fd)
{
	for (struct conn *c = srv->conns; c; c = c->next)
		if (c->t->ops->fd(c->t) == fd)
			return c;
	return NULL;
}

int app_ctl_server_handle(struct app_ctl_server *srv, const struct pollfd *fds, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		struct conn *c;

		if (fds[i].fd < 0 || !fds[i].revents)
			continue;
		if (fds[i].fd == srv->listen_fd) {
			rc = server_accept(srv);
			continue;
		}
		c = conn_by_fd(srv, fds[i].fd);
		if (!c || c->doomed)
			continue;
		if (c->t->ops->notify)
			c->t->ops->notify(c->t);
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			conn_read(c);
		conn_flush(c);
	}
	server_reap(srv);
	return rc;
}

size_t app_ctl_server_clients(const struct app_ctl_server *srv)
{
	return srv->n_conns;
}

void app_ctl_reply_result(struct app_ctl_reply *reply, json_t *result)
{
	json_decref(reply->result);
	reply->result = result;
}

int app_ctl_reply_error(struct app_ctl_reply *reply, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reply->error, sizeof(reply->error), fmt, ap);
	va_end(ap);
	reply->has_error = 1;
	return -EINVAL;
}

int app_ctl_reply_stream(struct app_ctl_reply *reply, json_t *result,
			 app_ctl_stream_cancel_fn cancel, void *cancel_arg,
			 struct app_ctl_stream **out)
{
	struct conn *c = reply->conn;
	json_t *body;
	int rc;

	if (reply->streamed || c->streaming) {
		json_decref(result);
		return -EBUSY;
	}
	body = app_ctl_reply_build(reply->id, result, NULL, NULL);
	json_decref(result);
	rc = conn_queue_json(c, APP_CTL_REPLY, APP_CTL_F_STREAM, body, 0);
	json_decref(body);
	if (rc < 0)
		return c->doomed ? -EPIPE : rc;
	reply->streamed = 1;
	c->streaming = 1;
	c->stream = (struct app_ctl_stream){
		.conn = c, .id = reply->id, .cancel = cancel, .cancel_arg = cancel_arg};
	*out = &c->stream;
	return 0;
}

int app_ctl_stream_write(struct app_ctl_stream *stream, const void *data, size_t len)
{
	struct conn *c = stream->conn;
	uint8_t *buf;
	size_t blen;
	int rc;

	/* A closing client only gets what is queued: more output would keep it open. */
	if (c->doomed || c->closing)
		return -EPIPE;
	rc = app_ctl_encode_raw(data, len, c->srv->cfg.max_msg, &buf, &blen);
	if (rc < 0)
		return rc;
	return conn_queue(c, buf, blen, 1);
}

int app_ctl_stream_write_json(struct app_ctl_stream *stream, const json_t *obj)
{
	struct conn *c = stream->conn;

	if (c->doomed || c->closing)
		return -EPIPE;
	return conn_queue_json(c, APP_CTL_CHUNK, 0, obj, 1);
}

void app_ctl_stream_end(struct app_ctl_stream *stream, json_t *result, const char *error)
{
	struct conn *c = stream->conn;
	json_t *body;

	c->streaming = 0;
	if (c->doomed)
		return;
	body = app_ctl_reply_build(stream->id, result, error, NULL);
	if (conn_queue_json(c, APP_CTL_END, 0, body, 0) < 0)
		c->doomed = 1;
	json_decref(body);
}

int app_ctl_reply_defer(struct app_ctl_reply *reply, app_ctl_stream_cancel_fn cancel,
			void *cancel_arg, struct app_ctl_stream **out)
{
	struct conn *c = reply->conn;

	if (reply->streamed || c->streaming)
		return -EBUSY;
	/* "streamed": conn_dispatch sends nothing now; "streaming": the busy guard and
	 * the cancel call when the connection goes. */
	reply->streamed = 1;
	c->streaming = 1;
	c->stream = (struct app_ctl_stream){.conn = c,
					    .id = reply->id,
					    .cancel = cancel,
					    .cancel_arg = cancel_arg,
					    .deferred = 1};
	*out = &c->stream;
	return 0;
}

void app_ctl_deferred_finish(struct app_ctl_stream *d, json_t *result, const char *error)
{
	struct conn *c = d->conn;
	struct app_ctl_reply r = {.conn = c, .cmd = "deferred", .id = d->id, .result = result};

	c->streaming = 0;
	d->deferred = 0;
	if (error) {
		snprintf(r.error, sizeof(r.error), "%s", error);
		r.has_error = 1;
	}
	if (!c->doomed)
		reply_send(c, &r);
	json_decref(r.result);
}
