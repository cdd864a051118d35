/*
 * The L2 learning switch of the data plane: which port a MAC address lives behind.
 * Learned from source addresses, forgotten after max_age, bounded in size and
 * allocated once. Guests' configured MACs are static entries: never aged, never
 * evicted, never moved by a frame from another port.
 *
 * Not thread-safe: one worker owns a switch.
 */
#ifndef VIFWALL_NB_SWITCH_H
#define VIFWALL_NB_SWITCH_H

#include <stdint.h>

#define NB_PORT_NONE UINT16_MAX /* no port: flood */

struct nb_switch;

struct nb_switch_config {
	uint32_t max_entries; /* rounded up to a power of two (at least 16); 0: 4096 */
	uint64_t max_age_ns;  /* a learned entry unused this long is gone; 0: 300 s */
	uint64_t seed;	      /* hash seed; 0: a random one (tests set it) */
};

struct nb_switch_stats {
	uint32_t entries;     /* live entries (static or not aged out) */
	uint32_t max_entries; /* the bound */
	uint64_t learned;     /* new addresses learned */
	uint64_t moved;	      /* learned addresses seen on another port */
	uint64_t evicted;     /* live entries pushed out by new addresses (table full) */
	uint64_t not_learned; /* addresses not learned: their bucket holds only static ones */
};

/* Create a switch. @cfg may be NULL. Returns 0 and *out, -EINVAL or -ENOMEM.
 * Free with nb_switch_free(). */
int nb_switch_new(const struct nb_switch_config *cfg, struct nb_switch **out);

/* Free @sw; NULL is a no-op. */
void nb_switch_free(struct nb_switch *sw);

/* Pin @mac to @port. Returns 0, -EINVAL for a multicast address or NB_PORT_NONE,
 * -EEXIST when it is pinned to another port, -ENOSPC when its bucket is full of
 * static entries. */
int nb_switch_add_static(struct nb_switch *sw, const uint8_t mac[6], uint16_t port);

/* A frame from @mac arrived on @port at @now_ns: remember (or refresh) where it lives.
 * Multicast sources are ignored; static entries are never changed. */
void nb_switch_learn(struct nb_switch *sw, const uint8_t mac[6], uint16_t port, uint64_t now_ns);

/* The port @mac lives behind, or NB_PORT_NONE for a multicast or broadcast address,
 * an unknown one, or one aged out. */
uint16_t nb_switch_lookup(const struct nb_switch *sw, const uint8_t mac[6], uint64_t now_ns);

/*
 * The ports a frame to @dst arriving on @in_port goes out of, among ports
 * 0..@nports-1, into @out (room for @nports): the learned port, or every other port
 * when it must be flooded. Returns how many; 0 when the destination lives behind
 * @in_port itself (the frame is for that segment, not for us).
 */
unsigned nb_switch_egress(const struct nb_switch *sw, const uint8_t dst[6], uint16_t in_port,
			  uint16_t nports, uint64_t now_ns, uint16_t *out);

/* Forget every entry, static or learned, on @port (a port went away). */
void nb_switch_flush_port(struct nb_switch *sw, uint16_t port);

/* Entries on port @from now live on port @to (the bridge renumbered a port after
 * another one was removed). */
void nb_switch_renumber_port(struct nb_switch *sw, uint16_t from, uint16_t to);

/* Counters and occupancy (scans the table: not for the packet path). */
void nb_switch_get_stats(const struct nb_switch *sw, uint64_t now_ns, struct nb_switch_stats *st);

#endif
