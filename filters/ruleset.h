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
#include <stddef.h>
#include <stdint.h>

#include "filters/log.h"
#include "filters/packet.h"

struct flt_ruleset;
struct flt_ct_table;

#define FLT_TABLE_NAME "vifwall" /* the ruleset must define table inet vifwall */
#define FLT_IFNAMSIZ   16

/* Which base chain a packet goes through. */
enum flt_hook {
	FLT_HOOK_FORWARD = 0, /* frames between ports */
	FLT_HOOK_INPUT,	      /* frames to the appliance itself */
	FLT_HOOK_OUTPUT,      /* frames from the appliance itself */
	FLT_HOOK_COUNT,
};

/* How flt_classify walks the chains. Both give the same verdicts, deciding rules,
 * counters and limits; the reference evaluator is what the fast path is tested against. */
enum flt_eval_mode {
	FLT_EVAL_DEFAULT = 0, /* the fast path, unless VIFWALL_EVAL=reference is set */
	FLT_EVAL_FAST,	      /* per-chain classifiers pick the rules worth running */
	FLT_EVAL_REFERENCE,   /* every rule, every expression, as the kernel */
};

struct flt_load_opts {
	const char *path; /* the nft script */
	enum flt_eval_mode eval;
	const char *const *ports; /* NULL-terminated port names that rules may name in
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
	unsigned fast_chains;	/* chains with a fast-path classifier (0: reference only) */
	unsigned fast_dims;	/* dimensions of those classifiers, in all */
	size_t fast_memory;	/* bytes they hold */
	uint64_t fast_build_ns; /* time spent building them at load */
};
void flt_ruleset_get_stats(const struct flt_ruleset *rs, struct flt_ruleset_stats *st);

/* Where a packet is and what surrounds it: what the kernel's hook state would hold. */
struct flt_hookinfo {
	enum flt_hook hook;
	char iifname[FLT_IFNAMSIZ]; /* zero-padded; "" when none (output): then
				       meta iiftype does not match */
	char oifname[FLT_IFNAMSIZ]; /* zero-padded; "" when none (input): then
				       meta oiftype does not match */
	uint32_t iif, oif;	    /* as the loader's namespace numbered the ports
				       (flt_ruleset_ifindex()); 0 when none */
	uint16_t iiftype, oiftype;  /* ARPHRD_ETHER for Ethernet ports */
	uint8_t pkttype;	    /* PACKET_HOST, PACKET_BROADCAST, ... */
	uint32_t mark;
	uint64_t now_ns; /* monotonic clock: limit and conntrack timeouts */
};

enum flt_verdict_code {
	FLT_ACCEPT = 0,
	FLT_DROP,
	FLT_REJECT, /* drop and answer with an ICMP error or TCP reset (see reject_*) */
};

struct flt_verdict {
	enum flt_verdict_code code;
	uint64_t rule_handle; /* rule whose verdict decided; 0 when a chain policy did */
	const char *chain;    /* name of the chain that decided (owned by the ruleset) */
	uint8_t reject_type;  /* NFT_REJECT_* when code == FLT_REJECT */
	uint8_t reject_icmp_code;
};

/*
 * Run @pkt through the base chains of @hi->hook exactly as the kernel's nf_tables
 * would (several base chains on a hook run by priority; a drop in any is final),
 * with connection tracking from @ct when the ruleset uses ct (flt_ruleset_uses_ct();
 * @ct may be NULL otherwise, and then ct expressions never match). Updates counters,
 * limits and @ct (flt_ct_in before the chains, flt_ct_confirm after, as the kernel's
 * conntrack hooks). Never allocates, never fails.
 *
 * Frames that are not valid IP never reach nf_tables in the kernel; the appliance's
 * verdict for them: ARP (pkt->status FLT_PKT_L2, proto 0x0806) is accepted, every
 * other non-IP frame and every malformed IP frame (runt, bad-ip4, bad-ip6) is
 * dropped; both with rule_handle 0 and chain NULL. A packet that conntrack itself
 * drops (table full) also gets FLT_DROP with rule_handle 0 and chain NULL.
 * Otherwise v->chain is never NULL: the deciding chain (a base chain for a policy).
 */
void flt_classify(const struct flt_ruleset *rs, struct flt_ct_table *ct, const struct flt_pkt *pkt,
		  const struct flt_hookinfo *hi, struct flt_verdict *v);

/* Handles of every rule, chain by chain in dump order, into @handles (up to @max).
 * Returns how many rules there are (may exceed @max). */
unsigned flt_ruleset_rule_handles(const struct flt_ruleset *rs, uint64_t *handles, unsigned max);

/* Source location of a rule, from the file it was loaded from. */
struct flt_rule_src {
	const char *file; /* as given to flt_ruleset_load */
	unsigned line;	  /* 1-based; 0 when unknown */
	const char *text; /* the rule's text as written, one line */
};
/* Returns 0 and fills @src, or -ENOENT for an unknown handle. When the file could
 * not be paired with the kernel's rules, line is 0 and text "". */
int flt_ruleset_rule_src(const struct flt_ruleset *rs, uint64_t handle, struct flt_rule_src *src);

/* Sum of the counter statements of rule @handle since load (starting from the values
 * written in the file). Returns 0, -ENOENT for an unknown handle, or -ENODATA when the
 * rule has no counter (then both are 0). */
int flt_ruleset_rule_counter(const struct flt_ruleset *rs, uint64_t handle, uint64_t *packets,
			     uint64_t *bytes);

/* The ifindex the loader's namespace gave port @name (one of flt_load_opts.ports):
 * what iif/oif rules compare with, for flt_hookinfo.iif/oif. 0 for an unknown name. */
uint32_t flt_ruleset_ifindex(const struct flt_ruleset *rs, const char *name);

/* Whether any rule uses a ct expression: then flt_classify needs a struct flt_ct_table. */
bool flt_ruleset_uses_ct(const struct flt_ruleset *rs);

#endif
