/*
 * From the kernel's dump to the evaluator's program: chains with their hooks and
 * policies, base chains ordered per hook as netfilter orders them, and each rule's
 * expressions compiled by their own ops (expr_table.c). A rule vifwall cannot execute
 * exactly is refused with its file:line, handle, text and the construct named.
 */
#define _GNU_SOURCE /* vasprintf */
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "filters/rule_dump.h"
#include "filters/ruleset_internal.h"
#include "filters/log.h"

#define SEE_DOCS "remove it or see docs/rules.md"

int flt_compile_chain_find(const struct flt_compile *cc, const char *name)
{
	const struct flt_ruleset *rs = cc->rs;

	for (uint32_t i = 0; i < rs->nchains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return (int)i;
	return -ENOENT;
}

static int chain_hook(const struct flt_dump_chain *dc, const char *file, char **err)
{
	static const char *const names[] = {"prerouting", "input",	 "forward",
					    "output",	  "postrouting", "ingress"};
	const char *hn = dc->hooknum < 6 ? names[dc->hooknum] : "?";

	if (dc->type && strcmp(dc->type, "filter") && strcmp(dc->type, "route")) {
		flt_err_set(err,
			    "%s: chain '%s' is of type %s: vifwall runs filter chains only; "
			    "" SEE_DOCS "\n",
			    file, dc->name, dc->type);
		return -EOPNOTSUPP;
	}
	switch (dc->hooknum) {
	case NF_INET_FORWARD:
		return FLT_HOOK_FORWARD;
	case NF_INET_LOCAL_IN:
		return FLT_HOOK_INPUT;
	case NF_INET_LOCAL_OUT:
		return FLT_HOOK_OUTPUT;
	default:
		flt_err_set(err,
			    "%s: chain '%s' hooks %s: vifwall runs the forward, input and "
			    "output hooks only; " SEE_DOCS "\n",
			    file, dc->name, hn);
		return -EOPNOTSUPP;
	}
}

/* Netfilter calls hooks by ascending priority; equal priorities in registration order,
 * which is chain creation order, i.e. handle order. */
static void base_sort(struct flt_ruleset *rs, enum flt_hook h)
{
	uint32_t *b = rs->base[h];

	for (uint32_t i = 1; i < rs->nbase[h]; i++) {
		uint32_t x = b[i], j = i;
		const struct flt_chain *cx = &rs->chains[x];

		while (j > 0) {
			const struct flt_chain *cp = &rs->chains[b[j - 1]];

			if (cp->prio < cx->prio ||
			    (cp->prio == cx->prio && cp->handle < cx->handle))
				break;
			b[j] = b[j - 1];
			j--;
		}
		b[j] = x;
	}
}

static int chain_index(const struct flt_ruleset *rs, const char *name)
{
	struct flt_compile cc = {.rs = (struct flt_ruleset *)rs};

	return flt_compile_chain_find(&cc, name);
}

int flt_compile_chains(struct flt_ruleset *rs, const struct flt_dump *d, char **err)
{
	uint32_t *cursor;
	int hook, ci;

	rs->chains = calloc(d->nchains ? d->nchains : 1, sizeof(*rs->chains));
	if (!rs->chains)
		return -ENOMEM;
	for (size_t i = 0; i < d->nchains; i++) {
		const struct flt_dump_chain *dc = &d->chains[i];
		struct flt_chain *c = &rs->chains[i];

		c->name = strdup(dc->name);
		if (!c->name)
			return -ENOMEM;
		rs->nchains++;
		c->handle = dc->handle;
		c->base = dc->base;
		if (!c->base)
			continue;
		hook = chain_hook(dc, rs->file, err);
		if (hook < 0)
			return hook;
		if (rs->nbase[hook] == FLT_MAX_BASE_CHAINS) {
			flt_err_set(err, "%s: more than %d base chains on one hook\n", rs->file,
				    FLT_MAX_BASE_CHAINS);
			return -EOPNOTSUPP;
		}
		c->hook = (enum flt_hook)hook;
		c->prio = dc->prio;
		c->policy = dc->policy == NF_DROP ? FLT_NF_DROP : FLT_NF_ACCEPT;
		rs->base[hook][rs->nbase[hook]++] = (uint32_t)i;
	}
	for (int h = 0; h < FLT_HOOK_COUNT; h++)
		base_sort(rs, (enum flt_hook)h);

	/* One slot per rule, in dump (evaluation) order within each chain. */
	for (size_t i = 0; i < d->nrules; i++) {
		ci = chain_index(rs, d->rules[i].chain);
		if (ci < 0) {
			flt_err_set(err, "%s: rule handle %llu in unknown chain '%s'\n", rs->file,
				    (unsigned long long)d->rules[i].handle, d->rules[i].chain);
			return -EPROTO;
		}
		rs->chains[ci].nrules++;
	}
	cursor = calloc(rs->nchains ? rs->nchains : 1, sizeof(*cursor));
	if (!cursor)
		return -ENOMEM;
	for (uint32_t c = 0; c < rs->nchains; c++) {
		rs->chains[c].rules = calloc(rs->chains[c].nrules ? rs->chains[c].nrules : 1,
					     sizeof(struct flt_rule));
		if (!rs->chains[c].rules) {
			free(cursor);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < d->nrules; i++) {
		ci = chain_index(rs, d->rules[i].chain);
		rs->chains[ci].rules[cursor[ci]++].handle = d->rules[i].handle;
	}
	free(cursor);
	return 0;
}

/* "FILE:LINE: rule handle H 'TEXT'" or, without a source map, "FILE: rule handle H in
 * chain C". */
static void rule_where(const struct flt_ruleset *rs, const struct flt_rule *r, const char *chain,
		       char *buf, size_t len)
{
	if (r->line)
		snprintf(buf, len, "%s:%u: rule handle %llu '%s'", r->file, r->line,
			 (unsigned long long)r->handle, r->text);
	else
		snprintf(buf, len, "%s: rule handle %llu in chain %s", rs->file,
			 (unsigned long long)r->handle, chain);
}

static int rule_compile(struct flt_ruleset *rs, uint32_t ci, struct flt_rule *r,
			const struct flt_dump_rule *dr, char **err)
{
	struct flt_compile cc = {.rs = rs, .chain = ci};
	struct nftnl_expr_iter *it;
	struct nftnl_expr *nle;
	char where[1024];
	uint32_t n = 0;
	int rc = 0;

	rule_where(rs, r, rs->chains[ci].name, where, sizeof(where));
	if (!dr->nlr) {
		flt_err_set(err, "%s: vifwall cannot execute the '%s' expression; " SEE_DOCS "\n",
			    where, dr->unparsed_expr);
		return -EOPNOTSUPP;
	}
	it = nftnl_expr_iter_create(dr->nlr);
	if (!it)
		return -ENOMEM;
	while (nftnl_expr_iter_next(it))
		n++;
	nftnl_expr_iter_destroy(it);
	r->exprs = calloc(n ? n : 1, sizeof(*r->exprs));
	it = nftnl_expr_iter_create(dr->nlr);
	if (!r->exprs || !it) {
		if (it)
			nftnl_expr_iter_destroy(it);
		return -ENOMEM;
	}
	while (rc == 0 && (nle = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(nle, NFTNL_EXPR_NAME);
		const struct flt_expr_ops *ops = flt_expr_ops_find(name);
		struct flt_expr *e;

		if (!ops || !ops->compile) {
			flt_err_set(err,
				    "%s: vifwall cannot execute the '%s' expression; " SEE_DOCS
				    "\n",
				    where, name ? name : "?");
			rc = -EOPNOTSUPP;
			break;
		}
		e = calloc(1, sizeof(*e) + ops->size);
		if (!e) {
			rc = -ENOMEM;
			break;
		}
		e->ops = ops;
		rc = ops->compile(e, nle, &cc);
		if (rc < 0) {
			flt_err_set(err, "%s: vifwall cannot execute %s; " SEE_DOCS "\n", where,
				    cc.why[0] ? cc.why : "it");
			/* Not counted in nexprs: destroy() may not run on half a compile. */
			free(e);
			break;
		}
		r->exprs[r->nexprs++] = e;
	}
	nftnl_expr_iter_destroy(it);
	if (cc.uses_ct)
		rs->uses_ct = true;
	return rc;
}

int flt_compile_rules(struct flt_ruleset *rs, const struct flt_dump *d, char **err)
{
	uint32_t *cursor = calloc(rs->nchains ? rs->nchains : 1, sizeof(*cursor));
	int rc = 0;

	if (!cursor)
		return -ENOMEM;
	for (size_t i = 0; i < d->nrules && rc == 0; i++) {
		int ci = chain_index(rs, d->rules[i].chain);
		struct flt_rule *r = &rs->chains[ci].rules[cursor[ci]++];

		rc = rule_compile(rs, (uint32_t)ci, r, &d->rules[i], err);
	}
	free(cursor);
	return rc;
}

const struct flt_rule *flt_ruleset_rule_find(const struct flt_ruleset *rs, uint64_t handle)
{
	for (uint32_t c = 0; c < rs->nchains; c++)
		for (uint32_t i = 0; i < rs->chains[c].nrules; i++)
			if (rs->chains[c].rules[i].handle == handle)
				return &rs->chains[c].rules[i];
	return NULL;
}

void flt_expr_free(struct flt_expr *e)
{
	if (!e)
		return;
	if (e->ops->destroy)
		e->ops->destroy(e);
	free(e);
}
