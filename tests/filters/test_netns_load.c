/*
 * flt_netns_load(): a ruleset goes into a private namespace, never the host's; the
 * caller gets a working netlink socket there, or an error the user can act on.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <nftables/libnftables.h>

#include "filters/netns_load.h"

#define NOBODY 65534

static const char good_nft[] = "# a small but real ruleset\n"
			       "include \"sets.nft\"\n"
			       "table inet vifwall {\n"
			       "\tchain forward {\n"
			       "\t\ttype filter hook forward priority 0; policy drop;\n"
			       "\t\tct state established,related accept\n"
			       "\t\tip saddr @trusted tcp dport { 22, 80 } accept\n"
			       "\t}\n"
			       "}\n";
static const char sets_nft[] = "table inet vifwall {\n"
			       "\tset trusted { type ipv4_addr; elements = { 10.0.0.1 } }\n"
			       "}\n";
static const char syntax_nft[] = "table inet vifwall {\n"
				 "\tchain forward {\n"
				 "\t\ttype filter hook forward priority 0;\n"
				 "\t\ttcp dport 22 acept\n"
				 "\t}\n"
				 "}\n";
static const char notable_nft[] = "table inet other {\n"
				  "\tchain forward { type filter hook forward priority 0; }\n"
				  "}\n";
static const char iif_nft[] = "table inet vifwall {\n"
			      "\tchain forward {\n"
			      "\t\ttype filter hook forward priority 0;\n"
			      "\t\tiif \"web1\" oif \"uplink0\" accept\n"
			      "\t}\n"
			      "}\n";

struct fixture {
	char dir[64];
	char good[128], syntax[128], notable[128], iif[128];
};

static void write_file(const char *dir, const char *name, const char *text, char *path, size_t size)
{
	char buf[256];
	FILE *f;

	if (!path) {
		path = buf;
		size = sizeof(buf);
	}
	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/vifwall-netns-load-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	/* Readable by nobody, for the non-root test. */
	chmod(fx->dir, 0755);
	write_file(fx->dir, "good.nft", good_nft, fx->good, sizeof(fx->good));
	write_file(fx->dir, "sets.nft", sets_nft, NULL, 0);
	write_file(fx->dir, "syntax.nft", syntax_nft, fx->syntax, sizeof(fx->syntax));
	write_file(fx->dir, "notable.nft", notable_nft, fx->notable, sizeof(fx->notable));
	write_file(fx->dir, "iif.nft", iif_nft, fx->iif, sizeof(fx->iif));
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	int *found = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (t && nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET &&
	    !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "vifwall"))
		(*found)++;
	nftnl_table_free(t);
	return MNL_CB_OK;
}

/* How many `table inet vifwall` the namespace of @fd holds (-1: the dump failed).
 * Leaves @fd open. */
static int count_vifwall_tables(int fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int found = 0, ret, mine = dup(fd);
	ssize_t n;

	/* A copy, so that mnl_socket_close() leaves the caller's fd open. */
	nl = mine < 0 ? NULL : mnl_socket_fdopen(mine);
	if (!nl) {
		if (mine >= 0)
			close(mine);
		return -1;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, 42);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		found = -1;
		goto out;
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n <= 0) {
			found = -1;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, 42, mnl_socket_get_portid(nl), table_cb, &found);
		if (ret < 0)
			found = -1;
	} while (ret > MNL_CB_STOP);
out:
	mnl_socket_close(nl);
	return found;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* The host's ruleset as `nft list ruleset` prints it (malloc'd), or NULL when
 * not root. */
static char *host_ruleset(void)
{
	struct nft_ctx *nft;
	char *text;

	if (geteuid() != 0)
		return NULL;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	assert_non_null(nft);
	assert_int_equal(nft_ctx_buffer_output(nft), 0);
	assert_int_equal(nft_ctx_buffer_error(nft), 0);
	assert_int_equal(nft_run_cmd_from_buffer(nft, "list ruleset"), 0);
	text = strdup(nft_ctx_get_output_buffer(nft));
	nft_ctx_free(nft);
	return text;
}

