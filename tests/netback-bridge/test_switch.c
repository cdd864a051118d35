/*
 * The learning switch: addresses are learned and found, age out, move, stay pinned
 * when static, never exceed the bound, and frames without a known port are flooded
 * to every other port.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "netback-bridge/switch.h"

#define SEC 1000000000ull

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered unicast */
	mac[1] = 0x00;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static struct nb_switch *sw_make(uint32_t size, uint64_t age)
{
	struct nb_switch_config cfg = {.max_entries = size, .max_age_ns = age, .seed = 42};
	struct nb_switch *sw;

	assert_int_equal(nb_switch_new(&cfg, &sw), 0);
	return sw;
}

static void test_learn_lookup(void **state)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast[6] = {0x33, 0x33, 0, 0, 0, 1};
	struct nb_switch *sw = sw_make(0, 0);
	uint8_t a[6], b[6];

	(void)state;
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(nb_switch_lookup(sw, a, 0), NB_PORT_NONE);
	nb_switch_learn(sw, a, 3, 10);
	assert_int_equal(nb_switch_lookup(sw, a, 20), 3);
	assert_int_equal(nb_switch_lookup(sw, b, 20), NB_PORT_NONE);
	nb_switch_learn(sw, mcast, 1, 10); /* never learned */
	nb_switch_learn(sw, bcast, 1, 10);
	assert_int_equal(nb_switch_lookup(sw, mcast, 20), NB_PORT_NONE);
	assert_int_equal(nb_switch_lookup(sw, bcast, 20), NB_PORT_NONE);
	nb_switch_free(sw);
}

static void test_aging(void **state)
{
	struct nb_switch *sw = sw_make(0, 5 * SEC);
	struct nb_switch_stats st;
	uint8_t a[6];

	(void)state;
	mac_of(7, a);
	nb_switch_learn(sw, a, 1, 100 * SEC);
	assert_int_equal(nb_switch_lookup(sw, a, 105 * SEC), 1);
	assert_int_equal(nb_switch_lookup(sw, a, 105 * SEC + 1), NB_PORT_NONE);
	nb_switch_learn(sw, a, 1, 200 * SEC); /* seen again: back */
	assert_int_equal(nb_switch_lookup(sw, a, 204 * SEC), 1);
	nb_switch_learn(sw, a, 1, 204 * SEC); /* refreshed */
	assert_int_equal(nb_switch_lookup(sw, a, 208 * SEC), 1);
	nb_switch_get_stats(sw, 208 * SEC, &st);
	assert_int_equal(st.entries, 1);
	nb_switch_get_stats(sw, 300 * SEC, &st);
	assert_int_equal(st.entries, 0);
	nb_switch_free(sw);
}

/* Workers read their clocks at the start of their own turns, so one may learn or look
 * up with a time a little before another's: an entry seen "in the future" is fresh. */
static void test_clock_behind(void **state)
{
	struct nb_switch *sw = sw_make(0, 5 * SEC);
	uint8_t a[6];

	(void)state;
	mac_of(9, a);
	nb_switch_learn(sw, a, 2, 100 * SEC);
	assert_int_equal(nb_switch_lookup(sw, a, 100 * SEC - 1000), 2);
	nb_switch_learn(sw, a, 2, 99 * SEC); /* a worker whose turn began earlier */
	assert_int_equal(nb_switch_lookup(sw, a, 105 * SEC), 2);
	assert_int_equal(nb_switch_lookup(sw, a, 105 * SEC + 1), NB_PORT_NONE);
	nb_switch_free(sw);
}

static void test_move(void **state)
{
	struct nb_switch *sw = sw_make(0, 0);
	struct nb_switch_stats st;
	uint8_t a[6];

	(void)state;
	mac_of(9, a);
	nb_switch_learn(sw, a, 1, 1);
	nb_switch_learn(sw, a, 2, 2);
	assert_int_equal(nb_switch_lookup(sw, a, 3), 2);
	nb_switch_get_stats(sw, 3, &st);
	assert_int_equal(st.learned, 1);
	assert_int_equal(st.moved, 1);
	nb_switch_free(sw);
}

static void test_static(void **state)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	struct nb_switch *sw = sw_make(0, 1 * SEC);
	uint8_t a[6];

	(void)state;
	mac_of(11, a);
	assert_int_equal(nb_switch_add_static(sw, a, 4), 0);
	assert_int_equal(nb_switch_add_static(sw, a, 4), 0);
	assert_int_equal(nb_switch_add_static(sw, a, 5), -EEXIST);
	assert_int_equal(nb_switch_add_static(sw, mcast, 5), -EINVAL);
	assert_int_equal(nb_switch_add_static(sw, a, NB_PORT_NONE), -EINVAL);
	nb_switch_learn(sw, a, 0, 1); /* a spoofer on port 0 cannot take it */
	assert_int_equal(nb_switch_lookup(sw, a, 1000 * SEC), 4); /* never ages */
	nb_switch_flush_port(sw, 4);
	assert_int_equal(nb_switch_lookup(sw, a, 0), NB_PORT_NONE);
	nb_switch_free(sw);
}

