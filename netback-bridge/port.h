/*
 * A port of the data plane: one network device (a guest's vif, the uplink) that
 * frames are received from and sent to in bursts. Backends (AF_PACKET now; AF_XDP and
 * a pcap file later) sit behind one ops table, so the bridge, tests and benchmarks
 * swap them freely.
 *
 * A backend embeds struct nb_port first in its own struct and returns it from open.
 * rx_burst hands out frames that point into the backend's memory (a ring): they stay
 * valid and writable until the next rx_burst on the same port or its close, so the
 * caller may queue them for transmission on other ports in between. Nothing on the
 * burst path allocates, locks or blocks.
 */
#ifndef VIFWALL_NB_PORT_H
#define VIFWALL_NB_PORT_H

#include <stdbool.h>
#include <stdint.h>

#define NB_BURST_MAX 64 /* frames per rx or tx burst, at most */
#define NB_IFNAMSIZ  16
#define NB_VLAN_ROOM 4 /* bytes a receive path may need in front of a frame */

/* The frame's TCP/UDP checksum is not computed yet: the sender left it to
 * "hardware" (the kernel's CHECKSUM_PARTIAL: veth, xen-netback with a netfront that
 * offloads checksums). Whoever forwards it must complete it (nb_csum_complete). */
#define NB_FRAME_CSUM_PARTIAL 1u
/* A GSO super-frame: one TCP (or UDP) packet larger than the MTU that the sender
 * left to "hardware" to cut into gso_size pieces. Received as one frame; sent as one,
 * with the transport checksum in partial form (nb_csum_to_partial), and the egress
 * device or the kernel segments it. */
#define NB_FRAME_GSO 2u

/* One frame of a burst: a full Ethernet frame, VLAN tags included, without FCS. */
struct nb_frame {
	uint8_t *data;
	uint32_t len;
	uint32_t flags;	     /* NB_FRAME_* */
	uint16_t gso_size;   /* NB_FRAME_GSO: payload bytes per segment */
	uint16_t csum_start; /* NB_FRAME_GSO, on transmit: offset of the transport header */
	uint8_t gso_type;    /* NB_FRAME_GSO: VIRTIO_NET_HDR_GSO_* (the kernel's own
				vocabulary, linux/virtio_net.h), ECN bit included */
};

/* How a port is opened; zero means the default for every field. */
struct nb_port_config {
	unsigned ring_blocks; /* receive ring blocks; default 256 (16 dropped frames when a
				 neighbour loaded the CPU, shared/NOTES.md) */
	unsigned block_size;  /* bytes per block, a power of two >= 128 KiB (a GSO frame
				 of 64 KiB must fit); default 128 KiB */
	unsigned retire_ms;   /* a partly filled block goes to userspace after this many
				 ms; default 1 (vifwalld's own default is 4) */
	bool no_promisc;      /* leave the device's promiscuous mode alone */
};

/* What the backend itself counted since open. */
struct nb_port_io_stats {
	uint64_t ring_drops; /* frames the kernel found no room for */
	uint64_t truncated;  /* frames larger than the ring could hold, dropped */
};

struct nb_port;

struct nb_port_ops {
	const char *name; /* "afpacket" */
	/* Open device @ifname. Returns 0 and *out, or -errno (logging nothing: the
	 * caller says which port failed). */
	int (*open)(const char *ifname, const struct nb_port_config *cfg, struct nb_port **out);
	void (*close)(struct nb_port *p);
	/* Up to @max (<= NB_BURST_MAX) received frames into @frames; returns how many. */
	unsigned (*rx_burst)(struct nb_port *p, struct nb_frame *frames, unsigned max);
	/* Send @n (<= NB_BURST_MAX) frames; returns how many the device took. The
	 * frames' memory may be reused as soon as it returns. */
	unsigned (*tx_burst)(struct nb_port *p, const struct nb_frame *frames, unsigned n);
	/* A descriptor that polls readable when rx_burst has frames. */
	int (*poll_fd)(const struct nb_port *p);
	/* Counters of the backend; may make a syscall (not for the packet path). */
	void (*stats)(struct nb_port *p, struct nb_port_io_stats *st);
	/* Open another handle on @p's device that shares the device's received frames
	 * with @p and @p's other siblings, all frames of one flow going to the same
	 * handle: how several workers serve one device. Each handle sends on its own.
	 * Returns 0 and *out, or -errno. NULL when the backend cannot share a device. */
	int (*open_sibling)(struct nb_port *p, struct nb_port **out);
};

/* The part every backend shares; backends embed it first. */
struct nb_port {
	const struct nb_port_ops *ops;
	char name[NB_IFNAMSIZ];
	unsigned ifindex; /* in the namespace the port lives in */
};

/* The AF_PACKET backend: TPACKET_V3 receive ring, sendmmsg transmit, siblings in a
 * PACKET_FANOUT_HASH group. */
extern const struct nb_port_ops nb_port_afpacket_ops;

/* Open @ifname with backend @ops. Returns 0 and *out, -EINVAL for a name that is not
 * a device name, or the backend's -errno. Close with nb_port_close(). */
int nb_port_open(const struct nb_port_ops *ops, const char *ifname,
		 const struct nb_port_config *cfg, struct nb_port **out);

/* Close @p; NULL is a no-op. */
void nb_port_close(struct nb_port *p);

/* See struct nb_port_ops. */
static inline unsigned nb_port_rx_burst(struct nb_port *p, struct nb_frame *frames, unsigned max)
{
	return p->ops->rx_burst(p, frames, max);
}

static inline unsigned nb_port_tx_burst(struct nb_port *p, const struct nb_frame *frames,
					unsigned n)
{
	return p->ops->tx_burst(p, frames, n);
}

static inline int nb_port_poll_fd(const struct nb_port *p)
{
	return p->ops->poll_fd(p);
}

static inline void nb_port_stats(struct nb_port *p, struct nb_port_io_stats *st)
{
	p->ops->stats(p, st);
}

#endif
