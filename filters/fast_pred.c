/*
 * A rule's predicate for the fast path, read off its expressions. The expressions up
 * to the first one with a side effect or a verdict (FLT_XK_EFFECT) only load, transform
 * and test register values, any of which may end the rule with NFT_BREAK and nothing
 * else. Tracking registers symbolically (which dimension each 32-bit word holds), every
 * test of a known dimension becomes a union of ranges of that dimension's value; tests
 * we cannot read that way are simply left out, so the predicate is a superset of the
 * packets that get past the rule's start. That is all the fast path needs: a rule whose
 * predicate is false would break before doing anything.
 *
 * The whole rule (not just its start) is also checked for reads of registers it has
 * not written itself: nft never emits those, and only without them is skipping rules
 * invisible to later ones.
 */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "filters/fast_internal.h"

static const flt_u128 U128_MAX = ~(flt_u128)0;

/* A value of the register's symbolic contents: a dimension's key, possibly with a
 * prefix mask still to fold into the next test. */
struct sym {
	struct fp_key key;
	uint8_t len; /* bytes of value in the register */
	bool pad_zero;
	bool masked; /* the value is (dimension & mask), mask a prefix mask of len bytes */
	flt_u128 mask;
	uint8_t nprog, reg; /* expressions that computed the register (masks included) */
	const struct flt_expr *prog[FP_MAX_PROG];
	uint8_t vnprog, vreg; /* those that compute the key's value, and where it lies */
};

struct state {
	struct sym syms[FLT_REG32_NUM * 2];
	unsigned nsyms;
	int16_t wsym[FLT_REG32_NUM]; /* symbol held by each word, -1 unknown */
	uint8_t widx[FLT_REG32_NUM]; /* which word of that symbol */
	uint32_t written;	     /* words this rule wrote */
};

static flt_u128 lowmask(unsigned bits)
{
	return bits >= 128 ? U128_MAX : ((flt_u128)1 << bits) - 1;
}

static unsigned words(unsigned len)
{
	return (len + 3) / 4;
}

/* Every word of [reg, reg + len) written earlier by this rule? */
static bool reads_written(const struct state *s, unsigned reg, unsigned len)
{
	for (unsigned w = reg; w < reg + words(len); w++)
		if (w >= FLT_REG32_NUM || !(s->written >> w & 1))
			return false;
	return true;
}

static void clobber(struct state *s, unsigned reg, unsigned len)
{
	for (unsigned w = reg; w < reg + words(len) && w < FLT_REG32_NUM; w++) {
		s->wsym[w] = -1;
		s->written |= 1u << w;
	}
}

/* The symbol whose value starts at word @reg and covers @len bytes, or NULL. */
static struct sym *sym_at(struct state *s, unsigned reg, unsigned len)
{
	int id = reg < FLT_REG32_NUM ? s->wsym[reg] : -1;

	if (id < 0 || s->widx[reg] != 0)
		return NULL;
	for (unsigned i = 1; i < words(len); i++)
		if (reg + i >= FLT_REG32_NUM || s->wsym[reg + i] != id || s->widx[reg + i] != i)
			return NULL;
	return &s->syms[id];
}

static struct sym *sym_new(struct state *s, unsigned reg, unsigned len)
{
	struct sym *y;

	clobber(s, reg, len);
	if (s->nsyms == sizeof(s->syms) / sizeof(s->syms[0]))
		return NULL;
	y = &s->syms[s->nsyms];
	memset(y, 0, sizeof(*y));
	for (unsigned i = 0; i < words(len) && reg + i < FLT_REG32_NUM; i++) {
		s->wsym[reg + i] = (int16_t)s->nsyms;
		s->widx[reg + i] = (uint8_t)i;
	}
	s->nsyms++;
	y->reg = (uint8_t)reg;
	y->len = (uint8_t)len;
	return y;
}

static flt_u128 be_value(const uint8_t *p, unsigned len)
{
	return flt_bvcls_value(p, len);
}

/* Is @m (of @len bytes) ones followed by zeros? */
static bool is_prefix_mask(flt_u128 m, unsigned len)
{
	flt_u128 inv = ~m & lowmask(8 * len);

	return (inv & (inv + 1)) == 0;
}

/* --- range arithmetic ------------------------------------------------------------ */

struct ranges {
	unsigned n;
	bool overflow; /* a range did not fit: the test must be left out */
	flt_u128 lo[FP_MAX_RANGES], hi[FP_MAX_RANGES];
};

