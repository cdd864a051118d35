/*
 * Memory for the tables every packet looks up at a random place (the flow cache, the
 * connection tracker): zeroed, and in 2 MiB transparent huge pages where the kernel
 * has them to give.
 *
 * Why: with thousands of flows each lookup lands on another 4 KiB page of a table
 * of megabytes, more pages than the TLB holds, so every packet paid a page walk
 * before its cache miss; and a software prefetch that misses the TLB waits for the
 * walk, which took away most of what prefetching the flow cache's buckets gained
 * (docs/performance.md). A 12 MiB table is six huge pages.
 *
 * Where the kernel has huge pages, the memory is faulted in at allocation: a table
 * takes what its configured size asks for at start (and shows it in RSS) rather than
 * when a flood of flows first reaches it, which in 2 MiB faults is after a few
 * lookups anyway. Without them (THP "never", or a Xen PV guest, which has no PSE: the
 * appliance) the memory comes in 4 KiB pages, untouched until used, as calloc's
 * would: a driver domain of 128 MiB has no 12 MiB to spare for a table few flows use.
 */
#ifndef VIFWALL_FILTERS_HUGEMEM_H
#define VIFWALL_FILTERS_HUGEMEM_H

#include <stddef.h>

/* @size zeroed bytes, 2 MiB aligned from 2 MiB up (smaller: malloc's alignment);
 * NULL if the memory cannot be had. */
void *flt_hugemem_alloc(size_t size);

/* Free what flt_hugemem_alloc(@size) returned, given the same @size; NULL is a no-op. */
void flt_hugemem_free(void *p, size_t size);

#endif
