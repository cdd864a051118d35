/*
 * libFuzzer target for the flow cache on guest frames: every input is one frame (its
 * first byte choosing direction, mark and how far time moves), classified twice, by
 * flt_classify on one copy of a fixed ruleset and by flt_classify_fc on another, each
 * copy with its own connection tracker and both living across inputs so flows repeat
 * and build state. The cache's key reads header bytes of untrusted frames (copied to
 * an exact-size buffer, so ASan sees any read past them); any crash, out-of-bounds
 * read, UB, or verdict that differs from plain classification is a finding. The
 * ruleset is loaded through the kernel (root needed). Inputs of odd size are classified
 * without the trackers, the cached side the bridge's way: key built ahead of the lookup
 * (flt_classify_fc_prefetch). Seeds: the packet parser's corpus.
 */
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filters/conntrack.h"
#include "filters/flowcache.h"
#include "filters/ruleset.h"
#include "tests/lib/nft_text.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loads at every base and of every kind the key plan knows, guarded and not. */
static const char rules[] =
	"table inet vifwall {\n"
	"  set allowed { type ipv4_addr . inet_service; flags interval;\n"
	"    elements = { 10.0.0.0/8 . 1-1024, 192.168.0.0/16 . 80 } }\n"
	"  counter hits { }\n"
	"  chain forward {\n"
	"    type filter hook forward priority 0; policy drop;\n"
	"    ct state invalid counter drop\n"
	"    ct state established,related counter accept\n"
	"    meta mark set tcp dport map { 22 : 1, 80 : 2 }\n"
	"    meta mark 1 counter name hits\n"
	"    ether saddr 00:16:3e:00:00:01 ip saddr . tcp dport @allowed counter accept\n"
	"    ip6 saddr fd00::/8 udp dport { 53, 123 } accept\n"
	"    tcp flags & (syn | ack) == syn tcp dport 443 counter accept\n"
	"    tcp flags & (syn | ack) == syn limit rate 5/second burst 10 packets accept\n"
	"    ip protocol vmap { icmp : jump icmp4, udp : jump udp4 }\n"
	"    iifname \"web*\" th dport 8000-9000 reject with tcp reset\n"
	"    ip dscp cs1 ip length > 100 meta length < 1400 accept\n"
	"    ip6 hoplimit 1 log prefix \"hl \" drop\n"
	"    @th,96,16 0x5010 counter accept\n"
	"  }\n"
	"  chain icmp4 {\n"
	"    icmp type echo-request icmp code 0 counter accept\n"
	"    icmp type destination-unreachable ct direction reply accept\n"
	"    return\n"
	"  }\n"
	"  chain udp4 {\n"
	"    udp length < 20 drop\n"
	"    udp sport 67 udp dport 68 ct status seen-reply accept\n"
	"    goto icmp4\n"
	"  }\n"
	"}\n";

static struct flt_ruleset *rs[2];
static struct flt_ct_table *ct[2];
static struct flt_flowcache *fc;
static uint64_t now_ns = 1000000000ull;

static void quiet(void *arg, int level, const char *msg)
{
	(void)arg;
	(void)level;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *ports[] = {"web1", "uplink", NULL};
	struct flt_logger lg = {.fn = quiet, .max_level = 7};
	struct flt_ct_config cc = {.max_entries = 256}; /* small: eviction gets exercised */
	char *err = NULL;

	(void)argc;
	(void)argv;
	for (int i = 0; i < 2; i++) {
		if (test_ruleset_from_text(rules, ports, &lg, &rs[i], &err) < 0) {
			fprintf(stderr,
				"fuzz_flowcache: the ruleset did not load (root needed):\n%s",
				err ? err : "?");
			abort();
		}
		if (flt_ct_table_new(&cc, &ct[i]) < 0)
			abort();
	}
	if (flt_fc_new(64, &fc) < 0) /* small: buckets overflow, LRU eviction runs */
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flt_verdict v[2];
	struct flt_pkt pkt;
	uint8_t *frame;

	if (size < 1)
		return 0;
	/* An exact-size copy so ASan sees any read past the frame. */
	frame = malloc(size - 1 ? size - 1 : 1);
	memcpy(frame, data + 1, size - 1);
	now_ns += (uint64_t)(data[0] & 0x0e) * 100000000ull; /* time moves: limits, timeouts */
	flt_pkt_parse(&pkt, frame, (uint32_t)(size - 1));
	for (int i = 0; i < 2; i++) {
		struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
					  .iiftype = ARPHRD_ETHER,
					  .oiftype = ARPHRD_ETHER,
					  .pkttype = PACKET_HOST,
					  .mark = data[0] >> 4,
					  .now_ns = now_ns};

		strcpy(hi.iifname, data[0] & 1 ? "web1" : "uplink");
		strcpy(hi.oifname, data[0] & 1 ? "uplink" : "web1");
		hi.iif = flt_ruleset_ifindex(rs[i], hi.iifname);
		hi.oif = flt_ruleset_ifindex(rs[i], hi.oifname);
		if (size % 2) {
			/* Without a tracker (ct loads break), so that the cached side can
			 * build the key ahead of the lookup, as the bridge does. */
			struct flt_fc_key key;

			if (!i) {
				flt_classify(rs[i], NULL, &pkt, &hi, &v[i]);
				continue;
			}
			flt_classify_fc_prefetch(rs[i], NULL, fc, &pkt, &hi, &key);
			flt_classify_fc_key(rs[i], NULL, fc, &pkt, &hi, &key, &v[i]);
		} else {
			flt_classify_fc(rs[i], ct[i], i ? fc : NULL, &pkt, &hi, &v[i]);
		}
	}
	if (v[0].code != v[1].code || v[0].rule_handle != v[1].rule_handle ||
	    v[0].reject_type != v[1].reject_type || v[0].reject_icmp_code != v[1].reject_icmp_code)
		abort(); /* the cache changed a verdict */
	free(frame);
	return 0;
}
