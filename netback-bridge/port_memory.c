/*
 * The in-memory port backend (port_memory.h). Received frames live in a fixed array
 * of buffers reused round-robin: a frame handed out by rx_burst stays valid until the
 * next rx_burst on the port, as the ops contract says, because the buffers it points
 * into are only reused by later pushes, which the caller makes between turns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netback-bridge/port_memory.h"

struct mem_slot {
	uint32_t len, flags;
	uint16_t gso_size;
	uint8_t gso_type;
	uint8_t *buf; /* NB_VLAN_ROOM + NB_MEM_MAX_LEN, the frame at NB_VLAN_ROOM */
};

struct mem_port {
	struct nb_port port; /* first: the ops get this pointer */
	unsigned head, count;
	struct mem_slot slot[NB_MEM_QUEUE];
	struct nb_port_memory_tx tx;
};

static struct mem_port *mem_of(const struct nb_port *p)
{
	return (struct mem_port *)p;
}

static void mem_close(struct nb_port *p)
{
	struct mem_port *m = mem_of(p);

	for (unsigned i = 0; i < NB_MEM_QUEUE; i++)
		free(m->slot[i].buf);
	free(m);
}

static int mem_open(const char *ifname, const struct nb_port_config *cfg, struct nb_port **out)
{
	static unsigned next_ifindex = 1000;
	struct mem_port *m = calloc(1, sizeof(*m));

	(void)cfg;
	if (!m)
		return -ENOMEM;
	for (unsigned i = 0; i < NB_MEM_QUEUE; i++) {
		m->slot[i].buf = malloc(NB_VLAN_ROOM + NB_MEM_MAX_LEN);
		if (!m->slot[i].buf) {
			mem_close(&m->port);
			return -ENOMEM;
		}
	}
	m->port.ops = &nb_port_memory_ops;
	strncpy(m->port.name, ifname, NB_IFNAMSIZ - 1);
	m->port.ifindex = next_ifindex++;
	*out = &m->port;
	return 0;
}

int nb_port_memory_push(struct nb_port *p, const void *data, size_t len, uint32_t flags,
			uint16_t gso_size, uint8_t gso_type)
{
	struct mem_port *m = mem_of(p);
	struct mem_slot *s;

	if (!len || len > NB_MEM_MAX_LEN)
		return -EMSGSIZE;
	if (m->count == NB_MEM_QUEUE)
		return -ENOSPC;
	s = &m->slot[(m->head + m->count) % NB_MEM_QUEUE];
	memcpy(s->buf + NB_VLAN_ROOM, data, len);
	s->len = (uint32_t)len;
	s->flags = flags;
	s->gso_size = gso_size;
	s->gso_type = gso_type;
	m->count++;
	return 0;
}

static unsigned mem_rx_burst(struct nb_port *p, struct nb_frame *frames, unsigned max)
{
	struct mem_port *m = mem_of(p);
	unsigned n = 0;

	while (n < max && m->count) {
		struct mem_slot *s = &m->slot[m->head];

		frames[n++] = (struct nb_frame){.data = s->buf + NB_VLAN_ROOM,
						.len = s->len,
						.flags = s->flags,
						.gso_size = s->gso_size,
						.gso_type = s->gso_type};
		m->head = (m->head + 1) % NB_MEM_QUEUE;
		m->count--;
	}
	return n;
}

static unsigned mem_tx_burst(struct nb_port *p, const struct nb_frame *frames, unsigned n)
{
	struct nb_port_memory_tx *tx = &mem_of(p)->tx;

	for (unsigned i = 0; i < n; i++) {
		unsigned k = (unsigned)(tx->frames % NB_MEM_KEEP);
		uint32_t len = frames[i].len;
		uint8_t sum = 0;

		/* Read every byte: an out-of-bounds frame is the sanitizer's to find here,
		 * where a device would have read it. */
		for (uint32_t b = 0; b < len; b++)
			sum ^= frames[i].data[b];
		(void)sum;
		tx->last[k].len = len;
		tx->last[k].flags = frames[i].flags;
		memcpy(tx->last[k].data, frames[i].data, len < 128 ? len : 128);
		tx->frames++;
		tx->bytes += len;
	}
	tx->kept = tx->frames < NB_MEM_KEEP ? (unsigned)tx->frames : NB_MEM_KEEP;
	return n;
}

static int mem_poll_fd(const struct nb_port *p)
{
	(void)p;
	return -1;
}

static void mem_stats(struct nb_port *p, struct nb_port_io_stats *st)
{
	(void)p;
	memset(st, 0, sizeof(*st));
}

const struct nb_port_memory_tx *nb_port_memory_sent(const struct nb_port *p)
{
	return &mem_of(p)->tx;
}

void nb_port_memory_clear(struct nb_port *p)
{
	memset(&mem_of(p)->tx, 0, sizeof(mem_of(p)->tx));
}

const struct nb_port_ops nb_port_memory_ops = {
	.name = "memory",
	.open = mem_open,
	.close = mem_close,
	.rx_burst = mem_rx_burst,
	.tx_burst = mem_tx_burst,
	.poll_fd = mem_poll_fd,
	.stats = mem_stats,
};
