/*
 * The bridge's taps (netback-bridge/tap.h) on in-memory ports: a tapped port shows
 * its received frames as they came in and its sent frames as they leave, untapped
 * ports show nothing, and every drop of the frame path reaches the drop tap with its
 * reason and, for a rule, the deciding rule and the egress port. Loads the ruleset
 * through the kernel, so this needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "netback-bridge/bridge.h"
#include "netback-bridge/port_memory.h"
#include "netback-bridge/tap.h"
#include "tests/netback-bridge/nb_env.h"
#include "tests/netback-bridge/nb_frames.h"

static const uint8_t mac1[6] = {0x00, 0x16, 0x3e, 0, 0, 1};
static const uint8_t macu[6] = {0x00, 0x16, 0x3e, 0, 0, 0xfe};

/* Pings from web1 pass; pings to web1 stop at the rule of line 5. */
static const char rules[] = "table inet vifwall {\n"
			    "  chain forward {\n"
			    "    type filter hook forward priority 0; policy drop;\n"
			    "    ct state established,related accept\n"
			    "    ip daddr 10.0.0.11 icmp type echo-request drop\n"
			    "    icmp type echo-request accept\n"
			    "  }\n"
			    "}\n";

#define MAX_SEEN 16

/* What the taps were shown. */
struct seen {
	unsigned frames, drops;
	struct {
		char port[NB_IFNAMSIZ];
		unsigned dir;
		uint32_t len;
	} f[MAX_SEEN];
	struct {
		char in[NB_IFNAMSIZ], out[NB_IFNAMSIZ];
		enum nb_drop_reason why;
		uint64_t handle;
		uint32_t len;
	} d[MAX_SEEN];
};

struct env {
	struct nb_env nb;
	struct nb_port *web1, *uplink;
	struct nb_tap tap;
	struct seen seen;
};

static void on_frame(void *arg, const char *port, unsigned dir, const struct nb_frame *f)
{
	struct seen *s = arg;

	if (s->frames < MAX_SEEN) {
		snprintf(s->f[s->frames].port, NB_IFNAMSIZ, "%s", port);
		s->f[s->frames].dir = dir;
		s->f[s->frames].len = f->len;
	}
	s->frames++;
}

static void on_drop(void *arg, const struct nb_tap_drop *d)
{
	struct seen *s = arg;

	if (s->drops < MAX_SEEN) {
		snprintf(s->d[s->drops].in, NB_IFNAMSIZ, "%s", d->in);
		snprintf(s->d[s->drops].out, NB_IFNAMSIZ, "%s", d->out ? d->out : "");
		s->d[s->drops].why = d->why;
		s->d[s->drops].handle = d->v ? d->v->rule_handle : 0;
		s->d[s->drops].len = d->f->len;
	}
	s->drops++;
}

static int setup(void **state)
{
	const char *ports[] = {"web1", "uplink", NULL};
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	nb_env_init(&e->nb, rules, ports);
	e->web1 = nb_env_port(&e->nb, "web1", mac1, "10.0.0.11");
	e->uplink = nb_env_port(&e->nb, "uplink", NULL, NULL);
	nb_bridge_ruleset_swap(e->nb.br, e->nb.rs);
	e->tap = (struct nb_tap){.frame = on_frame, .drop = on_drop, .arg = &e->seen};
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	nb_env_fini(&e->nb);
	free(e);
	return 0;
}

static void ping(struct nb_port *p, const uint8_t *dst, const uint8_t *src, const char *sip,
		 const char *dip)
{
	struct flt_pkt pkt;
	struct tf f;

	tf_eth(&f, dst, src, 0x0800);
	tf_ip4(&f, sip, dip, 1, 8);
	tf_icmp_echo(&f);
	tf_finish(&f, &pkt);
	assert_int_equal(nb_port_memory_push(p, f.b, f.len, 0, 0, 0), 0);
}

static void run(struct env *e)
{
	assert_int_equal(nb_bridge_run_once(e->nb.br, NULL, 0, 0), 0);
}

/* A tapped port shows what it receives and what is sent out of it; the other
 * port, untapped, shows nothing; with no tap set nothing is shown at all. */
