/*
 * bench_classify: vifwall's first-packet classification (flt_classify, no flow cache)
 * on a ClassBench set translated to nft (classbench.py nft) and its trace
 * (classbench.py trace), with the reference evaluator and with the fast path; and the
 * cost of a flow cache hit (flt_classify_fc on a warm cache) on the same trace.
 *
 *   bench_classify [-m both|fast|reference|fc] [-n PKTS] [-r REFPKTS] [-R REFRUNS]
 *                  [-F FCFLOWS] [-b BURST] RULES.nft TRACE.pcap [RUNS]
 *
 * Frames are parsed once up front; each run classifies every parsed frame in order
 * (the first PKTS with -n), BURST (default 32, at most 256) at a time through
 * flt_classify_burst, as the bridge's rx bursts would and as bench_acl calls
 * rte_acl_classify (64); -b 1 calls flt_classify per packet. Prints one line per
 * evaluator: load time (the kernel's load of the file and the compile, fast path
 * included), the fast path's own build time,
 * median/min/max ns per packet over the runs, and a match checksum computed as
 * bench_acl computes it (rule index in handle order + 1, 0 for a policy), so all
 * classifiers can be compared on the same trace. The reference evaluator is slow on
 * 10k rules: -r limits it to the first REFPKTS packets and -R to REFRUNS runs; the fast
 * path then also prints its checksum over those packets ("first=").
 *
 * The fast line also carries the flow cache's numbers. Every packet of a ClassBench
 * trace is a flow of its own, so a cache is filled with the first FCFLOWS (default
 * 256: entries that stay in the CPU caches, the cost of the hit itself) packets and
 * each run classifies those again and again, as many packets as the trace has:
 * fc_median is ns per hit, fc_min the fastest run (the least disturbed on a busy
 * machine; fc_hitrate says they all hit). fc_all_median is
 * the same with the whole trace as the working set (every packet a different flow,
 * the table far beyond the CPU caches, some buckets over-full): the worst case.
 * fc_agree says every cached verdict equals the fast path's.
 *
 * `-m fast -n N` with RUNS 1 is the form run under callgrind: the classify loop is
 * bench_loop(), for --toggle-collect; `-m fc -n N` with RUNS 1 fills the cache with
 * the first N packets (at most FCFLOWS) outside, then runs them again, all hits, in
 * bench_loop_fc().
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

#include "filters/classify_burst.h"
#include "filters/flowcache.h"
#include "filters/packet.h"
#include "filters/ruleset.h"

#define BENCH_MAX_BURST 256

struct trace {
	struct flt_pkt *pkts;
	struct flt_pkt **ptrs; /* &pkts[i], for flt_classify_burst */
	unsigned burst;	       /* packets per bench_loop call of flt_classify_burst (-b) */
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
	if (!t->pkts || !t->frames)
		return -ENOMEM;
	t->ptrs = malloc((t->n ? t->n : 1) * sizeof(*t->ptrs));
	if (!t->ptrs)
		return -ENOMEM;
	for (unsigned i = 0; i < t->n; i++)
		t->ptrs[i] = &t->pkts[i];
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The classify loop, kept out of line so callgrind can collect exactly it. With
 * @burst > 1, flt_classify_burst over bursts of that many packets (as the bridge's
 * rx bursts would, and as bench_acl calls rte_acl_classify); 1: flt_classify. */
__attribute__((noinline)) void bench_loop(const struct flt_ruleset *rs, const struct trace *t,
					  unsigned n, const struct flt_hookinfo *hi,
					  uint64_t *handles, unsigned burst);
__attribute__((noinline)) void bench_loop(const struct flt_ruleset *rs, const struct trace *t,
					  unsigned n, const struct flt_hookinfo *hi,
					  uint64_t *handles, unsigned burst)
{
	const struct flt_hookinfo *his[BENCH_MAX_BURST];
	struct flt_verdict v[BENCH_MAX_BURST];

	if (burst <= 1) {
		for (unsigned i = 0; i < n; i++) {
			flt_classify(rs, NULL, &t->pkts[i], hi, &v[0]);
			handles[i] = v[0].rule_handle;
		}
		return;
	}
	for (unsigned i = 0; i < burst; i++)
		his[i] = hi;
	for (unsigned i = 0; i < n; i += burst) {
		unsigned k = n - i < burst ? n - i : burst;

		flt_classify_burst(rs, NULL, (const struct flt_pkt *const *)t->ptrs + i, his, k, v);
		for (unsigned j = 0; j < k; j++)
			handles[i + j] = v[j].rule_handle;
	}
}

