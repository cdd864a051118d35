/*
 * Fail-closed ports. vifwall is the only path between its ports: the kernel must not
 * bridge or route between them on its own, or traffic would flow unfiltered whenever
 * vifwalld is down. A port must therefore be no bridge's (or bond's) slave, and have
 * no address the kernel could route from; we turn IPv6 off on it so the kernel does
 * not even give it a link-local address and talk on the guests' segment.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "appliance/daemon.h"

static int read_first_char(const char *path)
{
	char c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1 ? c : -1;
}

static void ipv6_off(const char *name, const struct flt_logger *log)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT) /* no IPv6 in this kernel: nothing to turn off */
			flt_log(log, LOG_WARNING, "port %s: cannot turn IPv6 off (%s: %s)", name,
				path, strerror(errno));
		return;
	}
	if (write(fd, "1", 1) != 1)
		flt_log(log, LOG_WARNING, "port %s: cannot turn IPv6 off (%s)", name,
			strerror(errno));
	close(fd);
}

static void warn_addresses(const char *name, const struct flt_logger *log)
{
	struct ifaddrs *ifa, *i;
	char buf[INET_ADDRSTRLEN];

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, name))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
			  sizeof(buf));
		flt_log(log, LOG_WARNING,
			"port %s has the IPv4 address %s: the kernel answers there%s; vifwall "
			"ports should have none",
			name, buf,
			read_first_char("/proc/sys/net/ipv4/ip_forward") == '1'
				? " and, with net.ipv4.ip_forward=1, routes around vifwall"
				: "");
	}
	freeifaddrs(ifa);
}

int app_daemon_port_isolate(const char *name, const struct flt_logger *log)
{
	char path[PATH_MAX], master[PATH_MAX];
	ssize_t n;

	if (!if_nametoindex(name)) {
		flt_log(log, LOG_ERR, "port %s: no such network device", name);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", name);
	n = readlink(path, master, sizeof(master) - 1);
	if (n > 0) {
		master[n] = '\0';
		flt_log(log, LOG_ERR,
			"port %s is enslaved to %s: the kernel would forward its frames without "
			"vifwall (ip link set %s nomaster)",
			name, strrchr(master, '/') ? strrchr(master, '/') + 1 : master, name);
		return -EBUSY;
	}
	ipv6_off(name, log);
	warn_addresses(name, log);
	return 0;
}
