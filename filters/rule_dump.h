/*
 * Dump one nft table's chains and rules over a NETLINK_NETFILTER socket (libmnl +
 * libnftnl), in the kernel's order: chains as listed, rules in evaluation order per
 * chain. What the compiler needs and nothing more.
 */
#ifndef VIFWALL_FILTERS_RULE_DUMP_H
#define VIFWALL_FILTERS_RULE_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nftnl_rule;

struct flt_dump_chain {
	char *name;
	uint64_t handle;
	bool base;	  /* has a hook */
	uint32_t hooknum; /* NF_INET_* (base chains) */
	int32_t prio;	  /* base chains */
	uint32_t policy;  /* NF_ACCEPT / NF_DROP (base chains) */
	char *type;	  /* "filter", "nat", "route" (base chains), else NULL */
};

struct flt_dump_rule {
	uint64_t handle;
	char *chain;
	struct nftnl_rule *nlr; /* NULL when libnftnl could not parse the rule */
	char *unparsed_expr;	/* then: the first expression type libnftnl does not know */
	char *comment;		/* the rule's comment, or NULL */
};

/* A named counter object (`counter NAME { }` in the table), with its dumped counts. */
struct flt_dump_counter {
	char *name;
	uint64_t packets, bytes;
};

struct flt_dump {
	size_t nchains, nrules, ncounters;
	struct flt_dump_chain *chains;
	struct flt_dump_rule *rules;
	struct flt_dump_counter *counters;
};

/*
 * Dump the chains and rules of table inet @table through @nl_fd (a NETLINK_NETFILTER
 * socket; not closed). Returns 0 and fills @out (release with flt_dump_release), or
 * -errno with *err a malloc'd message (caller frees) when @err is not NULL.
 */
int flt_dump_table(int nl_fd, const char *table, struct flt_dump *out, char **err);

/* Free what flt_dump_table filled; @d itself is the caller's. Safe on a zeroed dump. */
void flt_dump_release(struct flt_dump *d);

#endif
