/*
 * Tests of vifwalld's configuration file (appliance/daemon_config.c) and of the
 * command line applied over it (appliance/daemon_args.c): a good file fills every
 * setting; each kind of mistake is refused with its FILE:LINE and a hint; the command
 * line overrides the file; what --check-config prints reads back the same.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "appliance/daemon_config.h"

static const char good[] = "# vifwalld.conf for the tests\n"
			   "rules = /etc/vifwall/rules.nft   # the ruleset\n"
			   "uplink = eth0\n"
			   "ctl = /run/vifwall/ctl\n"
			   "log-level = debug\n"
			   "ring-blocks = 32\n"
			   "ring-retire-ms = 2\n"
			   "burst = 64\n"
			   "mac-table-entries = 1024\n"
			   "mac-table-age = 60\n"
			   "conntrack-entries = 20000\n"
			   "flow-cache-entries = 8192\n"
			   "\n"
			   "[port web1]\n"
			   "\tmac = 00:16:3e:00:00:01\n"
			   "\tip = 10.0.0.11\n"
			   "\tip = fd00::11\n"
			   "[ port web2 ]\r\n"
			   "ip = 10.0.0.12\r\n"
			   "antispoof = off\n"
			   "mac = 00:16:3E:00:00:02"; /* no newline at the end */

static struct app_daemon_config cfg; /* big: ports with their addresses */

static int parse(const char *text, char *err, size_t errlen)
{
	app_daemon_config_init(&cfg);
	return app_daemon_config_parse(text, strlen(text), "t.conf", &cfg, err, errlen);
}

static void test_good_file(void **state)
{
	char err[512];
	struct in_addr a4;

	(void)state;
	assert_int_equal(parse(good, err, sizeof(err)), 0);
	assert_string_equal(cfg.rules, "/etc/vifwall/rules.nft");
	assert_string_equal(cfg.ctl, "/run/vifwall/ctl");
	assert_int_equal(cfg.verbosity, 1);
	assert_int_equal(cfg.port.ring_blocks, 32);
	assert_int_equal(cfg.port.retire_ms, 2);
	assert_int_equal(cfg.burst, 64);
	assert_int_equal(cfg.mac_table_entries, 1024);
	assert_int_equal(cfg.mac_table_age_s, 60);
	assert_int_equal(cfg.conntrack_entries, 20000);
	assert_int_equal(cfg.flow_cache_entries, 8192);
	assert_int_equal(cfg.nports, 3);
	assert_string_equal(cfg.ports[0].name, "eth0");
	assert_true(cfg.ports[0].uplink);
	assert_string_equal(cfg.ports[1].name, "web1");
	assert_false(cfg.ports[1].uplink);
	assert_true(cfg.ports[1].as.enabled);
	assert_true(cfg.ports[1].as.have_mac);
	assert_int_equal(cfg.ports[1].as.mac[5], 1);
	assert_int_equal(cfg.ports[1].as.n4, 1);
	assert_int_equal(cfg.ports[1].as.n6, 1);
	inet_pton(AF_INET, "10.0.0.11", &a4);
	assert_memory_equal(&cfg.ports[1].as.ip4[0], &a4, 4);
	assert_string_equal(cfg.ports[2].name, "web2");
	assert_false(cfg.ports[2].as.enabled); /* antispoof = off wins over ip */
	assert_int_equal(cfg.ports[2].as.mac[5], 2);
	assert_int_equal(app_daemon_config_check(&cfg, err, sizeof(err)), 0);
}