static void add(struct ranges *r, flt_u128 lo, flt_u128 hi)
{
	if (lo > hi)
		return;
	if (r->n == FP_MAX_RANGES) {
		r->overflow = true;
		return;
	}
	r->lo[r->n] = lo;
	r->hi[r->n] = hi;
	r->n++;
}

/* Complement of [lo, hi] within [0, max]. */
static void add_outside(struct ranges *r, flt_u128 lo, flt_u128 hi, flt_u128 max)
{
	if (lo > hi) {
		add(r, 0, max);
		return;
	}
	if (lo > 0)
		add(r, 0, lo - 1);
	if (hi < max)
		add(r, hi + 1, max);
}

/* The values x of @c bytes with memcmp(x, d) satisfying @op. */
static void cmp_ranges(struct ranges *r, uint8_t op, flt_u128 d, flt_u128 max)
{
	switch (op) {
	case NFT_CMP_EQ:
		add(r, d, d);
		break;
	case NFT_CMP_NEQ:
		add_outside(r, d, d, max);
		break;
	case NFT_CMP_LT:
		if (d > 0)
			add(r, 0, d - 1);
		break;
	case NFT_CMP_LTE:
		add(r, 0, d);
		break;
	case NFT_CMP_GT:
		if (d < max)
			add(r, d + 1, max);
		break;
	default: /* NFT_CMP_GTE */
		add(r, d, max);
		break;
	}
}

/* Ranges over the first @c register bytes to ranges over the symbol's @len-byte
 * value (bytes past len read as zero when c > len). */
static void to_value_space(struct ranges *r, unsigned c, unsigned len)
{
	struct ranges o = {.overflow = r->overflow};

	for (unsigned i = 0; i < r->n; i++) {
		if (c <= len) {
			unsigned sh = 8 * (len - c);

			add(&o, r->lo[i] << sh, r->hi[i] << sh | lowmask(sh));
		} else {
			/* x = v << sh: v in [ceil(lo / 2^sh), floor(hi / 2^sh)] */
			unsigned sh = 8 * (c - len);
			flt_u128 lo = r->lo[i] >> sh, hi = r->hi[i] >> sh;

			if (r->lo[i] & lowmask(sh))
				lo++;
			add(&o, lo, hi);
		}
	}
	*r = o;
}

/* Ranges of (v & mask), mask a prefix mask, to ranges of v. */
static void unmask(struct ranges *r, flt_u128 mask, unsigned len)
{
	flt_u128 low = ~mask & lowmask(8 * len), max = lowmask(8 * len);
	struct ranges o = {.overflow = r->overflow};

	for (unsigned i = 0; i < r->n; i++) {
		flt_u128 a = r->lo[i], b = r->hi[i];

		/* the least v with v & mask >= a */
		if (a & low) {
			if ((a | low) == max)
				continue;
			a = (a | low) + 1;
		}
		add(&o, a, (b & mask) | low);
	}
	*r = o;
}

static void left_align(struct ranges *r, unsigned len)
{
	unsigned sh = 8 * (16 - len);

	for (unsigned i = 0; i < r->n; i++) {
		r->lo[i] <<= sh;
		r->hi[i] = r->hi[i] << sh | lowmask(sh);
	}
}

/* Sort and merge overlapping or adjacent ranges. */
static void normalise(struct ranges *r)
{
	for (unsigned i = 1; i < r->n; i++)
		for (unsigned j = i; j > 0 && r->lo[j] < r->lo[j - 1]; j--) {
			flt_u128 l = r->lo[j], h = r->hi[j];

			r->lo[j] = r->lo[j - 1];
			r->hi[j] = r->hi[j - 1];
			r->lo[j - 1] = l;
			r->hi[j - 1] = h;
		}
	unsigned k = 0;
	for (unsigned i = 0; i < r->n; i++) {
		if (k && (r->lo[i] <= r->hi[k - 1] ||
			  (r->hi[k - 1] != U128_MAX && r->lo[i] == r->hi[k - 1] + 1))) {
			if (r->hi[i] > r->hi[k - 1])
				r->hi[k - 1] = r->hi[i];
			continue;
		}
		r->lo[k] = r->lo[i];
		r->hi[k] = r->hi[i];
		k++;
	}
	r->n = k;
}

/* --- dimensions and predicates --------------------------------------------------- */

