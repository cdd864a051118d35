/*
 * vif hotplug from xenstore: the state machine of appliance/hotplug.h.
 *
 * One watch on our own /local/domain/<self>/backend/vif: xenstored fires it for every
 * write under the tree, with the path written. A path under backend/vif/D/H makes us
 * look at that one vif again (its state, whether its directory still exists); any
 * other path (the tree itself, a guest's whole directory) and every (re)connection
 * make us diff the whole tree against what we track. Looking again instead of
 * interpreting each event makes lost, merged or reordered events harmless, and
 * makes resynchronising after a reconnection the same code as starting.
 *
 * A vif is tracked from the moment its directory shows until it is removed; its port
 * exists only between "netdev found and attached" and "closing, closed or gone".
 * We never write into a directory that is gone or closing: hotplug-status is written
 * in a transaction that first checks the state.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "appliance/daemon.h"
#include "appliance/hotplug.h"
#include "appliance/hotplug_internal.h"

#define HP_MAX_VIFS	  NB_MAX_PORTS
#define HP_TOKEN	  "vifwall-hotplug"
#define HP_RETRY_MS	  500	/* look for missing netdevs at least this often */
#define HP_RECONNECT_MS	  1000	/* retry a lost xenstore connection this often */
#define HP_NETDEV_WARN_MS 10000 /* libxl in dom0 gives up on a vif after 10 s */
#define HP_NAME_WAIT_MS	  5000	/* a vifname taken by a netdev on its way out */
#define HP_EVENTS_MAX	  256	/* watch events per call: the ports get their turn */

enum hp_phase {
	HP_WAIT,     /* waiting for netback's netdev */
	HP_ATTACHED, /* a port of the bridge, hotplug-status written */
	HP_DOWN,     /* closing or closed: no port */
	HP_FAILED,   /* refused (hotplug-status = error): no port until it closes */
};

struct hp_vif {
	bool used, seen;
	enum hp_phase phase;
	unsigned domid, handle;
	char name[NB_IFNAMSIZ]; /* the port: vifname, or vif<domid>.<handle> */
	unsigned ifindex;	/* HP_ATTACHED: the netdev's */
	struct nb_antispoof as;
	char ips[256]; /* as xenstore says, for the log */
	uint64_t since_ms;
	bool warned;
};

struct app_hotplug {
	struct app_hotplug_config cfg;
	struct xs_handle *xs; /* NULL while disconnected */
	unsigned self;	      /* our domid */
	char base[64];	      /* /local/domain/<self>/backend/vif */
	char data[64];	      /* /local/domain/<self>/data/vifwall */
	int nl;		      /* netlink link events */
	int sock;	      /* for the netdev ioctls */
	bool rescan;
	uint64_t next_connect_ms, next_retry_ms;
	struct hp_vif vifs[HP_MAX_VIFS];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xs_read of <base>/<domid>/<handle>/<key>, NUL-terminated; NULL when absent. */
static char *vif_read(struct app_hotplug *hp, xs_transaction_t t, unsigned domid, unsigned handle,
		      const char *key)
{
	char path[128];
	unsigned len;

	snprintf(path, sizeof(path), "%s/%u/%u/%s", hp->base, domid, handle, key);
	return xs_read(hp->xs, t, path, &len);
}

static bool vif_write(struct app_hotplug *hp, xs_transaction_t t, const struct hp_vif *v,
		      const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%u/%u/%s", hp->base, v->domid, v->handle, key);
	return xs_write(hp->xs, t, path, val, (unsigned)strlen(val));
}

/* The vif's backend state, 0 when its directory (or state node) is gone. */
static int vif_state(struct app_hotplug *hp, xs_transaction_t t, unsigned domid, unsigned handle)
{
	char *s = vif_read(hp, t, domid, handle, "state");
	int st = s ? atoi(s) : 0;

	free(s);
	return st;
}

/* Publish the bridge's ports as data/vifwall/ports, for dom0 and the harness. */
static void ports_publish(struct app_hotplug *hp)
{
	char list[NB_MAX_PORTS * NB_IFNAMSIZ + 1] = "", path[96];
	size_t off = 0;

	for (unsigned i = 0; i < nb_bridge_port_count(hp->cfg.br); i++) {
		struct nb_port_info pi;

		if (nb_bridge_port_info(hp->cfg.br, i, &pi) == 0)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						off ? " " : "", pi.name);
	}
	snprintf(path, sizeof(path), "%s/ports", hp->data);
	if (hp->xs && !xs_write(hp->xs, XBT_NULL, path, list, (unsigned)strlen(list)))
		flt_log(hp->cfg.log, LOG_DEBUG, "hotplug: cannot write %s: %s", path,
			strerror(errno));
}

