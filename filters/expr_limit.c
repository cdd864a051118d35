/*
 * limit: the kernel's token bucket (nft_limit.c), in packets or bytes, with burst and
 * "over" (invert), on the hook's clock (flt_hookinfo.now_ns) instead of ktime.
 *
 * The kernel keeps {last, tokens} under a spinlock and computes
 *   tokens' = min(tokens + now - last, max)
 * All of it depends only on base = last - tokens (mod 2^64): tokens + now - last is
 * now - base. So the whole state is one u64, updated with compare-and-swap: no lock.
 *
 * Two differences from the kernel's arithmetic, both because workers stamp packets
 * with the time their own turn began (flt_hookinfo.now_ns), not one clock read under
 * a lock: a @now a little behind the last packet's means no tokens (the kernel's u64
 * would wrap to a full bucket), and the bucket starts full at its first packet rather
 * than at load (the same thing, as tokens never exceed the burst), so no clock is
 * read at load and any hook clock works.
 */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <stdatomic.h>

#include "filters/expr.h"

#define NSEC_PER_SEC		1000000000ull
#define LIMIT_PKT_BURST_DEFAULT 5 /* NFT_LIMIT_PKT_BURST_DEFAULT */

#define LIMIT_FULL 0 /* base before the first packet: a full bucket */

struct limit_priv {
	_Atomic uint64_t base; /* last - tokens; LIMIT_FULL before the first packet */
	uint64_t tokens_max, rate, nsecs, cost;
	bool bytes, invert;
};

static int limit_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct limit_priv *p = flt_expr_priv(e);
	uint64_t unit = nftnl_expr_get_u64(nle, NFTNL_EXPR_LIMIT_UNIT);
	uint32_t burst = nftnl_expr_get_u32(nle, NFTNL_EXPR_LIMIT_BURST);
	uint32_t type = nftnl_expr_get_u32(nle, NFTNL_EXPR_LIMIT_TYPE);
	uint32_t flags = nftnl_expr_get_u32(nle, NFTNL_EXPR_LIMIT_FLAGS);
	uint64_t tokens, rate_burst, tmp;

	p->rate = nftnl_expr_get_u64(nle, NFTNL_EXPR_LIMIT_RATE);
	if (p->rate == 0)
		return flt_compile_fail(cc, -EINVAL, "a limit of rate 0");
	if (type != NFT_LIMIT_PKTS && type != NFT_LIMIT_PKT_BYTES)
		return flt_compile_fail(cc, -EOPNOTSUPP, "limit type %u", type);
	if (flags & ~NFT_LIMIT_F_INV)
		return flt_compile_fail(cc, -EOPNOTSUPP, "limit flags 0x%x", flags);
	p->bytes = type == NFT_LIMIT_PKT_BYTES;
	p->invert = flags & NFT_LIMIT_F_INV;
	if (__builtin_mul_overflow(unit, NSEC_PER_SEC, &p->nsecs))
		return flt_compile_fail(cc, -EOVERFLOW, "a limit per %llu seconds",
					(unsigned long long)unit);
	if (!p->bytes && burst == 0)
		burst = LIMIT_PKT_BURST_DEFAULT;
	if (__builtin_add_overflow(p->rate, (uint64_t)burst, &rate_burst))
		return flt_compile_fail(cc, -EOVERFLOW, "a limit burst of %u", burst);
	if (!p->bytes) {
		if (__builtin_mul_overflow(p->nsecs / p->rate, (uint64_t)burst, &tokens))
			return flt_compile_fail(cc, -EOVERFLOW, "a limit burst of %u", burst);
		p->cost = p->nsecs / p->rate;
	} else {
		if (__builtin_mul_overflow(p->nsecs, rate_burst, &tmp))
			return flt_compile_fail(cc, -EOVERFLOW, "a limit burst of %u", burst);
		tokens = tmp / p->rate;
	}
	p->tokens_max = tokens;
	atomic_init(&p->base, LIMIT_FULL);
	return 0;
}

static void limit_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	struct limit_priv *p = flt_expr_priv(e);
	uint64_t now = pc->hi->now_ns, base, tokens, left, next;
	uint64_t cost = p->bytes ? p->nsecs * pc->pkt->len / p->rate : p->cost;
	bool over;

	base = atomic_load_explicit(&p->base, memory_order_relaxed);
	do {
		if (base == LIMIT_FULL)
			tokens = p->tokens_max;
		else /* another worker may have spent tokens later than @now: none left */
			tokens = (int64_t)(now - base) < 0 ? 0 : now - base;
		if (tokens > p->tokens_max)
			tokens = p->tokens_max;
		over = (int64_t)(tokens - cost) < 0;
		left = over ? tokens : tokens - cost;
		next = now - left;
		if (next == LIMIT_FULL)
			next = 1; /* one nanosecond of tokens less, not a full bucket */
	} while (!atomic_compare_exchange_weak_explicit(&p->base, &base, next, memory_order_relaxed,
							memory_order_relaxed));
	/* Under the rate: the rule goes on, unless inverted ("limit rate over"). */
	if (over != p->invert)
		regs->verdict.code = FLT_NFT_BREAK;
}

const struct flt_expr_ops flt_expr_limit_ops = {
	.name = "limit",
	.size = sizeof(struct limit_priv),
	.compile = limit_compile,
	.eval = limit_eval,
	.describe = flt_expr_describe_effect,
};
