/*
 * The flow cache (flowcache.h): a key plan derived from a ruleset's expressions, the
 * key of one packet under that plan, and a bounded set-associative table of verdicts.
 *
 * Why the key is exact: every expression vifwall runs is a load (payload, meta, ct), a
 * pure function of registers (cmp, bitwise, byteorder, range, immediate, lookup in a
 * set that never changes after load), `meta mark set` (only changes what later meta
 * mark loads of the same walk read), or has an effect the trace sees (counters,
 * limit, log, reject). A payload load's result is decided by whether its bytes lie
 * inside the packet and by those bytes; a meta or ct load's by what its own eval
 * writes. The key holds all of these for the loads a packet can reach, so by
 * induction over the walk two packets with one key run the same expressions with the
 * same results.
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "filters/flowcache.h"
#include "filters/hugemem.h"
#include "filters/ruleset_internal.h"

extern const struct flt_expr_ops flt_expr_immediate_ops, flt_expr_cmp_ops, flt_expr_bitwise_ops,
	flt_expr_byteorder_ops, flt_expr_range_ops, flt_expr_payload_ops, flt_expr_meta_ops,
	flt_expr_lookup_ops, flt_expr_counter_ops, flt_expr_ct_ops, flt_expr_objref_ops;

#define FC_WAYS		4
#define FC_KEY_MAX	128 /* bytes; a multiple of 32: keys go by groups of 4 words */
#define FC_KEY_WORDS	(FC_KEY_MAX / 8)
#define FC_HDR		16		     /* fixed part of every key, see key_build() */
#define FC_OFF_MAX	254		     /* furthest header byte (exclusive) a key can hold */
#define FC_NONE		255		     /* "header absent" in the key's availability bytes */
#define FC_MAX_LOADS	8		     /* distinct meta / ct loads */
#define FC_REGION_WORDS (FC_OFF_MAX / 8 + 1) /* a region's copy may run past the key */

/* A byte bitmap of one header, bytes 0..255. */
struct fc_bytes {
	uint64_t w[4];
};

/* Where the header bytes of one (family, l4proto) class go in its keys. */
struct fc_region {
	uint8_t lo, hi; /* bytes [lo, hi) of the header are copied; hi == 0: none read */
	uint8_t at;	/* their offset in the key */
	uint8_t words;	/* (hi - lo) rounded up to 8-byte words */
	uint16_t need;	/* lo + 8 * words: frame bytes the word copy reads */
};

/* One word of the shortcut: 8 bytes at @src of header @base (0 link, 1 network,
 * 2 transport) to byte @dst of the key. */
struct fc_copy {
	uint8_t base, src, dst;
};

/* Words of all regions: hi - lo <= FC_KEY_MAX - FC_HDR in all, each rounded up. The
 * first FC_COPIES_FIXED run without a loop (an IPv4 5-tuple is 2); those a layout does
 * not need copy frame bytes 0..7 to FC_KEY_MAX, in the key buffer's spare words. */
#define FC_MAX_COPIES	((FC_KEY_MAX - FC_HDR) / 8 + 3)
#define FC_COPIES_FIXED 2

struct fc_layout {
	union {
		struct {
			uint8_t klen; /* key bytes, a multiple of 32 (the mask clears the rest) */
			uint8_t loads_at; /* offset of the meta / ct values */
			/* The hit path's shortcut (key_build): when each header has fit_* bytes
			 * from its start, before the packet's end and in the frame, every region
			 * copies whole (the words of copy[], in region order) and the key's word 1
			 * is w1_full with the hook and the flags. fit_*: the larger of hi and need,
			 * 0 without a region. */
			uint8_t ncopies; /* at least FC_COPIES_FIXED: the spare ones write past the
					    key */
			uint16_t fit_ll, fit_nh, fit_th;
			uint64_t w1_full; /* nfproto, l4proto and ll.hi, nh.hi, th.hi as key_build
					     puts them */
			uint64_t mask[FC_KEY_WORDS];
			struct fc_copy copy[FC_MAX_COPIES];
			struct fc_region ll, nh, th;
		};
		/* 256 bytes: layout[fam][l4] is a shift and an add away from the plan */
		uint8_t size_[256];
	};
};

_Static_assert(sizeof(struct fc_layout) == 256, "a layout is 256 bytes");

/* A meta or ct load whose value goes into the key, run on scratch registers. */
struct fc_load {
	const struct flt_expr *e;
	uint8_t src;
	uint32_t key;
	int32_t arg;
	uint8_t dreg, len;
};

