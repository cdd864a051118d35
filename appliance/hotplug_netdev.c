/*
 * The netdev side of vif hotplug: finding netback's netdev for a vif, renaming it,
 * bringing it up, and a netlink socket that wakes the loop when links come and go.
 * What Xen's vif-bridge script does with `ip link`, done with two ioctls, so the
 * daemon needs no shell and no iproute2.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appliance/hotplug_internal.h"

unsigned app_netdev_of_vif(unsigned domid, unsigned handle, char *name)
{
	char path[96];
	struct dirent *de;
	unsigned idx = 0;
	DIR *dir;

	/* xenbus names a backend device <type>-<frontend domid>-<handle>; netback hangs
	 * its netdev under it, whatever the netdev is called now. */
	snprintf(path, sizeof(path), "/sys/bus/xen-backend/devices/vif-%u-%u/net", domid, handle);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= NB_IFNAMSIZ)
			continue;
		idx = if_nametoindex(de->d_name);
		if (idx) {
			strcpy(name, de->d_name);
			break;
		}
	}
	closedir(dir);
	return idx;
}

static int flags_get(int sock, const char *name, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
	return ioctl(sock, SIOCGIFFLAGS, ifr) < 0 ? -errno : 0;
}

int app_netdev_rename(int sock, const char *from, const char *to)
{
	struct ifreq ifr;
	int rc;

	if ((rc = flags_get(sock, from, &ifr)) < 0)
		return rc;
	if (ifr.ifr_flags & IFF_UP) {
		ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
			return -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, from, IFNAMSIZ - 1);
	strncpy(ifr.ifr_newname, to, IFNAMSIZ - 1);
	return ioctl(sock, SIOCSIFNAME, &ifr) < 0 ? -errno : 0;
}

int app_netdev_up(int sock, const char *name)
{
	struct ifreq ifr;
	int rc;

	if ((rc = flags_get(sock, name, &ifr)) < 0)
		return rc;
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int app_netdev_events_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

void app_netdev_events_drain(int fd)
{
	char buf[8192];

	/* ENOBUFS (an overrun) ends nothing: the next read gets what follows. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS)
			continue;
		if (n <= 0)
			break;
	}
}
