/*
 * libFuzzer target for the whole frame path of the data plane: the bridge with three
 * in-memory ports (web1 and web2, guests with anti-spoofing, and uplink), a ruleset
 * with conntrack, sets, jumps, limit and reject, the learning switch, checksum
 * completion, GSO checks and reject answers. Loaded once (through the kernel, so this
 * needs root); bridge, switch and connection tracker live across inputs so sequences
 * build state.
 *
 * An input is a list of frames, each: one byte (bits 0-1: the ingress port, 3 meaning
 * web1 too; bit 2: NB_FRAME_CSUM_PARTIAL; bit 3: NB_FRAME_GSO, then 3 more bytes of
 * gso_size and gso_type), two bytes of length (big-endian, cut to what is left), the
 * frame. After each 8 frames, and at the end, the bridge runs a turn. The memory port
 * reads every byte of every frame sent: an out-of-bounds frame is found there.
 * Seeds: tests/fuzz/corpus/frame_path/ (make_packet_seeds.py's frames, framed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "netback-bridge/bridge.h"
#include "netback-bridge/port_memory.h"
#include "tests/lib/nft_text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules[] = "table inet vifwall {\n"
			    "  set allowed { type ipv4_addr . inet_service; flags interval;\n"
			    "    elements = { 10.0.0.0/8 . 1-1024 } }\n"
			    "  chain forward {\n"
			    "    type filter hook forward priority 0; policy drop;\n"
			    "    ct state invalid counter drop\n"
			    "    ct state established,related accept\n"
			    "    ip saddr . tcp dport @allowed accept\n"
			    "    tcp flags & (syn | ack) == syn limit rate 50/second accept\n"
			    "    ip protocol vmap { icmp : jump icmp4, udp : jump udp4 }\n"
			    "    meta l4proto ipv6-icmp accept\n"
			    "    iifname \"web*\" th dport 8000-9000 reject with tcp reset\n"
			    "    oifname \"web2\" reject\n"
			    "    ip6 nexthdr udp reject with icmpv6 type admin-prohibited\n"
			    "  }\n"
			    "  chain icmp4 {\n"
			    "    icmp type echo-request accept\n"
			    "    reject with icmp type host-prohibited\n"
			    "  }\n"
			    "  chain udp4 {\n"
			    "    udp dport 53 accept\n"
			    "    oifname \"uplink\" reject\n"
			    "  }\n"
			    "}\n";

static struct flt_ruleset *rs;
static struct flt_ct_table *ct;
static struct nb_bridge *br;
static struct nb_port *ports[3];

static struct nb_port *add_port(const char *name, const uint8_t *mac, uint32_t ip4)
{
	struct nb_antispoof as;
	struct nb_port *p;

	if (nb_port_open(&nb_port_memory_ops, name, NULL, &p) < 0)
		abort();
	if (!mac) {
		if (nb_bridge_add_port(br, p, NULL, NULL) < 0)
			abort();
		return p;
	}
	if (nb_antispoof_init(&as, mac) < 0 || nb_antispoof_add_ip(&as, AF_INET, &ip4) < 0 ||
	    nb_bridge_add_port(br, p, &as, NULL) < 0)
		abort();
	return p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t mac1[6] = {0x00, 0x16, 0x3e, 0, 0, 1},
			     mac2[6] = {0x00, 0x16, 0x3e, 0, 0, 2};
	const char *names[] = {"web1", "web2", "uplink", NULL};
	struct flt_ct_config cc = {.max_entries = 256}; /* small: eviction gets exercised */
	struct nb_bridge_config bc = {.sw = {.max_entries = 64, .seed = 1}};
	char *err = NULL;

	(void)argc;
	(void)argv;
	if (test_ruleset_from_text(rules, names, NULL, &rs, &err) < 0) {
		fprintf(stderr, "fuzz_frame_path: the ruleset did not load (root needed):\n%s",
			err ? err : "?");
		abort();
	}
	if (flt_ct_table_new(&cc, &ct) < 0)
		abort();
	bc.ct = ct;
	if (nb_bridge_new(&bc, &br) < 0)
		abort();
	/* 10.0.0.11 and 10.0.0.12, in network order. */
	ports[0] = add_port("web1", mac1, htonl(0x0a00000b));
	ports[1] = add_port("web2", mac2, htonl(0x0a00000c));
	ports[2] = add_port("uplink", NULL, 0);
	nb_bridge_ruleset_swap(br, rs);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned queued = 0;

	while (size >= 3) {
		uint8_t hdr = data[0];
		uint32_t flags = 0, len;
		uint16_t gso_size = 0;
		uint8_t gso_type = 0;
		unsigned port = hdr & 3;

		data++, size--;
		if (hdr & 4)
			flags |= NB_FRAME_CSUM_PARTIAL;
		if (hdr & 8) {
			if (size < 3)
				break;
			flags |= NB_FRAME_GSO;
			gso_size = (uint16_t)(data[0] << 8 | data[1]);
			gso_type = data[2];
			data += 3, size -= 3;
		}
		if (size < 2)
			break;
		len = (uint32_t)(data[0] << 8 | data[1]);
		data += 2, size -= 2;
		if (len > size)
			len = (uint32_t)size;
		if (len)
			nb_port_memory_push(ports[port == 3 ? 0 : port], data, len, flags, gso_size,
					    gso_type);
		data += len, size -= len;
		if (++queued % 8 == 0)
			nb_bridge_run_once(br, NULL, 0, 0);
	}
	nb_bridge_run_once(br, NULL, 0, 0);
	return 0;
}
