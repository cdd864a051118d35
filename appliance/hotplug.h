/*
 * vif hotplug: vifwalld is the hotplug agent of its own driver domain, in place of
 * `xl devd` and Xen's vif-bridge script. It watches the domain's backend/vif tree in
 * xenstore (one watch for the whole tree) and, for every guest vif that netback serves,
 * turns netback's netdev into a port of the bridge:
 *
 *   backend/vif/<domid>/<handle> appears   read frontend-id, handle, mac, ip, vifname
 *   netdev vif<domid>.<handle> appears     rename it to vifname (while down), isolate
 *                                          it (app_daemon_port_isolate), bring it up,
 *                                          attach it with anti-spoofing from mac/ip,
 *                                          write hotplug-status = connected
 *   state 5/6 (Closing/Closed)             detach the port
 *   state 6 with online = 0                also remove the backend directory (the
 *                                          driver domain's job: dom0's libxl waits
 *                                          for it to go)
 *   directory removed, netdev gone         detach the port
 *
 * Everything runs from the daemon's poll loop, never blocking on a netdev: the loop
 * polls the xenstore watch pipe and a netlink socket of link events next to its
 * other fds. A dropped xenstore connection is reopened (once a second) and the tree is
 * diffed against the attached ports; ports stay up meanwhile.
 *
 *	app_hotplug_new(&cfg, &hp);             -ENOENT: not in a Xen domain
 *	for (;;) {
 *		n = app_hotplug_pollfds(hp, fds, max);  (plus the daemon's own fds)
 *		poll(fds, n, timeout);
 *		app_hotplug_handle(hp, fds, n);         every turn, readable or not
 *	}
 *
 * Not thread-safe: call everything from the loop's thread.
 */
#ifndef VIFWALL_APPLIANCE_HOTPLUG_H
#define VIFWALL_APPLIANCE_HOTPLUG_H

#include <poll.h>

#include "filters/log.h"
#include "netback-bridge/bridge.h"

#define APP_HOTPLUG_MAX_FDS 2 /* the xenstore watch pipe, the netlink socket */

struct app_hotplug;

struct app_hotplug_config {
	struct nb_bridge *br;	      /* borrowed: vifs are attached to it and removed */
	const struct flt_logger *log; /* borrowed */
	/* Borrowed: how vif ports are opened (ring size); NULL: the backend's defaults. */
	const struct nb_port_config *port;
	/* Called after a port was attached or detached (may be NULL), e.g. to publish
	 * the port list. */
	void (*ports_changed)(void *arg);
	void *arg;
};

/*
 * Connect to xenstore (/dev/xen/xenbus, or the socket XENSTORED_PATH names), find our
 * own domid, open the netlink socket and watch backend/vif. The vifs already in the
 * tree are taken over on the first app_hotplug_handle() (also those whose netdev a
 * previous vifwalld renamed). Returns 0 and *out; -ENOENT when no xenstore is
 * reachable (not inside a Xen domain: the daemon runs without hotplug, nothing is
 * logged); other -errno after logging why.
 */
int app_hotplug_new(const struct app_hotplug_config *cfg, struct app_hotplug **out);

/* The fds to poll for reading, into @fds (room for @max); returns how many (at most
 * APP_HOTPLUG_MAX_FDS, fewer while xenstore is disconnected). */
unsigned app_hotplug_pollfds(const struct app_hotplug *hp, struct pollfd *fds, unsigned max);

/*
 * Handle what poll reported on the fds app_hotplug_pollfds() gave (@fds, @n: the same
 * entries, revents set), then the timers: vifs still waiting for their netdev,
 * reconnecting to xenstore. Call it after every poll, also when nothing was readable.
 * Errors are logged and retried, never returned.
 */
void app_hotplug_handle(struct app_hotplug *hp, const struct pollfd *fds, unsigned n);

/* Drop the xenstore connection as if xenstored had gone away (vifwalld does it on
 * SIGUSR2): the ports stay, and app_hotplug_handle() reconnects a second later and
 * resynchronises with the backend tree as it is then, the same path a real loss
 * takes. No-op while disconnected. */
void app_hotplug_reconnect(struct app_hotplug *hp);

/* How many vifs are attached as ports now. */
unsigned app_hotplug_attached(const struct app_hotplug *hp);

/* Drop the watch and close xenstore and netlink; NULL is a no-op. The ports stay
 * attached (the bridge owns them) and hotplug-status stays written: the vifs are still
 * connected, and the next vifwalld takes them over. */
void app_hotplug_free(struct app_hotplug *hp);

#endif
