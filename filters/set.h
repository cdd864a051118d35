/*
 * nft sets and maps of the loaded ruleset, as the rule engine's `lookup` and
 * `objref map` expressions consult them. The kernel committed the operator's script;
 * flt_setlist_dump() reads every set of the table back over netlink and builds, per
 * set, an immutable lookup structure with the matching semantics of the backend the
 * kernel picked for it:
 *
 *   exact      (hash, bitmap): the key_len register bytes equal an element's key
 *   interval   (rbtree, one field with `flags interval`): byte-wise big-endian order,
 *              the key lies in [start, end) of an interval; the last one may be open
 *   concat     (pipapo, concatenation with `flags interval`): every field (laid out
 *              in registers, each padded to 4 bytes) lies in its [key, key_end]
 *
 * A catch-all element (`*`) matches when nothing else does, as in nft_lookup.
 *
 * What cannot be executed exactly is refused when building, with a message naming
 * the set: timeouts, sets updated from the packet path (`flags dynamic`, `add @set`),
 * element or set expressions (counters, quotas...), verdicts other than
 * accept/drop/continue/return/jump/goto.
 *
 * Lookups never allocate, lock or block; a built list is only read, so any number of
 * threads may look up concurrently.
 */
#ifndef VIFWALL_FILTERS_SET_H
#define VIFWALL_FILTERS_SET_H

#include <stdbool.h>
#include <stdint.h>

struct flt_set;
struct flt_setlist;

/* What a map element maps to. Owned by the set; valid as long as its list lives. */
struct flt_set_elem_data {
	/* Data maps (flt_set_data_type() is not FLT_SET_DATA_VERDICT, not an object
	 * map): flt_set_data_len() bytes, followed by zero bytes up to the next multiple
	 * of 4, as nft_data_copy() leaves the destination registers. NULL otherwise. */
	const uint8_t *data;
	/* Verdict maps: the kernel's verdict code (NF_DROP 0, NF_ACCEPT 1, NFT_CONTINUE
	 * -1, NFT_BREAK -2, NFT_JUMP -3, NFT_GOTO -4, NFT_RETURN -5). */
	int32_t verdict;
	/* NFT_JUMP / NFT_GOTO: the chain index flt_setlist_resolve_chains() stored. */
	uint32_t chain_index;
	/* NFT_JUMP / NFT_GOTO: the target chain's name; NULL otherwise. */
	const char *chain;
	/* Object maps (FLT_SET_F_OBJECT): the stateful object's name; NULL otherwise. */
	const char *obj;
};

/* Set flags, the kernel's NFT_SET_* values (as flt_set_flags() reports them). */
enum {
	FLT_SET_F_ANONYMOUS = 0x1,
	FLT_SET_F_CONSTANT = 0x2,
	FLT_SET_F_INTERVAL = 0x4,
	FLT_SET_F_MAP = 0x8,
	FLT_SET_F_TIMEOUT = 0x10,
	FLT_SET_F_EVAL = 0x20,
	FLT_SET_F_OBJECT = 0x40,
	FLT_SET_F_CONCAT = 0x80,
	FLT_SET_F_EXPR = 0x100,
};

#define FLT_SET_DATA_VERDICT 0xffffff00u /* NFT_DATA_VERDICT: data type of verdict maps */
#define FLT_SET_MAX_FIELDS   16		 /* NFT_REG32_COUNT: fields of a concatenation */

/* The matching semantics a set was built with (the kernel backend it mirrors). */
enum flt_set_kind {
	FLT_SET_EXACT = 0, /* hash / bitmap */
	FLT_SET_INTERVAL,  /* rbtree */
	FLT_SET_CONCAT,	   /* pipapo */
};

/*
 * Dump every set of `table inet @table` and its elements over @nl_fd, a
 * NETLINK_NETFILTER socket (flt_netns_load() hands one over; it stays the caller's,
 * it is neither closed nor left with unread messages on success), and build them.
 *
 * Returns 0 and *out (free it with flt_setlist_free()). On failure returns -errno and,
 * when @err is not NULL, *err is a malloc'd message naming the set and what vifwall
 * cannot execute in it (-EOPNOTSUPP), or the netlink step that failed; the caller
 * frees it. -ENOENT: the table does not exist.
 */
