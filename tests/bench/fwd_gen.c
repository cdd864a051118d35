/*
 * fwd_gen: the traffic ends of the forwarding benchmark (tests/bench/forward.sh), one
 * binary with two modes, because the machine has no pktgen module.
 *
 *   fwd_gen gen IFNAME FLOWS.pcap SRCMAC DSTMAC RATE SECONDS
 *   fwd_gen sink IFNAME SRCMAC SECONDS
 *
 * gen: every frame of FLOWS.pcap (one per flow, from fwd_flows.py) is prebuilt once as
 * a 60-byte frame (64 on the wire with the FCS) with SRCMAC/DSTMAC written in; then
 * the frames are sent round-robin over the flows on IFNAME (AF_PACKET, qdisc bypassed,
 * sendmmsg of up to 32 frames), paced by a token bucket at RATE frames/s for SECONDS.
 * Prints "sent=N secs=S rate=R errors=E": frames offered (taken by the device, including
 * E dropped by a full receive backlog behind it), and in how long, so the caller knows
 * when the generator itself could not keep up with the offered rate.
 *
 * sink: counts IPv4 frames whose source MAC is SRCMAC from a TPACKET_V3 receive ring on
 * IFNAME for SECONDS; prints "received=N ring_drops=D" (D: frames the kernel could not
 * put in the sink's own ring, which the caller must not blame on the forwarder).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ether.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN 60 /* 64-byte frames on the wire: the FCS is the NIC's */
#define BURST	  32
#define MAX_FLOWS (1u << 20)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int die(const char *what, const char *arg)
{
	fprintf(stderr, "fwd_gen: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	return 1;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	struct ether_addr ea;

	if (!ether_aton_r(s, &ea))
		return -1;
	memcpy(mac, ea.ether_addr_octet, 6);
	return 0;
}

/* A raw AF_PACKET socket bound to @ifname for @proto (0: send only). */
static int packet_socket(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(proto)};
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0)
		return -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read the frames of a classic pcap file (as classbench.py writes it) into 60-byte
 * slots, MACs overwritten, short frames zero-padded. Returns the count, 0 on error. */
static unsigned load_flows(const char *path, const uint8_t src[6], const uint8_t dst[6],
			   uint8_t **out)
{
	FILE *f = fopen(path, "rb");
	uint32_t gh[6], rh[4];
	uint8_t buf[65536];
	uint8_t *frames;
	unsigned n = 0;

	if (!f)
		return 0;
	frames = calloc(MAX_FLOWS, FRAME_LEN);
	if (!frames || fread(gh, 4, 6, f) != 6 || gh[0] != 0xa1b2c3d4 || gh[5] != 1) {
		fclose(f);
		free(frames);
		return 0;
	}
	while (n < MAX_FLOWS && fread(rh, 4, 4, f) == 4) {
		uint32_t cap = rh[2];
		uint8_t *fr = frames + (size_t)n * FRAME_LEN;

		if (cap > sizeof(buf) || fread(buf, 1, cap, f) != cap)
			break;
		if (cap < 14)
			continue;
		memcpy(fr, buf, cap < FRAME_LEN ? cap : FRAME_LEN);
		memcpy(fr, dst, 6);
		memcpy(fr + 6, src, 6);
		n++;
	}
	fclose(f);
	if (!n)
		free(frames);
	else
		*out = frames;
	return n;
}

