/*
 * The frame path: one ingress burst from parse to transmit. First pass, per frame: parse
 * (once, whatever the number of egress ports), complete an offloaded checksum, anti-spoofing on
 * guest ports, learn the source, pick egress ports, build the flow-cache key. Second pass, per
 * frame: for each egress port run the forward chain with that port as oif, queueing what is
 * accepted. Then every egress queue goes out in one tx burst. Nothing here allocates, locks,
 * blocks or makes a syscall per frame.
 */
#include <net/if_arp.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <string.h>

#include "filters/conntrack.h"
#include "filters/flowcache.h"
#include "netback-bridge/csum.h"
#include "netback-bridge/bridge_internal.h"
#include "netback-bridge/tap_hooks.h"

static uint8_t pkttype_of(const uint8_t *dst)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (!(dst[0] & 1))
		return PACKET_HOST;
	return memcmp(dst, bcast, 6) ? PACKET_MULTICAST : PACKET_BROADCAST;
}

/* Why the rule engine refused a frame, told apart by what decided. */
static enum nb_drop_reason verdict_reason(const struct flt_pkt *pkt, const struct flt_verdict *v)
{
	if (v->chain || v->rule_handle)
		return NB_DROP_RULE;
	if (pkt->status == FLT_PKT_L2)
		return NB_DROP_ETHERTYPE;
	if (pkt->status == FLT_PKT_IP)
		return NB_DROP_CONNTRACK;
	return NB_DROP_MALFORMED;
}

static void hookinfo_init(const struct nb_worker *w, uint16_t in, struct flt_hookinfo *hi)
{
	memset(hi, 0, sizeof(*hi));
	hi->hook = FLT_HOOK_FORWARD;
	memcpy(hi->iifname, w->br->ports[in].port->name, FLT_IFNAMSIZ);
	hi->iif = w->ports[in].rs_ifindex;
	hi->iiftype = ARPHRD_ETHER;
	hi->oiftype = ARPHRD_ETHER;
	hi->now_ns = w->now_ns;
}

/* A GSO frame must be what its offload type says: an unfragmented TCP packet (UDP
 * for UDP_L4), else the segmenting kernel would refuse it or cut something else. */
static bool gso_ok(const struct flt_pkt *pkt)
{
	bool udp = (pkt->flags & FLT_PKT_F_L4) && pkt->l4proto == IPPROTO_UDP;
	bool tcp = (pkt->flags & FLT_PKT_F_L4) && pkt->l4proto == IPPROTO_TCP;

	return pkt->status == FLT_PKT_IP && !(pkt->flags & FLT_PKT_F_FRAG) && (tcp || udp);
}

/* Queue the answer to a rejected frame on its ingress port: one per frame, however
 * many egress ports rejected it. Returns whether one was queued. */
static bool reject_answer(struct nb_worker *w, struct nb_wport *wp, const struct flt_pkt *pkt,
			  const struct flt_verdict *v)
{
	uint8_t *buf = w->rej[w->nrej];
	uint32_t len;

	if (w->nrej == NB_BURST_MAX || wp->txq.n == NB_BURST_MAX)
		return false;
	len = nb_reject_build(pkt, v, buf, NB_REJECT_MAX);
	if (!len)
		return false;
	w->nrej++;
	wp->txq.f[wp->txq.n++] = (struct nb_frame){.data = buf, .len = len};
	return true;
}

/* Learn the source and pick the egress ports; the MAC table is shared by the workers. */
static unsigned switch_egress(struct nb_worker *w, const struct flt_pkt *pkt, uint16_t in,
			      uint16_t *out)
{
	struct nb_bridge *br = w->br;
	bool locked = br->nworkers > 1;
	unsigned n;

	if (locked)
		pthread_mutex_lock(&br->sw_lock);
	nb_switch_learn(br->sw, flt_pkt_eth_src(pkt), in, w->now_ns);
	n = nb_switch_egress(br->sw, flt_pkt_eth_dst(pkt), in, (uint16_t)br->nports, w->now_ns,
			     out);
	if (locked)
		pthread_mutex_unlock(&br->sw_lock);
	return n;
}

/* Set @hi's egress side for port @out. */
static void hookinfo_out(const struct nb_worker *w, uint16_t out, uint8_t pkttype,
			 struct flt_hookinfo *hi)
{
	memcpy(hi->oifname, w->br->ports[out].port->name, FLT_IFNAMSIZ);
	hi->oif = w->ports[out].rs_ifindex;
	hi->pkttype = pkttype;
}

/* First pass: parse, check, learn, pick the egress ports; a frame with a single
 * egress port (unicast, the common case) also gets its flow-cache key built and its
 * bucket loading. Returns the number of egress ports; 0: dropped, counted. */
static unsigned frame_prepare(struct nb_worker *w, const struct flt_ruleset *rs, uint16_t in,
			      struct flt_hookinfo *hi, struct nb_frame *f, struct nb_job *j)
{
	struct nb_bport *bp = &w->br->ports[in];
	struct nb_wport *wp = &w->ports[in];
	struct flt_pkt *pkt = &j->pkt;
	enum nb_drop_reason why;

