/*
 * What carries control messages: a connected byte stream behind a tiny ops table.
 * The unix-socket one is here; the libxenvchan one (ctl_transport_vchan.c) maps:
 *
 *   read/write  libxenvchan_read()/libxenvchan_write() on a nonblocking vchan
 *               (ctrl->blocking = 0), mapping 0 to -EAGAIN and a closed
 *               vchan (!libxenvchan_is_open()) to end of stream;
 *   fd          libxenvchan_fd_for_select();
 *   notify      libxenvchan_wait(), which poll's caller must run once the event
 *               fd is readable, before reading or writing;
 *   out_events  POLLIN: a vchan reports room to write as an event on its one fd.
 *
 * A vchan server has a single peer, so it is not a listener: vifwalld creates the
 * vchan (ctl_transport_vchan.c, dom0 only) and hands it to
 * app_ctl_server_add_transport(), making a fresh one when that connection ends
 * (daemon_vchan.c).
 */
#ifndef VIFWALL_APPLIANCE_CTL_TRANSPORT_H
#define VIFWALL_APPLIANCE_CTL_TRANSPORT_H

#include <sys/types.h>

struct app_ctl_transport;

struct app_ctl_transport_ops {
	const char *name; /* "unix", "vchan": for logs */
	/*
	 * Move up to @len bytes without blocking. Return how many (> 0), -EAGAIN when
	 * nothing can move now, or -errno. read returns 0 at the end of the stream.
	 */
	ssize_t (*read)(struct app_ctl_transport *t, void *buf, size_t len);
	ssize_t (*write)(struct app_ctl_transport *t, const void *buf, size_t len);
	/* The descriptor to poll. */
	int (*fd)(const struct app_ctl_transport *t);
	/* Called after poll reported activity on fd (may be NULL). */
	void (*notify)(struct app_ctl_transport *t);
	/* Close and free the transport. */
	void (*close)(struct app_ctl_transport *t);
	/* poll events that mean "output can move", e.g. POLLOUT. */
	short out_events;
};

/* Implementations embed this first and free the whole in ops->close. */
struct app_ctl_transport {
	const struct app_ctl_transport_ops *ops;
	char peer[64]; /* who is on the other end, for logs ("uid 0 pid 42") */
};

/*
 * Wrap a connected stream socket @fd (made nonblocking here). The transport owns
 * @fd from now on, also on failure. Returns 0 and sets *@out (freed by
 * app_ctl_transport_close()), or -ENOMEM or -errno from fcntl.
 */
int app_ctl_transport_unix_new(int fd, struct app_ctl_transport **out);

/* Close and free @t; NULL is a no-op. */
void app_ctl_transport_close(struct app_ctl_transport *t);

#endif
