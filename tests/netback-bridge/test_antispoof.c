/*
 * Anti-spoofing: every way a guest could pose as someone else is dropped with its
 * reason, and every legitimate frame (its own addresses, DHCP before it has one,
 * duplicate address detection, its link-local address) passes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netback-bridge/antispoof.h"
#include "nb_frames.h"

static const uint8_t mac_me[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x01};
static const uint8_t mac_other[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0x66};
static const uint8_t mac_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t mac_up[6] = {0x00, 0x16, 0x3e, 0x00, 0x00, 0xfe};
/* fe80::216:3eff:fe00:1, the EUI-64 link-local address of mac_me */
#define LL_ME	 "fe80::216:3eff:fe00:1"
#define LL_OTHER "fe80::216:3eff:fe00:66"

static void guest(struct nb_antispoof *as, bool with_mac)
{
	struct in_addr a4;
	struct in6_addr a6;

	assert_int_equal(nb_antispoof_init(as, with_mac ? mac_me : NULL), 0);
	inet_pton(AF_INET, "10.0.0.11", &a4);
	assert_int_equal(nb_antispoof_add_ip(as, AF_INET, &a4), 0);
	inet_pton(AF_INET, "10.0.1.11", &a4);
	assert_int_equal(nb_antispoof_add_ip(as, AF_INET, &a4), 0);
	inet_pton(AF_INET6, "fd00::11", &a6);
	assert_int_equal(nb_antispoof_add_ip(as, AF_INET6, &a6), 0);
	assert_true(as->enabled);
}

static enum nb_drop_reason verdict(const struct nb_antispoof *as, const struct tf *f)
{
	struct flt_pkt pkt;

	flt_pkt_parse(&pkt, f->b, f->len);
	return nb_antispoof_check(as, &pkt);
}

static void ip4_icmp(struct tf *f, const uint8_t *src_mac, const char *src)
{
	tf_eth(f, mac_up, src_mac, 0x0800);
	tf_ip4(f, src, "10.0.0.1", 1, 8);
	tf_icmp_echo(f);
}

static void ip6_udp(struct tf *f, const uint8_t *src_mac, const char *src)
{
	tf_eth(f, mac_up, src_mac, 0x86dd);
	tf_ip6(f, src, "fd00::1", 17, 8 + 4);
	tf_udp(f, 1000, 53, 4);
}

/* A neighbour advertisement from the guest's link-local address. */
static void na(struct tf *f, const char *target, uint8_t opt, const uint8_t *lla, uint8_t units)
{
	tf_eth(f, mac_up, mac_me, 0x86dd);
	tf_ip6(f, LL_ME, "ff02::1", 58, (uint16_t)(24 + (opt ? 8 : 0)));
	tf_nd(f, 136, target, opt, lla, units);
}

static void test_legit_ip4(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	ip4_icmp(&f, mac_me, "10.0.0.11");
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	ip4_icmp(&f, mac_me, "10.0.1.11"); /* its second address */
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
}

static void test_spoof_mac(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	ip4_icmp(&f, mac_other, "10.0.0.11");
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_MAC);
}

static void test_spoof_ip4(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	ip4_icmp(&f, mac_me, "10.0.0.12");
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP4);
	ip4_icmp(&f, mac_me, "0.0.0.0"); /* 0.0.0.0 only for DHCP */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP4);
}

static void test_dhcp_from_zero(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	tf_eth(&f, mac_bcast, mac_me, 0x0800);
	tf_ip4(&f, "0.0.0.0", "255.255.255.255", 17, 8 + 20);
	tf_udp(&f, 68, 67, 20);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	tf_eth(&f, mac_bcast, mac_me, 0x0800);
	tf_ip4(&f, "0.0.0.0", "255.255.255.255", 17, 8 + 20);
	tf_udp(&f, 68, 53, 20);
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP4);
}

static void test_ip6_sources(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	ip6_udp(&f, mac_me, "fd00::11");
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	ip6_udp(&f, mac_me, LL_ME);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	ip6_udp(&f, mac_me, "fd00::12");
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP6);
	ip6_udp(&f, mac_me, LL_OTHER);
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP6);
	ip6_udp(&f, mac_me, "::"); /* :: only for ICMPv6 */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP6);
}

static void test_dad_from_unspecified(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	tf_eth(&f, mac_bcast, mac_me, 0x86dd);
	tf_ip6(&f, "::", "ff02::1:ff00:11", 58, 24);
	tf_nd(&f, 135, "fd00::11", 0, NULL, 0);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
}

