/*
 * TCP connection tracking as the kernel's nf_conntrack_proto_tcp.c does it with default
 * sysctls (tcp_loose=1, tcp_be_liberal=0, tcp_max_retrans=3, tcp_ignore_invalid_rst=0,
 * no window-check bypass): the per-direction state table, the flag-combination and
 * checksum checks of tcp_error(), window tracking (tcp_in_window) with its verdicts,
 * loose pickup of connections seen mid-stream, re-opening over TIME_WAIT/CLOSE, the RST
 * acceptance rules, retransmission counting, ASSURED, and the timeout choice.
 *
 * Written from reading the kernel (6.1 and 6.18, identical here), not copied; names of
 * kernel functions in comments say which part each piece mirrors. Verdicts: a packet the
 * kernel "ignores" (sIG, NFCT_TCP_IGNORE) keeps its conntrack and state; only "invalid"
 * verdicts take it away.
 */
#include <string.h>

#include "filters/conntrack_internal.h"

/* Which row of the state table a segment uses (get_conntrack_index). */
enum { T_SYN, T_SYNACK, T_FIN, T_ACK, T_RST, T_NONE };

enum {
	TH_FIN = 0x01,
	TH_SYN = 0x02,
	TH_RST = 0x04,
	TH_PSH = 0x08,
	TH_ACK = 0x10,
	TH_URG = 0x20,
	TH_ECE = 0x40,
	TH_CWR = 0x80,
};

#define sNO TCP_CONNTRACK_NONE
#define sSS TCP_CONNTRACK_SYN_SENT
#define sSR TCP_CONNTRACK_SYN_RECV
#define sES TCP_CONNTRACK_ESTABLISHED
#define sFW TCP_CONNTRACK_FIN_WAIT
#define sCW TCP_CONNTRACK_CLOSE_WAIT
#define sLA TCP_CONNTRACK_LAST_ACK
#define sTW TCP_CONNTRACK_TIME_WAIT
#define sCL TCP_CONNTRACK_CLOSE
#define sS2 TCP_CONNTRACK_SYN_SENT2
#define sIV TCP_CONNTRACK_MAX
#define sIG TCP_CONNTRACK_IGNORE

