/*
 * The MAC table behind nb_switch_*: a set-associative hash table, NB_SW_WAYS entries
 * per bucket, allocated once. Set-associative because it makes the bound trivial and
 * every operation O(1): a new address takes a free or aged-out way of its bucket, else
 * evicts the bucket's least recently seen learned entry. Aging is lazy (an entry is
 * dead when looked at too late), so nothing has to sweep the table.
 *
 * The hash is keyed with a random seed so a host on the uplink cannot pick addresses
 * that all fall into one bucket and keep evicting the guests' entries.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "netback-bridge/switch.h"

#define NB_SW_WAYS	   4
#define NB_SW_DEFAULT_SIZE 4096u
#define NB_SW_DEFAULT_AGE  (300ull * 1000000000ull) /* the Linux bridge's ageing_time */

enum { SW_USED = 1, SW_STATIC = 2 };

struct sw_entry {
	uint64_t seen; /* last frame from this address, ns */
	uint8_t mac[6];
	uint16_t port;
	uint8_t flags; /* SW_* */
};

struct nb_switch {
	struct sw_entry *e; /* nbuckets * NB_SW_WAYS */
	uint32_t mask;	    /* nbuckets - 1 */
	uint64_t max_age, seed;
	uint64_t learned, moved, evicted, not_learned;
};

static bool mac_is_multicast(const uint8_t *mac)
{
	return mac[0] & 1;
}

static uint64_t mac_key(const uint8_t *mac)
{
	uint64_t k = 0;

	memcpy(&k, mac, 6);
	return k;
}

static struct sw_entry *sw_bucket(const struct nb_switch *sw, const uint8_t *mac)
{
	uint64_t h = (mac_key(mac) ^ sw->seed) * 0x9e3779b97f4a7c15ull;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return &sw->e[(h & sw->mask) * NB_SW_WAYS];
}

static bool sw_live(const struct nb_switch *sw, const struct sw_entry *e, uint64_t now)
{
	if (!(e->flags & SW_USED))
		return false;
	/* Workers read their clock at the start of their own turn: another may have
	 * learned the entry at a later time than this @now. That is fresh, not 2^64 old. */
	return (e->flags & SW_STATIC) || e->seen >= now || now - e->seen <= sw->max_age;
}

static struct sw_entry *sw_find(const struct nb_switch *sw, const uint8_t *mac)
{
	struct sw_entry *b = sw_bucket(sw, mac);

	for (unsigned i = 0; i < NB_SW_WAYS; i++)
		if ((b[i].flags & SW_USED) && !memcmp(b[i].mac, mac, 6))
			return &b[i];
	return NULL;
}

/* A way for a new address: free, aged out, or the oldest learned one (evicted). */
static struct sw_entry *sw_victim(struct nb_switch *sw, const uint8_t *mac, uint64_t now)
{
	struct sw_entry *b = sw_bucket(sw, mac), *old = NULL;

	for (unsigned i = 0; i < NB_SW_WAYS; i++) {
		if (!sw_live(sw, &b[i], now))
			return &b[i];
		if (!(b[i].flags & SW_STATIC) && (!old || b[i].seen < old->seen))
			old = &b[i];
	}
	if (old)
		sw->evicted++;
	return old;
}

int nb_switch_new(const struct nb_switch_config *cfg, struct nb_switch **out)
{
	static const struct nb_switch_config defaults;
	struct nb_switch *sw;
	uint32_t size = 16;

	if (!cfg)
		cfg = &defaults;
	if (cfg->max_entries > (1u << 24))
		return -EINVAL;
	while (size < (cfg->max_entries ? cfg->max_entries : NB_SW_DEFAULT_SIZE))
		size <<= 1;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	sw->e = calloc(size, sizeof(*sw->e));
	if (!sw->e) {
		free(sw);
		return -ENOMEM;
	}
	sw->mask = size / NB_SW_WAYS - 1;
	sw->max_age = cfg->max_age_ns ? cfg->max_age_ns : NB_SW_DEFAULT_AGE;
	sw->seed = cfg->seed;
	if (!sw->seed && getrandom(&sw->seed, sizeof(sw->seed), GRND_NONBLOCK) != sizeof(sw->seed))
		sw->seed = (uint64_t)(uintptr_t)sw ^ 0x5bd1e995ull; /* no entropy yet at boot */
	*out = sw;
	return 0;
}

