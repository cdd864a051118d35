/*
 * The rule engine's public face: load an nft ruleset file (the kernel judges the
 * text in a private network namespace, we compile what it accepted), then classify
 * packets with it. A struct flt_ruleset is immutable once loaded, so the data plane
 * can swap it with one atomic pointer; per-rule counters and limit buckets live in
 * it as atomics. Connection tracking state lives outside, in struct flt_ct_table,
 * so it survives reloads.
 */
#ifndef VIFWALL_FILTERS_RULESET_H
#define VIFWALL_FILTERS_RULESET_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/log.h"
#include "filters/packet.h"

struct flt_ruleset;
struct flt_ct_table;

#define FLT_TABLE_NAME "vifwall" /* the ruleset must define table inet vifwall */
#define FLT_IFNAMSIZ 16

/* Which base chain a packet goes through. */
enum flt_hook {
	FLT_HOOK_FORWARD = 0, /* frames between ports */
	FLT_HOOK_INPUT,       /* frames to the appliance itself */
	FLT_HOOK_OUTPUT,      /* frames from the appliance itself */
	FLT_HOOK_COUNT,
};

struct flt_load_opts {
	const char *path;          /* the nft script */
	const char *const *ports;  /* NULL-terminated port names that rules may name in
				      iif/oif (created in the private namespace so the kernel
				      can resolve them); may be NULL */
	const struct flt_logger *log;
};

/*
 * Load, validate and compile @opts->path.
 * Returns 0 and *out on success. On failure returns -errno and, when @err is not NULL,
 * *err holds a malloc'd message for the user: nft's own error with file:line:column,
 * or the rule's file:line and the construct the engine cannot execute exactly.
 * The caller frees *err.
 */
int flt_ruleset_load(const struct flt_load_opts *opts, struct flt_ruleset **out, char **err);
void flt_ruleset_free(struct flt_ruleset *rs);

/* What the ruleset holds, for `vifwall check`'s summary line. */
struct flt_ruleset_stats {
	unsigned chains, rules, sets, elements;
};
void flt_ruleset_get_stats(const struct flt_ruleset *rs, struct flt_ruleset_stats *st);

/* Where a packet is and what surrounds it: what the kernel's hook state would hold. */
struct flt_hookinfo {
	enum flt_hook hook;
	char iifname[FLT_IFNAMSIZ]; /* zero-padded; "" when none (output) */
	char oifname[FLT_IFNAMSIZ]; /* zero-padded; "" when none (input) */
	uint32_t iif, oif;          /* port indexes, as ifindex; 0 when none */
	uint16_t iiftype, oiftype;  /* ARPHRD_ETHER for Ethernet ports */
	uint8_t pkttype;            /* PACKET_HOST, PACKET_BROADCAST, ... */
	uint32_t mark;
	uint64_t now_ns;            /* monotonic clock: limit and conntrack timeouts */
};

enum flt_verdict_code {
	FLT_ACCEPT = 0,
	FLT_DROP,
	FLT_REJECT, /* drop and answer with an ICMP error or TCP reset (see reject_*) */
};

struct flt_verdict {
	enum flt_verdict_code code;
	uint64_t rule_handle;  /* rule whose verdict decided; 0 when a chain policy did */
	const char *chain;     /* name of the chain that decided (owned by the ruleset) */
	uint8_t reject_type;   /* NFT_REJECT_* when code == FLT_REJECT */
	uint8_t reject_icmp_code;
};

/*
 * Run @pkt through the base chain of @hi->hook exactly as the kernel's nf_tables
 * would, with connection tracking from @ct (may be NULL when the ruleset has no ct
 * expression). Updates counters, limits and @ct. Never allocates, never fails: a
 * frame that is not IP gets the appliance's verdict for non-IP frames.
 */
void flt_classify(const struct flt_ruleset *rs, struct flt_ct_table *ct, const struct flt_pkt *pkt,
		  const struct flt_hookinfo *hi, struct flt_verdict *v);

/* Source location of a rule, from the file it was loaded from. */
struct flt_rule_src {
	const char *file; /* as given to flt_ruleset_load */
	unsigned line;    /* 1-based; 0 when unknown */
	const char *text; /* the rule's text as written, one line */
};
/* Returns 0 and fills @src, or -ENOENT for an unknown handle. */
int flt_ruleset_rule_src(const struct flt_ruleset *rs, uint64_t handle, struct flt_rule_src *src);

#endif