struct fc_plan {
	bool ok;
	uint8_t nloads, loads_len;
	struct fc_load loads[FC_MAX_LOADS];
	struct fc_layout layout[2][256]; /* [ipv6][l4proto] */
	/* Scratch of plan_build: bytes read, per family (and l4proto for th). */
	struct fc_bytes ll[2], nh[2], th_any[2], th[2][256];
};

/* One cached verdict: 192 bytes, three cache lines. What a hit reads comes first, so
 * a hit on a key of up to 32 bytes (an IPv4 5-tuple) reads the first line only: the
 * tag is here rather than in an array of its own, one line fewer per hit. */
struct fc_entry {
	uint64_t id;   /* tag (hash bits | 1) | the cache's generation << 32; 0: never */
	uint32_t last; /* LRU stamp within the bucket */
	uint8_t klen, code, ncounters;
	uint64_t rule_handle;
	const char *chain; /* the deciding chain's name (owned by the ruleset of gen) */
	uint64_t key[FC_KEY_WORDS];
	const struct flt_expr *counters[FLT_FC_MAX_COUNTERS];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct fc_entry) == 192, "an entry is three cache lines");

struct flt_flowcache {
	uint32_t nbuckets; /* power of two */
	uint32_t gen, tick;
	uint64_t seed;
	const struct flt_ruleset *rs; /* the plan's ruleset; NULL: none yet */
	bool ok;		      /* plan->ok of rs, next to rs: one line for the check */
	struct fc_entry *entries;     /* hugemem.h */
	struct fc_plan *plan;
	struct flt_fc_stats st;
};

/* --- the plan ---------------------------------------------------------------------- */

static void bytes_set(struct fc_bytes *b, unsigned from, unsigned len)
{
	for (unsigned i = from; i < from + len; i++)
		b->w[i / 64] |= 1ull << (i % 64);
}

static bool bytes_has(const struct fc_bytes *b, unsigned i)
{
	return b->w[i / 64] >> (i % 64) & 1;
}

/* What a register word holds, as far as guards are concerned. */
enum { REG_OTHER = 0, REG_NFPROTO, REG_L4PROTO, REG_PROTOCOL };

/* The facts a rule's earlier cmps established about every packet that goes on. */
struct fc_guard {
	int fam; /* -1: either, 0: IPv4, 1: IPv6 */
	int l4;	 /* -1: any, else the l4proto */
	uint8_t reg[FLT_REG32_NUM];
};

static void reg_clobber(struct fc_guard *g, unsigned reg, unsigned len)
{
	for (unsigned w = reg; w < reg + (len + 3) / 4 && w < FLT_REG32_NUM; w++)
		g->reg[w] = REG_OTHER;
}

/* `cmp eq` on a register holding nfproto, l4proto or the ethertype: a guard. */
static void guard_cmp(struct fc_guard *g, const struct flt_expr_desc *d)
{
	if (d->op != NFT_CMP_EQ || d->sreg >= FLT_REG32_NUM || d->slen == 0)
		return;
	switch (g->reg[d->sreg]) {
	case REG_NFPROTO:
		if (d->data[0] == NFPROTO_IPV4 || d->data[0] == NFPROTO_IPV6)
			g->fam = d->data[0] == NFPROTO_IPV6;
		break;
	case REG_L4PROTO:
		g->l4 = d->data[0];
		break;
	case REG_PROTOCOL:
		if (d->slen >= 2 && d->data[0] == 0x08 && d->data[1] == 0x00)
			g->fam = 0;
		else if (d->slen >= 2 && d->data[0] == 0x86 && d->data[1] == 0xdd)
			g->fam = 1;
		break;
	default:
		break;
	}
}