static void test_good_file_loads_and_socket_dumps_it(void **state)
{
	struct fixture *fx = *state;
	char *err = (char *)"unset";
	int fd = -2;

	assert_int_equal(flt_netns_load(fx->good, NULL, NULL, &fd, &err), 0);
	assert_null(err);
	assert_true(fd >= 0);
	/* The helper process is gone: the socket alone keeps the namespace. */
	assert_no_children();
	assert_int_equal(count_vifwall_tables(fd), 1);
	close(fd);
}

static void test_syntax_error_names_file_line_column(void **state)
{
	struct fixture *fx = *state;
	char *err = NULL, where[160];
	int fd = 7;

	assert_int_equal(flt_netns_load(fx->syntax, NULL, NULL, &fd, &err), -EINVAL);
	assert_int_equal(fd, -1);
	assert_non_null(err);
	snprintf(where, sizeof(where), "%s:4:", fx->syntax);
	assert_non_null(strstr(err, where));
	/* nft's own text, with its caret line under the bad word */
	assert_non_null(strstr(err, "acept"));
	assert_non_null(strstr(err, "^"));
	free(err);
}

static void test_file_without_vifwall_table_is_refused(void **state)
{
	struct fixture *fx = *state;
	char *err = NULL;
	int fd;

	assert_int_equal(flt_netns_load(fx->notable, NULL, NULL, &fd, &err), -EINVAL);
	assert_int_equal(fd, -1);
	assert_non_null(err);
	assert_non_null(strstr(err, "must define `table inet vifwall`"));
	assert_non_null(strstr(err, "forward"));
	assert_non_null(strstr(err, "notable.nft"));
	free(err);
}

static void test_host_ruleset_untouched(void **state)
{
	struct fixture *fx = *state;
	char *before, *after, *err = NULL;
	int fd;

	before = host_ruleset();
	if (!before)
		skip();
	assert_int_equal(flt_netns_load(fx->good, NULL, NULL, &fd, &err), 0);
	after = host_ruleset();
	assert_string_equal(before, after);
	/* and the table we just loaded is only visible through the socket */
	assert_int_equal(count_vifwall_tables(fd), 1);
	close(fd);
	free(before);
	free(after);
}

static void test_iif_needs_the_port(void **state)
{
	struct fixture *fx = *state;
	const char *ports[] = {"web1", "web2", "uplink0", NULL};
	uint32_t idx[3] = {0, 0, 0};
	char *err = NULL, where[160];
	int fd;

	assert_int_equal(flt_netns_load(fx->iif, ports, idx, &fd, &err), 0);
	assert_null(err);
	assert_true(idx[0] > 1 && idx[1] > 1 && idx[2] > 1); /* 1 is lo */
	assert_true(idx[0] != idx[1] && idx[1] != idx[2] && idx[0] != idx[2]);
	assert_int_equal(count_vifwall_tables(fd), 1);
	close(fd);

	/* without the ports, nft refuses the rule and says where */
	assert_int_equal(flt_netns_load(fx->iif, NULL, NULL, &fd, &err), -EINVAL);
	assert_non_null(err);
	snprintf(where, sizeof(where), "%s:4:", fx->iif);
	assert_non_null(strstr(err, where));
	free(err);
}

static void test_port_lo_and_odd_count(void **state)
{
	struct fixture *fx = *state;
	const char *ports[] = {"web1", "uplink0", "lo", "veth0", "vif3.0", NULL};
	uint32_t idx[5];
	char *err = NULL;
	int fd;

	assert_int_equal(flt_netns_load(fx->iif, ports, idx, &fd, &err), 0);
	assert_null(err);
	assert_int_equal(idx[2], 1);
	assert_true(idx[3] > 1 && idx[4] > 1 && idx[3] != idx[4]);
	close(fd);
}

