/*
 * The libxenvchan control transport: dom0's `vifwall -d DOMAIN` talks to vifwalld
 * over a shared-memory ring pair the appliance grants to dom0 (ctl_transport.h has
 * the mapping onto the transport ops). Access control is Xen's: the server grants
 * its pages and binds its event channel to domain 0 only, so no other domain can
 * map or signal it, and it advertises the ring under the appliance's own xenstore
 * tree, which only the appliance and dom0 can write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libxenvchan.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/ctl_transport_vchan.h"

struct vchan_transport {
	struct app_ctl_transport base;
	struct libxenvchan *v;
	bool *closed; /* set when the transport goes away (the server makes a new one) */
};

static struct vchan_transport *to_vchan(const struct app_ctl_transport *t)
{
	return (struct vchan_transport *)t;
}

/* 0: the peer closed or crashed; 2: a server whose client has not come yet. */
static bool peer_gone(struct libxenvchan *v)
{
	return libxenvchan_is_open(v) == 0;
}

static ssize_t vchan_read(struct app_ctl_transport *t, void *buf, size_t len)
{
	struct libxenvchan *v = to_vchan(t)->v;
	int n;

	if (!libxenvchan_data_ready(v))
		return peer_gone(v) ? 0 : -EAGAIN;
	n = libxenvchan_read(v, buf, len);
	if (n < 0)
		return -EIO;
	return n ? n : -EAGAIN;
}

static ssize_t vchan_write(struct app_ctl_transport *t, const void *buf, size_t len)
{
	struct libxenvchan *v = to_vchan(t)->v;
	int n;

	if (peer_gone(v))
		return -EPIPE;
	n = libxenvchan_write(v, buf, len);
	if (n < 0)
		return -EIO;
	return n ? n : -EAGAIN;
}

static int vchan_fd(const struct app_ctl_transport *t)
{
	return libxenvchan_fd_for_select(to_vchan(t)->v);
}

/* The event channel fired: acknowledge it (this does not block once poll said so). */
static void vchan_notify(struct app_ctl_transport *t)
{
	libxenvchan_wait(to_vchan(t)->v);
}

static void vchan_close(struct app_ctl_transport *t)
{
	struct vchan_transport *vt = to_vchan(t);

	libxenvchan_close(vt->v);
	if (vt->closed)
		*vt->closed = true;
	free(vt);
}

static const struct app_ctl_transport_ops vchan_ops = {
	.name = "vchan",
	.read = vchan_read,
	.write = vchan_write,
	.fd = vchan_fd,
	.notify = vchan_notify,
	.close = vchan_close,
	/* a vchan reports room to write as an event on its one descriptor */
	.out_events = POLLIN,
};

static int wrap(struct libxenvchan *v, bool *closed, const char *peer,
		struct app_ctl_transport **out)
{
	struct vchan_transport *vt = calloc(1, sizeof(*vt));

	if (!vt) {
		libxenvchan_close(v);
		return -ENOMEM;
	}
	v->blocking = 0;
	vt->base.ops = &vchan_ops;
	vt->v = v;
	vt->closed = closed;
	snprintf(vt->base.peer, sizeof(vt->base.peer), "%s", peer);
	*out = &vt->base;
	return 0;
}

int app_ctl_transport_vchan_server(const char *path, bool *closed, struct app_ctl_transport **out)
{
	/* Rings of one page each way (the minimum): messages are framed and streamed. */
	struct libxenvchan *v = libxenvchan_server_init(NULL, 0, path, 0, 0);

	if (!v)
		return errno ? -errno : -EIO;
	return wrap(v, closed, "dom0 over vchan", out);
}

int app_ctl_transport_vchan_client(unsigned domid, const char *path, struct app_ctl_transport **out)
{
	struct libxenvchan *v = libxenvchan_client_init(NULL, (int)domid, path);
	char peer[32];

	if (!v)
		return errno ? -errno : -EIO;
	snprintf(peer, sizeof(peer), "domain %u", domid);
	return wrap(v, NULL, peer, out);
}