void nb_switch_free(struct nb_switch *sw)
{
	if (!sw)
		return;
	free(sw->e);
	free(sw);
}

int nb_switch_add_static(struct nb_switch *sw, const uint8_t mac[6], uint16_t port)
{
	struct sw_entry *e, *b;

	if (mac_is_multicast(mac) || port == NB_PORT_NONE)
		return -EINVAL;
	e = sw_find(sw, mac);
	if (e && (e->flags & SW_STATIC) && e->port != port)
		return -EEXIST;
	if (!e) {
		b = sw_bucket(sw, mac);
		for (unsigned i = 0; i < NB_SW_WAYS && !e; i++)
			if (!(b[i].flags & SW_STATIC))
				e = &b[i];
		if (!e)
			return -ENOSPC;
	}
	memcpy(e->mac, mac, 6);
	e->port = port;
	e->flags = SW_USED | SW_STATIC;
	return 0;
}

void nb_switch_learn(struct nb_switch *sw, const uint8_t mac[6], uint16_t port, uint64_t now_ns)
{
	struct sw_entry *e;

	if (mac_is_multicast(mac))
		return;
	e = sw_find(sw, mac);
	if (e && (e->flags & SW_STATIC))
		return;
	if (e) {
		if (e->port != port && sw_live(sw, e, now_ns))
			sw->moved++;
	} else {
		e = sw_victim(sw, mac, now_ns);
		if (!e) {
			sw->not_learned++;
			return;
		}
		sw->learned++;
		memcpy(e->mac, mac, 6);
		e->flags = SW_USED;
		e->seen = now_ns;
	}
	e->port = port;
	/* Never backwards: another worker's clock may be a little ahead of ours. */
	if (now_ns > e->seen || e->seen - now_ns > sw->max_age)
		e->seen = now_ns;
}

uint16_t nb_switch_lookup(const struct nb_switch *sw, const uint8_t mac[6], uint64_t now_ns)
{
	const struct sw_entry *e;

	if (mac_is_multicast(mac))
		return NB_PORT_NONE;
	e = sw_find(sw, mac);
	return e && sw_live(sw, e, now_ns) ? e->port : NB_PORT_NONE;
}

unsigned nb_switch_egress(const struct nb_switch *sw, const uint8_t dst[6], uint16_t in_port,
			  uint16_t nports, uint64_t now_ns, uint16_t *out)
{
	uint16_t p = nb_switch_lookup(sw, dst, now_ns);
	unsigned n = 0;

	if (p != NB_PORT_NONE && p < nports) {
		if (p == in_port)
			return 0;
		out[0] = p;
		return 1;
	}
	for (uint16_t i = 0; i < nports; i++)
		if (i != in_port)
			out[n++] = i;
	return n;
}

void nb_switch_flush_port(struct nb_switch *sw, uint16_t port)
{
	for (uint32_t i = 0; i < (sw->mask + 1) * NB_SW_WAYS; i++)
		if ((sw->e[i].flags & SW_USED) && sw->e[i].port == port)
			sw->e[i].flags = 0;
}

void nb_switch_renumber_port(struct nb_switch *sw, uint16_t from, uint16_t to)
{
	for (uint32_t i = 0; i < (sw->mask + 1) * NB_SW_WAYS; i++)
		if ((sw->e[i].flags & SW_USED) && sw->e[i].port == from)
			sw->e[i].port = to;
}

void nb_switch_get_stats(const struct nb_switch *sw, uint64_t now_ns, struct nb_switch_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->max_entries = (sw->mask + 1) * NB_SW_WAYS;
	for (uint32_t i = 0; i < st->max_entries; i++)
		if (sw_live(sw, &sw->e[i], now_ns))
			st->entries++;
	st->learned = sw->learned;
	st->moved = sw->moved;
	st->evicted = sw->evicted;
	st->not_learned = sw->not_learned;
}
