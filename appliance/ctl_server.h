/*
 * The control server vifwalld embeds in its own poll loop. The daemon declares its
 * commands in a table, opens the server, and on every loop turn asks for the fds to
 * poll and hands back what poll said. Everything is nonblocking: a slow or dead
 * client costs a bounded output queue and is dropped when that overflows.
 *
 *	static const struct app_ctl_command cmds[] = {
 *		{"load", ctl_load},
 *		{"trace", ctl_trace},
 *	};
 *	struct app_ctl_server_config cfg = {cmds, 2, daemon, &daemon->log};
 *	app_ctl_server_open_unix("/run/vifwall/ctl", &cfg, &srv);
 *	for (;;) {
 *		n = app_ctl_server_pollfds(srv, fds, max);   (plus the daemon's own fds)
 *		poll(fds, n, timeout);
 *		app_ctl_server_handle(srv, fds, n);
 *	}
 *
 * The server is not thread-safe: call every function, stream writes included, from
 * the thread that runs the loop.
 */
#ifndef VIFWALL_APPLIANCE_CTL_SERVER_H
#define VIFWALL_APPLIANCE_CTL_SERVER_H

#include <poll.h>
#include <stddef.h>

#include <jansson.h>

#include "appliance/ctl_proto.h"
#include "appliance/ctl_transport.h"
#include "filters/log.h"

struct app_ctl_server;
struct app_ctl_reply;  /* a handler's answer being built */
struct app_ctl_stream; /* chunks flowing back to one client */

/*
 * Runs one command. @args is the request's "args" object (never NULL; borrowed for
 * the call). Answer through @reply: app_ctl_reply_result(), app_ctl_reply_error() or
 * app_ctl_reply_stream(). Return 0, or -errno: without an error text set, the client
 * is told "CMD: strerror(errno)".
 */
typedef int (*app_ctl_handler_fn)(void *arg, json_t *args, struct app_ctl_reply *reply);

struct app_ctl_command {
	const char *name;	/* what "cmd" says */
	app_ctl_handler_fn run; /* called with the config's arg */
};

struct app_ctl_server_config {
	const struct app_ctl_command *commands;
	size_t n_commands;
	void *arg;		      /* passed to every handler */
	const struct flt_logger *log; /* NULL logs to stderr */
	size_t max_clients;	      /* 0: 16 */
	size_t max_msg;		      /* largest body either way; 0: APP_CTL_MAX_MSG */
	size_t max_out;		      /* per-client output queue; at least 2 * max_msg */
};

/*
 * Create a server with no listener (add one with app_ctl_server_listen_unix(), or
 * connections with app_ctl_server_add_transport()). @cfg and its command table are
 * borrowed and must outlive the server. Returns 0 and sets *@out (free with
 * app_ctl_server_free()), or -EINVAL, -ENOMEM.
 */
int app_ctl_server_new(const struct app_ctl_server_config *cfg, struct app_ctl_server **out);

/*
 * Listen on the unix socket @path: creates its directory (0700) when missing,
 * replaces a stale socket nobody answers on, and makes the socket 0600 so that only
 * root (vifwalld's user) may control the appliance.
 * Returns 0; -EADDRINUSE when a live server answers on @path; -EEXIST when @path
 * exists and is not a socket; -ENAMETOOLONG; -EBUSY when already listening; or
 * -errno from mkdir/socket/bind/listen. Each failure is logged with the path.
 */
int app_ctl_server_listen_unix(struct app_ctl_server *srv, const char *path);

/* app_ctl_server_new() then app_ctl_server_listen_unix(); on failure *@out is unset. */
int app_ctl_server_open_unix(const char *path, const struct app_ctl_server_config *cfg,
			     struct app_ctl_server **out);

/*
 * Serve one already-connected transport (a vchan, a socketpair end in tests). The
 * server owns @t from now on, also on failure. Returns 0, -EMFILE when max_clients
 * are connected (@t is closed), or -ENOMEM.
 */
int app_ctl_server_add_transport(struct app_ctl_server *srv, struct app_ctl_transport *t);

/*
 * Close every connection (cancelling their streams), the listener, and remove the
 * socket file if it is still the one this server created. NULL is a no-op.
 */
