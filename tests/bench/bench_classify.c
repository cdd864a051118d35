/*
 * bench_classify: vifwall's first-packet classification (flt_classify, no flow cache)
 * on a ClassBench set translated to nft (classbench.py nft) and its trace
 * (classbench.py trace), with the reference evaluator and with the fast path.
 *
 *   bench_classify [-m both|fast|reference] [-n PKTS] [-r REFPKTS] [-R REFRUNS]
 *                  RULES.nft TRACE.pcap [RUNS]
 *
 * Frames are parsed once up front; each run classifies every parsed frame in order
 * (the first PKTS with -n). Prints one line per evaluator: load time (the kernel's load
 * of the file and the compile, fast path included), the fast path's own build time,
 * median/min/max ns per packet over the runs, and a match checksum computed as
 * bench_acl computes it (rule index in handle order + 1, 0 for a policy), so all
 * classifiers can be compared on the same trace. The reference evaluator is slow on
 * 10k rules: -r limits it to the first REFPKTS packets and -R to REFRUNS runs; the fast
 * path then also prints its checksum over those packets ("first=").
 *
 * `-m fast -n N` with RUNS 1 is the form run under callgrind: the classify loop is
 * bench_loop(), for --toggle-collect.
 */
#include <errno.h>
#include <net/if_arp.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filters/packet.h"
#include "filters/ruleset.h"

struct trace {
	struct flt_pkt *pkts;
	uint8_t **frames;
	unsigned n;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int read_trace(const char *path, struct trace *t)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned cap = 1 << 16;

