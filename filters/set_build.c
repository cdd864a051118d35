/*
 * From the kernel's view of one set (struct flt_set_spec) to a struct flt_set: check
 * that vifwall can execute it exactly, copy what maps map to, choose the matching
 * semantics the kernel's backend has, and let that semantics' file build its index.
 *
 * The backend choice mirrors nft_select_set_ops(): an interval set of one field
 * goes to rbtree, an interval set of two or more fields to pipapo (it refuses fewer),
 * anything else to hash or bitmap, whose semantics are the same exact match (so is
 * rbtree's for a set without NFT_SET_INTERVAL, should the memory policy pick it).
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/set_internal.h"

#define KNOWN_FLAGS                                                                                \
	(FLT_SET_F_ANONYMOUS | FLT_SET_F_CONSTANT | FLT_SET_F_INTERVAL | FLT_SET_F_MAP |           \
	 FLT_SET_F_TIMEOUT | FLT_SET_F_EVAL | FLT_SET_F_OBJECT | FLT_SET_F_CONCAT |                \
	 FLT_SET_F_EXPR)

static int set_fail(char **err, int rc, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_fail(char **err, int rc, const char *name, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (asprintf(err, "set '%s': %s", name ? name : "?", why) < 0)
		*err = NULL;
	return rc;
}

static const char *set_flags_refused(uint32_t flags)
{
	if (flags & FLT_SET_F_TIMEOUT)
		return "element timeouts (flags timeout) are not supported";
	if (flags & FLT_SET_F_EVAL)
		return "sets updated from the packet path (flags dynamic, add/update @set) "
		       "are not supported";
	if (flags & FLT_SET_F_EXPR)
		return "per-element expressions (counter, quota, limit... in the set) "
		       "are not supported";
	if (flags & ~(uint32_t)KNOWN_FLAGS)
		return "unknown set flags";
	return NULL;
}

static bool verdict_ok(int32_t v)
{
	switch (v) {
	/* What nft_verdict_init() accepts and the engine can act on; NF_QUEUE and NF_DROP
	 * with an errno are refused: vifwall has no queue and no errno to give. */
	case NF_DROP:
	case NF_ACCEPT:
	case NFT_CONTINUE:
	case NFT_BREAK:
	case NFT_JUMP:
	case NFT_GOTO:
	case NFT_RETURN:
		return true;
	default:
		return false;
	}
}

/* Copy what element @e maps to into @d. Returns 0, or -errno with @why filled. */
static int elem_data_copy(const struct flt_set *s, const struct flt_set_spec_elem *e,
			  struct flt_set_elem_data *d, char *why, size_t whylen)
{
	if (s->flags & FLT_SET_F_OBJECT) {
		if (!e->obj) {
			snprintf(why, whylen, "an element of the object map has no object");
			return -EINVAL;
		}
		d->obj = strdup(e->obj);
		return d->obj ? 0 : -ENOMEM;
	}
	if (s->data_type == FLT_SET_DATA_VERDICT) {
		if (!e->has_verdict) {
			snprintf(why, whylen, "an element of the verdict map has no verdict");
			return -EINVAL;
		}
		if (!verdict_ok(e->verdict)) {
			snprintf(why, whylen, "verdict code %d in a verdict map is not supported",
				 e->verdict);
			return -EOPNOTSUPP;
		}
		d->verdict = e->verdict;
		if (e->verdict == NFT_JUMP || e->verdict == NFT_GOTO) {
			if (!e->chain) {
				snprintf(why, whylen, "a jump/goto element names no chain");
				return -EINVAL;
			}
			d->chain = strdup(e->chain);
			if (!d->chain)
				return -ENOMEM;
		}
		return 0;
	}
	if (!e->data || e->data_len != s->data_len) {
		snprintf(why, whylen, "an element has %u data bytes, the map %u",
			 e->data ? e->data_len : 0, s->data_len);
		return -EINVAL;
	}
	/* Zero up to a whole register word: nft_data_copy() zeroes the last word. */
	uint8_t *buf = calloc(1, (s->data_len + 3) & ~3u);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, e->data, e->data_len);
	d->data = buf;
	return 0;
}

