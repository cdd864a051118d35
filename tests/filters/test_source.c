/*
 * flt_source: every rule the kernel holds gets the file and line it was written
 * on. Each file in data/source/ is loaded into a real kernel (flt_netns_load), its
 * rules dumped with their handles; every test rule carries `comment "FILE:LINE"`
 * saying where it is written, and the pairing must give exactly that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

#include "filters/netns_load.h"
#include "filters/source.h"

#define DATA	  "tests/filters/data/source/"
#define MAX_RULES 64

struct dumped {
	struct flt_src_key key[MAX_RULES];
	char chain[MAX_RULES][64];
	char comment[MAX_RULES][128];
	size_t n;
};

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const struct nftnl_udata **tb = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT)
		*tb = attr;
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dumped *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const struct nftnl_udata *c = NULL;
	const void *ud;
	uint32_t len = 0;

	assert_non_null(r);
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	assert_true(d->n < MAX_RULES);
	snprintf(d->chain[d->n], sizeof(d->chain[0]), "%s",
		 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	d->key[d->n].chain = d->chain[d->n];
	d->key[d->n].handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	d->comment[d->n][0] = '\0';
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud && nftnl_udata_parse(ud, len, comment_cb, &c) >= 0 && c)
		snprintf(d->comment[d->n], sizeof(d->comment[0]), "%.*s", nftnl_udata_len(c),
			 (const char *)nftnl_udata_get(c));
	d->n++;
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Every rule of table @family @table in the namespace of @fd, in dump order. */
static void dump_rules(int fd, uint16_t family, const char *table, struct dumped *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret, mine = dup(fd);
	ssize_t n;

	assert_true(mine >= 0);
	nl = mnl_socket_fdopen(mine);
	assert_non_null(nl);
	memset(d, 0, sizeof(*d));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, 7);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0);
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		assert_true(n > 0);
		ret = mnl_cb_run(buf, (size_t)n, 7, mnl_socket_get_portid(nl), rule_cb, d);
		assert_true(ret >= 0);
	} while (ret > MNL_CB_STOP);
	mnl_socket_close(nl);
}

/* Load @path in a private namespace with the usual ports; returns the socket. */
static int load(const char *path)
{
	static const char *const ports[] = {"web1", "web2", "uplink0", NULL};
	char *err = NULL;
	int fd = -1;

	if (flt_netns_load(path, ports, NULL, &fd, &err) != 0)
		fail_msg("%s does not load: %s", path, err);
	return fd;
}

static struct flt_source *scan(const char *path)
{
	struct flt_source *src = NULL;
	char *err = NULL;

	if (flt_source_scan(path, &src, &err) != 0)
		fail_msg("%s does not scan: %s", path, err);
	return src;
}

/* "DIR/rules-a.nft", 2 -> "rules-a:2"; the comments leave ".nft" out or not. */
static void where(const char *file, unsigned line, char *out, size_t size)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	size_t len = strlen(base);

	if (len > 4 && !strcmp(base + len - 4, ".nft"))
		len -= 4;
	snprintf(out, size, "%.*s:%u", (int)len, base, line);
}

static void strip_nft(const char *comment, char *out, size_t size)
{
	const char *dot = strstr(comment, ".nft:");

	if (dot)
		snprintf(out, size, "%.*s%s", (int)(dot - comment), comment, dot + 4);
	else
		snprintf(out, size, "%s", comment);
}

/* The whole check for one data file: every vifwall rule pairs with its line. */
static void test_pairs_every_rule(void **state)
{
	const char *name = *state;
	const struct flt_src_rule *out[MAX_RULES];
	char path[256], got[160], want[160], *err = NULL;
	struct flt_source *src;
	struct dumped d;
	size_t i;
	int fd;

	snprintf(path, sizeof(path), DATA "%s", name);
	fd = load(path);
	dump_rules(fd, NFPROTO_INET, "vifwall", &d);
	close(fd);
	assert_true(d.n > 0);
	src = scan(path);
	assert_null(flt_source_unusable(src));
	if (flt_source_match(src, "inet", "vifwall", d.key, d.n, out, &err) != 0)
		fail_msg("%s: %s", name, err);
	for (i = 0; i < d.n; i++) {
		assert_non_null(out[i]);
		where(out[i]->file, out[i]->line, got, sizeof(got));
		strip_nft(d.comment[i], want, sizeof(want));
		/* several rules on one line share the tag; the comment may hold more */
		if (strncmp(want, got, strlen(got)) ||
		    (want[strlen(got)] && !strchr(" #;", want[strlen(got)])))
			fail_msg("%s: handle %llu (\"%s\") paired with %s: %s", name,
				 (unsigned long long)d.key[i].handle, d.comment[i], got,
				 out[i]->text);
		assert_string_equal(out[i]->chain, d.key[i].chain);
		/* the text is the rule as written: it carries its own comment */
		assert_non_null(strstr(out[i]->text, d.comment[i]));
	}
	flt_source_free(src);
}

