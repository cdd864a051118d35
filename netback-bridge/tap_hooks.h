/*
 * The frame path's tap hooks (tap.h), inline so that with no capture or trace
 * running each costs one well-predicted test. Included by bridge_burst.c only.
 */
#ifndef VIFWALL_NB_TAP_HOOKS_H
#define VIFWALL_NB_TAP_HOOKS_H

#include "netback-bridge/bridge_internal.h"
#include "netback-bridge/tap.h"

/* Frame @f received on port @in: show it to a capture of that port. */
static inline void nb_tap_rx(struct nb_bridge *br, uint16_t in, const struct nb_frame *f)
{
	const struct nb_bport *bp = &br->ports[in];

	if (__builtin_expect(bp->tap & NB_TAP_RX, 0) && br->tap)
		br->tap->frame(br->tap->arg, bp->port->name, NB_TAP_RX, f);
}

/* Port @p's transmit queue is about to go out: show it to a capture of that port. */
static inline void nb_tap_tx(struct nb_bridge *br, unsigned p)
{
	const struct nb_bport *ep = &br->ports[p];

	if (__builtin_expect(ep->tap & NB_TAP_TX, 0) && br->tap)
		for (unsigned i = 0; i < ep->txq.n; i++)
			br->tap->frame(br->tap->arg, ep->port->name, NB_TAP_TX, &ep->txq.f[i]);
}

/* Frame @f from port @in dropped for @why (@out, @v, @rs for a rule's drop). */
static inline void nb_tap_drop(struct nb_bridge *br, uint16_t in, const struct nb_frame *f,
			       enum nb_drop_reason why, int out, const struct flt_verdict *v,
			       const struct flt_ruleset *rs)
{
	struct nb_tap_drop d;

	if (__builtin_expect(!br->tap_drops, 1))
		return;
	d = (struct nb_tap_drop){
		.in = br->ports[in].port->name,
		.out = out >= 0 ? br->ports[out].port->name : NULL,
		.why = why,
		.v = v,
		.rs = rs,
		.f = f,
	};
	br->tap->drop(br->tap->arg, &d);
}

#endif
