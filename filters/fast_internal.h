/*
 * Between the two halves of the fast path: fast_pred.c reads a rule's expressions and
 * derives its predicate (per dimension, a union of ranges); fastpath.c picks the
 * dimensions of a chain, builds its classifier and runs it.
 *
 * A dimension is a value of the packet a rule's expressions compute: a load (payload,
 * meta or ct key) followed by up to FP_MAX_TR transforms (bitwise mask/xor,
 * byteorder), read as the register bytes in big-endian (memcmp) order. Plain payload
 * loads at the same base and offset share one dimension whatever their length: a
 * shorter load is a prefix of the longest one. Ranges are kept "left-aligned" in a
 * 16-byte space (a value v of L bytes stands for v << 8 * (16 - L)), so that tests
 * on prefixes of different lengths intersect directly.
 */
#ifndef VIFWALL_FILTERS_FAST_INTERNAL_H
#define VIFWALL_FILTERS_FAST_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/bvcls.h"
#include "filters/expr.h"

#define FP_MAX_TR     2	 /* transforms in a dimension's key */
#define FP_MAX_PROG   4	 /* expressions that compute a dimension */
#define FP_MAX_RANGES 4	 /* ranges of one predicate: more are dropped (a superset) */
#define FP_MAX_PREDS  16 /* predicates of one rule: more are dropped (a superset) */

struct fp_tr {
	uint8_t kind; /* FLT_XK_BITWISE or FLT_XK_BYTEORDER */
	uint8_t op, size, len;
	uint8_t mask[16], xor_[16];
};

/* What a dimension is. Compared with memcmp: always zero it before filling. */
struct fp_key {
	uint8_t src; /* FLT_XS_* */
	uint8_t ntr;
	uint8_t len; /* bytes; 0 for a plain payload load (merged over lengths) */
	uint8_t pad_;
	uint32_t key;
	int32_t arg;
	struct fp_tr tr[FP_MAX_TR];
};

/* How a chain computes one of its dimensions at run time. */
struct fp_dim {
	struct fp_key key;
	uint8_t width;	 /* bytes of the value */
	uint8_t min_len; /* shortest plain payload load merged in */
	uint8_t nprog, reg;
	const struct flt_expr *prog[FP_MAX_PROG]; /* of the widest: load, transforms */
	const struct flt_expr *narrow;		  /* a load of min_len bytes */
	uint32_t uses;				  /* rules with a predicate on it */
};

/* Rule predicate on one dimension: its value lies in one of the ranges (16-byte
 * left-aligned). n == 0: no value can, the rule never gets past its start. */
struct fp_pred {
	uint32_t dim;
	uint32_t n;
	flt_u128 lo[FP_MAX_RANGES], hi[FP_MAX_RANGES];
};

/* The dimensions of one chain, growing as rules are read. */
struct fp_dimtab {
	struct fp_dim *dims;
	uint32_t n, cap;
};

/* What one rule's start says. exact: the predicate says exactly whether the rule gets
 * past its start (every expression of it was read, nothing left out) and the rest of
 * the rule reads no register the start wrote; then, once the classifier has checked
 * the predicate on every dimension it names, the rule can be run from expression
 * @start (its first with a side effect or verdict) on. */
struct fp_rule_pred {
	bool never, exact;
	uint32_t start;
	uint32_t npreds;
	struct fp_pred preds[FP_MAX_PREDS];
};

/*
 * Derive the predicate of the rule made of @exprs into @out, adding the dimensions it
 * uses to @tab. Returns 0; -ENOTSUP when an expression has no describe op or reads a
 * register the rule did not write before (the fast path must then stay off for the
 * whole ruleset); -ENOMEM.
 */
int fp_rule_derive(struct flt_expr *const *exprs, uint32_t nexprs, struct fp_dimtab *tab,
		   struct fp_rule_pred *out);

#endif
