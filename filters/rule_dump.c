/*
 * NFT_MSG_GETCHAIN and NFT_MSG_GETRULE dumps of one inet table. Rules libnftnl cannot
 * parse (an expression type newer than it) are kept, with the unknown type's name, so
 * the compiler can refuse them with the rule's location instead of failing blind.
 */
#define _GNU_SOURCE /* vasprintf */
#include <endian.h>
#include <errno.h>
#include <stdio.h> /* before libnftnl */
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "filters/rule_dump.h"
#include "filters/log.h"

#define DUMP_BUF_SIZE (1u << 17)

struct dump_ctx {
	const char *table;
	struct flt_dump *d;
	size_t cap;
	int err;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Grow an array of @size-byte items so that one more fits. */
static int grow(void **arr, size_t n, size_t *cap, size_t size)
{
	void *p;
	size_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

static bool ours(const struct nlmsghdr *nlh, const char *table, const char *got)
{
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);

	return nfg->nfgen_family == NFPROTO_INET && got && !strcmp(got, table);
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *dc = data;
	struct flt_dump *d = dc->d;
	struct flt_dump_chain *c;
	struct nftnl_chain *nc = nftnl_chain_alloc();

	if (!nc || nftnl_chain_nlmsg_parse(nlh, nc) < 0)
		goto fail;
	if (!ours(nlh, dc->table, nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE))) {
		nftnl_chain_free(nc);
		return MNL_CB_OK;
	}
	if (grow((void **)&d->chains, d->nchains, &dc->cap, sizeof(*c)) < 0)
		goto fail;
	c = &d->chains[d->nchains];
	memset(c, 0, sizeof(*c));
	c->name = dup_or_null(nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
	if (!c->name)
		goto fail;
	d->nchains++;
	c->handle = nftnl_chain_get_u64(nc, NFTNL_CHAIN_HANDLE);
	c->base = nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM);
	if (c->base) {
		c->hooknum = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
		c->prio = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
		c->policy = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY)
				    ? nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY)
				    : NF_ACCEPT;
		c->type = dup_or_null(nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
	}
	nftnl_chain_free(nc);
	return MNL_CB_OK;
fail:
	if (nc)
		nftnl_chain_free(nc);
	dc->err = -ENOMEM;
	return MNL_CB_ERROR;
}

/* Named counter objects; other object types are left out here and refused when a
 * rule references them (expr_objref.c). */
static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *dc = data;
	struct flt_dump *d = dc->d;
	struct flt_dump_counter *c;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o || nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto fail;
	if (!ours(nlh, dc->table, nftnl_obj_get_str(o, NFTNL_OBJ_TABLE)) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER) {
		nftnl_obj_free(o);
		return MNL_CB_OK;
	}
	if (grow((void **)&d->counters, d->ncounters, &dc->cap, sizeof(*c)) < 0)
		goto fail;
	c = &d->counters[d->ncounters];
	c->name = dup_or_null(nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
	if (!c->name)
		goto fail;
	c->packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	c->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
	d->ncounters++;
	nftnl_obj_free(o);
	return MNL_CB_OK;
fail:
	if (o)
		nftnl_obj_free(o);
	dc->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	char **comment = data;
	const char *s = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len > 0 && !*comment)
		*comment = strndup(s, len);
	return MNL_CB_OK;
}

/* The name of the first expression of @exprs (NFTA_RULE_EXPRESSIONS) libnftnl lacks. */
static char *unknown_expr_name(const struct nlattr *exprs)
{
	const struct nlattr *elem, *a;

	mnl_attr_for_each_nested(elem, exprs)
	{
		mnl_attr_for_each_nested(a, elem)
		{
			struct nftnl_expr *e;

			if (mnl_attr_get_type(a) != NFTA_EXPR_NAME ||
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
				continue;
			e = nftnl_expr_alloc(mnl_attr_get_str(a));
			if (!e)
				return strdup(mnl_attr_get_str(a));
			nftnl_expr_free(e);
		}
	}
	return strdup("?");
}

/* Handle, chain and unknown expression of a rule libnftnl refused to parse. */
static int rule_parse_raw(const struct nlmsghdr *nlh, const char *table, struct flt_dump_rule *r)
{
	const struct nlattr *a;
	const char *tbl = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_TABLE:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				tbl = mnl_attr_get_str(a);
			break;
		case NFTA_RULE_CHAIN:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0 && !r->chain)
				r->chain = strdup(mnl_attr_get_str(a));
			break;
		case NFTA_RULE_HANDLE:
			if (mnl_attr_validate(a, MNL_TYPE_U64) == 0)
				r->handle = be64toh(mnl_attr_get_u64(a));
			break;
		case NFTA_RULE_EXPRESSIONS:
			if (!r->unparsed_expr)
				r->unparsed_expr = unknown_expr_name(a);
			break;
		}
	}
	if (!ours(nlh, table, tbl))
		return 1;
	return r->chain && r->unparsed_expr ? 0 : -ENOMEM;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *dc = data;
	struct flt_dump *d = dc->d;
	struct flt_dump_rule r = {0};
	struct nftnl_rule *nr = nftnl_rule_alloc();
	const void *ud;
	uint32_t udlen;
	int rc;

	if (!nr)
		goto nomem;
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		nftnl_rule_free(nr);
		nr = NULL;
		rc = rule_parse_raw(nlh, dc->table, &r);
		if (rc > 0)
			goto skip;
		if (rc < 0)
			goto nomem;
	} else {
		if (!ours(nlh, dc->table, nftnl_rule_get_str(nr, NFTNL_RULE_TABLE)))
			goto skip;
		r.nlr = nr;
		r.handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
		r.chain = dup_or_null(nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
		if (!r.chain)
			goto nomem;
		if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)) {
			ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &udlen);
			nftnl_udata_parse(ud, udlen, comment_cb, &r.comment);
		}
	}
	if (grow((void **)&d->rules, d->nrules, &dc->cap, sizeof(r)) < 0)
		goto nomem;
	d->rules[d->nrules++] = r;
	return MNL_CB_OK;
