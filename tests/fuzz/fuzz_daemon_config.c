/*
 * libFuzzer target for vifwalld's configuration file parser (appliance/daemon_config.c).
 * Any bytes must parse or be refused without a crash or a leak; a refusal names
 * "fuzz:LINE:"; what parses stays inside the documented bounds, and what
 * --check-config prints for it must parse again to the very same settings.
 * Seeds: tests/fuzz/corpus/daemon_config/.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/daemon_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

static struct app_daemon_config cfg, again;

static char *print(const struct app_daemon_config *c, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	CHECK(f);
	app_daemon_config_print(c, f);
	fclose(f);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], *out1, *out2;
	size_t len1, len2;
	int rc;

	memset(err, 'x', sizeof(err));
	app_daemon_config_init(&cfg);
	rc = app_daemon_config_parse((const char *)data, size, "fuzz", &cfg, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)));
	if (rc < 0) {
		CHECK(!strncmp(err, "fuzz:", 5));
		return 0;
	}
	CHECK(err[0] == '\0');
	CHECK(cfg.nports >= 1 && cfg.nports <= NB_MAX_PORTS);
	CHECK(cfg.port.ring_blocks >= 4 && cfg.port.ring_blocks <= 4096);
	CHECK(cfg.port.retire_ms >= 1 && cfg.port.retire_ms <= 100);
	CHECK(cfg.burst >= 1 && cfg.burst <= NB_BURST_MAX);
	for (unsigned i = 1; i < cfg.nports; i++) {
		CHECK(cfg.ports[i].name[0] && strlen(cfg.ports[i].name) < NB_IFNAMSIZ);
		CHECK(!cfg.ports[i].uplink);
		CHECK(cfg.ports[i].as.n4 <= NB_AS_MAX_ADDRS &&
		      cfg.ports[i].as.n6 <= NB_AS_MAX_ADDRS);
	}
	out1 = print(&cfg, &len1);
	app_daemon_config_init(&again);
	rc = app_daemon_config_parse(out1, len1, "printed", &again, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "printed settings refused: %s\n%s", err, out1);
		abort();
	}
	out2 = print(&again, &len2);
	CHECK(len1 == len2 && !memcmp(out1, out2, len1));
	free(out1);
	free(out2);
	return 0;
}
