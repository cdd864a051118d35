/*
 * Answers to rejected frames: ICMP / ICMPv6 unreachable and TCP resets with the
 * layouts, codes, sequence numbers and checksums the kernel's nf_reject gives, and
 * silence where the kernel is silent (resets, ICMP errors, broadcasts, fragments, bad
 * checksums, no room).
 */
#include <netinet/in.h> /* before the linux/ headers */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "netback-bridge/csum.h"
#include "netback-bridge/reject.h"
#include "nb_frames.h"

static const uint8_t guest[6] = {0x02, 0, 0, 0, 0, 1}, peer[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct flt_verdict verdict(uint8_t type, uint8_t code)
{
	return (struct flt_verdict){
		.code = FLT_REJECT, .reject_type = type, .reject_icmp_code = code};
}

/* Parse @f; complete its TCP/UDP checksum (tf_* leave it zero), fix an ICMP one. */
static void finish(struct tf *f, struct flt_pkt *pkt)
{
	assert_int_equal(tf_finish(f, pkt), FLT_PKT_IP);
}

/* The answer parses, comes back to @guest from @peer, and every checksum in it holds
 * (a valid packet sums to 0xffff over its pseudo-header and segment). */
static void check_reply(const uint8_t *r, uint32_t len, struct flt_pkt *rp)
{
	uint32_t l4len;
	uint64_t sum;

	assert_true(len > 0);
	assert_int_equal(flt_pkt_parse(rp, r, len), FLT_PKT_IP);
	assert_memory_equal(r, guest, 6);
	assert_memory_equal(r + 6, peer, 6);
	l4len = flt_pkt_end(rp) - rp->th;
	if (rp->nfproto == NFPROTO_IPV4) {
		assert_int_equal(nb_csum_fold(nb_csum_add(0, r + rp->nh, 20)), 0xffff);
		assert_int_equal(r[rp->nh + 8], 64);
		sum = 0;
		if (rp->l4proto == IPPROTO_TCP) {
			uint8_t ph[12] = {0};

			memcpy(ph, r + rp->nh + 12, 8);
			ph[9] = IPPROTO_TCP;
			ph[11] = (uint8_t)l4len;
			sum = nb_csum_add(0, ph, 12);
		}
	} else {
		uint8_t ph[40] = {0};

		memcpy(ph, r + rp->nh + 8, 32);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = rp->l4proto;
		sum = nb_csum_add(0, ph, 40);
		assert_int_equal(r[rp->nh + 7], 64);
	}
	assert_int_equal(nb_csum_fold(nb_csum_add(sum, r + rp->th, l4len)), 0xffff);
}

static void tcp_syn_gets_rst_ack(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_TCP_RST, 0);
	uint8_t r[NB_REJECT_MAX];
	uint32_t len;

	(void)state;
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_TCP, 20 + 3);
	tf_tcp(&f, 40000, 22, 3); /* SYN, seq 0x12345678, 3 payload bytes */
	finish(&f, &pkt);
	len = nb_reject_build(&pkt, &v, r, sizeof(r));
	check_reply(r, len, &rp);
	assert_int_equal(len, 14 + 20 + 20);
	assert_int_equal(rp.l4proto, IPPROTO_TCP);
	assert_memory_equal(r + 14 + 12, f.b + 14 + 16, 4); /* from the original destination */
	assert_memory_equal(r + 14 + 16, f.b + 14 + 12, 4);
	assert_int_equal(r[14 + 6], 0x40);	      /* DF */
	assert_memory_equal(r + 34, f.b + 34 + 2, 2); /* sport = original dport */
	assert_int_equal(r[34 + 13], 0x14);	      /* RST|ACK */
	const uint8_t seq0[4] = {0, 0, 0, 0}, ack[4] = {0x12, 0x34, 0x56, 0x78 + 3 + 1};
	assert_memory_equal(r + 34 + 4, seq0, 4);
	assert_memory_equal(r + 34 + 8, ack, 4); /* seq + payload + SYN */
}

