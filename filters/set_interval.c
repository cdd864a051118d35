/*
 * Interval sets of one field, the semantics of the kernel's rbtree backend. The
 * dump describes intervals by their boundaries: a start element (data of maps lives
 * there) and an element flagged NFT_SET_ELEM_INTERVAL_END holding the first key
 * after the interval; an interval reaching the largest key has no end element, and
 * nft adds an end element at key 0 before a first interval that starts above 0.
 * Keys compare as memcmp() does: big-endian, byte by byte.
 *
 * A key matches when the closest boundary at or below it is a start; where a start
 * and an end share a key (adjacent intervals of a named set), the start wins, as
 * the rbtree's descent lets it. Anonymous sets differ: the kernel answers "no
 * match" as soon as its descent meets an end element equal to the key, whether or
 * not a start with that key follows, which depends on the tree's shape. nft merges
 * adjacent intervals of anonymous sets, so such a set is refused rather than guessed.
 *
 * The reference implementation: the boundaries in one sorted array, binary search.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters/set_internal.h"

struct sort_ctx {
	const struct flt_set_spec *spec;
	uint32_t key_len;
};

static bool spec_is_end(const struct flt_set_spec *spec, uint32_t i)
{
	return (spec->elems[i].flags & FLT_SET_ELEM_F_INTERVAL_END) != 0;
}

/* By key, then ends before starts, so the last boundary <= a key is a start
 * whenever one with the same key exists. */
static int interval_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *c = arg;
	uint32_t ia = *(const uint32_t *)a, ib = *(const uint32_t *)b;
	int d = memcmp(c->spec->elems[ia].key, c->spec->elems[ib].key, c->key_len);

	if (d)
		return d;
	return (int)spec_is_end(c->spec, ib) - (int)spec_is_end(c->spec, ia);
}

int flt_set_interval_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			   uint32_t n, char *why, size_t whylen)
{
	struct flt_set_interval *iv = &s->u.interval;
	struct sort_ctx ctx = {spec, s->key_len};
	uint32_t *order = malloc((n ? n : 1) * sizeof(*order));

	iv->keys = malloc(n ? (size_t)n * s->key_len : 1);
	iv->elem = malloc((n ? n : 1) * sizeof(*iv->elem));
	if (!order || !iv->keys || !iv->elem) {
		free(order);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	memcpy(order, idx, n * sizeof(*order));
	qsort_r(order, n, sizeof(*order), interval_cmp, &ctx);
	for (uint32_t i = 0; i < n; i++) {
		bool end = spec_is_end(spec, order[i]);

		if (i > 0 &&
		    !memcmp(spec->elems[order[i - 1]].key, spec->elems[order[i]].key, s->key_len)) {
			if (spec_is_end(spec, order[i - 1]) == end) {
				free(order);
				snprintf(why, whylen, "the same interval boundary appears twice");
				return -EINVAL;
			}
			if (s->flags & FLT_SET_F_ANONYMOUS) {
				free(order);
				snprintf(why, whylen,
					 "an anonymous set with adjacent intervals: the kernel's "
					 "match at their common boundary is not defined");
				return -EOPNOTSUPP;
			}
		}
		memcpy(iv->keys + (size_t)i * s->key_len, spec->elems[order[i]].key, s->key_len);
		iv->elem[i] = end ? 0 : order[i] + 1;
		iv->nstarts += !end;
	}
	free(order);
	iv->n = n;
	s->count += iv->nstarts;
	return 0;
}

bool flt_set_interval_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem)
{
	const struct flt_set_interval *iv = &s->u.interval;
	uint32_t lo = 0, hi = iv->n; /* find the first boundary above key: lo */

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(iv->keys + (size_t)mid * s->key_len, key, s->key_len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || iv->elem[lo - 1] == 0)
		return false;
	*elem = iv->elem[lo - 1] - 1;
	return true;
}

void flt_set_interval_free(struct flt_set *s)
{
	free(s->u.interval.keys);
	free(s->u.interval.elem);
}
