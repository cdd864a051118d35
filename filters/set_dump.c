/*
 * Read every set of one inet table, and its elements, from the kernel over a
 * NETLINK_NETFILTER socket (NFT_MSG_GETSET, then NFT_MSG_GETSETELEM per set), turn
 * each into a struct flt_set_spec and hand it to flt_set_build().
 *
 * The socket belongs to the caller (flt_netns_load() made it inside the ruleset's
 * private namespace), so it is driven with plain send()/recv() and libmnl's message
 * parsing, never wrapped or closed. Each request is a dump read to its NLMSG_DONE,
 * so nothing is left queued on the socket when we return successfully.
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "filters/set_internal.h"

#define DUMP_BUF_SIZE	(64 * 1024) /* larger than any message a dump sends */
#define DUMP_TIMEOUT_MS 10000

struct dump {
	int fd;
	uint32_t seq;
	const char *table;
	uint8_t *buf;
	char **err;
};

static int dump_fail(struct dump *d, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int dump_fail(struct dump *d, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!d->err)
		return rc;
	va_start(ap, fmt);
	if (vasprintf(d->err, fmt, ap) < 0)
		*d->err = NULL;
	va_end(ap);
	return rc;
}

/* Receive one datagram, waiting if the socket is non-blocking. Returns its length or
 * -errno; a message larger than the buffer is an error, never silently cut. */
static ssize_t dump_recv(struct dump *d)
{
	for (;;) {
		ssize_t n = recv(d->fd, d->buf, DUMP_BUF_SIZE, MSG_TRUNC);

		if (n > DUMP_BUF_SIZE)
			return -EMSGSIZE;
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		struct pollfd p = {.fd = d->fd, .events = POLLIN};
		int r = poll(&p, 1, DUMP_TIMEOUT_MS);

		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Send the request in d->buf and run @cb on every answer until the dump ends.
 * Returns 0 or -errno (the kernel's error for an error message). */
static int dump_run(struct dump *d, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	ssize_t n;
	int rc;

	if (send(d->fd, nlh, nlh->nlmsg_len, 0) < 0)
		return -errno;
	do {
		n = dump_recv(d);
		if (n < 0)
			return (int)n;
		errno = 0;
		rc = mnl_cb_run(d->buf, (size_t)n, d->seq, 0, cb, arg);
		if (rc < 0)
			return errno ? -errno : -EPROTO;
	} while (rc > MNL_CB_STOP);
	return 0;
}

struct sets_arg {
	struct nftnl_set_list *list;
	const char *table;
};

static int sets_cb(const struct nlmsghdr *nlh, void *data)
{
	struct sets_arg *a = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	/* The kernel filters by table already; keep the check for the family. */
	if (nftnl_set_get_u32(s, NFTNL_SET_FAMILY) != NFPROTO_INET ||
	    !nftnl_set_is_set(s, NFTNL_SET_NAME) ||
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), a->table) != 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	nftnl_set_list_add_tail(s, a->list);
	return MNL_CB_OK;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nftnl_set_elems_nlmsg_parse(nlh, data) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int dump_sets(struct dump *d, struct nftnl_set_list *list)
{
	struct sets_arg a = {list, d->table};
	struct nftnl_set *req = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int rc;

	if (!req)
		return dump_fail(d, -ENOMEM, "out of memory");
	nlh = nftnl_nlmsg_build_hdr((char *)d->buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP,
				    ++d->seq);
	nftnl_set_set_str(req, NFTNL_SET_TABLE, d->table);
	nftnl_set_nlmsg_build_payload(nlh, req);
	nftnl_set_free(req);
	rc = dump_run(d, nlh, sets_cb, &a);
	if (rc == -ENOENT)
		return dump_fail(d, rc, "table inet %s does not exist", d->table);
	if (rc)
		return dump_fail(d, rc, "dumping the sets of table inet %s: %s", d->table,
				 strerror(-rc));
	return 0;
}

static int dump_elems(struct dump *d, struct nftnl_set *s)
{
	const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	struct nftnl_set *req = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	int rc;

	if (!req)
		return dump_fail(d, -ENOMEM, "out of memory");
	nlh = nftnl_nlmsg_build_hdr((char *)d->buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
				    ++d->seq);
	nftnl_set_set_str(req, NFTNL_SET_TABLE, d->table);
	nftnl_set_set_str(req, NFTNL_SET_NAME, name);
	nftnl_set_elems_nlmsg_build_payload(nlh, req);
	nftnl_set_free(req);
	rc = dump_run(d, nlh, elems_cb, s);
	if (rc)
		return dump_fail(d, rc, "set '%s': dumping its elements: %s", name, strerror(-rc));
	return 0;
}

static uint32_t set_u32(const struct nftnl_set *s, uint16_t attr)
{
	return nftnl_set_is_set(s, attr) ? nftnl_set_get_u32(s, attr) : 0;
}

static void spec_from_set(struct flt_set_spec *spec, const struct nftnl_set *s)
{
	spec->name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	spec->flags = set_u32(s, NFTNL_SET_FLAGS);
	spec->key_type = set_u32(s, NFTNL_SET_KEY_TYPE);
	spec->key_len = set_u32(s, NFTNL_SET_KEY_LEN);
	spec->data_type = set_u32(s, NFTNL_SET_DATA_TYPE);
	spec->data_len = set_u32(s, NFTNL_SET_DATA_LEN);
	spec->obj_type = set_u32(s, NFTNL_SET_OBJ_TYPE);
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
		uint32_t n = 0;
		const uint8_t *fl = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &n);

		/* libnftnl reports the field count as the length. */
		if (fl && n > FLT_SET_MAX_FIELDS)
			spec->unsupported = "too many concatenated fields";
		else if (fl)
			memcpy(spec->field_len, fl, n);
		spec->field_count = fl ? n : 0;
	}
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) && nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT))
		spec->unsupported = "element timeouts (timeout in the set) are not supported";
	if (nftnl_set_is_set(s, NFTNL_SET_EXPR) || nftnl_set_is_set(s, NFTNL_SET_EXPRESSIONS))
		spec->unsupported = "per-element expressions (counter, quota, limit... in the "
				    "set) are not supported";
}

