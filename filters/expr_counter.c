/*
 * counter: count packets and bytes (the L3 length, skb->len at the hook) of every
 * packet reaching it, as nft_counter_eval. The counts start at what the kernel dumped
 * (a rule may say "counter packets 5 bytes 300") and are atomics: workers share them.
 */
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <stdatomic.h>

#include "filters/expr.h"

struct counter_priv {
	_Atomic uint64_t packets, bytes;
};

static int counter_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct counter_priv *p = flt_expr_priv(e);

	(void)cc;
	atomic_init(&p->packets, nftnl_expr_get_u64(nle, NFTNL_EXPR_CTR_PACKETS));
	atomic_init(&p->bytes, nftnl_expr_get_u64(nle, NFTNL_EXPR_CTR_BYTES));
	return 0;
}

static void counter_eval(const struct flt_expr *e, struct flt_regs *regs,
			 const struct flt_pktctx *pc)
{
	struct counter_priv *p = flt_expr_priv(e);

	(void)regs;
	atomic_fetch_add_explicit(&p->packets, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->bytes, pc->pkt->len, memory_order_relaxed);
}

void flt_expr_counter_read(const struct flt_expr *e, uint64_t *packets, uint64_t *bytes)
{
	struct counter_priv *p = flt_expr_priv(e);

	*packets = atomic_load_explicit(&p->packets, memory_order_relaxed);
	*bytes = atomic_load_explicit(&p->bytes, memory_order_relaxed);
}

const struct flt_expr_ops flt_expr_counter_ops = {
	.name = "counter",
	.size = sizeof(struct counter_priv),
	.compile = counter_compile,
	.eval = counter_eval,
	.describe = flt_expr_describe_effect,
};