void app_ctl_server_free(struct app_ctl_server *srv);

/* How many pollfds app_ctl_server_pollfds() may fill at most right now. */
size_t app_ctl_server_pollfd_count(const struct app_ctl_server *srv);

/*
 * Fill up to @max entries of @fds with what to poll (fd and events; revents zeroed).
 * Call it before every poll: the set changes as clients come, go, and have output.
 * It first closes clients dropped since the last call, which runs their streams'
 * cancel callbacks. Returns how many entries were filled.
 */
size_t app_ctl_server_pollfds(struct app_ctl_server *srv, struct pollfd *fds, size_t max);

/*
 * Act on poll's results: accept, read and answer requests (running handlers),
 * flush output, close finished or broken connections. @fds may hold the daemon's
 * own entries too; those are ignored. Returns 0, or -errno when the listener
 * itself failed (connections are unaffected).
 */
int app_ctl_server_handle(struct app_ctl_server *srv, const struct pollfd *fds, size_t n);

/* Connected clients right now. */
size_t app_ctl_server_clients(const struct app_ctl_server *srv);

/* Answer with @result (stolen; NULL gives JSON null). */
void app_ctl_reply_result(struct app_ctl_reply *reply, json_t *result);

/*
 * Answer with an error the user can act on (printf format). Returns -EINVAL so a
 * handler can `return app_ctl_reply_error(reply, "no port '%s'", name);`.
 */
int app_ctl_reply_error(struct app_ctl_reply *reply, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Called once when a stream's client goes away before app_ctl_stream_end(). */
typedef void (*app_ctl_stream_cancel_fn)(void *arg, struct app_ctl_stream *stream);

/*
 * Turn this request into a stream: the ok reply carrying @result (stolen; may be
 * NULL) is queued now with APP_CTL_F_STREAM, and chunks may follow at once or
 * later. Keep *@out until app_ctl_stream_end() or until @cancel(@cancel_arg, stream)
 * is called; after either, the pointer is gone. Once this succeeded the handler
 * should return 0; returning an error ends the stream with it (and @cancel is not
 * called). Returns 0, -EBUSY if called twice, -ENOMEM, or -EPIPE when the client
 * is already being dropped.
 */
int app_ctl_reply_stream(struct app_ctl_reply *reply, json_t *result,
			 app_ctl_stream_cancel_fn cancel, void *cancel_arg,
			 struct app_ctl_stream **out);

/*
 * Queue @len bytes as one raw chunk. Returns 0; -ENOBUFS when the client's queue
 * is more than half full: the chunk is not sent, the stream goes on, and the caller
 * counts the loss (as a capture counts drops); -EMSGSIZE above the message limit;
 * -EPIPE when the client is going away (cancel will follow); -ENOMEM.
 */
int app_ctl_stream_write(struct app_ctl_stream *stream, const void *data, size_t len);

/* Like app_ctl_stream_write() with a JSON object chunk (@obj borrowed). */
int app_ctl_stream_write_json(struct app_ctl_stream *stream, const json_t *obj);

/*
 * End the stream: success with @result (borrowed; may be NULL) when @error is NULL,
 * else failure with @error. The stream pointer is gone afterwards; the connection
 * goes on serving requests.
 */
void app_ctl_stream_end(struct app_ctl_stream *stream, json_t *result, const char *error);

/*
 * Answer later: for a handler whose work finishes after it returns (a ruleset
 * compiling in a thread, so the data plane never waits for it). Nothing is sent now;
 * the client gets one ordinary reply, from app_ctl_deferred_finish(), and meanwhile
 * other requests on its connection are told "busy". Keep *@out until then or until
 * @cancel(@cancel_arg, d) says the client went away; after either the pointer is
 * gone. The handler returns 0 after this succeeded. Returns 0, or -EBUSY when the
 * reply is already streamed or deferred.
 */
int app_ctl_reply_defer(struct app_ctl_reply *reply, app_ctl_stream_cancel_fn cancel,
			void *cancel_arg, struct app_ctl_stream **out);

/* Send a deferred reply: @result (stolen; NULL gives JSON null), or @error when not
 * NULL (then @result is released). */
void app_ctl_deferred_finish(struct app_ctl_stream *d, json_t *result, const char *error);

#endif