	j->nout = 0;
	j->key.klen = 0;
	flt_pkt_parse(pkt, f->data, f->len);
	if (pkt->status == FLT_PKT_RUNT || ((f->flags & NB_FRAME_GSO) && !gso_ok(pkt))) {
		why = NB_DROP_MALFORMED;
		goto drop;
	}
	/* The rules and the connection tracker need the full checksum. */
	if (f->flags & NB_FRAME_CSUM_PARTIAL)
		nb_csum_complete(pkt, f->data);
	f->csum_start = (uint16_t)pkt->th;
	why = nb_antispoof_check(&bp->as, pkt);
	if (why != NB_DROP_NONE)
		goto drop;
	j->nout = (uint8_t)switch_egress(w, pkt, in, j->out);
	if (!j->nout) {
		why = NB_DROP_LOCAL;
		goto drop;
	}
	j->pkttype = pkttype_of(flt_pkt_eth_dst(pkt));
	if (j->nout == 1 && rs) {
		hookinfo_out(w, j->out[0], j->pkttype, hi);
		flt_classify_fc_prefetch(rs, w->br->ct, w->fc, pkt, hi, &j->key);
	}
	return j->nout;
drop:
	nb_count(&wp->c.drops[why], 1);
	nb_tap_drop(w, in, f, why, -1, NULL, NULL);
	return 0;
}

/* Second pass: run the forward chain for every egress port of a prepared frame and
 * queue it where it is accepted. */
static void frame_forward(struct nb_worker *w, const struct flt_ruleset *rs, uint16_t in,
			  struct flt_hookinfo *hi, struct nb_frame *f, const struct nb_job *j)
{
	struct nb_wport *wp = &w->ports[in];
	const struct flt_pkt *pkt = &j->pkt;
	bool queued = false, answered = false;

	for (unsigned i = 0; i < j->nout; i++) {
		struct nb_wport *ep = &w->ports[j->out[i]];
		struct flt_verdict v;

		if (!rs) {
			nb_count(&wp->c.drops[NB_DROP_RULE], 1);
			nb_tap_drop(w, in, f, NB_DROP_RULE, j->out[i], NULL, NULL);
			continue;
		}
		hookinfo_out(w, j->out[i], j->pkttype, hi);
		flt_classify_fc_key(rs, w->br->ct, w->fc, pkt, hi, i ? NULL : &j->key, &v);
		if (v.code != FLT_ACCEPT) {
			nb_count(&wp->c.drops[verdict_reason(pkt, &v)], 1);
			nb_tap_drop(w, in, f, verdict_reason(pkt, &v), j->out[i], &v, rs);
			if (v.code == FLT_REJECT && !answered)
				answered = reject_answer(w, wp, pkt, &v);
			continue;
		}
		ep->txq.f[ep->txq.n++] = *f;
		queued = true;
	}
	/* Sent whole, segmented on the way out: the checksum goes back to partial form. */
	if (queued && (f->flags & NB_FRAME_GSO))
		nb_csum_to_partial(pkt, f->data);
}

static void txq_flush(struct nb_wport *ep)
{
	unsigned sent = nb_port_tx_burst(ep->port, ep->txq.f, ep->txq.n);

	/* Bytes of the first @sent frames: exact unless a frame in the middle failed. */
	uint64_t bytes = 0;

	for (unsigned i = 0; i < sent; i++)
		bytes += ep->txq.f[i].len;
	nb_count(&ep->c.tx_bytes, bytes);
	nb_count(&ep->c.tx_packets, sent);
	if (sent < ep->txq.n)
		nb_count(&ep->c.drops[NB_DROP_TX], ep->txq.n - sent);
	ep->txq.n = 0;
}

unsigned nb_worker_burst(struct nb_worker *w, const struct flt_ruleset *rs, uint16_t in)
{
	struct nb_wport *wp = &w->ports[in];
	struct flt_hookinfo hi;
	unsigned n = nb_port_rx_burst(wp->port, w->rx, w->br->burst);

	if (!n)
		return 0;
	hookinfo_init(w, in, &hi);
	w->nrej = 0;
	/* Two passes: the flow-cache lookups of the second find their buckets loading or
	 * loaded since the first, rather than each waiting for its own. */
	for (unsigned i = 0; i < n; i++) {
		nb_count(&wp->c.rx_packets, 1);
		nb_count(&wp->c.rx_bytes, w->rx[i].len);
		nb_tap_rx(w, in, &w->rx[i]);
		frame_prepare(w, rs, in, &hi, &w->rx[i], &w->job[i]);
	}
	for (unsigned i = 0; i < n; i++)
		if (w->job[i].nout)
			frame_forward(w, rs, in, &hi, &w->rx[i], &w->job[i]);
	for (unsigned p = 0; p < w->br->nports; p++)
		if (w->ports[p].txq.n) {
			nb_tap_tx(w, p);
			txq_flush(&w->ports[p]);
		}
	return n;
}
