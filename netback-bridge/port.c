/*
 * What every port backend shares: argument checks before a backend sees a name, and
 * the one way to close a port whatever its backend.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "netback-bridge/port.h"

int nb_port_open(const struct nb_port_ops *ops, const char *ifname,
		 const struct nb_port_config *cfg, struct nb_port **out)
{
	static const struct nb_port_config defaults;
	size_t len = ifname ? strlen(ifname) : 0;

	if (!ops || !len || len >= NB_IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	return ops->open(ifname, cfg ? cfg : &defaults, out);
}

void nb_port_close(struct nb_port *p)
{
	if (p)
		p->ops->close(p);
}