static void tcp_ack_gets_rst_from_its_ack(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_TCP_RST, 0);
	uint8_t r[NB_REJECT_MAX];

	(void)state;
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_TCP, 20);
	tf_tcp(&f, 40000, 22, 0);
	f.b[34 + 8] = 0xaa; /* ack_seq 0xaabbccdd */
	f.b[34 + 9] = 0xbb;
	f.b[34 + 10] = 0xcc;
	f.b[34 + 11] = 0xdd;
	f.b[34 + 13] = 0x10; /* ACK only */
	finish(&f, &pkt);
	check_reply(r, nb_reject_build(&pkt, &v, r, sizeof(r)), &rp);
	assert_int_equal(r[34 + 13], 0x04); /* RST */
	assert_memory_equal(r + 34 + 4, f.b + 34 + 8, 4);
}

static void udp_gets_port_unreachable_quoting_the_packet(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
	uint8_t r[NB_REJECT_MAX];
	uint32_t len;

	(void)state;
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8 + 10);
	tf_udp(&f, 5000, 53, 10);
	finish(&f, &pkt);
	len = nb_reject_build(&pkt, &v, r, sizeof(r));
	check_reply(r, len, &rp);
	assert_int_equal(rp.l4proto, IPPROTO_ICMP);
	assert_int_equal(r[rp.th], 3);	   /* destination unreachable */
	assert_int_equal(r[rp.th + 1], 3); /* port unreachable */
	assert_int_equal(r[14 + 1], 0xc0); /* internetwork control precedence */
	assert_int_equal(len, 14 + 20 + 8 + 20 + 8 + 10);
	assert_memory_equal(r + rp.th + 8, f.b + 14, 20 + 8 + 10);
}

static void long_packets_are_quoted_within_576_bytes(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_ICMP_UNREACH, 13);
	uint8_t r[NB_REJECT_MAX];

	(void)state;
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8 + 1000);
	tf_udp(&f, 5000, 53, 1000);
	finish(&f, &pkt);
	check_reply(r, nb_reject_build(&pkt, &v, r, sizeof(r)), &rp);
	assert_int_equal(rp.len, 576);
	assert_int_equal(r[rp.th + 1], 13);
}

static void ipv6_udp_and_tcp(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	uint8_t r[NB_REJECT_MAX];

	(void)state;
	tf_eth(&f, peer, guest, 0x86dd);
	tf_ip6(&f, "2001:db8::11", "2001:db8::12", IPPROTO_UDP, 8 + 4);
	tf_udp(&f, 5000, 53, 4);
	finish(&f, &pkt);
	check_reply(r, nb_reject_build(&pkt, &v, r, sizeof(r)), &rp);
	assert_int_equal(rp.l4proto, IPPROTO_ICMPV6);
	assert_int_equal(r[rp.th], 1);	   /* destination unreachable */
	assert_int_equal(r[rp.th + 1], 1); /* administratively prohibited */
	assert_memory_equal(r + 14 + 8, f.b + 14 + 24, 16);

	v = verdict(NFT_REJECT_TCP_RST, 0);
	tf_eth(&f, peer, guest, 0x86dd);
	tf_ip6(&f, "2001:db8::11", "2001:db8::12", IPPROTO_TCP, 20);
	tf_tcp(&f, 40000, 80, 0);
	finish(&f, &pkt);
	check_reply(r, nb_reject_build(&pkt, &v, r, sizeof(r)), &rp);
	assert_int_equal(rp.l4proto, IPPROTO_TCP);
	assert_int_equal(r[rp.th + 13], 0x14);
}