static void test_na(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	na(&f, "fd00::11", 0, NULL, 0);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	na(&f, "fd00::11", 2, mac_me, 1);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	na(&f, LL_ME, 2, mac_me, 1);
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	na(&f, "fd00::1", 0, NULL, 0); /* claims the router's address */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ND);
	na(&f, "fd00::11", 2, mac_other, 1); /* points the address at another MAC */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ND);
	na(&f, "fd00::11", 2, mac_me, 0); /* zero-length option */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ND);
	na(&f, "fd00::11", 1, mac_other, 1); /* a source option is not checked */
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
}

static void test_arp(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	tf_eth(&f, mac_bcast, mac_me, 0x0806);
	tf_arp(&f, 1, mac_me, "10.0.0.11", "10.0.0.1");
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	tf_eth(&f, mac_bcast, mac_me, 0x0806);
	tf_arp(&f, 1, mac_me, "0.0.0.0", "10.0.0.11"); /* probe */
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	tf_eth(&f, mac_bcast, mac_me, 0x0806);
	tf_arp(&f, 2, mac_me, "10.0.0.12", "10.0.0.12"); /* gratuitous, for g2 */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ARP);
	tf_eth(&f, mac_bcast, mac_me, 0x0806);
	tf_arp(&f, 1, mac_other, "10.0.0.11", "10.0.0.1"); /* sender MAC not its own */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ARP);
	tf_eth(&f, mac_bcast, mac_me, 0x0806);
	tf_arp(&f, 1, mac_me, "10.0.0.11", "10.0.0.1");
	f.len = 14 + 20; /* truncated */
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_ARP);
}

static void test_off_without_ip(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	assert_int_equal(nb_antispoof_init(&as, mac_me), 0);
	assert_false(as.enabled);
	ip4_icmp(&f, mac_other, "192.0.2.7");
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
}

static void test_without_mac(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, false);
	ip4_icmp(&f, mac_other, "10.0.0.11"); /* no MAC pinned */
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
	ip4_icmp(&f, mac_other, "10.0.0.12");
	assert_int_equal(verdict(&as, &f), NB_DROP_SPOOF_IP4);
	ip6_udp(&f, mac_other, LL_OTHER); /* any link-local then */
	assert_int_equal(verdict(&as, &f), NB_DROP_NONE);
}

static void test_runt(void **state)
{
	struct nb_antispoof as;
	struct tf f;

	(void)state;
	guest(&as, true);
	ip4_icmp(&f, mac_me, "10.0.0.11");
	f.len = 10;
	assert_int_equal(verdict(&as, &f), NB_DROP_MALFORMED);
}

static void test_config_errors(void **state)
{
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1}, zero[6];
	struct nb_antispoof as;
	struct in_addr a4;
	struct in6_addr a6;

	(void)state;
	assert_int_equal(nb_antispoof_init(&as, mcast), -EINVAL);
	assert_int_equal(nb_antispoof_init(&as, zero), -EINVAL);
	assert_int_equal(nb_antispoof_init(&as, mac_me), 0);
	inet_pton(AF_INET, "0.0.0.0", &a4);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a4), -EINVAL);
	inet_pton(AF_INET, "224.0.0.1", &a4);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a4), -EINVAL);
	inet_pton(AF_INET6, "ff02::1", &a6);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET6, &a6), -EINVAL);
	inet_pton(AF_INET6, "::1", &a6);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET6, &a6), -EINVAL);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_UNIX, &a6), -EAFNOSUPPORT);
	assert_false(as.enabled);
	for (unsigned i = 0; i < NB_AS_MAX_ADDRS; i++) {
		a4.s_addr = htonl(0x0a000001 + i);
		assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a4), 0);
	}
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a4), 0); /* repeated: fine */
	a4.s_addr = htonl(0x0a0000ff);
	assert_int_equal(nb_antispoof_add_ip(&as, AF_INET, &a4), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_legit_ip4),
		cmocka_unit_test(test_spoof_mac),
		cmocka_unit_test(test_spoof_ip4),
		cmocka_unit_test(test_dhcp_from_zero),
		cmocka_unit_test(test_ip6_sources),
		cmocka_unit_test(test_dad_from_unspecified),
		cmocka_unit_test(test_na),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_off_without_ip),
		cmocka_unit_test(test_without_mac),
		cmocka_unit_test(test_runt),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
