/*
 * flt_source_scan(): cut an nft script into statements and list its rules with
 * file, line and text; flt_source_match(): pair them with dumped rule handles.
 *
 * The lexer follows nft's own scanner (src/scanner.l) only as far as statement
 * boundaries need: `#` comments (a line holding only a comment yields no newline
 * at all), "quoted strings" (which may hold `#`, braces and newlines), `\` at the
 * end of a line, `{` `}` `;` and newlines. Everything else is a word. Inside a
 * statement, newlines and `;` within braces (anonymous sets, verdict maps, set
 * blocks) do not end it. Included files are spliced in as nft does: a stack of
 * frames, glob matches in alphabetical order.
 *
 * The statement reader then keeps a stack of contexts: top level, `table` block,
 * `chain` block. Only statements in a chain block (other than type/policy/comment/
 * flags/devices) and top-level `add rule`/`insert rule` are rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filters/source.h"
#include "filters/log.h"

/* nft's own limit (MAX_INCLUDE_DEPTH). */
#define INCLUDE_DEPTH_MAX 16
#define CTX_DEPTH_MAX	  8

struct flt_source {
	struct flt_src_rule *rules;
	size_t nrules, cap;
	char **names; /* file names the rules point to */
	size_t nnames;
	char *unusable;
};

enum tok_type { T_EOF, T_NEWLINE, T_SEMI, T_LBRACE, T_RBRACE, T_WORD, T_STRING };

struct token {
	enum tok_type type;
	const char *s; /* start in the file's buffer */
	size_t len;
	const char *file;
	unsigned line;
	bool glued; /* only blanks since the previous token, on the same line */
};

/* A file being read; frames above it are files it included. */
struct frame {
	const char *name; /* owned by flt_source.names */
	char *buf;
	size_t len, pos;
	unsigned line;
	unsigned depth; /* include nesting, for INCLUDE_DEPTH_MAX */
	bool bol;	/* only blanks since the start of the line */
};

enum ctx_type { CTX_TOP, CTX_TABLE, CTX_CHAIN };

struct ctx {
	enum ctx_type type;
	bool created; /* opened by `create table|chain`: see scan_stmt() */
	char *family, *table, *chain;
};

struct stmt {
	struct token *tok;
	size_t n, cap;
	bool opens_block;  /* ended by the `{` of a table/chain block */
	bool closes_block; /* a lone `}` */
};

struct scanner {
	struct flt_source *src;
	struct frame *fr;
	size_t nfr, frcap;
	char *incdir;
	struct token pushback;
	bool has_pushback;
	bool prev_content; /* the previous token was not a newline */
	const char *prev_end;
	struct ctx ctx[CTX_DEPTH_MAX];
	size_t nctx;
	char **err;
};

static void mark_unusable(struct scanner *sc, const struct token *at, const char *why)
{
	if (sc->src->unusable)
		return; /* the first reason is the one to fix */
	if (asprintf(&sc->src->unusable, "%s:%u: %s", at->file, at->line, why) < 0)
		sc->src->unusable = NULL;
	if (!sc->src->unusable)
		sc->src->unusable = strdup(why);
}

