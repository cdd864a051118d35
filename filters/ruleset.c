/*
 * flt_ruleset_load and friends: the glue from a file to a classifier. The kernel judges
 * the file in a private namespace (netns_load.c), we dump what it accepted (rule_dump.c,
 * set*.c), pair rules with their lines in the file (source.c), compile (compile.c),
 * and close the namespace. Also the non-IP policy and conntrack around the chains
 * in flt_classify (and flt_classify_fc, the same through the flow cache).
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filters/conntrack.h"
#include "filters/fastpath.h"
#include "filters/flowcache.h"
#include "filters/netns_load.h"
#include "filters/rule_dump.h"
#include "filters/ruleset_internal.h"
#include "filters/set.h"
#include "filters/source.h"
#include "filters/log.h"

#define ETH_P_ARP_ 0x0806

static int ports_copy(struct flt_ruleset *rs, const char *const *ports, const uint32_t *ifindex)
{
	uint32_t n = 0;

	while (ports && ports[n])
		n++;
	rs->ports = calloc(n ? n : 1, sizeof(*rs->ports));
	if (!rs->ports)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		snprintf(rs->ports[i].name, sizeof(rs->ports[i].name), "%s", ports[i]);
		rs->ports[i].ifindex = ifindex[i];
	}
	rs->nports = n;
	return 0;
}

/* flt_setlist_resolve_chains callback: verdict map targets to chain indexes. */
static int resolve_chain(void *arg, const char *chain, uint32_t *index)
{
	struct flt_compile cc = {.rs = arg};
	int i = flt_compile_chain_find(&cc, chain);

	if (i < 0)
		return i;
	*index = (uint32_t)i;
	return 0;
}

/* Attach file:line:text to every rule. Without a usable map, rules keep line 0 and
 * messages name handles only: the ruleset still loads. */
static void source_attach(struct flt_ruleset *rs, const struct flt_dump *d)
{
	const struct flt_src_rule **out = NULL;
	struct flt_src_key *keys = NULL;
	char *err = NULL;
	int rc;

	rc = flt_source_scan(rs->file, &rs->source, &err);
	if (rc < 0)
		goto out;
	keys = calloc(d->nrules ? d->nrules : 1, sizeof(*keys));
	out = calloc(d->nrules ? d->nrules : 1, sizeof(*out));
	if (!keys || !out)
		goto out;
	for (size_t i = 0; i < d->nrules; i++) {
		keys[i].chain = d->rules[i].chain;
		keys[i].handle = d->rules[i].handle;
	}
	rc = flt_source_match(rs->source, "inet", FLT_TABLE_NAME, keys, d->nrules, out, &err);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < d->nrules; i++) {
		struct flt_rule *r = (struct flt_rule *)flt_ruleset_rule_find(rs, keys[i].handle);

		if (r && out[i]) {
			r->file = out[i]->file;
			r->line = out[i]->line;
			r->text = out[i]->text;
		}
	}
out:
	if (err)
		flt_log(&rs->log, LOG_WARNING, "%s: rules are reported by handle only: %s",
			rs->file, err);
	free(err);
	free(keys);
	free(out);
}

/* Named counters move into the ruleset, where objref expressions find them. */
static int counters_copy(struct flt_ruleset *rs, struct flt_dump *d)
{
	rs->counters = calloc(d->ncounters ? d->ncounters : 1, sizeof(*rs->counters));
	if (!rs->counters)
		return -ENOMEM;
	for (size_t i = 0; i < d->ncounters; i++) {
		rs->counters[i].name = d->counters[i].name;
		d->counters[i].name = NULL;
		atomic_init(&rs->counters[i].packets, d->counters[i].packets);
		atomic_init(&rs->counters[i].bytes, d->counters[i].bytes);
	}
	rs->ncounters = (uint32_t)d->ncounters;
	return 0;
}

