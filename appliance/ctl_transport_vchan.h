/*
 * The control protocol over a libxenvchan (ctl_transport_vchan.c): the appliance is
 * the server, dom0 the only client it accepts.
 */
#ifndef VIFWALL_APPLIANCE_CTL_TRANSPORT_VCHAN_H
#define VIFWALL_APPLIANCE_CTL_TRANSPORT_VCHAN_H

#include <stdbool.h>

#include "appliance/ctl_transport.h"

/* Where the appliance advertises its vchan, under /local/domain/<its domid>/. */
#define APP_CTL_VCHAN_KEY "data/vifwall/ctl"

/*
 * Ring sizes (bytes, powers of two; pages granted to dom0): requests are small but a
 * `load` may carry a large ruleset; a capture streams frames the other way.
 */
#define APP_CTL_VCHAN_RING_IN  (16 * 1024)
#define APP_CTL_VCHAN_RING_OUT (64 * 1024)

/*
 * Offer a vchan to dom0 at the xenstore @path (the ring's grant and event channel are
 * written there, and removed again as soon as dom0 has connected). The transport counts as
 * connected at once; reads see nothing until dom0 connects, and the end of the stream once it has
 * gone. *@closed is set when the transport is closed, so that the caller offers a new one. Returns
 * 0 and
 * *@out, or -errno (no /dev/xen/gntalloc or evtchn: not in a Xen domain).
 */
int app_ctl_transport_vchan_server(const char *path, bool *closed, struct app_ctl_transport **out);

/* Connect, from dom0, to the vchan domain @domid offers at @path. Returns 0 and *@out,
 * or -errno. */
int app_ctl_transport_vchan_client(unsigned domid, const char *path,
				   struct app_ctl_transport **out);

#endif