static void frames_of_a_tapped_port(void **state)
{
	struct env *e = *state;

	assert_int_equal(nb_bridge_tap_port(e->nb.br, "nosuch", NB_TAP_RX), -ENOENT);
	assert_int_equal(nb_bridge_tap_dirs(e->nb.br, "nosuch"), -ENOENT);
	assert_int_equal(nb_bridge_tap_port(e->nb.br, "web1", NB_TAP_RX | NB_TAP_TX), 0);
	assert_int_equal(nb_bridge_tap_dirs(e->nb.br, "web1"), NB_TAP_RX | NB_TAP_TX);
	assert_int_equal(nb_bridge_tap_dirs(e->nb.br, "uplink"), 0);

	/* Tapped port, but no tap installed yet: nothing. */
	ping(e->web1, macu, mac1, "10.0.0.11", "10.0.0.1");
	run(e);
	assert_int_equal(e->seen.frames, 0);

	nb_bridge_tap_set(e->nb.br, &e->tap, false);
	ping(e->web1, macu, mac1, "10.0.0.11", "10.0.0.1");
	run(e);
	assert_int_equal(e->seen.frames, 1);
	assert_string_equal(e->seen.f[0].port, "web1");
	assert_int_equal(e->seen.f[0].dir, NB_TAP_RX);
	assert_int_equal(nb_port_memory_sent(e->uplink)->frames, 2); /* forwarded as ever */

	/* The reply comes in on the (untapped) uplink and goes out of web1. */
	{
		struct flt_pkt pkt;
		struct tf f;

		tf_eth(&f, mac1, macu, 0x0800);
		tf_ip4(&f, "10.0.0.1", "10.0.0.11", 1, 8);
		tf_icmp_echo(&f);
		f.b[34] = 0; /* echo reply */
		tf_finish(&f, &pkt);
		assert_int_equal(nb_port_memory_push(e->uplink, f.b, f.len, 0, 0, 0), 0);
	}
	run(e);
	assert_int_equal(e->seen.frames, 2);
	assert_string_equal(e->seen.f[1].port, "web1");
	assert_int_equal(e->seen.f[1].dir, NB_TAP_TX);
	/* Drops were not asked for. */
	assert_int_equal(e->seen.drops, 0);

	/* Untapping the port stops it. */
	assert_int_equal(nb_bridge_tap_port(e->nb.br, "web1", 0), 0);
	ping(e->web1, macu, mac1, "10.0.0.11", "10.0.0.1");
	run(e);
	assert_int_equal(e->seen.frames, 2);
}

/* Every drop reaches the drop tap: a rule's with its rule and egress port, a spoofed
 * frame's with its anti-spoofing reason. */
static void drops_with_reason_and_rule(void **state)
{
	struct env *e = *state;
	uint64_t handles[8];

	assert_true(flt_ruleset_rule_handles(e->nb.rs, handles, 8) >= 3);
	nb_bridge_tap_set(e->nb.br, &e->tap, true);
	ping(e->uplink, mac1, macu, "10.0.0.1", "10.0.0.11");
	run(e);
	assert_int_equal(e->seen.drops, 1);
	assert_string_equal(e->seen.d[0].in, "uplink");
	assert_string_equal(e->seen.d[0].out, "web1");
	assert_int_equal(e->seen.d[0].why, NB_DROP_RULE);
	assert_int_equal(e->seen.d[0].handle, handles[1]); /* the rule of line 5 */
	{
		struct flt_rule_src src;

		assert_int_equal(flt_ruleset_rule_src(e->nb.rs, e->seen.d[0].handle, &src), 0);
		assert_int_equal(src.line, 5);
	}

	ping(e->web1, macu, mac1, "10.9.9.9", "10.0.0.1"); /* not web1's address */
	run(e);
	assert_int_equal(e->seen.drops, 2);
	assert_string_equal(e->seen.d[1].in, "web1");
	assert_string_equal(e->seen.d[1].out, "");
	assert_int_equal(e->seen.d[1].why, NB_DROP_SPOOF_IP4);
	assert_int_equal(e->seen.d[1].handle, 0);

	/* Drops off: no more calls. */
	nb_bridge_tap_set(e->nb.br, &e->tap, false);
	ping(e->uplink, mac1, macu, "10.0.0.1", "10.0.0.11");
	run(e);
	assert_int_equal(e->seen.drops, 2);
	nb_bridge_tap_set(e->nb.br, NULL, true);
	ping(e->uplink, mac1, macu, "10.0.0.1", "10.0.0.11");
	run(e);
	assert_int_equal(e->seen.drops, 2);
}

/* A removed port loses its taps; added again under its name it has none. */
static void removed_port_loses_its_taps(void **state)
{
	struct env *e = *state;
	struct nb_port *p;

	assert_int_equal(nb_bridge_tap_port(e->nb.br, "web1", NB_TAP_RX), 0);
	assert_int_equal(nb_bridge_remove_port(e->nb.br, "web1"), 0);
	assert_int_equal(nb_bridge_tap_dirs(e->nb.br, "web1"), -ENOENT);
	assert_int_equal(nb_port_open(&nb_port_memory_ops, "web1", NULL, &p), 0);
	assert_int_equal(nb_bridge_add_port(e->nb.br, p, NULL, NULL), 0);
	assert_int_equal(nb_bridge_tap_dirs(e->nb.br, "web1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(frames_of_a_tapped_port, setup, teardown),
		cmocka_unit_test_setup_teardown(drops_with_reason_and_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(removed_port_loses_its_taps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
