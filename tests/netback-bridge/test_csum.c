/*
 * Completing offloaded checksums: the result verifies with an independent
 * computation (sum over pseudo-header and segment == 0xffff), for TCP and UDP over
 * IPv4 and IPv6, odd lengths included; frames it must not touch are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "netback-bridge/csum.h"
#include "nb_frames.h"

static const uint8_t m1[6] = {0x02, 0, 0, 0, 0, 1}, m2[6] = {0x02, 0, 0, 0, 0, 2};

/* RFC 1071 the slow way, byte pairs into a 32-bit sum folded as it goes. */
static uint16_t verify(const struct tf *f)
{
	struct flt_pkt pkt;
	uint32_t sum = 0, l4len, i;
	const uint8_t *p;
	uint8_t ph[40];
	uint32_t phlen;

	assert_int_equal(flt_pkt_parse(&pkt, f->b, f->len), FLT_PKT_IP);
	l4len = flt_pkt_end(&pkt) - pkt.th;
	memset(ph, 0, sizeof(ph));
	if (pkt.proto == 0x0800) {
		memcpy(ph, f->b + pkt.nh + 12, 8);
		ph[9] = pkt.l4proto;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		phlen = 12;
	} else {
		memcpy(ph, f->b + pkt.nh + 8, 32);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = pkt.l4proto;
		phlen = 40;
	}
	for (i = 0; i < phlen; i += 2)
		sum += (uint32_t)ph[i] << 8 | ph[i + 1];
	p = f->b + pkt.th;
	for (i = 0; i < l4len; i++)
		sum += i & 1 ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void complete(struct tf *f)
{
	struct flt_pkt pkt;

	flt_pkt_parse(&pkt, f->b, f->len);
	assert_true(nb_csum_complete(&pkt, f->b));
}

static void test_ip4_udp_tcp(void **state)
{
	struct tf f;

	(void)state;
	for (uint16_t n = 0; n < 40; n++) {
		tf_eth(&f, m2, m1, 0x0800);
		tf_ip4(&f, "10.0.0.11", "10.0.0.1", 17, (uint16_t)(8 + n));
		tf_udp(&f, 1234, 53, n);
		complete(&f);
		assert_int_equal(verify(&f), 0xffff);
		tf_eth(&f, m2, m1, 0x0800);
		tf_ip4(&f, "10.0.0.11", "10.0.0.1", 6, (uint16_t)(20 + n));
		tf_tcp(&f, 40000, 80, n);
		/* whatever the sender left there (the pseudo-header sum) is replaced */
		f.b[14 + 20 + 16] = 0xde;
		complete(&f);
		assert_int_equal(verify(&f), 0xffff);
	}
}

static void test_ip6_udp_tcp(void **state)
{
	struct tf f;

	(void)state;
	for (uint16_t n = 0; n < 40; n += 3) {
		tf_eth(&f, m2, m1, 0x86dd);
		tf_ip6(&f, "fd00::11", "fd00::1", 17, (uint16_t)(8 + n));
		tf_udp(&f, 1234, 53, n);
		complete(&f);
		assert_int_equal(verify(&f), 0xffff);
		tf_eth(&f, m2, m1, 0x86dd);
		tf_ip6(&f, "fd00::11", "fd00::1", 6, (uint16_t)(20 + n));
		tf_tcp(&f, 40000, 80, n);
		complete(&f);
		assert_int_equal(verify(&f), 0xffff);
	}
}

static void test_left_alone(void **state)
{
	struct flt_pkt pkt;
	struct tf f, copy;

	(void)state;
	tf_eth(&f, m2, m1, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.1", 1, 8);
	tf_icmp_echo(&f);
	copy = f;
	flt_pkt_parse(&pkt, f.b, f.len);
	assert_false(nb_csum_complete(&pkt, f.b));
	assert_memory_equal(f.b, copy.b, f.len);
	tf_eth(&f, m2, m1, 0x0806);
	tf_arp(&f, 1, m1, "10.0.0.11", "10.0.0.1");
	flt_pkt_parse(&pkt, f.b, f.len);
	assert_false(nb_csum_complete(&pkt, f.b));
}

/* The partial form plus the segment's own sum is the full checksum again. */
static void test_to_partial(void **state)
{
	struct flt_pkt pkt;
	struct tf f, full;

	(void)state;
	tf_eth(&f, m2, m1, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.1", 6, 20 + 101);
	tf_tcp(&f, 40000, 80, 101);
	complete(&f);
	full = f;
	flt_pkt_parse(&pkt, f.b, f.len);
	assert_int_equal(nb_csum_to_partial(&pkt, f.b), 14 + 20);
	assert_int_not_equal(memcmp(f.b, full.b, f.len), 0);
	/* a device completing it: sum the segment over the partial value, invert */
	{
		uint64_t sum = nb_csum_add(0, f.b + 34, f.len - 34);
		uint16_t c = (uint16_t)~nb_csum_fold(sum);

		f.b[34 + 16] = (uint8_t)(c >> 8);
		f.b[34 + 17] = (uint8_t)c;
	}
	assert_memory_equal(f.b, full.b, f.len);
	tf_eth(&f, m2, m1, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.1", 1, 8);
	tf_icmp_echo(&f);
	flt_pkt_parse(&pkt, f.b, f.len);
	assert_int_equal(nb_csum_to_partial(&pkt, f.b), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_udp_tcp),
		cmocka_unit_test(test_ip6_udp_tcp),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_to_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
