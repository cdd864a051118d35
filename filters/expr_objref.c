/*
 * objref: a rule naming a stateful object, as nft_objref_eval. Only named counters
 * (`counter name "web_hits"`) are run: they count like an anonymous counter, but
 * every rule naming the object adds to the same counts. Other object types (quota,
 * limit, ct helper...) and object maps (`counter name tcp dport map {...}`) are refused.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "filters/expr.h"
#include "filters/ruleset_internal.h"

struct objref_priv {
	struct flt_named_counter *counter;
};

static int objref_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct objref_priv *p = flt_expr_priv(e);
	const char *name;

	if (!nftnl_expr_is_set(nle, NFTNL_EXPR_OBJREF_IMM_NAME))
		return flt_compile_fail(cc, -EOPNOTSUPP, "an object map ('objref' with a set)");
	if (nftnl_expr_get_u32(nle, NFTNL_EXPR_OBJREF_IMM_TYPE) != NFT_OBJECT_COUNTER)
		return flt_compile_fail(cc, -EOPNOTSUPP,
					"stateful objects other than named counters (type %u)",
					nftnl_expr_get_u32(nle, NFTNL_EXPR_OBJREF_IMM_TYPE));
	name = nftnl_expr_get_str(nle, NFTNL_EXPR_OBJREF_IMM_NAME);
	for (uint32_t i = 0; i < cc->rs->ncounters; i++) {
		if (!strcmp(cc->rs->counters[i].name, name)) {
			p->counter = &cc->rs->counters[i];
			return 0;
		}
	}
	/* The kernel refuses a reference to a missing object, so this is a dump race. */
	return flt_compile_fail(cc, -ENOENT, "the counter object '%s', missing from the dump",
				name);
}

static void objref_eval(const struct flt_expr *e, struct flt_regs *regs,
			const struct flt_pktctx *pc)
{
	const struct objref_priv *p = flt_expr_priv(e);

	(void)regs;
	atomic_fetch_add_explicit(&p->counter->packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->counter->bytes, pc->pkt->len, memory_order_relaxed);
}

const struct flt_expr_ops flt_expr_objref_ops = {
	.name = "objref",
	.size = sizeof(struct objref_priv),
	.compile = objref_compile,
	.eval = objref_eval,
	.describe = flt_expr_describe_effect,
};
