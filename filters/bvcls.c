/*
 * Bit-vector classifier (Lakshman & Stiliadis, with an aggregated summary level as in
 * Baboescu & Varghese's ABV). Per dimension, the boundaries of every rule's ranges cut
 * the value space into elementary intervals; each interval holds a bit vector of the
 * rules that accept it. A lookup finds the packet's interval in each dimension, ANDs
 * the vectors and returns the lowest set bit. One summary bit per 64-rule word lets
 * the AND skip words where some dimension has no candidate, which is most of them.
 *
 * Vectors of one dimension are built by a sweep over sorted range events, so a
 * 10,000-rule set builds in milliseconds rather than rules x intervals bit settings.
 *
 * On the packet path, what costs is cache misses and the words visited: a wide
 * dimension's interval is found through a 4k-entry table of its top bits and a
 * branch-free search of 32-bit bounds (both stay in L2); what a lookup reads of a
 * sparse interval or of a class sits in one record; a sparse entry is read only when
 * the word still has candidates its base lacks, and found with one popcnt where the
 * CPU has it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filters/bvcls.h"
#include "filters/bvcls_internal.h"

struct range {
	uint32_t rule;
	flt_u128 lo, hi;
};

struct bdim {
	uint8_t width;
	struct range *ranges;
	size_t nranges, cap;
	uint8_t *constrained; /* per rule: has ranges or needs the field */
};

struct flt_bvcls_builder {
	unsigned ndims;
	uint32_t nrules;
	struct bdim dims[FLT_BVCLS_MAX_DIMS];
	uint8_t *never;
};

static flt_u128 width_max(unsigned width)
{
	return width >= 16 ? ~(flt_u128)0 : ((flt_u128)1 << (8 * width)) - 1;
}

int flt_bvcls_builder_new(unsigned ndims, const uint8_t *widths, uint32_t nrules,
			  struct flt_bvcls_builder **out)
{
	struct flt_bvcls_builder *b;

	if (ndims > FLT_BVCLS_MAX_DIMS)
		return -EINVAL;
	for (unsigned d = 0; d < ndims; d++)
		if (widths[d] == 0 || widths[d] > FLT_BVCLS_MAX_WIDTH)
			return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* With no dimension at all every rule matches: model it as one unused dimension. */
	b->ndims = ndims ? ndims : 1;
	b->nrules = nrules;
	b->never = calloc(nrules ? nrules : 1, 1);
	if (!b->never)
		goto nomem;
	for (unsigned d = 0; d < b->ndims; d++) {
		b->dims[d].width = ndims ? widths[d] : 1;
		b->dims[d].constrained = calloc(nrules ? nrules : 1, 1);
		if (!b->dims[d].constrained)
			goto nomem;
	}
	*out = b;
	return 0;
nomem:
	flt_bvcls_builder_free(b);
	return -ENOMEM;
}

void flt_bvcls_builder_free(struct flt_bvcls_builder *b)
{
	if (!b)
		return;
	for (unsigned d = 0; d < b->ndims; d++) {
		free(b->dims[d].ranges);
		free(b->dims[d].constrained);
	}
	free(b->never);
	free(b);
}

