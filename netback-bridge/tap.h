/*
 * Taps on the frame path, for `vifwall capture` and `vifwall trace`: the bridge
 * shows a frame received on or about to be sent out of a tapped port, and every
 * frame the frame path drops while drops are tapped. The taps' owner (vifwalld's
 * capture code) copies what it wants into its own bounded buffers; a tap callback
 * runs inside the packet path, so it must never allocate, block or make a syscall.
 *
 * With no tap set the cost is one test of a byte in the port's state per frame.
 * Call everything here from the loop's thread, between two nb_bridge_run_once().
 *
 * With several workers (nb_bridge_config.workers) callbacks come from every worker
 * thread, one at a time: the bridge holds its tap lock around each. The tap's owner
 * takes the same lock (nb_bridge_tap_lock) around whatever it shares with its
 * callbacks (its buffers, which slots are in use); the lock is recursive, so the
 * owner may set taps while holding it.
 */
#ifndef VIFWALL_NB_TAP_H
#define VIFWALL_NB_TAP_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/ruleset.h"
#include "netback-bridge/counters.h"
#include "netback-bridge/port.h"

struct nb_bridge;

/* Directions a port is tapped in (nb_bridge_tap_port's @dirs). */
enum {
	NB_TAP_RX = 1, /* frames the port received, as they came in */
	NB_TAP_TX = 2, /* frames vifwalld hands the port to send */
};

/* One dropped frame, as the frame path saw it. Valid during the callback only. */
struct nb_tap_drop {
	const char *in;		      /* ingress port's name */
	const char *out;	      /* egress port's name for a rule drop; NULL otherwise */
	enum nb_drop_reason why;      /* counters.h */
	const struct flt_verdict *v;  /* the deciding verdict (rule drops); NULL otherwise */
	const struct flt_ruleset *rs; /* the ruleset that decided; NULL without one */
	const struct nb_frame *f;     /* the frame */
};

struct nb_tap {
	/* A frame on a port tapped in direction @dir (NB_TAP_RX or NB_TAP_TX). */
	void (*frame)(void *arg, const char *port, unsigned dir, const struct nb_frame *f);
	/* A frame dropped by the frame path, while nb_bridge_tap_set()'s @drops holds. */
	void (*drop)(void *arg, const struct nb_tap_drop *d);
	void *arg;
};

/*
 * Install @tap (borrowed until replaced; NULL removes it and every port's taps stay
 * but show nothing) and say whether drops go to it.
 */
void nb_bridge_tap_set(struct nb_bridge *br, const struct nb_tap *tap, bool drops);

/*
 * Tap port @name in @dirs (NB_TAP_RX | NB_TAP_TX; 0 stops tapping it). A port that is
 * removed loses its taps; one added later under the same name has none.
 * Returns 0, or -ENOENT when no port has that name.
 */
int nb_bridge_tap_port(struct nb_bridge *br, const char *name, unsigned dirs);

/* The lock the bridge holds around tap callbacks (no-ops with one worker). */
void nb_bridge_tap_lock(struct nb_bridge *br);
void nb_bridge_tap_unlock(struct nb_bridge *br);

/* The taps of port @name, or -ENOENT: how a tap's owner notices its port went away. */
int nb_bridge_tap_dirs(const struct nb_bridge *br, const char *name);

#endif
