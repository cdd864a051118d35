/*
 * The AF_PACKET port backend: per device, a packet socket bound to it with a
 * TPACKET_V3 receive ring, and a second one with a TPACKET_V2 transmit ring; frames the
 * ring does not take (GSO, larger than the MTU) go out with sendmmsg() on the first.
 *
 * Why these choices:
 * - TPACKET_V3 fills variable-sized blocks, so small frames cost little ring memory;
 *   the kernel hands a block over when it is full or after retire_ms, which bounds
 *   the latency a quiet port adds. Hundreds of blocks, because 16 lost frames at
 *   100 kpps as soon as a neighbour loaded the CPU (shared/NOTES.md).
 * - The kernel strips VLAN tags into skb metadata before packet sockets see a frame.
 *   The ring header carries the tag (TP_STATUS_VLAN_VALID, the ring's form of
 *   PACKET_AUXDATA); we put it back into the frame in place, in the room that
 *   PACKET_RESERVE keeps in front of every frame, so tagged frames forward as frames.
 * - PACKET_IGNORE_OUTGOING: the socket must not receive what it (or anyone) sends on
 *   the device, or every forwarded frame would come back as a new one.
 * - PACKET_VNET_HDR: the kernel tells us, in a virtio_net_hdr in front of each frame,
 *   when the sender offloaded the checksum (NB_FRAME_CSUM_PARTIAL: its receiver would
 *   drop it as it is) or segmentation (NB_FRAME_GSO: a TCP packet of up to 64 KiB).
 *   We send with the same header, so the egress device or the kernel segments GSO
 *   frames; forwarding them whole is what keeps TCP fast.
 * - The transmit ring sends a burst with one send() and no per-frame message header,
 *   iovec or user copy (sendmmsg() has all three per frame): at 64-byte frames about 5%
 *   less CPU on the forwarding core (docs/performance.md). PACKET_QDISC_BYPASS on both
 *   sockets skips the qdisc, as a forwarder has no use for its queueing and pays for
 *   its lock.
 * - Siblings (several workers on one device) join a PACKET_FANOUT_HASH group: the
 *   kernel's flow hash is symmetric and keeps every frame of a flow on one socket, so
 *   a flow is never reordered. The group id is the kernel's (FLAG_UNIQUEID), so two
 *   daemons or two ports never meet in one group by accident.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netback-bridge/port.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* linux 5.18; older uapi headers lack it */
#endif

#define AFP_DEFAULT_BLOCKS     256
#define AFP_DEFAULT_BLOCK_SIZE (128u << 10)
#define AFP_FRAME_SIZE	       2048u /* only sizes tp_frame_nr: V3 packs frames tightly */
#define AFP_SNDBUF	       (4 << 20)
#define AFP_TX_FRAMES	       256u  /* transmit ring slots: 4 bursts of NB_BURST_MAX in flight */
#define AFP_TX_FRAME_SIZE      2048u /* a 1518-byte frame and its headers fit */
#define AFP_TX_DATA	       TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) /* frame data offset */
#define AFP_MTU_EVERY	       256u /* tx bursts between two reads of the device's MTU */

struct afp_port {
	struct nb_port port; /* first: what open returns */
	int fd;
	int tx_fd; /* transmit ring socket: receives nothing (protocol 0) */
	uint8_t *ring, *tx_ring;
	size_t ring_size;
	unsigned block_size, block_nr;
	struct nb_port_config cfg; /* as opened: siblings are opened alike */
	int fanout_id;		   /* PACKET_FANOUT group of the siblings; -1 none yet */
	/* Reading position: the block being read, its next frame and frames left. A
	 * block is returned to the kernel only at the next rx_burst, as frames handed
	 * out must stay valid until then. */
	unsigned cur;
	struct tpacket3_hdr *next;
	uint32_t left;	  /* frames left in block cur; 0 when cur is not opened */
	unsigned to_free; /* blocks before cur, fully read, not yet returned */
	struct nb_port_io_stats stats;
	struct mmsghdr msgs[NB_BURST_MAX];
	struct iovec iov[NB_BURST_MAX][2]; /* virtio_net_hdr, frame */
	struct virtio_net_hdr vh[NB_BURST_MAX];
	unsigned tx_head;	/* next transmit ring slot, in step with the kernel's */
	unsigned tx_max;	/* largest frame the ring takes: device MTU + Ethernet header */
	unsigned mtu_countdown; /* tx bursts until tx_max is read again */
};

