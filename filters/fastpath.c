/*
 * The fast path's classifiers: one bit-vector classifier (bvcls.c) per chain, over the
 * predicates fast_pred.c derives from each rule's side-effect-free start, and the
 * run-time half that gathers a packet's dimension values and asks for candidates.
 *
 * Only the FLT_BVCLS_MAX_DIMS dimensions tested by the most rules of a chain are
 * kept; predicates on the others are dropped, which keeps every rule's predicate a
 * superset of what gets past its start (and hence the skip exact). Values are
 * computed by the rules' own load and transform expressions on scratch registers, so
 * a value is what the rule would see, and "absent" is exactly when the rule's load
 * would break.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "filters/fast_internal.h"
#include "filters/fastpath.h"
#include "filters/ruleset_internal.h"

struct fp_run_dim {
	uint8_t width, nprog, reg;
	/* A plain payload load or meta nfproto/l4proto (no transform) is read straight
	 * from the packet, as payload_eval and meta_eval read it, instead of through the
	 * expression. */
	uint8_t direct, offset; /* enum fp_direct; offset: of the payload */
	const struct flt_expr *prog[FP_MAX_PROG];
	const struct flt_expr *narrow;
};

enum fp_direct {
	FP_RUN_PROG = 0, /* run prog */
	FP_RUN_LL,	 /* payload, NFT_PAYLOAD_LL_HEADER */
	FP_RUN_NH,	 /* payload, NFT_PAYLOAD_NETWORK_HEADER */
	FP_RUN_TH,	 /* payload, NFT_PAYLOAD_TRANSPORT_HEADER */
	FP_RUN_NFPROTO,	 /* meta nfproto */
	FP_RUN_L4PROTO,	 /* meta l4proto */
};

struct fp_chain {
	struct flt_bvcls *cls; /* NULL: walk with the reference evaluator */
	/* Every dimension is read straight from the packet (fp_run_dim.direct), at most 4
	 * bytes: gather_direct() reads them all without a switch per dimension. */
	bool direct;
	uint32_t *start; /* per rule: first expression to run once it is a candidate */
	int8_t *verdict; /* per rule: flt_fast_verdict */
	unsigned ndims;
	bool narrow; /* every dimension fits 32 bits: flt_bvcls_locate32 */
	struct fp_run_dim dims[FLT_BVCLS_MAX_DIMS];
};

struct flt_fast {
	uint32_t nchains;
	struct fp_chain *chains;
	struct flt_fast_stats st;
};