static void elem_data_free(struct flt_set_elem_data *d)
{
	free((void *)d->data);
	free((void *)d->chain);
	free((void *)d->obj);
}

/* Checks of the set's shape; fills s->field_* and s->kind. */
static int set_shape_check(struct flt_set *s, const struct flt_set_spec *spec, char *why,
			   size_t whylen)
{
	const char *refused = spec->unsupported ? spec->unsupported : set_flags_refused(s->flags);

	if (refused) {
		snprintf(why, whylen, "%s", refused);
		return -EOPNOTSUPP;
	}
	if (s->key_len == 0 || s->key_len > FLT_SET_KEY_MAX) {
		snprintf(why, whylen, "key length %u is out of range", s->key_len);
		return -EINVAL;
	}
	if (s->is_map && s->data_type != FLT_SET_DATA_VERDICT && !(s->flags & FLT_SET_F_OBJECT) &&
	    (s->data_len == 0 || s->data_len > FLT_SET_KEY_MAX)) {
		snprintf(why, whylen, "data length %u is out of range", s->data_len);
		return -EINVAL;
	}
	if (spec->field_count > FLT_SET_MAX_FIELDS) {
		snprintf(why, whylen, "%u concatenated fields", spec->field_count);
		return -EINVAL;
	}
	if (spec->field_count == 0) {
		s->field_count = 1;
		s->field_len[0] = (uint8_t)s->key_len;
	} else {
		uint32_t sum = 0;

		s->field_count = spec->field_count;
		for (unsigned i = 0; i < spec->field_count; i++) {
			s->field_len[i] = spec->field_len[i];
			sum += (spec->field_len[i] + 3u) & ~3u;
		}
		/* One field: its length may be the unpadded key length. */
		if (sum != ((s->key_len + 3u) & ~3u)) {
			snprintf(why, whylen, "field lengths do not add up to the key length %u",
				 s->key_len);
			return -EINVAL;
		}
	}
	if (!(s->flags & FLT_SET_F_INTERVAL))
		s->kind = FLT_SET_EXACT;
	else if (s->field_count >= 2)
		s->kind = FLT_SET_CONCAT;
	else
		s->kind = FLT_SET_INTERVAL;
	return 0;
}

/* Checks of one element with a key against the set's kind. */
static int elem_check(const struct flt_set *s, const struct flt_set_spec_elem *e, char *why,
		      size_t whylen)
{
	if (e->unsupported) {
		snprintf(why, whylen, "%s", e->unsupported);
		return -EOPNOTSUPP;
	}
	if (e->flags & ~(uint32_t)(FLT_SET_ELEM_F_INTERVAL_END | FLT_SET_ELEM_F_CATCHALL)) {
		snprintf(why, whylen, "unknown element flags 0x%x", e->flags);
		return -EOPNOTSUPP;
	}
	if (e->flags & FLT_SET_ELEM_F_CATCHALL)
		return 0;
	if (!e->key || e->key_len != s->key_len) {
		snprintf(why, whylen, "an element key has %u bytes, the set %u",
			 e->key ? e->key_len : 0, s->key_len);
		return -EINVAL;
	}
	if (e->key_end && (s->kind != FLT_SET_CONCAT || e->key_end_len != s->key_len)) {
		snprintf(why, whylen, "unexpected range end (key_end) in an element");
		return -EINVAL;
	}
	if ((e->flags & FLT_SET_ELEM_F_INTERVAL_END) && s->kind != FLT_SET_INTERVAL) {
		snprintf(why, whylen, "interval end element in a set without intervals");
		return -EINVAL;
	}
	return 0;
}