static const struct flt_src_rule *find_rule(const struct flt_source *src, const char *tag)
{
	size_t i;

	for (i = 0; i < flt_source_count(src); i++) {
		if (strstr(flt_source_rule(src, i)->text, tag))
			return flt_source_rule(src, i);
	}
	fail_msg("no rule with %s", tag);
	return NULL;
}

static void test_text_is_one_line_as_written(void **state)
{
	struct flt_source *src = scan(DATA "sets_maps.nft");
	const struct flt_src_rule *r;

	(void)state;
	r = find_rule(src, "\"sets_maps:16\"");
	assert_string_equal(r->text, "tcp dport { 22, 80, 443 } accept comment \"sets_maps:16\"");
	r = find_rule(src, "\"sets_maps:19\"");
	assert_string_equal(r->text, "ip daddr vmap { 10.0.1.1 : accept, 10.0.1.2 : drop } "
				     "comment \"sets_maps:19\"");
	assert_int_equal(r->kind, FLT_SRC_BLOCK);
	assert_int_equal(flt_source_count(src), 8); /* sets, maps, objects are no rules */
	flt_source_free(src);

	src = scan(DATA "comments_strings.nft");
	r = find_rule(src, "comments_strings:6");
	assert_string_equal(r->text, "udp dport 53 accept comment \"comments_strings:6 # not a "
				     "comment { ; }\"");
	r = find_rule(src, "comments_strings:8");
	assert_string_equal(
		r->text, "ip daddr { 10.0.0.1, 10.0.0.2 } accept comment \"comments_strings:8\"");
	assert_int_equal(flt_source_count(src), 4);
	flt_source_free(src);

	src = scan(DATA "continuation.nft");
	r = find_rule(src, "continuation:5");
	assert_string_equal(r->text, "tcp dport 22 ct state new accept comment \"continuation:5\"");
	assert_int_equal(r->line, 5);
	r = find_rule(src, "continuation:11");
	assert_string_equal(r->text, "ip protocol icmp accept comment \"continuation:11\"");
	assert_int_equal(r->kind, FLT_SRC_ADD);
	assert_string_equal(r->family, "inet");
	assert_string_equal(r->table, "vifwall");
	assert_string_equal(r->chain, "forward");
	flt_source_free(src);
}

static void test_kinds_and_positions(void **state)
{
	struct flt_source *src = scan(DATA "toplevel.nft");
	const struct flt_src_rule *r;

	(void)state;
	assert_int_equal(flt_source_count(src), 9);
	assert_int_equal(find_rule(src, "toplevel:6")->kind, FLT_SRC_ADD);
	assert_int_equal(find_rule(src, "toplevel:7")->kind, FLT_SRC_INSERT);
	assert_int_equal(find_rule(src, "toplevel:9")->kind, FLT_SRC_ADD); /* `rule ...` */
	r = find_rule(src, "toplevel:10"); /* no command word at all */
	assert_int_equal(r->kind, FLT_SRC_ADD);
	assert_string_equal(r->chain, "other");
	assert_string_equal(r->text, "counter comment \"toplevel:10\"");
	r = find_rule(src, "toplevel:11"); /* `index 1` is not part of the rule */
	assert_string_equal(r->text, "ip protocol icmp accept comment \"toplevel:11\"");
	assert_int_equal(find_rule(src, "toplevel:13")->kind, FLT_SRC_BLOCK);
	assert_string_equal(find_rule(src, "toplevel:13")->chain, "third");
	flt_source_free(src);
}

static void test_include_reports_included_file(void **state)
{
	struct flt_source *src = scan(DATA "include.nft");
	const struct flt_src_rule *r;

	(void)state;
	r = find_rule(src, "rules-a.nft:4");
	assert_string_equal(r->file, DATA "inc/rules-a.nft");
	assert_int_equal(r->line, 4);
	assert_string_equal(r->chain, "forward");
	r = find_rule(src, "include:7");
	assert_string_equal(r->file, DATA "include.nft");
	/* glob matches come in alphabetical order, as nft reads them */
	assert_string_equal(flt_source_rule(src, 1)->file, DATA "inc/rules-a.nft");
	assert_string_equal(flt_source_rule(src, 3)->file, DATA "inc/rules-b.nft");
	flt_source_free(src);
}

static void test_other_tables_pair_too(void **state)
{
	const struct flt_src_rule *out[MAX_RULES];
	struct flt_source *src = scan(DATA "othertables.nft");
	struct dumped d;
	int fd = load(DATA "othertables.nft");
	size_t i;

	(void)state;
	dump_rules(fd, NFPROTO_IPV4, "other", &d);
	assert_int_equal(d.n, 2);
	assert_int_equal(flt_source_match(src, "ip", "other", d.key, d.n, out, NULL), 0);
	for (i = 0; i < d.n; i++)
		assert_int_equal(out[i]->line, i == 0 ? 2 : 10);
	dump_rules(fd, NFPROTO_INET, "foo", &d);
	assert_int_equal(flt_source_match(src, "inet", "foo", d.key, d.n, out, NULL), 0);
	for (i = 0; i < d.n; i++)
		assert_int_equal(out[i]->line, i == 0 ? 12 : 15);
	close(fd);
	flt_source_free(src);
}

