/*
 * bench_acl: DPDK's ACL library (rte_acl) on a ClassBench filter set and a trace, the
 * reference classifier vifwall's fast path is measured against.
 *
 *   bench_acl SETFILE TRACE.pcap [RUNS]
 *
 * Prints one line: build time, median/min/max ns per packet over RUNS passes of the
 * trace, classified in bursts of 64, and a checksum of the matched filter indexes so
 * two classifiers can be compared on the same trace. Also writes the per-packet match
 * (filter index + 1, 0 for none) to stdout with -v, for cross-checking.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_eal.h>

#define BURST 64

struct tuple {
	uint8_t proto;
	uint32_t src, dst; /* network order, as in the packet */
	uint16_t sport, dport;
} __attribute__((packed));

enum { F_PROTO, F_SRC, F_DST, F_SPORT, F_DPORT, F_COUNT };

RTE_ACL_RULE_DEF(cb_rule, F_COUNT);

static struct rte_acl_field_def field_defs[F_COUNT] = {
	{.type = RTE_ACL_FIELD_TYPE_BITMASK,
	 .size = 1,
	 .field_index = F_PROTO,
	 .input_index = 0,
	 .offset = offsetof(struct tuple, proto)},
	{.type = RTE_ACL_FIELD_TYPE_MASK,
	 .size = 4,
	 .field_index = F_SRC,
	 .input_index = 1,
	 .offset = offsetof(struct tuple, src)},
	{.type = RTE_ACL_FIELD_TYPE_MASK,
	 .size = 4,
	 .field_index = F_DST,
	 .input_index = 2,
	 .offset = offsetof(struct tuple, dst)},
	{.type = RTE_ACL_FIELD_TYPE_RANGE,
	 .size = 2,
	 .field_index = F_SPORT,
	 .input_index = 3,
	 .offset = offsetof(struct tuple, sport)},
	{.type = RTE_ACL_FIELD_TYPE_RANGE,
	 .size = 2,
	 .field_index = F_DPORT,
	 .input_index = 3,
	 .offset = offsetof(struct tuple, dport)},
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_rules(const char *path, struct cb_rule **out, unsigned *n)
{
	FILE *f = fopen(path, "r");
	unsigned cap = 1024, cnt = 0;
	struct cb_rule *r = calloc(cap, sizeof(*r));
	char line[512];

	if (!f || !r)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned a[4], b[4], sl, dl, splo, sphi, dplo, dphi, proto, pmask;

		if (sscanf(line, "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &a[0],
			   &a[1], &a[2], &a[3], &sl, &b[0], &b[1], &b[2], &b[3], &dl, &splo, &sphi,
			   &dplo, &dphi, &proto, &pmask) != 16)
			continue;
		if (cnt == cap) {
			cap *= 2;
			r = realloc(r, cap * sizeof(*r));
		}
		struct cb_rule *x = &r[cnt];
		memset(x, 0, sizeof(*x));
		x->data.category_mask = 1;
		x->data.priority = RTE_ACL_MAX_PRIORITY - cnt; /* first match wins */
		x->data.userdata = cnt + 1;
		x->field[F_PROTO].value.u8 = proto;
		x->field[F_PROTO].mask_range.u8 = pmask;
		x->field[F_SRC].value.u32 = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
		x->field[F_SRC].mask_range.u32 = sl;
		x->field[F_DST].value.u32 = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		x->field[F_DST].mask_range.u32 = dl;
		x->field[F_SPORT].value.u16 = splo;
		x->field[F_SPORT].mask_range.u16 = sphi;
		x->field[F_DPORT].value.u16 = dplo;
		x->field[F_DPORT].mask_range.u16 = dphi;
		cnt++;
	}
	fclose(f);
	*out = r;
	*n = cnt;
	return 0;
}

