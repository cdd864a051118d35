/*
 * Inside the bit-vector classifier: shared by bvcls.c (build, locate, first match) and
 * bvcls_fold.c (folding small dimensions into one class dimension).
 */
#ifndef VIFWALL_FILTERS_BVCLS_INTERNAL_H
#define VIFWALL_FILTERS_BVCLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filters/bvcls.h"

/*
 * The vectors of a dimension are stored one of two ways. Dense: one full vector per
 * interval. Sparse, for dimensions with many intervals (addresses): the rules that do
 * not look at the dimension form one shared "base" vector, and each interval keeps
 * only the nonzero words of its own rules (word index, bits), which for prefixes is a
 * handful (nesting depth) instead of thousands of mostly-zero or base-only words.
 * That keeps a 10k-rule set in a few MB instead of tens, and a lookup reads the base
 * vectors (shared, so cached) plus one short list per dimension.
 */
struct cdim {
	uint8_t width;
	bool sparse;
	uint32_t nint;	  /* elementary intervals; index nint is "absent" */
	flt_u128 *bounds; /* nint lower bounds, ascending, bounds[0] == 0 */
	uint16_t *direct; /* width <= 2: value -> interval */
	uint32_t *top;	  /* width > 2: TOP_SIZE + 1 entries, top bits -> first interval */
	uint64_t *bv;	  /* dense: (nint + 1) x nwords; sparse: the base vector */
	uint64_t *sum;	  /* dense: (nint + 1) x nsum: words where the vector is nonzero */
	uint32_t *b32;	  /* width 3 or 4: the bounds again, as 32-bit words (cheaper search) */
	uint32_t *eoff;	  /* sparse, while building: nint + 2 offsets into eb, per interval */
	uint64_t *own;	  /* sparse, while building: (nint + 1) x nsum: words with an entry */
	/* Sparse: per interval one record of sstride words, read together at lookup:
	 * own[nsum], then (as uint32_t) pre[nsum], the index in eb of the interval's first
	 * entry of each summary word, so an entry is found with one popcount. */
	uint64_t *srec;
	uint64_t *eb; /* sparse: the entries' bits, by interval then word */
};

/*
 * Small dense dimensions (protocol, ports...) are folded into one "class" dimension, as
 * RFC folds fields: a table maps (class so far, interval of the next dimension) to a
 * class whose vector is the AND of both, identical vectors sharing one class. A lookup
 * then ANDs one class vector instead of several, and the class vectors are few.
 */
struct flt_bvcls {
	unsigned ndims;
	uint32_t nrules, nwords, nsum;
	uint32_t sstride; /* words of a sparse interval's record (srec) */
	bool popcnt;	  /* the CPU has the popcnt instruction */
	uint8_t shape;	  /* which lookup (bvcls.c): dense x 3 + sparse dimensions ANDed, or
			     FLT_BVCLS_SHAPES - 1 for any other count */
	struct cdim dims[FLT_BVCLS_MAX_DIMS];
	unsigned nfold;			    /* dimensions folded into the class */
	uint8_t fold[FLT_BVCLS_MAX_DIMS];   /* which, in folding order */
	uint32_t *ftab[FLT_BVCLS_MAX_DIMS]; /* step k: class x (nint + 1) -> class */
	uint32_t ncls;			    /* classes after the last step */
	uint64_t *cbv, *csum;		    /* class vectors and summaries */
	unsigned nand;			    /* dimensions ANDed at lookup, class aside */
	uint8_t and_dims[FLT_BVCLS_MAX_DIMS];
	/* With sparse dimensions: per class (or once, without a class), the words where
	 * the class AND every sparse dimension's base vector is nonzero. A word can only
	 * hold a match there or where some sparse dimension has its own entry, which
	 * skips far more words than the per-dimension summaries (bases are dense). */
	bool wild;
	uint64_t *wsum;
	/* And per sparse dimension j (in and_dims order), per class: the words where the
	 * class AND every other sparse dimension's base is nonzero. A word holding a match
	 * through j's own entry alone is among those and has an entry of j, so a lookup
	 * visits (wsum | own_j & xsum_j | own_j & own_k) instead of (wsum | own_j). */
	unsigned nsparse;
	uint64_t *xsum; /* nsparse x classes x nsum */
	/* What a lookup reads of its class, in one place: per class (one without a fold)
	 * crstride words: csum (all ones without a fold), wsum, then xsum of each sparse
	 * dimension, nsum words each. */
	uint32_t crstride;
	uint64_t *crec;
	size_t memory;
};

#define FLT_BVCLS_SHAPES 7

/* Fold the dense dimensions of @c (built, vectors in place) into a class dimension,
 * smallest first, while the tables stay small; fills nfold, ftab, ncls, cbv, csum,
 * nand and and_dims. Returns 0 or -ENOMEM. */
int flt_bvcls_fold(struct flt_bvcls *c);

#endif
