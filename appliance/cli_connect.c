/*
 * How the CLI reaches vifwalld: its unix socket inside the appliance, or, with
 * -d DOMAIN in dom0, the vchan the appliance offers (ctl_transport_vchan.h). DOMAIN
 * is a name or a domid, resolved through xenstore. A vchan has one client at a time:
 * concurrent CLIs in dom0 take turns on a lock file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <xenstore.h>

#include "appliance/cli.h"
#include "appliance/ctl_client.h"
#include "appliance/ctl_transport_vchan.h"

static int set_err(char **err, const char *fmt, const char *a, const char *b)
{
	if (asprintf(err, fmt, a, b) < 0)
		*err = NULL;
	return -EINVAL;
}

/* The domid of @domain (a name or a number), or -1. */
static long resolve(struct xs_handle *xs, const char *domain)
{
	unsigned n, len;
	char **doms, *end;
	long id = strtol(domain, &end, 10);

	if (*domain && !*end)
		return id;
	doms = xs_directory(xs, XBT_NULL, "/local/domain", &n);
	id = -1;
	for (unsigned i = 0; doms && i < n && id < 0; i++) {
		char path[64], *name;

		snprintf(path, sizeof(path), "/local/domain/%s/name", doms[i]);
		name = xs_read(xs, XBT_NULL, path, &len);
		if (name && !strcmp(name, domain))
			id = strtol(doms[i], NULL, 10);
		free(name);
	}
	free(doms);
	return id;
}

static int connect_vchan(const char *domain, struct app_ctl_client **out, char **err)
{
	struct app_ctl_transport *t;
	char path[96], lock[96], *ring;
	unsigned len;
	bool offered;
	long id;
	int rc, fd;
	struct xs_handle *xs = xs_open(0);

	if (!xs)
		return set_err(err,
			       "cannot open xenstore (%s%s): run vifwall -d in dom0, as root, with "
			       "xenstored running",
			       strerror(errno), "");
	id = resolve(xs, domain);
	if (id < 0) {
		xs_close(xs);
		return set_err(err, "no domain named '%s' runs (see xl list)%s", domain, "");
	}
	snprintf(path, sizeof(path), "/local/domain/%ld/" APP_CTL_VCHAN_KEY "/ring-ref", id);
	ring = xs_read(xs, XBT_NULL, path, &len);
	xs_close(xs);
	offered = ring != NULL;
	free(ring);
	if (!offered)
		return set_err(err,
			       "domain '%s' offers no vifwall control channel: is it a vifwall "
			       "appliance, and is its vifwalld up (xl console %s)?",
			       domain, domain);
	/* One client per vchan: wait for our turn. */
	snprintf(lock, sizeof(lock), "/run/lock/vifwall-ctl-%ld", id);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		flock(fd, LOCK_EX); /* released when the process exits */
	snprintf(path, sizeof(path), "/local/domain/%ld/" APP_CTL_VCHAN_KEY, id);
	rc = app_ctl_transport_vchan_client((unsigned)id, path, &t);
	if (rc < 0)
		return set_err(err, "cannot connect to the control channel of '%s': %s", domain,
			       strerror(-rc));
	return app_ctl_client_new(t, out);
}

int app_cli_connect(const struct app_global_opts *g, struct app_ctl_client **out, char **err)
{
	if (g->domain)
		return connect_vchan(g->domain, out, err);
	return app_ctl_client_connect_unix(g->ctl_path, out, err);
}
