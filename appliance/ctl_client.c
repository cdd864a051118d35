/*
 * The control client: one request at a time over a transport, waiting with poll()
 * so a hung vifwalld ends in a timeout rather than a hung CLI. Its errors are
 * written for the person at the terminal: the usual reasons a connection fails
 * (daemon not running, not root) each get a sentence that says what to do.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "appliance/ctl_client.h"
#include "appliance/ctl_proto.h"

#define DEFAULT_TIMEOUT_MS (60 * 1000)
#define RBUF_SIZE	   (64 * 1024)

struct app_ctl_client {
	struct app_ctl_transport *t;
	struct app_ctl_decoder *dec;
	int64_t next_id;
	int64_t stream_id;
	int timeout_ms;
	int streaming;
	int broken;		     /* the byte stream is out of step: nothing more can be read */
	volatile sig_atomic_t *stop; /* set by a signal handler: waits give up */
	size_t rpos, rlen;
	uint8_t rbuf[RBUF_SIZE];
};

static void set_errmsg(char **errmsg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_errmsg(char **errmsg, const char *fmt, ...)
{
	va_list ap;

	if (!errmsg)
		return;
	free(*errmsg);
	*errmsg = NULL;
	va_start(ap, fmt);
	if (vasprintf(errmsg, fmt, ap) < 0)
		*errmsg = NULL;
	va_end(ap);
}

int app_ctl_client_new(struct app_ctl_transport *t, struct app_ctl_client **out)
{
	struct app_ctl_client *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		app_ctl_transport_close(t);
		return -ENOMEM;
	}
	c->t = t;
	c->next_id = 1;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	rc = app_ctl_decoder_new(APP_CTL_ROLE_CLIENT, 0, &c->dec);
	if (rc < 0) {
		app_ctl_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int app_ctl_client_connect_unix(const char *path, struct app_ctl_client **out, char **errmsg)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct app_ctl_transport *t;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		set_errmsg(errmsg, "socket path %s is too long", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		set_errmsg(errmsg, "cannot create a socket: %s", strerror(-rc));
		return rc;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		switch (-rc) {
		case ENOENT:
		case ENOTDIR:
			set_errmsg(errmsg, "is vifwalld running? socket %s not found", path);
			return -ENOENT;
		case ECONNREFUSED:
			set_errmsg(errmsg,
				   "vifwalld is not running: nothing answers on socket %s "
				   "(a stale socket, or not a socket)",
				   path);
			return rc;
		case EACCES:
		case EPERM:
			set_errmsg(errmsg,
				   "permission denied on socket %s: run vifwall as root "
				   "(the socket is 0600)",
				   path);
			return -EACCES;
		default:
			set_errmsg(errmsg, "cannot connect to vifwalld on %s: %s", path,
				   strerror(-rc));
			return rc;
		}
	}
	rc = app_ctl_transport_unix_new(fd, &t);
	if (rc == 0)
		rc = app_ctl_client_new(t, out);
	if (rc < 0)
		set_errmsg(errmsg, "cannot set up the connection to %s: %s", path, strerror(-rc));
	return rc;
}

void app_ctl_client_free(struct app_ctl_client *c)
{
	if (!c)
		return;
	app_ctl_decoder_free(c->dec);
	app_ctl_transport_close(c->t);
	free(c);
}

void app_ctl_client_set_interrupt(struct app_ctl_client *c, volatile sig_atomic_t *flag)
{
	c->stop = flag;
}

void app_ctl_client_set_timeout(struct app_ctl_client *c, int ms)
{
	c->timeout_ms = ms < 0 ? -1 : ms;
}

void app_ctl_chunk_clear(struct app_ctl_chunk *chunk)
{
	free(chunk->data);
	json_decref(chunk->json);
	memset(chunk, 0, sizeof(*chunk));
}

/* Wait until the transport can move data in direction @events. */
static int wait_ready(struct app_ctl_client *c, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = c->t->ops->fd(c->t), .events = events};
	int n;

	do
		n = poll(&pfd, 1, timeout_ms);
	while (n < 0 && errno == EINTR && !(c->stop && *c->stop));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (c->t->ops->notify)
		c->t->ops->notify(c->t);
	return 0;
}

