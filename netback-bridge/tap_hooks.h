/*
 * The frame path's tap hooks (tap.h), inline so that with no capture or trace
 * running each costs one well-predicted test. Included by bridge_burst.c only.
 */
#ifndef VIFWALL_NB_TAP_HOOKS_H
#define VIFWALL_NB_TAP_HOOKS_H

#include "netback-bridge/bridge_internal.h"
#include "netback-bridge/tap.h"

/* The installed tap, with the lock that serialises callbacks of several workers
 * taken (tap.c: the owner reads its buffers under the same lock); NULL when none. */
static inline const struct nb_tap *nb_tap_enter(struct nb_bridge *br)
{
	const struct nb_tap *tap;

	if (br->nworkers > 1)
		pthread_mutex_lock(&br->tap_lock);
	tap = atomic_load_explicit(&br->tap, memory_order_acquire);
	if (!tap && br->nworkers > 1)
		pthread_mutex_unlock(&br->tap_lock);
	return tap;
}

static inline void nb_tap_leave(struct nb_bridge *br)
{
	if (br->nworkers > 1)
		pthread_mutex_unlock(&br->tap_lock);
}

static inline bool nb_tap_wants(const struct nb_bport *bp, unsigned dir)
{
	return __builtin_expect(atomic_load_explicit(&bp->tap, memory_order_relaxed) & dir, 0);
}

/* Frame @f received on port @in: show it to a capture of that port. */
static inline void nb_tap_rx(struct nb_worker *w, uint16_t in, const struct nb_frame *f)
{
	const struct nb_bport *bp = &w->br->ports[in];
	const struct nb_tap *tap;

	if (!nb_tap_wants(bp, NB_TAP_RX) || !(tap = nb_tap_enter(w->br)))
		return;
	tap->frame(tap->arg, bp->port->name, NB_TAP_RX, f);
	nb_tap_leave(w->br);
}

/* Port @p's transmit queue is about to go out: show it to a capture of that port. */
static inline void nb_tap_tx(struct nb_worker *w, unsigned p)
{
	const struct nb_bport *ep = &w->br->ports[p];
	const struct nb_txq *q = &w->ports[p].txq;
	const struct nb_tap *tap;

	if (!nb_tap_wants(ep, NB_TAP_TX) || !(tap = nb_tap_enter(w->br)))
		return;
	for (unsigned i = 0; i < q->n; i++)
		tap->frame(tap->arg, ep->port->name, NB_TAP_TX, &q->f[i]);
	nb_tap_leave(w->br);
}

/* Frame @f from port @in dropped for @why (@out, @v, @rs for a rule's drop). */
static inline void nb_tap_drop(struct nb_worker *w, uint16_t in, const struct nb_frame *f,
			       enum nb_drop_reason why, int out, const struct flt_verdict *v,
			       const struct flt_ruleset *rs)
{
	struct nb_bridge *br = w->br;
	const struct nb_tap *tap;
	struct nb_tap_drop d;

	if (__builtin_expect(!atomic_load_explicit(&br->tap_drops, memory_order_relaxed), 1))
		return;
	if (!(tap = nb_tap_enter(br)))
		return;
	d = (struct nb_tap_drop){
		.in = br->ports[in].port->name,
		.out = out >= 0 ? br->ports[out].port->name : NULL,
		.why = why,
		.v = v,
		.rs = rs,
		.f = f,
	};
	if (tap->drop && atomic_load_explicit(&br->tap_drops, memory_order_relaxed))
		tap->drop(tap->arg, &d);
	nb_tap_leave(br);
}

#endif
