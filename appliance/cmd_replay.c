/*
 * vifwall replay: run a capture through a ruleset offline, packet by packet, with one
 * connection tracker, and say what the appliance would have done with each frame and
 * which rule decided. A capture taken on a guest's vif holds both directions: frames
 * from the guest's MAC travel iif->oif, all others oif->iif.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <netinet/ether.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/commands.h"
#include "filters/conntrack.h"
#include "filters/ruleset.h"

struct replay_opts {
	bool json;
	const char *iif, *oif;
	uint8_t iif_mac[ETH_ALEN];
	bool have_iif_mac;
	const char *rules, *capture;
};

struct replay_totals {
	unsigned long packets, verdicts[3];
};

static const char *const verdict_names[] = {
	[FLT_ACCEPT] = "accept",
	[FLT_DROP] = "drop",
	[FLT_REJECT] = "reject",
};

static int parse_args(int argc, char **argv, struct replay_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"iif", required_argument, NULL, 'i'},
		{"oif", required_argument, NULL, 'o'},
		{"iif-mac", required_argument, NULL, 'm'},
		{0},
	};
	struct ether_addr *ea;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'i':
			o->iif = optarg;
			break;
		case 'o':
			o->oif = optarg;
			break;
		case 'm':
			ea = ether_aton(optarg);
			if (!ea) {
				fprintf(stderr,
					"vifwall replay: --iif-mac '%s' is not a MAC address "
					"(write it as 00:16:3e:00:00:01)\n",
					optarg);
				return -EINVAL;
			}
			memcpy(o->iif_mac, ea, ETH_ALEN);
			o->have_iif_mac = true;
			break;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2 || !o->iif || !o->oif) {
		fprintf(stderr, "vifwall replay: need --iif NAME, --oif NAME, RULES.nft and "
				"CAPTURE (see vifwall replay --help)\n");
		return -EINVAL;
	}
	if (strlen(o->iif) >= FLT_IFNAMSIZ || strlen(o->oif) >= FLT_IFNAMSIZ) {
		fprintf(stderr, "vifwall replay: port names are at most %d characters\n",
			FLT_IFNAMSIZ - 1);
		return -EINVAL;
	}
	o->rules = argv[optind];
	o->capture = argv[optind + 1];
	return 0;
}

static uint8_t pkttype_of(const uint8_t *dst)
{
	static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (!memcmp(dst, bcast, ETH_ALEN))
		return PACKET_BROADCAST;
	if (dst[0] & 1)
		return PACKET_MULTICAST;
	return PACKET_HOST;
}

static void print_text(const struct flt_ruleset *rs, unsigned long n, const struct flt_verdict *v)
{
	struct flt_rule_src src;

	printf("%6lu  %-6s  ", n, verdict_names[v->code]);
	if (!v->rule_handle)
		printf("%s%s%s\n", v->chain ? "policy of chain " : "non-IP frame default",
		       v->chain ? v->chain : "", "");
	else if (flt_ruleset_rule_src(rs, v->rule_handle, &src) == 0 && src.line)
		printf("%s:%u  chain %s  %s  (handle %llu)\n", src.file, src.line, v->chain,
		       src.text, (unsigned long long)v->rule_handle);
	else
		printf("chain %s  rule handle %llu\n", v->chain,
		       (unsigned long long)v->rule_handle);
}

static void print_json(unsigned long n, const struct flt_verdict *v)
{
	json_t *o = json_pack(
		"{s:I, s:s, s:o, s:o}", "packet", (json_int_t)n, "verdict", verdict_names[v->code],
		"rule", v->rule_handle ? json_integer((json_int_t)v->rule_handle) : json_null(),
		"chain", v->chain ? json_string(v->chain) : json_null());
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	puts(s);
	free(s);
	json_decref(o);
}

static int replay_capture(const struct replay_opts *o, const struct flt_ruleset *rs,
			  struct flt_ct_table *ct, pcap_t *cap, struct replay_totals *tot)
{
	struct flt_hookinfo fwd = {
		.hook = FLT_HOOK_FORWARD, .iiftype = ARPHRD_ETHER, .oiftype = ARPHRD_ETHER};
	struct flt_hookinfo back = fwd;
	uint8_t iif_mac[ETH_ALEN];
	bool have_mac = o->have_iif_mac;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	memcpy(iif_mac, o->iif_mac, ETH_ALEN);
	strncpy(fwd.iifname, o->iif, FLT_IFNAMSIZ - 1);
	strncpy(fwd.oifname, o->oif, FLT_IFNAMSIZ - 1);
	fwd.iif = flt_ruleset_ifindex(rs, o->iif);
	fwd.oif = flt_ruleset_ifindex(rs, o->oif);
	strncpy(back.iifname, o->oif, FLT_IFNAMSIZ - 1);
	strncpy(back.oifname, o->iif, FLT_IFNAMSIZ - 1);
	back.iif = fwd.oif;
	back.oif = fwd.iif;

	while ((rc = pcap_next_ex(cap, &h, &data)) == 1) {
		struct flt_hookinfo *hi;
		struct flt_verdict v;
		struct flt_pkt pkt;

		tot->packets++;
		flt_pkt_parse(&pkt, data, h->caplen);
		if (!have_mac && h->caplen >= 12) {
			memcpy(iif_mac, data + ETH_ALEN, ETH_ALEN);
			have_mac = true;
		}
		hi = h->caplen >= 12 && !memcmp(data + ETH_ALEN, iif_mac, ETH_ALEN) ? &fwd : &back;
		hi->pkttype = h->caplen >= ETH_ALEN ? pkttype_of(data) : PACKET_HOST;
		hi->now_ns =
			(uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000;
		flt_classify(rs, ct, &pkt, hi, &v);
		tot->verdicts[v.code]++;
		if (o->json)
			print_json(tot->packets, &v);
		else
			print_text(rs, tot->packets, &v);
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "vifwall replay: %s: %s\n", o->capture, pcap_geterr(cap));
		return -EIO;
	}
	return 0;
}

static int replay_run(const struct app_global_opts *g, int argc, char **argv)
{
	struct replay_opts o = {0};
	struct replay_totals tot = {0};
	struct flt_ct_config ctcfg = {.max_entries = 65536};
	struct flt_load_opts lo = {0};
	char errbuf[PCAP_ERRBUF_SIZE];
	struct flt_ct_table *ct = NULL;
	struct flt_ruleset *rs = NULL;
	pcap_t *cap = NULL;
	char *err = NULL;
	int rc = 1;

	(void)g;
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	cap = pcap_open_offline(o.capture, errbuf);
	if (!cap) {
		fprintf(stderr, "vifwall replay: %s: not a readable pcap or pcapng capture (%s)\n",
			o.capture, errbuf);
		return 1;
	}
	if (pcap_datalink(cap) != DLT_EN10MB) {
		fprintf(stderr,
			"vifwall replay: %s: link type %s; vifwall replays Ethernet "
			"captures only (capture on the vif or with tcpdump -i IFACE)\n",
			o.capture, pcap_datalink_val_to_name(pcap_datalink(cap)));
		goto out;
	}
	const char *ports[] = {o.iif, o.oif, NULL};
	lo.path = o.rules;
	lo.ports = ports;
	if (flt_ruleset_load(&lo, &rs, &err) < 0) {
		fprintf(stderr, "%s", err ? err : "vifwall replay: cannot load the ruleset\n");
		goto out;
	}
	if (flt_ct_table_new(&ctcfg, &ct) < 0) {
		fprintf(stderr, "vifwall replay: cannot allocate the connection table\n");
		goto out;
	}
	if (replay_capture(&o, rs, ct, cap, &tot) < 0)
		goto out;
	if (!o.json)
		printf("%lu packets: %lu accepted, %lu dropped, %lu rejected\n", tot.packets,
		       tot.verdicts[FLT_ACCEPT], tot.verdicts[FLT_DROP], tot.verdicts[FLT_REJECT]);
	rc = 0;
out:
	free(err);
	if (ct)
		flt_ct_table_free(ct);
	if (rs)
		flt_ruleset_free(rs);
	pcap_close(cap);
	return rc;
}

const struct app_cmd app_cmd_replay = {
	.name = "replay",
	.summary = "run a capture through a ruleset: verdict and deciding rule per packet",
	.usage = "replay [--json] --iif NAME --oif NAME [--iif-mac MAC] RULES.nft CAPTURE",
	.help = "Runs every packet of CAPTURE (pcap or pcapng, Ethernet) in order through the\n"
		"forward chain of RULES.nft with one connection tracker. Frames whose Ethernet\n"
		"source is the iif port's MAC travel iif->oif, all others oif->iif.\n\n"
		"  --iif NAME      the port the capture was taken on (a guest's vifname)\n"
		"  --oif NAME      the port on the other side (e.g. uplink)\n"
		"  --iif-mac MAC   the iif guest's MAC (default: source of the first frame)\n"
		"  --json          one JSON object per packet:\n"
		"                  {\"packet\": N, \"verdict\": \"accept\"|\"drop\"|\"reject\",\n"
		"                   \"rule\": HANDLE or null (policy), \"chain\": NAME}\n",
	.run = replay_run,
};
