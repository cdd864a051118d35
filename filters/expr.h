/*
 * The compiled form of nft expressions, shared by the compiler (compile.c), the
 * evaluator (eval.c) and the one file per expression type (expr_<name>.c).
 *
 * Registers are laid out exactly as the kernel's struct nft_regs: 16 bytes of verdict,
 * then 16 32-bit data registers, addressed as 32-bit word indexes 0..19 (0..3 are the
 * verdict). Expressions read and write them with the kernel's conventions (a load of
 * len bytes zeroes the rest of its last word first, u8/u16 stores zero the whole word),
 * because later expressions (cmp of a whole word, set lookups of concatenations) see
 * those bytes.
 */
#ifndef VIFWALL_FILTERS_EXPR_H
#define VIFWALL_FILTERS_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "filters/packet.h"
#include "filters/ruleset.h"

struct nftnl_expr;
struct flt_ct_pkt;
struct flt_ruleset;
struct flt_fc_trace;

/* The kernel's verdict codes (linux/netfilter.h, nf_tables.h), as they sit in the
 * verdict register. */
enum {
	FLT_NF_DROP = 0,
	FLT_NF_ACCEPT = 1,
	FLT_NFT_CONTINUE = -1,
	FLT_NFT_BREAK = -2,
	FLT_NFT_JUMP = -3,
	FLT_NFT_GOTO = -4,
	FLT_NFT_RETURN = -5,
};

#define FLT_REG32_NUM	    20 /* NFT_REG32_NUM: 4 verdict words + 16 data words */
#define FLT_REG_DATA_BYTES  (FLT_REG32_NUM * 4)
#define FLT_REG_FIRST_DATA  4  /* word index of NFT_REG_1 / NFT_REG32_00 */
#define FLT_JUMP_STACK_SIZE 16 /* NFT_JUMP_STACK_SIZE */
#define FLT_DATA_VALUE_MAX  64 /* NFT_DATA_VALUE_MAXLEN */

struct flt_verdict_reg {
	int32_t code;
	uint32_t chain; /* target chain index for FLT_NFT_JUMP / FLT_NFT_GOTO */
};

/* What one packet's walk through the chains writes. Lives on the stack of flt_classify. */
struct flt_regs {
	union {
		uint32_t data[FLT_REG32_NUM];
		struct flt_verdict_reg verdict;
	};
	/* The packet's mark (skb->mark): starts as the hook's, `meta mark set` changes it
	 * for the rest of this packet's walk. */
	uint32_t mark;
	/* Set by reject next to its NF_DROP, so the caller can answer the sender. */
	bool rejected;
	uint8_t reject_type, reject_code;
};

/* What an expression may look at while it runs. */
struct flt_pktctx {
	const struct flt_ruleset *rs;
	const struct flt_pkt *pkt;
	const struct flt_hookinfo *hi;
	const struct flt_ct_pkt *cp; /* conntrack's view; NULL when the ruleset has no ct */
	struct flt_fc_trace *trace;  /* a flow cache miss recording its walk (flowcache.h);
					NULL otherwise */
};

struct flt_expr;
struct flt_compile;

/* What an expression does to the registers and the packet's fate, for the fast path
 * (fastpath.c), which derives per-rule predicates from the side-effect-free start of
 * each rule. Filled by flt_expr_ops.describe; what it does not say it does not do. */
enum flt_expr_kind {
	FLT_XK_EFFECT = 0, /* side effect or verdict (counter, limit, log, reject, verdict,
			      meta mark set...): no predicate may be derived past it */
	FLT_XK_LOAD,	   /* writes a fact of the packet or hook into dreg; may break */
	FLT_XK_BITWISE,	   /* dreg = (sreg & mask) ^ xor over len bytes */
	FLT_XK_BYTEORDER,  /* dreg = byte-swapped sreg, size bytes */
	FLT_XK_CMP,	   /* breaks unless memcmp(sreg, data, len) satisfies op */
	FLT_XK_RANGE,	   /* breaks unless from <= sreg <= to (memcmp order), or the
			      opposite when invert */
	FLT_XK_PURE,	   /* no side effect, may break; writes dreg (dlen bytes) with
			      something not described (a map's data, a constant, a shift) */
};

enum flt_expr_src {
	FLT_XS_PAYLOAD = 1, /* key: NFT_PAYLOAD_* base, arg: offset */
	FLT_XS_META,	    /* key: NFT_META_* */
	FLT_XS_CT,	    /* key: NFT_CT_*, arg: direction or -1 */
};