/* The same through a flow cache; the hits are what the bench measures. */
__attribute__((noinline)) void bench_loop_fc(const struct flt_ruleset *rs, struct flt_flowcache *fc,
					     const struct trace *t, unsigned n,
					     const struct flt_hookinfo *hi, uint64_t *handles);
__attribute__((noinline)) void bench_loop_fc(const struct flt_ruleset *rs, struct flt_flowcache *fc,
					     const struct trace *t, unsigned n,
					     const struct flt_hookinfo *hi, uint64_t *handles)
{
	struct flt_verdict v;

	for (unsigned i = 0; i < n; i++) {
		flt_classify_fc(rs, NULL, fc, &t->pkts[i], hi, &v);
		handles[i] = v.rule_handle;
	}
}

struct result {
	double load_s, build_s, median, min, max;
	double fc_median, fc_min, fc_hitrate, fc_all_median, fc_all_hitrate;
	bool fc_agree;
	uint64_t sum, sum_first;
	unsigned n;
};

/* Flow cache hits: fill a cache with the first @nflows packets of the trace (each is a
 * flow of its own), then time @runs runs of @reps passes over them, all hits when the
 * cache holds them all (res->fc_hitrate). @want: the fast path's handles, to compare. */
static int run_fc(const struct flt_ruleset *rs, const struct trace *t, unsigned nflows,
		  unsigned reps, unsigned runs, const struct flt_hookinfo *hi, const uint64_t *want,
		  struct result *res)
{
	uint64_t *handles = calloc(nflows ? nflows : 1, sizeof(*handles));
	double *ns = calloc(runs, sizeof(*ns)), t0;
	struct flt_fc_stats before, after;
	struct flt_flowcache *fc;
	uint32_t entries = FLT_FC_DEFAULT_ENTRIES;

	while (entries < 2 * nflows && entries < FLT_FC_MAX_ENTRIES)
		entries <<= 1;
	if (!handles || !ns || flt_fc_new(entries, &fc) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < nflows; i++) { /* the misses, outside bench_loop_fc */
		struct flt_verdict v;

		flt_classify_fc(rs, NULL, fc, &t->pkts[i], hi, &v);
	}
	flt_fc_get_stats(fc, &before);
	for (unsigned r = 0; r < runs; r++) {
		t0 = now_s();
		for (unsigned k = 0; k < reps; k++)
			bench_loop_fc(rs, fc, t, nflows, hi, handles);
		ns[r] = (now_s() - t0) * 1e9 / ((double)nflows * reps);
	}
	flt_fc_get_stats(fc, &after);
	qsort(ns, runs, sizeof(*ns), cmp_double);
	res->fc_median = ns[runs / 2];
	res->fc_min = ns[0];
	res->fc_hitrate = (double)(after.hits - before.hits) / ((double)nflows * reps * runs);
	if (want && memcmp(want, handles, nflows * sizeof(*handles)))
		res->fc_agree = false;
	flt_fc_free(fc);
	free(handles);
	free(ns);
	return 0;
}

