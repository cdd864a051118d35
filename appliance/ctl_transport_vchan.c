/*
 * The libxenvchan control transport: dom0's `vifwall -d DOMAIN` talks to vifwalld
 * over a shared-memory ring pair the appliance grants to dom0 (ctl_transport.h has
 * the mapping onto the transport ops). Access control is Xen's: the server grants
 * its pages and binds its event channel to domain 0 only, so no other domain can
 * map or signal it, and it advertises the ring under the appliance's own xenstore
 * tree, which only the appliance and dom0 can write.
 *
 * A vchan has exactly one client. The moment one connects, the server withdraws the
 * advertisement (the ring-ref and event-channel keys), so a second CLI never maps a
 * ring that is taken, or one about to be closed: it waits until vifwalld offers the
 * next vchan (daemon_vchan.c), which it does once this connection has ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libxenvchan.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "appliance/ctl_transport_vchan.h"

struct vchan_transport {
	struct app_ctl_transport base;
	struct libxenvchan *v;
	bool *closed; /* set when the transport goes away (the server makes a new one) */
	char *path;   /* server: the advertisement, until the client has connected */
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

/* Remove the server's ring-ref and event-channel keys: this vchan is taken. */
static void withdraw(struct vchan_transport *vt)
{
	struct xs_handle *xs = xs_open(0);

	if (xs) {
		xs_rm(xs, XBT_NULL, vt->path);
		xs_close(xs);
	}
	free(vt->path);
	vt->path = NULL;
}

/*
 * The event channel fired: acknowledge it (this does not block once poll said so).
 * A server sees its client's first event here (the ring's cli_live goes from 2,
 * "not yet", to 1), and withdraws its advertisement.
 */
static void vchan_notify(struct app_ctl_transport *t)
{
	struct vchan_transport *vt = to_vchan(t);

	libxenvchan_wait(vt->v);
	if (vt->path && libxenvchan_is_open(vt->v) != 2)
		withdraw(vt);
}

static void vchan_close(struct app_ctl_transport *t)
{
	struct vchan_transport *vt = to_vchan(t);

	libxenvchan_close(vt->v); /* a server's also removes its advertisement */
	free(vt->path);
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
	struct libxenvchan *v;
	char *copy = strdup(path);
	int rc;

	if (!copy)
		return -ENOMEM;
	/* Domain 0 is the only domain granted the ring and the event channel. */
	errno = 0;
	v = libxenvchan_server_init(NULL, 0, path, APP_CTL_VCHAN_RING_IN, APP_CTL_VCHAN_RING_OUT);
	if (!v) {
		free(copy);
		return errno ? -errno : -EIO;
	}
	rc = wrap(v, closed, "dom0 over vchan", out);
	if (rc < 0)
		free(copy);
	else
		to_vchan(*out)->path = copy;
	return rc;
}

int app_ctl_transport_vchan_client(unsigned domid, const char *path, struct app_ctl_transport **out)
{
	struct libxenvchan *v;
	char peer[32];

	errno = 0;
	v = libxenvchan_client_init(NULL, (int)domid, path);
	if (!v)
		return errno ? -errno : -EIO;
	snprintf(peer, sizeof(peer), "domain %u", domid);
	return wrap(v, NULL, peer, out);
}
