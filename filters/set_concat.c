/*
 * Concatenations with ranges, the semantics of the kernel's pipapo backend: an
 * element is a range per field, [key, key_end] inclusive (key_end absent: a single
 * value), and a key matches when every field lies within its range. Fields sit in
 * the key as the registers hold them, each padded to 4 bytes; padding bytes are
 * never compared, as pipapo skips them. Fields compare as memcmp() does.
 *
 * pipapo accepts a range strictly containing another; a key in both then matches the
 * element inserted first, which for a freshly loaded set is the first in the dump, so
 * the scan returns the first match in dump order.
 *
 * The reference implementation: a linear scan of all ranges.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters/set_internal.h"

int flt_set_concat_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			 uint32_t n, char *why, size_t whylen)
{
	struct flt_set_concat *c = &s->u.concat;
	uint16_t off = 0;

	for (unsigned f = 0; f < s->field_count; f++) {
		c->off[f] = off;
		off = (uint16_t)(off + ((s->field_len[f] + 3u) & ~3u));
	}
	c->lo = malloc(n ? (size_t)n * s->key_len : 1);
	c->hi = malloc(n ? (size_t)n * s->key_len : 1);
	c->elem = malloc((n ? n : 1) * sizeof(*c->elem));
	if (!c->lo || !c->hi || !c->elem) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct flt_set_spec_elem *e = &spec->elems[idx[i]];
		const uint8_t *end = e->key_end ? e->key_end : e->key;

		for (unsigned f = 0; f < s->field_count; f++) {
			if (memcmp(e->key + c->off[f], end + c->off[f], s->field_len[f]) > 0) {
				snprintf(why, whylen, "a range of field %u ends below its start",
					 f + 1);
				return -EINVAL;
			}
		}
		memcpy(c->lo + (size_t)i * s->key_len, e->key, s->key_len);
		memcpy(c->hi + (size_t)i * s->key_len, end, s->key_len);
		c->elem[i] = idx[i];
	}
	c->n = n;
	s->count += n;
	return 0;
}

bool flt_set_concat_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem)
{
	const struct flt_set_concat *c = &s->u.concat;

	for (uint32_t i = 0; i < c->n; i++) {
		const uint8_t *lo = c->lo + (size_t)i * s->key_len;
		const uint8_t *hi = c->hi + (size_t)i * s->key_len;
		unsigned f;

		for (f = 0; f < s->field_count; f++) {
			uint16_t o = c->off[f];

			if (memcmp(key + o, lo + o, s->field_len[f]) < 0 ||
			    memcmp(key + o, hi + o, s->field_len[f]) > 0)
				break;
		}
		if (f == s->field_count) {
			*elem = c->elem[i];
			return true;
		}
	}
	return false;
}

void flt_set_concat_free(struct flt_set *s)
{
	free(s->u.concat.lo);
	free(s->u.concat.hi);
	free(s->u.concat.elem);
}
