/*
 * The bit-vector classifier against the obvious linear scan: random rule sets over
 * dimensions of every width, random keys (some fields absent), every answer equal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filters/bvcls.h"

#define MAX_RANGES 3

struct model_rule {
	bool never;
	bool needs[FLT_BVCLS_MAX_DIMS];
	unsigned n[FLT_BVCLS_MAX_DIMS];
	flt_u128 lo[FLT_BVCLS_MAX_DIMS][MAX_RANGES], hi[FLT_BVCLS_MAX_DIMS][MAX_RANGES];
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static flt_u128 rnd_value(unsigned width, const flt_u128 *pool, unsigned npool)
{
	flt_u128 v = (flt_u128)rnd() << 64 | rnd();

	/* Mostly reuse boundary values so keys land on edges and inside small ranges. */
	if (npool && rnd() % 4)
		v = pool[rnd() % npool] + (flt_u128)(rnd() % 3) - 1;
	if (width < 16)
		v &= ((flt_u128)1 << (8 * width)) - 1;
	return v;
}

static uint32_t model_first(const struct model_rule *r, unsigned nrules, unsigned ndims,
			    const struct flt_bvcls_key *k, uint32_t from)
{
	for (uint32_t i = from; i < nrules; i++) {
		bool ok = !r[i].never;

		for (unsigned d = 0; d < ndims && ok; d++) {
			if (!r[i].n[d] && !r[i].needs[d])
				continue;
			if (!k->present[d]) {
				ok = false;
				continue;
			}
			bool in = r[i].needs[d];
			for (unsigned j = 0; j < r[i].n[d]; j++)
				in |= k->value[d] >= r[i].lo[d][j] && k->value[d] <= r[i].hi[d][j];
			ok = in;
		}
		if (ok)
			return i;
	}
	return FLT_BVCLS_NONE;
}

static void random_trial(unsigned ndims, const uint8_t *widths, unsigned nrules, unsigned nkeys)
{
	struct model_rule *r = calloc(nrules, sizeof(*r));
	flt_u128 pool[256];
	unsigned npool = 0;
	struct flt_bvcls_builder *b;
	struct flt_bvcls *c;

	assert_non_null(r);
	assert_int_equal(flt_bvcls_builder_new(ndims, widths, nrules, &b), 0);
	for (unsigned i = 0; i < nrules; i++) {
		r[i].never = rnd() % 50 == 0;
		if (r[i].never)
			assert_int_equal(flt_bvcls_rule_never(b, i), 0);
		for (unsigned d = 0; d < ndims; d++) {
			unsigned kind = rnd() % 4;

			if (kind == 0)
				continue; /* any value, absent too */
			if (kind == 1) {
				r[i].needs[d] = true;
				assert_int_equal(flt_bvcls_rule_needs(b, i, d), 0);
				continue;
			}
			r[i].n[d] = 1 + rnd() % MAX_RANGES;
			for (unsigned j = 0; j < r[i].n[d]; j++) {
				flt_u128 x = rnd_value(widths[d], pool, npool);
				flt_u128 y = rnd() % 2 ? x : rnd_value(widths[d], pool, npool);
				flt_u128 lo = x < y ? x : y, hi = x < y ? y : x;

				r[i].lo[d][j] = lo;
				r[i].hi[d][j] = hi;
				if (npool < 256)
					pool[npool++] = lo;
				assert_int_equal(flt_bvcls_rule_range(b, i, d, lo, hi), 0);
			}
		}
	}
	assert_int_equal(flt_bvcls_build(b, &c), 0);
	flt_bvcls_builder_free(b);

	for (unsigned t = 0; t < nkeys; t++) {
		struct flt_bvcls_key k = {0};
		struct flt_bvcls_pos pos;

		for (unsigned d = 0; d < ndims; d++) {
			k.present[d] = rnd() % 10 != 0;
			k.value[d] = rnd_value(widths[d], pool, npool);
		}
		flt_bvcls_locate(c, &k, &pos);
		uint32_t from = rnd() % 4 ? 0 : (uint32_t)(rnd() % nrules);
		assert_int_equal(flt_bvcls_first(c, &pos, from),
				 model_first(r, nrules, ndims, &k, from));
		if (flt_bvcls_narrow(c)) { /* the packet path's form locates the same */
			struct flt_bvcls_pos p32;
			uint32_t v[FLT_BVCLS_MAX_DIMS], absent = 0;

			for (unsigned d = 0; d < ndims; d++) {
				v[d] = (uint32_t)k.value[d];
				absent |= (uint32_t)!k.present[d] << d;
			}
			flt_bvcls_locate32(c, v, absent, &p32);
			assert_memory_equal(p32.iv, pos.iv, ndims * sizeof(pos.iv[0]));
			assert_int_equal(p32.cls, pos.cls);
		}
	}
	flt_bvcls_free(c);
	free(r);
}