static void vlan_tag_is_kept(void **state)
{
	struct tf f;
	struct flt_pkt pkt, rp;
	struct flt_verdict v = verdict(NFT_REJECT_TCP_RST, 0);
	uint8_t r[NB_REJECT_MAX];

	(void)state;
	tf_eth(&f, peer, guest, 0x8100);
	tf_u16(&f, 42);
	tf_u16(&f, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_TCP, 20);
	tf_tcp(&f, 40000, 22, 0);
	finish(&f, &pkt);
	check_reply(r, nb_reject_build(&pkt, &v, r, sizeof(r)), &rp);
	assert_memory_equal(r + 12, f.b + 12, 4);
	assert_int_equal(rp.vlan_depth, 1);
}

static void silent_where_the_kernel_is(void **state)
{
	struct tf f;
	struct flt_pkt pkt;
	struct flt_verdict rst = verdict(NFT_REJECT_TCP_RST, 0);
	struct flt_verdict unr = verdict(NFT_REJECT_ICMP_UNREACH, 3);
	uint8_t r[NB_REJECT_MAX];

	(void)state;
	/* a reset is never answered */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_TCP, 20);
	tf_tcp(&f, 40000, 22, 0);
	f.b[34 + 13] = 0x04;
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &rst, r, sizeof(r)), 0);
	/* a wrong TCP checksum: no answer */
	f.b[34 + 13] = 0x02;
	finish(&f, &pkt);
	f.b[34 + 16] ^= 0xff;
	assert_int_equal(nb_reject_build(&pkt, &rst, r, sizeof(r)), 0);
	/* not TCP: no reset */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8);
	tf_udp(&f, 1, 2, 0);
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &rst, r, sizeof(r)), 0);
	/* sent to the Ethernet broadcast address */
	tf_eth(&f, bcast, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8);
	tf_udp(&f, 1, 2, 0);
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &unr, r, sizeof(r)), 0);
	/* to a multicast group */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "224.0.0.5", IPPROTO_UDP, 8);
	tf_udp(&f, 1, 2, 0);
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &unr, r, sizeof(r)), 0);
	/* an ICMP error is not answered with an error; an echo request is */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_ICMP, 8);
	tf_icmp_echo(&f);
	finish(&f, &pkt);
	assert_true(nb_reject_build(&pkt, &unr, r, sizeof(r)) > 0);
	f.b[34] = 11; /* time exceeded */
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &unr, r, sizeof(r)), 0);
	/* a fragment */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8);
	tf_udp(&f, 1, 2, 0);
	f.b[14 + 6] = 0x20; /* more fragments */
	f.b[14 + 10] = f.b[14 + 11] = 0;
	{
		uint16_t c = (uint16_t)~nb_csum_fold(nb_csum_add(0, f.b + 14, 20));

		f.b[14 + 10] = (uint8_t)(c >> 8);
		f.b[14 + 11] = (uint8_t)c;
	}
	flt_pkt_parse(&pkt, f.b, f.len);
	assert_int_equal(nb_reject_build(&pkt, &unr, r, sizeof(r)), 0);
	/* no room in the caller's buffer */
	tf_eth(&f, peer, guest, 0x0800);
	tf_ip4(&f, "10.0.0.11", "10.0.0.12", IPPROTO_UDP, 8);
	tf_udp(&f, 1, 2, 0);
	finish(&f, &pkt);
	assert_int_equal(nb_reject_build(&pkt, &unr, r, 40), 0);
	/* not a reject verdict */
	unr.code = FLT_DROP;
	assert_int_equal(nb_reject_build(&pkt, &unr, r, sizeof(r)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_syn_gets_rst_ack),
		cmocka_unit_test(tcp_ack_gets_rst_from_its_ack),
		cmocka_unit_test(udp_gets_port_unreachable_quoting_the_packet),
		cmocka_unit_test(long_packets_are_quoted_within_576_bytes),
		cmocka_unit_test(ipv6_udp_and_tcp),
		cmocka_unit_test(vlan_tag_is_kept),
		cmocka_unit_test(silent_where_the_kernel_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
