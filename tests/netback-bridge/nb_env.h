/*
 * A bridge on in-memory ports (port_memory.h) for the netback-bridge unit tests: the
 * ruleset (loaded through the kernel, so root), a connection table and the bridge.
 * Include after cmocka.h.
 */
#ifndef VIFWALL_TESTS_NB_ENV_H
#define VIFWALL_TESTS_NB_ENV_H

#include <arpa/inet.h>

#include "filters/conntrack.h"
#include "filters/ruleset.h"
#include "netback-bridge/bridge.h"
#include "netback-bridge/port_memory.h"
#include "tests/lib/nft_text.h"

struct nb_env {
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	struct nb_bridge *br;
};

/* Load @rules (port names @ports), make the table and the bridge. */
static inline void nb_env_init(struct nb_env *e, const char *rules, const char *const *ports)
{
	struct flt_ct_config cc = {.max_entries = 1024};
	struct nb_bridge_config bc = {.sw.seed = 1};
	char *err = NULL;

	if (test_ruleset_from_text(rules, ports, NULL, &e->rs, &err) < 0)
		fail_msg("the ruleset did not load (root needed): %s", err ? err : "?");
	assert_int_equal(flt_ct_table_new(&cc, &e->ct), 0);
	bc.ct = e->ct;
	assert_int_equal(nb_bridge_new(&bc, &e->br), 0);
}

/* Add an in-memory port @name: a guest with anti-spoofing from @mac and @ip, or the
 * uplink when @mac is NULL. */
static inline struct nb_port *nb_env_port(struct nb_env *e, const char *name, const uint8_t *mac,
					  const char *ip)
{
	struct nb_antispoof as;
	struct nb_port *p;
	struct in_addr a;

	assert_int_equal(nb_port_open(&nb_port_memory_ops, name, NULL, &p), 0);
	if (!mac) {
		assert_int_equal(nb_bridge_add_port(e->br, p, NULL, NULL), 0);
		return p;
	}
	assert_int_equal(nb_antispoof_init(&as, mac), 0);
	inet_pton(AF_INET, ip, &a);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a), 0);
	assert_int_equal(nb_bridge_add_port(e->br, p, &as, NULL), 0);
	return p;
}

static inline void nb_env_fini(struct nb_env *e)
{
	nb_bridge_free(e->br);
	flt_ruleset_free(e->rs);
	flt_ct_table_free(e->ct);
}

#endif