static int run_one(const char *nft, enum flt_eval_mode mode, const struct trace *t, unsigned n,
		   unsigned runs, unsigned nfirst, unsigned fcflows, bool fc_only,
		   struct result *res)
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
	if (fc_only) { /* under callgrind: the cache's hits only */
		rc = run_fc(rs, t, n < fcflows ? n : fcflows, 1, runs, &hi, NULL, res);
		flt_ruleset_free(rs);
		free(handles);
		free(ns);
		return rc;
	}
	for (unsigned r = 0; r < runs; r++) {
		t0 = now_s();
		bench_loop(rs, t, n, &hi, handles, t->burst);
		ns[r] = (now_s() - t0) * 1e9 / n;
	}
	qsort(ns, runs, sizeof(*ns), cmp_double);
	res->median = ns[runs / 2];
	res->min = ns[0];
	res->max = ns[runs - 1];
	res->n = n;
	res->fc_agree = true;
	if (mode != FLT_EVAL_REFERENCE) {
		/* the whole trace, every packet a flow: memory-bound, and the table's LRU
		 * thrashes where a bucket holds more flows than ways */
		if (run_fc(rs, t, n, 1, runs, &hi, handles, res) < 0)
			return -ENOMEM;
		res->fc_all_median = res->fc_median;
		res->fc_all_hitrate = res->fc_hitrate;
		/* a working set of fcflows flows, the trace's length in all */
		fcflows = n < fcflows ? n : fcflows;
		if (run_fc(rs, t, fcflows, (n + fcflows - 1) / fcflows, runs, &hi, handles, res) <
		    0)
			return -ENOMEM;
	}

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
	       "median=%.1f min=%.1f max=%.1f matchsum=%016llx first=%016llx burst=%u",
	       mode == FLT_EVAL_REFERENCE ? "reference" : "fast", nr, n, res->load_s, res->build_s,
	       st.fast_dims, st.fast_memory / 1e6, res->median, res->min, res->max,
	       (unsigned long long)res->sum, (unsigned long long)res->sum_first, t->burst);
	if (mode != FLT_EVAL_REFERENCE)
		printf(" fc_flows=%u fc_median=%.1f fc_min=%.1f fc_hitrate=%.4f fc_all_median=%.1f "
		       "fc_all_hitrate=%.4f fc_agree=%s",
		       fcflows, res->fc_median, res->fc_min, res->fc_hitrate, res->fc_all_median,
		       res->fc_all_hitrate, res->fc_agree ? "yes" : "NO");
	printf("\n");
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
	unsigned npkts = 0, refpkts = 0, refruns = 0, fcflows = 256, runs;
	unsigned burst = 32;
	struct trace t;
	struct result fast, ref;
	int c;

	while ((c = getopt(argc, argv, "m:n:r:R:F:b:")) != -1) {
		if (c == 'm')
			mode = optarg;
		else if (c == 'n')
			npkts = (unsigned)atoi(optarg);
		else if (c == 'r')
			refpkts = (unsigned)atoi(optarg);
		else if (c == 'R')
			refruns = (unsigned)atoi(optarg);
		else if (c == 'F' && atoi(optarg) > 0)
			fcflows = (unsigned)atoi(optarg);
		else if (c == 'b' && atoi(optarg) > 0 && atoi(optarg) <= BENCH_MAX_BURST)
			burst = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr,
			"usage: bench_classify [-m both|fast|reference|fc] [-n PKTS] "
			"[-r REFPKTS] [-R REFRUNS] [-F FCFLOWS] [-b BURST] RULES.nft TRACE.pcap "
			"[RUNS]\n");
		return 2;
	}
	runs = argc - optind > 2 ? (unsigned)atoi(argv[optind + 2]) : 11;
	if (runs == 0)
		runs = 1;
	if (read_trace(argv[optind + 1], &t) < 0)
		return 1;
	t.burst = burst;
	if (!npkts || npkts > t.n)
		npkts = t.n;
	if (!refpkts || refpkts > npkts)
		refpkts = npkts;
	if (!strcmp(mode, "fc"))
		return run_one(argv[optind], FLT_EVAL_FAST, &t, npkts, runs, refpkts, fcflows, true,
			       &fast) < 0;
	if (strcmp(mode, "reference") && run_one(argv[optind], FLT_EVAL_FAST, &t, npkts, runs,
						 refpkts, fcflows, false, &fast) < 0)
		return 1;
	if (strcmp(mode, "fast") &&
	    run_one(argv[optind], FLT_EVAL_REFERENCE, &t, refpkts, refruns ? refruns : runs,
		    refpkts, fcflows, false, &ref) < 0)
		return 1;
	return 0;
}