/* Record a payload load of @len bytes at @off of header @base, reached under @g. */
static int plan_payload(struct fc_plan *p, const struct fc_guard *g, uint32_t base, int32_t off,
			unsigned len)
{
	/* Past what a key holds, or empty (its success would hang on bytes no region
	 * reaches): the ruleset is not cached. */
	if (off < 0 || len == 0 || (unsigned)off + len > FC_OFF_MAX)
		return -ERANGE;
	for (int fam = 0; fam < 2; fam++) {
		if (g->fam >= 0 && g->fam != fam)
			continue;
		switch (base) {
		case NFT_PAYLOAD_LL_HEADER:
			bytes_set(&p->ll[fam], (unsigned)off, len);
			break;
		case NFT_PAYLOAD_NETWORK_HEADER:
			bytes_set(&p->nh[fam], (unsigned)off, len);
			break;
		case NFT_PAYLOAD_TRANSPORT_HEADER:
			bytes_set(g->l4 >= 0 ? &p->th[fam][g->l4] : &p->th_any[fam], (unsigned)off,
				  len);
			break;
		default:
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* Record a meta or ct load: its value becomes part of the key. Meta nfproto, l4proto,
 * iif and oif are in every key's fixed part already. */
static int plan_load(struct fc_plan *p, const struct flt_expr *e, const struct flt_expr_desc *d)
{
	uint8_t len = d->dlen;

	if (d->src == FLT_XS_META && (d->key == NFT_META_NFPROTO || d->key == NFT_META_L4PROTO ||
				      d->key == NFT_META_IIF || d->key == NFT_META_OIF))
		return 0;
	/* ct saddr/daddr write 4 or 16 bytes by family (in the key's fixed part). */
	if (d->src == FLT_XS_CT && (d->key == NFT_CT_SRC || d->key == NFT_CT_DST))
		len = 16;
	for (unsigned i = 0; i < p->nloads; i++)
		if (p->loads[i].src == d->src && p->loads[i].key == d->key &&
		    p->loads[i].arg == d->arg)
			return 0;
	if (p->nloads == FC_MAX_LOADS || d->dreg + (len + 3u) / 4 > FLT_REG32_NUM)
		return -ENOSPC;
	p->loads[p->nloads++] = (struct fc_load){
		.e = e, .src = d->src, .key = d->key, .arg = d->arg, .dreg = d->dreg, .len = len};
	p->loads_len = (uint8_t)(p->loads_len + 1 + len);
	return 0;
}

static int plan_expr(struct fc_plan *p, struct fc_guard *g, const struct flt_expr *e)
{
	struct flt_expr_desc d;
	int rc = 0;

	if (!e->ops->describe)
		return -EOPNOTSUPP;
	memset(&d, 0, sizeof(d));
	e->ops->describe(e, &d);
	switch (d.kind) {
	case FLT_XK_LOAD:
		if (d.src == FLT_XS_PAYLOAD)
			rc = plan_payload(p, g, d.key, d.arg, d.dlen);
		else if (d.src == FLT_XS_META || d.src == FLT_XS_CT)
			rc = plan_load(p, e, &d);
		else
			rc = -EOPNOTSUPP;
		reg_clobber(g, d.dreg, d.dlen);
		if (d.src == FLT_XS_META && d.dreg < FLT_REG32_NUM)
			g->reg[d.dreg] = d.key == NFT_META_NFPROTO    ? REG_NFPROTO
					 : d.key == NFT_META_L4PROTO  ? REG_L4PROTO
					 : d.key == NFT_META_PROTOCOL ? REG_PROTOCOL
								      : REG_OTHER;
		return rc;
	case FLT_XK_CMP:
		guard_cmp(g, &d);
		return 0;
	default:
		if (d.dreg)
			reg_clobber(g, d.dreg, d.dlen);
		return 0;
	}
}

/* Header region of one class: the bytes read, placed at @at. */
static int region_make(const struct fc_bytes *b, unsigned at, struct fc_region *r,
		       struct fc_layout *L)
{
	int lo = -1, hi = 0;

	/* first and last byte read (bytes_set never goes past FC_OFF_MAX) */
	for (unsigned w = 0; w < 4; w++) {
		if (!b->w[w])
			continue;
		if (lo < 0)
			lo = (int)(64 * w) + __builtin_ctzll(b->w[w]);
		hi = (int)(64 * w) + 64 - __builtin_clzll(b->w[w]);
	}
	r->at = (uint8_t)at;
	if (lo < 0) {
		r->lo = r->hi = r->words = 0;
		r->need = 0;
		return 0;
	}
	if (at + (unsigned)(hi - lo) > FC_KEY_MAX)
		return -ENOSPC;
	r->lo = (uint8_t)lo;
	r->hi = (uint8_t)hi;
	r->words = (uint8_t)((hi - lo + 7) / 8);
	r->need = (uint16_t)(lo + 8 * r->words);
	for (int i = lo; i < hi; i++)
		if (bytes_has(b, (unsigned)i))
			((uint8_t *)L->mask)[at + (unsigned)(i - lo)] = 0xff;
	return hi - lo;
}

/* Bytes from a header's start that make region_copy take its whole-word branch. */
static uint16_t region_fit(const struct fc_region *r)
{
	if (!r->hi)
		return 0;
	return r->need > r->hi ? r->need : r->hi;
}

/* The shortcut's words for region @r of header @base, after those already there. */
static void copies_make(struct fc_layout *L, const struct fc_region *r, uint8_t base)
{
	for (unsigned i = 0; i < r->words; i++)
		L->copy[L->ncopies++] = (struct fc_copy){.base = base,
							 .src = (uint8_t)(r->lo + 8 * i),
							 .dst = (uint8_t)(r->at + 8 * i)};
}

static int layout_make(struct fc_plan *p, int fam, unsigned l4)
{
	struct fc_layout *L = &p->layout[fam][l4];
	struct fc_bytes th = p->th_any[fam];
	unsigned at = FC_HDR;
	int n;

	memset(L, 0, sizeof(*L));
	L->mask[0] = L->mask[1] = ~0ull; /* the fixed part, FC_HDR bytes */
	for (unsigned w = 0; w < 4; w++)
		th.w[w] |= p->th[fam][l4].w[w];
	if ((n = region_make(&p->ll[fam], at, &L->ll, L)) < 0)
		return n;
	at += (unsigned)n;
	if ((n = region_make(&p->nh[fam], at, &L->nh, L)) < 0)
		return n;
	at += (unsigned)n;
	if ((n = region_make(&th, at, &L->th, L)) < 0)
		return n;
	at += (unsigned)n;
	if (at + p->loads_len > FC_KEY_MAX)
		return -ENOSPC;
	L->fit_ll = region_fit(&L->ll);
	L->fit_nh = region_fit(&L->nh);
	L->fit_th = region_fit(&L->th);
	L->w1_full = (uint64_t)(fam ? NFPROTO_IPV6 : NFPROTO_IPV4) << 8 | (uint64_t)l4 << 16 |
		     (uint64_t)L->ll.hi << 32 | (uint64_t)L->nh.hi << 40 | (uint64_t)L->th.hi << 48;
	copies_make(L, &L->ll, 0);
	copies_make(L, &L->nh, 1);
	copies_make(L, &L->th, 2);
	while (L->ncopies < FC_COPIES_FIXED)
		L->copy[L->ncopies++] = (struct fc_copy){.dst = FC_KEY_MAX};
	L->loads_at = (uint8_t)at;
	memset((uint8_t *)L->mask + at, 0xff, p->loads_len);
	at += p->loads_len;
	L->klen = (uint8_t)((at + 31) & ~31u);
	return 0;
}

/* Derive the key plan of @rs. p->ok stays false when some rule cannot be described.
 * Once per ruleset: kept out of the packet path's code. */
static __attribute__((noinline, cold)) void plan_build(struct fc_plan *p,
						       const struct flt_ruleset *rs)
{
	memset(p, 0, sizeof(*p));
	for (uint32_t c = 0; c < rs->nchains; c++) {
		for (uint32_t r = 0; r < rs->chains[c].nrules; r++) {
			const struct flt_rule *rule = &rs->chains[c].rules[r];
			struct fc_guard g = {.fam = -1, .l4 = -1};

			for (uint32_t i = 0; i < rule->nexprs; i++)
				if (plan_expr(p, &g, rule->exprs[i]) < 0)
					return;
		}
	}
	for (int fam = 0; fam < 2; fam++)
		for (unsigned l4 = 0; l4 < 256; l4++)
			if (layout_make(p, fam, l4) < 0)
				return;
	p->ok = true;
}

/* --- the key ----------------------------------------------------------------------- */

/* Copy header bytes [r->lo, r->hi) from @start (up to @end, the packet's end) into the
 * key; returns how many header bytes exist, clipped to r->hi, or FC_NONE when the
 * header starts past the end: a load at (off, len) succeeds exactly when off + len is
 * at most that.
 * Whole words when the frame has them: the bytes after hi land in the next region's
 * place (which its own copy overwrites), in bytes the mask clears, or past the key;
 * either way they can only add to a key, never hide a byte it must hold. */
static inline uint8_t region_copy(uint8_t *k, const struct fc_region *r, const struct flt_pkt *pkt,
				  uint32_t start, uint32_t end)
{
	const uint8_t *src = pkt->frame + start + r->lo;
	uint32_t avail;

	if (!r->hi)
		return 0;
	if (start > end)
		return FC_NONE;
	avail = end - start;
	if (__builtin_expect(avail >= r->hi && start + r->need <= pkt->frame_len, 1)) {
		uint64_t w0, w1;

		/* one or two words inline (a loop here becomes a slow `rep movsq`) */
		memcpy(&w0, src, 8);
		memcpy(k + r->at, &w0, 8);
		if (r->words == 2) {
			memcpy(&w1, src + 8, 8);
			memcpy(k + r->at + 8, &w1, 8);
		} else if (r->words > 2) {
			memcpy(k + r->at + 8, src + 8, 8u * (r->words - 1u));
		}
		return r->hi;
	}
	/* A short header: what is missing reads as zeros, and the count says so. */
	memset(k + r->at, 0, (size_t)r->hi - r->lo);
	if (avail > r->lo)
		memcpy(k + r->at, src, avail - r->lo);
	return (uint8_t)avail;
}

/* Run the plan's meta and ct loads, each into its place in the key: whether it broke,
 * then the bytes its register got (zeros when it broke). */
static void loads_run(const struct fc_plan *p, const struct flt_pktctx *pc, uint8_t *at)
{
	struct flt_regs scratch;
	struct flt_pktctx lpc = *pc;

	lpc.trace = NULL;
	memset(&scratch, 0, sizeof(scratch));
	scratch.mark = pc->hi->mark; /* what a meta mark load sees before any set */
	for (unsigned i = 0; i < p->nloads; i++) {
		const struct fc_load *ld = &p->loads[i];

		scratch.verdict.code = FLT_NFT_CONTINUE;
		memset(&scratch.data[ld->dreg], 0, (ld->len + 3u) / 4 * 4);
		ld->e->ops->eval(ld->e, &scratch, &lpc);
		*at = scratch.verdict.code == FLT_NFT_BREAK;
		memset(at + 1, 0, ld->len);
		if (!*at)
			memcpy(at + 1, &scratch.data[ld->dreg], ld->len);
		at += 1 + ld->len;
	}
}

/* The key of @pc's packet into @kw (FC_KEY_WORDS words, and room for a region's last
 * word past them), masked, its first four words also in @k4, and its hash in *hash;
 * returns its layout. Every byte the
 * mask keeps is written here; the others may hold anything until the mask clears them. */
static inline const struct fc_layout *key_build(const struct fc_plan *p,
						const struct flt_pktctx *pc, uint64_t seed,
						uint64_t *kw, uint64_t *k4, uint64_t *hash)
{
	const struct flt_pkt *pkt = pc->pkt;
	const struct flt_hookinfo *hi = pc->hi;
	bool l4 = pkt->flags & FLT_PKT_F_L4;
	uint8_t proto = l4 ? pkt->l4proto : 0;
	const struct fc_layout *L = &p->layout[pkt->nfproto == NFPROTO_IPV6][proto];
	uint8_t *k = (uint8_t *)kw;
	const uint32_t nhoff = pkt->nh, thoff = pkt->th, flen = pkt->frame_len;
	/* flt_pkt_end() of an IP packet, the only kind that reaches the cache */
	const uint32_t end = nhoff + pkt->len, lim = end < flen ? end : flen;
	const bool th_in = l4 && !pkt->fragoff;
	uint64_t h = seed, h2 = ~seed, w1_pkt;

	/* Short of registers, the compiler would recompute L from the packet's fields
	 * at every use; hidden from it, L is kept (or spilled once) instead. */
	__asm__("" : "+r"(L));

	/* Local copies: the byte stores into the key could alias *L for the compiler,
	 * which would then reload every field after each of them. */
	const unsigned klen = L->klen, loads_at = L->loads_at;
	const unsigned fit_ll = L->fit_ll, fit_nh = L->fit_nh, fit_th = L->fit_th;

	if (__builtin_expect(fit_ll <= lim && nhoff + fit_nh <= lim &&
				     (!fit_th || (th_in && (uint64_t)thoff + fit_th <= lim)),
			     1)) {
		/* Every region whole (the usual packet): region_copy's first branch for
		 * each, without its per-region checks. */
		const uint32_t start[3] = {0, nhoff, thoff};
		const struct fc_copy *c = L->copy;
		const unsigned n = L->ncopies;
		uint64_t w0, w1;

		memcpy(&w0, pkt->frame + start[c[0].base] + c[0].src, 8);
		memcpy(&w1, pkt->frame + start[c[1].base] + c[1].src, 8);
		memcpy(k + c[0].dst, &w0, 8);
		memcpy(k + c[1].dst, &w1, 8);
		for (unsigned i = FC_COPIES_FIXED; i < n; i++) {
			memcpy(&w0, pkt->frame + start[c[i].base] + c[i].src, 8);
			memcpy(k + c[i].dst, &w0, 8);
		}
		w1_pkt = L->w1_full;
	} else {
		const struct fc_region ll = L->ll, nh = L->nh, th = L->th;
		uint8_t a0, a1, a2;

		a0 = region_copy(k, &ll, pkt, 0, end);
		a1 = region_copy(k, &nh, pkt, nhoff, end);
		a2 = th_in ? region_copy(k, &th, pkt, thoff, end) : (th.hi ? FC_NONE : 0);
		w1_pkt = (uint64_t)pkt->nfproto << 8 | (uint64_t)proto << 16 | (uint64_t)a0 << 32 |
			 (uint64_t)a1 << 40 | (uint64_t)a2 << 48;
	}
	if (p->nloads)
		loads_run(p, pc, k + loads_at);
	/* The first four words in registers: the hit compares them from there. The
	 * stores are for a miss (fc_insert) and for longer keys. */
	const uint64_t *m = L->mask;
	uint64_t k0 = (uint64_t)hi->iif | (uint64_t)hi->oif << 32;
	uint64_t k1 = (uint64_t)(uint8_t)hi->hook |
		      (uint64_t)(uint8_t)(pkt->flags | (pkt->fragoff ? 0x80 : 0)) << 24 | w1_pkt;
	uint64_t k2 = kw[2] & m[2], k3 = kw[3] & m[3];

	kw[0] = k0;
	kw[1] = k1;
	kw[2] = k2;
	kw[3] = k3;
	/* two independent chains: half the multiply latency of one */
	h = (h ^ k0) * 0xbf58476d1ce4e5b9ull;
	h2 = (h2 ^ k1) * 0x94d049bb133111ebull;
	h = (h ^ k2) * 0xbf58476d1ce4e5b9ull;
	h2 = (h2 ^ k3) * 0x94d049bb133111ebull;
	for (unsigned w = 4; w < klen / 8u; w += 4) {
		kw[w] &= m[w];
		kw[w + 1] &= m[w + 1];
		kw[w + 2] &= m[w + 2];
		kw[w + 3] &= m[w + 3];
		h = (h ^ kw[w]) * 0xbf58476d1ce4e5b9ull;
		h2 = (h2 ^ kw[w + 1]) * 0x94d049bb133111ebull;
		h = (h ^ kw[w + 2]) * 0xbf58476d1ce4e5b9ull;
		h2 = (h2 ^ kw[w + 3]) * 0x94d049bb133111ebull;
	}
	/* fmix64 (MurmurHash3's finaliser): every key bit reaches the bucket bits */
	h ^= h2 >> 29 | h2 << 35;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	*hash = h;
	k4[0] = k0;
	k4[1] = k1;
	k4[2] = k2;
	k4[3] = k3;
	return L;
}

/* --- the table ----------------------------------------------------------------------- */

int flt_fc_new(uint32_t entries, struct flt_flowcache **out)
{
	struct flt_flowcache *fc;
	uint32_t n = FC_WAYS;

	if (!entries)
		entries = FLT_FC_DEFAULT_ENTRIES;
	if (entries > FLT_FC_MAX_ENTRIES)
		return -EINVAL;
	while (n < entries)
		n <<= 1;
	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	fc->nbuckets = n / FC_WAYS;
	fc->entries = flt_hugemem_alloc((size_t)n * sizeof(*fc->entries));
	fc->plan = calloc(1, sizeof(*fc->plan));
	if (!fc->entries || !fc->plan) {
		flt_fc_free(fc);
		return -ENOMEM;
	}
	fc->gen = 1;
	/* Differs per cache (and per run, with ASLR): a guest cannot aim its flows at one
	 * bucket without knowing it. */
	fc->seed = ((uint64_t)(uintptr_t)fc ^ (uint64_t)(uintptr_t)fc->entries) *
		   0x9e3779b97f4a7c15ull;
	fc->st.entries = n;
	*out = fc;
	return 0;
}

void flt_fc_free(struct flt_flowcache *fc)
{
	if (!fc)
		return;
	flt_hugemem_free(fc->entries, (size_t)fc->nbuckets * FC_WAYS * sizeof(*fc->entries));
	free(fc->plan);
	free(fc);
}

void flt_fc_invalidate(struct flt_flowcache *fc)
{
	if (++fc->gen == 0) {
		/* 2^32 generations later: entries of generation 1 would come back. */
		memset(fc->entries, 0, (size_t)fc->nbuckets * FC_WAYS * sizeof(*fc->entries));
		fc->gen = 1;
	}
	fc->rs = NULL;
	fc->ok = false;
	fc->st.flushes++;
}

void flt_fc_get_stats(const struct flt_flowcache *fc, struct flt_fc_stats *st)
{
	*st = fc->st;
	st->active = fc->rs && fc->plan->ok;
}

/* Write the verdict of a miss into the bucket: an empty or stale way, else the least
 * recently used one. */
static void fc_insert(struct flt_flowcache *fc, uint32_t b, uint32_t tag, const uint64_t *kw,
		      unsigned klen, const struct flt_fc_trace *tr, const struct flt_verdict *v)
{
	struct fc_entry *es = &fc->entries[b * FC_WAYS], *e;
	unsigned way = 0;

	for (unsigned w = 0; w < FC_WAYS; w++) {
		if (!es[w].id || (uint32_t)(es[w].id >> 32) != fc->gen) {
			way = w;
			goto write;
		}
		if ((int32_t)(es[w].last - es[way].last) < 0)
			way = w;
	}
	fc->st.evictions++;
write:
	e = &es[way];
	e->id = tag | (uint64_t)fc->gen << 32;
	e->last = ++fc->tick;
	e->rule_handle = v->rule_handle;
	e->chain = v->chain;
	e->code = (uint8_t)v->code;
	e->klen = (uint8_t)klen;
	e->ncounters = tr->ncounters;
	memcpy(e->counters, tr->counters, sizeof(e->counters));
	memcpy(e->key, kw, klen);
	fc->st.inserts++;
}

/* A miss: walk the chains with a trace, cache the verdict when the walk allows it.
 * Out of line: the hit path stays small. */
static __attribute__((noinline)) void fc_miss(struct flt_flowcache *fc, const struct flt_pktctx *pc,
					      struct flt_verdict *v, uint32_t b, uint32_t tag,
					      const uint64_t *kw, unsigned klen)
{
	struct flt_fc_trace tr;
	struct flt_pktctx tpc = *pc;

	fc->st.misses++;
	memset(&tr, 0, sizeof(tr));
	tpc.trace = &tr;
	flt_eval_hook(&tpc, v);
	if (tr.nocache || v->code == FLT_REJECT) {
		fc->st.uncacheable++;
		return;
	}
	fc_insert(fc, b, tag, kw, klen, &tr, v);
}

/* A ruleset the cache has not seen: derive its key plan. Returns whether it can key. */
static __attribute__((noinline, cold)) bool fc_setup(struct flt_flowcache *fc,
						     const struct flt_ruleset *rs)
{
	if (rs != fc->rs) {
		if (fc->rs)
			flt_fc_invalidate(fc);
		plan_build(fc->plan, rs);
		fc->rs = rs;
		fc->ok = fc->plan->ok;
	}
	return fc->ok;
}

/* The bucket of @h and the entry's id, as every lookup and insert computes them. */
static inline struct fc_entry *fc_bucket(const struct flt_flowcache *fc, uint64_t h, uint32_t *b,
					 uint32_t *tag)
{
	*b = (uint32_t)h & (fc->nbuckets - 1);
	*tag = (uint32_t)(h >> 32) | 1;
	return &fc->entries[*b * FC_WAYS];
}

/* Look up the key @kw (its first four words also in @k4, in registers when inlined) of
 * @klen bytes and hash @h: a hit fills @v, a miss walks and caches. */
static inline void fc_lookup(struct flt_flowcache *fc, const struct flt_pktctx *pc,
			     const uint64_t *kw, const uint64_t *k4, unsigned klen, uint64_t h,
			     struct flt_verdict *v)
{
	uint32_t b, tag;
	struct fc_entry *es = fc_bucket(fc, h, &b, &tag);
	uint64_t id = tag | (uint64_t)fc->gen << 32;

	for (unsigned w = 0; w < FC_WAYS; w++) {
		struct fc_entry *e = &es[w];
		uint64_t diff = 0;

		if (e->id != id)
			continue;
		/* the first 32 bytes straight (an IPv4 5-tuple is all of it), and klen: a
		 * shorter stored key must not be compared past its end; then the rest */
		diff = (e->key[0] ^ k4[0]) | (e->key[1] ^ k4[1]) | (e->key[2] ^ k4[2]) |
		       (e->key[3] ^ k4[3]) | (e->klen ^ klen);
		for (unsigned i = 4; i < klen / 8 && !diff; i += 4)
			diff |= (e->key[i] ^ kw[i]) | (e->key[i + 1] ^ kw[i + 1]) |
				(e->key[i + 2] ^ kw[i + 2]) | (e->key[i + 3] ^ kw[i + 3]);
		if (diff)
			continue;
		/* Hit: the walk would have bumped these counters, with this packet's length. */
		for (unsigned i = 0; i < e->ncounters; i++) {
			struct flt_regs unused;

			e->counters[i]->ops->eval(e->counters[i], &unused, pc);
		}
		/* LRU: a flow sending a burst is most recent already, no store */
		if (e->last != fc->tick)
			e->last = ++fc->tick;
		v->code = (enum flt_verdict_code)e->code;
		v->rule_handle = e->rule_handle;
		v->chain = e->chain;
		v->reject_type = 0;
		v->reject_icmp_code = 0;
		fc->st.hits++;
		return;
	}
	fc_miss(fc, pc, v, b, tag, kw, klen);
}

void flt_fc_eval(struct flt_flowcache *fc, const struct flt_pktctx *pc, struct flt_verdict *v)
{
	uint64_t kw[FC_KEY_WORDS + FC_REGION_WORDS], k[4], h;
	const struct fc_layout *L;

	if (__builtin_expect(pc->rs != fc->rs || !fc->ok, 0) && !fc_setup(fc, pc->rs)) {
		/* A ruleset the plan cannot describe: every packet walks. */
		fc->st.bypass++;
		flt_eval_hook(pc, v);
		return;
	}
	L = key_build(fc->plan, pc, fc->seed, kw, k, &h);
	fc_lookup(fc, pc, kw, k, L->klen, h, v);
}

_Static_assert(FLT_FC_KEY_WORDS == FC_KEY_WORDS + FC_REGION_WORDS,
	       "struct flt_fc_key holds what key_build writes");

void flt_fc_key_build(struct flt_flowcache *fc, const struct flt_pktctx *pc, struct flt_fc_key *key)
{
	const struct fc_layout *L;
	uint64_t k4[4];
	uint32_t b, tag;

	key->klen = 0;
	if (__builtin_expect(pc->rs != fc->rs || !fc->ok, 0) && !fc_setup(fc, pc->rs))
		return;
	L = key_build(fc->plan, pc, fc->seed, key->kw, k4, &key->hash);
	key->klen = L->klen;
	key->gen = fc->gen;
	key->rs = pc->rs;
	__builtin_prefetch(fc_bucket(fc, key->hash, &b, &tag));
}

void flt_fc_eval_key(struct flt_flowcache *fc, const struct flt_pktctx *pc,
		     const struct flt_fc_key *key, struct flt_verdict *v)
{
	/* Built for another ruleset or generation (the cache was flushed in between):
	 * its hash and tag would be of the old plan. */
	if (!key || !key->klen || key->rs != pc->rs || key->gen != fc->gen || fc->rs != pc->rs ||
	    !fc->ok) {
		flt_fc_eval(fc, pc, v);
		return;
	}
	fc_lookup(fc, pc, key->kw, key->kw, key->klen, key->hash, v);
}

void flt_fc_trace_note(struct flt_fc_trace *t, const struct flt_expr *e)
{
	const struct flt_expr_ops *ops = e->ops;

	if (ops == &flt_expr_counter_ops || ops == &flt_expr_objref_ops) {
		if (t->ncounters == FLT_FC_MAX_COUNTERS)
			t->nocache = true;
		else
			t->counters[t->ncounters++] = e;
		return;
	}
	/* Pure given the key (see the top of this file); anything else (limit, log,
	 * reject, a type added later) keeps the flow out of the cache. */
	if (ops == &flt_expr_immediate_ops || ops == &flt_expr_cmp_ops ||
	    ops == &flt_expr_bitwise_ops || ops == &flt_expr_byteorder_ops ||
	    ops == &flt_expr_range_ops || ops == &flt_expr_payload_ops ||
	    ops == &flt_expr_meta_ops || ops == &flt_expr_lookup_ops || ops == &flt_expr_ct_ops)
		return;
	t->nocache = true;
}