/* Everything after the namespace: dumps, compile. Consumes nothing of @nl_fd. */
static int ruleset_build(struct flt_ruleset *rs, int nl_fd, char **err)
{
	struct flt_dump d;
	int rc;

	rc = flt_dump_table(nl_fd, FLT_TABLE_NAME, &d, err);
	if (rc < 0)
		return rc;
	rc = counters_copy(rs, &d);
	if (rc < 0)
		goto out;
	rc = flt_setlist_dump(nl_fd, FLT_TABLE_NAME, &rs->sets, err);
	if (rc < 0)
		goto out;
	rc = flt_compile_chains(rs, &d, err);
	if (rc < 0)
		goto out;
	rc = flt_setlist_resolve_chains(rs->sets, resolve_chain, rs, err);
	if (rc < 0)
		goto out;
	source_attach(rs, &d);
	rc = flt_compile_rules(rs, &d, err);
out:
	flt_dump_release(&d);
	return rc;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The fast path, unless the caller (or VIFWALL_EVAL=reference, for tests and benches
 * that compare the two) asks for the reference evaluator. */
static int fast_attach(struct flt_ruleset *rs, enum flt_eval_mode mode)
{
	const char *env = getenv("VIFWALL_EVAL");
	uint64_t t0;
	int rc;

	if (mode == FLT_EVAL_REFERENCE ||
	    (mode == FLT_EVAL_DEFAULT && env && !strcmp(env, "reference")))
		return 0;
	t0 = mono_ns();
	rc = flt_fast_build(rs, &rs->fast);
	rs->fast_build_ns = mono_ns() - t0;
	if (rc == 0 && !rs->fast)
		flt_log(&rs->log, LOG_INFO,
			"%s: rules read registers they did not write: reference evaluator only",
			rs->file);
	return rc;
}

int flt_ruleset_load(const struct flt_load_opts *opts, struct flt_ruleset **out, char **err)
{
	struct flt_ruleset *rs;
	uint32_t *ifindex = NULL;
	size_t nports = 0;
	int nl_fd = -1, rc;

	*out = NULL;
	if (err)
		*err = NULL;
	while (opts->ports && opts->ports[nports])
		nports++;
	rs = calloc(1, sizeof(*rs));
	ifindex = calloc(nports ? nports : 1, sizeof(*ifindex));
	if (!rs || !ifindex || !(rs->file = strdup(opts->path))) {
		rc = -ENOMEM;
		goto fail;
	}
	if (opts->log)
		rs->log = *opts->log;
	else
		rs->log.max_level = LOG_DEBUG;
	rc = flt_netns_load(opts->path, opts->ports, ifindex, &nl_fd, err);
	if (rc < 0)
		goto fail;
	rc = ports_copy(rs, opts->ports, ifindex);
	if (rc == 0)
		rc = ruleset_build(rs, nl_fd, err);
	close(nl_fd);
	if (rc == 0)
		rc = fast_attach(rs, opts->eval);
	if (rc < 0)
		goto fail;
	free(ifindex);
	*out = rs;
	return 0;
fail:
	if (rc == -ENOMEM && err && !*err)
		flt_err_set(err, "vifwall: out of memory loading %s\n", opts->path);
	free(ifindex);
	flt_ruleset_free(rs);
	return rc;
}

void flt_ruleset_free(struct flt_ruleset *rs)
{
	if (!rs)
		return;
	flt_fast_free(rs->fast);
	for (uint32_t c = 0; c < rs->nchains; c++) {
		struct flt_chain *ch = &rs->chains[c];

		for (uint32_t i = 0; ch->rules && i < ch->nrules; i++) {
			for (uint32_t e = 0; e < ch->rules[i].nexprs; e++)
				flt_expr_free(ch->rules[i].exprs[e]);
			free(ch->rules[i].exprs);
		}
		free(ch->rules);
		free(ch->name);
	}
	free(rs->chains);
	for (uint32_t i = 0; i < rs->ncounters; i++)
		free(rs->counters[i].name);
	free(rs->counters);
	flt_setlist_free(rs->sets);
	flt_source_free(rs->source);
	free(rs->ports);
	free(rs->file);
	free(rs);
}

void flt_ruleset_get_stats(const struct flt_ruleset *rs, struct flt_ruleset_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->chains = rs->nchains;
	for (uint32_t c = 0; c < rs->nchains; c++)
		st->rules += rs->chains[c].nrules;
	if (rs->sets) {
		st->sets = flt_setlist_count_named(rs->sets);
		st->elements = (unsigned)flt_setlist_elements_named(rs->sets);
	}
	if (rs->fast) {
		struct flt_fast_stats fs;

		flt_fast_get_stats(rs->fast, &fs);
		st->fast_chains = fs.chains;
		st->fast_dims = fs.dims;
		st->fast_memory = fs.memory;
		st->fast_build_ns = rs->fast_build_ns;
	}
}

int flt_ruleset_rule_src(const struct flt_ruleset *rs, uint64_t handle, struct flt_rule_src *src)
{
	const struct flt_rule *r = flt_ruleset_rule_find(rs, handle);

	if (!r)
		return -ENOENT;
	src->file = r->file ? r->file : rs->file;
	src->line = r->line;
	src->text = r->text ? r->text : "";
	return 0;
}

int flt_ruleset_rule_counter(const struct flt_ruleset *rs, uint64_t handle, uint64_t *packets,
			     uint64_t *bytes)
{
	const struct flt_rule *r = flt_ruleset_rule_find(rs, handle);
	int found = -ENOENT;

	*packets = *bytes = 0;
	if (!r)
		return -ENOENT;
	for (uint32_t i = 0; i < r->nexprs; i++) {
		uint64_t p, b;

		if (strcmp(r->exprs[i]->ops->name, "counter"))
			continue;
		flt_expr_counter_read(r->exprs[i], &p, &b);
		*packets += p;
		*bytes += b;
		found = 0;
	}
	return found == 0 ? 0 : -ENODATA;
}

uint32_t flt_ruleset_ifindex(const struct flt_ruleset *rs, const char *port)
{
	for (uint32_t i = 0; i < rs->nports; i++)
		if (!strncmp(rs->ports[i].name, port, FLT_IFNAMSIZ))
			return rs->ports[i].ifindex;
	return 0;
}

bool flt_ruleset_uses_ct(const struct flt_ruleset *rs)
{
	return rs->uses_ct;
}

/* The chain walk, through the flow cache when there is one. */
static inline void hook_eval(struct flt_flowcache *fc, const struct flt_pktctx *pc,
			     const struct flt_fc_key *key, struct flt_verdict *v)
{
	if (fc)
		flt_fc_eval_key(fc, pc, key, v);
	else
		flt_eval_hook(pc, v);
}

void flt_classify(const struct flt_ruleset *rs, struct flt_ct_table *ct, const struct flt_pkt *pkt,
		  const struct flt_hookinfo *hi, struct flt_verdict *v)
{
	flt_classify_fc(rs, ct, NULL, pkt, hi, v);
}

void flt_classify_fc(const struct flt_ruleset *rs, struct flt_ct_table *ct,
		     struct flt_flowcache *fc, const struct flt_pkt *pkt,
		     const struct flt_hookinfo *hi, struct flt_verdict *v)
{
	flt_classify_fc_key(rs, ct, fc, pkt, hi, NULL, v);
}

void flt_classify_fc_prefetch(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			      struct flt_flowcache *fc, const struct flt_pkt *pkt,
			      const struct flt_hookinfo *hi, struct flt_fc_key *key)
{
	struct flt_pktctx pc = {.rs = rs, .pkt = pkt, .hi = hi};

	key->klen = 0;
	if (!fc || pkt->status != FLT_PKT_IP || (rs->uses_ct && ct))
		return;
	flt_fc_key_build(fc, &pc, key);
}

void flt_classify_fc_key(const struct flt_ruleset *rs, struct flt_ct_table *ct,
			 struct flt_flowcache *fc, const struct flt_pkt *pkt,
			 const struct flt_hookinfo *hi, const struct flt_fc_key *key,
			 struct flt_verdict *v)
{
	struct flt_pktctx pc = {.rs = rs, .pkt = pkt, .hi = hi};
	struct flt_ct_pkt cp;

	if (pkt->status != FLT_PKT_IP) {
		/* Not for nf_tables: the kernel's IP stack never sees these. ARP goes on
		 * (anti-spoofing checks it elsewhere), everything else is dropped. */
		memset(v, 0, sizeof(*v));
		v->code = pkt->status == FLT_PKT_L2 && pkt->proto == ETH_P_ARP_ ? FLT_ACCEPT
										: FLT_DROP;
		return;
	}
	if (!rs->uses_ct || !ct) {
		hook_eval(fc, &pc, key, v);
		return;
	}
	flt_ct_in(ct, pkt, hi->now_ns, &cp);
	if (cp.drop) {
		/* Conntrack itself dropped it (table full...): no rule ever ran. */
		memset(v, 0, sizeof(*v));
		v->code = FLT_DROP;
	} else {
		pc.cp = &cp;
		hook_eval(fc, &pc, NULL, v);
	}
	flt_ct_confirm(ct, &cp, v->code == FLT_ACCEPT);
}

unsigned flt_ruleset_rule_handles(const struct flt_ruleset *rs, uint64_t *handles, unsigned max)
{
	unsigned n = 0;

	for (uint32_t c = 0; c < rs->nchains; c++)
		for (uint32_t r = 0; r < rs->chains[c].nrules; r++, n++)
			if (n < max)
				handles[n] = rs->chains[c].rules[r].handle;
	return n;
}