int flt_setlist_dump(int nl_fd, const char *table, struct flt_setlist **out, char **err);

/* Free @l and every set in it. NULL is fine. */
void flt_setlist_free(struct flt_setlist *l);

/* The set named @name (anonymous ones are "__set%d", as the lookup expression names
 * them), or NULL. Build-time only: compares strings. */
const struct flt_set *flt_setlist_find(const struct flt_setlist *l, const char *name);

/* Number of sets in @l, anonymous ones included. */
unsigned flt_setlist_count(const struct flt_setlist *l);
/* Number of named (non-anonymous) sets and maps in @l: what a summary calls "sets". */
unsigned flt_setlist_count_named(const struct flt_setlist *l);
/* The @i-th set (0 <= i < flt_setlist_count()), in the kernel's dump order. */
const struct flt_set *flt_setlist_get(const struct flt_setlist *l, unsigned i);
/* Elements of every set of @l (see flt_set_count()), and of named sets only. */
unsigned long flt_setlist_elements(const struct flt_setlist *l);
unsigned long flt_setlist_elements_named(const struct flt_setlist *l);

/*
 * Give every jump/goto element of every verdict map of @l its chain index: calls
 * @resolve(@arg, chain_name, &index) once per such element. Call it once, after the
 * chains are known and before any lookup. Returns 0, or the first negative value
 * @resolve returned; then, when @err is not NULL, *err (malloc'd, caller frees) names
 * the set and the chain.
 */
int flt_setlist_resolve_chains(struct flt_setlist *l,
			       int (*resolve)(void *arg, const char *chain, uint32_t *index),
			       void *arg, char **err);

/*
 * Look up @key: flt_set_key_len(@s) bytes, the register bytes at the lookup's sreg
 * (concatenations: each field padded to 4 bytes, as the registers hold them).
 * Returns true when the kernel's lookup would match. Then, when @data is not NULL,
 * *data is the matched element's data for maps (verdict, data or object maps) and
 * NULL for plain sets. Never allocates, locks or fails.
 */
bool flt_set_lookup(const struct flt_set *s, const uint8_t *key,
		    const struct flt_set_elem_data **data);

/* The set's name ("__set3" for anonymous sets). Owned by the set. */
const char *flt_set_name(const struct flt_set *s);
/* NFT_SET_* flags as the kernel reported them (FLT_SET_F_*). */
uint32_t flt_set_flags(const struct flt_set *s);
/* Key length in bytes (the kernel's klen): what a lookup's sreg must provide. */
uint32_t flt_set_key_len(const struct flt_set *s);
/* nft's key type id (NFTA_SET_KEY_TYPE; userspace datatype, informational). */
uint32_t flt_set_key_type(const struct flt_set *s);
/* Data length in bytes for maps (what the lookup's dreg receives), 0 for sets.
 * Verdict maps report the kernel's sizeof(struct nft_verdict) (16). */
uint32_t flt_set_data_len(const struct flt_set *s);
/* Data type: FLT_SET_DATA_VERDICT for verdict maps, else nft's datatype id (0 for
 * plain sets and object maps). */
uint32_t flt_set_data_type(const struct flt_set *s);
/* Object maps: the NFT_OBJECT_* type of the mapped objects; 0 otherwise. */
uint32_t flt_set_obj_type(const struct flt_set *s);
/* Fields of a concatenation (1 for plain keys) and the length of field @i in bytes
 * (unpadded; each takes a multiple of 4 in the key). */
unsigned flt_set_field_count(const struct flt_set *s);
uint32_t flt_set_field_len(const struct flt_set *s, unsigned i);
/* Whether the set has a catch-all element (`*`). flt_set_lookup() already falls back
 * to it on a miss; an inverted lookup (`!= @set`) needs to know, because the kernel's
 * nft_lookup_eval() consults the catch-all after the inversion. */
bool flt_set_has_catchall(const struct flt_set *s);
/* Which matching semantics the set was built with. */
enum flt_set_kind flt_set_kind(const struct flt_set *s);
/* Elements as the user wrote them once merged by nft: keys of exact sets, intervals
 * of interval sets, ranges of concatenations, plus the catch-all element if any. */
unsigned flt_set_count(const struct flt_set *s);

#endif
