/*
 * Anti-spoofing for one guest port: a guest may only send as itself. Configured from
 * the port's `mac` and `ip` (xenstore keys later, the command line now); on by default
 * when `ip` is set. The uplink is never checked.
 *
 * What a frame from the guest must satisfy when the check is on:
 * - Ethernet source == mac (when mac is set);
 * - IPv4 source is one of the IPv4 addresses, or 0.0.0.0 for DHCP (UDP 68 -> 67);
 * - IPv6 source is one of the IPv6 addresses, or the link-local address EUI-64 makes
 *   of mac (any fe80::/10 when mac is not set: then nothing pins the guest down), or ::
 *   for ICMPv6 (duplicate address detection and MLD use it);
 * - ARP: sender MAC == mac (when set) and == the Ethernet source; sender IP one of the
 *   IPv4 addresses or 0.0.0.0 (an ARP probe);
 * - IPv6 neighbour advertisement: target is one of the guest's IPv6 addresses (as for
 *   the source) and its target link-layer address option, if any, == mac.
 * A family without configured addresses allows no sources but the link-local ones.
 */
#ifndef VIFWALL_NB_ANTISPOOF_H
#define VIFWALL_NB_ANTISPOOF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "filters/packet.h"
#include "netback-bridge/counters.h"

#define NB_AS_MAX_ADDRS 16 /* per family and port */

struct nb_antispoof {
	bool enabled;
	bool have_mac;
	uint8_t mac[6];
	uint8_t ll6[16]; /* fe80::EUI-64(mac), when have_mac */
	unsigned n4, n6;
	struct in_addr ip4[NB_AS_MAX_ADDRS];
	struct in6_addr ip6[NB_AS_MAX_ADDRS];
};

/* Start a port's configuration: checking off, no addresses; @mac may be NULL.
 * Returns 0, or -EINVAL for a multicast or all-zero @mac. */
int nb_antispoof_init(struct nb_antispoof *as, const uint8_t *mac);

/* Add an address of family @af (AF_INET with a struct in_addr, AF_INET6 with a struct
 * in6_addr at @addr) and turn checking on. Returns 0, -EAFNOSUPPORT, -EINVAL for an
 * address no guest may own (unspecified, multicast, loopback), or -ENOSPC past
 * NB_AS_MAX_ADDRS. A repeated address is accepted once. */
int nb_antispoof_add_ip(struct nb_antispoof *as, int af, const void *addr);

/* Check a parsed frame the guest sent. Returns NB_DROP_NONE when it may pass, else
 * the reason to drop it. Never allocates; reads only inside the frame. */
enum nb_drop_reason nb_antispoof_check(const struct nb_antispoof *as, const struct flt_pkt *pkt);

#endif