int flt_bvcls_rule_range(struct flt_bvcls_builder *b, uint32_t rule, unsigned dim, flt_u128 lo,
			 flt_u128 hi)
{
	struct bdim *bd;

	if (rule >= b->nrules || dim >= b->ndims || lo > hi)
		return -EINVAL;
	bd = &b->dims[dim];
	if (hi > width_max(bd->width))
		return -EINVAL;
	if (bd->nranges == bd->cap) {
		size_t cap = bd->cap ? bd->cap * 2 : 64;
		struct range *r = realloc(bd->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bd->ranges = r;
		bd->cap = cap;
	}
	bd->ranges[bd->nranges++] = (struct range){rule, lo, hi};
	bd->constrained[rule] = 1;
	return 0;
}

int flt_bvcls_rule_needs(struct flt_bvcls_builder *b, uint32_t rule, unsigned dim)
{
	if (rule >= b->nrules || dim >= b->ndims)
		return -EINVAL;
	return flt_bvcls_rule_range(b, rule, dim, 0, width_max(b->dims[dim].width));
}

int flt_bvcls_rule_never(struct flt_bvcls_builder *b, uint32_t rule)
{
	if (rule >= b->nrules)
		return -EINVAL;
	b->never[rule] = 1;
	return 0;
}

static int cmp_u128(const void *a, const void *b)
{
	flt_u128 x = *(const flt_u128 *)a, y = *(const flt_u128 *)b;

	return x < y ? -1 : x > y;
}

/* Interval holding @v: the last bound <= v, searched in [lo, hi). */
static uint32_t find_interval(const flt_u128 *bounds, uint32_t lo, uint32_t hi, flt_u128 v)
{
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (bounds[mid] <= v)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct event {
	uint32_t at; /* interval index */
	uint32_t rule;
	int32_t delta;
};

static int cmp_event(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return x->at < y->at ? -1 : x->at > y->at;
}

static int build_bounds(const struct bdim *bd, struct cdim *cd)
{
	size_t n = 1 + 2 * bd->nranges, k = 0;
	flt_u128 max = width_max(bd->width);
	flt_u128 *v = malloc(n * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[k++] = 0;
	for (size_t i = 0; i < bd->nranges; i++) {
		v[k++] = bd->ranges[i].lo;
		if (bd->ranges[i].hi < max)
			v[k++] = bd->ranges[i].hi + 1;
	}
	qsort(v, k, sizeof(*v), cmp_u128);
	size_t u = 1;
	for (size_t i = 1; i < k; i++)
		if (v[i] != v[u - 1])
			v[u++] = v[i];
	cd->bounds = v;
	cd->nint = (uint32_t)u;
	return 0;
}

/* The first level of a wide dimension's interval lookup: its top TOP_BITS bits. Few
 * enough that the table and the 32-bit bounds stay in a core's L2 cache (a 16-bit
 * table alone took 256 KB per dimension and a cache miss per lookup); the binary
 * search below it then takes a few more steps. */
#define TOP_BITS 12
#define TOP_SIZE (1u << TOP_BITS)

static int build_index(struct cdim *cd, size_t *mem)
{
	if (cd->width <= 2) {
		uint32_t n = 1u << (8 * cd->width), iv = 0;

		/* 16-bit entries: at most 65536 intervals, the last one 65535; half the
		 * cache footprint of a port table */
		cd->direct = malloc(n * sizeof(*cd->direct));
		if (!cd->direct)
			return -ENOMEM;
		for (uint32_t x = 0; x < n; x++) {
			while (iv + 1 < cd->nint && cd->bounds[iv + 1] <= x)
				iv++;
			cd->direct[x] = (uint16_t)iv;
		}
		*mem += n * sizeof(*cd->direct);
		return 0;
	}
	unsigned shift = 8 * cd->width - TOP_BITS;

	cd->top = malloc((TOP_SIZE + 1) * sizeof(uint32_t));
	if (!cd->top)
		return -ENOMEM;
	for (uint32_t t = 0; t < TOP_SIZE; t++)
		cd->top[t] = find_interval(cd->bounds, 0, cd->nint, (flt_u128)t << shift);
	cd->top[TOP_SIZE] = cd->nint - 1;
	*mem += (TOP_SIZE + 1) * sizeof(uint32_t) + cd->nint * sizeof(flt_u128);
	if (cd->width <= 4) {
		cd->b32 = malloc(cd->nint * sizeof(uint32_t));
		if (!cd->b32)
			return -ENOMEM;
		for (uint32_t i = 0; i < cd->nint; i++)
			cd->b32[i] = (uint32_t)cd->bounds[i];
		*mem += cd->nint * sizeof(uint32_t);
	}
	return 0;
}

static void set_bit(uint64_t *w, uint32_t bit)
{
	w[bit / 64] |= 1ull << (bit % 64);
}

/* Sparse storage pays when the entries take well under the dense vectors; small
 * dimensions stay dense, to be folded (bvcls_fold.c). */
static bool want_sparse(const struct cdim *cd, uint32_t nwords, size_t entries)
{
	return cd->nint > 1024 && entries * 8 < (size_t)(cd->nint + 1) * nwords * 8 / 2;
}

/* Sweep the intervals left to right, keeping per rule how many of its ranges cover
 * the current interval (cur: rules with a nonzero count); the vector of interval i is
 * cur plus base, the rules that do not constrain this dimension. The sweep runs twice
 * for a dimension that turns out sparse: once to count, once to fill. */
static int sweep(const struct cdim *cd, const struct event *ev, size_t nev, uint32_t nwords,
		 uint32_t nsum, const uint64_t *base, uint64_t *dense, uint64_t *sums,
		 uint32_t *eoff, uint64_t *own, uint64_t *eb, size_t *entries)
{
	uint32_t *count = calloc(nwords ? (size_t)nwords * 64 : 1, sizeof(uint32_t));
	uint64_t *cur = calloc(nwords ? nwords : 1, sizeof(uint64_t));
	size_t k = 0, ne = 0;

	if (!count || !cur) {
		free(count);
		free(cur);
		return -ENOMEM;
	}
	for (uint32_t iv = 0; iv <= cd->nint; iv++) {
		uint64_t *sum = sums ? sums + (size_t)iv * nsum : NULL;

		if (iv == cd->nint) /* absent: only rules that ignore this field */
			memset(cur, 0, nwords * sizeof(uint64_t));
		for (; iv < cd->nint && k < nev && ev[k].at == iv; k++) {
			uint32_t r = ev[k].rule;

			count[r] += ev[k].delta;
			if (count[r])
				cur[r / 64] |= 1ull << (r % 64);
			else
				cur[r / 64] &= ~(1ull << (r % 64));
		}
		if (eoff)
			eoff[iv] = (uint32_t)ne;
		for (uint32_t w = 0; w < nwords; w++) {
			uint64_t x = cur[w] | base[w];

			if (dense)
				dense[(size_t)iv * nwords + w] = x;
			if (cur[w]) {
				if (eb) {
					set_bit(own + (size_t)iv * nsum, w);
					eb[ne] = cur[w];
				}
				ne++;
			}
			if (x && sum)
				set_bit(sum, w);
		}
	}
	if (eoff)
		eoff[cd->nint + 1] = (uint32_t)ne;
	*entries = ne;
	free(count);
	free(cur);
	return 0;
}

/* Bits set in @x, without a libgcc call on CPUs the baseline ABI gives no popcnt. */
static inline uint32_t ones(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (uint32_t)((x * 0x0101010101010101ull) >> 56);
}

/* The records of a sparse dimension's intervals (srec in struct cdim). */
static int build_srec(struct cdim *cd, uint32_t nsum, uint32_t stride)
{
	cd->srec = calloc((size_t)(cd->nint + 1) * stride + 1, sizeof(uint64_t));
	if (!cd->srec)
		return -ENOMEM;
	for (uint32_t iv = 0; iv <= cd->nint; iv++) {
		uint64_t *rec = cd->srec + (size_t)iv * stride;
		uint32_t *pre = (uint32_t *)(rec + nsum), at = cd->eoff[iv];

		for (uint32_t s = 0; s < nsum; s++) {
			rec[s] = cd->own[(size_t)iv * nsum + s];
			pre[s] = at;
			at += ones(rec[s]);
		}
	}
	free(cd->eoff);
	free(cd->own);
	free(cd->sum); /* the records say more */
	cd->eoff = NULL;
	cd->own = cd->sum = NULL;
	return 0;
}

/* The vectors of dimension @cd (bounds in place) over the rules not in @skip. */
static int build_vectors(const struct flt_bvcls_builder *b, const struct bdim *bd, struct cdim *cd,
			 const uint8_t *skip, uint32_t nwords, uint32_t nsum, uint32_t sstride,
			 size_t *mem)
{
	size_t nev = 2 * bd->nranges, e = 0, entries = 0;
	struct event *ev = malloc((nev ? nev : 1) * sizeof(*ev));
	uint64_t *base = calloc(nwords ? nwords : 1, sizeof(uint64_t));
	int rc = -ENOMEM;

	cd->sum = calloc((size_t)(cd->nint + 1) * nsum + 1, sizeof(uint64_t));
	if (!ev || !base || !cd->sum)
		goto out;
	for (uint32_t r = 0; r < b->nrules; r++)
		if (!skip[r] && !bd->constrained[r])
			set_bit(base, r);
	for (size_t i = 0; i < bd->nranges; i++) {
		const struct range *rg = &bd->ranges[i];
		if (skip[rg->rule])
			continue;
		ev[e++] =
			(struct event){find_interval(cd->bounds, 0, cd->nint, rg->lo), rg->rule, 1};
		if (rg->hi < width_max(bd->width))
			ev[e++] = (struct event){find_interval(cd->bounds, 0, cd->nint, rg->hi + 1),
						 rg->rule, -1};
	}
	qsort(ev, e, sizeof(*ev), cmp_event);

	/* Count first: sparse or dense? */
	rc = sweep(cd, ev, e, nwords, nsum, base, NULL, NULL, NULL, NULL, NULL, &entries);
	if (rc < 0)
		goto out;
	rc = -ENOMEM;
	if (want_sparse(cd, nwords, entries)) {
		cd->sparse = true;
		cd->eoff = malloc((cd->nint + 2) * sizeof(uint32_t));
		cd->own = calloc((size_t)(cd->nint + 1) * nsum + 1, sizeof(uint64_t));
		cd->eb = malloc((entries + 1) * sizeof(uint64_t));
		if (!cd->eoff || !cd->own || !cd->eb)
			goto out;
		rc = sweep(cd, ev, e, nwords, nsum, base, NULL, cd->sum, cd->eoff, cd->own, cd->eb,
			   &entries);
		if (rc == 0)
			rc = build_srec(cd, nsum, sstride);
		cd->bv = base;
		base = NULL;
		*mem += entries * 8 + nwords * 8 + (size_t)(cd->nint + 1) * sstride * 8;
	} else {
		cd->bv = calloc((size_t)(cd->nint + 1) * nwords + 1, sizeof(uint64_t));
		if (!cd->bv)
			goto out;
		rc = sweep(cd, ev, e, nwords, nsum, base, cd->bv, cd->sum, NULL, NULL, NULL,
			   &entries);
		*mem += (size_t)(cd->nint + 1) * (nwords + nsum) * sizeof(uint64_t);
	}
out:
	free(ev);
	free(base);
	return rc;
}

/* Vectors and fold of @c (bounds in place) over the rules not in @skip. */
static int build_vectors_all(const struct flt_bvcls_builder *b, const uint8_t *skip,
			     struct flt_bvcls *c)
{
	int rc;

	for (unsigned d = 0; d < b->ndims; d++) {
		rc = build_vectors(b, &b->dims[d], &c->dims[d], skip, c->nwords, c->nsum,
				   c->sstride, &c->memory);
		if (rc < 0)
			return rc;
	}
	return flt_bvcls_fold(c);
}

int flt_bvcls_build(const struct flt_bvcls_builder *b, struct flt_bvcls **out)
{
	struct flt_bvcls *c = calloc(1, sizeof(*c));
	int rc = -ENOMEM;

	if (!c)
		return -ENOMEM;
	c->ndims = b->ndims;
	c->nrules = b->nrules;
	c->nwords = (b->nrules + 63) / 64;
	c->nsum = (c->nwords + 63) / 64;
	c->sstride = c->nsum + (c->nsum + 1) / 2;
	c->memory = sizeof(*c);
	__builtin_cpu_init();
	c->popcnt = __builtin_cpu_supports("popcnt");
	for (unsigned d = 0; d < b->ndims; d++) {
		struct cdim *cd = &c->dims[d];

		cd->width = b->dims[d].width;
		if ((rc = build_bounds(&b->dims[d], cd)) < 0 ||
		    (rc = build_index(cd, &c->memory)) < 0)
			goto fail;
	}
	rc = build_vectors_all(b, b->never, c);
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	flt_bvcls_free(c);
	return rc;
}

void flt_bvcls_free(struct flt_bvcls *c)
{
	if (!c)
		return;
	for (unsigned d = 0; d < c->ndims; d++) {
		free(c->dims[d].bounds);
		free(c->dims[d].direct);
		free(c->dims[d].top);
		free(c->dims[d].bv);
		free(c->dims[d].sum);
		free(c->dims[d].eoff);
		free(c->dims[d].b32);
		free(c->dims[d].srec);
		free(c->dims[d].own);
		free(c->dims[d].eb);
	}
	for (unsigned k = 0; k < c->nfold; k++)
		free(c->ftab[k]);
	free(c->cbv);
	free(c->csum);
	free(c->wsum);
	free(c->xsum);
	free(c->crec);
	free(c);
}

size_t flt_bvcls_memory(const struct flt_bvcls *c)
{
	return c->memory;
}

/* Interval holding @v among 32-bit bounds: the last bound <= v in [lo, hi), without
 * branches the packet's value would make unpredictable. */
static inline uint32_t find_interval32(const uint32_t *b, uint32_t lo, uint32_t hi, uint32_t v)
{
	const uint32_t *p = b + lo;
	uint32_t n = hi - lo;

	while (n > 1) {
		uint32_t half = n / 2;

		p = p[half] <= v ? p + half : p;
		n -= half;
	}
	return (uint32_t)(p - b);
}

/* The class of the located intervals @iv in the fold of @c. */
static inline uint32_t class_of(const struct flt_bvcls *c, const uint32_t *iv)
{
	uint32_t cls = 0;

	for (unsigned k = 0; k < c->nfold; k++) {
		const struct cdim *cd = &c->dims[c->fold[k]];

		cls = c->ftab[k][(size_t)cls * (cd->nint + 1) + iv[c->fold[k]]];
	}
	return cls;
}

void flt_bvcls_locate(const struct flt_bvcls *c, const struct flt_bvcls_key *key,
		      struct flt_bvcls_pos *pos)
{
	for (unsigned d = 0; d < c->ndims; d++) {
		const struct cdim *cd = &c->dims[d];
		flt_u128 v = key->value[d];

		if (!key->present[d]) {
			pos->iv[d] = cd->nint;
		} else if (cd->direct) {
			pos->iv[d] = cd->direct[(uint32_t)v & ((1u << (8 * cd->width)) - 1)];
		} else {
			/* The top bits narrow the search to the intervals that prefix spans. */
			uint32_t t = (uint32_t)(v >> (8 * cd->width - TOP_BITS)) & (TOP_SIZE - 1);
			uint32_t lo = cd->top[t], hi = cd->top[t + 1] + 1;

			if (hi > cd->nint)
				hi = cd->nint;
			pos->iv[d] = cd->b32 ? find_interval32(cd->b32, lo, hi, (uint32_t)v)
					     : find_interval(cd->bounds, lo, hi, v);
		}
	}
	pos->cls = class_of(c, pos->iv);
}

bool flt_bvcls_narrow(const struct flt_bvcls *c)
{
	for (unsigned d = 0; d < c->ndims; d++)
		if (c->dims[d].width > 4)
			return false;
	return true;
}

/* Prefetch the @n words at @p: a record may straddle cache lines. Its first, middle
 * and last byte, without a loop: that is every line of a record up to 128 bytes (the
 * records of sets up to 16k rules; beyond, the rest is read on demand). */
static inline void prefetch_span(const uint64_t *p, uint32_t n)
{
	__builtin_prefetch(p);
	__builtin_prefetch((const char *)p + 4 * n);
	__builtin_prefetch((const char *)(p + n) - 1);
}

void flt_bvcls_locate32(const struct flt_bvcls *c, const uint32_t *value, uint32_t absent,
			struct flt_bvcls_pos *pos)
{
	for (unsigned d = 0; d < c->ndims; d++) {
		const struct cdim *cd = &c->dims[d];
		uint32_t v = value[d];

		if (absent >> d & 1) {
			pos->iv[d] = cd->nint;
		} else if (cd->direct) {
			pos->iv[d] = cd->direct[v & ((1u << (8 * cd->width)) - 1)];
		} else {
			uint32_t t = v >> (8 * cd->width - TOP_BITS) & (TOP_SIZE - 1);
			uint32_t lo = cd->top[t], hi = cd->top[t + 1] + 1;

			pos->iv[d] = find_interval32(cd->b32, lo, hi > cd->nint ? cd->nint : hi, v);
		}
		/* flt_bvcls_first reads the record first: start the miss now */
		if (cd->srec)
			prefetch_span(cd->srec + (size_t)pos->iv[d] * c->sstride, c->sstride);
	}
	pos->cls = class_of(c, pos->iv);
	if (c->crec)
		prefetch_span(c->crec + (size_t)(c->nfold ? pos->cls : 0) * c->crstride,
			      c->crstride);
}

/* A sparse dimension at one interval, as a lookup reads it. */
struct sview {
	const uint64_t *base, *own, *eb;
	const uint32_t *pre;
	const uint64_t *xsum; /* in the class record */
};

/* A sparse dimension's bits for word @wi: its base word, plus the interval's own entry
 * for that word if it has one; the entry's index is pre[] of its summary word plus the
 * entries before it in that word of the interval's "own" bitmap. */
/* @w ANDed with a sparse dimension's word @wi. The entry (a cache miss: entries of
 * all intervals are megabytes) is read only when @w has candidates the base lacks. */
static inline __attribute__((always_inline)) uint64_t sparse_and(const struct sview *v, uint32_t wi,
								 uint64_t w, bool hw)
{
	uint64_t x = v->base[wi], bit = 1ull << (wi % 64), own = v->own[wi / 64];

	if (!(own & bit) || !(w & ~x))
		return w & x;
	/* hw: in a function built for popcnt, where the builtin is one instruction */
	return w &
	       (x | v->eb[v->pre[wi / 64] + (hw ? (uint32_t)__builtin_popcountll(own & (bit - 1))
						: ones(own & (bit - 1)))]);
}

/* The first rule >= @from (< nrules) matching intervals @iv and class @cls. */
/* @knd, @kns: the number of dense and sparse dimensions ANDed (and_dims lists the dense
 * ones first), as constants for the common shapes so that the loops over them unroll
 * and their pointers stay in registers; ANY_SHAPE: read them from @c. */
#define ANY_SHAPE 255u

static inline __attribute__((always_inline)) uint32_t first_in(const struct flt_bvcls *c,
							       const uint32_t *iv, uint32_t cls,
							       uint32_t from, bool hw, unsigned knd,
							       unsigned kns)
{
	const unsigned nd = knd != ANY_SHAPE ? knd : c->nand - c->nsparse;
	const unsigned ns = kns != ANY_SHAPE ? kns : c->nsparse;
	const uint64_t *dv[FLT_BVCLS_MAX_DIMS + 1], *dsum[FLT_BVCLS_MAX_DIMS];
	struct sview sv[FLT_BVCLS_MAX_DIMS];
	const uint64_t *rec, *cbv = NULL;
	uint32_t w0 = from / 64, nsum = c->nsum;

	rec = c->crec + (size_t)(c->nfold ? cls : 0) * c->crstride;
	if (c->nfold) /* the class first: the most selective, and cached */
		cbv = c->cbv + (size_t)cls * c->nwords;
	for (unsigned k = 0; k < nd; k++) {
		const struct cdim *cd = &c->dims[c->and_dims[k]];
		size_t i = iv[c->and_dims[k]];

		dsum[k] = cd->sum + i * nsum;
		dv[k] = cd->bv + i * c->nwords;
	}
	for (unsigned j = 0; j < ns; j++) {
		const struct cdim *cd = &c->dims[c->and_dims[nd + j]];
		size_t i = iv[c->and_dims[nd + j]];

		sv[j].base = cd->bv;
		sv[j].own = cd->srec + i * c->sstride;
		sv[j].pre = (const uint32_t *)(sv[j].own + nsum);
		sv[j].eb = cd->eb;
		sv[j].xsum = rec + (2 + j) * nsum;
	}
	for (uint32_t s = w0 / 64; s < nsum; s++) {
		uint64_t sm = rec[s];

		for (unsigned d = 0; d < nd; d++)
			sm &= dsum[d][s];
		if (ns) {
			/* see xsum in bvcls_internal.h */
			uint64_t t = rec[nsum + s], any = 0, two = 0;

			for (unsigned j = 0; j < ns; j++) {
				uint64_t o = sv[j].own[s];

				t |= o & sv[j].xsum[s];
				two |= any & o;
				any |= o;
			}
			sm &= t | two;
		}
		if (s == w0 / 64)
			sm &= ~0ull << (w0 % 64);
		while (sm) {
			uint32_t wi = s * 64 + (uint32_t)__builtin_ctzll(sm);
			uint64_t w = cbv ? cbv[wi] : ~0ull;

			sm &= sm - 1;
			for (unsigned d = 0; d < nd; d++)
				w &= dv[d][wi];
			if (wi == w0)
				w &= ~0ull << (from % 64);
			for (unsigned j = 0; j < ns && w; j++)
				w = sparse_and(&sv[j], wi, w, hw);
			if (w)
				return wi * 64 + (uint32_t)__builtin_ctzll(w);
		}
	}
	return FLT_BVCLS_NONE;
}

/* first_in for CPUs with popcnt (every x86-64 since 2008, but not the baseline ABI the
 * build targets) and without (c->popcnt), for each common shape and any other
 * (c->shape, set by flt_bvcls_fold). */
typedef uint32_t first_fn(const struct flt_bvcls *c, const uint32_t *iv, uint32_t cls,
			  uint32_t from);

#define FIRST_SHAPE(name, knd, kns)                                                                \
	__attribute__((target("popcnt"))) static uint32_t name##_hw(                               \
		const struct flt_bvcls *c, const uint32_t *iv, uint32_t cls, uint32_t from)        \
	{                                                                                          \
		return first_in(c, iv, cls, from, true, knd, kns);                                 \
	}                                                                                          \
	static uint32_t name##_sw(const struct flt_bvcls *c, const uint32_t *iv, uint32_t cls,     \
				  uint32_t from)                                                   \
	{                                                                                          \
		return first_in(c, iv, cls, from, false, knd, kns);                                \
	}

FIRST_SHAPE(first_0_0, 0, 0)
FIRST_SHAPE(first_0_1, 0, 1)
FIRST_SHAPE(first_0_2, 0, 2)
FIRST_SHAPE(first_1_0, 1, 0)
FIRST_SHAPE(first_1_1, 1, 1)
FIRST_SHAPE(first_1_2, 1, 2)
FIRST_SHAPE(first_any, ANY_SHAPE, ANY_SHAPE)

/* By shape: dense x 3 + sparse for up to 1 dense and 2 sparse dimensions, then any. */
static first_fn *const first_hw[FLT_BVCLS_SHAPES] = {
	first_0_0_hw, first_0_1_hw, first_0_2_hw, first_1_0_hw,
	first_1_1_hw, first_1_2_hw, first_any_hw,
};
static first_fn *const first_sw[FLT_BVCLS_SHAPES] = {
	first_0_0_sw, first_0_1_sw, first_0_2_sw, first_1_0_sw,
	first_1_1_sw, first_1_2_sw, first_any_sw,
};

uint32_t flt_bvcls_first(const struct flt_bvcls *c, const struct flt_bvcls_pos *pos, uint32_t from)
{
	if (from >= c->nrules)
		return FLT_BVCLS_NONE;
	return (c->popcnt ? first_hw : first_sw)[c->shape](c, pos->iv, pos->cls, from);
}