static void test_random_small(void **state)
{
	static const uint8_t w[] = {1, 2, 4, 16};

	(void)state;
	rng_state = 0x1234567;
	for (int i = 0; i < 200; i++)
		random_trial(1 + rnd() % 4, w, 1 + rnd() % 100, 200);
}

static void test_random_large(void **state)
{
	static const uint8_t w[] = {1, 4, 4, 2, 2}; /* like a 5-tuple */

	(void)state;
	rng_state = 0xfeedbeef;
	random_trial(5, w, 10000, 20000);
}

static void test_no_dims_all_match(void **state)
{
	struct flt_bvcls_builder *b;
	struct flt_bvcls *c;
	struct flt_bvcls_key k = {0};
	struct flt_bvcls_pos pos;

	(void)state;
	assert_int_equal(flt_bvcls_builder_new(0, NULL, 3, &b), 0);
	assert_int_equal(flt_bvcls_rule_never(b, 0), 0);
	assert_int_equal(flt_bvcls_build(b, &c), 0);
	flt_bvcls_builder_free(b);
	flt_bvcls_locate(c, &k, &pos);
	assert_int_equal(flt_bvcls_first(c, &pos, 0), 1);
	assert_int_equal(flt_bvcls_first(c, &pos, 2), 2);
	assert_int_equal(flt_bvcls_first(c, &pos, 3), FLT_BVCLS_NONE);
	flt_bvcls_free(c);
}

static void test_edges_and_absent(void **state)
{
	static const uint8_t w[] = {2, 16};
	struct flt_bvcls_builder *b;
	struct flt_bvcls *c;
	struct flt_bvcls_key k = {.present = {true, true}};
	struct flt_bvcls_pos pos;
	flt_u128 all = ~(flt_u128)0;

	(void)state;
	assert_int_equal(flt_bvcls_builder_new(2, w, 4, &b), 0);
	assert_int_equal(flt_bvcls_rule_range(b, 0, 0, 22, 22), 0);	  /* dport 22 */
	assert_int_equal(flt_bvcls_rule_range(b, 1, 0, 65535, 65535), 0); /* top edge */
	assert_int_equal(flt_bvcls_rule_range(b, 2, 1, all, all), 0);	  /* 128-bit max */
	assert_int_equal(flt_bvcls_rule_range(b, 3, 0, 70000, 70001), -EINVAL);
	assert_int_equal(flt_bvcls_rule_range(b, 3, 0, 5, 4), -EINVAL);
	assert_int_equal(flt_bvcls_build(b, &c), 0);
	flt_bvcls_builder_free(b);

	k.value[0] = 22;
	flt_bvcls_locate(c, &k, &pos);
	assert_int_equal(flt_bvcls_first(c, &pos, 0), 0);
	k.value[0] = 65535;
	flt_bvcls_locate(c, &k, &pos);
	assert_int_equal(flt_bvcls_first(c, &pos, 0), 1);
	k.value[0] = 21;
	k.value[1] = all;
	flt_bvcls_locate(c, &k, &pos);
	assert_int_equal(flt_bvcls_first(c, &pos, 0), 2);
	k.present[0] = false; /* no transport header: port rules cannot match */
	k.value[1] = 0;
	flt_bvcls_locate(c, &k, &pos);
	assert_int_equal(flt_bvcls_first(c, &pos, 0), 3);
	flt_bvcls_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_random_large),
		cmocka_unit_test(test_no_dims_all_match),
		cmocka_unit_test(test_edges_and_absent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
