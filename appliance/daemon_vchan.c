/*
 * vifwalld's control channel for dom0: a libxenvchan offered at
 * /local/domain/<self>/data/vifwall/ctl and served by the same control server as the
 * unix socket. A vchan has one peer, so it is not a listener: after each dom0
 * connection ends a fresh one is offered (app_daemon_vchan_tick, every loop turn).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <xenstore.h>

#include "appliance/ctl_transport_vchan.h"
#include "appliance/daemon_internal.h"

struct app_daemon_vchan {
	char path[64];
	bool closed; /* no vchan on offer: make one */
	unsigned failures;
};

/* The xenstore path of our vchan, from our own domid. */
static int vchan_path(char *path, size_t size)
{
	struct xs_handle *xs = xs_open(0);
	unsigned len;
	char *id;

	if (!xs)
		return -errno;
	id = xs_read(xs, XBT_NULL, "domid", &len);
	xs_close(xs);
	if (!id)
		return -ENOENT;
	snprintf(path, size, "/local/domain/%s/" APP_CTL_VCHAN_KEY, id);
	free(id);
	return 0;
}

void app_daemon_vchan_tick(struct app_daemon *d)
{
	struct app_daemon_vchan *v = d->vchan;
	struct app_ctl_transport *t;
	int rc;

	if (!v || !v->closed || v->failures > 3)
		return;
	rc = app_ctl_transport_vchan_server(v->path, &v->closed, &t);
	if (rc < 0) {
		/* Without gntalloc/evtchn there is no vchan at all; say so a few times. */
		flt_log(d->log, LOG_ERR, "control vchan at %s: %s%s", v->path, strerror(-rc),
			++v->failures > 3 ? " (giving up: control from dom0 is off)" : "");
		return;
	}
	v->closed = false;
	v->failures = 0;
	rc = app_ctl_server_add_transport(d->ctl, t);
	if (rc < 0)
		flt_log(d->log, LOG_ERR, "control vchan: %s", strerror(-rc));
}

int app_daemon_vchan_start(struct app_daemon *d)
{
	struct app_daemon_vchan *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	rc = vchan_path(v->path, sizeof(v->path));
	if (rc < 0) {
		free(v);
		return rc;
	}
	v->closed = true;
	d->vchan = v;
	app_daemon_vchan_tick(d);
	if (!v->closed)
		flt_log(d->log, LOG_INFO, "control vchan for dom0 at %s", v->path);
	return 0;
}

void app_daemon_vchan_free(struct app_daemon *d)
{
	free(d->vchan); /* its transport belongs to the control server, freed before */
	d->vchan = NULL;
}
