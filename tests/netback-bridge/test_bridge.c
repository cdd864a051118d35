/*
 * The bridge end to end on in-memory ports (port_memory.h): the real switch,
 * anti-spoofing, rules (loaded through the kernel, so this needs root), conntrack and
 * reject, with frames pushed in and what comes out looked at. Ports: web1 and web2
 * (guests with anti-spoofing), uplink.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "netback-bridge/bridge.h"
#include "netback-bridge/port_memory.h"
#include "tests/netback-bridge/nb_env.h"
#include "tests/netback-bridge/nb_frames.h"

static const uint8_t mac1[6] = {0x00, 0x16, 0x3e, 0, 0, 1}, mac2[6] = {0x00, 0x16, 0x3e, 0, 0, 2};
static const uint8_t macu[6] = {0x00, 0x16, 0x3e, 0, 0, 0xfe},
		     macx[6] = {0x00, 0x16, 0x3e, 0, 0, 0x77};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static const char rules[] = "table inet vifwall {\n"
			    "  chain forward {\n"
			    "    type filter hook forward priority 0; policy drop;\n"
			    "    ct state established,related accept\n"
			    "    oifname \"web2\" udp dport 67 drop\n"
			    "    udp dport 67 accept\n"
			    "    icmp type echo-request accept\n"
			    "    tcp dport 23 reject with tcp reset\n"
			    "    iifname \"web*\" udp dport 53 accept\n"
			    "  }\n"
			    "}\n";

struct env {
	struct nb_env nb;
	struct nb_port *web1, *web2, *uplink;
};

static int setup(void **state)
{
	const char *ports[] = {"web1", "web2", "uplink", NULL};
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	nb_env_init(&e->nb, rules, ports);
	e->web1 = nb_env_port(&e->nb, "web1", mac1, "10.0.0.11");
	e->web2 = nb_env_port(&e->nb, "web2", mac2, "10.0.0.12");
	e->uplink = nb_env_port(&e->nb, "uplink", NULL, NULL);
	nb_bridge_ruleset_swap(e->nb.br, e->nb.rs);
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

static void run(struct env *e)
{
	assert_int_equal(nb_bridge_run_once(e->nb.br, NULL, 0, 0), 0);
}

/* Queue @f (its checksums completed first) for port @p's next burst. */
static void push(struct nb_port *p, struct tf *f)
{
	struct flt_pkt pkt;

	tf_finish(f, &pkt);
	assert_int_equal(nb_port_memory_push(p, f->b, f->len, 0, 0, 0), 0);
}

static uint64_t sent(struct nb_port *p)
{
	return nb_port_memory_sent(p)->frames;
}

static uint64_t drops(struct env *e, unsigned port, enum nb_drop_reason r)
{
	struct nb_port_info pi;

	assert_int_equal(nb_bridge_port_info(e->nb.br, port, &pi), 0);
	return pi.c.drops[r];
}

static void clear(struct env *e)
{
	nb_port_memory_clear(e->web1);
	nb_port_memory_clear(e->web2);
	nb_port_memory_clear(e->uplink);
}

static void ping(struct tf *f, const uint8_t *dst, const uint8_t *src, const char *sip,
		 const char *dip)
{
	tf_eth(f, dst, src, 0x0800);
	tf_ip4(f, sip, dip, 1, 8);
	tf_icmp_echo(f);
}

/* A ping to a MAC nobody has shown yet is flooded; the reply teaches the switch, and
 * the next frame to that MAC goes to its port only. */
static void learns_and_floods(void **state)
{
	struct env *e = *state;
	struct tf f;

	ping(&f, macu, mac1, "10.0.0.11", "10.0.0.1");
	push(e->web1, &f);
	run(e);
	assert_int_equal(sent(e->uplink), 1);
	assert_int_equal(sent(e->web2), 1); /* unknown unicast: flooded */
	assert_int_equal(sent(e->web1), 0);

	/* The reply (established) from the uplink teaches macu's port. */
	tf_eth(&f, mac1, macu, 0x0800);
	tf_ip4(&f, "10.0.0.1", "10.0.0.11", 1, 8);
	tf_icmp_echo(&f);
	f.b[34] = 0; /* echo reply */
	push(e->uplink, &f);
	run(e);
	assert_int_equal(sent(e->web1), 1);
	assert_int_equal(sent(e->web2), 1);

	clear(e);
	ping(&f, macu, mac1, "10.0.0.11", "10.0.0.1");
	push(e->web1, &f);
	run(e);
	assert_int_equal(sent(e->uplink), 1);
	assert_int_equal(sent(e->web2), 0);
}

/* A broadcast is judged per egress port: it reaches the uplink but the rule naming
 * web2 keeps it from web2. */
