/*
 * Huge-page-backed table memory (hugemem.h): an anonymous mapping rounded up to 2 MiB
 * and aligned to it (a huge page can only back an aligned 2 MiB range), with
 * MADV_HUGEPAGE so it gets huge pages in THP's "madvise" mode too. Below 2 MiB, plain
 * calloc: the size alone tells flt_hugemem_free which it was.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "filters/hugemem.h"

#define HUGE_PAGE ((size_t)2 << 20)

static size_t huge_round(size_t size)
{
	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* Whether this kernel gives transparent huge pages to a region advised so: its sysfs
 * switch exists (not on a Xen PV guest, which has no PSE) and is not "never". */
static bool thp_enabled(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
	char mode[128];
	bool on = false;

	if (!f)
		return false;
	if (fgets(mode, sizeof(mode), f))
		on = strstr(mode, "[always]") || strstr(mode, "[madvise]");
	fclose(f);
	return on;
}

void *flt_hugemem_alloc(size_t size)
{
	size_t len = huge_round(size), lead, trail;
	uint8_t *map, *p;

	if (!size || len < size)
		return NULL;
	/* Smaller than one huge page (tests, tiny tables): not worth 2 MiB of memory. */
	if (size < HUGE_PAGE)
		return calloc(1, size);
	/* Map one huge page more than needed, keep the aligned part, unmap the rest. */
	map = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	if (map == MAP_FAILED)
		return NULL;
	p = (uint8_t *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	lead = (size_t)(p - map);
	trail = HUGE_PAGE - lead;
	if (lead)
		munmap(map, lead);
	if (trail)
		munmap(p + len, trail);
	/* Advice only: without THP the mapping works the same in small pages. */
	(void)madvise(p, len, MADV_HUGEPAGE);
	/* In huge pages a table is resident after a few lookups anyway (each fault
	 * brings 2 MiB): fault it all in now, after the advice so the faults take huge
	 * pages, and its memory is taken at start rather than at the first flood. In
	 * small pages it stays untouched until used, which keeps a lightly used table
	 * small in a driver domain of 128 MiB. */
	if (thp_enabled())
		memset(p, 0, len);
	return p;
}

void flt_hugemem_free(void *p, size_t size)
{
	if (!p)
		return;
	if (size < HUGE_PAGE)
		free(p);
	else
		munmap(p, huge_round(size));
}