	if (!p) {
		fprintf(stderr, "bench_classify: %s: %s\n", path, err);
		return -EINVAL;
	}
	t->pkts = malloc(cap * sizeof(*t->pkts));
	t->frames = malloc(cap * sizeof(*t->frames));
	t->n = 0;
	while (t->pkts && t->frames && pcap_next_ex(p, &h, &d) == 1) {
		if (t->n == cap) {
			cap *= 2;
			t->pkts = realloc(t->pkts, cap * sizeof(*t->pkts));
			t->frames = realloc(t->frames, cap * sizeof(*t->frames));
			if (!t->pkts || !t->frames)
				break;
		}
		t->frames[t->n] = malloc(h->caplen ? h->caplen : 1);
		if (!t->frames[t->n])
			break;
		memcpy(t->frames[t->n], d, h->caplen);
		flt_pkt_parse(&t->pkts[t->n], t->frames[t->n], h->caplen);
		t->n++;
	}
	pcap_close(p);
	return t->pkts && t->frames ? 0 : -ENOMEM;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The classify loop, kept out of line so callgrind can collect exactly it. */
__attribute__((noinline)) void bench_loop(const struct flt_ruleset *rs, const struct trace *t,
					  unsigned n, const struct flt_hookinfo *hi,
					  uint64_t *handles);
__attribute__((noinline)) void bench_loop(const struct flt_ruleset *rs, const struct trace *t,
					  unsigned n, const struct flt_hookinfo *hi,
					  uint64_t *handles)
{
	struct flt_verdict v;

	for (unsigned i = 0; i < n; i++) {
		flt_classify(rs, NULL, &t->pkts[i], hi, &v);
		handles[i] = v.rule_handle;
	}
}

struct result {
	double load_s, build_s, median, min, max;
	uint64_t sum, sum_first;
	unsigned n;
};

static int run_one(const char *nft, enum flt_eval_mode mode, const struct trace *t, unsigned n,
		   unsigned runs, unsigned nfirst, struct result *res)
{
	struct flt_load_opts o = {.path = nft, .eval = mode};
	struct flt_hookinfo hi = {.hook = FLT_HOOK_FORWARD,
				  .iiftype = ARPHRD_ETHER,
				  .oiftype = ARPHRD_ETHER,
				  .pkttype = PACKET_HOST,
				  .now_ns = 1000000000ull};
	struct flt_ruleset_stats st;
	struct flt_ruleset *rs;
	uint64_t *handles = calloc(n ? n : 1, sizeof(*handles)), *order, maxh = 0;
	double *ns = calloc(runs, sizeof(*ns)), t0;
	uint32_t *index;
	unsigned nr;
	char *err = NULL;
	int rc;

	strcpy(hi.iifname, "vif1.0");
	strcpy(hi.oifname, "uplink");
	t0 = now_s();
	rc = flt_ruleset_load(&o, &rs, &err);
	res->load_s = now_s() - t0;
	if (rc < 0) {
		fprintf(stderr, "bench_classify: %s", err ? err : "load failed\n");
		return rc;
	}
	flt_ruleset_get_stats(rs, &st);
	res->build_s = st.fast_build_ns * 1e-9;
	for (unsigned r = 0; r < runs; r++) {
		t0 = now_s();
		bench_loop(rs, t, n, &hi, handles);
		ns[r] = (now_s() - t0) * 1e9 / n;
	}
	qsort(ns, runs, sizeof(*ns), cmp_double);
	res->median = ns[runs / 2];
	res->min = ns[0];
	res->max = ns[runs - 1];
	res->n = n;

	/* Handle to rule index, as bench_acl numbers filters. */
	nr = flt_ruleset_rule_handles(rs, NULL, 0);
	order = calloc(nr ? nr : 1, sizeof(*order));
	flt_ruleset_rule_handles(rs, order, nr);
	for (unsigned i = 0; i < nr; i++)
		if (order[i] > maxh)
			maxh = order[i];
	index = calloc(maxh + 1, sizeof(*index));
	for (unsigned i = 0; i < nr; i++)
		index[order[i]] = i + 1;
	res->sum = 0;
	for (unsigned i = 0; i < n; i++) {
		res->sum = res->sum * 31 + (handles[i] <= maxh ? index[handles[i]] : 0);
		if (i + 1 == nfirst)
			res->sum_first = res->sum;
	}
	if (getenv("BENCH_VERBOSE"))
		for (unsigned i = 0; i < n; i++)
			printf("%u\n", handles[i] <= maxh ? index[handles[i]] : 0);
	printf("%s rules=%u packets=%u load=%.2fs build=%.3fs dims=%u mem=%.1fMB ns/pkt "
	       "median=%.1f min=%.1f max=%.1f matchsum=%016llx first=%016llx\n",
	       mode == FLT_EVAL_REFERENCE ? "reference" : "fast", nr, n, res->load_s, res->build_s,
	       st.fast_dims, st.fast_memory / 1e6, res->median, res->min, res->max,
	       (unsigned long long)res->sum, (unsigned long long)res->sum_first);
	free(index);
	free(order);
	free(handles);
	free(ns);
	flt_ruleset_free(rs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = "both";
	unsigned npkts = 0, refpkts = 0, refruns = 0, runs;
	struct trace t;
	struct result fast, ref;
	int c;

	while ((c = getopt(argc, argv, "m:n:r:R:")) != -1) {
		if (c == 'm')
			mode = optarg;
		else if (c == 'n')
			npkts = (unsigned)atoi(optarg);
		else if (c == 'r')
			refpkts = (unsigned)atoi(optarg);
		else if (c == 'R')
			refruns = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: bench_classify [-m both|fast|reference] [-n PKTS] "
				"[-r REFPKTS] [-R REFRUNS] RULES.nft TRACE.pcap [RUNS]\n");
		return 2;
	}
	runs = argc - optind > 2 ? (unsigned)atoi(argv[optind + 2]) : 11;
	if (runs == 0)
		runs = 1;
	if (read_trace(argv[optind + 1], &t) < 0)
		return 1;
	if (!npkts || npkts > t.n)
		npkts = t.n;
	if (!refpkts || refpkts > npkts)
		refpkts = npkts;
	if (strcmp(mode, "reference") &&
	    run_one(argv[optind], FLT_EVAL_FAST, &t, npkts, runs, refpkts, &fast) < 0)
		return 1;
	if (strcmp(mode, "fast") && run_one(argv[optind], FLT_EVAL_REFERENCE, &t, refpkts,
					    refruns ? refruns : runs, refpkts, &ref) < 0)
		return 1;
	return 0;
}
