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
	/* Under the callbacks' lock: once it returns, no worker still calls the old tap. */
	nb_bridge_tap_lock(br);
	atomic_store_explicit(&br->tap, tap, memory_order_release);
	atomic_store_explicit(&br->tap_drops, tap && drops && tap->drop, memory_order_relaxed);
	nb_bridge_tap_unlock(br);
}

void nb_bridge_tap_lock(struct nb_bridge *br)
{
	if (br->nworkers > 1)
		pthread_mutex_lock(&br->tap_lock);
}

void nb_bridge_tap_unlock(struct nb_bridge *br)
{
	if (br->nworkers > 1)
		pthread_mutex_unlock(&br->tap_lock);
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
	atomic_store_explicit(&bp->tap, (uint8_t)(dirs & (NB_TAP_RX | NB_TAP_TX)),
			      memory_order_relaxed);
	return 0;
}

int nb_bridge_tap_dirs(const struct nb_bridge *br, const char *name)
{
	const struct nb_bport *bp = port_by_name(br, name);

	return bp ? atomic_load_explicit(&bp->tap, memory_order_relaxed) : -ENOENT;
}
