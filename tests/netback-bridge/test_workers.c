/*
 * The bridge with two workers on real AF_PACKET ports: three veth pairs in a network
 * namespace of the test's own (root needed), the bridge on one end of each, raw
 * sockets on the other ends to send and count frames. Checks that frames of many
 * flows are forwarded by both workers and none twice, and that ports can be removed
 * and added again while the second worker forwards (the paths that park it).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "netback-bridge/bridge.h"
#include "tests/lib/nft_text.h"

#define NPORTS 3
#define MAGIC  0x76777770u /* in every test frame's payload: "vwwp" */

static const char *const port_names[] = {"p0", "p1", "p2", NULL};
static const char *const peer_names[] = {"q0", "q1", "q2"};
static const uint8_t peer_mac[NPORTS][6] = {
	{0x02, 0, 0, 0, 0, 0x10}, {0x02, 0, 0, 0, 0, 0x11}, {0x02, 0, 0, 0, 0, 0x12}};

struct env {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	struct nb_bridge *br;
	int peer[NPORTS]; /* raw sockets on q0..q2 */
};

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("'%s' failed", cmd);
}

static int raw_socket(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));

	int rcvbuf = 8 << 20;

	assert_true(fd >= 0);
	/* Room for every test frame: a 64-byte frame costs about 1 KiB of buffer. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)), 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

static void port_add(struct env *e, unsigned i)
{
	struct nb_port_config cfg = {.ring_blocks = 32}; /* 4 filled up in a slow (ASan) run */
	struct nb_port *p;

	assert_int_equal(nb_port_open(&nb_port_afpacket_ops, port_names[i], &cfg, &p), 0);
	assert_int_equal(nb_bridge_add_port(e->br, p, NULL, NULL), 0);
}

static int setup(void **state)
{
	static const char rules[] = "table inet vifwall {\n"
				    "\tchain forward {\n"
				    "\t\ttype filter hook forward priority 0; policy accept;\n"
				    "\t\tudp dport 7 counter\n"
				    "\t}\n"
				    "}\n";
	struct flt_ct_config cc = {.max_entries = 1024, .shared = true};
	struct nb_bridge_config bc = {.sw.seed = 1, .workers = 2, .burst = 32};
	struct env *e = calloc(1, sizeof(*e));
	char cmd[256], *err = NULL;

	if (unshare(CLONE_NEWNET) < 0)
		fail_msg("unshare(CLONE_NEWNET): %s (root needed)", strerror(errno));
	for (unsigned i = 0; i < NPORTS; i++) {
		snprintf(cmd, sizeof(cmd),
			 "ip link add %s type veth peer name %s && ip link set %s address "
			 "02:00:00:00:00:%02x && ip link set %s up && ip link set %s up",
			 port_names[i], peer_names[i], peer_names[i], 0x10 + i, port_names[i],
			 peer_names[i]);
		sh(cmd);
	}
	if (test_ruleset_from_text(rules, port_names, NULL, &e->rs, &err) < 0)
		fail_msg("the ruleset did not load: %s", err ? err : "?");
	assert_int_equal(flt_ct_table_new(&cc, &e->ct), 0);
	bc.ct = e->ct;
	assert_int_equal(nb_bridge_new(&bc, &e->br), 0);
	assert_int_equal(nb_bridge_workers(e->br), 2);
	for (unsigned i = 0; i < NPORTS; i++) {
		port_add(e, i);
		e->peer[i] = raw_socket(peer_names[i]);
	}
	nb_bridge_ruleset_swap(e->br, e->rs);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	nb_bridge_free(e->br);
	flt_ruleset_free(e->rs);
	flt_ct_table_free(e->ct);
	for (unsigned i = 0; i < NPORTS; i++)
		close(e->peer[i]);
	free(e);
	return 0;
}

