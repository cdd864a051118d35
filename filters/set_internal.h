/*
 * The inside of struct flt_set and struct flt_setlist, shared by the files that make
 * them: set_dump.c (netlink -> struct flt_set_spec), set_build.c (spec -> set, the
 * checks and the choice of semantics), one file per matching semantics
 * (set_exact.c, set_interval.c, set_concat.c) and set.c (lookup, accessors).
 *
 * struct flt_set_spec is the kernel's view of one set and its elements, free of
 * libnftnl, so that tests can also build sets the kernel's nft front end never sends.
 */
#ifndef VIFWALL_FILTERS_SET_INTERNAL_H
#define VIFWALL_FILTERS_SET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "filters/set.h"

#define FLT_SET_KEY_MAX 64 /* NFT_DATA_VALUE_MAXLEN: longest key or data */

enum {
	FLT_SET_ELEM_F_INTERVAL_END = 0x1, /* NFT_SET_ELEM_INTERVAL_END */
	FLT_SET_ELEM_F_CATCHALL = 0x2,	   /* NFT_SET_ELEM_CATCHALL */
};

/* One element as the kernel dumped it. Pointers are borrowed from the dump. */
struct flt_set_spec_elem {
	const uint8_t *key, *key_end; /* NULL when absent */
	uint32_t key_len, key_end_len;
	uint32_t flags; /* FLT_SET_ELEM_F_* */
	bool has_verdict;
	int32_t verdict;
	const char *chain; /* jump/goto target */
	const uint8_t *data;
	uint32_t data_len;
	const char *obj;
	/* Set when the element carries something vifwall cannot execute exactly
	 * (timeout, expiration, counter...): the build refuses it with this text. */
	const char *unsupported;
};

/* One set as the kernel dumped it. */
struct flt_set_spec {
	const char *name;
	uint32_t flags; /* FLT_SET_F_* */
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;
	uint32_t obj_type;
	unsigned field_count; /* 0 when the kernel reported no concatenation */
	uint8_t field_len[FLT_SET_MAX_FIELDS];
	const char *unsupported; /* as in flt_set_spec_elem, for set-level features */
	size_t nelems;
	const struct flt_set_spec_elem *elems;
};

/* Exact match: open addressing over the element keys. */
struct flt_set_exact {
	uint32_t mask;	/* slots - 1, slots a power of two */
	uint32_t *slot; /* element index + 1, 0 when free */
	uint8_t *keys;	/* n * key_len bytes */
	uint32_t *elem; /* per key: its index in the spec (struct flt_set edata) */
	uint32_t n;
};

/* Interval (rbtree semantics): the boundaries sorted by key, end before start. */
struct flt_set_interval {
	uint32_t n;
	uint8_t *keys;	/* n * key_len bytes, ascending */
	uint32_t *elem; /* per boundary: spec index + 1 for starts, 0 for ends */
	uint32_t nstarts;
};

/* Concatenated ranges (pipapo semantics): a linear list of per-field ranges. */
struct flt_set_concat {
	uint32_t n;
	uint8_t *lo, *hi; /* n * key_len bytes each; padding bytes unused */
	uint32_t *elem;	  /* per range: its index in the spec, in dump order */
	uint16_t off[FLT_SET_MAX_FIELDS];
};

struct flt_set {
	char *name;
	uint32_t flags, key_type, key_len, data_type, data_len, obj_type;
	unsigned field_count;
	uint8_t field_len[FLT_SET_MAX_FIELDS];
	enum flt_set_kind kind;
	bool is_map;
	unsigned count; /* flt_set_count() */
	/* Per stored element (exact keys, interval starts, concat ranges); only for
	 * maps. Strings and data bytes are owned by the set. */
	struct flt_set_elem_data *edata;
	uint32_t nedata;
	struct flt_set_elem_data catchall_data;
	bool has_catchall;
	union {
		struct flt_set_exact exact;
		struct flt_set_interval interval;
		struct flt_set_concat concat;
	} u;
};

struct flt_setlist {
	unsigned n;
	struct flt_set **sets;
};

/*
 * Build one set from @spec. Returns 0 and *out, or -EOPNOTSUPP (what vifwall cannot
 * execute exactly), -EINVAL (a dump the kernel could not have produced) or -ENOMEM,
 * with a malloc'd message in *err naming the set when @err is not NULL.
 */
int flt_set_build(const struct flt_set_spec *spec, struct flt_set **out, char **err);
void flt_set_free(struct flt_set *s);

/* Per semantics: build from the spec's key elements (catch-all excluded), where
 * @idx[i] is the spec index of the i-th of @n elements, and look up. A build returns
 * 0, -EINVAL or -ENOMEM with a message in @why (room for @whylen bytes). */
int flt_set_exact_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			uint32_t n, char *why, size_t whylen);
bool flt_set_exact_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem);
void flt_set_exact_free(struct flt_set *s);

int flt_set_interval_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			   uint32_t n, char *why, size_t whylen);
bool flt_set_interval_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem);
void flt_set_interval_free(struct flt_set *s);

int flt_set_concat_build(struct flt_set *s, const struct flt_set_spec *spec, const uint32_t *idx,
			 uint32_t n, char *why, size_t whylen);
bool flt_set_concat_lookup(const struct flt_set *s, const uint8_t *key, uint32_t *elem);
void flt_set_concat_free(struct flt_set *s);

#endif
