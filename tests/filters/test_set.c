/*
 * Sets and maps: real nft scripts are loaded into a private network namespace
 * (flt_netns_load), dumped with flt_setlist_dump, and every element is probed inside,
 * outside and on its edges. Where the kernel can answer, it is asked too: `nft get
 * element` runs inside the same namespace (reached through SIOCGSKNS on the
 * netlink socket), and its answer must equal flt_set_lookup's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "filters/netns_load.h"
#include "filters/set.h"
#include "filters/set_internal.h"

struct loaded {
	int nl_fd;
	int ns_fd; /* the namespace, for running nft in it */
	struct flt_setlist *l;
	char path[64];
};

/* Load @script (nft syntax) and dump its sets; fails the test on any error. */
static void load(struct loaded *ld, const char *script)
{
	char *err = NULL;
	int fd, rc;

	strcpy(ld->path, "/tmp/vwset-XXXXXX.nft");
	fd = mkstemps(ld->path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	rc = flt_netns_load(ld->path, NULL, NULL, &ld->nl_fd, &err);
	if (rc)
		fail_msg("flt_netns_load: %d %s", rc, err ? err : "");
	ld->ns_fd = ioctl(ld->nl_fd, SIOCGSKNS);
	assert_true(ld->ns_fd >= 0);
	rc = flt_setlist_dump(ld->nl_fd, "vifwall", &ld->l, &err);
	if (rc)
		fail_msg("flt_setlist_dump: %d %s", rc, err ? err : "");
	assert_non_null(ld->l);
}

/* Load @script and expect the dump to fail: returns the message (caller frees). */
static char *load_refused(const char *script, int *rcp)
{
	struct loaded ld;
	char *err = NULL;
	int fd, rc;

	strcpy(ld.path, "/tmp/vwset-XXXXXX.nft");
	fd = mkstemps(ld.path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	rc = flt_netns_load(ld.path, NULL, NULL, &ld.nl_fd, &err);
	if (rc)
		fail_msg("flt_netns_load: %d %s", rc, err ? err : "");
	unlink(ld.path);
	ld.l = (struct flt_setlist *)1;
	rc = flt_setlist_dump(ld.nl_fd, "vifwall", &ld.l, &err);
	close(ld.nl_fd);
	assert_null(ld.l);
	assert_non_null(err);
	*rcp = rc;
	return err;
}

static void unload(struct loaded *ld)
{
	flt_setlist_free(ld->l);
	close(ld->nl_fd);
	close(ld->ns_fd);
	unlink(ld->path);
}

/* Does the kernel hold @elem (nft syntax) in @set? Asks `nft get element` inside
 * the namespace of @ld. */
static bool kernel_has(const struct loaded *ld, const char *set, const char *elem)
{
	char arg[256];
	pid_t pid;
	int st;

	snprintf(arg, sizeof(arg), "{ %s }", elem);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		if (setns(ld->ns_fd, CLONE_NEWNET) < 0)
			_exit(127);
		execlp("nft", "nft", "get", "element", "inet", "vifwall", set, arg, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 127);
	return WEXITSTATUS(st) == 0;
}

static const struct flt_set *find(const struct loaded *ld, const char *name)
{
	const struct flt_set *s = flt_setlist_find(ld->l, name);

	if (!s)
		fail_msg("set %s not dumped", name);
	return s;
}

/* The anonymous set whose first key byte pattern @probe matches: anonymous names
 * depend on the order nft creates them, so tests find them by content. */
static const struct flt_set *find_anon(const struct loaded *ld, uint32_t key_len,
				       const uint8_t *probe)
{
	for (unsigned i = 0; i < flt_setlist_count(ld->l); i++) {
		const struct flt_set *s = flt_setlist_get(ld->l, i);

		if ((flt_set_flags(s) & FLT_SET_F_ANONYMOUS) && flt_set_key_len(s) == key_len &&
		    flt_set_lookup(s, probe, NULL))
			return s;
	}
	fail_msg("no anonymous set matches the probe");
	return NULL;
}

/* A key from text: an IPv4 or IPv6 address, or a port (2 bytes, big-endian). */
static void key_ip4(uint8_t *k, const char *a)
{
	assert_int_equal(inet_pton(AF_INET, a, k), 1);
}

static uint32_t ip4_u32(const char *a)
{
	uint8_t k[4];

	key_ip4(k, a);
	return (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
}

static void u32_ip4(uint32_t v, uint8_t *k, char *txt)
{
	k[0] = (uint8_t)(v >> 24);
	k[1] = (uint8_t)(v >> 16);
	k[2] = (uint8_t)(v >> 8);
	k[3] = (uint8_t)v;
	if (txt)
		sprintf(txt, "%u.%u.%u.%u", k[0], k[1], k[2], k[3]);
}

/* Check flt_set_lookup on IPv4 address @v against @expect, and the kernel's answer. */
static void check_ip4(const struct loaded *ld, const char *set, uint32_t v, bool expect,
		      bool ask_kernel)
{
	const struct flt_set *s = find(ld, set);
	uint8_t k[4];
	char txt[20];

	u32_ip4(v, k, txt);
	if (flt_set_lookup(s, k, NULL) != expect)
		fail_msg("%s: lookup %s: expected %s", set, txt, expect ? "match" : "no match");
	if (ask_kernel && kernel_has(ld, set, txt) != expect)
		fail_msg("%s: kernel says %s for %s", set, expect ? "no match" : "match", txt);
}

/* Probe [lo, hi] of an IPv4 interval set: both edges and one past each. */
static void check_ip4_range(const struct loaded *ld, const char *set, const char *lo,
			    const char *hi)
{
	uint32_t a = ip4_u32(lo), b = ip4_u32(hi);

	check_ip4(ld, set, a, true, true);
	check_ip4(ld, set, b, true, true);
	check_ip4(ld, set, a + (b - a) / 2, true, false);
	if (a > 0)
		check_ip4(ld, set, a - 1, false, true);
	if (b < UINT32_MAX)
		check_ip4(ld, set, b + 1, false, true);
}

/* ---------------------------------------------------------------- exact sets */

static void test_exact_sets(void **state)
{
	struct loaded ld;
	uint8_t k[16];
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " set a4 { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.3, 255.255.255.255,"
		  " 0.0.0.0 } }\n"
		  " set a6 { type ipv6_addr; elements = { 2001:db8::1, ::, fe80::1:2 } }\n"
		  " set svc { type inet_service; elements = { 22, 443, 65535 } }\n"
		  " set empty { type ipv4_addr; }\n"
		  " chain forward { type filter hook forward priority 0;\n"
		  "  tcp dport { 22, 80 } accept\n"
		  "  ip6 daddr { ::1, 2001:db8::5 } drop\n"
		  " }\n"
		  "}\n");
	assert_int_equal(flt_setlist_count_named(ld.l), 4);
	assert_int_equal(flt_setlist_count(ld.l), 6);
	assert_int_equal(flt_setlist_elements_named(ld.l), 4 + 3 + 3);
	assert_int_equal(flt_setlist_elements(ld.l), 4 + 3 + 3 + 2 + 2);

	const struct flt_set *s = find(&ld, "a4");
	assert_int_equal(flt_set_key_len(s), 4);
	assert_int_equal(flt_set_kind(s), FLT_SET_EXACT);
	assert_int_equal(flt_set_data_len(s), 0);
	assert_int_equal(flt_set_count(s), 4);
	check_ip4(&ld, "a4", ip4_u32("10.0.0.1"), true, true);
	check_ip4(&ld, "a4", ip4_u32("10.0.0.2"), false, true);
	check_ip4(&ld, "a4", ip4_u32("10.0.0.3"), true, false);
	check_ip4(&ld, "a4", ip4_u32("10.0.0.4"), false, false);
	check_ip4(&ld, "a4", 0, true, true);
	check_ip4(&ld, "a4", 1, false, false);
	check_ip4(&ld, "a4", UINT32_MAX, true, true);
	check_ip4(&ld, "a4", UINT32_MAX - 1, false, false);
	check_ip4(&ld, "empty", 0, false, false);
	assert_int_equal(flt_set_count(find(&ld, "empty")), 0);

	s = find(&ld, "a6");
	assert_int_equal(flt_set_key_len(s), 16);
	const char *in6[] = {"2001:db8::1", "::", "fe80::1:2"};
	const char *out6[] = {"2001:db8::2", "::1", "fe80::1:3", "2001:db8::1:0"};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(inet_pton(AF_INET6, in6[i], k), 1);
		assert_true(flt_set_lookup(s, k, NULL));
		assert_true(kernel_has(&ld, "a6", in6[i]));
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(inet_pton(AF_INET6, out6[i], k), 1);
		assert_false(flt_set_lookup(s, k, NULL));
		assert_false(kernel_has(&ld, "a6", out6[i]));
	}

	s = find(&ld, "svc");
	assert_int_equal(flt_set_key_len(s), 2);
	for (unsigned p = 0; p < 65536; p++) {
		k[0] = (uint8_t)(p >> 8);
		k[1] = (uint8_t)p;
		assert_int_equal(flt_set_lookup(s, k, NULL), p == 22 || p == 443 || p == 65535);
	}
	assert_true(kernel_has(&ld, "svc", "443"));
	assert_false(kernel_has(&ld, "svc", "444"));

	/* The anonymous sets of the rules. */
	k[0] = 0;
	k[1] = 80;
	s = find_anon(&ld, 2, k);
	assert_true(strncmp(flt_set_name(s), "__set", 5) == 0);
	assert_ptr_equal(flt_setlist_find(ld.l, flt_set_name(s)), s);
	assert_true(flt_set_flags(s) & FLT_SET_F_CONSTANT);
	k[1] = 22;
	assert_true(flt_set_lookup(s, k, NULL));
	k[1] = 23;
	assert_false(flt_set_lookup(s, k, NULL));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", k), 1);
	s = find_anon(&ld, 16, k);
	assert_int_equal(inet_pton(AF_INET6, "::1", k), 1);
	assert_true(flt_set_lookup(s, k, NULL));
	assert_int_equal(inet_pton(AF_INET6, "::2", k), 1);
	assert_false(flt_set_lookup(s, k, NULL));
	unload(&ld);
}

/* ------------------------------------------------------------- interval sets */

static void test_interval_sets(void **state)
{
	struct loaded ld;
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " set r { type ipv4_addr; flags interval;\n"
		  "  elements = { 10.0.0.0/8, 192.168.0.0-192.168.1.255, 172.16.0.7,\n"
		  "               250.0.0.0-255.255.255.255 } }\n"
		  " set adj { type ipv4_addr; flags interval;\n"
		  "  elements = { 10.0.0.0/24, 10.0.1.0/24, 10.0.3.0/24 } }\n"
		  " set merged { type ipv4_addr; flags interval; auto-merge;\n"
		  "  elements = { 10.0.0.0/16, 10.0.5.0/24, 10.0.255.0-10.1.0.10 } }\n"
		  " set everything { type ipv4_addr; flags interval; elements = { 0.0.0.0/0 } }\n"
		  " set low { type ipv4_addr; flags interval; elements = { 0.0.0.0-0.0.0.255 } }\n"
		  " set ports { type inet_service; flags interval; elements = { 1-1023, 8080 } }\n"
		  " set p6 { type ipv6_addr; flags interval; elements = { 2001:db8::/32 } }\n"
		  "}\n");
	const struct flt_set *s = find(&ld, "r");
	assert_int_equal(flt_set_kind(s), FLT_SET_INTERVAL);
	assert_int_equal(flt_set_count(s), 4);
	check_ip4_range(&ld, "r", "10.0.0.0", "10.255.255.255");
	check_ip4_range(&ld, "r", "192.168.0.0", "192.168.1.255");
	check_ip4_range(&ld, "r", "172.16.0.7", "172.16.0.7");
	check_ip4_range(&ld, "r", "250.0.0.0", "255.255.255.255");
	check_ip4(&ld, "r", 0, false, true);

	/* Adjacent intervals: the shared boundary belongs to the second. */
	check_ip4_range(&ld, "adj", "10.0.0.0", "10.0.1.255");
	check_ip4_range(&ld, "adj", "10.0.3.0", "10.0.3.255");
	check_ip4(&ld, "adj", ip4_u32("10.0.1.0"), true, true);
	check_ip4(&ld, "adj", ip4_u32("10.0.0.255"), true, true);
	check_ip4(&ld, "adj", ip4_u32("10.0.2.0"), false, true);

	check_ip4_range(&ld, "merged", "10.0.0.0", "10.1.0.10");
	assert_int_equal(flt_set_count(find(&ld, "merged")), 1);

	check_ip4(&ld, "everything", 0, true, true);
	check_ip4(&ld, "everything", UINT32_MAX, true, true);
	check_ip4(&ld, "everything", 0x7f000001, true, false);
	check_ip4_range(&ld, "low", "0.0.0.0", "0.0.0.255");

	s = find(&ld, "ports");
	assert_int_equal(flt_set_key_len(s), 2);
	for (unsigned p = 0; p < 65536; p++) {
		uint8_t k[2] = {(uint8_t)(p >> 8), (uint8_t)p};

		assert_int_equal(flt_set_lookup(s, k, NULL), (p >= 1 && p <= 1023) || p == 8080);
	}
	assert_false(kernel_has(&ld, "ports", "0"));
	assert_true(kernel_has(&ld, "ports", "1"));
	assert_true(kernel_has(&ld, "ports", "1023"));
	assert_false(kernel_has(&ld, "ports", "1024"));
	assert_true(kernel_has(&ld, "ports", "8080"));
	assert_false(kernel_has(&ld, "ports", "8081"));

	s = find(&ld, "p6");
	uint8_t k[16];
	const char *in[] = {"2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
			    "2001:db8:1::1"};
	const char *out[] = {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "::"};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(inet_pton(AF_INET6, in[i], k), 1);
		assert_true(flt_set_lookup(s, k, NULL));
		assert_true(kernel_has(&ld, "p6", in[i]));
		assert_int_equal(inet_pton(AF_INET6, out[i], k), 1);
		assert_false(flt_set_lookup(s, k, NULL));
		assert_false(kernel_has(&ld, "p6", out[i]));
	}
	unload(&ld);
}