static int read_whole(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 4096, n = 0, got;
	char *b = NULL, *nb;
	int ret = 0;

	if (!f)
		return -errno;
	for (;;) {
		nb = realloc(b, cap + 1);
		if (!nb) {
			ret = -ENOMEM;
			break;
		}
		b = nb;
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if (n < cap) {
			if (ferror(f))
				ret = -EIO;
			break;
		}
		cap *= 2;
	}
	fclose(f);
	if (ret < 0) {
		free(b);
		return ret;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* Push @path as the file to read next. */
static int frame_push(struct scanner *sc, const char *path, unsigned depth)
{
	struct flt_source *src = sc->src;
	struct frame *f;
	char **names;
	int ret;

	if (depth > INCLUDE_DEPTH_MAX) {
		flt_err_set(sc->err, "%s: includes nested more than %d deep", path,
			    INCLUDE_DEPTH_MAX);
		return -ELOOP;
	}
	if (sc->nfr == sc->frcap) {
		size_t cap = sc->frcap ? 2 * sc->frcap : 8;
		struct frame *nf = realloc(sc->fr, cap * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		sc->fr = nf;
		sc->frcap = cap;
	}
	names = realloc(src->names, (src->nnames + 1) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	src->names = names;
	names[src->nnames] = strdup(path);
	if (!names[src->nnames])
		return -ENOMEM;
	f = &sc->fr[sc->nfr];
	memset(f, 0, sizeof(*f));
	f->name = names[src->nnames++];
	f->line = 1;
	f->depth = depth;
	f->bol = true;
	ret = read_whole(path, &f->buf, &f->len);
	if (ret < 0) {
		flt_err_set(sc->err, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	sc->nfr++;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_continuation(const struct frame *f, size_t pos)
{
	const char *p = f->buf + pos;

	return p[0] == '\\' && (p[1] == '\n' || (p[1] == '\r' && p[2] == '\n'));
}

static void lex_emit(struct scanner *sc, struct token *t, enum tok_type type, const char *s,
		     size_t len)
{
	const struct frame *f = &sc->fr[sc->nfr - 1];
	const char *p;

	t->type = type;
	t->s = s;
	t->len = len;
	t->file = f->name;
	t->line = f->line;
	/* Glued: the original spacing is kept in the rule's text. */
	t->glued = sc->prev_content && sc->prev_end && sc->prev_end >= f->buf &&
		   sc->prev_end <= s && s <= f->buf + f->len;
	for (p = sc->prev_end; t->glued && p < s; p++)
		t->glued = *p == ' ' || *p == '\t';
	sc->prev_content = type != T_NEWLINE;
	sc->prev_end = s + len;
}

/* The next token; at the end of an included file, a T_NEWLINE (a file ends a
 * statement), at the end of the top file T_NEWLINE then T_EOF. */
static void lex_next(struct scanner *sc, struct token *t)
{
	struct frame *f;
	const char *s;
	size_t start;

	if (sc->has_pushback) {
		*t = sc->pushback;
		sc->has_pushback = false;
		return;
	}
	for (;;) {
		if (sc->nfr == 0) {
			memset(t, 0, sizeof(*t));
			t->type = T_EOF;
			return;
		}
		f = &sc->fr[sc->nfr - 1];
		if (f->pos >= f->len) {
			lex_emit(sc, t, T_NEWLINE, f->buf + f->len, 0);
			free(f->buf);
			sc->nfr--;
			sc->prev_end = NULL;
			return;
		}
		s = f->buf + f->pos;
		if (is_blank(*s)) {
			f->pos++;
		} else if (is_continuation(f, f->pos)) {
			f->pos += s[1] == '\n' ? 2 : 3;
			f->line++;
			f->bol = true;
		} else if (*s == '\n') {
			lex_emit(sc, t, T_NEWLINE, s, 1);
			f->pos++;
			f->line++;
			f->bol = true;
			return;
		} else if (*s == '#') {
			/* nft: a line holding only a comment is eaten with its newline */
			bool whole_line = f->bol;

			while (f->pos < f->len && f->buf[f->pos] != '\n')
				f->pos++;
			if (whole_line && f->pos < f->len) {
				f->pos++;
				f->line++;
			}
		} else if (*s == '"') {
			const char *q = memchr(s + 1, '"', f->len - f->pos - 1);
			size_t len = q ? (size_t)(q - s) + 1 : f->len - f->pos;

			lex_emit(sc, t, T_STRING, s, len);
			for (start = 0; start < len; start++)
				f->line += s[start] == '\n';
			f->pos += len;
			f->bol = false;
			return;
		} else if (*s == '{' || *s == '}' || *s == ';') {
			lex_emit(sc, t, *s == '{' ? T_LBRACE : *s == '}' ? T_RBRACE : T_SEMI, s, 1);
			f->pos++;
			f->bol = false;
			return;
		} else {
			start = f->pos;
			while (f->pos < f->len && !strchr(" \t\r\f\v\n{};\"#", f->buf[f->pos]) &&
			       !is_continuation(f, f->pos))
				f->pos++;
			lex_emit(sc, t, T_WORD, s, f->pos - start);
			f->bol = false;
			return;
		}
	}
}

static bool tok_is(const struct token *t, const char *word)
{
	return t->type == T_WORD && strlen(word) == t->len && !memcmp(t->s, word, t->len);
}

static bool stmt_word_is(const struct stmt *st, size_t i, const char *word)
{
	return i < st->n && tok_is(&st->tok[i], word);
}

/* A name as nft reads it: a word, or a quoted string without its quotes. */
static char *tok_ident(const struct token *t)
{
	if (t->type == T_STRING && t->len >= 2 && t->s[t->len - 1] == '"')
		return strndup(t->s + 1, t->len - 2);
	return strndup(t->s, t->len);
}

static size_t stmt_verb_len(const struct stmt *st)
{
	return stmt_word_is(st, 0, "add") || stmt_word_is(st, 0, "create") ? 1 : 0;
}

/* Does a `{` right now open a table or chain block (rather than a set, a map
 * or an anonymous set inside a rule)? */
static bool stmt_opens_block(const struct scanner *sc, const struct stmt *st)
{
	size_t v = stmt_verb_len(st);

	switch (sc->ctx[sc->nctx - 1].type) {
	case CTX_TOP:
		return stmt_word_is(st, v, "table") || stmt_word_is(st, v, "chain");
	case CTX_TABLE:
		return stmt_word_is(st, 0, "chain");
	case CTX_CHAIN:
		break;
	}
	return false;
}

static int stmt_append(struct stmt *st, const struct token *t)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 32;
		struct token *nt = realloc(st->tok, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		st->tok = nt;
		st->cap = cap;
	}
	st->tok[st->n++] = *t;
	return 0;
}

/* Read one statement. Returns 1 when there is one, 0 at the end of input. */
static int stmt_read(struct scanner *sc, struct stmt *st)
{
	unsigned depth = 0;
	struct token t;
	int ret;

	st->n = 0;
	st->opens_block = st->closes_block = false;
	for (;;) {
		lex_next(sc, &t);
		switch (t.type) {
		case T_EOF:
			return st->n > 0;
		case T_NEWLINE:
			if (depth == 0 && st->n > 0)
				return 1;
			continue;
		case T_SEMI:
			if (depth == 0) {
				if (st->n > 0)
					return 1;
				continue;
			}
			break;
		case T_RBRACE:
			if (depth == 0) {
				if (st->n == 0) {
					st->closes_block = true;
					/* kept, for error messages */
					ret = stmt_append(st, &t);
					if (ret < 0)
						return ret;
				} else {
					sc->pushback = t;
					sc->has_pushback = true;
				}
				return 1;
			}
			depth--;
			break;
		case T_LBRACE:
			if (depth == 0 && stmt_opens_block(sc, st)) {
				st->opens_block = true;
				return 1;
			}
			depth++;
			break;
		case T_WORD:
		case T_STRING:
			break;
		}
		ret = stmt_append(st, &t);
		if (ret < 0)
			return ret;
	}
}

/* Tokens [from, n) as one line of text: original spacing within a line, one
 * space where the statement crossed a line. */
static char *stmt_text(const struct stmt *st, size_t from)
{
	size_t i, len = 1;
	char *text, *p;

	for (i = from; i < st->n; i++) {
		len += st->tok[i].len + 1;
		if (i > from && st->tok[i].glued)
			len += (size_t)(st->tok[i].s - (st->tok[i - 1].s + st->tok[i - 1].len));
	}
	text = malloc(len);
	if (!text)
		return NULL;
	p = text;
	for (i = from; i < st->n; i++) {
		const struct token *t = &st->tok[i];

		if (i > from) {
			const char *prev_end = st->tok[i - 1].s + st->tok[i - 1].len;

			if (t->glued) {
				memcpy(p, prev_end, (size_t)(t->s - prev_end));
				p += t->s - prev_end;
			} else {
				*p++ = ' ';
			}
		}
		memcpy(p, t->s, t->len);
		p += t->len;
	}
	*p = '\0';
	return text;
}

static bool is_family(const struct token *t)
{
	static const char *const families[] = {"ip", "ip6", "inet", "arp", "bridge", "netdev"};
	size_t i;

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		if (tok_is(t, families[i]))
			return true;
	}
	return false;
}

/* Parse `[family] table [chain]` at *i into @c; missing parts stay "". */
static int spec_parse(const struct stmt *st, size_t *i, bool want_chain, struct ctx *c)
{
	if (*i < st->n && is_family(&st->tok[*i]))
		c->family = tok_ident(&st->tok[(*i)++]);
	else
		c->family = strdup("ip"); /* nft's default family */
	c->table = *i < st->n ? tok_ident(&st->tok[(*i)++]) : strdup("");
	if (want_chain)
		c->chain = *i < st->n ? tok_ident(&st->tok[(*i)++]) : strdup("");
	if (!c->family || !c->table || (want_chain && !c->chain))
		return -ENOMEM;
	return 0;
}

static void ctx_clear(struct ctx *c)
{
	free(c->family);
	free(c->table);
	free(c->chain);
	memset(c, 0, sizeof(*c));
}

/* Only table and chain blocks nest (at most top > table > chain), so the stack
 * cannot overflow; the check keeps a broken file from writing past it. */
static int ctx_push(struct scanner *sc, struct ctx *c, const struct token *at)
{
	if (sc->nctx == CTX_DEPTH_MAX) {
		mark_unusable(sc, at, "blocks nested too deep");
		ctx_clear(c);
		return 0;
	}
	sc->ctx[sc->nctx++] = *c;
	return 0;
}

static void rule_free(struct flt_src_rule *r)
{
	free((char *)r->text);
	free((char *)r->family);
	free((char *)r->table);
	free((char *)r->chain);
}

/* A rule whose text is tokens [from, n); its place is that of token @at. */
static int rule_add(struct scanner *sc, const struct stmt *st, size_t at, size_t from,
		    const struct ctx *c, enum flt_src_kind kind)
{
	struct flt_source *src = sc->src;
	struct flt_src_rule *r;

	if (from >= st->n)
		return 0; /* `add rule t c` with nothing after: nft refused it anyway */
	if (src->nrules == src->cap) {
		size_t cap = src->cap ? 2 * src->cap : 64;
		struct flt_src_rule *nr = realloc(src->rules, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		src->rules = nr;
		src->cap = cap;
	}
	r = &src->rules[src->nrules];
	r->file = st->tok[at].file;
	r->line = st->tok[at].line;
	r->kind = kind;
	r->text = stmt_text(st, from);
	r->family = strdup(c->family);
	r->table = strdup(c->table);
	r->chain = strdup(c->chain);
	if (!r->text || !r->family || !r->table || !r->chain) {
		rule_free(r);
		return -ENOMEM;
	}
	src->nrules++;
	return 0;
}

/* Forget the rules that `flush`/`delete` removed: NULL matches anything. */
static void rules_drop(struct flt_source *src, const char *family, const char *table,
		       const char *chain)
{
	size_t i, kept = 0;

	for (i = 0; i < src->nrules; i++) {
		struct flt_src_rule *r = &src->rules[i];

		if ((!family || !strcmp(family, r->family)) &&
		    (!table || !strcmp(table, r->table)) && (!chain || !strcmp(chain, r->chain)))
			rule_free(r);
		else
			src->rules[kept++] = *r;
	}
	src->nrules = kept;
}

/* `include "NAME"`: where nft 1.0.6 looks, given flt_netns_load()'s include path. */
static int do_include(struct scanner *sc, const struct stmt *st)
{
	const struct frame *cur = &sc->fr[sc->nfr - 1];
	unsigned depth = cur->depth + 1;
	char *name, *pattern;
	glob_t g;
	size_t i;
	int ret = 0, gr;

	if (st->n < 2)
		return 0;
	name = tok_ident(&st->tok[1]);
	if (!name)
		return -ENOMEM;
	if (name[0] == '/' || !strncmp(name, "./", 2) || !strncmp(name, "../", 3))
		pattern = strdup(name);
	else if (asprintf(&pattern, "%s/%s", sc->incdir, name) < 0)
		pattern = NULL;
	if (!pattern) {
		free(name);
		return -ENOMEM;
	}
	gr = glob(pattern, GLOB_NOESCAPE | GLOB_MARK, NULL, &g);
	if (gr == 0) {
		/* A stack: push the last match first so the first is read first. */
		for (i = g.gl_pathc; i > 0 && ret == 0; i--) {
			const char *p = g.gl_pathv[i - 1];

			if (*p && p[strlen(p) - 1] != '/')
				ret = frame_push(sc, p, depth);
		}
		globfree(&g);
	} else if (gr == GLOB_NOMATCH) {
		if (!strpbrk(name, "*?[")) {
			flt_err_set(sc->err, "%s:%u: include \"%s\": file not found",
				    st->tok[0].file, st->tok[0].line, name);
			ret = -ENOENT;
		}
	} else {
		flt_err_set(sc->err, "%s:%u: include \"%s\": cannot expand the pattern",
			    st->tok[0].file, st->tok[0].line, name);
		ret = -EIO;
	}
	free(pattern);
	free(name);
	return ret;
}

/* `[add|insert] rule [family] table chain [position|handle|index N] RULE`, with
 * the chain spec starting at @i. */
static int top_rule(struct scanner *sc, const struct stmt *st, size_t i, enum flt_src_kind kind)
{
	struct ctx c = {0};
	int ret;

	ret = spec_parse(st, &i, true, &c);
	if (ret == 0 && i + 1 < st->n &&
	    (stmt_word_is(st, i, "position") || stmt_word_is(st, i, "handle") ||
	     stmt_word_is(st, i, "index")))
		i += 2;
	if (ret == 0)
		ret = rule_add(sc, st, 0, i, &c, kind);
	ctx_clear(&c);
	return ret;
}

/* `flush`, `delete`, `destroy`, `replace`: forget what they remove. */
static int top_destructive(struct scanner *sc, const struct stmt *st)
{
	const struct token *t0 = &st->tok[0];
	struct ctx c = {0};
	size_t i = 2;
	bool chain;
	int ret;

	if (tok_is(t0, "replace") || stmt_word_is(st, 1, "rule")) {
		mark_unusable(sc, t0,
			      "`delete rule` or `replace rule` makes rule handles unpredictable");
		return 0;
	}
	if (stmt_word_is(st, 1, "ruleset")) {
		char *family = st->n > 2 ? tok_ident(&st->tok[2]) : NULL;

		if (st->n > 2 && !family)
			return -ENOMEM;
		if (tok_is(t0, "flush"))
			rules_drop(sc->src, family, NULL, NULL);
		free(family);
		return 0;
	}
	if (!stmt_word_is(st, 1, "table") && !stmt_word_is(st, 1, "chain"))
		return 0; /* sets, elements, objects: no rule goes away */
	chain = stmt_word_is(st, 1, "chain");
	ret = spec_parse(st, &i, chain, &c);
	if (ret == 0)
		rules_drop(sc->src, c.family, c.table, chain ? c.chain : NULL);
	ctx_clear(&c);
	return ret;
}

/* A command at the top level: blocks, rules, flush/delete; the rest is skipped. */
static int do_top(struct scanner *sc, const struct stmt *st)
{
	static const char *const keywords[] = {
		"get",	    "list",  "reset", "rename", "import",  "export",  "monitor",
		"describe", "table", "chain", "set",	"map",	   "element", "flowtable",
		"counter",  "quota", "ct",    "limit",	"secmark", "synproxy"};
	const struct token *t0 = &st->tok[0];
	struct ctx c = {0};
	size_t i, k;
	int ret;

	if (st->opens_block) {
		i = stmt_verb_len(st);
		c.type = tok_is(&st->tok[i], "table") ? CTX_TABLE : CTX_CHAIN;
		c.created = tok_is(t0, "create");
		i++;
		ret = spec_parse(st, &i, c.type == CTX_CHAIN, &c);
		if (ret < 0) {
			ctx_clear(&c);
			return ret;
		}
		return ctx_push(sc, &c, t0);
	}
	if (tok_is(t0, "flush") || tok_is(t0, "delete") || tok_is(t0, "destroy") ||
	    tok_is(t0, "replace"))
		return top_destructive(sc, st);
	if (tok_is(t0, "insert"))
		return stmt_word_is(st, 1, "rule") ? top_rule(sc, st, 2, FLT_SRC_INSERT) : 0;
	if (stmt_verb_len(st))
		return stmt_word_is(st, 1, "rule") ? top_rule(sc, st, 2, FLT_SRC_ADD) : 0;
	if (tok_is(t0, "rule"))
		return top_rule(sc, st, 1, FLT_SRC_ADD);
	for (k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++) {
		if (tok_is(t0, keywords[k]))
			return 0;
	}
	/* nft reads a line that starts with no command word as `add rule` */
	return t0->type == T_WORD ? top_rule(sc, st, 0, FLT_SRC_ADD) : 0;
}

static bool is_chain_property(const struct token *t)
{
	static const char *const props[] = {"type",   "policy", "comment",  "flags",   "devices",
					    "device", "define", "redefine", "undefine"};
	size_t k;

	for (k = 0; k < sizeof(props) / sizeof(props[0]); k++) {
		if (tok_is(t, props[k]))
			return true;
	}
	return false;
}

static int scan_stmt(struct scanner *sc, const struct stmt *st)
{
	struct ctx *cur = &sc->ctx[sc->nctx - 1];
	const struct token *t0 = st->n ? &st->tok[0] : NULL;
	struct ctx c = {0};
	size_t i = 1;
	int ret;

	if (st->closes_block) {
		if (sc->nctx == 1) {
			/* nft refused this; keep going, but trust nothing */
			mark_unusable(sc, t0, "a `}` closes no block");
			return 0;
		}
		ctx_clear(&sc->ctx[--sc->nctx]);
		return 0;
	}
	if (tok_is(t0, "include"))
		return do_include(sc, st);
	if (tok_is(t0, "define") || tok_is(t0, "redefine") || tok_is(t0, "undefine"))
		return 0;
	switch (cur->type) {
	case CTX_TOP:
		return do_top(sc, st);
	case CTX_TABLE:
		if (!st->opens_block)
			return 0; /* set, map, counter..., flags, comment */
		c.type = CTX_CHAIN;
		c.created = cur->created;
		c.family = strdup(cur->family);
		c.table = strdup(cur->table);
		c.chain = i < st->n ? tok_ident(&st->tok[i]) : strdup("");
		if (!c.family || !c.table || !c.chain) {
			ctx_clear(&c);
			return -ENOMEM;
		}
		return ctx_push(sc, &c, t0);
	case CTX_CHAIN:
		if (is_chain_property(t0))
			return 0;
		/* nft 1.0.6 drops the contents of `create table|chain { ... }` blocks,
		 * later versions may not: whether this rule exists is unknowable. */
		if (cur->created)
			mark_unusable(sc, t0,
				      "a rule inside a `create` block: nft versions "
				      "differ in whether they load it");
		ret = rule_add(sc, st, 0, 0, cur, FLT_SRC_BLOCK);
		return ret;
	}
	return 0;
}

static char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int flt_source_scan(const char *path, struct flt_source **out, char **err)
{
	struct scanner sc = {.err = err, .nctx = 1};
	struct stmt st = {0};
	int ret;

	*out = NULL;
	if (err)
		*err = NULL;
	sc.src = calloc(1, sizeof(*sc.src));
	sc.incdir = path_dir(path);
	if (!sc.src || !sc.incdir) {
		ret = -ENOMEM;
		goto out;
	}
	ret = frame_push(&sc, path, 0);
	while (ret == 0) {
		ret = stmt_read(&sc, &st);
		if (ret <= 0)
			break;
		ret = scan_stmt(&sc, &st);
	}
	if (ret == 0 && sc.nctx > 1) {
		struct token end = {.file = path, .line = 0};

		mark_unusable(&sc, &end, "a block is not closed");
	}
out:
	if (ret == -ENOMEM)
		flt_err_set(err, "out of memory scanning %s", path);
	while (sc.nfr > 0)
		free(sc.fr[--sc.nfr].buf);
	free(sc.fr);
	while (sc.nctx > 0)
		ctx_clear(&sc.ctx[--sc.nctx]);
	free(st.tok);
	free(sc.incdir);
	if (ret < 0) {
		flt_source_free(sc.src);
		return ret;
	}
	*out = sc.src;
	return 0;
}

void flt_source_free(struct flt_source *src)
{
	size_t i;

	if (!src)
		return;
	for (i = 0; i < src->nrules; i++)
		rule_free(&src->rules[i]);
	for (i = 0; i < src->nnames; i++)
		free(src->names[i]);
	free(src->rules);
	free(src->names);
	free(src->unusable);
	free(src);
}

size_t flt_source_count(const struct flt_source *src)
{
	return src->nrules;
}

const struct flt_src_rule *flt_source_rule(const struct flt_source *src, size_t i)
{
	return i < src->nrules ? &src->rules[i] : NULL;
}

const char *flt_source_unusable(const struct flt_source *src)
{
	return src->unusable;
}

struct key_ref {
	uint64_t handle;
	size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;

	return x->handle < y->handle ? -1 : x->handle > y->handle;
}

int flt_source_match(const struct flt_source *src, const char *family, const char *table,
		     const struct flt_src_key *keys, size_t n, const struct flt_src_rule **out,
		     char **err)
{
	struct key_ref *refs = NULL;
	size_t i, j, m = 0;
	int ret = 0;

	if (err)
		*err = NULL;
	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (src->unusable) {
		flt_err_set(err, "%s: rules are shown by handle only", src->unusable);
		return -EOPNOTSUPP;
	}
	for (i = 0; i < src->nrules; i++)
		m += !strcmp(src->rules[i].family, family) && !strcmp(src->rules[i].table, table);
	if (m != n) {
		flt_err_set(
			err,
			"the file has %zu rules for table %s %s but the kernel holds %zu: rules "
			"are shown by handle only",
			m, family, table, n);
		return -ERANGE;
	}
	refs = calloc(n ? n : 1, sizeof(*refs));
	if (!refs) {
		flt_err_set(err, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		refs[i].handle = keys[i].handle;
		refs[i].idx = i;
	}
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (i = 0, j = 0; i < n && ret == 0; i++, j++) {
		const struct flt_src_key *k = &keys[refs[i].idx];
		const struct flt_src_rule *r;

		if (i > 0 && refs[i].handle == refs[i - 1].handle) {
			flt_err_set(err, "handle %llu appears twice",
				    (unsigned long long)k->handle);
			ret = -EINVAL;
			break;
		}
		while (strcmp(src->rules[j].family, family) || strcmp(src->rules[j].table, table))
			j++;
		r = &src->rules[j];
		if (k->chain && strcmp(k->chain, r->chain)) {
			flt_err_set(err,
				    "rule handle %llu is in chain %s, but the matching statement "
				    "(%s:%u) is in chain %s: the file is not what was loaded",
				    (unsigned long long)k->handle, k->chain, r->file, r->line,
				    r->chain);
			ret = -EPROTO;
			break;
		}
		out[refs[i].idx] = r;
	}
	if (ret < 0) {
		for (i = 0; i < n; i++)
			out[i] = NULL;
	}
	free(refs);
	return ret;
}