static void ports_changed(struct app_hotplug *hp)
{
	ports_publish(hp);
	if (hp->cfg.ports_changed)
		hp->cfg.ports_changed(hp->cfg.arg);
}

/* Refuse the vif the way Xen's hotplug scripts do: libxl in dom0 reads these two and
 * fails the attach with our message. */
static void vif_fail(struct app_hotplug *hp, struct hp_vif *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vif_fail(struct app_hotplug *hp, struct hp_vif *v, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	flt_log(hp->cfg.log, LOG_ERR, "vif %u/%u: %s", v->domid, v->handle, msg);
	v->phase = HP_FAILED;
	if (vif_state(hp, XBT_NULL, v->domid, v->handle) >= 5)
		return; /* closing: whoever asked is gone */
	vif_write(hp, XBT_NULL, v, "hotplug-error", msg);
	vif_write(hp, XBT_NULL, v, "hotplug-status", "error");
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= NB_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

/* Fill @v's port name and anti-spoofing from its backend directory. Returns 0, or
 * -EINVAL after vif_fail(). */
static int vif_config(struct app_hotplug *hp, struct hp_vif *v)
{
	char *mac = vif_read(hp, XBT_NULL, v->domid, v->handle, "mac");
	char *ip = vif_read(hp, XBT_NULL, v->domid, v->handle, "ip");
	char *vifname = vif_read(hp, XBT_NULL, v->domid, v->handle, "vifname");
	char *fe = vif_read(hp, XBT_NULL, v->domid, v->handle, "frontend-id");
	char *save = NULL, *tok;
	struct ether_addr ea;
	int rc = -EINVAL;

	if (fe && (unsigned)atoi(fe) != v->domid) {
		vif_fail(hp, v, "frontend-id %s is not the directory's domain %u", fe, v->domid);
		goto out;
	}
	if (vifname && *vifname && !ifname_ok(vifname)) {
		vif_fail(hp, v, "vifname '%s' is not a device name (1 to 15 characters)", vifname);
		goto out;
	}
	if (vifname && *vifname)
		strcpy(v->name, vifname);
	else
		snprintf(v->name, sizeof(v->name), "vif%u.%u", v->domid, v->handle);
	if (!mac || !ether_aton_r(mac, &ea) || nb_antispoof_init(&v->as, ea.ether_addr_octet)) {
		vif_fail(hp, v, "mac '%s' is not a guest's unicast MAC address",
			 mac ? mac : "(none)");
		goto out;
	}
	snprintf(v->ips, sizeof(v->ips), "%s", ip ? ip : "");
	for (tok = ip ? strtok_r(ip, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save)) {
		unsigned char addr[16];
		int af = strchr(tok, ':') ? AF_INET6 : AF_INET;

		if (inet_pton(af, tok, addr) != 1 || nb_antispoof_add_ip(&v->as, af, addr) < 0) {
			vif_fail(hp, v,
				 "ip '%s' is not an address a guest may own (IPv4 or IPv6, no "
				 "prefix length; at most 16 per family)",
				 tok);
			goto out;
		}
	}
	if (!v->as.enabled)
		flt_log(hp->cfg.log, LOG_WARNING,
			"vif %u/%u (%s): no ip= in its vif config: anti-spoofing is off, the "
			"guest may send from any address",
			v->domid, v->handle, v->name);
	rc = 0;
out:
	free(mac);
	free(ip);
	free(vifname);
	free(fe);
	return rc;
}

/* hotplug-status = connected, unless the vif closed or went meanwhile. */
static int vif_connected(struct app_hotplug *hp, struct hp_vif *v)
{
	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(hp->xs);
		int st;

		if (t == XBT_NULL)
			return -errno;
		st = vif_state(hp, t, v->domid, v->handle);
		if (!st || st >= 5) {
			xs_transaction_end(hp->xs, t, true);
			return -ENOENT;
		}
		if (!vif_write(hp, t, v, "hotplug-status", "connected")) {
			int rc = -errno;

			xs_transaction_end(hp->xs, t, true);
			return rc;
		}
		if (xs_transaction_end(hp->xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* The counters of port @name, logged as it goes: they go with it. */
static void port_log_final(struct app_hotplug *hp, const char *name)
{
	for (unsigned i = 0; i < nb_bridge_port_count(hp->cfg.br); i++) {
		struct nb_port_info pi;
		char why[256] = "";
		size_t off = 0;

		if (nb_bridge_port_info(hp->cfg.br, i, &pi) < 0 || strcmp(pi.name, name))
			continue;
		for (unsigned r = 1; r < NB_DROP_REASON_COUNT && off < sizeof(why); r++)
			if (pi.c.drops[r])
				off += (size_t)snprintf(why + off, sizeof(why) - off, " %s=%llu",
							nb_drop_reason_name(r),
							(unsigned long long)pi.c.drops[r]);
		flt_log(hp->cfg.log, LOG_INFO,
			"port %s final counters: rx %llu pkts, tx %llu pkts, drops%s", name,
			(unsigned long long)pi.c.rx_packets, (unsigned long long)pi.c.tx_packets,
			why[0] ? why : " none");
	}
}

static void vif_detach(struct app_hotplug *hp, struct hp_vif *v, const char *why)
{
	if (v->phase == HP_ATTACHED) {
		port_log_final(hp, v->name);
		nb_bridge_remove_port(hp->cfg.br, v->name);
		flt_log(hp->cfg.log, LOG_INFO, "vif %u/%u: port %s detached (%s)", v->domid,
			v->handle, v->name, why);
		v->phase = HP_DOWN;
		ports_changed(hp);
	}
	v->phase = HP_DOWN;
}

/* Try to turn the vif into a port; leaves it HP_WAIT when its netdev is not there. */
static void vif_attach(struct app_hotplug *hp, struct hp_vif *v)
{
	char cur[NB_IFNAMSIZ];
	struct nb_port *port;
	unsigned idx = app_netdev_of_vif(v->domid, v->handle, cur);
	int rc;

	if (!idx) {
		if (!v->warned && now_ms() - v->since_ms > HP_NETDEV_WARN_MS) {
			flt_log(hp->cfg.log, LOG_WARNING,
				"vif %u/%u: netback made no netdev in %u s (is xen-netback "
				"loaded?); still waiting",
				v->domid, v->handle, HP_NETDEV_WARN_MS / 1000);
			v->warned = true;
		}
		return;
	}
	rc = strcmp(cur, v->name) ? app_netdev_rename(hp->sock, cur, v->name) : 0;
	if (rc == -EEXIST && now_ms() - v->since_ms < HP_NAME_WAIT_MS)
		return; /* the guest's previous vif may still be going away: retry */
	if (rc < 0) {
		vif_fail(hp, v, "cannot rename %s to %s: %s", cur, v->name,
			 rc == -EEXIST ? "another device has that name" : strerror(-rc));
		return;
	}
	if ((rc = app_daemon_port_isolate(v->name, hp->cfg.log)) < 0) {
		vif_fail(hp, v, "%s cannot be a port: %s", v->name, strerror(-rc));
		return;
	}
	if ((rc = app_netdev_up(hp->sock, v->name)) < 0) {
		vif_fail(hp, v, "cannot bring %s up: %s", v->name, strerror(-rc));
		return;
	}
	if ((rc = nb_port_open(&nb_port_afpacket_ops, v->name, hp->cfg.port, &port)) < 0) {
		vif_fail(hp, v, "cannot open %s: %s", v->name, strerror(-rc));
		return;
	}
	if ((rc = nb_bridge_add_port(hp->cfg.br, port, &v->as, NULL)) < 0) {
		vif_fail(hp, v, "cannot attach %s: %s", v->name,
			 rc == -EEXIST ? "its name or MAC is another port's" : strerror(-rc));
		return;
	}
	v->phase = HP_ATTACHED;
	v->ifindex = if_nametoindex(v->name);
	rc = vif_connected(hp, v);
	if (rc < 0) {
		vif_detach(hp, v, rc == -ENOENT ? "closed before it connected" : strerror(-rc));
		return;
	}
	flt_log(hp->cfg.log, LOG_INFO,
		"vif %u/%u: port %s attached (netdev %s, mac %s, ip %s) %llu ms after its "
		"backend appeared; hotplug-status connected",
		v->domid, v->handle, v->name, cur, ether_ntoa((struct ether_addr *)v->as.mac),
		v->ips[0] ? v->ips : "none", (unsigned long long)(now_ms() - v->since_ms));
	ports_changed(hp);
}

static struct hp_vif *vif_find(struct app_hotplug *hp, unsigned domid, unsigned handle)
{
	for (unsigned i = 0; i < HP_MAX_VIFS; i++)
		if (hp->vifs[i].used && hp->vifs[i].domid == domid && hp->vifs[i].handle == handle)
			return &hp->vifs[i];
	return NULL;
}

/* Remove a closed vif's backend directory, and its guest's when that is left empty:
 * what libxl's device removal leaves to the driver domain (dom0 waits for it). */
static void backend_remove(struct app_hotplug *hp, unsigned domid, unsigned handle)
{
	char path[128];

	for (int tries = 0; tries < 16; tries++) {
		xs_transaction_t t = xs_transaction_start(hp->xs);
		unsigned n = 0;
		char **left;

		if (t == XBT_NULL)
			return;
		snprintf(path, sizeof(path), "%s/%u/%u", hp->base, domid, handle);
		xs_rm(hp->xs, t, path);
		snprintf(path, sizeof(path), "%s/%u", hp->base, domid);
		left = xs_directory(hp->xs, t, path, &n);
		if (left && !n)
			xs_rm(hp->xs, t, path);
		free(left);
		if (xs_transaction_end(hp->xs, t, false) || errno != EAGAIN)
			return;
	}
}

/* Look at vif @domid/@handle again and do what its state asks. */
static void vif_eval(struct app_hotplug *hp, unsigned domid, unsigned handle)
{
	struct hp_vif *v = vif_find(hp, domid, handle);
	int st = vif_state(hp, XBT_NULL, domid, handle);

	if (!st) {
		if (v) {
			vif_detach(hp, v, "backend directory removed");
			v->used = false;
		}
		return;
	}
	if (st >= 5) {
		char *online = vif_read(hp, XBT_NULL, domid, handle, "online");
		bool removing = st == 6 && online && !strcmp(online, "0");

		free(online);
		if (v) {
			v->seen = true;
			vif_detach(hp, v, st == 5 ? "closing" : "closed");
		}
		if (removing) {
			backend_remove(hp, domid, handle);
			if (v)
				v->used = false;
		}
		return;
	}
	if (!v) {
		for (unsigned i = 0; i < HP_MAX_VIFS && !v; i++)
			if (!hp->vifs[i].used)
				v = &hp->vifs[i];
		if (!v) {
			flt_log(hp->cfg.log, LOG_ERR, "vif %u/%u: more than %u vifs; ignored",
				domid, handle, HP_MAX_VIFS);
			return;
		}
		memset(v, 0, sizeof(*v));
		v->used = true;
		v->domid = domid;
		v->handle = handle;
		v->since_ms = now_ms();
		flt_log(hp->cfg.log, LOG_DEBUG, "vif %u/%u: backend directory, state %d", domid,
			handle, st);
		if (vif_config(hp, v) < 0) {
			v->seen = true;
			return;
		}
		v->phase = HP_WAIT;
	}
	v->seen = true;
	if (v->phase == HP_DOWN) {
		/* The frontend reconnects in the same directory (netfront reloaded). */
		v->phase = HP_WAIT;
		v->since_ms = now_ms();
		v->warned = false;
	}
	if (v->phase == HP_WAIT)
		vif_attach(hp, v);
}

static bool parse_uint(const char *s, unsigned *out, const char **end)
{
	char *e;
	unsigned long n;

	if (!isdigit((unsigned char)*s))
		return false;
	n = strtoul(s, &e, 10);
	if (n > 0xffff)
		return false;
	*out = (unsigned)n;
	*end = e;
	return true;
}

/* Diff the whole tree against what we track. Returns 0, or -errno when xenstore could
 * not be read (then nothing is forgotten). */
static int tree_scan(struct app_hotplug *hp)
{
	unsigned ndoms = 0;
	char **doms;

	for (unsigned i = 0; i < HP_MAX_VIFS; i++)
		hp->vifs[i].seen = false;
	doms = xs_directory(hp->xs, XBT_NULL, hp->base, &ndoms);
	if (!doms && errno != ENOENT)
		return -errno;
	for (unsigned i = 0; i < ndoms; i++) {
		char path[128];
		unsigned nh = 0, domid, handle;
		const char *end;
		char **hs;

		if (!parse_uint(doms[i], &domid, &end) || *end)
			continue;
		snprintf(path, sizeof(path), "%s/%s", hp->base, doms[i]);
		hs = xs_directory(hp->xs, XBT_NULL, path, &nh);
		for (unsigned j = 0; hs && j < nh; j++)
			if (parse_uint(hs[j], &handle, &end) && !*end)
				vif_eval(hp, domid, handle);
		free(hs);
	}
	free(doms);
	for (unsigned i = 0; i < HP_MAX_VIFS; i++) {
		struct hp_vif *v = &hp->vifs[i];

		if (v->used && !v->seen) {
			vif_detach(hp, v, "gone from xenstore");
			v->used = false;
		}
	}
	return 0;
}

static void watch_event(struct app_hotplug *hp, const char *path)
{
	size_t n = strlen(hp->base);
	unsigned domid, handle;
	const char *p;

	if (strncmp(path, hp->base, n) || (path[n] && path[n] != '/')) {
		hp->rescan = true; /* a relative path, or one we did not ask for */
		return;
	}
	p = path + n;
	if (*p == '/' && parse_uint(p + 1, &domid, &p) && *p == '/' &&
	    parse_uint(p + 1, &handle, &p) && (!*p || *p == '/'))
		vif_eval(hp, domid, handle);
	else
		hp->rescan = true; /* the tree, or a guest's whole directory */
}

static void xs_disconnect(struct app_hotplug *hp, const char *why)
{
	flt_log(hp->cfg.log, LOG_WARNING,
		"hotplug: xenstore connection lost (%s); ports stay, reconnecting", why);
	xs_close(hp->xs);
	hp->xs = NULL;
	hp->next_connect_ms = now_ms() + HP_RECONNECT_MS;
}

static int xs_connect(struct app_hotplug *hp, bool quiet_enoent)
{
	unsigned len;
	char *id;
	int rc;

	hp->xs = xs_open(0);
	if (!hp->xs) {
		rc = errno ? -errno : -EIO;
		if (!(quiet_enoent && rc == -ENOENT))
			flt_log(hp->cfg.log, LOG_DEBUG, "hotplug: cannot open xenstore: %s",
				strerror(-rc));
		return rc;
	}
	/* A relative read: xenstored answers with the domain the connection belongs to. */
	id = xs_read(hp->xs, XBT_NULL, "domid", &len);
	if (!id) {
		rc = errno ? -errno : -EIO;
		goto fail;
	}
	hp->self = (unsigned)atoi(id);
	free(id);
	snprintf(hp->base, sizeof(hp->base), "/local/domain/%u/backend/vif", hp->self);
	snprintf(hp->data, sizeof(hp->data), "/local/domain/%u/data/vifwall", hp->self);
	xs_fileno(hp->xs); /* the pipe exists before the first event */
	if (!xs_watch(hp->xs, hp->base, HP_TOKEN)) {
		rc = errno ? -errno : -EIO;
		goto fail;
	}
	hp->rescan = true;
	return 0;
fail:
	flt_log(hp->cfg.log, LOG_ERR, "hotplug: xenstore: cannot read our domid or watch: %s",
		strerror(-rc));
	xs_close(hp->xs);
	hp->xs = NULL;
	return rc;
}

void app_hotplug_reconnect(struct app_hotplug *hp)
{
	if (hp->xs)
		xs_disconnect(hp, "asked to reconnect");
}

int app_hotplug_new(const struct app_hotplug_config *cfg, struct app_hotplug **out)
{
	struct app_hotplug *hp;
	int rc;

	if (!cfg || !cfg->br)
		return -EINVAL;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	hp->cfg = *cfg;
	hp->nl = hp->sock = -1;
	if ((rc = xs_connect(hp, true)) < 0)
		goto fail;
	hp->nl = app_netdev_events_open();
	hp->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (hp->nl < 0 || hp->sock < 0) {
		rc = hp->nl < 0 ? hp->nl : -errno;
		flt_log(cfg->log, LOG_ERR, "hotplug: cannot open netlink or ioctl socket: %s",
			strerror(-rc));
		goto fail;
	}
	flt_log(cfg->log, LOG_INFO, "hotplug: domain %u, watching %s", hp->self, hp->base);
	*out = hp;
	return 0;
fail:
	app_hotplug_free(hp);
	return rc;
}

unsigned app_hotplug_pollfds(const struct app_hotplug *hp, struct pollfd *fds, unsigned max)
{
	unsigned n = 0;

	if (n < max)
		fds[n++] = (struct pollfd){.fd = hp->nl, .events = POLLIN};
	if (hp->xs && n < max)
		fds[n++] = (struct pollfd){.fd = xs_fileno(hp->xs), .events = POLLIN};
	return n;
}

/* Netdevs came or went: attach the vifs waiting for theirs, detach ports whose
 * netdev vanished (netback removed it before xenstore said so). */
static void netdevs_check(struct app_hotplug *hp)
{
	for (unsigned i = 0; i < HP_MAX_VIFS; i++) {
		struct hp_vif *v = &hp->vifs[i];

		if (!v->used)
			continue;
		if (v->phase == HP_ATTACHED && if_nametoindex(v->name) != v->ifindex)
			vif_detach(hp, v, "netdev gone");
		else if (v->phase == HP_WAIT && hp->xs)
			vif_attach(hp, v);
	}
}

void app_hotplug_handle(struct app_hotplug *hp, const struct pollfd *fds, unsigned n)
{
	uint64_t now = now_ms();
	bool links = false;

	for (unsigned i = 0; i < n; i++)
		if (fds[i].fd == hp->nl && fds[i].revents) {
			app_netdev_events_drain(hp->nl);
			links = true;
		}
	if (!hp->xs && now >= hp->next_connect_ms) {
		if (xs_connect(hp, false) == 0)
			flt_log(hp->cfg.log, LOG_INFO, "hotplug: xenstore reconnected");
		else
			hp->next_connect_ms = now + HP_RECONNECT_MS;
	}
	/* Checked every call, readable or not: a dead connection does not wake the pipe
	 * (libxenstore's reader thread just stops), xs_check_watch tells. */
	for (unsigned i = 0; hp->xs && i < HP_EVENTS_MAX; i++) {
		char **ev = xs_check_watch(hp->xs);

		if (!ev) {
			if (errno != EAGAIN)
				xs_disconnect(hp, strerror(errno));
			break;
		}
		watch_event(hp, ev[XS_WATCH_PATH]);
		free(ev);
	}
	if (hp->xs && hp->rescan) {
		int rc = tree_scan(hp);

		if (rc < 0)
			xs_disconnect(hp, strerror(-rc));
		else
			hp->rescan = false;
		if (rc == 0)
			ports_publish(hp);
	}
	if (links || now >= hp->next_retry_ms) {
		netdevs_check(hp);
		hp->next_retry_ms = now + HP_RETRY_MS;
	}
}

unsigned app_hotplug_attached(const struct app_hotplug *hp)
{
	unsigned n = 0;

	for (unsigned i = 0; i < HP_MAX_VIFS; i++)
		n += hp->vifs[i].used && hp->vifs[i].phase == HP_ATTACHED;
	return n;
}

void app_hotplug_free(struct app_hotplug *hp)
{
	if (!hp)
		return;
	if (hp->xs) {
		xs_unwatch(hp->xs, hp->base, HP_TOKEN);
		xs_close(hp->xs);
	}
	if (hp->nl >= 0)
		close(hp->nl);
	if (hp->sock >= 0)
		close(hp->sock);
	free(hp);
}