static void test_delete_rule_makes_map_unusable(void **state)
{
	const struct flt_src_rule *out[MAX_RULES];
	struct flt_source *src = scan(DATA "delete.nft");
	char *err = NULL;
	struct dumped d;
	int fd = load(DATA "delete.nft");

	(void)state;
	assert_non_null(flt_source_unusable(src));
	assert_non_null(strstr(flt_source_unusable(src), "delete.nft:8"));
	dump_rules(fd, NFPROTO_INET, "vifwall", &d);
	close(fd);
	assert_int_equal(d.n, 1);
	out[0] = (const void *)1;
	assert_int_equal(flt_source_match(src, "inet", "vifwall", d.key, d.n, out, &err),
			 -EOPNOTSUPP);
	assert_null(out[0]);
	assert_non_null(strstr(err, "handle only"));
	free(err);
	flt_source_free(src);

	/* nft 1.0.6 silently drops rules in `create chain { ... }`; others may not */
	src = scan(DATA "create.nft");
	assert_non_null(flt_source_unusable(src));
	assert_non_null(strstr(flt_source_unusable(src), "create.nft:7"));
	flt_source_free(src);
}

static void test_mismatch_is_an_error(void **state)
{
	const struct flt_src_rule *out[MAX_RULES];
	struct flt_source *src = scan(DATA "basic.nft");
	char *err = NULL;
	struct dumped d;
	int fd = load(DATA "basic.nft");

	(void)state;
	dump_rules(fd, NFPROTO_INET, "vifwall", &d);
	close(fd);
	assert_int_equal(d.n, 5);
	/* one rule fewer than the file has */
	assert_int_equal(flt_source_match(src, "inet", "vifwall", d.key, d.n - 1, out, &err),
			 -ERANGE);
	assert_non_null(strstr(err, "5 rules"));
	free(err);
	/* a table the file does not have */
	assert_int_equal(flt_source_match(src, "inet", "nope", d.key, d.n, out, NULL), -ERANGE);
	/* a dumped rule in another chain than its statement */
	d.key[2].chain = "elsewhere";
	assert_int_equal(flt_source_match(src, "inet", "vifwall", d.key, d.n, out, &err), -EPROTO);
	assert_non_null(strstr(err, "elsewhere"));
	assert_null(out[0]);
	free(err);
	d.key[2].chain = NULL; /* NULL: not checked */
	assert_int_equal(flt_source_match(src, "inet", "vifwall", d.key, d.n, out, NULL), 0);
	d.key[1].handle = d.key[0].handle;
	assert_int_equal(flt_source_match(src, "inet", "vifwall", d.key, d.n, out, NULL), -EINVAL);
	flt_source_free(src);
}

static void test_unreadable_files(void **state)
{
	char dir[] = "/tmp/vifwall-source-XXXXXX", path[128], *err = NULL;
	struct flt_source *src = (void *)1;
	FILE *f;

	(void)state;
	assert_int_equal(flt_source_scan(DATA "nope.nft", &src, &err), -ENOENT);
	assert_null(src);
	assert_non_null(strstr(err, "nope.nft"));
	free(err);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.nft", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("table inet vifwall {\n\tinclude \"missing.nft\"\n}\n", f);
	fclose(f);
	assert_int_equal(flt_source_scan(path, &src, &err), -ENOENT);
	assert_non_null(strstr(err, "main.nft:2"));
	assert_non_null(strstr(err, "missing.nft"));
	free(err);
	/* a pattern that matches nothing is fine, as in nft */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("include \"none-*.nft\"\ntable inet vifwall {\n}\n", f);
	fclose(f);
	assert_int_equal(flt_source_scan(path, &src, NULL), 0);
	assert_int_equal(flt_source_count(src), 0);
	flt_source_free(src);
	unlink(path);
	rmdir(dir);
}

#define PAIR_TEST(file)                                                                            \
	{                                                                                          \
		"pairs " file, test_pairs_every_rule, NULL, NULL, (void *)(file)                   \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		PAIR_TEST("basic.nft"),
		PAIR_TEST("oneline.nft"),
		PAIR_TEST("sets_maps.nft"),
		PAIR_TEST("comments_strings.nft"),
		PAIR_TEST("continuation.nft"),
		PAIR_TEST("toplevel.nft"),
		PAIR_TEST("define.nft"),
		PAIR_TEST("include.nft"),
		PAIR_TEST("multichain.nft"),
		PAIR_TEST("othertables.nft"),
		PAIR_TEST("flush.nft"),
		PAIR_TEST("ports.nft"),
		cmocka_unit_test(test_text_is_one_line_as_written),
		cmocka_unit_test(test_kinds_and_positions),
		cmocka_unit_test(test_include_reports_included_file),
		cmocka_unit_test(test_other_tables_pair_too),
		cmocka_unit_test(test_delete_rule_makes_map_unusable),
		cmocka_unit_test(test_mismatch_is_an_error),
		cmocka_unit_test(test_unreadable_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
