/*
 * vifwall reattach: record the appliance's vifs while it runs; re-attach the stale
 * ones when it is back (see reattach.h). Everything it reads comes from xenstore,
 * which dom0 trusts; values go to xl as separate arguments, never through a shell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xenstore.h>

#include "appliance/reattach.h"

#define RA_MAX_VIFS  256
#define RA_PERIOD_MS 5000 /* a pass at least this often, watches or not */

/* The settings of one vif, as the backend directory holds them and as
 * `xl network-attach` takes them back (KEY=VALUE). */
static const char *const ra_keys[] = {"mac", "ip", "vifname", "rate", "mtu", "model"};
#define RA_NKEYS (sizeof(ra_keys) / sizeof(ra_keys[0]))

struct ra_vif {
	char guest[64]; /* the guest's name: a domid alone may be reused */
	unsigned domid, devid;
	char *val[RA_NKEYS]; /* malloc'd; NULL when the backend had no such key */
};

struct ra {
	const struct app_reattach_opts *o;
	struct xs_handle *xs;
	struct ra_vif vifs[RA_MAX_VIFS];
	unsigned n;
	int watched_aid; /* the appliance whose backend tree is watched; -1: none */
};

static void ra_log(const struct ra *ra, const char *fmt, ...)
{
	va_list ap;

	(void)ra;
	va_start(ap, fmt);
	fprintf(stderr, "vifwall reattach: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* xs_read of a printf-made path; NULL when absent. */
static char *xread(struct ra *ra, const char *fmt, ...)
{
	char path[256];
	unsigned len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return xs_read(ra->xs, XBT_NULL, path, &len);
}

/* Parse a decimal domid or devid as xenstore writes them; -1 otherwise. */
static long parse_id(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return (*end || errno || v < 0 || v > 0x7fffffff) ? -1 : v;
}

static int domid_by_name(struct ra *ra, const char *name)
{
	unsigned n;
	char **doms = xs_directory(ra->xs, XBT_NULL, "/local/domain", &n);
	int found = -1;

	for (unsigned i = 0; doms && i < n && found < 0; i++) {
		char *nm = xread(ra, "/local/domain/%s/name", doms[i]);

		if (nm && !strcmp(nm, name))
			found = (int)parse_id(doms[i]);
		free(nm);
	}
	free(doms);
	return found;
}

static void vif_clear(struct ra_vif *v)
{
	for (unsigned k = 0; k < RA_NKEYS; k++)
		free(v->val[k]);
	memset(v, 0, sizeof(*v));
}

static void vifs_clear(struct ra *ra)
{
	for (unsigned i = 0; i < ra->n; i++)
		vif_clear(&ra->vifs[i]);
	ra->n = 0;
}

/* --- the state file --- */

static int state_load(struct ra *ra)
{
	json_error_t jerr;
	json_t *root = json_load_file(ra->o->state, 0, &jerr), *it;
	size_t i;

	if (!root)
		return access(ra->o->state, F_OK) ? 0 : -1; /* no file yet: nothing recorded */
	json_array_foreach(json_object_get(root, "vifs"), i, it)
	{
		struct ra_vif *v;
		const char *g = json_string_value(json_object_get(it, "guest"));

		if (ra->n == RA_MAX_VIFS || !g || strlen(g) >= sizeof(v->guest))
			continue;
		v = &ra->vifs[ra->n++];
		memset(v, 0, sizeof(*v));
		strcpy(v->guest, g);
		v->domid = (unsigned)json_integer_value(json_object_get(it, "domid"));
		v->devid = (unsigned)json_integer_value(json_object_get(it, "devid"));
		for (unsigned k = 0; k < RA_NKEYS; k++) {
			const char *s = json_string_value(json_object_get(it, ra_keys[k]));

			v->val[k] = s ? strdup(s) : NULL;
		}
	}
	json_decref(root);
	return 0;
}

/* Written to a temporary file and renamed: a crash never leaves half a record. */
static int state_save(struct ra *ra)
{
	json_t *arr = json_array(), *root;
	char tmp[4096];
	int rc;

	for (unsigned i = 0; i < ra->n; i++) {
		const struct ra_vif *v = &ra->vifs[i];
		json_t *o = json_pack("{s:s, s:i, s:i}", "guest", v->guest, "domid", (int)v->domid,
				      "devid", (int)v->devid);

		for (unsigned k = 0; o && k < RA_NKEYS; k++)
			if (v->val[k])
				json_object_set_new(o, ra_keys[k], json_string(v->val[k]));
		json_array_append_new(arr, o);
	}
	root = json_pack("{s:s, s:o}", "appliance", ra->o->appliance, "vifs", arr);
	snprintf(tmp, sizeof(tmp), "%s.tmp", ra->o->state);
	rc = root ? json_dump_file(root, tmp, JSON_INDENT(1)) : -1;
	json_decref(root);
	if (rc == 0 && rename(tmp, ra->o->state) == 0)
		return 0;
	ra_log(ra, "cannot write %s: %s (create its directory, or pass --state FILE)", ra->o->state,
	       strerror(errno));
	unlink(tmp);
	return -1;
}

/* --- xl --- */

static int run_xl(struct ra *ra, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "vifwall reattach: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (ra->o->verbose || !WIFEXITED(status) || WEXITSTATUS(status))
		ra_log(ra, "%s %s %s %s: %s %d", argv[0], argv[1], argv[2], argv[3] ? argv[3] : "",
		       WIFEXITED(status) ? "exit status" : "killed by signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Detach the stale vif and attach it again to the appliance, with its settings. */
static int reattach_vif(struct ra *ra, const struct ra_vif *v)
{
	char dom[16], dev[16], kv[RA_NKEYS][300], backend[128];
	char *argv[8 + RA_NKEYS];
	unsigned a = 0;

	snprintf(dom, sizeof(dom), "%u", v->domid);
	snprintf(dev, sizeof(dev), "%u", v->devid);
	char *detach[] = {(char *)ra->o->xl, "network-detach", dom, dev, NULL};
	/* A detach toward a dead backend succeeds once libxl gives up waiting for it. */
	if (run_xl(ra, detach))
		ra_log(ra, "%s vif %u: detaching the stale vif failed; attaching anyway", v->guest,
		       v->devid);
	snprintf(backend, sizeof(backend), "backend=%s", ra->o->appliance);
	argv[a++] = (char *)ra->o->xl;
	argv[a++] = "network-attach";
	argv[a++] = dom;
	argv[a++] = backend;
	for (unsigned k = 0; k < RA_NKEYS; k++) {
		if (!v->val[k] || !*v->val[k])
			continue;
		snprintf(kv[k], sizeof(kv[k]), "%s=%s", ra_keys[k], v->val[k]);
		argv[a++] = kv[k];
	}
	argv[a] = NULL;
	if (run_xl(ra, argv))
		return -1;
	ra_log(ra, "%s: vif %u re-attached to %s", v->guest, v->devid, ra->o->appliance);
	return 0;
}

/* --- one pass --- */

/* Every vif in the appliance's backend tree, with its guest's name. */
static void record_current(struct ra *ra, int aid, struct ra_vif *out, unsigned *n)
{
	char base[64];
	unsigned ng, nd;
	char **guests;

	snprintf(base, sizeof(base), "/local/domain/%d/backend/vif", aid);
	guests = xs_directory(ra->xs, XBT_NULL, base, &ng);
	for (unsigned g = 0; guests && g < ng; g++) {
		long gid = parse_id(guests[g]);
		char *name = gid < 0 ? NULL : xread(ra, "/local/domain/%ld/name", gid);
		char path[128];
		char **devs;

		snprintf(path, sizeof(path), "%s/%ld", base, gid);
		devs = name ? xs_directory(ra->xs, XBT_NULL, path, &nd) : NULL;
		for (unsigned d = 0; devs && d < nd && *n < RA_MAX_VIFS; d++) {
			long devid = parse_id(devs[d]);
			struct ra_vif *v;

			if (devid < 0 || strlen(name) >= sizeof(v->guest))
				continue;
			v = &out[(*n)++];
			memset(v, 0, sizeof(*v));
			strcpy(v->guest, name);
			v->domid = (unsigned)gid;
			v->devid = (unsigned)devid;
			for (unsigned k = 0; k < RA_NKEYS; k++)
				v->val[k] = xread(ra, "%s/%ld/%s", path, devid, ra_keys[k]);
		}
		free(devs);
		free(name);
	}
	free(guests);
}

static bool same_vifs(const struct ra_vif *a, unsigned na, const struct ra_vif *b, unsigned nb)
{
	if (na != nb)
		return false;
	for (unsigned i = 0; i < na; i++) {
		if (strcmp(a[i].guest, b[i].guest) || a[i].domid != b[i].domid ||
		    a[i].devid != b[i].devid)
			return false;
		for (unsigned k = 0; k < RA_NKEYS; k++)
			if (!a[i].val[k] != !b[i].val[k] ||
			    (a[i].val[k] && strcmp(a[i].val[k], b[i].val[k])))
				return false;
	}
	return true;
}

/*
 * With the appliance up: re-attach every recorded vif whose guest still runs and
 * whose frontend still names a backend domain other than the appliance (one that
 * died), then record what the appliance serves now. With the appliance down or
 * booting: keep the record as it is.
 */
static int pass(struct ra *ra, int aid)
{
	static struct ra_vif cur[RA_MAX_VIFS];
	unsigned ncur = 0, failed = 0;
	char *state;

	if (aid < 0)
		return 0;
	state = xread(ra, "/local/domain/%d/data/vifwall/state", aid);
	bool up = state && !strcmp(state, "up");
	free(state);
	if (!up)
		return 0;
	for (unsigned i = 0; i < ra->n; i++) {
		struct ra_vif *v = &ra->vifs[i];
		char *name = xread(ra, "/local/domain/%u/name", v->domid);
		char *bid =
			xread(ra, "/local/domain/%u/device/vif/%u/backend-id", v->domid, v->devid);
		long b = parse_id(bid);
		bool alive = name && !strcmp(name, v->guest);

		free(name);
		free(bid);
		/* Gone guests and vifs someone detached are forgotten; current ones are
		 * recorded again below. */
		if (!alive || b < 0 || b == aid)
			continue;
		if (reattach_vif(ra, v)) {
			if (failed != i) { /* kept at the front, for the next pass */
				vif_clear(&ra->vifs[failed]);
				ra->vifs[failed] = *v;
				memset(v, 0, sizeof(*v));
			}
			failed++;
		}
	}
	record_current(ra, aid, cur, &ncur);
	for (unsigned i = 0; i < failed && ncur < RA_MAX_VIFS; i++)
		cur[ncur++] = ra->vifs[i], memset(&ra->vifs[i], 0, sizeof(ra->vifs[i]));
	bool changed = !same_vifs(ra->vifs, ra->n, cur, ncur);
	vifs_clear(ra);
	memcpy(ra->vifs, cur, ncur * sizeof(cur[0]));
	ra->n = ncur;
	if (changed && ra->o->verbose)
		ra_log(ra, "recorded %u vif(s) of %s (domain %d)", ra->n, ra->o->appliance, aid);
	return changed ? state_save(ra) : 0;
}

/* Watch the appliance's backend tree and state, re-aimed when its domid changes. */
static void watch_appliance(struct ra *ra, int aid)
{
	char p[96];

	if (aid == ra->watched_aid)
		return;
	if (ra->watched_aid >= 0) {
		snprintf(p, sizeof(p), "/local/domain/%d/backend/vif", ra->watched_aid);
		xs_unwatch(ra->xs, p, "vif");
		snprintf(p, sizeof(p), "/local/domain/%d/data/vifwall/state", ra->watched_aid);
		xs_unwatch(ra->xs, p, "state");
	}
	ra->watched_aid = aid;
	if (aid < 0)
		return;
	snprintf(p, sizeof(p), "/local/domain/%d/backend/vif", aid);
	xs_watch(ra->xs, p, "vif");
	snprintf(p, sizeof(p), "/local/domain/%d/data/vifwall/state", aid);
	xs_watch(ra->xs, p, "state");
}

static int serve(struct ra *ra)
{
	if (!xs_watch(ra->xs, "@introduceDomain", "dom") ||
	    !xs_watch(ra->xs, "@releaseDomain", "dom")) {
		ra_log(ra, "cannot watch xenstore: %s", strerror(errno));
		return 1;
	}
	for (;;) {
		struct pollfd pfd = {.fd = xs_fileno(ra->xs), .events = POLLIN};
		int aid = domid_by_name(ra, ra->o->appliance);

		watch_appliance(ra, aid);
		pass(ra, aid);
		if (poll(&pfd, 1, RA_PERIOD_MS) > 0) {
			char **ev;

			/* Drain: one pass covers every event that arrived. */
			while ((ev = xs_check_watch(ra->xs)))
				free(ev);
		}
	}
}

int app_reattach_run(const struct app_reattach_opts *o)
{
	static struct ra ra;
	int rc;

	ra.o = o;
	ra.watched_aid = -1;
	ra.xs = xs_open(0);
	if (!ra.xs) {
		fprintf(stderr,
			"vifwall reattach: cannot open xenstore: %s (run it in dom0, as "
			"root, with xenstored running)\n",
			strerror(errno));
		return 1;
	}
	if (state_load(&ra)) {
		fprintf(stderr,
			"vifwall reattach: %s is not a record this tool wrote; move it "
			"away to start afresh\n",
			o->state);
		xs_close(ra.xs);
		return 1;
	}
	if (o->watch) {
		rc = serve(&ra);
	} else {
		int aid = domid_by_name(&ra, o->appliance);

		if (aid < 0)
			fprintf(stderr,
				"vifwall reattach: no domain named '%s' runs; the record in %s "
				"is kept\n",
				o->appliance, o->state);
		rc = pass(&ra, aid) ? 1 : 0;
	}
	vifs_clear(&ra);
	xs_close(ra.xs);
	return rc;
}
