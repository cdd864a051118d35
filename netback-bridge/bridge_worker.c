/*
 * Worker threads 1..n-1 of the bridge, and how the loop's thread (worker 0) parks
 * them while it changes what they share (ports, taps, the ruleset it frees).
 *
 * A worker sleeps in poll() on its own handles of every port and on an eventfd, then
 * takes turns over the ports like worker 0 (nb_worker_round). Parking is checked at
 * the start of every turn, so a pause waits for at most one turn of each worker; a
 * parked worker holds nothing (no frame, no ruleset), which is what makes a pause
 * also a grace period for freeing a swapped-out ruleset.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "netback-bridge/bridge_internal.h"

void nb_worker_park(struct nb_worker *w)
{
	struct nb_bridge *br = w->br;

	pthread_mutex_lock(&br->park_lock);
	br->parked++;
	pthread_cond_signal(&br->parked_cv);
	while (atomic_load_explicit(&br->pause, memory_order_acquire))
		pthread_cond_wait(&br->resume_cv, &br->park_lock);
	br->parked--;
	pthread_mutex_unlock(&br->park_lock);
}

static void worker_wake(struct nb_worker *w)
{
	uint64_t one = 1;

	/* The counter only grows; a full one (never, at 2^64) would still wake it. */
	if (write(w->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("vifwalld: worker wake");
}

void nb_bridge_pause(struct nb_bridge *br)
{
	if (br->nworkers < 2)
		return;
	atomic_store_explicit(&br->pause, true, memory_order_release);
	for (unsigned i = 1; i < br->nworkers; i++)
		worker_wake(&br->workers[i]);
	pthread_mutex_lock(&br->park_lock);
	while (br->parked < br->nworkers - 1)
		pthread_cond_wait(&br->parked_cv, &br->park_lock);
	pthread_mutex_unlock(&br->park_lock);
}

void nb_bridge_resume(struct nb_bridge *br)
{
	if (br->nworkers < 2)
		return;
	pthread_mutex_lock(&br->park_lock);
	atomic_store_explicit(&br->pause, false, memory_order_release);
	pthread_cond_broadcast(&br->resume_cv);
	pthread_mutex_unlock(&br->park_lock);
}

static void worker_drain_wake(struct nb_worker *w)
{
	uint64_t n;

	if (read(w->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		perror("vifwalld: worker wake");
}

static void *worker_main(void *arg)
{
	struct nb_worker *w = arg;
	struct nb_bridge *br = w->br;

	while (!atomic_load_explicit(&br->stop, memory_order_acquire)) {
		unsigned np;

		if (atomic_load_explicit(&br->pause, memory_order_acquire)) {
			nb_worker_park(w);
			continue;
		}
		/* The port set only changes while this worker is parked. */
		np = br->nports;
		for (unsigned i = 0; i < np; i++)
			w->pfd[i] = (struct pollfd){.fd = nb_port_poll_fd(w->ports[i].port),
						    .events = POLLIN};
		w->pfd[np] = (struct pollfd){.fd = w->wake_fd, .events = POLLIN};
		if (poll(w->pfd, np + 1, -1) < 0) {
			if (errno != EINTR)
				perror("vifwalld: worker poll");
			continue;
		}
		if (w->pfd[np].revents & POLLIN)
			worker_drain_wake(w);
		nb_worker_round(w);
	}
	return NULL;
}

int nb_workers_start(struct nb_bridge *br)
{
	sigset_t all, old;
	int rc = 0;

	/* Signals are the caller's business (its loop waits for them): workers block all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 1; i < br->nworkers; i++) {
		struct nb_worker *w = &br->workers[i];
		char name[16];

		w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->wake_fd < 0) {
			rc = -errno;
			break;
		}
		rc = -pthread_create(&w->thread, NULL, worker_main, w);
		if (rc < 0) {
			close(w->wake_fd);
			w->wake_fd = -1;
			break;
		}
		snprintf(name, sizeof(name), "vifwall-w%u", i % 100);
		pthread_setname_np(w->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0)
		nb_workers_stop(br);
	return rc;
}

void nb_workers_stop(struct nb_bridge *br)
{
	atomic_store_explicit(&br->stop, true, memory_order_release);
	for (unsigned i = 1; i < br->nworkers; i++) {
		struct nb_worker *w = &br->workers[i];

		if (w->wake_fd < 0)
			continue;
		worker_wake(w);
		pthread_join(w->thread, NULL);
		close(w->wake_fd);
		w->wake_fd = -1;
	}
}