static struct tpacket_block_desc *afp_block(const struct afp_port *ap, unsigned i)
{
	return (struct tpacket_block_desc *)(ap->ring + (size_t)i * ap->block_size);
}

static int afp_setopt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) < 0 ? -errno : 0;
}

static int afp_ring_setup(struct afp_port *ap, const struct nb_port_config *cfg)
{
	struct tpacket_req3 req = {0};

	ap->block_nr = cfg->ring_blocks ? cfg->ring_blocks : AFP_DEFAULT_BLOCKS;
	ap->block_size = cfg->block_size ? cfg->block_size : AFP_DEFAULT_BLOCK_SIZE;
	if (ap->block_size < AFP_DEFAULT_BLOCK_SIZE || (ap->block_size & (ap->block_size - 1)))
		return -EINVAL;
	req.tp_block_size = ap->block_size;
	req.tp_block_nr = ap->block_nr;
	req.tp_frame_size = AFP_FRAME_SIZE;
	req.tp_frame_nr = ap->block_size / AFP_FRAME_SIZE * ap->block_nr;
	req.tp_retire_blk_tov = cfg->retire_ms ? cfg->retire_ms : 1;
	if (setsockopt(ap->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return -errno;
	ap->ring_size = (size_t)ap->block_size * ap->block_nr;
	ap->ring = mmap(NULL, ap->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, ap->fd, 0);
	if (ap->ring == MAP_FAILED) {
		ap->ring = NULL;
		return -errno;
	}
	return 0;
}

/* The largest frame the device sends, as sendmsg() checks it: MTU + Ethernet header,
 * capped by the transmit ring's slot; 0 when unknown (every frame then goes to
 * sendmmsg, which checks it itself). */
static unsigned afp_tx_max(const struct afp_port *ap)
{
	struct ifreq ifr = {0};
	unsigned max;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ap->port.name);
	if (ioctl(ap->tx_fd, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu <= 0)
		return 0;
	max = (unsigned)ifr.ifr_mtu + ETH_HLEN;
	if (max > AFP_TX_FRAME_SIZE - AFP_TX_DATA - sizeof(struct virtio_net_hdr))
		max = AFP_TX_FRAME_SIZE - AFP_TX_DATA - sizeof(struct virtio_net_hdr);
	return max;
}

/* The transmit ring (PACKET_TX_RING) on a socket of its own: with a ring, every
 * sendmsg() on a socket sends from the ring, and frames larger than a slot (GSO) still
 * need sendmmsg(). Protocol 0, so it receives nothing. TPACKET_V2: fixed slots (a
 * socket has one version for both rings; V3's transmit side is V2's anyway). */
static int afp_tx_setup(struct afp_port *ap)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = 0};
	struct tpacket_req req = {.tp_block_size = AFP_TX_FRAME_SIZE * AFP_TX_FRAMES,
				  .tp_block_nr = 1,
				  .tp_frame_size = AFP_TX_FRAME_SIZE,
				  .tp_frame_nr = AFP_TX_FRAMES};
	int rc;

	ap->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ap->tx_fd < 0)
		return -errno;
	if ((rc = afp_setopt(ap->tx_fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)) < 0 ||
	    (rc = afp_setopt(ap->tx_fd, SOL_PACKET, PACKET_VNET_HDR, 1)) < 0 ||
	    (rc = afp_setopt(ap->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1)) < 0)
		return rc;
	if (afp_setopt(ap->tx_fd, SOL_SOCKET, SO_SNDBUFFORCE, AFP_SNDBUF) < 0)
		afp_setopt(ap->tx_fd, SOL_SOCKET, SO_SNDBUF, AFP_SNDBUF);
	if (setsockopt(ap->tx_fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
		return -errno;
	ap->tx_ring = mmap(NULL, (size_t)AFP_TX_FRAME_SIZE * AFP_TX_FRAMES, PROT_READ | PROT_WRITE,
			   MAP_SHARED, ap->tx_fd, 0);
	if (ap->tx_ring == MAP_FAILED) {
		ap->tx_ring = NULL;
		return -errno;
	}
	sll.sll_ifindex = (int)ap->port.ifindex;
	if (bind(ap->tx_fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	ap->tx_max = afp_tx_max(ap);
	ap->mtu_countdown = AFP_MTU_EVERY;
	return 0;
}

/* A sibling is bound before it can join its fanout group, and a bound socket outside
 * the group would get a copy of every frame: it drops them all until it has joined. */
static int afp_filter_all(int fd)
{
	static struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = {.len = 1, .filter = &drop};

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

static int afp_socket_setup(struct afp_port *ap, const struct nb_port_config *cfg, bool sibling)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int rc;

	/* Protocol 0 until bound: nothing is queued before the ring exists. */
	ap->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ap->fd < 0)
		return -errno;
	if ((rc = afp_setopt(ap->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3)) < 0 ||
	    (rc = afp_setopt(ap->fd, SOL_PACKET, PACKET_RESERVE, NB_VLAN_ROOM)) < 0 ||
	    (rc = afp_setopt(ap->fd, SOL_PACKET, PACKET_VNET_HDR, 1)) < 0 ||
	    (rc = afp_setopt(ap->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)) < 0 ||
	    (rc = afp_setopt(ap->fd, SOL_PACKET, PACKET_QDISC_BYPASS, 1)) < 0)
		return rc;
	if (afp_setopt(ap->fd, SOL_SOCKET, SO_SNDBUFFORCE, AFP_SNDBUF) < 0)
		afp_setopt(ap->fd, SOL_SOCKET, SO_SNDBUF, AFP_SNDBUF);
	if ((rc = afp_ring_setup(ap, cfg)) < 0)
		return rc;
	if (sibling && (rc = afp_filter_all(ap->fd)) < 0)
		return rc;
	sll.sll_ifindex = (int)ap->port.ifindex;
	if (bind(ap->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	if (!cfg->no_promisc) {
		/* Tied to the socket: the kernel undoes it when the socket closes, also
		 * when the daemon crashes. */
		struct packet_mreq mr = {.mr_ifindex = (int)ap->port.ifindex,
					 .mr_type = PACKET_MR_PROMISC};

		if (setsockopt(ap->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			return -errno;
	}
	return 0;
}

static void afp_close(struct nb_port *p)
{
	struct afp_port *ap = (struct afp_port *)p;

	if (ap->ring)
		munmap(ap->ring, ap->ring_size);
	if (ap->tx_ring)
		munmap(ap->tx_ring, (size_t)AFP_TX_FRAME_SIZE * AFP_TX_FRAMES);
	if (ap->fd >= 0)
		close(ap->fd);
	if (ap->tx_fd >= 0)
		close(ap->tx_fd);
	free(ap);
}

static int afp_open_as(const char *ifname, const struct nb_port_config *cfg, bool sibling,
		       struct nb_port **out)
{
	struct afp_port *ap = calloc(1, sizeof(*ap));
	int rc;

	if (!ap)
		return -ENOMEM;
	ap->fd = -1;
	ap->tx_fd = -1;
	ap->fanout_id = -1;
	ap->cfg = *cfg;
	ap->port.ops = &nb_port_afpacket_ops;
	strncpy(ap->port.name, ifname, NB_IFNAMSIZ - 1);
	ap->port.ifindex = if_nametoindex(ifname);
	if (!ap->port.ifindex) {
		rc = -ENODEV;
		goto fail;
	}
	if ((rc = afp_socket_setup(ap, cfg, sibling)) < 0 || (rc = afp_tx_setup(ap)) < 0)
		goto fail;
	for (unsigned i = 0; i < NB_BURST_MAX; i++) {
		ap->msgs[i].msg_hdr.msg_iov = ap->iov[i];
		ap->msgs[i].msg_hdr.msg_iovlen = 2;
		ap->iov[i][0].iov_base = &ap->vh[i];
		ap->iov[i][0].iov_len = sizeof(ap->vh[i]);
	}
	*out = &ap->port;
	return 0;
fail:
	afp_close(&ap->port);
	return rc;
}

static int afp_open(const char *ifname, const struct nb_port_config *cfg, struct nb_port **out)
{
	return afp_open_as(ifname, cfg, false, out);
}

/* Give the blocks read completely during the previous burst back to the kernel. */
static void afp_blocks_release(struct afp_port *ap)
{
	unsigned i = (ap->cur + ap->block_nr - ap->to_free) % ap->block_nr;

	for (; ap->to_free; ap->to_free--, i = (i + 1) % ap->block_nr)
		__atomic_store_n(&afp_block(ap, i)->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
}

static bool afp_block_open(struct afp_port *ap)
{
	struct tpacket_block_desc *b = afp_block(ap, ap->cur);

	if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return false;
	ap->left = b->hdr.bh1.num_pkts;
	ap->next = (struct tpacket3_hdr *)((uint8_t *)b + b->hdr.bh1.offset_to_first_pkt);
	if (!ap->left) {
		/* An empty retired block: nothing to hand out, give it back now. */
		ap->to_free++;
		ap->cur = (ap->cur + 1) % ap->block_nr;
	}
	return true;
}

/* Offload state of a received frame, from the virtio_net_hdr the kernel writes just
 * in front of it (PACKET_VNET_HDR). */
static void afp_frame_offloads(const struct virtio_net_hdr *vh, struct nb_frame *f)
{
	f->flags = vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM ? NB_FRAME_CSUM_PARTIAL : 0;
	f->gso_type = vh->gso_type;
	f->gso_size = vh->gso_size;
	f->csum_start = 0;
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		f->flags |= NB_FRAME_GSO;
}

/* Count a frame too big for the ring; the stats reader may be another thread. */
static void afp_truncated(struct afp_port *ap)
{
	__atomic_store_n(&ap->stats.truncated, ap->stats.truncated + 1, __ATOMIC_RELAXED);
}

/* Turn ring frame @h into @f; false when it must not be forwarded. */
static bool afp_frame_take(struct afp_port *ap, struct tpacket3_hdr *h, struct nb_frame *f)
{
	const struct sockaddr_ll *sll =
		(const struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(*h)));
	uint32_t room = h->tp_mac - (TPACKET_ALIGN(sizeof(*h)) + sizeof(*sll));
	uint8_t *data = (uint8_t *)h + h->tp_mac;
	struct virtio_net_hdr vh;
	uint32_t len = h->tp_snaplen;

	if (sll->sll_pkttype == PACKET_OUTGOING)
		return false; /* in case PACKET_IGNORE_OUTGOING leaks one */
	if (h->tp_snaplen < h->tp_len || len < 2 * ETH_ALEN || room < sizeof(vh)) {
		afp_truncated(ap);
		return false;
	}
	/* Read before the VLAN tag is put back over it. */
	memcpy(&vh, data - sizeof(vh), sizeof(vh));
	afp_frame_offloads(&vh, f);
	if (h->tp_status & TP_STATUS_CSUMNOTREADY)
		f->flags |= NB_FRAME_CSUM_PARTIAL;
	if (h->tp_status & TP_STATUS_VLAN_VALID) {
		uint16_t tpid = h->tp_status & TP_STATUS_VLAN_TPID_VALID ? h->hv1.tp_vlan_tpid
									 : ETH_P_8021Q;
		uint16_t tag[2] = {htons(tpid), htons(h->hv1.tp_vlan_tci)};

		if (room < NB_VLAN_ROOM) {
			afp_truncated(ap);
			return false;
		}
		memmove(data - NB_VLAN_ROOM, data, 2 * ETH_ALEN);
		data -= NB_VLAN_ROOM;
		memcpy(data + 2 * ETH_ALEN, tag, sizeof(tag));
		len += NB_VLAN_ROOM;
	}
	f->data = data;
	f->len = len;
	return true;
}

static unsigned afp_rx_burst(struct nb_port *p, struct nb_frame *frames, unsigned max)
{
	struct afp_port *ap = (struct afp_port *)p;
	unsigned n = 0;

	afp_blocks_release(ap);
	while (n < max) {
		struct tpacket3_hdr *h;

		if (!ap->left && !afp_block_open(ap))
			break;
		if (!ap->left)
			continue; /* it was empty */
		h = ap->next;
		ap->next = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		if (afp_frame_take(ap, h, &frames[n]))
			n++;
		if (--ap->left == 0) {
			ap->to_free++;
			ap->cur = (ap->cur + 1) % ap->block_nr;
		}
	}
	return n;
}

/* The virtio_net_hdr that sends @f as it came: GSO frames are segmented by the egress
 * device or the kernel; everything else goes as it is. */
static void afp_vnet_hdr(const struct nb_frame *f, struct virtio_net_hdr *vh)
{
	memset(vh, 0, sizeof(*vh));
	if (f->flags & NB_FRAME_GSO) {
		bool udp = (f->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_UDP_L4;

		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->gso_type = f->gso_type;
		vh->gso_size = f->gso_size;
		vh->csum_start = f->csum_start;
		vh->csum_offset = udp ? 6 : 16;
	}
}

/* Whether @f goes through the transmit ring: not GSO, and no larger than the device
 * takes (sendmmsg refuses those one by one with EMSGSIZE; the ring would not); and not
 * shorter than an Ethernet header, which the ring would refuse and stop at. */
static bool afp_tx_ring_takes(const struct afp_port *ap, const struct nb_frame *f)
{
	return !(f->flags & NB_FRAME_GSO) && f->len <= ap->tx_max && f->len >= ETH_HLEN;
}

static struct tpacket2_hdr *afp_tx_slot(const struct afp_port *ap, unsigned i)
{
	return (struct tpacket2_hdr *)(ap->tx_ring + (size_t)i * AFP_TX_FRAME_SIZE);
}

/* Send @n frames through the transmit ring with one send(); returns how many the
 * kernel took, and in *@taken how many found a slot. A slot still in flight (its skb
 * not yet freed by the receiver) means the ring is full: the caller sends the rest
 * another way. */
static unsigned afp_tx_ring_send(struct afp_port *ap, const struct nb_frame *frames, unsigned n,
				 unsigned *taken)
{
	unsigned first = ap->tx_head, queued = 0, sent;

	for (; queued < n; queued++) {
		struct tpacket2_hdr *h = afp_tx_slot(ap, ap->tx_head);
		uint8_t *data = (uint8_t *)h + AFP_TX_DATA;
		struct virtio_net_hdr *vh = (struct virtio_net_hdr *)data;
		const struct nb_frame *f = &frames[queued];

		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break;
		afp_vnet_hdr(f, vh);
		/* The whole frame into the skb's linear part: the kernel would otherwise
		 * attach the slot's page to the skb and hand the slot back as soon as a
		 * device orphans the skb, while the frame may still be read. */
		vh->hdr_len = (uint16_t)f->len;
		memcpy(data + sizeof(*vh), f->data, f->len);
		h->tp_len = (uint32_t)(sizeof(*vh) + f->len);
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		ap->tx_head = (ap->tx_head + 1) % AFP_TX_FRAMES;
	}
	*taken = queued;
	if (!queued)
		return 0;
	while (send(ap->tx_fd, NULL, 0, MSG_DONTWAIT) < 0 && errno == EINTR)
		;
	/* The kernel takes slots in order and stops at the first it cannot send (device
	 * down, no buffer: still SEND_REQUEST; a frame it refuses: WRONG_FORMAT). Take
	 * that one and the rest back, unsent, and start there next time, where the
	 * kernel's own position still is. */
	for (sent = 0; sent < queued; sent++) {
		struct tpacket2_hdr *h = afp_tx_slot(ap, (first + sent) % AFP_TX_FRAMES);
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st != TP_STATUS_SENDING && st != TP_STATUS_AVAILABLE)
			break;
	}
	for (unsigned i = sent; i < queued; i++)
		__atomic_store_n(&afp_tx_slot(ap, (first + i) % AFP_TX_FRAMES)->tp_status,
				 TP_STATUS_AVAILABLE, __ATOMIC_RELEASE);
	ap->tx_head = (first + sent) % AFP_TX_FRAMES;
	return sent;
}

/* Send @n frames with sendmmsg() on the receive socket (GSO and oversized frames). */
static unsigned afp_tx_msgs_send(struct afp_port *ap, const struct nb_frame *frames, unsigned n)
{
	unsigned done = 0, sent = 0;

	for (unsigned i = 0; i < n; i++) {
		afp_vnet_hdr(&frames[i], &ap->vh[i]);
		ap->iov[i][1].iov_base = frames[i].data;
		ap->iov[i][1].iov_len = frames[i].len;
	}
	while (done < n) {
		int rc = sendmmsg(ap->fd, &ap->msgs[done], n - done, MSG_DONTWAIT);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 &&
		    (errno == EAGAIN || errno == ENOBUFS || errno == ENETDOWN || errno == ENXIO))
			break; /* the device takes nothing now: the rest is lost too */
		if (rc < 0)
			rc = 0;
		/* Frame done + rc failed on its own (too big for the MTU): skip it and
		 * try the rest, so one bad frame does not cost the burst. */
		sent += (unsigned)rc;
		done += (unsigned)rc + 1;
	}
	return sent;
}

/* Runs of ring frames and of the others, in order, so that no flow is reordered. */
static unsigned afp_tx_burst(struct nb_port *p, const struct nb_frame *frames, unsigned n)
{
	struct afp_port *ap = (struct afp_port *)p;
	unsigned sent = 0;

	if (--ap->mtu_countdown == 0) {
		ap->tx_max = afp_tx_max(ap);
		ap->mtu_countdown = AFP_MTU_EVERY;
	}
	for (unsigned i = 0; i < n;) {
		bool ring = afp_tx_ring_takes(ap, &frames[i]);
		unsigned j = i + 1;

		while (j < n && afp_tx_ring_takes(ap, &frames[j]) == ring)
			j++;
		if (ring) {
			unsigned queued, k = afp_tx_ring_send(ap, &frames[i], j - i, &queued);

			sent += k;
			/* The ring's slots were all in flight (frames still queued toward a
			 * slow receiver hold theirs): the rest go by sendmmsg, behind them,
			 * within the socket's buffer, rather than being lost. */
			if (k == queued && queued < j - i)
				sent += afp_tx_msgs_send(ap, &frames[i + queued], j - i - queued);
		} else {
			sent += afp_tx_msgs_send(ap, &frames[i], j - i);
		}
		i = j;
	}
	return sent;
}

static int afp_poll_fd(const struct nb_port *p)
{
	return ((const struct afp_port *)p)->fd;
}

static void afp_stats(struct nb_port *p, struct nb_port_io_stats *st)
{
	struct afp_port *ap = (struct afp_port *)p;
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof(ks);

	/* The kernel resets its counters on every read: accumulate. */
	if (getsockopt(ap->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
		ap->stats.ring_drops += ks.tp_drops;
	st->ring_drops = ap->stats.ring_drops;
	st->truncated = __atomic_load_n(&ap->stats.truncated, __ATOMIC_RELAXED);
}

static int afp_fanout_join(struct afp_port *ap, int id)
{
	int val = (id & 0xffff) | PACKET_FANOUT_HASH << 16;
	socklen_t len = sizeof(val);

	if (id < 0)
		val = PACKET_FANOUT_HASH << 16 | PACKET_FANOUT_FLAG_UNIQUEID << 16;
	if (setsockopt(ap->fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) < 0)
		return -errno;
	if (id >= 0)
		return id;
	/* Ask which id the kernel gave the new group. */
	if (getsockopt(ap->fd, SOL_PACKET, PACKET_FANOUT, &val, &len) < 0)
		return -errno;
	return val & 0xffff;
}

static int afp_open_sibling(struct nb_port *p, struct nb_port **out)
{
	struct afp_port *ap = (struct afp_port *)p;
	struct nb_port *sp;
	int rc;

	if (ap->fanout_id < 0) {
		rc = afp_fanout_join(ap, -1);
		if (rc < 0)
			return rc;
		ap->fanout_id = rc;
	}
	rc = afp_open_as(p->name, &ap->cfg, true, &sp);
	if (rc < 0)
		return rc;
	/* Same device, not just the same name: it could have been replaced since. */
	if (sp->ifindex != p->ifindex) {
		afp_close(sp);
		return -ENODEV;
	}
	rc = afp_fanout_join((struct afp_port *)sp, ap->fanout_id);
	/* In the group now: take its share of the frames (a frame the group gave it in
	 * between is lost, never seen twice). */
	if (rc >= 0)
		rc = afp_setopt(((struct afp_port *)sp)->fd, SOL_SOCKET, SO_DETACH_FILTER, 0);
	if (rc < 0) {
		afp_close(sp);
		return rc;
	}
	((struct afp_port *)sp)->fanout_id = ap->fanout_id;
	*out = sp;
	return 0;
}

const struct nb_port_ops nb_port_afpacket_ops = {
	.name = "afpacket",
	.open = afp_open,
	.close = afp_close,
	.rx_burst = afp_rx_burst,
	.tx_burst = afp_tx_burst,
	.poll_fd = afp_poll_fd,
	.stats = afp_stats,
	.open_sibling = afp_open_sibling,
};
