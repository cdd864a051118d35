/*
 * Unit tests of the table memory (filters/hugemem.c): zeroed, writable to the last
 * byte, 2 MiB aligned from 2 MiB up, malloc'd below, refused at 0 and at sizes that
 * overflow the rounding; and, where this kernel has transparent huge pages, a large
 * table actually in them (read from /proc/self/smaps).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "filters/hugemem.h"

#define MIB ((size_t)1 << 20)

/* Every byte at @p is 0 (a page-strided sample for large sizes, and the last byte). */
static void assert_zero(const uint8_t *p, size_t size)
{
	size_t step = size > MIB ? 4096 : 1;

	for (size_t i = 0; i < size; i += step)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[size - 1], 0);
}

static void test_small(void **state)
{
	uint8_t *p = flt_hugemem_alloc(1000);

	(void)state;
	assert_non_null(p);
	assert_zero(p, 1000);
	memset(p, 0xab, 1000);
	flt_hugemem_free(p, 1000);
	flt_hugemem_free(NULL, 1000);
}

static void test_large_aligned_zeroed(void **state)
{
	const size_t sizes[] = {2 * MIB, 2 * MIB + 1, 12 * MIB, 12 * MIB + 4096};

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = flt_hugemem_alloc(sizes[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % (2 * MIB), 0);
		assert_zero(p, sizes[i]);
		p[0] = 1;
		p[sizes[i] - 1] = 1; /* writable to the end */
		flt_hugemem_free(p, sizes[i]);
	}
}

static void test_refused(void **state)
{
	(void)state;
	assert_null(flt_hugemem_alloc(0));
	assert_null(flt_hugemem_alloc(SIZE_MAX));	/* the rounding would wrap */
	assert_null(flt_hugemem_alloc(SIZE_MAX - MIB)); /* likewise */
}

/* AnonHugePages of the smaps entry that contains @p, in kB; -1 if not found. */
static long huge_kb_at(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

static void test_in_huge_pages_when_the_kernel_has_them(void **state)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char mode[128] = "";
	uint8_t *p;

	(void)state;
	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	p = flt_hugemem_alloc(12 * MIB);
	assert_non_null(p);
	if (strstr(mode, "[always]") || strstr(mode, "[madvise]")) {
		long kb = huge_kb_at(p);

		print_message("THP %s: table of 12 MiB, %ld kB in huge pages\n",
			      strstr(mode, "[always]") ? "always" : "madvise", kb);
		/* Faulted in at allocation, after the advice: huge pages, unless memory is
		 * too fragmented to give even one. */
		assert_true(kb >= 2048);
	} else {
		print_message("no transparent huge pages here (%s): nothing more to check\n",
			      mode[0] ? "never" : "no sysfs");
	}
	flt_hugemem_free(p, 12 * MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_large_aligned_zeroed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_huge_pages_when_the_kernel_has_them),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
