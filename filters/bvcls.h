/*
 * Bit-vector classifier: finds the first rule (lowest index) whose every field
 * predicate matches a packet, in time that grows with the number of 64-rule words
 * scanned, not with the number of rules tested one by one.
 *
 * The rule engine describes a run of rules as predicates over a few "dimensions"
 * (a field such as ip saddr, th dport, or meta iifname, possibly masked): per rule and
 * dimension, either "any value" or a union of closed ranges of the field's value read
 * big-endian. A field may also be absent from a packet (the kernel's expression would
 * break: no transport header, packet too short); an absent field matches only rules
 * that do not look at it.
 *
 * Build (flt_bvcls_build) may allocate and fail; lookup never allocates and never
 * fails. Lookups are exact: tests compare them with a plain linear scan.
 */
#ifndef VIFWALL_FILTERS_BVCLS_H
#define VIFWALL_FILTERS_BVCLS_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 flt_u128;

#define FLT_BVCLS_MAX_DIMS  16
#define FLT_BVCLS_MAX_WIDTH 16 /* bytes: an IPv6 address or an interface name */
#define FLT_BVCLS_NONE	    UINT32_MAX

struct flt_bvcls;
struct flt_bvcls_builder;

/* Start describing @nrules rules over @ndims dimensions of the given widths in bytes.
 * Returns 0, or -EINVAL / -ENOMEM. Free with flt_bvcls_builder_free. */
int flt_bvcls_builder_new(unsigned ndims, const uint8_t *widths, uint32_t nrules,
			  struct flt_bvcls_builder **out);
void flt_bvcls_builder_free(struct flt_bvcls_builder *b);

/* Rule @rule matches dimension @dim only for values in [lo, hi]; several calls for the
 * same rule and dimension make a union. A rule with no range on a dimension matches
 * any value there, but not an absent field only if flt_bvcls_rule_needs() was called.
 * Returns 0, -EINVAL (bad index, lo > hi, value wider than the dimension) or -ENOMEM. */
int flt_bvcls_rule_range(struct flt_bvcls_builder *b, uint32_t rule, unsigned dim, flt_u128 lo,
			 flt_u128 hi);

/* Rule @rule needs dimension @dim present (it reads the field) but accepts any value. */
int flt_bvcls_rule_needs(struct flt_bvcls_builder *b, uint32_t rule, unsigned dim);

/* Rule @rule can never match (e.g. an empty set). */
int flt_bvcls_rule_never(struct flt_bvcls_builder *b, uint32_t rule);

/* Build the classifier. The builder may be freed afterwards. Returns 0 or -ENOMEM. */
int flt_bvcls_build(const struct flt_bvcls_builder *b, struct flt_bvcls **out);
void flt_bvcls_free(struct flt_bvcls *c);

/* Bytes the classifier holds, for stats and the memory budget. */
size_t flt_bvcls_memory(const struct flt_bvcls *c);

/* A packet's values: present[d] false means the field is absent. */
struct flt_bvcls_key {
	flt_u128 value[FLT_BVCLS_MAX_DIMS];
	bool present[FLT_BVCLS_MAX_DIMS];
};

/* Interval index per dimension: computing them is the expensive half of a lookup, so
 * callers that continue a search (after a rule that did not end evaluation) reuse it. */
struct flt_bvcls_pos {
	uint32_t iv[FLT_BVCLS_MAX_DIMS];
	uint32_t cls; /* the folded dimensions' class */
};

/* Locate @key's value in every dimension. Never fails. */
void flt_bvcls_locate(const struct flt_bvcls *c, const struct flt_bvcls_key *key,
		      struct flt_bvcls_pos *pos);

/* Whether every dimension of @c is at most 4 bytes wide: then flt_bvcls_locate32 can
 * take the packet's values as 32-bit words, the cheap form for the packet path. */
bool flt_bvcls_narrow(const struct flt_bvcls *c);

/* flt_bvcls_locate for a narrow classifier: @value[d] the value of dimension d (read
 * only when bit d of @absent is clear). Never fails. */
void flt_bvcls_locate32(const struct flt_bvcls *c, const uint32_t *value, uint32_t absent,
			struct flt_bvcls_pos *pos);

/* The first rule with index >= @from that matches the located key, or FLT_BVCLS_NONE. */
uint32_t flt_bvcls_first(const struct flt_bvcls *c, const struct flt_bvcls_pos *pos, uint32_t from);

/* Big-endian bytes to a value, as dimensions compare them. On the packet path: the
 * common widths without a byte loop. */
static inline flt_u128 flt_bvcls_value(const uint8_t *p, unsigned len)
{
	uint64_t h, l;
	uint32_t x;
	uint16_t y;
	flt_u128 v = 0;

	switch (len) {
	case 1:
		return p[0];
	case 2:
		memcpy(&y, p, 2);
		return be16toh(y);
	case 4:
		memcpy(&x, p, 4);
		return be32toh(x);
	case 16:
		memcpy(&h, p, 8);
		memcpy(&l, p + 8, 8);
		return (flt_u128)be64toh(h) << 64 | be64toh(l);
	default:
		for (unsigned i = 0; i < len; i++)
			v = v << 8 | p[i];
		return v;
	}
}

#endif
