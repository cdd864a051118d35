/* Rulesets from text for tests (nft_text.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/nft_text.h"

int test_nft_file(const char *text, char path[64])
{
	size_t len = strlen(text);
	int fd, rc = 0;

	snprintf(path, 64, "/tmp/vifwall-test-XXXXXX.nft");
	fd = mkstemps(path, 4);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len)
		rc = -EIO;
	close(fd);
	if (rc)
		unlink(path);
	return rc;
}

int test_ruleset_from_text(const char *text, const char *const *ports, const struct flt_logger *log,
			   struct flt_ruleset **out, char **err)
{
	char path[64];
	struct flt_load_opts lo = {.path = path, .ports = ports, .log = log};
	int rc = test_nft_file(text, path);

	if (rc < 0)
		return rc;
	rc = flt_ruleset_load(&lo, out, err);
	unlink(path);
	return rc;
}
