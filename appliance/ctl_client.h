/*
 * The control client the CLI uses to talk to vifwalld: connect, call a command and
 * get its result, or open a stream (capture, trace) and read its chunks. Calls
 * block, with an inactivity timeout. Every failure comes with a message for the
 * user in *errmsg (allocated; the caller frees it; pass NULL to not get one).
 */
#ifndef VIFWALL_APPLIANCE_CTL_CLIENT_H
#define VIFWALL_APPLIANCE_CTL_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "appliance/ctl_transport.h"

#define APP_CTL_DEFAULT_SOCKET "/run/vifwall/ctl"

struct app_ctl_client;

/* One stream chunk: either raw bytes (@data, @len) or a JSON object (@json). */
struct app_ctl_chunk {
	uint8_t *data;
	size_t len;
	json_t *json;
};

/*
 * Connect to vifwalld's unix socket @path. Returns 0 and sets *@out (free with
 * app_ctl_client_free()); or -ENOENT (no socket: "is vifwalld running?"),
 * -ECONNREFUSED (a stale socket), -EACCES (not allowed: the socket is root's),
 * -ENAMETOOLONG, -ENOMEM, or another -errno, each with *@errmsg saying so.
 */
int app_ctl_client_connect_unix(const char *path, struct app_ctl_client **out, char **errmsg);

/*
 * Make a client over an already connected transport (a vchan, a socketpair end).
 * The client owns @t from now on, also on failure. Returns 0 or -ENOMEM.
 */
int app_ctl_client_new(struct app_ctl_transport *t, struct app_ctl_client **out);

/* Close the connection and free @c; NULL is a no-op. */
void app_ctl_client_free(struct app_ctl_client *c);

/*
 * Give up when vifwalld sends nothing for @ms milliseconds while a reply is due;
 * -1 waits forever. The default is 60 seconds (a big ruleset takes a while to
 * compile). Stream chunks always wait forever: a quiet trace is not an error.
 */
void app_ctl_client_set_timeout(struct app_ctl_client *c, int ms);

/*
 * Let a signal handler stop a wait: once *@flag is nonzero, a call interrupted by a
 * signal returns -EINTR (the client is then unusable: free it), e.g. Ctrl-C ending
 * a capture. NULL (the default) retries interrupted waits.
 */
void app_ctl_client_set_interrupt(struct app_ctl_client *c, volatile sig_atomic_t *flag);

/*
 * Run @cmd with @args (a JSON object, borrowed; NULL for none) and wait for its reply.
 * Returns 0 and sets *@result (a new reference: json_decref() it; JSON null when
 * the command returns nothing); -EREMOTEIO when vifwalld answered with an error
 * (*@errmsg is its message); -EPROTO when the command streams (use
 * app_ctl_client_call_stream()) or vifwalld's answer was malformed; -EMSGSIZE when
 * the request is above the message limit; -ETIMEDOUT; -ECONNRESET when vifwalld
 * closed the connection; -EBUSY while a stream is open; or another -errno.
 * After -EPROTO, -ETIMEDOUT or -ECONNRESET the client is unusable: free it.
 */
int app_ctl_client_call(struct app_ctl_client *c, const char *cmd, json_t *args, json_t **result,
			char **errmsg);

/*
 * Like app_ctl_client_call() for a command that streams (capture, trace). On 0 the
 * stream is open and *@result holds the first reply's result; read chunks with
 * app_ctl_client_stream_next() until it returns 0 or an error. A command that
 * answers without a stream gives 0 too, and the stream is then already over.
 */
int app_ctl_client_call_stream(struct app_ctl_client *c, const char *cmd, json_t *args,
			       json_t **result, char **errmsg);

/*
 * Wait for the stream's next chunk. Returns 1 with *@chunk filled (the caller owns
 * it: app_ctl_chunk_clear()); 0 when the stream ended well, with *@end_result (if
 * @end_result is not NULL) a new reference to its summary; -EREMOTEIO when it ended
 * with an error (*@errmsg); -EINVAL when no stream is open; -ECONNRESET, -EPROTO or
 * another -errno when the connection failed.
 */
int app_ctl_client_stream_next(struct app_ctl_client *c, struct app_ctl_chunk *chunk,
			       json_t **end_result, char **errmsg);

/* Free what @chunk holds and zero it. */
void app_ctl_chunk_clear(struct app_ctl_chunk *chunk);

#endif