/* A rule's anonymous interval set: nft merges overlapping and adjacent intervals. */
static void test_interval_anonymous(void **state)
{
	struct loaded ld;
	uint8_t k[4];
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " chain forward { type filter hook forward priority 0;\n"
		  "  ip saddr { 10.0.0.0/8, 11.0.0.0/8, 10.1.0.0/16, 200.0.0.0/4 } accept\n"
		  " }\n"
		  "}\n");
	key_ip4(k, "10.0.0.0");
	const struct flt_set *s = find_anon(&ld, 4, k);
	assert_int_equal(flt_set_kind(s), FLT_SET_INTERVAL);
	const char *in[] = {"10.0.0.0", "11.255.255.255", "10.1.2.3", "192.0.0.0",
			    "207.255.255.255"};
	const char *out[] = {"9.255.255.255", "12.0.0.0", "191.255.255.255", "208.0.0.0",
			     "0.0.0.0"};
	for (unsigned i = 0; i < 5; i++) {
		key_ip4(k, in[i]);
		assert_true(flt_set_lookup(s, k, NULL));
		key_ip4(k, out[i]);
		assert_false(flt_set_lookup(s, k, NULL));
	}
	unload(&ld);
}

/* ----------------------------------------------------------- concatenations */

static void key_cat(uint8_t *k, const char *ip, unsigned port)
{
	memset(k, 0, 8);
	key_ip4(k, ip);
	k[4] = (uint8_t)(port >> 8);
	k[5] = (uint8_t)port;
}