/* Walk the elements: check them, copy map data, list the keyed ones in @idx. */
static int set_elems_take(struct flt_set *s, const struct flt_set_spec *spec, uint32_t *idx,
			  uint32_t *nidx, char *why, size_t whylen)
{
	uint32_t n = 0;
	int rc;

	for (size_t i = 0; i < spec->nelems; i++) {
		const struct flt_set_spec_elem *e = &spec->elems[i];
		bool carries = s->is_map && !(e->flags & FLT_SET_ELEM_F_INTERVAL_END);
		struct flt_set_elem_data *d;

		rc = elem_check(s, e, why, whylen);
		if (rc)
			return rc;
		if (e->flags & FLT_SET_ELEM_F_CATCHALL) {
			if (s->has_catchall) {
				snprintf(why, whylen, "two catch-all elements");
				return -EINVAL;
			}
			s->has_catchall = true;
			s->count++;
			d = &s->catchall_data;
		} else {
			idx[n++] = (uint32_t)i;
			d = s->is_map ? &s->edata[i] : NULL;
		}
		if (carries) {
			rc = elem_data_copy(s, e, d, why, whylen);
			if (rc)
				return rc;
		}
	}
	*nidx = n;
	return 0;
}

int flt_set_build(const struct flt_set_spec *spec, struct flt_set **out, char **err)
{
	char why[400] = "";
	uint32_t *idx = NULL, nidx = 0;
	struct flt_set *s;
	int rc;

	*out = NULL;
	if (spec->nelems > UINT32_MAX / 2)
		return set_fail(err, -E2BIG, spec->name, "too many elements");
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(spec->name ? spec->name : ""))) {
		free(s);
		return set_fail(err, -ENOMEM, spec->name, "out of memory");
	}
	s->flags = spec->flags;
	s->key_type = spec->key_type;
	s->key_len = spec->key_len;
	s->is_map = (spec->flags & (FLT_SET_F_MAP | FLT_SET_F_OBJECT)) != 0;
	if (s->is_map) {
		s->data_type = spec->data_type;
		s->data_len = spec->data_len;
		s->obj_type = spec->obj_type;
	}
	rc = set_shape_check(s, spec, why, sizeof(why));
	if (rc)
		goto fail;
	rc = -ENOMEM;
	snprintf(why, sizeof(why), "out of memory");
	idx = malloc((spec->nelems ? spec->nelems : 1) * sizeof(*idx));
	if (!idx)
		goto fail;
	if (s->is_map && spec->nelems) {
		s->edata = calloc(spec->nelems, sizeof(*s->edata));
		if (!s->edata)
			goto fail;
		s->nedata = (uint32_t)spec->nelems;
	}
	rc = set_elems_take(s, spec, idx, &nidx, why, sizeof(why));
	if (rc)
		goto fail;
	switch (s->kind) {
	case FLT_SET_EXACT:
		rc = flt_set_exact_build(s, spec, idx, nidx, why, sizeof(why));
		break;
	case FLT_SET_INTERVAL:
		rc = flt_set_interval_build(s, spec, idx, nidx, why, sizeof(why));
		break;
	case FLT_SET_CONCAT:
		rc = flt_set_concat_build(s, spec, idx, nidx, why, sizeof(why));
		break;
	}
	if (rc)
		goto fail;
	free(idx);
	*out = s;
	return 0;
fail:
	free(idx);
	flt_set_free(s);
	return set_fail(err, rc, spec->name, "%s", why);
}

void flt_set_free(struct flt_set *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case FLT_SET_EXACT:
		flt_set_exact_free(s);
		break;
	case FLT_SET_INTERVAL:
		flt_set_interval_free(s);
		break;
	case FLT_SET_CONCAT:
		flt_set_concat_free(s);
		break;
	}
	for (uint32_t i = 0; i < s->nedata; i++)
		elem_data_free(&s->edata[i]);
	free(s->edata);
	elem_data_free(&s->catchall_data);
	free(s->name);
	free(s);
}