static int dim_find(struct fp_dimtab *tab, const struct sym *y, uint32_t *out)
{
	struct fp_dim *d = NULL;
	uint32_t i;

	for (i = 0; i < tab->n; i++)
		if (!memcmp(&tab->dims[i].key, &y->key, sizeof(y->key)))
			break;
	if (i == tab->n) {
		if (tab->n == tab->cap) {
			uint32_t cap = tab->cap ? tab->cap * 2 : 16;
			struct fp_dim *n = realloc(tab->dims, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			tab->dims = n;
			tab->cap = cap;
		}
		d = &tab->dims[tab->n++];
		memset(d, 0, sizeof(*d));
		d->key = y->key;
		d->min_len = y->len;
		d->narrow = y->prog[0];
	}
	d = &tab->dims[i];
	if (y->len > d->width) {
		d->width = y->len;
		d->nprog = y->vnprog;
		d->reg = y->vreg;
		memcpy(d->prog, y->prog, sizeof(d->prog));
	}
	if (y->len < d->min_len) {
		d->min_len = y->len;
		d->narrow = y->prog[0];
	}
	*out = i;
	return 0;
}

/* AND @r (left-aligned) into the rule's predicate on dimension @dim. */
static void pred_and(struct fp_rule_pred *rp, uint32_t dim, const struct ranges *r)
{
	struct fp_pred *p = NULL;
	struct ranges o = {0};

	for (uint32_t i = 0; i < rp->npreds; i++)
		if (rp->preds[i].dim == dim)
			p = &rp->preds[i];
	if (!p) {
		if (rp->npreds == FP_MAX_PREDS) {
			rp->exact = false; /* left out: still a superset */
			return;
		}
		p = &rp->preds[rp->npreds++];
		p->dim = dim;
		p->n = r->n;
		memcpy(p->lo, r->lo, sizeof(p->lo));
		memcpy(p->hi, r->hi, sizeof(p->hi));
		return;
	}
	for (unsigned i = 0; i < p->n; i++)
		for (unsigned j = 0; j < r->n; j++) {
			flt_u128 lo = p->lo[i] > r->lo[j] ? p->lo[i] : r->lo[j];
			flt_u128 hi = p->hi[i] < r->hi[j] ? p->hi[i] : r->hi[j];

			if (lo > hi)
				continue;
			if (o.n == FP_MAX_RANGES) {
				rp->exact = false; /* too fragmented: keep the looser one */
				return;
			}
			add(&o, lo, hi);
		}
	normalise(&o);
	p->n = o.n;
	memcpy(p->lo, o.lo, sizeof(p->lo));
	memcpy(p->hi, o.hi, sizeof(p->hi));
}

/* A test of the first @c bytes of @y: @r over those bytes. */
static int test_sym(struct fp_dimtab *tab, struct fp_rule_pred *rp, const struct sym *y,
		    struct ranges *r, unsigned c)
{
	uint32_t dim;
	int rc;

	if (c > y->len && (!y->pad_zero || c > 4 * words(y->len))) {
		rp->exact = false; /* reads bytes we know nothing of: leave the test out */
		return 0;
	}
	to_value_space(r, c, y->len);
	if (y->masked)
		unmask(r, y->mask, y->len);
	if (r->overflow) {
		rp->exact = false;
		return 0;
	}
	normalise(r);
	left_align(r, y->len);
	rc = dim_find(tab, y, &dim);
	if (rc < 0)
		return rc;
	pred_and(rp, dim, r);
	return 0;
}

static int on_load(struct state *s, struct fp_dimtab *tab, struct fp_rule_pred *rp,
		   const struct flt_expr *e, const struct flt_expr_desc *d)
{
	struct ranges all = {0};
	struct sym *y;

	if (!d->stable || d->dlen == 0 || d->dlen > 16) {
		rp->exact = false; /* may break, and we do not know when */
		clobber(s, d->dreg, d->dlen);
		return 0;
	}
	y = sym_new(s, d->dreg, d->dlen);
	if (!y) {
		rp->exact = false;
		return 0;
	}
	y->key.src = d->src;
	y->key.key = d->key;
	y->key.arg = d->arg;
	y->key.len = d->src == FLT_XS_PAYLOAD ? 0 : d->dlen;
	y->pad_zero = d->pad_zero;
	y->prog[0] = e;
	y->nprog = y->vnprog = 1;
	y->vreg = d->dreg;
	/* The load itself breaks when the field is absent: the rule needs it present. */
	add(&all, 0, lowmask(8 * d->dlen));
	return test_sym(tab, rp, y, &all, d->dlen);
}

static void on_transform(struct state *s, const struct flt_expr *e, const struct flt_expr_desc *d)
{
	struct sym *x = sym_at(s, d->sreg, d->slen), *y;
	struct sym old;
	flt_u128 mask = 0, xor_ = 0;

	if (!x || x->len != d->slen || x->nprog == FP_MAX_PROG ||
	    (d->kind == FLT_XK_BYTEORDER && x->masked)) {
		clobber(s, d->dreg, d->dlen);
		return;
	}
	old = *x;
	if (d->kind == FLT_XK_BITWISE) {
		mask = be_value(d->data, d->slen);
		xor_ = be_value(d->data2, d->slen);
		if (old.masked)
			mask &= old.mask;
	}
	y = sym_new(s, d->dreg, d->dlen);
	if (!y)
		return;
	*y = old;
	y->reg = d->dreg;
	y->prog[y->nprog++] = e;
	if (d->kind == FLT_XK_BITWISE && xor_ == 0 && is_prefix_mask(mask, d->slen)) {
		/* Folded into the next test as a range of the unmasked field. */
		y->masked = true;
		y->mask = mask;
		return; /* vnprog, vreg: still the unmasked value's */
	}
	if (y->key.ntr == FP_MAX_TR) {
		clobber(s, d->dreg, d->dlen);
		return;
	}
	struct fp_tr *t = &y->key.tr[y->key.ntr++];

	t->kind = d->kind;
	t->len = d->slen;
	if (d->kind == FLT_XK_BITWISE) {
		for (unsigned i = 0; i < d->slen; i++) {
			t->mask[i] = (uint8_t)(mask >> 8 * (d->slen - 1 - i));
			t->xor_[i] = d->data2[i];
		}
		y->masked = false;
		y->pad_zero = true; /* mask and xor are zero past len */
	} else {
		t->op = d->op;
		t->size = d->size;
		y->pad_zero = d->pad_zero;
	}
	y->vnprog = y->nprog;
	y->vreg = d->dreg;
	/* A transformed plain payload is no longer a prefix of anything. */
	y->key.len = d->dlen;
	y->len = d->dlen;
}

static int on_test(struct state *s, struct fp_dimtab *tab, struct fp_rule_pred *rp,
		   const struct flt_expr_desc *d)
{
	struct sym *y = sym_at(s, d->sreg, d->slen);
	flt_u128 max = lowmask(8 * d->slen);
	struct ranges r = {0};

	if (!y || d->slen > 16) {
		rp->exact = false;
		return 0;
	}
	if (d->kind == FLT_XK_CMP) {
		cmp_ranges(&r, d->op, be_value(d->data, d->slen), max);
	} else {
		flt_u128 from = be_value(d->data, d->slen), to = be_value(d->data2, d->slen);

		if (d->invert)
			add_outside(&r, from, to, max);
		else
			add(&r, from, to);
	}
	return test_sym(tab, rp, y, &r, d->slen);
}

int fp_rule_derive(struct flt_expr *const *exprs, uint32_t nexprs, struct fp_dimtab *tab,
		   struct fp_rule_pred *out)
{
	struct state *s = calloc(1, sizeof(*s));
	bool prefix = true;
	int rc = 0;

	if (!s)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	out->exact = true;
	out->start = nexprs;
	memset(s->wsym, -1, sizeof(s->wsym));
	for (uint32_t i = 0; i < nexprs && rc == 0; i++) {
		const struct flt_expr *e = exprs[i];
		struct flt_expr_desc d;

		if (!e->ops->describe) {
			rc = -ENOTSUP;
			break;
		}
		memset(&d, 0, sizeof(d));
		e->ops->describe(e, &d);
		if (d.slen && !reads_written(s, d.sreg, d.slen)) {
			rc = -ENOTSUP;
			break;
		}
		if (d.kind == FLT_XK_EFFECT && prefix) {
			prefix = false;
			out->start = i;
		}
		if (!prefix) {
			if (d.slen)
				out->exact = false; /* reads what the start wrote */
			if (d.dlen)
				clobber(s, d.dreg, d.dlen);
			continue;
		}
		switch (d.kind) {
		case FLT_XK_LOAD:
			rc = on_load(s, tab, out, e, &d);
			break;
		case FLT_XK_BITWISE:
		case FLT_XK_BYTEORDER:
			on_transform(s, e, &d);
			break;
		case FLT_XK_CMP:
		case FLT_XK_RANGE:
			rc = on_test(s, tab, out, &d);
			break;
		default: /* FLT_XK_PURE: may break, we do not know when */
			out->exact = false;
			clobber(s, d.dreg, d.dlen);
			break;
		}
	}
	for (uint32_t i = 0; i < out->npreds; i++)
		if (out->preds[i].n == 0)
			out->never = true;
	free(s);
	return rc;
}
