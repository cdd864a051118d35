/*
 * The unix-socket control transport: nonblocking send/recv on a connected stream
 * socket. It records the peer's credentials once, since the server logs who
 * connected and the socket's 0600 mode is the only access control inside the
 * appliance.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appliance/ctl_transport.h"

struct unix_transport {
	struct app_ctl_transport base;
	int fd;
};

static struct unix_transport *to_unix(const struct app_ctl_transport *t)
{
	return (struct unix_transport *)t;
}

static ssize_t unix_read(struct app_ctl_transport *t, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(to_unix(t)->fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t unix_write(struct app_ctl_transport *t, const void *buf, size_t len)
{
	ssize_t n;

	/* MSG_NOSIGNAL: a client that went away must not kill the daemon with SIGPIPE. */
	do
		n = send(to_unix(t)->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static int unix_fd(const struct app_ctl_transport *t)
{
	return to_unix(t)->fd;
}

static void unix_close(struct app_ctl_transport *t)
{
	close(to_unix(t)->fd);
	free(t);
}

static const struct app_ctl_transport_ops unix_ops = {
	.name = "unix",
	.read = unix_read,
	.write = unix_write,
	.fd = unix_fd,
	.close = unix_close,
	.out_events = POLLOUT,
};

int app_ctl_transport_unix_new(int fd, struct app_ctl_transport **out)
{
	struct unix_transport *u;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		close(fd);
		return -ENOMEM;
	}
	u->base.ops = &unix_ops;
	u->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		snprintf(u->base.peer, sizeof(u->base.peer), "uid %u pid %d", (unsigned)cred.uid,
			 (int)cred.pid);
	else
		snprintf(u->base.peer, sizeof(u->base.peer), "fd %d", fd);
	*out = &u->base;
	return 0;
}

void app_ctl_transport_close(struct app_ctl_transport *t)
{
	if (t)
		t->ops->close(t);
}
