/*
 * How the CLI reaches vifwalld: its unix socket inside the appliance, or, with
 * -d DOMAIN in dom0, the vchan the appliance offers (ctl_transport_vchan.h). DOMAIN
 * is a name or a domid, resolved through xenstore. A vchan has one client at a time:
 * concurrent CLIs in dom0 take turns on a lock file, and each waits for vifwalld's
 * fresh offer (the previous client's vchan is withdrawn, ctl_transport_vchan.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <xenstore.h>

#include "appliance/cli.h"
#include "appliance/ctl_client.h"
#include "appliance/ctl_transport_vchan.h"

/* How long to wait for vifwalld to offer its vchan (it re-offers after each client). */
#define OFFER_WAIT_MS 10000
#define OFFER_POLL_MS 50

static int set_err(char **err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int set_err(char **err, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return rc;
}

/* The domid of @domain (a name or a number), or -1. */
static long resolve(struct xs_handle *xs, const char *domain)
{
	unsigned n, len;
	char **doms, *end, path[64], *name;
	long id = strtol(domain, &end, 10);

	if (*domain && !*end) {
		/* A number names a domain only if it runs. */
		snprintf(path, sizeof(path), "/local/domain/%ld/name", id);
		name = xs_read(xs, XBT_NULL, path, &len);
		free(name);
		return name || id == 0 ? id : -1;
	}
	doms = xs_directory(xs, XBT_NULL, "/local/domain", &n);
	id = -1;
	for (unsigned i = 0; doms && i < n && id < 0; i++) {
		snprintf(path, sizeof(path), "/local/domain/%s/name", doms[i]);
		name = xs_read(xs, XBT_NULL, path, &len);
		if (name && !strcmp(name, domain))
			id = strtol(doms[i], NULL, 10);
		free(name);
	}
	free(doms);
	return id;
}

/* True when the xenstore key @dir/@key exists. */
static bool xs_has(struct xs_handle *xs, const char *dir, const char *key)
{
	char path[128], *v;
	unsigned len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	v = xs_read(xs, XBT_NULL, path, &len);
	free(v);
	return v != NULL;
}

/*
 * Take this dom0's turn on the appliance's one vchan: an exclusive lock per domain,
 * held until the process exits. Says so when another vifwall -d holds it (a capture
 * or a trace can run for long).
 */
static void take_turn(long id, const char *domain)
{
	char lock[64];
	int fd;

	snprintf(lock, sizeof(lock), "/run/lock/vifwall-ctl-%ld", id);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return; /* no /run/lock: the offer wait below still serialises us */
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return;
	fprintf(stderr, "vifwall: waiting for another vifwall -d %s to finish (%s)\n", domain,
		lock);
	flock(fd, LOCK_EX);
}

static int connect_vchan(const char *domain, struct app_ctl_client **out, char **err)
{
	struct app_ctl_transport *t = NULL;
	char dir[64];
	struct xs_handle *xs;
	long id;
	int rc = -ENOENT;

	if (geteuid() != 0)
		return set_err(err, -EACCES,
			       "vifwall -d needs root in dom0 (xenstore and the vchan's grant "
			       "mapping are root's): run it with sudo");
	xs = xs_open(0);
	if (!xs)
		return set_err(err, -errno,
			       "cannot open xenstore (%s): run vifwall -d in dom0, with "
			       "xenstored running",
			       strerror(errno));
	id = resolve(xs, domain);
	if (id < 0) {
		xs_close(xs);
		return set_err(err, -ENOENT, "no domain named '%s' runs (see xl list)", domain);
	}
	snprintf(dir, sizeof(dir), "/local/domain/%ld/data/vifwall", id);
	if (!xs_has(xs, dir, "state")) {
		xs_close(xs);
		return set_err(err, -ENOENT,
			       "domain '%s' offers no vifwall control channel: is it a vifwall "
			       "appliance, and is its vifwalld up (xl console %s)?",
			       domain, domain);
	}
	take_turn(id, domain);
	/*
	 * vifwalld withdraws its offer while a client is connected and makes a new one
	 * when it leaves: wait for it. A failed connect (an offer left behind by a
	 * vifwalld that died) is retried too, until the next offer or the deadline.
	 */
	snprintf(dir, sizeof(dir), "/local/domain/%ld/" APP_CTL_VCHAN_KEY, id);
	for (int waited = 0; waited < OFFER_WAIT_MS; waited += OFFER_POLL_MS) {
		if (xs_has(xs, dir, "ring-ref") && xs_has(xs, dir, "event-channel")) {
			rc = app_ctl_transport_vchan_client((unsigned)id, dir, &t);
			if (rc == 0)
				break;
		}
		usleep(OFFER_POLL_MS * 1000);
	}
	xs_close(xs);
	if (!t && rc == -ENOENT)
		return set_err(err, -ETIMEDOUT,
			       "vifwalld in '%s' did not offer its control channel within %d s "
			       "(is it up? xl console %s)",
			       domain, OFFER_WAIT_MS / 1000, domain);
	if (!t)
		return set_err(err, rc,
			       "cannot connect to the control channel of '%s': %s (is its "
			       "vifwalld up? xl console %s)",
			       domain, strerror(-rc), domain);
	return app_ctl_client_new(t, out);
}

int app_cli_connect(const struct app_global_opts *g, struct app_ctl_client **out, char **err)
{
	if (g->domain)
		return connect_vchan(g->domain, out, err);
	return app_ctl_client_connect_unix(g->ctl_path, out, err);
}