static void check_cat(const struct loaded *ld, const char *set, const char *ip, unsigned port,
		      bool expect, bool ask_kernel)
{
	const struct flt_set *s = find(ld, set);
	uint8_t k[8];
	char txt[64];

	key_cat(k, ip, port);
	if (flt_set_lookup(s, k, NULL) != expect)
		fail_msg("%s: lookup %s . %u: expected %s", set, ip, port,
			 expect ? "match" : "no match");
	snprintf(txt, sizeof(txt), "%s . %u", ip, port);
	if (ask_kernel && kernel_has(ld, set, txt) != expect)
		fail_msg("%s: kernel says %s for %s", set, expect ? "no match" : "match", txt);
}

static void test_concat(void **state)
{
	struct loaded ld;
	uint8_t k[8];
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " set ce { type ipv4_addr . inet_service;\n"
		  "  elements = { 10.0.0.1 . 22, 10.0.0.2 . 80 } }\n"
		  " set cr { type ipv4_addr . inet_service; flags interval;\n"
		  "  elements = { 10.0.0.0/24 . 80-90, 1.2.3.4 . 22,\n"
		  "               192.168.0.0-192.168.0.9 . 0-1 } }\n"
		  "}\n");
	const struct flt_set *s = find(&ld, "ce");
	assert_int_equal(flt_set_kind(s), FLT_SET_EXACT);
	assert_int_equal(flt_set_key_len(s), 8);
	check_cat(&ld, "ce", "10.0.0.1", 22, true, true);
	check_cat(&ld, "ce", "10.0.0.1", 80, false, true);
	check_cat(&ld, "ce", "10.0.0.2", 80, true, true);
	check_cat(&ld, "ce", "10.0.0.2", 22, false, true);
	check_cat(&ld, "ce", "10.0.0.3", 80, false, false);
	/* The hash compares padding bytes too: registers always hold zeros there. */
	key_cat(k, "10.0.0.1", 22);
	k[7] = 1;
	assert_false(flt_set_lookup(s, k, NULL));

	s = find(&ld, "cr");
	assert_int_equal(flt_set_kind(s), FLT_SET_CONCAT);
	assert_int_equal(flt_set_key_len(s), 8);
	assert_int_equal(flt_set_field_count(s), 2);
	assert_int_equal(flt_set_field_len(s, 0), 4);
	assert_int_equal(flt_set_field_len(s, 1), 2);
	assert_int_equal(flt_set_count(s), 3);
	check_cat(&ld, "cr", "10.0.0.0", 80, true, true);
	check_cat(&ld, "cr", "10.0.0.255", 90, true, true);
	check_cat(&ld, "cr", "10.0.0.128", 85, true, false);
	check_cat(&ld, "cr", "10.0.0.0", 79, false, true);
	check_cat(&ld, "cr", "10.0.0.255", 91, false, true);
	check_cat(&ld, "cr", "9.255.255.255", 80, false, true);
	check_cat(&ld, "cr", "10.0.1.0", 90, false, true);
	check_cat(&ld, "cr", "1.2.3.4", 22, true, true);
	check_cat(&ld, "cr", "1.2.3.4", 23, false, true);
	check_cat(&ld, "cr", "1.2.3.5", 22, false, true);
	check_cat(&ld, "cr", "1.2.3.3", 22, false, false);
	check_cat(&ld, "cr", "192.168.0.0", 0, true, true);
	check_cat(&ld, "cr", "192.168.0.9", 1, true, true);
	check_cat(&ld, "cr", "192.168.0.10", 1, false, true);
	check_cat(&ld, "cr", "192.168.0.9", 2, false, true);
	/* pipapo skips padding bytes. */
	key_cat(k, "1.2.3.4", 22);
	k[6] = 0xff;
	assert_true(flt_set_lookup(s, k, NULL));
	unload(&ld);
}