/* What the bridge does when a port goes: flush it, move the last port into its place. */
static void test_remove_renumber(void **state)
{
	struct nb_switch *sw = sw_make(0, 10 * SEC);
	uint8_t gone[6], last[6], learned[6], other[6];

	(void)state;
	mac_of(21, gone);
	mac_of(22, last);
	mac_of(23, learned);
	mac_of(24, other);
	assert_int_equal(nb_switch_add_static(sw, gone, 1), 0);
	assert_int_equal(nb_switch_add_static(sw, last, 3), 0);
	nb_switch_learn(sw, learned, 3, 1);
	nb_switch_learn(sw, other, 2, 1);
	nb_switch_flush_port(sw, 1);
	nb_switch_renumber_port(sw, 3, 1);
	assert_int_equal(nb_switch_lookup(sw, gone, 2), NB_PORT_NONE);
	assert_int_equal(nb_switch_lookup(sw, last, 2), 1);
	assert_int_equal(nb_switch_lookup(sw, learned, 2), 1);
	assert_int_equal(nb_switch_lookup(sw, other, 2), 2);
	/* The freed MAC may be pinned again (the guest comes back on a new port). */
	assert_int_equal(nb_switch_add_static(sw, gone, 2), 0);
	nb_switch_free(sw);
}

static void test_bound(void **state)
{
	struct nb_switch *sw = sw_make(16, 0);
	struct nb_switch_stats st;
	uint8_t a[6], pinned[2][6];
	unsigned found = 0;

	(void)state;
	mac_of(0xa0000001, pinned[0]);
	mac_of(0xa0000002, pinned[1]);
	assert_int_equal(nb_switch_add_static(sw, pinned[0], 1), 0);
	assert_int_equal(nb_switch_add_static(sw, pinned[1], 2), 0);
	for (uint32_t i = 0; i < 1000; i++) {
		mac_of(i, a);
		nb_switch_learn(sw, a, 0, i + 1);
	}
	nb_switch_get_stats(sw, 1001, &st);
	assert_int_equal(st.max_entries, 16);
	assert_true(st.entries <= 16);
	assert_true(st.evicted > 0);
	assert_int_equal(st.learned, 1000);
	/* The newest address was kept, the static ones survived the flood. */
	mac_of(999, a);
	assert_int_equal(nb_switch_lookup(sw, a, 1001), 0);
	assert_int_equal(nb_switch_lookup(sw, pinned[0], 1001), 1);
	assert_int_equal(nb_switch_lookup(sw, pinned[1], 1001), 2);
	for (uint32_t i = 0; i < 1000; i++) {
		mac_of(i, a);
		found += nb_switch_lookup(sw, a, 1001) != NB_PORT_NONE;
	}
	assert_true(found <= 14);
	assert_true(found >= 8); /* the table is used, not left empty */
	nb_switch_free(sw);
}

static void test_flood(void **state)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct nb_switch *sw = sw_make(0, 0);
	uint16_t out[4];
	uint8_t a[6], b[6];

	(void)state;
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(nb_switch_egress(sw, bcast, 1, 4, 0, out), 3);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 3);
	assert_int_equal(nb_switch_egress(sw, a, 0, 4, 0, out), 3); /* unknown unicast */
	assert_int_equal(out[0], 1);
	assert_int_equal(out[2], 3);
	nb_switch_learn(sw, a, 3, 1);
	nb_switch_learn(sw, b, 1, 1);
	assert_int_equal(nb_switch_egress(sw, a, 1, 4, 2, out), 1);
	assert_int_equal(out[0], 3);
	assert_int_equal(nb_switch_egress(sw, a, 3, 4, 2, out), 0);	/* same segment */
	assert_int_equal(nb_switch_egress(sw, bcast, 0, 1, 2, out), 0); /* nobody else */
	nb_switch_free(sw);
}

static void test_config(void **state)
{
	struct nb_switch_config cfg = {.max_entries = 1u << 30};
	struct nb_switch_stats st;
	struct nb_switch *sw;

	(void)state;
	assert_int_equal(nb_switch_new(&cfg, &sw), -EINVAL);
	assert_int_equal(nb_switch_new(NULL, &sw), 0);
	nb_switch_get_stats(sw, 0, &st);
	assert_int_equal(st.max_entries, 4096);
	nb_switch_free(sw);
	nb_switch_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learn_lookup),	cmocka_unit_test(test_aging),
		cmocka_unit_test(test_clock_behind),	cmocka_unit_test(test_move),
		cmocka_unit_test(test_static),		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_flood),		cmocka_unit_test(test_config),
		cmocka_unit_test(test_remove_renumber),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
