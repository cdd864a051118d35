/*
 * The one list of nft expression types vifwall knows: those it executes exactly (one
 * file each, expr_<name>.c) and those it refuses by name, so that a ruleset using
 * them fails to load with the construct named instead of being approximated.
 * No constructor magic: adding a type means adding a line here.
 */
#include <string.h>

#include "filters/expr.h"

extern const struct flt_expr_ops flt_expr_immediate_ops, flt_expr_cmp_ops, flt_expr_bitwise_ops,
	flt_expr_byteorder_ops, flt_expr_range_ops, flt_expr_payload_ops, flt_expr_meta_ops,
	flt_expr_lookup_ops, flt_expr_counter_ops, flt_expr_limit_ops, flt_expr_log_ops,
	flt_expr_reject_ops, flt_expr_ct_ops, flt_expr_objref_ops;

/* Refused: they change the packet, depend on kernel state vifwall does not have
 * (routes, sockets, xfrm), or keep state we do not model (dynamic sets, quotas). */
#define REFUSED(n) (&(const struct flt_expr_ops){.name = n})

const struct flt_expr_ops *const flt_expr_types[] = {
	&flt_expr_immediate_ops, &flt_expr_cmp_ops,	  &flt_expr_bitwise_ops,
	&flt_expr_byteorder_ops, &flt_expr_range_ops,	  &flt_expr_payload_ops,
	&flt_expr_meta_ops,	 &flt_expr_lookup_ops,	  &flt_expr_counter_ops,
	&flt_expr_limit_ops,	 &flt_expr_log_ops,	  &flt_expr_reject_ops,
	&flt_expr_ct_ops,	 &flt_expr_objref_ops,	  REFUSED("dynset"),
	REFUSED("exthdr"),	 REFUSED("fib"),	  REFUSED("rt"),
	REFUSED("socket"),	 REFUSED("numgen"),	  REFUSED("hash"),
	REFUSED("quota"),	 REFUSED("connlimit"),	  REFUSED("notrack"),
	REFUSED("nat"),		 REFUSED("masq"),	  REFUSED("redir"),
	REFUSED("tproxy"),	 REFUSED("queue"),	  REFUSED("dup"),
	REFUSED("fwd"),		 REFUSED("synproxy"),	  REFUSED("osf"),
	REFUSED("xfrm"),	 REFUSED("tunnel"),	  REFUSED("last"),
	REFUSED("inner"),	 REFUSED("flow_offload"), REFUSED("match"),
	REFUSED("target"),	 REFUSED("secmark"),	  NULL,
};

const struct flt_expr_ops *flt_expr_ops_find(const char *name)
{
	if (!name)
		return NULL;
	for (unsigned i = 0; flt_expr_types[i]; i++)
		if (!strcmp(flt_expr_types[i]->name, name))
			return flt_expr_types[i];
	return NULL;
}