/* --------------------------------------------------------------------- maps */

static void test_data_maps(void **state)
{
	const struct flt_set_elem_data *d;
	struct loaded ld;
	uint8_t k[4];
	(void)state;

	load(&ld,
	     "table inet vifwall {\n"
	     " map mk { type ipv4_addr : mark; elements = { 1.2.3.4 : 0x10, 1.2.3.5 : 7 } }\n"
	     " map rm { type ipv4_addr : mark; flags interval;\n"
	     "  elements = { 10.0.0.0/8 : 1, 11.0.0.0/8 : 2, 20.0.0.0-20.0.0.5 : 3 } }\n"
	     " map ca { type inet_service : ipv4_addr; elements = { 53 : 9.9.9.9, * : 1.1.1.1 } }\n"
	     "}\n");
	const struct flt_set *s = find(&ld, "mk");
	assert_true(flt_set_flags(s) & FLT_SET_F_MAP);
	assert_int_equal(flt_set_data_len(s), 4);
	key_ip4(k, "1.2.3.4");
	assert_true(flt_set_lookup(s, k, &d));
	assert_non_null(d);
	uint32_t mark;
	memcpy(&mark, d->data, 4); /* meta mark is host byte order */
	assert_int_equal(mark, 0x10);
	key_ip4(k, "1.2.3.5");
	assert_true(flt_set_lookup(s, k, &d));
	memcpy(&mark, d->data, 4);
	assert_int_equal(mark, 7);
	key_ip4(k, "1.2.3.6");
	assert_false(flt_set_lookup(s, k, &d));

	s = find(&ld, "rm");
	assert_int_equal(flt_set_kind(s), FLT_SET_INTERVAL);
	const char *keys[] = {"10.0.0.0", "10.255.255.255", "11.0.0.0", "11.9.9.9", "20.0.0.5"};
	const uint32_t vals[] = {1, 1, 2, 2, 3};
	for (unsigned i = 0; i < 5; i++) {
		key_ip4(k, keys[i]);
		assert_true(flt_set_lookup(s, k, &d));
		memcpy(&mark, d->data, 4);
		assert_int_equal(mark, vals[i]);
	}
	key_ip4(k, "20.0.0.6");
	assert_false(flt_set_lookup(s, k, &d));
	key_ip4(k, "12.0.0.0");
	assert_false(flt_set_lookup(s, k, &d));

	/* Catch-all: answers whatever the elements do not. */
	s = find(&ld, "ca");
	assert_int_equal(flt_set_count(s), 2);
	assert_true(flt_set_has_catchall(s));
	assert_false(flt_set_has_catchall(find(&ld, "mk")));
	uint8_t p[2] = {0, 53};
	assert_true(flt_set_lookup(s, p, &d));
	assert_memory_equal(d->data, "\x09\x09\x09\x09", 4);
	p[1] = 54;
	assert_true(flt_set_lookup(s, p, &d));
	assert_memory_equal(d->data, "\x01\x01\x01\x01", 4);
	unload(&ld);
}