struct flt_expr_desc {
	uint8_t kind;	    /* enum flt_expr_kind */
	uint8_t sreg, dreg; /* word indexes read / written; 0 when none */
	uint8_t slen, dlen; /* bytes read at sreg / written at dreg */
	/* LOAD: where the value comes from; dlen bytes of it. pad_zero: the rest of the
	 * last word written is zeroed. stable: the value is a function of the packet, the
	 * hook and conntrack alone (not of earlier rules, e.g. meta mark), and always
	 * exactly dlen bytes, so it can be computed once per packet. */
	uint8_t src;
	bool pad_zero, stable;
	uint32_t key;
	int32_t arg;
	/* CMP: op (NFT_CMP_*), data (slen bytes). RANGE: data = from, data2 = to.
	 * BITWISE: data = mask, data2 = xor. BYTEORDER: op (NFT_BYTEORDER_*), size. */
	uint8_t op, size;
	bool invert;
	uint8_t data[16], data2[16];
};

/*
 * One nft expression type. compile() reads the libnftnl expression, validates it like
 * the kernel's init (registers, lengths) and fills the private area (ops->size bytes);
 * it returns 0 or -errno after flt_compile_fail() has said why. eval() must not
 * allocate, lock or block. destroy() frees what compile() allocated (may be NULL).
 * Types vifwall cannot run exactly are listed with compile == NULL, so the message
 * names them as refused rather than unknown.
 */
struct flt_expr_ops {
	const char *name;
	size_t size;
	int (*compile)(struct flt_expr *e, const struct nftnl_expr *nle, struct flt_compile *cc);
	void (*eval)(const struct flt_expr *e, struct flt_regs *regs, const struct flt_pktctx *pc);
	void (*destroy)(struct flt_expr *e);
	/* Fill @d (zeroed by the caller). NULL: the type is unknown to the fast path,
	 * which then leaves the rule's chain to the reference evaluator. */
	void (*describe)(const struct flt_expr *e, struct flt_expr_desc *d);
};

struct flt_expr {
	const struct flt_expr_ops *ops;
	_Alignas(16) unsigned char priv[];
};

/* The private area of @e. Mutable state (counters, limit buckets) sits there as
 * atomics: the ruleset is shared read-only, only those fields change. */
static inline void *flt_expr_priv(const struct flt_expr *e)
{
	return (void *)e->priv;
}

/* The ops of expression type @name, or NULL when vifwall has never heard of it.
 * Refused types are found (with compile == NULL). */
const struct flt_expr_ops *flt_expr_ops_find(const char *name);

/* Every known type, NULL-terminated (for tests and docs). */
extern const struct flt_expr_ops *const flt_expr_types[];

/* describe() of the types that read no register and only act (counter, limit, log,
 * reject, objref): FLT_XK_EFFECT. */
void flt_expr_describe_effect(const struct flt_expr *e, struct flt_expr_desc *d);

/* The counts of counter expression @e (ops == flt_expr_counter_ops). */
void flt_expr_counter_read(const struct flt_expr *e, uint64_t *packets, uint64_t *bytes);

/* --- compiling ------------------------------------------------------------------ */

struct flt_compile {
	struct flt_ruleset *rs; /* being built: chains are known, sets dumped */
	uint32_t chain;		/* index of the chain the rule belongs to */
	bool uses_ct;		/* set by ct expressions */
	char why[256];		/* the construct refused, for the user's message */
};

/* Record why compiling failed ("the 'fib' expression", "meta key priority"...): the
 * text completes "vifwall cannot execute ...". Returns @err for a one-line return. */
int flt_compile_fail(struct flt_compile *cc, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* nft_parse_register + nft_validate_register_load: @raw is the netlink register
 * number; *idx becomes the 32-bit word index. Returns 0, -EINVAL or -ERANGE. */
int flt_reg_load(struct flt_compile *cc, uint32_t raw, uint32_t len, uint8_t *idx);

/* nft_parse_register + nft_validate_register_store for value data (not the verdict
 * register). Returns 0, -EINVAL or -ERANGE. */
int flt_reg_store(struct flt_compile *cc, uint32_t raw, uint32_t len, uint8_t *idx);

/* The attribute @type of @nle as raw bytes: 0 and *len, or -EINVAL when absent or
 * longer than @max. */
int flt_expr_get_data(struct flt_compile *cc, const struct nftnl_expr *nle, uint16_t type,
		      const char *what, void *dst, uint32_t max, uint32_t *len);

/* Chain index of @name in the ruleset being built, or -ENOENT. */
int flt_compile_chain_find(const struct flt_compile *cc, const char *name);

/* --- register helpers, as the kernel's nft_reg_* --------------------------------- */

static inline void flt_reg_store8(uint32_t *dst, uint8_t v)
{
	*dst = 0;
	memcpy(dst, &v, 1);
}

static inline void flt_reg_store16(uint32_t *dst, uint16_t v)
{
	*dst = 0;
	memcpy(dst, &v, 2);
}

/* nft_data_copy: zero the tail of the last word, then copy @len bytes. */
static inline void flt_reg_copy(uint32_t *dst, const void *src, uint32_t len)
{
	if (len % 4)
		dst[len / 4] = 0;
	memcpy(dst, src, len);
}

#endif
