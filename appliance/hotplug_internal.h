/*
 * What hotplug.c needs from the network side, kept apart (hotplug_netdev.c) so the
 * xenstore state machine reads without ioctl and sysfs details. Nothing outside
 * appliance/hotplug*.c includes it.
 */
#ifndef VIFWALL_APPLIANCE_HOTPLUG_INTERNAL_H
#define VIFWALL_APPLIANCE_HOTPLUG_INTERNAL_H

#include "netback-bridge/port.h"

/*
 * The current name of netback's netdev for the vif of guest @domid, handle @handle,
 * into @name (NB_IFNAMSIZ), found through sysfs (the xen-backend device vif-D-H), so a
 * netdev that a previous vifwalld renamed is found too. Returns its ifindex, or 0 when
 * netback has not made it (yet).
 */
unsigned app_netdev_of_vif(unsigned domid, unsigned handle, char *name);

/* Rename netdev @from to @to, taking it down first (the kernel renames only a device
 * that is down). @sock is any AF_INET datagram socket. Returns 0 or -errno (-EEXIST:
 * another device has that name). */
int app_netdev_rename(int sock, const char *from, const char *to);

/* Bring netdev @name up. Returns 0 or -errno. */
int app_netdev_up(int sock, const char *name);

/* A nonblocking netlink socket that reads readable when a link is added, removed or
 * changes. Returns the fd or -errno. */
int app_netdev_events_open(void);

/* Read and discard every pending event on @fd (the caller re-checks what it waits for
 * instead of parsing them: an overrun loses nothing that way). */
void app_netdev_events_drain(int fd);

#endif