static int resolve_chain(void *arg, const char *chain, uint32_t *index)
{
	const char *const *names = arg;

	for (uint32_t i = 0; names[i]; i++) {
		if (!strcmp(names[i], chain)) {
			*index = i;
			return 0;
		}
	}
	return -ENOENT;
}

static void test_verdict_maps(void **state)
{
	const char *chains[] = {"forward", "web", "ssh", NULL};
	const struct flt_set_elem_data *d;
	struct loaded ld;
	char *err = NULL;
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " map vm { type inet_service : verdict;\n"
		  "  elements = { 22 : jump ssh, 80 : goto web, 23 : drop, 25 : accept,\n"
		  "               26 : continue, 27 : return } }\n"
		  " chain web { }\n"
		  " chain ssh { }\n"
		  " chain forward { type filter hook forward priority 0;\n"
		  "  tcp dport vmap @vm\n"
		  "  udp dport vmap { 53 : accept, 1-52 : jump web, 54-100 : jump web, * : drop }\n"
		  " }\n"
		  "}\n");
	assert_int_equal(flt_setlist_resolve_chains(ld.l, resolve_chain, chains, &err), 0);
	const struct flt_set *s = find(&ld, "vm");
	assert_int_equal(flt_set_data_type(s), FLT_SET_DATA_VERDICT);
	struct {
		unsigned port;
		int32_t verdict;
		const char *chain;
		uint32_t idx;
	} want[] = {
		{22, -3, "ssh", 2}, {80, -4, "web", 1}, {23, 0, NULL, 0},
		{25, 1, NULL, 0},   {26, -1, NULL, 0},	{27, -5, NULL, 0},
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint8_t k[2] = {0, (uint8_t)want[i].port};

		assert_true(flt_set_lookup(s, k, &d));
		assert_int_equal(d->verdict, want[i].verdict);
		if (want[i].chain) {
			assert_string_equal(d->chain, want[i].chain);
			assert_int_equal(d->chain_index, want[i].idx);
		} else {
			assert_null(d->chain);
		}
	}
	uint8_t k[2] = {0, 24};
	assert_false(flt_set_lookup(s, k, &d));

	/* The anonymous interval vmap with a catch-all. */
	k[1] = 53;
	s = find_anon(&ld, 2, k);
	assert_int_equal(flt_set_kind(s), FLT_SET_INTERVAL);
	assert_true(flt_set_lookup(s, k, &d));
	assert_int_equal(d->verdict, 1);
	k[1] = 52;
	assert_true(flt_set_lookup(s, k, &d));
	assert_int_equal(d->verdict, -3);
	assert_int_equal(d->chain_index, 1);
	k[1] = 101;
	assert_true(flt_set_lookup(s, k, &d));
	assert_int_equal(d->verdict, 0);

	/* An unknown chain is reported with the set's name. */
	const char *none[] = {NULL};
	assert_int_equal(flt_setlist_resolve_chains(ld.l, resolve_chain, none, &err), -ENOENT);
	assert_non_null(strstr(err, "'vm'"));
	free(err);
	unload(&ld);
}

