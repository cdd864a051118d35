/*
 * The inside of a struct flt_ruleset: chains of compiled rules, the sets they look
 * up, the port names the loader saw, and where each rule came from. Built by
 * compile.c / ruleset.c, read by eval.c. Nothing here changes after load except the
 * atomics inside expressions (counters, limits).
 */
#ifndef VIFWALL_FILTERS_RULESET_INTERNAL_H
#define VIFWALL_FILTERS_RULESET_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "filters/expr.h"
#include "filters/log.h"
#include "filters/ruleset.h"

struct flt_setlist;
struct flt_source;
struct flt_dump;
struct flt_fast;

struct flt_rule {
	uint64_t handle;
	uint32_t nexprs;
	struct flt_expr **exprs;
	/* Where the rule came from (owned by the ruleset's source map); line 0 and
	 * NULL strings when unknown. */
	const char *file, *text;
	unsigned line;
};

struct flt_chain {
	char *name;
	uint64_t handle;
	bool base;
	enum flt_hook hook; /* base chains only */
	int32_t prio;
	int policy; /* FLT_NF_ACCEPT or FLT_NF_DROP; base chains only */
	uint32_t nrules;
	struct flt_rule *rules;
};

#define FLT_MAX_BASE_CHAINS 8 /* per hook */

/* A named counter object; objref expressions of any rule point at it. */
struct flt_named_counter {
	char *name;
	_Atomic uint64_t packets, bytes;
};

struct flt_port {
	char name[FLT_IFNAMSIZ];
	uint32_t ifindex;
};

struct flt_ruleset {
	char *file;
	struct flt_logger log; /* copied from the load options; log expressions use it */
	uint32_t nchains;
	struct flt_chain *chains;
	/* Base chains of each hook in the kernel's order: priority, then creation. */
	uint32_t nbase[FLT_HOOK_COUNT];
	uint32_t base[FLT_HOOK_COUNT][FLT_MAX_BASE_CHAINS];
	struct flt_setlist *sets;
	struct flt_source *source;
	bool uses_ct;
	uint32_t ncounters;
	struct flt_named_counter *counters;
	uint32_t nports;
	struct flt_port *ports;
	/* The fast path (fastpath.h); NULL: every walk uses the reference evaluator. */
	struct flt_fast *fast;
	uint64_t fast_build_ns;
};

/* Build the chains of @rs from @d: names, hooks, policies, and one empty rule slot
 * per dumped rule (handle only). Refuses chains vifwall cannot run (nat, hooks other
 * than forward/input/output). Returns 0 or -errno with *err (malloc'd) set. */
int flt_compile_chains(struct flt_ruleset *rs, const struct flt_dump *d, char **err);

/* Compile the expressions of every rule of @d into the slots flt_compile_chains made
 * (rule sources already attached, for messages). Returns 0 or -errno with *err. */
int flt_compile_rules(struct flt_ruleset *rs, const struct flt_dump *d, char **err);

/* The rule of @rs with @handle, or NULL. */
const struct flt_rule *flt_ruleset_rule_find(const struct flt_ruleset *rs, uint64_t handle);

/* Free one compiled expression. */
void flt_expr_free(struct flt_expr *e);

/* Run @pkt (IP) through the base chains of @pc->hi->hook: nft_do_chain once per base
 * chain, in priority order, stopping at the first drop. Fills @v. Uses the fast path
 * when @pc->rs has one (the same verdicts, counters and limits, by construction). */
void flt_eval_hook(const struct flt_pktctx *pc, struct flt_verdict *v);

#endif
