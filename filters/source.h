/*
 * Where each rule of an nft script is written: file, line and text of every rule
 * statement, in the order nft sends them to the kernel.
 *
 * Why this works: the kernel numbers a table's rules (with its chains and sets,
 * from one counter) in the order the commands arrive, and nft sends rule commands
 * in file order. So after a fresh load into an empty namespace, the i-th rule of a
 * table in handle order is the i-th rule statement of that table in the file.
 * flt_source_match() does that pairing and refuses when the counts disagree.
 *
 * The scanner only cuts the text into statements (it never judges nft syntax; the
 * kernel already did): `table`/`chain` blocks, `add rule`, `insert rule`,
 * `include` (looked up in the file's directory, as flt_netns_load() sets it up),
 * `flush`/`delete` of rulesets, tables and chains. `delete rule` and `replace rule`
 * make handles unpredictable: the map is then marked unusable and
 * flt_source_match() fails, so the engine reports handles only.
 */
#ifndef VIFWALL_FILTERS_SOURCE_H
#define VIFWALL_FILTERS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

/* How a rule was written. */
enum flt_src_kind {
	FLT_SRC_BLOCK = 0, /* a statement inside a `chain NAME { ... }` block */
	FLT_SRC_ADD,	   /* `add rule ...` (or the bare `rule ...`, `inet t c ...`) */
	FLT_SRC_INSERT,	   /* `insert rule ...` */
};

/* One rule statement. Every string is owned by the struct flt_source it came from
 * and lives until flt_source_free(). */
struct flt_src_rule {
	const char *file;   /* the file as given to flt_source_scan(), or an included
			       file as nft opened it ("DIR/NAME") */
	unsigned line;	    /* 1-based line of the statement's first token (for
			       add/insert, the line of `add`/`insert`) */
	const char *text;   /* the rule as written, on one line: lines joined by a
			       space, comments dropped; for add/insert, what follows
			       the chain name (and any position/handle/index N) */
	const char *family; /* "inet", "ip", "ip6", "arp", "bridge", "netdev" */
	const char *table;
	const char *chain;
	enum flt_src_kind kind;
};

struct flt_source;

/*
 * Scan @path (and what it includes) for rule statements.
 * Returns 0 and *out, which the caller frees with flt_source_free(). A scan that
 * met `delete rule` or `replace rule` (or braces that do not balance) still
 * returns 0, with flt_source_unusable() saying why the map cannot be trusted.
 * Returns -errno when @path or an included file cannot be read (-ENOENT for an
 * include that matches no file, -ELOOP for includes nested too deep), -ENOMEM;
 * then *out is NULL and, when @err is not NULL, *err is a malloc'd message the
 * caller frees.
 */
int flt_source_scan(const char *path, struct flt_source **out, char **err);

/* Frees @src and every string it handed out. NULL is a no-op. */
void flt_source_free(struct flt_source *src);

/* Number of rule statements, over all tables, in file order. */
size_t flt_source_count(const struct flt_source *src);

/* The @i-th rule statement (0-based, file order), or NULL when @i is out of range. */
const struct flt_src_rule *flt_source_rule(const struct flt_source *src, size_t i);

/* NULL when the map can be used; else why not, e.g.
 * "rules.nft:12: `delete rule` makes rule handles unpredictable" (owned by @src). */
const char *flt_source_unusable(const struct flt_source *src);

/* One rule as the kernel dumped it. */
struct flt_src_key {
	const char *chain; /* NULL: do not check the chain name */
	uint64_t handle;
};

/*
 * Pair the @n dumped rules @keys (any order) of table @family @table with the
 * rule statements of that table: the k-th smallest handle goes with the k-th
 * statement in file order. On success returns 0 and out[i] is the statement of
 * keys[i] (pointers into @src). On failure every out[i] is NULL and, when @err is
 * not NULL, *err is a malloc'd message the caller frees:
 *   -EOPNOTSUPP  @src is unusable (see flt_source_unusable()).
 *   -ERANGE      the file has more or fewer rules for that table than @n.
 *   -EPROTO      a pair disagrees on the chain name (the file is not what was
 *                loaded).
 *   -EINVAL      two keys share a handle.
 *   -ENOMEM
 */
int flt_source_match(const struct flt_source *src, const char *family, const char *table,
		     const struct flt_src_key *keys, size_t n, const struct flt_src_rule **out,
		     char **err);

#endif