/* Dimensions by use, most used first (ties: first seen first, for stable builds). */
static int by_uses(const void *a, const void *b, void *arg)
{
	const struct fp_dim *d = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (d[x].uses != d[y].uses)
		return d[x].uses > d[y].uses ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Can @rd be read straight from the packet (fp_run_dim.direct)? */
static void direct_read(struct fp_run_dim *rd)
{
	struct flt_expr_desc d;

	rd->direct = FP_RUN_PROG;
	if (rd->nprog != 1)
		return;
	memset(&d, 0, sizeof(d));
	rd->prog[0]->ops->describe(rd->prog[0], &d);
	if (d.kind != FLT_XK_LOAD || d.dlen != rd->width || d.dreg != rd->reg)
		return;
	if (d.src == FLT_XS_META && d.dlen == 1 && d.key == NFT_META_NFPROTO)
		rd->direct = FP_RUN_NFPROTO;
	if (d.src == FLT_XS_META && d.dlen == 1 && d.key == NFT_META_L4PROTO)
		rd->direct = FP_RUN_L4PROTO;
	if (d.src != FLT_XS_PAYLOAD || d.arg < 0 || d.arg > 255)
		return;
	rd->offset = (uint8_t)d.arg;
	if (d.key == NFT_PAYLOAD_LL_HEADER)
		rd->direct = FP_RUN_LL;
	if (d.key == NFT_PAYLOAD_NETWORK_HEADER)
		rd->direct = FP_RUN_NH;
	if (d.key == NFT_PAYLOAD_TRANSPORT_HEADER)
		rd->direct = FP_RUN_TH;
}

static int chain_classifier(struct fp_chain *fc, const struct fp_dimtab *tab,
			    const struct fp_rule_pred *rp, uint32_t nrules)
{
	uint32_t *order = NULL;
	int32_t *map = NULL;
	uint8_t widths[FLT_BVCLS_MAX_DIMS];
	struct flt_bvcls_builder *b = NULL;
	unsigned nd = 0;
	int rc = -ENOMEM;

	order = malloc((tab->n ? tab->n : 1) * sizeof(*order));
	map = malloc((tab->n ? tab->n : 1) * sizeof(*map));
	if (!order || !map)
		goto out;
	for (uint32_t i = 0; i < tab->n; i++) {
		order[i] = i;
		map[i] = -1;
	}
	fc->direct = true;
	qsort_r(order, tab->n, sizeof(*order), by_uses, tab->dims);
	for (uint32_t i = 0; i < tab->n && nd < FLT_BVCLS_MAX_DIMS; i++) {
		const struct fp_dim *d = &tab->dims[order[i]];
		struct fp_run_dim *rd = &fc->dims[nd];

		if (!d->uses)
			break;
		rd->width = d->width;
		rd->nprog = d->nprog;
		rd->reg = d->reg;
		memcpy(rd->prog, d->prog, sizeof(rd->prog));
		/* Only a merged dimension can be cut short inside its width. */
		rd->narrow = d->min_len < d->width ? d->narrow : NULL;
		direct_read(rd);
		fc->direct &= rd->direct != FP_RUN_PROG && rd->width <= 4;
		widths[nd] = d->width;
		map[order[i]] = (int32_t)nd++;
	}
	fc->ndims = nd;
	fc->start = calloc(nrules ? nrules : 1, sizeof(*fc->start));
	rc = fc->start ? flt_bvcls_builder_new(nd, widths, nrules, &b) : -ENOMEM;
	for (uint32_t r = 0; r < nrules && rc == 0; r++) {
		bool exact = rp[r].exact;

		if (rp[r].never) {
			rc = flt_bvcls_rule_never(b, r);
			continue;
		}
		for (uint32_t k = 0; k < rp[r].npreds && rc == 0; k++) {
			const struct fp_pred *p = &rp[r].preds[k];
			int32_t d = map[p->dim];
			unsigned sh;

			if (d < 0) {
				exact = false; /* the classifier does not check this one */
				continue;
			}
			sh = 8 * (16 - widths[d]);
			for (uint32_t j = 0; j < p->n && rc == 0; j++)
				rc = flt_bvcls_rule_range(b, r, (unsigned)d, p->lo[j] >> sh,
							  p->hi[j] >> sh);
		}
		/* A candidate's start is then known to pass: run the rest only. */
		if (exact)
			fc->start[r] = rp[r].start;
	}
	if (rc == 0)
		rc = flt_bvcls_build(b, &fc->cls);
	if (rc == 0)
		fc->narrow = flt_bvcls_narrow(fc->cls);
out:
	flt_bvcls_builder_free(b);
	free(order);
	free(map);
	return rc;
}

extern const struct flt_expr_ops flt_expr_immediate_ops;

/* Rule @r's verdict when all that runs of it once it is a candidate (from @start) is
 * one immediate accept or drop; -1 otherwise. */
static int8_t rule_verdict(const struct flt_rule *r, uint32_t start)
{
	const struct flt_expr *e;
	struct flt_regs regs;

	if (start == 0 || start + 1 != r->nexprs)
		return -1;
	e = r->exprs[start];
	if (e->ops != &flt_expr_immediate_ops)
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.verdict.code = FLT_NFT_CONTINUE;
	e->ops->eval(e, &regs, NULL); /* an immediate reads nothing of the packet */
	return regs.verdict.code == FLT_NF_ACCEPT || regs.verdict.code == FLT_NF_DROP
		       ? (int8_t)regs.verdict.code
		       : -1;
}

/* Derive every rule's predicate of chain @c; count dimension uses; build. Returns 0,
 * -ENOTSUP (the ruleset cannot have a fast path) or -ENOMEM. */
static int chain_build(struct fp_chain *fc, const struct flt_chain *c)
{
	struct fp_rule_pred *rp = calloc(c->nrules ? c->nrules : 1, sizeof(*rp));
	struct fp_dimtab tab = {0};
	int rc = rp ? 0 : -ENOMEM;

	for (uint32_t r = 0; r < c->nrules && rc == 0; r++)
		rc = fp_rule_derive(c->rules[r].exprs, c->rules[r].nexprs, &tab, &rp[r]);
	for (uint32_t r = 0; r < c->nrules && rc == 0; r++)
		for (uint32_t k = 0; k < rp[r].npreds; k++)
			tab.dims[rp[r].preds[k].dim].uses++;
	if (rc == 0)
		rc = chain_classifier(fc, &tab, rp, c->nrules);
	if (rc == 0) {
		fc->verdict = malloc(c->nrules ? c->nrules : 1);
		rc = fc->verdict ? 0 : -ENOMEM;
	}
	for (uint32_t r = 0; r < c->nrules && rc == 0; r++)
		fc->verdict[r] = rule_verdict(&c->rules[r], fc->start[r]);
	free(tab.dims);
	free(rp);
	return rc;
}

int flt_fast_build(const struct flt_ruleset *rs, struct flt_fast **out)
{
	struct flt_fast *f = calloc(1, sizeof(*f));
	int rc = 0;

	*out = NULL;
	if (!f)
		return -ENOMEM;
	f->chains = calloc(rs->nchains ? rs->nchains : 1, sizeof(*f->chains));
	if (!f->chains) {
		free(f);
		return -ENOMEM;
	}
	f->nchains = rs->nchains;
	for (uint32_t c = 0; c < rs->nchains && rc == 0; c++) {
		rc = chain_build(&f->chains[c], &rs->chains[c]);
		if (rc == 0) {
			f->st.chains++;
			f->st.dims += f->chains[c].ndims;
			f->st.memory += flt_bvcls_memory(f->chains[c].cls);
		}
	}
	if (rc < 0) {
		flt_fast_free(f);
		return rc == -ENOTSUP ? 0 : rc;
	}
	*out = f;
	return 0;
}

void flt_fast_free(struct flt_fast *f)
{
	if (!f)
		return;
	for (uint32_t c = 0; c < f->nchains; c++) {
		flt_bvcls_free(f->chains[c].cls);
		free(f->chains[c].start);
		free(f->chains[c].verdict);
	}
	free(f->chains);
	free(f);
}

void flt_fast_get_stats(const struct flt_fast *f, struct flt_fast_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (f)
		*st = f->st;
}

/* Run @d's expressions on scratch registers. Returns 1 and *v, 0 when the field is
 * absent (a load broke), -1 when only a shorter prefix load of a merged payload
 * dimension would have worked (the classifier cannot answer exactly). */
static int dim_value(const struct fp_run_dim *d, const struct flt_pktctx *pc, flt_u128 *v)
{
	const struct flt_pkt *pkt = pc->pkt;
	struct flt_regs r;

	if (d->direct) {
		/* payload_eval's and meta_eval's checks, without the register round trip. */
		const uint8_t *src = NULL;

		switch (d->direct) {
		case FP_RUN_NFPROTO:
			*v = pkt->nfproto;
			return 1;
		case FP_RUN_L4PROTO:
			*v = pkt->l4proto;
			return (pkt->flags & FLT_PKT_F_L4) != 0;
		case FP_RUN_LL:
			src = flt_pkt_ptr(pkt, d->offset, d->width);
			break;
		case FP_RUN_NH:
			src = flt_pkt_ptr(pkt, (uint32_t)pkt->nh + d->offset, d->width);
			break;
		default:
			if ((pkt->flags & FLT_PKT_F_L4) && !pkt->fragoff)
				src = flt_pkt_ptr(pkt, pkt->th + d->offset, d->width);
			break;
		}
		if (src) {
			*v = flt_bvcls_value(src, d->width);
			return 1;
		}
		if (!d->narrow)
			return 0;
	}
	r.verdict.code = FLT_NFT_CONTINUE;
	r.mark = pc->hi->mark;
	for (unsigned i = 0; i < d->nprog; i++) {
		d->prog[i]->ops->eval(d->prog[i], &r, pc);
		if (r.verdict.code != FLT_NFT_CONTINUE)
			goto absent;
	}
	*v = flt_bvcls_value((const uint8_t *)&r.data[d->reg], d->width);
	return 1;
absent:
	if (!d->narrow)
		return 0;
	r.verdict.code = FLT_NFT_CONTINUE;
	d->narrow->ops->eval(d->narrow, &r, pc);
	return r.verdict.code == FLT_NFT_CONTINUE ? -1 : 0;
}

/* dim_value for a dimension of at most 4 bytes, as a 32-bit word: the packet path's
 * common case, without 128-bit values. Same returns. */
static inline int dim_value32(const struct fp_run_dim *d, const struct flt_pktctx *pc, uint32_t *v)
{
	const struct flt_pkt *pkt = pc->pkt;
	const uint8_t *src = NULL;
	flt_u128 w;
	int rc;

	switch (d->direct) {
	case FP_RUN_NFPROTO:
		*v = pkt->nfproto;
		return 1;
	case FP_RUN_L4PROTO:
		*v = pkt->l4proto;
		return (pkt->flags & FLT_PKT_F_L4) != 0;
	case FP_RUN_NH:
		src = flt_pkt_ptr(pkt, (uint32_t)pkt->nh + d->offset, d->width);
		break;
	case FP_RUN_TH:
		if ((pkt->flags & FLT_PKT_F_L4) && !pkt->fragoff)
			src = flt_pkt_ptr(pkt, pkt->th + d->offset, d->width);
		break;
	default:
		break;
	}
	if (src) {
		*v = (uint32_t)flt_bvcls_value(src, d->width);
		return 1;
	}
	rc = dim_value(d, pc, &w); /* everything else, and the absent cases */
	*v = (uint32_t)w;
	return rc;
}

/* The values of a chain whose dimensions are all direct (fp_chain.direct), as
 * dim_value32 gives them; same returns, but for all dimensions: -1 when one of them
 * needs the reference evaluator. Each read is "offset + width within the limit of its
 * base": the limits fold in payload_eval's checks (a transport header only when
 * there is one and this is not a later fragment) and meta l4proto's. */
static inline int gather_direct(const struct fp_chain *fc, const struct flt_pktctx *pc, uint32_t *v,
				uint32_t *absent)
{
	const struct flt_pkt *pkt = pc->pkt;
	uint32_t end = flt_pkt_end(pkt), th = pkt->th;
	bool l4 = (pkt->flags & FLT_PKT_F_L4) != 0;
	/* by enum fp_direct: LL, NH, TH, NFPROTO, L4PROTO (the last two in the struct) */
	const uint8_t *base[FP_RUN_L4PROTO + 1] = {
		NULL,	       pkt->frame,   pkt->frame + pkt->nh, pkt->frame + th,
		&pkt->nfproto, &pkt->l4proto};
	uint32_t lim[FP_RUN_L4PROTO + 1] = {0,
					    end,
					    end > pkt->nh ? end - pkt->nh : 0,
					    l4 && !pkt->fragoff && th <= end ? end - th : 0,
					    1,
					    l4 ? 1 : 0};

	*absent = 0;
	for (unsigned d = 0; d < fc->ndims; d++) {
		const struct fp_run_dim *rd = &fc->dims[d];
		unsigned off = rd->direct >= FP_RUN_NFPROTO ? 0 : rd->offset;
		const uint8_t *p = base[rd->direct] + off;
		uint32_t x;
		uint16_t y;
		int rc;

		if (__builtin_expect(off + rd->width <= lim[rd->direct], 1)) {
			if (rd->width == 4) {
				memcpy(&x, p, 4);
				v[d] = be32toh(x);
			} else if (rd->width == 2) {
				memcpy(&y, p, 2);
				v[d] = be16toh(y);
			} else {
				v[d] = rd->width == 1 ? p[0] : (p[0] << 16 | p[1] << 8 | p[2]);
			}
			continue;
		}
		rc = dim_value32(rd, pc, &v[d]); /* absent, or a merged prefix cut short */
		if (rc < 0)
			return -1;
		*absent |= (uint32_t)(rc == 0) << d;
	}
	return 0;
}

bool flt_fast_locate(const struct flt_fast *f, uint32_t chain, const struct flt_pktctx *pc,
		     struct flt_bvcls_pos *pos)
{
	const struct fp_chain *fc = &f->chains[chain];
	struct flt_bvcls_key key;
	int rc;

	if (!fc->cls)
		return false;
	if (fc->narrow && fc->direct && fc->ndims) {
		uint32_t v[FLT_BVCLS_MAX_DIMS], absent;

		if (gather_direct(fc, pc, v, &absent) < 0)
			return false;
		flt_bvcls_locate32(fc->cls, v, absent, pos);
		return true;
	}
	if (fc->narrow) {
		uint32_t v[FLT_BVCLS_MAX_DIMS], absent = 0;

		for (unsigned d = 0; d < fc->ndims; d++) {
			rc = dim_value32(&fc->dims[d], pc, &v[d]);
			if (rc < 0)
				return false;
			absent |= (uint32_t)(rc == 0) << d;
		}
		/* with no dimension at all, the classifier's one unused dimension */
		flt_bvcls_locate32(fc->cls, v, fc->ndims ? absent : 1, pos);
		return true;
	}
	key.present[0] = false; /* read even with no dimension */
	key.value[0] = 0;
	for (unsigned d = 0; d < fc->ndims; d++) {
		rc = dim_value(&fc->dims[d], pc, &key.value[d]);
		if (rc < 0)
			return false;
		key.present[d] = rc > 0;
	}
	flt_bvcls_locate(fc->cls, &key, pos);
	return true;
}

uint32_t flt_fast_next(const struct flt_fast *f, uint32_t chain, const struct flt_bvcls_pos *pos,
		       uint32_t from, uint32_t *start)
{
	const struct fp_chain *fc = &f->chains[chain];
	uint32_t r = flt_bvcls_first(fc->cls, pos, from);

	*start = r < FLT_BVCLS_NONE ? fc->start[r] : 0;
	return r;
}

int flt_fast_verdict(const struct flt_fast *f, uint32_t chain, uint32_t rule)
{
	return f->chains[chain].verdict[rule];
}
