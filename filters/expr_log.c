/*
 * log: report the packet through the ruleset's logger (the kernel's nft_log writes to
 * the kernel log or nfnetlink_log), then go on with the rule. The message carries the
 * rule's prefix and the addresses a reader needs; the level maps onto syslog levels
 * as nft's "log level" does. Logging formats into a stack buffer: nothing allocated.
 */
#include <arpa/inet.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <syslog.h>

#include "filters/expr.h"
#include "filters/ruleset_internal.h"

struct log_priv {
	int level;
	char prefix[128];
};

static int log_compile(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc)
{
	struct log_priv *p = flt_expr_priv(e);
	const char *prefix = nftnl_expr_get_str(nle, NFTNL_EXPR_LOG_PREFIX);

	(void)cc;
	/* nft's default level is warn (4); "audit" (8) and beyond read as notice. */
	p->level = LOG_WARNING;
	if (nftnl_expr_is_set(nle, NFTNL_EXPR_LOG_LEVEL))
		p->level = (int)nftnl_expr_get_u32(nle, NFTNL_EXPR_LOG_LEVEL);
	if (p->level > LOG_DEBUG)
		p->level = LOG_NOTICE;
	if (prefix)
		snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
	return 0;
}

static void log_eval(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc)
{
	const struct log_priv *p = flt_expr_priv(e);
	const struct flt_pkt *pkt = pc->pkt;
	char src[INET6_ADDRSTRLEN] = "?", dst[INET6_ADDRSTRLEN] = "?";
	int af = pkt->nfproto == NFPROTO_IPV6 ? AF_INET6 : AF_INET;
	unsigned alen = af == AF_INET6 ? 16 : 4, aoff = af == AF_INET6 ? 8 : 12;
	const uint8_t *a = flt_pkt_ptr(pkt, pkt->nh + aoff, 2 * alen);

	(void)regs;
	if (a) {
		inet_ntop(af, a, src, sizeof(src));
		inet_ntop(af, a + alen, dst, sizeof(dst));
	}
	flt_log(&pc->rs->log, p->level, "%sIN=%s OUT=%s SRC=%s DST=%s LEN=%u PROTO=%u", p->prefix,
		pc->hi->iifname, pc->hi->oifname, src, dst, pkt->len,
		pkt->flags & FLT_PKT_F_L4 ? pkt->l4proto : 0);
}

const struct flt_expr_ops flt_expr_log_ops = {
	.name = "log",
	.size = sizeof(struct log_priv),
	.compile = log_compile,
	.eval = log_eval,
	.describe = flt_expr_describe_effect,
};
