/*
 * Setting the frame path's taps (tap.h). The hooks themselves are inline in
 * tap_hooks.h, which only bridge_burst.c includes.
 */
#include <errno.h>
#include <string.h>

#include "netback-bridge/bridge_internal.h"
#include "netback-bridge/tap.h"

void nb_bridge_tap_set(struct nb_bridge *br, const struct nb_tap *tap, bool drops)
{
	br->tap = tap;
	br->tap_drops = tap && drops && tap->drop;
}

static struct nb_bport *port_by_name(const struct nb_bridge *br, const char *name)
{
	for (unsigned i = 0; i < br->nports; i++)
		if (!strncmp(br->ports[i].port->name, name, NB_IFNAMSIZ))
			return (struct nb_bport *)&br->ports[i];
	return NULL;
}

int nb_bridge_tap_port(struct nb_bridge *br, const char *name, unsigned dirs)
{
	struct nb_bport *bp = port_by_name(br, name);

	if (!bp)
		return -ENOENT;
	bp->tap = (uint8_t)(dirs & (NB_TAP_RX | NB_TAP_TX));
	return 0;
}

int nb_bridge_tap_dirs(const struct nb_bridge *br, const char *name)
{
	const struct nb_bport *bp = port_by_name(br, name);

	return bp ? bp->tap : -ENOENT;
}