skip:
	if (nr)
		nftnl_rule_free(nr);
	free(r.chain);
	free(r.unparsed_expr);
	return MNL_CB_OK;
nomem:
	if (nr)
		nftnl_rule_free(nr);
	free(r.chain);
	free(r.unparsed_expr);
	free(r.comment);
	dc->err = -ENOMEM;
	return MNL_CB_ERROR;
}

/* Send the dump request in @nlh and feed every answer to @cb until the dump ends. */
static int dump_run(int fd, struct nlmsghdr *nlh, uint32_t seq, mnl_cb_t cb, struct dump_ctx *dc)
{
	char *buf = malloc(DUMP_BUF_SIZE);
	ssize_t n;
	int rc = MNL_CB_OK;

	if (!buf)
		return -ENOMEM;
	if (send(fd, nlh, nlh->nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	do {
		n = recv(fd, buf, DUMP_BUF_SIZE, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		rc = mnl_cb_run(buf, (size_t)n, seq, 0, cb, dc);
	} while (rc > MNL_CB_STOP);
	if (rc < 0)
		rc = dc->err ? dc->err : -errno;
out:
	free(buf);
	return rc < 0 ? rc : 0;
}

int flt_dump_table(int nl_fd, const char *table, struct flt_dump *out, char **err)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct dump_ctx dc = {.table = table, .d = out};
	struct nlmsghdr *nlh;
	struct nftnl_chain *c;
	struct nftnl_rule *r;
	struct nftnl_obj *o;
	uint32_t seq = 1;
	int rc;

	memset(out, 0, sizeof(*out));
	c = nftnl_chain_alloc();
	r = nftnl_rule_alloc();
	if (!c || !r) {
		rc = -ENOMEM;
		goto fail;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	rc = dump_run(nl_fd, nlh, seq, chain_cb, &dc);
	if (rc < 0)
		goto fail;

	dc.cap = 0;
	seq++;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETRULE, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	rc = dump_run(nl_fd, nlh, seq, rule_cb, &dc);
	if (rc < 0)
		goto fail;

	dc.cap = 0;
	seq++;
	o = nftnl_obj_alloc();
	if (!o) {
		rc = -ENOMEM;
		goto fail;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, table);
	nlh = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP, seq);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	rc = dump_run(nl_fd, nlh, seq, obj_cb, &dc);
	nftnl_obj_free(o);
	if (rc < 0)
		goto fail;
	nftnl_chain_free(c);
	nftnl_rule_free(r);
	return 0;
fail:
	flt_err_set(err, "vifwall: cannot dump table inet %s from the kernel: %s\n", table,
		    strerror(-rc));
	if (c)
		nftnl_chain_free(c);
	if (r)
		nftnl_rule_free(r);
	flt_dump_release(out);
	return rc;
}

void flt_dump_release(struct flt_dump *d)
{
	for (size_t i = 0; i < d->nchains; i++) {
		free(d->chains[i].name);
		free(d->chains[i].type);
	}
	for (size_t i = 0; i < d->nrules; i++) {
		if (d->rules[i].nlr)
			nftnl_rule_free(d->rules[i].nlr);
		free(d->rules[i].chain);
		free(d->rules[i].unparsed_expr);
		free(d->rules[i].comment);
	}
	for (size_t i = 0; i < d->ncounters; i++)
		free(d->counters[i].name);
	free(d->chains);
	free(d->rules);
	free(d->counters);
	memset(d, 0, sizeof(*d));
}
