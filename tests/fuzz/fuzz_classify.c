/*
 * libFuzzer target for the whole classify path on guest frames: parse, connection
 * tracking, the forward chain (payload loads at every base, sets, maps, verdict maps,
 * jumps, limit, counters, ct keys). A fixed ruleset exercising those expressions is
 * loaded once (through the kernel, so this needs root); every input is one frame, its
 * first byte choosing the direction, run with one connection tracker that lives across
 * inputs so sequences build state. Any crash, out-of-bounds read or UB is a finding.
 * Seeds: the packet parser's corpus (tests/fuzz/corpus/classify/ links to it).
 */
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "tests/lib/nft_text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules[] =
	"table inet vifwall {\n"
	"  set allowed { type ipv4_addr . inet_service; flags interval;\n"
	"    elements = { 10.0.0.0/8 . 1-1024, 192.168.0.0/16 . 80 } }\n"
	"  set v6nets { type ipv6_addr; flags interval; elements = { fd00::/8, 2001:db8::/32 } }\n"
	"  map marks { type inet_service : mark; elements = { 22 : 1, 80 : 2 } }\n"
	"  counter hits { }\n"
	"  chain forward {\n"
	"    type filter hook forward priority 0; policy drop;\n"
	"    ct state invalid counter drop\n"
	"    ct state established,related accept\n"
	"    meta mark set tcp dport map @marks\n"
	"    meta mark 1 counter name hits\n"
	"    ether saddr 00:16:3e:00:00:01 ip saddr . tcp dport @allowed accept\n"
	"    ip6 saddr @v6nets udp dport { 53, 123 } accept\n"
	"    tcp flags & (syn | ack) == syn limit rate 5/second burst 10 packets accept\n"
	"    ip protocol vmap { icmp : jump icmp4, udp : jump udp4 }\n"
	"    meta l4proto ipv6-icmp icmpv6 type { echo-request, nd-neighbor-solicit } accept\n"
	"    iifname \"web*\" th dport 8000-9000 reject with tcp reset\n"
	"    ip dscp cs1 ip length > 100 meta length < 1400 accept\n"
	"    ip6 flowlabel 0x12345 ip6 nexthdr tcp reject\n"
	"  }\n"
	"  chain icmp4 {\n"
	"    icmp type echo-request icmp code 0 accept\n"
	"    icmp type destination-unreachable ct direction reply accept\n"
	"    return\n"
	"  }\n"
	"  chain udp4 {\n"
	"    udp length < 20 drop\n"
	"    udp sport 67 udp dport 68 ct status seen-reply accept\n"
	"    goto icmp4\n"
	"  }\n"
	"}\n";

static struct flt_ruleset *rs;
static struct flt_ct_table *ct;
static uint64_t now_ns = 1000000000ull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *ports[] = {"web1", "uplink", NULL};
	struct flt_ct_config cc = {.max_entries = 256}; /* small: eviction gets exercised */
	char *err = NULL;

	(void)argc;
	(void)argv;
	if (test_ruleset_from_text(rules, ports, NULL, &rs, &err) < 0) {
		fprintf(stderr, "fuzz_classify: the ruleset did not load (root needed):\n%s",
			err ? err : "?");
		abort();
	}
	if (flt_ct_table_new(&cc, &ct) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
				  .iiftype = ARPHRD_ETHER,
				  .oiftype = ARPHRD_ETHER,
				  .pkttype = PACKET_HOST};
	struct flt_verdict v;
	struct flt_pkt pkt;
	uint8_t *frame;

	if (size < 1)
		return 0;
	/* An exact-size copy so ASan sees any read past the frame. */
	frame = malloc(size - 1 ? size - 1 : 1);
	memcpy(frame, data + 1, size - 1);
	if (data[0] & 1) {
		strcpy(hi.iifname, "web1");
		strcpy(hi.oifname, "uplink");
	} else {
		strcpy(hi.iifname, "uplink");
		strcpy(hi.oifname, "web1");
	}
	hi.iif = flt_ruleset_ifindex(rs, hi.iifname);
	hi.oif = flt_ruleset_ifindex(rs, hi.oifname);
	hi.mark = data[0] >> 4;
	now_ns += (uint64_t)(data[0] & 0x0e) * 100000000ull; /* time moves: limits, timeouts */
	hi.now_ns = now_ns;
	flt_pkt_parse(&pkt, frame, (uint32_t)(size - 1));
	flt_classify(rs, ct, &pkt, &hi, &v);
	if (v.code > FLT_REJECT)
		abort();
	free(frame);
	return 0;
}