static void test_object_map(void **state)
{
	const struct flt_set_elem_data *d;
	struct loaded ld;
	uint8_t k[4];
	(void)state;

	load(&ld, "table inet vifwall {\n"
		  " counter c1 { }\n"
		  " counter c2 { }\n"
		  " map om { type ipv4_addr : counter; elements = { 1.2.3.4 : \"c1\", 5.6.7.8 : "
		  "\"c2\" } }\n"
		  "}\n");
	const struct flt_set *s = find(&ld, "om");
	assert_true(flt_set_flags(s) & FLT_SET_F_OBJECT);
	assert_int_equal(flt_set_obj_type(s), 1 /* NFT_OBJECT_COUNTER */);
	key_ip4(k, "5.6.7.8");
	assert_true(flt_set_lookup(s, k, &d));
	assert_string_equal(d->obj, "c2");
	key_ip4(k, "5.6.7.9");
	assert_false(flt_set_lookup(s, k, &d));
	unload(&ld);
}

/* ------------------------------------------------------------------- big set */

static void test_big_set(void **state)
{
	struct loaded ld;
	struct timespec t0, t1;
	char *script;
	size_t len = 0;
	FILE *f = open_memstream(&script, &len);
	(void)state;

	/* 10000 addresses 10.x.y.z (every other one) and 10000 /28 ranges (every 32nd). */
	fprintf(f, "table inet vifwall {\n set big { type ipv4_addr; elements = { ");
	for (uint32_t i = 0; i < 10000; i++)
		fprintf(f, "%s10.%u.%u.%u", i ? ", " : "", (i * 2) >> 16, ((i * 2) >> 8) & 255,
			(i * 2) & 255);
	fprintf(f, " } }\n set bigr { type ipv4_addr; flags interval; elements = { ");
	for (uint32_t i = 0; i < 10000; i++)
		fprintf(f, "%s20.%u.%u.%u/28", i ? ", " : "", (i * 32) >> 16, ((i * 32) >> 8) & 255,
			(i * 32) & 255);
	fprintf(f, " } }\n}\n");
	fclose(f);
	char *err = NULL;
	strcpy(ld.path, "/tmp/vwset-XXXXXX.nft");
	int fd = mkstemps(ld.path, 4);
	assert_int_equal(write(fd, script, len), (ssize_t)len);
	close(fd);
	free(script);
	assert_int_equal(flt_netns_load(ld.path, NULL, NULL, &ld.nl_fd, &err), 0);
	ld.ns_fd = ioctl(ld.nl_fd, SIOCGSKNS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(flt_setlist_dump(ld.nl_fd, "vifwall", &ld.l, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("# dump + build of 20000 elements: %.3f s\n", secs);
	assert_true(secs < 1.0);

	const struct flt_set *s = find(&ld, "big");
	assert_int_equal(flt_set_count(s), 10000);
	for (uint32_t i = 0; i < 20000 + 64; i++) {
		uint8_t k[4];

		u32_ip4(ip4_u32("10.0.0.0") + i, k, NULL);
		assert_int_equal(flt_set_lookup(s, k, NULL), i % 2 == 0 && i < 20000);
	}
	s = find(&ld, "bigr");
	/* nft merges adjacent ranges of a named set only with auto-merge: 10000 stay. */
	assert_int_equal(flt_set_count(s), 10000);
	for (uint32_t i = 0; i < 320000 + 64; i++) {
		uint8_t k[4];

		u32_ip4(ip4_u32("20.0.0.0") + i, k, NULL);
		assert_int_equal(flt_set_lookup(s, k, NULL), i % 32 < 16 && i < 320000);
	}
	check_ip4(&ld, "bigr", ip4_u32("20.0.0.15"), true, true);
	check_ip4(&ld, "bigr", ip4_u32("20.0.0.16"), false, true);
	check_ip4(&ld, "big", ip4_u32("10.0.39.30"), true, true);
	check_ip4(&ld, "big", ip4_u32("10.0.39.31"), false, true);
	unload(&ld);
}

/* ----------------------------------------------------------------- refusals */

static void expect_refused(const char *script, const char *set, const char *what)
{
	int rc = 0;
	char *err = load_refused(script, &rc);
	char quoted[64];

	snprintf(quoted, sizeof(quoted), "set '%s'", set);
	if (!strstr(err, quoted) || !strstr(err, what))
		fail_msg("unexpected message: %s", err);
	assert_int_equal(rc, -EOPNOTSUPP);
	free(err);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("table inet vifwall {\n set t { type ipv4_addr; flags timeout; }\n}\n", "t",
		       "timeout");
	expect_refused("table inet vifwall {\n set t { type ipv4_addr; timeout 1h;\n"
		       "  elements = { 1.2.3.4 } }\n}\n",
		       "t", "timeout");
	expect_refused("table inet vifwall {\n set dyn { type ipv4_addr; flags dynamic; }\n"
		       " chain forward { type filter hook forward priority 0;\n"
		       "  add @dyn { ip saddr }\n }\n}\n",
		       "dyn", "packet path");
	expect_refused("table inet vifwall {\n set q { type ipv4_addr; quota 1 mbytes;\n"
		       "  elements = { 1.2.3.4 } }\n}\n",
		       "q", "expression");
	expect_refused("table inet vifwall {\n set cnt { type ipv4_addr; counter;\n"
		       "  elements = { 1.2.3.4 } }\n}\n",
		       "cnt", "counter");
}

/* Dumping a table that does not exist. */
static void test_no_table(void **state)
{
	struct loaded ld;
	struct flt_setlist *l = NULL;
	char *err = NULL;
	(void)state;

	load(&ld, "table inet vifwall { }\n");
	assert_int_equal(flt_setlist_count(ld.l), 0);
	assert_int_equal(flt_setlist_dump(ld.nl_fd, "nosuch", &l, &err), -ENOENT);
	assert_null(l);
	assert_non_null(strstr(err, "nosuch"));
	free(err);
	/* The socket is still usable afterwards. */
	flt_setlist_free(ld.l);
	assert_int_equal(flt_setlist_dump(ld.nl_fd, "vifwall", &ld.l, &err), 0);
	unload(&ld);
}

/* --------------------------------------------- specs nft never sends (built directly) */

static void test_spec_anonymous_adjacent(void **state)
{
	const uint8_t a[4] = {10, 0, 0, 0}, b[4] = {10, 0, 1, 0}, c[4] = {10, 0, 2, 0};
	struct flt_set_spec_elem e[] = {
		{.key = a, .key_len = 4},
		{.key = b, .key_len = 4, .flags = FLT_SET_ELEM_F_INTERVAL_END},
		{.key = b, .key_len = 4},
		{.key = c, .key_len = 4, .flags = FLT_SET_ELEM_F_INTERVAL_END},
	};
	struct flt_set_spec spec = {
		.name = "__set7",
		.flags = FLT_SET_F_INTERVAL | FLT_SET_F_ANONYMOUS | FLT_SET_F_CONSTANT,
		.key_len = 4,
		.nelems = 4,
		.elems = e,
	};
	struct flt_set *s = NULL;
	char *err = NULL;
	(void)state;

	assert_int_equal(flt_set_build(&spec, &s, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err, "__set7"));
	free(err);
	/* The same boundaries in a named set are fine: b belongs to the second interval. */
	spec.name = "named";
	spec.flags = FLT_SET_F_INTERVAL;
	assert_int_equal(flt_set_build(&spec, &s, &err), 0);
	assert_true(flt_set_lookup(s, b, NULL));
	assert_false(flt_set_lookup(s, c, NULL));
	flt_set_free(s);

	/* A duplicate boundary is a dump the kernel cannot produce. */
	e[2].flags = FLT_SET_ELEM_F_INTERVAL_END;
	assert_int_equal(flt_set_build(&spec, &s, &err), -EINVAL);
	free(err);
}

static void test_spec_bad_verdict(void **state)
{
	const uint8_t k[2] = {0, 1};
	struct flt_set_spec_elem e = {.key = k, .key_len = 2, .has_verdict = true, .verdict = 3};
	struct flt_set_spec spec = {
		.name = "q",
		.flags = FLT_SET_F_MAP,
		.key_len = 2,
		.data_type = FLT_SET_DATA_VERDICT,
		.data_len = 16,
		.nelems = 1,
		.elems = &e,
	};
	struct flt_set *s = NULL;
	char *err = NULL;
	(void)state;

	assert_int_equal(flt_set_build(&spec, &s, &err), -EOPNOTSUPP);
	assert_non_null(strstr(err, "set 'q'"));
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_sets),
		cmocka_unit_test(test_interval_sets),
		cmocka_unit_test(test_interval_anonymous),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_data_maps),
		cmocka_unit_test(test_verdict_maps),
		cmocka_unit_test(test_object_map),
		cmocka_unit_test(test_big_set),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_no_table),
		cmocka_unit_test(test_spec_anonymous_adjacent),
		cmocka_unit_test(test_spec_bad_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