/* [direction][segment kind][old state] -> new state: the kernel's tcp_conntracks. */
static const uint8_t tcp_next[2][6][TCP_CONNTRACK_MAX] = {
	{
		/*	   sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
		/*syn*/ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
		/*synack*/ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		/*ack*/ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
	{
		/*	   sNO, sSS, sSR, sES, sFW, sCW, sLA, sTW, sCL, sS2 */
		/*syn*/ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
		/*synack*/ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
		/*fin*/ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
		/*ack*/ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
		/*rst*/ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
		/*none*/ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
	},
};

/* Outcome of the window check (enum nf_ct_tcp_action). */
enum { W_IGNORE, W_INVALID, W_ACCEPT };

#define MAXACKWINCONST	66000
#define TCP_MAX_WSCALE	14
#define TCP_MAX_RETRANS 3

/* The fields of one segment that the tracker reads. */
struct seg {
	const struct ct_view *v;
	uint32_t dataoff;
	const uint8_t *th; /* 20 bytes */
	const uint8_t *opt;
	uint32_t optlen;
	uint32_t seq, ack;
	uint16_t win;
	uint8_t flags;
};

static bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool after(uint32_t a, uint32_t b)
{
	return before(b, a);
}

static unsigned seg_index(const struct seg *s)
{
	if (s->flags & TH_RST)
		return T_RST;
	if (s->flags & TH_SYN)
		return (s->flags & TH_ACK) ? T_SYNACK : T_SYN;
	if (s->flags & TH_FIN)
		return T_FIN;
	if (s->flags & TH_ACK)
		return T_ACK;
	return T_NONE;
}

/* segment_seq_plus_len(): the sequence number after this segment. */
static uint32_t seg_end(const struct seg *s)
{
	return s->seq + (s->v->len - s->dataoff - s->optlen - 20) + !!(s->flags & TH_SYN) +
	       !!(s->flags & TH_FIN);
}

/* tcp_options(): window scale and SACK-permitted of a SYN or SYN/ACK. */
static void seg_options(const struct seg *s, struct ct_tcp_side *side)
{
	const uint8_t *p = s->opt;
	int length = (int)s->optlen;

	if (!length)
		return;
	side->td_scale = 0;
	side->flags &= IP_CT_TCP_FLAG_BE_LIBERAL;
	while (length > 0) {
		uint8_t code = *p++;
		int size;

		if (code == 0) /* end of options */
			return;
		if (code == 1) { /* nop */
			length--;
			continue;
		}
		if (length < 2)
			return;
		size = *p++;
		if (size < 2 || size > length)
			return;
		if (code == 4 && size == 2) {
			side->flags |= IP_CT_TCP_FLAG_SACK_PERM;
		} else if (code == 3 && size == 3) {
			side->td_scale = *p > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : *p;
			side->flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
		}
		p += size - 2;
		length -= size;
	}
}

/* tcp_sack(): raise *sack to the highest right edge of the first SACK option. */
static void seg_sack(const struct seg *s, uint32_t *sack)
{
	static const uint8_t tstamp_only[4] = {1, 1, 8, 10};
	const uint8_t *p = s->opt;
	int length = (int)s->optlen;

	if (!length)
		return;
	if (length == 12 && memcmp(p, tstamp_only, 4) == 0)
		return;
	while (length > 0) {
		uint8_t code = *p++;
		int size;

		if (code == 0)
			return;
		if (code == 1) {
			length--;
			continue;
		}
		if (length < 2)
			return;
		size = *p++;
		if (size < 2 || size > length)
			return;
		if (code == 5 && size >= 10 && (size - 2) % 8 == 0) {
			for (int i = 0; i < size - 2; i += 8) {
				uint32_t edge = ct_rd32(p + i + 4);

				if (after(edge, *sack))
					*sack = edge;
			}
			return;
		}
		p += size - 2;
		length -= size;
	}
}

static uint32_t max_ack_window(const struct ct_tcp_side *sender)
{
	return sender->td_maxwin > MAXACKWINCONST ? sender->td_maxwin : MAXACKWINCONST;
}

/* tcp_init_sender(): the first SYN/ACK (or a reply-direction SYN) sets up a side. */
static void side_init(struct ct_tcp_side *snd, struct ct_tcp_side *rcv, const struct seg *s,
		      uint32_t end, uint32_t win, unsigned dir)
{
	snd->td_end = snd->td_maxend = end;
	snd->td_maxwin = win ? win : 1;
	seg_options(s, snd);
	/* RFC 1323: scaling only when both sides offered it. */
	if (dir == IP_CT_DIR_REPLY && !(snd->flags & IP_CT_TCP_FLAG_WINDOW_SCALE &&
					rcv->flags & IP_CT_TCP_FLAG_WINDOW_SCALE)) {
		snd->td_scale = 0;
		rcv->td_scale = 0;
	}
}

/* nf_tcp_log_invalid(): a liberal sender (picked-up connection) is always accepted. */
static int window_verdict(const struct ct_tcp_side *snd, int ret)
{
	return (snd->flags & IP_CT_TCP_FLAG_BE_LIBERAL) ? W_ACCEPT : ret;
}

/* tcp_in_window(): is the segment inside the windows seen so far? Updates them. */
static int tcp_in_window(struct ct_tcp *st, unsigned dir, unsigned index, const struct seg *s)
{
	struct ct_tcp_side *snd = &st->seen[dir], *rcv = &st->seen[!dir];
	uint32_t seq = s->seq, ack = s->ack, sack = s->ack, win = s->win, end, swin;

	end = seg_end(s);
	if (rcv->flags & IP_CT_TCP_FLAG_SACK_PERM)
		seg_sack(s, &sack);

	if (snd->td_maxwin == 0) {
		if (s->flags & TH_SYN) {
			side_init(snd, rcv, s, end, win, dir);
			if (!(s->flags & TH_ACK)) /* simultaneous open */
				return W_ACCEPT;
		} else {
			/* Mid-stream: believe what the segment says. */
			snd->td_end = end;
			swin = win << snd->td_scale;
			snd->td_maxwin = swin ? swin : 1;
			snd->td_maxend = end + snd->td_maxwin;
			if (rcv->td_maxwin == 0)
				rcv->td_end = rcv->td_maxend = sack;
			else if (sack == rcv->td_end + 1)
				rcv->td_end++; /* reply to a keepalive */
		}
	} else if ((s->flags & TH_SYN) && after(end, snd->td_end) &&
		   (st->state == TCP_CONNTRACK_SYN_SENT || st->state == TCP_CONNTRACK_SYN_RECV)) {
		/* A re-sent SYN with a newer sequence number restarts this side. */
		side_init(snd, rcv, s, end, win, dir);
		if (dir == IP_CT_DIR_REPLY && !(s->flags & TH_ACK))
			return W_ACCEPT;
	}

	if (!(s->flags & TH_ACK)) {
		ack = sack = rcv->td_end;
	} else if ((s->flags & (TH_ACK | TH_RST)) == (TH_ACK | TH_RST) && ack == 0) {
		ack = sack = rcv->td_end; /* broken stacks: RST|ACK with ack 0 */
	}

	if ((s->flags & TH_RST) && seq == 0 && st->state == TCP_CONNTRACK_SYN_SENT)
		seq = end = snd->td_end; /* RST answering a SYN */

	if (!before(seq, snd->td_maxend + 1)) {
		uint32_t overshot = end - snd->td_maxend + 1;
		bool ack_ok = after(sack, rcv->td_end - max_ack_window(snd) - 1);
		bool in_recv_win = rcv->td_maxwin && after(end, snd->td_end - rcv->td_maxwin - 1);

		if (in_recv_win && ack_ok && overshot <= rcv->td_maxwin &&
		    before(sack, rcv->td_end + 1)) {
			/* More than the window allows, but remember it so that the
			 * peer's ACK of it is not refused later. */
			snd->td_end = end;
			snd->flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
			return window_verdict(snd, W_IGNORE);
		}
		return window_verdict(snd, W_INVALID); /* SEQ over upper bound */
	}
	if (!before(sack, rcv->td_end + 1))
		return window_verdict(snd, W_INVALID); /* ACK over upper bound */
	if (rcv->td_maxwin && !after(end, snd->td_end - rcv->td_maxwin - 1))
		return window_verdict(snd, W_IGNORE); /* SEQ under lower bound */
	if (!after(sack, rcv->td_end - max_ack_window(snd) - 1))
		return window_verdict(snd, W_IGNORE); /* ACK under lower bound */

	if (!(s->flags & TH_SYN))
		win <<= snd->td_scale;

	swin = win + (sack - ack);
	if (snd->td_maxwin < swin)
		snd->td_maxwin = swin;
	if (after(end, snd->td_end)) {
		snd->td_end = end;
		snd->flags |= IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;
	}
	if (s->flags & TH_ACK) {
		if (!(snd->flags & IP_CT_TCP_FLAG_MAXACK_SET)) {
			snd->td_maxack = ack;
			snd->flags |= IP_CT_TCP_FLAG_MAXACK_SET;
		} else if (after(ack, snd->td_maxack)) {
			snd->td_maxack = ack;
		}
	}

	if (rcv->td_maxwin != 0 && after(end, snd->td_maxend))
		rcv->td_maxwin += end - snd->td_maxend;
	if (after(sack + win, rcv->td_maxend - 1)) {
		rcv->td_maxend = sack + win;
		if (win == 0)
			rcv->td_maxend++;
	}
	if (ack == rcv->td_end)
		rcv->flags &= ~IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED;

	if (index == T_ACK) {
		if (st->last_dir == dir && st->last_seq == seq && st->last_ack == ack &&
		    st->last_end == end && st->last_win == s->win) {
			st->retrans++;
		} else {
			st->last_dir = (uint8_t)dir;
			st->last_seq = seq;
			st->last_ack = ack;
			st->last_end = end;
			st->last_win = s->win;
			st->retrans = 0;
		}
	}
	return W_ACCEPT;
}

/* nf_tcp_handle_invalid(): an out-of-window FIN/RST answering the other side's FIN/RST
 * shortens an assured connection's timeout to the "unacknowledged" one. */
static void tcp_handle_invalid(struct flt_ct_table *t, struct flt_ct_entry *e, unsigned dir,
			       unsigned index, uint64_t now)
{
	struct ct_tcp *st = &e->proto.tcp;
	uint64_t expires, unack = t->to.tcp[TCP_CONNTRACK_UNACK];

	if (!(e->status & IPS_ASSURED) || (e->status & IPS_FIXED_TIMEOUT))
		return;
	if (index != T_RST && index != T_FIN)
		return;
	if (st->last_dir != dir && (st->last_index == T_FIN || st->last_index == T_RST)) {
		expires = ct_expired(e, now) ? 0 : e->timeout - now;
		if (expires < 120 * CT_NSEC)
			return;
		if (expires > unack)
			e->timeout = now + unack;
	} else {
		st->last_index = (uint8_t)index;
		st->last_dir = (uint8_t)dir;
	}
}

/* tcp_error(): malformed header, bad checksum, or a flag combination no stack sends. */
static bool tcp_error(const struct seg *s)
{
	static const uint8_t valid[0x40] = {
		[TH_SYN] = 1,
		[TH_SYN | TH_URG] = 1,
		[TH_SYN | TH_ACK] = 1,
		[TH_RST] = 1,
		[TH_RST | TH_ACK] = 1,
		[TH_FIN | TH_ACK] = 1,
		[TH_FIN | TH_ACK | TH_URG] = 1,
		[TH_ACK] = 1,
		[TH_ACK | TH_URG] = 1,
	};
	uint32_t doff = (s->th[12] >> 4) * 4u;

	if (doff < 20 || s->v->len - s->dataoff < doff)
		return true;
	if (!s->v->first_frag && ct_checksum_bad(s->v, s->dataoff, IPPROTO_TCP))
		return true;
	return !valid[s->flags & ~(TH_ECE | TH_CWR | TH_PSH)];
}

/* tcp_new(): the first segment of an unconfirmed entry; false when it cannot open one. */
static bool tcp_new(struct flt_ct_entry *e, const struct seg *s)
{
	struct ct_tcp *st = &e->proto.tcp;
	uint8_t next = tcp_next[0][seg_index(s)][TCP_CONNTRACK_NONE];

	if (next >= TCP_CONNTRACK_MAX)
		return false;
	memset(st, 0, sizeof(*st));
	st->seen[0].td_end = seg_end(s);
	st->seen[0].td_maxwin = s->win ? s->win : 1;
	if (next == TCP_CONNTRACK_SYN_SENT) {
		st->seen[0].td_maxend = st->seen[0].td_end;
		seg_options(s, &st->seen[0]);
	} else {
		/* Picked up mid-stream (tcp_loose=1): assume SACK and be liberal, since
		 * the window scale is unknown. */
		st->seen[0].td_maxend = st->seen[0].td_end + st->seen[0].td_maxwin;
		st->seen[0].flags = st->seen[1].flags =
			IP_CT_TCP_FLAG_SACK_PERM | IP_CT_TCP_FLAG_BE_LIBERAL;
	}
	st->last_index = T_NONE;
	return true;
}

bool ct_tcp_can_early_drop(const struct flt_ct_entry *e)
{
	switch (e->proto.tcp.state) {
	case TCP_CONNTRACK_FIN_WAIT:
	case TCP_CONNTRACK_LAST_ACK:
	case TCP_CONNTRACK_TIME_WAIT:
	case TCP_CONNTRACK_CLOSE:
	case TCP_CONNTRACK_CLOSE_WAIT:
		return true;
	default:
		return false;
	}
}

static bool tcp_established(const struct ct_tcp *st)
{
	return st->state == TCP_CONNTRACK_ESTABLISHED;
}

/* The "ignored" path (sIG, and SYN_SENT after the fall-through from a refused re-open):
 * note the segment so a later SYN/ACK or RST can be recognised. Returns true when the
 * segment is a SYN/ACK answering a SYN ignored earlier, which resynchronises the entry
 * (then *old and *next are rewritten and the caller goes on). */
static bool tcp_ignored(struct ct_tcp *st, const struct seg *s, unsigned dir, unsigned index,
			uint8_t *old, uint8_t *next)
{
	if (index == T_SYNACK && st->last_index == T_SYN && st->last_dir != dir &&
	    s->ack == st->last_end) {
		struct ct_tcp_side *ls = &st->seen[st->last_dir], *me = &st->seen[dir];

		*old = TCP_CONNTRACK_SYN_SENT;
		*next = TCP_CONNTRACK_SYN_RECV;
		ls->td_end = ls->td_maxend = st->last_end;
		ls->td_maxwin = st->last_win ? st->last_win : 1;
		ls->td_scale = st->last_wscale;
		st->last_flags &= (uint8_t)~IP_CT_EXP_CHALLENGE_ACK;
		ls->flags = st->last_flags;
		me->td_end = me->td_maxend = me->td_maxwin = me->td_maxack = 0;
		me->td_scale = 0;
		me->flags &= IP_CT_TCP_FLAG_BE_LIBERAL;
		return true;
	}
	st->last_index = (uint8_t)index;
	st->last_dir = (uint8_t)dir;
	st->last_seq = s->seq;
	st->last_end = seg_end(s);
	st->last_win = s->win;
	if (index == T_SYN && dir == IP_CT_DIR_ORIGINAL) {
		struct ct_tcp_side seen = {0};

		st->last_flags = st->last_wscale = 0;
		seg_options(s, &seen);
		if (seen.flags & IP_CT_TCP_FLAG_WINDOW_SCALE) {
			st->last_flags |= IP_CT_TCP_FLAG_WINDOW_SCALE;
			st->last_wscale = seen.td_scale;
		}
		if (seen.flags & IP_CT_TCP_FLAG_SACK_PERM)
			st->last_flags |= IP_CT_TCP_FLAG_SACK_PERM;
		/* A challenge ACK may follow: it must not be taken for the last ACK. */
		if (*old == TCP_CONNTRACK_LAST_ACK)
			st->last_flags |= IP_CT_EXP_CHALLENGE_ACK;
	}
	if (*old == TCP_CONNTRACK_SYN_SENT && index == T_ACK && dir == IP_CT_DIR_REPLY)
		st->last_ack = s->ack; /* possible challenge ACK to the SYN */
	return false;
}

/* The RST rules of the CLOSE case: 1 accept without the window check, 0 go on to the
 * window check (with *next possibly kept at *old), -1 invalid. */
static int tcp_rst_check(const struct flt_ct_entry *e, const struct seg *s, unsigned dir,
			 uint8_t old, uint8_t *next)
{
	const struct ct_tcp *st = &e->proto.tcp;

	/* Closing already: the tuple may be reused, the old numbers mean nothing. */
	if (ct_tcp_can_early_drop(e))
		return 1;
	if ((st->seen[!dir].flags & IP_CT_TCP_FLAG_MAXACK_SET) && st->last_index != T_SYN) {
		uint32_t seq = s->seq;

		if (seq == 0 && !tcp_established(st))
			goto more;
		if (before(seq, st->seen[!dir].td_maxack))
			return -1;
		if (!tcp_established(st) || seq == st->seen[!dir].td_maxack)
			goto more;
		if (st->last_index == T_ACK && st->last_dir == dir && seq == st->last_end)
			goto more; /* RST right after the data it ends */
		*next = old;	   /* inexact RST: stay, a challenge ACK may follow */
	}
more:
	if ((((e->status & IPS_SEEN_REPLY) && st->last_index == T_SYN) ||
	     (!(e->status & IPS_ASSURED) && st->last_index == T_ACK)) &&
	    s->ack == st->last_end)
		return 1; /* RST to a SYN or ACK we let through while out of sync */
	if (old == TCP_CONNTRACK_SYN_SENT && st->last_index == T_ACK &&
	    st->last_dir == IP_CT_DIR_REPLY && s->seq == st->last_ack)
		return 1; /* RST answering a challenge ACK */
	return 0;
}

/* The timeout for the new state (end of nf_conntrack_tcp_packet). */
static uint64_t tcp_timeout(const struct flt_ct_table *t, const struct ct_tcp *st, uint8_t next,
			    unsigned index)
{
	const uint64_t *to = t->to.tcp;

	if (st->retrans >= TCP_MAX_RETRANS && to[next] > to[TCP_CONNTRACK_RETRANS])
		return to[TCP_CONNTRACK_RETRANS];
	if (index == T_RST)
		return to[TCP_CONNTRACK_CLOSE];
	if ((st->seen[0].flags | st->seen[1].flags) & IP_CT_TCP_FLAG_DATA_UNACKNOWLEDGED &&
	    to[next] > to[TCP_CONNTRACK_UNACK])
		return to[TCP_CONNTRACK_UNACK];
	if (st->last_win == 0 && to[next] > to[TCP_CONNTRACK_RETRANS])
		return to[TCP_CONNTRACK_RETRANS];
	return to[next];
}

/* nf_conntrack_tcp_packet(). */
enum ct_verdict ct_tcp_packet(struct flt_ct_table *t, struct flt_ct_entry *e,
			      const struct ct_view *v, uint32_t dataoff, uint8_t ctinfo,
			      uint64_t now)
{
	struct ct_tcp *st = &e->proto.tcp;
	unsigned dir = ctinfo >= IP_CT_IS_REPLY ? IP_CT_DIR_REPLY : IP_CT_DIR_ORIGINAL;
	unsigned index;
	uint8_t old, next;
	uint64_t timeout;
	struct seg s;
	int rst;

	s.v = v;
	s.dataoff = dataoff;
	s.th = ct_ptr(v, dataoff, 20);
	if (!s.th)
		return CT_INVALID;
	s.flags = s.th[13];
	if (tcp_error(&s))
		return CT_INVALID;
	s.optlen = (s.th[12] >> 4) * 4u - 20;
	s.opt = s.th + 20;
	s.seq = ct_rd32(s.th + 4);
	s.ack = ct_rd32(s.th + 8);
	s.win = ct_rd16(s.th + 14);

	if (!(e->status & IPS_CONFIRMED) && !tcp_new(e, &s))
		return CT_INVALID;

	old = st->state;
	index = seg_index(&s);
	next = tcp_next[dir][index][old];

	switch (next) {
	case TCP_CONNTRACK_SYN_SENT:
		if (old < TCP_CONNTRACK_TIME_WAIT)
			break;
		/* SYN over TIME_WAIT/CLOSE: a closed or aborted connection is re-opened by
		 * deleting the entry and looking up again. */
		if (((st->seen[dir].flags | st->seen[!dir].flags) & IP_CT_TCP_FLAG_CLOSE_INIT) ||
		    (st->last_dir == dir && st->last_index == T_RST))
			return CT_REPEAT;
		/* fall through */
	case TCP_CONNTRACK_IGNORE:
		if (tcp_ignored(st, &s, dir, index, &old, &next))
			break;
		return CT_ACCEPT;
	case TCP_CONNTRACK_MAX:
		return CT_INVALID;
	case TCP_CONNTRACK_TIME_WAIT:
		if (old == TCP_CONNTRACK_LAST_ACK && index == T_ACK && st->last_dir != dir &&
		    st->last_index == T_SYN && (st->last_flags & IP_CT_EXP_CHALLENGE_ACK)) {
			/* The challenge ACK to a SYN does not ACK the last FIN. */
			st->last_flags &= (uint8_t)~IP_CT_EXP_CHALLENGE_ACK;
			return CT_ACCEPT;
		}
		break;
	case TCP_CONNTRACK_SYN_SENT2:
		st->last_flags |= IP_CT_TCP_SIMULTANEOUS_OPEN;
		break;
	case TCP_CONNTRACK_SYN_RECV:
		if (dir == IP_CT_DIR_REPLY && index == T_ACK &&
		    (st->last_flags & IP_CT_TCP_SIMULTANEOUS_OPEN))
			next = TCP_CONNTRACK_ESTABLISHED;
		break;
	case TCP_CONNTRACK_CLOSE:
		if (index != T_RST)
			break;
		rst = tcp_rst_check(e, &s, dir, old, &next);
		if (rst < 0)
			return CT_INVALID;
		if (rst > 0)
			goto in_window;
		break;
	default:
		break;
	}

	switch (tcp_in_window(st, dir, index, &s)) {
	case W_IGNORE:
		return CT_ACCEPT;
	case W_INVALID:
		tcp_handle_invalid(t, e, dir, index, now);
		return CT_INVALID;
	default:
		break;
	}
in_window:
	st->last_index = (uint8_t)index;
	st->last_dir = (uint8_t)dir;
	st->state = next;
	if (old != next && next == TCP_CONNTRACK_FIN_WAIT)
		st->seen[dir].flags |= IP_CT_TCP_FLAG_CLOSE_INIT;
	timeout = tcp_timeout(t, st, next, index);

	if (!(e->status & IPS_SEEN_REPLY)) {
		/* A RST as the only answer: no connection, forget it now. */
		if (s.flags & TH_RST) {
			ct_kill(t, e, true);
			return CT_ACCEPT;
		}
		/* A retransmitted SYN does not extend the entry's life. */
		if (index == T_SYN && old == TCP_CONNTRACK_SYN_SENT)
			return CT_ACCEPT;
		/* Picked up mid-stream, never answered: keep the timeout short. */
		if (next == TCP_CONNTRACK_ESTABLISHED && timeout > t->to.tcp[TCP_CONNTRACK_UNACK])
			timeout = t->to.tcp[TCP_CONNTRACK_UNACK];
	} else if (!(e->status & IPS_ASSURED) &&
		   (old == TCP_CONNTRACK_SYN_RECV || old == TCP_CONNTRACK_ESTABLISHED) &&
		   next == TCP_CONNTRACK_ESTABLISHED) {
		e->status |= IPS_ASSURED;
	}
	ct_refresh(e, timeout, now);
	return CT_ACCEPT;
}