static int run_gen(char **av)
{
	const char *ifname = av[0];
	uint8_t src[6], dst[6], *frames = NULL;
	double rate = atof(av[4]), secs = atof(av[5]);
	struct mmsghdr msgs[BURST];
	struct iovec iov[BURST];
	uint64_t sent = 0, errors = 0;
	unsigned nflows, next = 0, burst;
	double t0, t, end;
	int one = 1, sndbuf = 256 << 20, fd;

	if (parse_mac(av[2], src) || parse_mac(av[3], dst))
		return die("bad MAC address", av[2]);
	if (!(rate > 0) || !(secs > 0))
		return die("RATE and SECONDS must be positive", NULL);
	nflows = load_flows(av[1], src, dst, &frames);
	if (!nflows)
		return die("no frames in (or cannot read) the flow file", av[1]);
	fd = packet_socket(ifname, 0);
	if (fd < 0)
		return die("AF_PACKET socket on the interface (root? right namespace?)", ifname);
	/* The generator's frames go straight to the device: no qdisc in the measurement. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	/* Open loop, as a wire offers load: with the default send buffer, the skbs a
	 * forwarder holds in its backlog block sendmmsg, and a slow forwarder would pace its
	 * own input instead of losing frames. A buffer larger than any backlog avoids that. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* Pacing sleeps are short: ask for a tight wake-up. */
	prctl(PR_SET_TIMERSLACK, 1000UL);
	/* Small bursts at low rates keep the offered load smooth; 32 at 640 kpps and up. */
	burst = (unsigned)(rate / 20000);
	burst = burst < 1 ? 1 : burst > BURST ? BURST : burst;
	memset(msgs, 0, sizeof(msgs));
	for (unsigned i = 0; i < BURST; i++) {
		iov[i].iov_len = FRAME_LEN;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_s();
	end = t0 + secs;
	while ((t = now_s()) < end) {
		double due = (t - t0) * rate - (double)sent;
		unsigned k;
		int rc;

		if (due < burst) {
			struct timespec ts = {0, (long)((burst - due) / rate * 1e9)};

			nanosleep(&ts, NULL);
			continue;
		}
		k = due > BURST ? BURST : (unsigned)due;
		for (unsigned i = 0; i < k; i++) {
			iov[i].iov_base = frames + (size_t)next * FRAME_LEN;
			next = next + 1 == nflows ? 0 : next + 1;
		}
		rc = sendmmsg(fd, msgs, k, 0);
		if (rc < 0 && errno != ENOBUFS) {
			if (errno != EAGAIN && errno != EINTR)
				return die("sendmmsg", strerror(errno));
			next = (unsigned)((next + nflows - k) % nflows);
			continue;
		}
		/* ENOBUFS here is NET_XMIT_DROP: the receiving side's backlog was full and
		 * dropped the frame (veth reports it to the sender). On a wire that frame
		 * would have been offered and lost: count it as sent; the sink never sees it.
		 * sendmmsg stops at the failing message: it was message rc (0 if rc < 0). */
		if (rc < 0 || (unsigned)rc < k) {
			unsigned done = (rc < 0 ? 0 : (unsigned)rc) + 1;

			errors++;
			sent += done;
			next = (unsigned)((next + nflows - (k - done)) % nflows);
		} else {
			sent += k;
		}
	}
	t = now_s() - t0;
	printf("sent=%llu secs=%.3f rate=%.0f errors=%llu flows=%u\n", (unsigned long long)sent, t,
	       sent / t, (unsigned long long)errors, nflows);
	close(fd);
	free(frames);
	return 0;
}

static int run_sink(char **av)
{
	struct tpacket_req3 req = {
		.tp_block_size = 1 << 17,
		.tp_block_nr = 256,
		.tp_frame_size = 2048,
		.tp_frame_nr = (1 << 17) / 2048 * 256,
		.tp_retire_blk_tov = 2,
	};
	int ver = TPACKET_V3, fd;
	uint8_t src[6], *ring;
	double end, secs = atof(av[2]);
	uint64_t received = 0;
	struct tpacket_stats_v3 st;
	socklen_t sl = sizeof(st);
	unsigned blk = 0;

	if (parse_mac(av[1], src))
		return die("bad MAC address", av[1]);
	if (!(secs > 0))
		return die("SECONDS must be positive", NULL);
	fd = packet_socket(av[0], ETH_P_ALL);
	if (fd < 0)
		return die("AF_PACKET socket on the interface (root? right namespace?)", av[0]);
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return die("TPACKET_V3 receive ring", strerror(errno));
	ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_LOCKED, fd, 0);
	if (ring == MAP_FAILED)
		ring = mmap(NULL, (size_t)req.tp_block_size * req.tp_block_nr,
			    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		return die("mmap of the receive ring", strerror(errno));
	/* Counts start now: what the ring held before is the caller's business. */
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	printf("ready\n");
	fflush(stdout);
	end = now_s() + secs;
	while (now_s() < end) {
		struct tpacket_block_desc *bd = (void *)(ring + (size_t)blk * req.tp_block_size);
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct tpacket3_hdr *h;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			poll(&pfd, 1, 10);
			continue;
		}
		h = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (unsigned i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			const uint8_t *e = (uint8_t *)h + h->tp_mac;

			/* The generator's IPv4 frames only: not the namespaces' own chatter. */
			if (h->tp_snaplen >= 14 && !memcmp(e + 6, src, 6) && e[12] == 0x08 &&
			    e[13] == 0x00)
				received++;
			h = (void *)((uint8_t *)h + h->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		blk = (blk + 1) % req.tp_block_nr;
	}
	sl = sizeof(st);
	getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
	printf("received=%llu ring_drops=%u\n", (unsigned long long)received, st.tp_drops);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 8 && !strcmp(argv[1], "gen"))
		return run_gen(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return run_sink(argv + 2);
	fputs("usage: fwd_gen gen IFNAME FLOWS.pcap SRCMAC DSTMAC RATE SECONDS\n"
	      "       fwd_gen sink IFNAME SRCMAC SECONDS\n",
	      stderr);
	return 2;
}
