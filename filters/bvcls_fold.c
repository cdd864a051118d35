/*
 * Folding the small dimensions of a bit-vector classifier into one class dimension
 * (the phases of Gupta & McKeown's RFC, applied to the vectors we already have).
 *
 * Why: a lookup ANDs one vector per dimension for every 64-rule word it visits, and
 * with wildcards common in every field most words have candidates in each dimension
 * alone, so the summary bits skip little. Protocol and port dimensions have few
 * intervals; the AND of their vectors takes few distinct values. Folding them costs a
 * table lookup per dimension at locate time and leaves one vector, exact for all of
 * them together, to AND per visited word. Large dimensions (addresses) stay apart:
 * their products would not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "filters/bvcls_internal.h"

#define FOLD_MAX_PAIRS (1u << 21) /* table entries of one step */
#define FOLD_MAX_BYTES (2u << 20) /* class vectors of one step */
#define NONE	       UINT32_MAX

static uint64_t vec_hash(const uint64_t *v, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (uint32_t i = 0; i < n; i++) {
		h = (h ^ v[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	return h;
}

struct step {
	uint32_t *tab;	/* ncls_in x stride -> class */
	uint64_t *vecs; /* ncls x nwords */
	uint32_t ncls;
};

/* One folding step: classes @cv (@ncv of them) by the intervals of dense dimension @cd.
 * Returns 0 and @st, 1 when the step would be too large, or -ENOMEM. */
static int fold_step(const struct flt_bvcls *c, const uint64_t *cv, uint32_t ncv,
		     const struct cdim *cd, struct step *st)
{
	uint32_t stride = cd->nint + 1, nw = c->nwords, cap = 0;
	size_t pairs = (size_t)ncv * stride, hsize = 16;
	uint32_t *ht = NULL;
	uint64_t *tmp = NULL;
	int rc = -ENOMEM;

	memset(st, 0, sizeof(*st));
	if (pairs > FOLD_MAX_PAIRS)
		return 1;
	while (hsize < 2 * pairs)
		hsize *= 2;
	ht = malloc(hsize * sizeof(*ht));
	tmp = malloc((nw ? nw : 1) * sizeof(*tmp));
	st->tab = malloc(pairs * sizeof(*st->tab));
	if (!ht || !tmp || !st->tab)
		goto fail;
	memset(ht, 0xff, hsize * sizeof(*ht));
	for (uint32_t k = 0; k < ncv; k++) {
		for (uint32_t iv = 0; iv < stride; iv++) {
			const uint64_t *a = cv + (size_t)k * nw, *b = cd->bv + (size_t)iv * nw;
			size_t j;

			for (uint32_t w = 0; w < nw; w++)
				tmp[w] = a[w] & b[w];
			j = vec_hash(tmp, nw) & (hsize - 1);
			while (ht[j] != NONE &&
			       memcmp(st->vecs + (size_t)ht[j] * nw, tmp, nw * sizeof(*tmp)))
				j = (j + 1) & (hsize - 1);
			if (ht[j] == NONE) {
				if (st->ncls == cap) {
					uint64_t *n;

					cap = cap ? cap * 2 : 64;
					if ((size_t)cap * nw * 8 > FOLD_MAX_BYTES) {
						rc = 1;
						goto fail;
					}
					n = realloc(st->vecs, (size_t)cap * nw * sizeof(*n) + 8);
					if (!n)
						goto fail;
					st->vecs = n;
				}
				memcpy(st->vecs + (size_t)st->ncls * nw, tmp, nw * sizeof(*tmp));
				ht[j] = st->ncls++;
			}
			st->tab[(size_t)k * stride + iv] = ht[j];
		}
	}
	free(ht);
	free(tmp);
	return 0;
fail:
	free(ht);
	free(tmp);
	free(st->tab);
	free(st->vecs);
	memset(st, 0, sizeof(*st));
	return rc;
}

static void set_summaries(struct flt_bvcls *c)
{
	for (uint32_t k = 0; k < c->ncls; k++)
		for (uint32_t w = 0; w < c->nwords; w++)
			if (c->cbv[(size_t)k * c->nwords + w])
				c->csum[(size_t)k * c->nsum + w / 64] |= 1ull << (w % 64);
}

static int wild_summaries(struct flt_bvcls *c)
{
	uint32_t n = c->nfold ? c->ncls : 1;

	for (unsigned d = 0; d < c->ndims; d++)
		c->wild |= c->dims[d].sparse;
	if (!c->wild)
		return 0;
	c->wsum = calloc((size_t)n * c->nsum + 1, sizeof(uint64_t));
	if (!c->wsum)
		return -ENOMEM;
	for (unsigned d = 0; d < c->ndims; d++)
		c->nsparse += c->dims[d].sparse;
	c->xsum = calloc((size_t)c->nsparse * n * c->nsum + 1, sizeof(uint64_t));
	if (!c->xsum)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++)
		for (uint32_t w = 0; w < c->nwords; w++) {
			uint64_t cw = c->nfold ? c->cbv[(size_t)k * c->nwords + w] : ~0ull, x = cw;
			size_t at = (size_t)k * c->nsum + w / 64;
			unsigned j = 0;

			for (unsigned d = 0; d < c->ndims && x; d++)
				if (c->dims[d].sparse)
					x &= c->dims[d].bv[w];
			if (x)
				c->wsum[at] |= 1ull << (w % 64);
			/* and_dims lists the sparse dimensions in dimension order */
			for (unsigned d = 0; d < c->ndims; d++) {
				if (!c->dims[d].sparse)
					continue;
				x = cw;
				for (unsigned e = 0; e < c->ndims && x; e++)
					if (e != d && c->dims[e].sparse)
						x &= c->dims[e].bv[w];
				if (x)
					c->xsum[(size_t)j * n * c->nsum + at] |= 1ull << (w % 64);
				j++;
			}
		}
	c->memory += (size_t)(1 + c->nsparse) * n * c->nsum * sizeof(uint64_t);
	return 0;
}

/* Gather what a lookup reads of its class into one record per class (crec). */
static int class_records(struct flt_bvcls *c)
{
	uint32_t n = c->nfold ? c->ncls : 1, ns = c->nsum;

	c->crstride = (2 + c->nsparse) * ns;
	c->crec = calloc((size_t)n * c->crstride + 1, sizeof(uint64_t));
	if (!c->crec)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t *rec = c->crec + (size_t)k * c->crstride;

		for (uint32_t s = 0; s < ns; s++) {
			rec[s] = c->nfold ? c->csum[(size_t)k * ns + s] : ~0ull;
			rec[ns + s] = c->wild ? c->wsum[(size_t)k * ns + s] : ~0ull;
			for (unsigned j = 0; j < c->nsparse; j++)
				rec[(2 + j) * ns + s] = c->xsum[((size_t)j * n + k) * ns + s];
		}
	}
	if (c->nfold)
		c->memory -= (size_t)n * ns * sizeof(uint64_t);
	if (c->wild)
		c->memory -= (size_t)(1 + c->nsparse) * n * ns * sizeof(uint64_t);
	c->memory += (size_t)n * c->crstride * sizeof(uint64_t);
	free(c->csum);
	free(c->wsum);
	free(c->xsum);
	c->csum = c->wsum = c->xsum = NULL;
	return 0;
}

int flt_bvcls_fold(struct flt_bvcls *c)
{
	uint8_t cand[FLT_BVCLS_MAX_DIMS];
	unsigned ncand = 0;
	uint64_t *cv;
	uint32_t ncv = 1;
	int rc = 0;

	/* Dense dimensions, fewest intervals first: the product grows slowest. */
	for (unsigned d = 0; d < c->ndims; d++) {
		unsigned j = ncand++;

		if (c->dims[d].sparse) {
			ncand--;
			continue;
		}
		while (j > 0 && c->dims[cand[j - 1]].nint > c->dims[d].nint) {
			cand[j] = cand[j - 1];
			j--;
		}
		cand[j] = (uint8_t)d;
	}
	/* The empty fold: one class, every rule. */
	cv = malloc(((size_t)c->nwords + 1) * sizeof(*cv));
	if (!cv)
		return -ENOMEM;
	memset(cv, 0xff, ((size_t)c->nwords + 1) * sizeof(*cv));
	for (unsigned i = 0; i < ncand; i++) {
		struct cdim *cd = &c->dims[cand[i]];
		struct step st;

		rc = fold_step(c, cv, ncv, cd, &st);
		if (rc < 0)
			goto out;
		if (rc > 0)
			break;
		c->ftab[c->nfold] = st.tab;
		c->fold[c->nfold++] = cand[i];
		c->memory += (size_t)ncv * (cd->nint + 1) * sizeof(uint32_t);
		free(cv);
		cv = st.vecs;
		ncv = st.ncls;
		/* Its own vectors are no longer read. */
		c->memory -= (size_t)(cd->nint + 1) * (c->nwords + c->nsum) * sizeof(uint64_t);
		free(cd->bv);
		free(cd->sum);
		cd->bv = cd->sum = NULL;
	}
	rc = 0;
	for (unsigned d = 0; d < c->ndims; d++) /* dense before sparse: cheaper words */
		if (!c->dims[d].sparse && c->dims[d].bv)
			c->and_dims[c->nand++] = (uint8_t)d;
	for (unsigned d = 0; d < c->ndims; d++)
		if (c->dims[d].sparse)
			c->and_dims[c->nand++] = (uint8_t)d;
	if (c->nfold) {
		c->cbv = cv;
		cv = NULL;
		c->ncls = ncv;
		c->csum = calloc((size_t)ncv * c->nsum + 1, sizeof(uint64_t));
		if (!c->csum)
			return -ENOMEM;
		set_summaries(c);
		c->memory += (size_t)ncv * (c->nwords + c->nsum) * sizeof(uint64_t);
	}
	rc = wild_summaries(c);
	if (rc == 0)
		rc = class_records(c);
	if (c->nand - c->nsparse < 2 && c->nsparse < 3)
		c->shape = (uint8_t)((c->nand - c->nsparse) * 3 + c->nsparse);
	else
		c->shape = FLT_BVCLS_SHAPES - 1;
out:
	free(cv);
	return rc;
}