/* The 5-tuple of each IPv4 frame of the trace, as rte_acl reads it (network order). */
static int read_trace(const char *path, struct tuple **out, unsigned *n)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned cap = 1 << 16, cnt = 0;
	struct tuple *t = malloc(cap * sizeof(*t));

	if (!p) {
		fprintf(stderr, "bench_acl: %s: %s\n", path, err);
		return -EINVAL;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (h->caplen < 14 + 20 + 4 || d[12] != 0x08 || d[13] != 0)
			continue;
		const u_char *ip = d + 14, *l4 = ip + (ip[0] & 15) * 4;
		if (cnt == cap) {
			cap *= 2;
			t = realloc(t, cap * sizeof(*t));
		}
		t[cnt].proto = ip[9];
		memcpy(&t[cnt].src, ip + 12, 4);
		memcpy(&t[cnt].dst, ip + 16, 4);
		memcpy(&t[cnt].sport, l4, 2);
		memcpy(&t[cnt].dport, l4 + 2, 2);
		cnt++;
	}
	pcap_close(p);
	*out = t;
	*n = cnt;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *eal_argv[] = {"bench_acl", "--no-huge", "--no-pci",    "--no-shconf", "-l", "0",
			    "-m",	 "512",	      "--log-level", "error",	    NULL};
	struct rte_acl_param prm = {.name = "vifwall-bench",
				    .socket_id = SOCKET_ID_ANY,
				    .rule_size = RTE_ACL_RULE_SZ(F_COUNT)};
	struct rte_acl_config cfg = {.num_categories = 1, .num_fields = F_COUNT};
	unsigned nrules = 0, npkts = 0, runs = argc > 3 ? atoi(argv[3]) : 10;
	int verbose = getenv("BENCH_VERBOSE") != NULL;
	struct cb_rule *rules = NULL;
	struct tuple *trace = NULL;
	double t0, build_s;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_acl SETFILE TRACE.pcap [RUNS]\n");
		return 2;
	}
	if (rte_eal_init(10, eal_argv) < 0) {
		fprintf(stderr, "bench_acl: rte_eal_init failed\n");
		return 1;
	}
	if (parse_rules(argv[1], &rules, &nrules) < 0 || read_trace(argv[2], &trace, &npkts) < 0)
		return 1;
	prm.max_rule_num = nrules;
	memcpy(cfg.defs, field_defs, sizeof(field_defs));

	t0 = now_s();
	struct rte_acl_ctx *ctx = rte_acl_create(&prm);
	if (!ctx || rte_acl_add_rules(ctx, (struct rte_acl_rule *)rules, nrules) ||
	    rte_acl_build(ctx, &cfg)) {
		fprintf(stderr, "bench_acl: building the ACL failed\n");
		return 1;
	}
	build_s = now_s() - t0;

	const uint8_t **data = malloc(npkts * sizeof(*data));
	uint32_t *res = calloc(npkts, sizeof(*res));
	double *ns = calloc(runs, sizeof(*ns));
	for (unsigned i = 0; i < npkts; i++)
		data[i] = (const uint8_t *)&trace[i];
	for (unsigned r = 0; r < runs; r++) {
		t0 = now_s();
		for (unsigned i = 0; i < npkts; i += BURST) {
			unsigned n = npkts - i < BURST ? npkts - i : BURST;
			rte_acl_classify(ctx, data + i, res + i, n, 1);
		}
		ns[r] = (now_s() - t0) * 1e9 / npkts;
	}
	uint64_t sum = 0;
	for (unsigned i = 0; i < npkts; i++) {
		sum = sum * 31 + res[i];
		if (verbose)
			printf("%u\n", res[i]);
	}
	qsort(ns, runs, sizeof(*ns), cmp_double);
	printf("rte_acl rules=%u packets=%u build=%.2fs ns/pkt median=%.1f min=%.1f max=%.1f "
	       "matchsum=%016llx\n",
	       nrules, npkts, build_s, ns[runs / 2], ns[0], ns[runs - 1], (unsigned long long)sum);
	rte_acl_free(ctx);
	rte_eal_cleanup();
	return 0;
}