static void spec_elem_from(struct flt_set_spec_elem *e, struct nftnl_set_elem *ne)
{
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_KEY))
		e->key = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY, &e->key_len);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_KEY_END))
		e->key_end = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY_END, &e->key_end_len);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS))
		e->flags = nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_VERDICT)) {
		e->has_verdict = true;
		e->verdict = (int32_t)nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_VERDICT);
	}
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_CHAIN))
		e->chain = nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_CHAIN);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_DATA))
		e->data = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_DATA, &e->data_len);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_OBJREF))
		e->obj = nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_OBJREF);
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_TIMEOUT) ||
	    nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_EXPIRATION))
		e->unsupported = "element timeouts are not supported";
	if (nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_EXPR) ||
	    nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_EXPRESSIONS))
		e->unsupported = "elements with a counter, quota or other expression are not "
				 "supported";
}

struct elems_acc {
	struct flt_set_spec_elem *v;
	size_t n, cap;
};

static int elem_take(struct nftnl_set_elem *ne, void *data)
{
	struct elems_acc *a = data;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		void *v = realloc(a->v, cap * sizeof(*a->v));

		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	spec_elem_from(&a->v[a->n++], ne);
	return 0;
}

/* Dump the elements of @s and build it into *out. */
static int set_make(struct dump *d, struct nftnl_set *s, struct flt_set **out)
{
	struct flt_set_spec spec = {0};
	struct elems_acc acc = {0};
	int rc;

	rc = dump_elems(d, s);
	if (rc)
		return rc;
	spec_from_set(&spec, s);
	if (nftnl_set_elem_foreach(s, elem_take, &acc) < 0) {
		free(acc.v);
		return dump_fail(d, -ENOMEM, "out of memory");
	}
	spec.elems = acc.v;
	spec.nelems = acc.n;
	rc = flt_set_build(&spec, out, d->err);
	free(acc.v);
	return rc;
}

static int setlist_fill(struct dump *d, struct nftnl_set_list *list, struct flt_setlist *l)
{
	struct nftnl_set_list_iter *it = nftnl_set_list_iter_create(list);
	struct nftnl_set *s;
	unsigned cap = 0;
	int rc = 0;

	if (!it)
		return dump_fail(d, -ENOMEM, "out of memory");
	for (s = nftnl_set_list_iter_next(it); s; s = nftnl_set_list_iter_next(it)) {
		if (l->n == cap) {
			unsigned ncap = cap ? 2 * cap : 16;
			void *v = realloc(l->sets, ncap * sizeof(*l->sets));

			if (!v) {
				rc = dump_fail(d, -ENOMEM, "out of memory");
				break;
			}
			l->sets = v;
			cap = ncap;
		}
		rc = set_make(d, s, &l->sets[l->n]);
		if (rc)
			break;
		l->n++;
	}
	nftnl_set_list_iter_destroy(it);
	return rc;
}

int flt_setlist_dump(int nl_fd, const char *table, struct flt_setlist **out, char **err)
{
	struct dump d = {.fd = nl_fd, .table = table, .err = err};
	struct nftnl_set_list *list = NULL;
	struct flt_setlist *l;
	int rc;

	*out = NULL;
	if (err)
		*err = NULL;
	/* A sequence number unlikely to match stale answers of an earlier user. */
	d.seq = (uint32_t)time(NULL) << 8;
	d.buf = malloc(DUMP_BUF_SIZE);
	list = nftnl_set_list_alloc();
	l = calloc(1, sizeof(*l));
	if (!d.buf || !list || !l) {
		rc = dump_fail(&d, -ENOMEM, "out of memory");
		goto out;
	}
	rc = dump_sets(&d, list);
	if (!rc)
		rc = setlist_fill(&d, list, l);
out:
	if (rc) {
		flt_setlist_free(l);
		l = NULL;
	}
	if (list)
		nftnl_set_list_free(list);
	free(d.buf);
	*out = l;
	return rc;
}