static int send_all(struct app_ctl_client *c, const uint8_t *buf, size_t len, char **errmsg)
{
	ssize_t n;
	int rc;

	while (len) {
		n = c->t->ops->write(c->t, buf, len);
		if (n == -EAGAIN) {
			rc = wait_ready(c, c->t->ops->out_events, c->timeout_ms);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (n < 0) {
			rc = (int)n;
			goto fail;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
fail:
	c->broken = 1;
	if (rc == -EPIPE || rc == -ECONNRESET) {
		set_errmsg(errmsg, "vifwalld closed the connection");
		return -ECONNRESET;
	}
	set_errmsg(errmsg, "sending to vifwalld: %s", strerror(-rc));
	return rc;
}

/* Read until the decoder yields one message; the client is broken after a failure. */
static int recv_msg(struct app_ctl_client *c, struct app_ctl_msg *msg, int timeout_ms,
		    char **errmsg)
{
	size_t used;
	ssize_t n;
	int rc;

	for (;;) {
		if (c->rpos < c->rlen) {
			rc = app_ctl_decoder_feed(c->dec, c->rbuf + c->rpos, c->rlen - c->rpos,
						  &used, msg);
			c->rpos += used;
			if (rc == 1)
				return 0;
			if (rc < 0) {
				/* A reply we cannot read leaves us unsure which one comes next. */
				c->broken = 1;
				set_errmsg(errmsg, "vifwalld sent a malformed message: %s",
					   app_ctl_decoder_error(c->dec)->msg);
				return -EPROTO;
			}
			continue;
		}
		n = c->t->ops->read(c->t, c->rbuf, sizeof(c->rbuf));
		if (n == -EAGAIN) {
			rc = wait_ready(c, POLLIN, timeout_ms);
			if (rc == -ETIMEDOUT) {
				c->broken = 1;
				set_errmsg(errmsg, "vifwalld did not answer within %d ms",
					   timeout_ms);
				return rc;
			}
			if (rc < 0)
				goto fail;
			continue;
		}
		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : (int)n;
			goto fail;
		}
		c->rpos = 0;
		c->rlen = (size_t)n;
	}
fail:
	c->broken = 1;
	if (rc == -ECONNRESET) {
		set_errmsg(errmsg, "vifwalld closed the connection");
		return rc;
	}
	set_errmsg(errmsg, "receiving from vifwalld: %s", strerror(-rc));
	return rc;
}

static int call(struct app_ctl_client *c, const char *cmd, json_t *args, int want_stream,
		json_t **result, char **errmsg)
{
	struct app_ctl_msg msg;
	int64_t id;
	uint8_t *buf;
	size_t len;
	json_t *req;
	int rc;

	*result = NULL;
	if (c->broken) {
		set_errmsg(errmsg, "the connection to vifwalld failed earlier");
		return -ECONNRESET;
	}
	if (c->streaming) {
		set_errmsg(errmsg, "a stream is open on this connection");
		return -EBUSY;
	}
	id = c->next_id++;
	req = app_ctl_request_build(id, cmd, args);
	if (!req) {
		set_errmsg(errmsg,
			   "cannot build the '%s' request (out of memory, or args "
			   "that are not valid UTF-8)",
			   cmd);
		return -ENOMEM;
	}
	rc = app_ctl_encode_json(APP_CTL_REQUEST, 0, req, 0, &buf, &len);
	json_decref(req);
	if (rc == -EMSGSIZE) {
		set_errmsg(errmsg, "the '%s' request exceeds the %u-byte message limit", cmd,
			   APP_CTL_MAX_MSG);
		return rc;
	}
	if (rc < 0) {
		set_errmsg(errmsg, "cannot encode the '%s' request: %s", cmd, strerror(-rc));
		return rc;
	}
	rc = send_all(c, buf, len, errmsg);
	free(buf);
	/* A server that hung up on us may have said why first (e.g. too many clients). */
	if (rc == -ECONNRESET && recv_msg(c, &msg, 0, NULL) == 0) {
		if (msg.type == APP_CTL_REPLY && !msg.ok) {
			set_errmsg(errmsg, "%s", msg.error);
			rc = -EREMOTEIO;
		}
		app_ctl_msg_clear(&msg);
	}
	if (rc < 0)
		return rc;
	rc = recv_msg(c, &msg, c->timeout_ms, errmsg);
	if (rc < 0)
		return rc;
	if (msg.type != APP_CTL_REPLY || (msg.id != id && msg.id != -1)) {
		c->broken = 1;
		set_errmsg(errmsg,
			   "vifwalld answered out of turn (expected the reply to request %lld)",
			   (long long)id);
		rc = -EPROTO;
	} else if (!msg.ok) {
		set_errmsg(errmsg, "%s", msg.error);
		rc = -EREMOTEIO;
	} else if ((msg.flags & APP_CTL_F_STREAM) && !want_stream) {
		c->broken = 1;
		set_errmsg(errmsg, "'%s' streams its output: read it as a stream", cmd);
		rc = -EPROTO;
	} else {
		*result = json_incref(msg.result);
		c->streaming = !!(msg.flags & APP_CTL_F_STREAM);
		c->stream_id = id;
	}
	app_ctl_msg_clear(&msg);
	return rc;
}

int app_ctl_client_call(struct app_ctl_client *c, const char *cmd, json_t *args, json_t **result,
			char **errmsg)
{
	return call(c, cmd, args, 0, result, errmsg);
}

int app_ctl_client_call_stream(struct app_ctl_client *c, const char *cmd, json_t *args,
			       json_t **result, char **errmsg)
{
	return call(c, cmd, args, 1, result, errmsg);
}

int app_ctl_client_stream_next(struct app_ctl_client *c, struct app_ctl_chunk *chunk,
			       json_t **end_result, char **errmsg)
{
	struct app_ctl_msg msg;
	int rc;

	memset(chunk, 0, sizeof(*chunk));
	if (end_result)
		*end_result = NULL;
	if (!c->streaming) {
		set_errmsg(errmsg, "no stream is open");
		return -EINVAL;
	}
	rc = recv_msg(c, &msg, -1, errmsg);
	if (rc < 0) {
		c->streaming = 0;
		return rc;
	}
	switch (msg.type) {
	case APP_CTL_CHUNK:
		chunk->data = msg.raw;
		chunk->len = msg.raw_len;
		chunk->json = msg.body;
		msg.raw = NULL;
		msg.body = NULL;
		rc = 1;
		break;
	case APP_CTL_END:
		c->streaming = 0;
		if (!msg.ok) {
			set_errmsg(errmsg, "%s", msg.error);
			rc = -EREMOTEIO;
		} else if (end_result) {
			*end_result = json_incref(msg.result);
		}
		break;
	default:
		c->streaming = 0;
		c->broken = 1;
		set_errmsg(errmsg, "vifwalld sent a reply in the middle of a stream");
		rc = -EPROTO;
		break;
	}
	app_ctl_msg_clear(&msg);
	return rc;
}
