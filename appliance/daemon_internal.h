/*
 * The inside of vifwalld's struct app_daemon, shared by daemon.c (life and loop)
 * and daemon_ctl.c (the control socket's commands). Everything here is touched only
 * from the loop's thread.
 */
#ifndef VIFWALL_APPLIANCE_DAEMON_INTERNAL_H
#define VIFWALL_APPLIANCE_DAEMON_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "appliance/ctl_server.h"
#include "appliance/daemon.h"
#include "appliance/hotplug.h"

struct flt_ct_table;
struct flt_ruleset;

struct app_daemon {
	const struct app_daemon_config *cfg;
	const struct flt_logger *log;
	const char *port_names[NB_MAX_PORTS + 1]; /* NULL-terminated, for the loader */
	struct flt_ruleset *rs;
	struct flt_ct_table *ct;
	struct nb_bridge *br;
	unsigned workers;		/* forwarding threads running */
	struct nb_port_config port_cfg; /* one worker's handle on a port: its ring share */
	int sigfd;
	struct app_ctl_server *ctl;	/* NULL without --ctl */
	struct app_hotplug *hp;		/* NULL outside a Xen domain */
	struct app_daemon_vchan *vchan; /* dom0's control channel; NULL outside Xen */
	/* The running ruleset as the operator wrote it, for `vifwall show`. */
	char *rules_text, *rules_name;
	uint64_t generation; /* rulesets installed so far */
	time_t loaded_at;
	struct app_taps *taps;	      /* captures and traces (daemon_capture.c); NULL before one */
	struct app_daemon_load *load; /* a ruleset compiling in a thread; NULL when none */
};

/* Load and compile the nft file @path with the daemon's port names. Returns 0 and
 * *out, or -errno and *err (malloc'd, the caller frees) with nft's file:line. */
int app_daemon_rules_compile(struct app_daemon *d, const char *path, struct flt_ruleset **out,
			     char **err);

/* Keep the text of @path (as @name) as the running ruleset's source. Returns 0 or
 * -errno; on failure the previous text stays. */
int app_daemon_rules_remember(struct app_daemon *d, const char *path, const char *name);

/* The whole file @path as a string (malloc'd), or NULL. Thread-safe. */
char *app_daemon_file_text(const char *path);

/* The same with the text itself (taken over, also on failure). */
int app_daemon_rules_remember_text(struct app_daemon *d, char *text, const char *name);

/*
 * Compile @path in a worker thread (daemon_load.c) while the loop forwards; when
 * app_daemon_load_fd() polls readable, app_daemon_load_finish() swaps the result in
 * (or logs nft's error, leaving the running ruleset) and answers @reply, the
 * `vifwall load` request (deferred; NULL for SIGHUP). @tmpdir, when set, holds only
 * @path and goes when the compile is done; @name is what the user calls the file.
 * Returns 0, -EBUSY while another load runs, or -errno (nothing started).
 */
int app_daemon_load_start(struct app_daemon *d, const char *path, const char *tmpdir,
			  const char *name, struct app_ctl_reply *reply);
int app_daemon_load_fd(const struct app_daemon *d);
void app_daemon_load_finish(struct app_daemon *d);
/* Wait for a load in flight and drop it; after the control server is freed. */
void app_daemon_load_free(struct app_daemon *d);

/* Install @rs (the daemon owns it) and free the previous ruleset. */
void app_daemon_rules_swap(struct app_daemon *d, struct flt_ruleset *rs);

/* Serve the control protocol on unix socket @path (NULL: no socket, only transports
 * added later, such as the vchan). Returns 0 or -errno (logged). */
int app_daemon_ctl_open(struct app_daemon *d, const char *path);

/* The control channel for dom0 (daemon_vchan.c): start offering it (in a Xen
 * domain, with d->ctl set), offer a new one after each connection, free it after
 * d->ctl. */
int app_daemon_vchan_start(struct app_daemon *d);
void app_daemon_vchan_tick(struct app_daemon *d);
void app_daemon_vchan_free(struct app_daemon *d);

/* `vifwall capture` and `vifwall trace` (daemon_capture.c): the commands; after every
 * round of the loop, send what the taps kept; free them after the server. */
int app_daemon_ctl_capture(void *arg, json_t *args, struct app_ctl_reply *reply);
int app_daemon_ctl_trace(void *arg, json_t *args, struct app_ctl_reply *reply);
void app_daemon_taps_drain(struct app_daemon *d);
void app_daemon_taps_free(struct app_daemon *d);

#endif