static uint16_t ip_csum(const uint8_t *h, unsigned len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Send from peer @from to peer @to's MAC one UDP frame of flow @sport. */
static void send_udp(struct env *e, unsigned from, unsigned to, uint16_t sport)
{
	uint8_t f[64] = {0};
	uint32_t magic = htonl(MAGIC);
	uint16_t c;

	memcpy(f, peer_mac[to], 6);
	memcpy(f + 6, peer_mac[from], 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[17] = 46; /* total length: 20 + 8 + 18 */
	f[22] = 64;
	f[23] = 17;
	f[26] = 10, f[29] = (uint8_t)(1 + from);
	f[30] = 10, f[33] = (uint8_t)(1 + to);
	c = ip_csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8), f[25] = (uint8_t)c;
	f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport;
	f[37] = 7;
	f[39] = 26; /* UDP length; checksum 0: none */
	memcpy(f + 42, &magic, 4);
	assert_int_equal(send(e->peer[from], f, sizeof(f), 0), (ssize_t)sizeof(f));
}

/* Test frames that arrived at peer @to since the last call. */
static unsigned count_arrived(struct env *e, unsigned to)
{
	uint8_t buf[2048];
	unsigned n = 0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		uint32_t magic;
		ssize_t len =
			recvfrom(e->peer[to], buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

		if (len < 0)
			return n;
		if (from.sll_pkttype == PACKET_OUTGOING || len < 46)
			continue;
		memcpy(&magic, buf + 42, 4);
		n += ntohl(magic) == MAGIC && !memcmp(buf, peer_mac[to], 6);
	}
}

/* Run worker 0's loop until @want test frames reached peer @to (or 5 s passed), then
 * a little longer to see any extra; returns how many arrived. */
static unsigned forward_until(struct env *e, unsigned to, unsigned want)
{
	struct timespec t0, t;
	unsigned got = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		assert_int_equal(nb_bridge_run_once(e->br, NULL, 0, 2), 0);
		got += count_arrived(e, to);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (got >= want || t.tv_sec - t0.tv_sec > 5)
			break;
	}
	for (int i = 0; i < 20; i++) {
		assert_int_equal(nb_bridge_run_once(e->br, NULL, 0, 2), 0);
		got += count_arrived(e, to);
	}
	return got;
}

/* Teach the switch where peer 0 is, so test frames go to it only. */
static void learn_peer0(struct env *e)
{
	send_udp(e, 0, 1, 1);
	forward_until(e, 1, 1);
}

static void test_both_workers_forward(void **state)
{
	struct env *e = *state;
	struct nb_port_info pi;
	unsigned got;

	learn_peer0(e);
	/* 256 flows, 2 frames each: the kernel's flow hash spreads them. */
	for (uint16_t f = 0; f < 256; f++) {
		send_udp(e, 1, 0, (uint16_t)(1000 + f));
		send_udp(e, 1, 0, (uint16_t)(1000 + f));
		if (f % 32 == 31)
			assert_int_equal(nb_bridge_run_once(e->br, NULL, 0, 0), 0);
	}
	got = forward_until(e, 0, 512);
	if (got != 512) {
		struct nb_port_info p0;

		nb_bridge_port_info(e->br, 0, &p0);
		nb_bridge_port_info(e->br, 1, &pi);
		fail_msg("%u of 512 frames reached p0's peer: p1 rx %llu (ring drops %llu), "
			 "p0 tx %llu, drops %llu",
			 got, (unsigned long long)pi.c.rx_packets,
			 (unsigned long long)pi.c.ring_drops, (unsigned long long)p0.c.tx_packets,
			 (unsigned long long)nb_port_counters_drops(&p0.c));
	}
	assert_int_equal(nb_bridge_port_info(e->br, 1, &pi), 0);
	assert_string_equal(pi.name, "p1");
	print_message("p1 frames by worker: %llu %llu\n", (unsigned long long)pi.worker_rx[0],
		      (unsigned long long)pi.worker_rx[1]);
	assert_true(pi.worker_rx[0] > 0 && pi.worker_rx[1] > 0);
	assert_int_equal(pi.worker_rx[0] + pi.worker_rx[1], pi.c.rx_packets);
	assert_int_equal(count_arrived(e, 2), 0); /* p2 got nothing: known unicast */
}

static void test_ports_change_while_forwarding(void **state)
{
	struct env *e = *state;

	learn_peer0(e);
	for (unsigned round = 0; round < 20; round++) {
		unsigned got;

		/* Port p2 goes and comes back while worker 1 forwards p1's frames. */
		for (uint16_t f = 0; f < 32; f++)
			send_udp(e, 1, 0, (uint16_t)(2000 + round * 32 + f));
		assert_int_equal(nb_bridge_remove_port(e->br, "p2"), 0);
		assert_int_equal(nb_bridge_port_count(e->br), NPORTS - 1);
		port_add(e, 2);
		assert_int_equal(nb_bridge_port_count(e->br), NPORTS);
		for (uint16_t f = 0; f < 32; f++)
			send_udp(e, 2, 0, (uint16_t)(3000 + round * 32 + f));
		got = forward_until(e, 0, 64);
		if (got != 64)
			fail_msg("round %u: %u of 64 frames reached p0's peer", round, got);
	}
	/* The uplink too: p0 removed and added while frames for it are in flight. */
	for (uint16_t f = 0; f < 16; f++)
		send_udp(e, 1, 0, (uint16_t)(4000 + f));
	assert_int_equal(nb_bridge_remove_port(e->br, "p0"), 0);
	port_add(e, 0);
	learn_peer0(e);
	count_arrived(e, 0);
	for (uint16_t f = 0; f < 16; f++)
		send_udp(e, 1, 0, (uint16_t)(5000 + f));
	assert_int_equal(forward_until(e, 0, 16), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_workers_forward),
		cmocka_unit_test(test_ports_change_while_forwarding),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