static void test_defaults(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(parse("# nothing but a comment\n\n", err, sizeof(err)), 0);
	assert_null(cfg.rules);
	assert_null(cfg.ctl);
	assert_int_equal(cfg.nports, 1);
	assert_int_equal(cfg.port.ring_blocks, APP_DEFAULT_RING_BLOCKS);
	assert_int_equal(cfg.port.retire_ms, APP_DEFAULT_RING_RETIRE_MS);
	assert_int_equal(cfg.conntrack_entries, APP_DEFAULT_CONNTRACK_ENTRIES);
	assert_int_equal(cfg.flow_cache_entries, APP_DEFAULT_FLOW_CACHE_ENTRIES);
	assert_int_equal(cfg.mac_table_entries, APP_DEFAULT_MAC_TABLE_ENTRIES);
	/* Nothing required in the file; the check says what is missing. */
	assert_int_equal(app_daemon_config_check(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rules = FILE"));
}

/* Each bad file: the message must start with its line and name the problem. */
static const struct bad_case {
	const char *text, *where, *what;
} bad_cases[] = {
	{"rules = r\nring_blocks = 4\n", "t.conf:2: ", "unknown key 'ring_blocks'"},
	/* The list of known keys is made from the tables: the last one is in it. */
	{"retire = 4\n", "t.conf:1: ", "ring-retire-ms, burst, "},
	{"retire = 4\n", "t.conf:1: ", ", workers)"},
	{"ring-retire-ms = 0\n", "t.conf:1: ", "out of range (1 to 100"},
	{"ring-retire-ms = 101\n", "t.conf:1: ", "out of range (1 to 100"},
	{"ring-blocks = lots\n", "t.conf:1: ", "is not a number"},
	{"ring-blocks = -4\n", "t.conf:1: ", "is not a number"},
	{"\n\nring-blocks = 5000\n", "t.conf:3: ", "out of range (4 to 4096"},
	{"conntrack-entries = 99999999999999999999\n", "t.conf:1: ", "out of range"},
	{"flow-cache-entries = 1\n", "t.conf:1: ", "out of range (16 to"},
	{"burst = 65\n", "t.conf:1: ", "out of range (1 to 64"},
	{"mac-table-entries =\n", "t.conf:1: ", "needs a number"},
	{"[port a]\nip = 10.0.0.1\n[port b]\n[port a]\n", "t.conf:4: ", "'a' is given twice"},
	{"[port a]\nmac = 00:16:3e:00:00\n", "t.conf:2: ", "is not a MAC address"},
	{"[port a]\nmac = 00:16:3e:00:00:01:02\n", "t.conf:2: ", "is not a MAC address"},
	{"[port a]\nmac = 01:00:5e:00:00:01\n", "t.conf:2: ", "multicast or zero"},
	{"[port a]\nmac = 00:16:3e:00:00:01\nmac = 00:16:3e:00:00:02\n",
	 "t.conf:3: ", "mac is given twice"},
	{"[port a]\nip = 10.0.0.300\n", "t.conf:2: ", "is not an IPv4 or IPv6 address"},
	{"[port a]\nip = 10.0.0.0/24\n", "t.conf:2: ", "no prefix length"},
	{"[port a]\nip = 127.0.0.1\n", "t.conf:2: ", "loopback"},
	{"[port a]\nantispoof = maybe\n", "t.conf:2: ", "neither on nor off"},
	{"[port a]\n\nantispoof = on\n", "t.conf:1: ", "antispoof is on but no ip"},
	{"[port a]\nrules = r\n", "t.conf:2: ", "unknown port key 'rules'"},
	{"ip = 10.0.0.1\n", "t.conf:1: ", "put it under a [port NAME] line"},
	{"uplink = eth0\nuplink = eth1\n", "t.conf:2: ", "already set on line 1"},
	{"uplink = eth0\n[port eth0]\n", "t.conf:2: ", "is the uplink"},
	{"[port a]\nip = 10.0.0.1\n", NULL, NULL}, /* a good one among the bad */
	{"[port this-name-is-too-long]\n", "t.conf:1: ", "is not a device name"},
	{"[port]\n", "t.conf:1: ", "names no device"},
	{"[bridge]\n", "t.conf:1: ", "unknown section '[bridge]'"},
	{"[port a\n", "t.conf:1: ", "[port NAME], alone on its line"},
	{"rules\n", "t.conf:1: ", "is not 'key = value'"},
	{"= x\n", "t.conf:1: ", "the key is missing"},
	{"rules =\n", "t.conf:1: ", "rules needs a value"},
	{"log-level = loud\n", "t.conf:1: ", "neither info nor debug"},
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		char err[512] = "";
		int rc = parse(b->text, err, sizeof(err));

		if (!b->where) {
			assert_int_equal(rc, 0);
			continue;
		}
		if (rc != -EINVAL || strncmp(err, b->where, strlen(b->where)) ||
		    !strstr(err, b->what))
			fail_msg("case %zu %s: rc %d, message '%s'", i, b->text, rc, err);
	}
}

static void test_long_line_and_nul(void **state)
{
	char text[APP_CONFIG_LINE_MAX + 40], err[512];

	(void)state;
	memset(text, 'x', sizeof(text));
	memcpy(text, "rules = r\n", 10);
	assert_int_equal(
		app_daemon_config_parse(text, sizeof(text), "t.conf", &cfg, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "t.conf:2: line longer than"));
	app_daemon_config_init(&cfg);
	assert_int_equal(
		app_daemon_config_parse("rules = a\0b\n", 12, "t.conf", &cfg, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "t.conf:1: a NUL byte"));
	/* No room for a message is allowed too. */
	app_daemon_config_init(&cfg);
	assert_int_equal(app_daemon_config_parse("bogus\n", 6, "t.conf", &cfg, NULL, 0), -EINVAL);
}

/* What --check-config prints is a file that reads back to the same settings. */
static void test_print_reads_back(void **state)
{
	static struct app_daemon_config again;
	char err[512], *out1 = NULL, *out2 = NULL;
	size_t len1 = 0, len2 = 0;
	FILE *f;

	(void)state;
	assert_int_equal(parse(good, err, sizeof(err)), 0);
	f = open_memstream(&out1, &len1);
	app_daemon_config_print(&cfg, f);
	fclose(f);
	app_daemon_config_init(&again);
	assert_int_equal(app_daemon_config_parse(out1, len1, "printed", &again, err, sizeof(err)),
			 0);
	f = open_memstream(&out2, &len2);
	app_daemon_config_print(&again, f);
	fclose(f);
	assert_string_equal(out1, out2);
	assert_non_null(strstr(out1, "[port web2]\nmac = 00:16:3e:00:00:02\nip = 10.0.0.12\n"
				     "antispoof = off\n"));
	free(out1);
	free(out2);
}

/* ---- the command line over the file --------------------------------------------- */

static char path[64];

static int setup_file(void **state)
{
	int fd;

	(void)state;
	strcpy(path, "/tmp/test_daemon_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	return 0;
}

static int teardown_file(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int args(const char *first, ...)
{
	char *argv[32] = {"vifwalld"};
	int argc = 1;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	return app_daemon_args_parse(argc, argv, &cfg);
}

static void test_command_line_overrides(void **state)
{
	(void)state;
	assert_int_equal(args("--config", path, "--rules", "other.nft", "--uplink", "up0", "--ctl",
			      "/tmp/ctl", "--ring-blocks", "8", "--ring-retire-ms", "1", "--port",
			      "web2,mac=00:16:3e:00:00:22,ip=10.0.0.22", "--port",
			      "web3,ip=fd00::33", NULL),
			 0);
	assert_string_equal(cfg.rules, "other.nft");
	assert_string_equal(cfg.ctl, "/tmp/ctl");
	assert_int_equal(cfg.port.ring_blocks, 8);
	assert_int_equal(cfg.port.retire_ms, 1);
	assert_int_equal(cfg.conntrack_entries, 20000); /* the file's, not said again */
	assert_int_equal(cfg.verbosity, 1);
	assert_string_equal(cfg.ports[0].name, "up0");
	assert_int_equal(cfg.nports, 4);
	assert_string_equal(cfg.ports[1].name, "web1"); /* the file's, untouched */
	assert_int_equal(cfg.ports[1].as.n6, 1);
	/* web2 is the command line's now: its mac and ip, anti-spoofing on again. */
	assert_string_equal(cfg.ports[2].name, "web2");
	assert_int_equal(cfg.ports[2].as.mac[5], 0x22);
	assert_int_equal(cfg.ports[2].as.n4, 1);
	assert_true(cfg.ports[2].as.enabled);
	assert_string_equal(cfg.ports[3].name, "web3");
	assert_true(cfg.ports[3].as.enabled);
}

static void test_command_line_alone(void **state)
{
	(void)state;
	/* The tests' and operators' command line, with no file or an empty one. */
	assert_int_equal(
		args("--config", "/dev/null", "--rules", "r.nft", "--uplink", "uplink", NULL), 0);
	assert_string_equal(cfg.ports[0].name, "uplink");
	assert_int_equal(args("--rules", "r.nft", "--uplink", "uplink", "--port",
			      "web1,mac=00:16:3e:00:00:01,ip=10.0.0.11,ip=fd00::11", "--port",
			      "web2,antispoof=off,ip=10.0.0.12", "--ctl", "/tmp/s", NULL),
			 0);
	assert_string_equal(cfg.rules, "r.nft");
	assert_int_equal(cfg.nports, 3);
	assert_true(cfg.ports[1].as.enabled);
	assert_int_equal(cfg.ports[1].as.n4 + cfg.ports[1].as.n6, 2);
	assert_false(cfg.ports[2].as.enabled);
	assert_int_equal(cfg.port.ring_blocks, APP_DEFAULT_RING_BLOCKS);
	assert_int_equal(cfg.port.retire_ms, APP_DEFAULT_RING_RETIRE_MS);
}

static void test_command_line_errors(void **state)
{
	(void)state;
	assert_int_equal(args("--config", "/nonexistent/vifwalld.conf", "--rules", "r", "--uplink",
			      "u", NULL),
			 -EINVAL);
	assert_int_equal(args("--config", path, "--uplink", "web1", NULL), -EINVAL);
	assert_int_equal(args("--rules", "r", "--uplink", "u", "--port", "a", "--port", "a", NULL),
			 -EINVAL);
	assert_int_equal(args("--rules", "r", "--port", "a", NULL), -EINVAL); /* no uplink */
	assert_int_equal(args("--rules", "r", "--uplink", "u", "--port", "a,mac=zz", NULL),
			 -EINVAL);
	assert_int_equal(args("--config", path, "--ring-blocks", "3", NULL), -EINVAL);
	assert_int_equal(args("--config", path, "--ring-retire-ms", "0", NULL), -EINVAL);
	assert_int_equal(args("--config", path, "--ring-retire-ms", "4ms", NULL), -EINVAL);
	assert_int_equal(args("--config", path, "--ring-blocks", "-4", NULL), -EINVAL);
	assert_int_equal(args("--config", path, "--ring-blocks", "99999999999999999999", NULL),
			 -EINVAL);
	assert_int_equal(args("--config", path, "--workers", "17", NULL), -EINVAL);
	assert_int_equal(args("--config", path, "--workers", "", NULL), -EINVAL);
	/* 0 is a value of its own for --workers (one per CPU), not "not given". */
	assert_int_equal(args("--config", path, "--workers", "0", NULL), 0);
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(args("--config", path, "--workers", "2", NULL), 0);
	assert_int_equal(cfg.workers, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_long_line_and_nul),
		cmocka_unit_test(test_print_reads_back),
		cmocka_unit_test_setup_teardown(test_command_line_overrides, setup_file,
						teardown_file),
		cmocka_unit_test(test_command_line_alone),
		cmocka_unit_test_setup_teardown(test_command_line_errors, setup_file,
						teardown_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
