/*
 * The public face of sets: the list a dump produced, lookups dispatched to the
 * semantics each set was built with (set_exact.c, set_interval.c, set_concat.c),
 * the catch-all fallback of nft_lookup, accessors for the expression compiler, and
 * the one-time resolution of verdict-map chain names into chain indexes.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters/set_internal.h"

void flt_setlist_free(struct flt_setlist *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < l->n; i++)
		flt_set_free(l->sets[i]);
	free(l->sets);
	free(l);
}

const struct flt_set *flt_setlist_find(const struct flt_setlist *l, const char *name)
{
	for (unsigned i = 0; l && i < l->n; i++) {
		if (!strcmp(l->sets[i]->name, name))
			return l->sets[i];
	}
	return NULL;
}

unsigned flt_setlist_count(const struct flt_setlist *l)
{
	return l ? l->n : 0;
}

unsigned flt_setlist_count_named(const struct flt_setlist *l)
{
	unsigned n = 0;

	for (unsigned i = 0; l && i < l->n; i++)
		n += !(l->sets[i]->flags & FLT_SET_F_ANONYMOUS);
	return n;
}

const struct flt_set *flt_setlist_get(const struct flt_setlist *l, unsigned i)
{
	return l && i < l->n ? l->sets[i] : NULL;
}

unsigned long flt_setlist_elements(const struct flt_setlist *l)
{
	unsigned long n = 0;

	for (unsigned i = 0; l && i < l->n; i++)
		n += l->sets[i]->count;
	return n;
}

unsigned long flt_setlist_elements_named(const struct flt_setlist *l)
{
	unsigned long n = 0;

	for (unsigned i = 0; l && i < l->n; i++) {
		if (!(l->sets[i]->flags & FLT_SET_F_ANONYMOUS))
			n += l->sets[i]->count;
	}
	return n;
}

static int data_resolve(const struct flt_set *s, struct flt_set_elem_data *d,
			int (*resolve)(void *arg, const char *chain, uint32_t *index), void *arg,
			char **err)
{
	int rc;

	if (!d->chain)
		return 0;
	rc = resolve(arg, d->chain, &d->chain_index);
	if (rc < 0 && err &&
	    asprintf(err, "set '%s': cannot resolve jump/goto target chain '%s'", s->name,
		     d->chain) < 0)
		*err = NULL;
	return rc < 0 ? rc : 0;
}

int flt_setlist_resolve_chains(struct flt_setlist *l,
			       int (*resolve)(void *arg, const char *chain, uint32_t *index),
			       void *arg, char **err)
{
	for (unsigned i = 0; l && i < l->n; i++) {
		struct flt_set *s = l->sets[i];
		int rc;

		if (s->data_type != FLT_SET_DATA_VERDICT)
			continue;
		for (uint32_t j = 0; j < s->nedata; j++) {
			rc = data_resolve(s, &s->edata[j], resolve, arg, err);
			if (rc)
				return rc;
		}
		if (s->has_catchall) {
			rc = data_resolve(s, &s->catchall_data, resolve, arg, err);
			if (rc)
				return rc;
		}
	}
	return 0;
}

bool flt_set_lookup(const struct flt_set *s, const uint8_t *key,
		    const struct flt_set_elem_data **data)
{
	uint32_t elem = 0;
	bool found = false;

	switch (s->kind) {
	case FLT_SET_EXACT:
		found = flt_set_exact_lookup(s, key, &elem);
		break;
	case FLT_SET_INTERVAL:
		found = flt_set_interval_lookup(s, key, &elem);
		break;
	case FLT_SET_CONCAT:
		found = flt_set_concat_lookup(s, key, &elem);
		break;
	}
	if (found) {
		if (data)
			*data = s->is_map ? &s->edata[elem] : NULL;
		return true;
	}
	/* nft_lookup_eval: the catch-all element answers what the backend did not. */
	if (s->has_catchall) {
		if (data)
			*data = s->is_map ? &s->catchall_data : NULL;
		return true;
	}
	return false;
}

const char *flt_set_name(const struct flt_set *s)
{
	return s->name;
}

uint32_t flt_set_flags(const struct flt_set *s)
{
	return s->flags;
}

uint32_t flt_set_key_len(const struct flt_set *s)
{
	return s->key_len;
}

uint32_t flt_set_key_type(const struct flt_set *s)
{
	return s->key_type;
}

uint32_t flt_set_data_len(const struct flt_set *s)
{
	return s->data_len;
}

uint32_t flt_set_data_type(const struct flt_set *s)
{
	return s->data_type;
}

uint32_t flt_set_obj_type(const struct flt_set *s)
{
	return s->obj_type;
}

unsigned flt_set_field_count(const struct flt_set *s)
{
	return s->field_count;
}

uint32_t flt_set_field_len(const struct flt_set *s, unsigned i)
{
	return i < s->field_count ? s->field_len[i] : 0;
}

bool flt_set_has_catchall(const struct flt_set *s)
{
	return s->has_catchall;
}

enum flt_set_kind flt_set_kind(const struct flt_set *s)
{
	return s->kind;
}

unsigned flt_set_count(const struct flt_set *s)
{
	return s->count;
}