static void flood_is_judged_per_egress_port(void **state)
{
	struct env *e = *state;
	struct tf f;

	tf_eth(&f, bcast, mac1, 0x0800);
	tf_ip4(&f, "10.0.0.11", "255.255.255.255", 17, 8 + 4);
	tf_udp(&f, 68, 67, 4);
	push(e->web1, &f);
	run(e);
	assert_int_equal(sent(e->uplink), 1);
	assert_int_equal(sent(e->web2), 0);
	assert_int_equal(drops(e, 0, NB_DROP_RULE), 1);
	assert_memory_equal(nb_port_memory_sent(e->uplink)->last[0].data, f.b, f.len);
}

static void spoofed_sources_are_dropped_and_counted(void **state)
{
	struct env *e = *state;
	struct tf f;

	ping(&f, macu, mac1, "10.0.0.99", "10.0.0.1"); /* foreign IPv4 source */
	push(e->web1, &f);
	ping(&f, macu, macx, "10.0.0.11", "10.0.0.1"); /* foreign MAC */
	push(e->web1, &f);
	tf_eth(&f, bcast, mac1, 0x0806); /* ARP claiming web2's address */
	tf_arp(&f, 2, mac1, "10.0.0.12", "10.0.0.12");
	push(e->web1, &f);
	run(e);
	assert_int_equal(sent(e->uplink) + sent(e->web2), 0);
	assert_int_equal(drops(e, 0, NB_DROP_SPOOF_IP4), 1);
	assert_int_equal(drops(e, 0, NB_DROP_SPOOF_MAC), 1);
	assert_int_equal(drops(e, 0, NB_DROP_SPOOF_ARP), 1);
}

/* `reject with tcp reset`: nothing goes forward, a RST goes back out of web1. */
static void reject_answers_on_the_ingress_port(void **state)
{
	struct env *e = *state;
	const struct nb_port_memory_tx *tx;
	struct tf f;

	tf_eth(&f, macu, mac1, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.1", 6, 20);
	tf_tcp(&f, 40000, 23, 0);
	push(e->web1, &f);
	run(e);
	assert_int_equal(sent(e->uplink) + sent(e->web2), 0);
	tx = nb_port_memory_sent(e->web1);
	assert_int_equal(tx->frames, 1);
	assert_memory_equal(tx->last[0].data, mac1, 6); /* back to the guest */
	assert_int_equal(tx->last[0].data[23], 6);	/* TCP */
	assert_true(tx->last[0].data[34 + 13] & 0x04);	/* RST */
	/* macu is unknown yet: flooded to web2 and uplink, refused for each (counted per
	 * egress port), answered once. */
	assert_int_equal(drops(e, 0, NB_DROP_RULE), 2);
}

/* A guest with a full queue gets one burst per turn like everyone else: a frame of
 * web2's arriving behind web1's 64 goes out within the first turn's bursts. */
static void a_flooding_port_does_not_starve_another(void **state)
{
	struct env *e = *state;
	const struct nb_port_memory_tx *tx;
	struct tf f;
	int pos = -1;

	for (int i = 0; i < NB_MEM_QUEUE; i++) {
		tf_eth(&f, macu, mac1, 0x0800);
		tf_ip4(&f, "10.0.0.11", "10.0.0.1", 17, 8);
		tf_udp(&f, (uint16_t)(10000 + i), 53, 0);
		push(e->web1, &f);
	}
	tf_eth(&f, macu, mac2, 0x0800);
	tf_ip4(&f, "10.0.0.12", "10.0.0.1", 17, 8);
	tf_udp(&f, 7, 53, 0);
	push(e->web2, &f);
	assert_int_equal(nb_port_memory_push(e->web1, f.b, f.len, 0, 0, 0), -ENOSPC);
	run(e);
	tx = nb_port_memory_sent(e->uplink);
	assert_int_equal(tx->frames, NB_MEM_QUEUE + 1);
	for (unsigned i = 0; i < tx->kept; i++)
		if (!memcmp(tx->last[i].data + 6, mac2, 6))
			pos = (int)i;
	assert_true(pos >= 0);
	assert_true(pos <= 32); /* after at most one burst of web1's */
}

/* Garbage and runts are counted, never forwarded, never read past their end. */
static void malformed_frames_are_counted(void **state)
{
	struct env *e = *state;
	struct tf f;

	ping(&f, macu, mac1, "10.0.0.11", "10.0.0.1");
	f.b[14] = 0x4f; /* IHL 15: 60 bytes of header in a 28-byte packet */
	push(e->web1, &f);
	assert_int_equal(nb_port_memory_push(e->web1, f.b, 9, 0, 0, 0), 0); /* runt */
	run(e);
	assert_int_equal(sent(e->uplink) + sent(e->web2), 0);
	assert_true(drops(e, 0, NB_DROP_MALFORMED) >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(learns_and_floods, setup, teardown),
		cmocka_unit_test_setup_teardown(flood_is_judged_per_egress_port, setup, teardown),
		cmocka_unit_test_setup_teardown(spoofed_sources_are_dropped_and_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reject_answers_on_the_ingress_port, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_flooding_port_does_not_starve_another, setup,
						teardown),
		cmocka_unit_test_setup_teardown(malformed_frames_are_counted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
