/*
 * Rulesets from text for tests and fuzz targets: the loader reads nft scripts from
 * files (nft's messages then name file:line), so the text goes to a temporary file
 * first. Linked into every unit test (tests/module.mk) and compiled into the fuzzers.
 */
#ifndef VIFWALL_TESTS_NFT_TEXT_H
#define VIFWALL_TESTS_NFT_TEXT_H

#include "filters/ruleset.h"

/* Write @text to a new file /tmp/vifwall-test-XXXXXX.nft, its name into @path.
 * Returns 0 or -errno. The caller unlinks it. */
int test_nft_file(const char *text, char path[64]);

/* flt_ruleset_load() of @text, with port names @ports (NULL-terminated; may be NULL)
 * and @log (may be NULL); the temporary file is gone when it returns. */
int test_ruleset_from_text(const char *text, const char *const *ports, const struct flt_logger *log,
			   struct flt_ruleset **out, char **err);

#endif
