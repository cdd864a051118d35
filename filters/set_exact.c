/*
 * Exact-match sets, the semantics of the kernel's hash and bitmap backends: an
 * element matches when all key_len register bytes equal its key (padding bytes of
 * concatenations included, as nft_hash compares them).
 *
 * The reference implementation: open addressing with linear probing over a table at
 * most half full, so a miss ends at a free slot after a few probes. Keys live in one
 * flat array; the table holds element numbers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters/set_internal.h"

/* FNV-1a: keys are short and the set is built from trusted kernel data, so a
 * simple spread is enough; the probe bound comes from the load factor. */
static uint32_t exact_hash(const uint8_t *key, uint32_t len)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < len; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h ^ (h >> 16);
}

int flt_set_exact_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			uint32_t n, char *why, size_t whylen)
{
	struct flt_set_exact *x = &s->u.exact;
	uint32_t slots = 4;

	while (slots < 2 * (uint64_t)n)
		slots *= 2;
	x->slot = calloc(slots, sizeof(*x->slot));
	x->keys = malloc(n ? (size_t)n * s->key_len : 1);
	x->elem = malloc((n ? n : 1) * sizeof(*x->elem));
	if (!x->slot || !x->keys || !x->elem) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	x->mask = slots - 1;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *key = spec->elems[idx[i]].key;
		uint32_t h = exact_hash(key, s->key_len) & x->mask;

		while (x->slot[h]) {
			if (!memcmp(x->keys + (size_t)(x->slot[h] - 1) * s->key_len, key,
				    s->key_len)) {
				snprintf(why, whylen, "the same key appears twice");
				return -EINVAL;
			}
			h = (h + 1) & x->mask;
		}
		memcpy(x->keys + (size_t)i * s->key_len, key, s->key_len);
		x->elem[i] = idx[i];
		x->slot[h] = i + 1;
	}
	x->n = n;
	s->count += n;
	return 0;
}

bool flt_set_exact_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem)
{
	const struct flt_set_exact *x = &s->u.exact;
	uint32_t h = exact_hash(key, s->key_len) & x->mask;

	/* The table is never full, so a free slot ends every probe sequence. */
	while (x->slot[h]) {
		uint32_t i = x->slot[h] - 1;

		if (!memcmp(x->keys + (size_t)i * s->key_len, key, s->key_len)) {
			*elem = x->elem[i];
			return true;
		}
		h = (h + 1) & x->mask;
	}
	return false;
}

void flt_set_exact_free(struct flt_set *s)
{
	free(s->u.exact.slot);
	free(s->u.exact.keys);
	free(s->u.exact.elem);
}