static void test_bad_port_names_refused(void **state)
{
	struct fixture *fx = *state;
	const char *toolong[] = {"web1", "a-name-too-long-x", NULL};
	const char *twice[] = {"web1", "web1", NULL};
	const char *slash[] = {"a/b", NULL};
	char *err = NULL;
	int fd;

	assert_int_equal(flt_netns_load(fx->good, toolong, NULL, &fd, &err), -EINVAL);
	assert_non_null(strstr(err, "a-name-too-long-x"));
	free(err);
	assert_int_equal(flt_netns_load(fx->good, twice, NULL, &fd, &err), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	free(err);
	assert_int_equal(flt_netns_load(fx->good, slash, NULL, &fd, &err), -EINVAL);
	assert_non_null(strstr(err, "a/b"));
	free(err);
}

static void test_missing_file(void **state)
{
	struct fixture *fx = *state;
	char path[160], *err = NULL;
	int fd;

	snprintf(path, sizeof(path), "%s/nope.nft", fx->dir);
	assert_int_equal(flt_netns_load(path, NULL, NULL, &fd, &err), -ENOENT);
	assert_non_null(strstr(err, path));
	free(err);
	/* err may be NULL when the caller does not want the text */
	assert_int_equal(flt_netns_load(path, NULL, NULL, &fd, NULL), -ENOENT);
}

static void test_no_leaked_fds_or_zombies(void **state)
{
	struct fixture *fx = *state;
	const char *ports[] = {"web1", "uplink0", NULL};
	int before = count_fds(), fd, i;
	char *err;

	for (i = 0; i < 3; i++) {
		assert_int_equal(flt_netns_load(fx->good, NULL, NULL, &fd, &err), 0);
		close(fd);
		assert_int_equal(flt_netns_load(fx->iif, ports, NULL, &fd, &err), 0);
		close(fd);
		assert_int_equal(flt_netns_load(fx->syntax, NULL, NULL, &fd, &err), -EINVAL);
		free(err);
		assert_int_equal(flt_netns_load(fx->notable, NULL, NULL, &fd, NULL), -EINVAL);
	}
	assert_int_equal(count_fds(), before);
	assert_no_children();
}

/* As nobody, in a forked test child: a user namespace makes it root inside. */
static void test_works_as_non_root(void **state)
{
	struct fixture *fx = *state;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		skip(); /* the other tests already ran as this non-root user */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *ports[] = {"web1", "uplink0", NULL};
		char *err = NULL;
		int fd, rc = 0;

		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(10);
		/* setuid() made us non-dumpable, which hides /proc/self/uid_map from us;
		 * an ordinary non-root login is dumpable. */
		prctl(PR_SET_DUMPABLE, 1);
		if (flt_netns_load(fx->good, NULL, NULL, &fd, &err) != 0) {
			fprintf(stderr, "# good.nft as nobody: %s\n", err);
			_exit(11);
		}
		if (count_vifwall_tables(fd) != 1)
			rc = 12;
		close(fd);
		if (flt_netns_load(fx->iif, ports, NULL, &fd, &err) != 0) {
			fprintf(stderr, "# iif.nft as nobody: %s\n", err);
			_exit(13);
		}
		close(fd);
		if (flt_netns_load(fx->syntax, NULL, NULL, &fd, &err) != -EINVAL ||
		    !strstr(err, "syntax.nft:4:"))
			rc = 14;
		free(err);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file_loads_and_socket_dumps_it),
		cmocka_unit_test(test_syntax_error_names_file_line_column),
		cmocka_unit_test(test_file_without_vifwall_table_is_refused),
		cmocka_unit_test(test_host_ruleset_untouched),
		cmocka_unit_test(test_iif_needs_the_port),
		cmocka_unit_test(test_port_lo_and_odd_count),
		cmocka_unit_test(test_bad_port_names_refused),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_no_leaked_fds_or_zombies),
		cmocka_unit_test(test_works_as_non_root),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
