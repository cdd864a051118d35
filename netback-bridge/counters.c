/*
 * Names of the drop reasons. They appear in `vifwall stats`, traces and tests, so
 * they are part of the interface: change them only with the documentation.
 */
#include "netback-bridge/counters.h"

static const char *const drop_names[NB_DROP_REASON_COUNT] = {
	[NB_DROP_NONE] = "none",
	[NB_DROP_SPOOF_MAC] = "spoof-mac",
	[NB_DROP_SPOOF_IP4] = "spoof-ip4",
	[NB_DROP_SPOOF_IP6] = "spoof-ip6",
	[NB_DROP_SPOOF_ARP] = "spoof-arp",
	[NB_DROP_SPOOF_ND] = "spoof-nd",
	[NB_DROP_RULE] = "rule",
	[NB_DROP_MALFORMED] = "malformed",
	[NB_DROP_ETHERTYPE] = "ethertype",
	[NB_DROP_CONNTRACK] = "conntrack",
	[NB_DROP_LOCAL] = "local",
	[NB_DROP_TRUNCATED] = "truncated",
	[NB_DROP_TX] = "tx",
};

const char *nb_drop_reason_name(enum nb_drop_reason r)
{
	if ((unsigned)r >= NB_DROP_REASON_COUNT)
		return "invalid";
	return drop_names[r];
}

uint64_t nb_port_counters_drops(const struct nb_port_counters *c)
{
	uint64_t sum = c->ring_drops;

	for (unsigned i = 0; i < NB_DROP_REASON_COUNT; i++)
		sum += c->drops[i];
	return sum;
}
