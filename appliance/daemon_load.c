/*
 * Ruleset loads off the loop's thread. Compiling goes through the kernel in a private
 * namespace and takes from milliseconds to about a second (10k rules); done in the
 * loop, every port would stop for that long on each `vifwall load` or SIGHUP. So a
 * worker thread compiles beside the running ruleset while the loop forwards, and
 * signals an eventfd; the loop then swaps the new ruleset in between two turns (one
 * pointer) and answers the client. One load at a time; a failed one changes nothing.
 *
 * The thread touches nothing of the daemon's: it gets copies of what it needs and
 * hands back the ruleset or nft's error text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "appliance/daemon_internal.h"
#include "filters/ruleset.h"

struct app_daemon_load {
	pthread_t thread;
	int efd;
	/* In: */
	char *path;   /* the file to compile */
	char *tmpdir; /* NULL, or a directory holding only @path, removed when done */
	char *name;   /* what the user calls it */
	const char *ports[NB_MAX_PORTS + 1];
	const struct flt_logger *log;
	struct app_ctl_stream *reply; /* the client's deferred reply; NULL for SIGHUP or
					 once the client has gone */
	int sighup;		      /* a reload of the configured file */
	/* Out: */
	int rc;
	struct flt_ruleset *rs;
	char *err, *text;
};

static void *load_thread(void *arg)
{
	struct app_daemon_load *l = arg;
	struct flt_load_opts lo = {.path = l->path, .ports = l->ports, .log = l->log};
	uint64_t one = 1;

	l->rc = flt_ruleset_load(&lo, &l->rs, &l->err);
	if (l->rc == 0 && !(l->text = app_daemon_file_text(l->path))) {
		l->rc = -ENOMEM;
		flt_ruleset_free(l->rs);
		l->rs = NULL;
	}
	if (l->tmpdir) {
		unlink(l->path);
		rmdir(l->tmpdir);
	}
	if (write(l->efd, &one, sizeof(one)) != sizeof(one))
		abort(); /* an eventfd write of 1 cannot fail */
	return NULL;
}

static void load_free(struct app_daemon_load *l)
{
	if (l->efd >= 0)
		close(l->efd);
	if (l->rs)
		flt_ruleset_free(l->rs);
	free(l->path);
	free(l->tmpdir);
	free(l->name);
	free(l->err);
	free(l->text);
	free(l);
}

static void reply_gone(void *arg, struct app_ctl_stream *reply)
{
	struct app_daemon_load *l = arg;

	(void)reply;
	l->reply = NULL; /* the load goes on; nobody is told */
}

/* Remove every "@dir/" from @s in place: nft's messages then name the user's file. */
static void strip_dir(char *s, const char *dir)
{
	size_t n = strlen(dir);
	char *p;

	while ((p = strstr(s, dir)) && p[n] == '/')
		memmove(p, p + n + 1, strlen(p + n + 1) + 1);
}

int app_daemon_load_start(struct app_daemon *d, const char *path, const char *tmpdir,
			  const char *name, struct app_ctl_reply *reply)
{
	struct app_daemon_load *l;
	int rc;

	if (d->load)
		return -EBUSY;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	l->path = strdup(path);
	l->tmpdir = tmpdir ? strdup(tmpdir) : NULL;
	l->name = strdup(name);
	l->log = d->log;
	l->sighup = !reply;
	memcpy(l->ports, d->port_names, sizeof(l->ports));
	if (l->efd < 0 || !l->path || !l->name || (tmpdir && !l->tmpdir)) {
		rc = l->efd < 0 ? -errno : -ENOMEM;
		load_free(l);
		return rc;
	}
	if (reply && (rc = app_ctl_reply_defer(reply, reply_gone, l, &l->reply)) < 0) {
		load_free(l);
		return rc;
	}
	rc = -pthread_create(&l->thread, NULL, load_thread, l);
	if (rc < 0) {
		if (l->reply)
			app_ctl_deferred_finish(l->reply, NULL,
						"load: cannot start the compiler thread");
		load_free(l);
		return 0; /* answered */
	}
	d->load = l;
	return 0;
}

int app_daemon_load_fd(const struct app_daemon *d)
{
	return d->load ? d->load->efd : -1;
}

/* The answer to `vifwall load`, as it was before loads had a thread. */
static json_t *load_result(struct app_daemon *d, const char *name)
{
	struct flt_ruleset_stats st;

	flt_ruleset_get_stats(d->rs, &st);
	return json_pack("{s:s, s:I, s:i, s:i, s:i, s:i}", "name", name, "generation",
			 (json_int_t)d->generation, "chains", st.chains, "rules", st.rules, "sets",
			 st.sets, "elements", st.elements);
}

void app_daemon_load_finish(struct app_daemon *d)
{
	struct app_daemon_load *l = d->load;
	struct flt_ruleset_stats st;
	uint64_t n;

	if (!l || read(l->efd, &n, sizeof(n)) != sizeof(n))
		return; /* not done yet */
	pthread_join(l->thread, NULL);
	d->load = NULL;
	if (l->rc < 0) {
		if (l->err && l->tmpdir)
			strip_dir(l->err, l->tmpdir);
		flt_log(d->log, LOG_ERR, "%s %s refused; the running ruleset stays:\n%s",
			l->sighup ? "reload failed:" : "load", l->name,
			l->err ? l->err : strerror(-l->rc));
		if (l->reply)
			app_ctl_deferred_finish(l->reply, NULL, l->err ? l->err : strerror(-l->rc));
		load_free(l);
		return;
	}
	flt_ruleset_get_stats(l->rs, &st);
	flt_log(d->log, LOG_INFO, "%s: %u chains, %u rules, %u sets, %u elements", l->name,
		st.chains, st.rules, st.sets, st.elements);
	app_daemon_rules_remember_text(d, l->text, l->name);
	l->text = NULL;
	app_daemon_rules_swap(d, l->rs);
	l->rs = NULL;
	flt_log(d->log, LOG_INFO,
		l->sighup ? "rules reloaded from %s (generation %llu)"
			  : "rules %s loaded (generation %llu)",
		l->name, (unsigned long long)d->generation);
	if (l->reply)
		app_ctl_deferred_finish(l->reply, load_result(d, l->name), NULL);
	load_free(l);
}

void app_daemon_load_free(struct app_daemon *d)
{
	if (!d->load)
		return;
	/* Stopping: let the compile end (at most a second or so), then drop its result. */
	pthread_join(d->load->thread, NULL);
	load_free(d->load);
	d->load = NULL;
}
