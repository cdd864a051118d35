/*
 * vifwalld: the appliance daemon. main() only wires the parts of appliance/daemon.h
 * together: parse the command line, block the signals the daemon reads from its
 * signalfd, start, run until SIGTERM/SIGINT, log the final counters, free.
 * Exit status: 0 after a clean stop, 1 when it could not start or the loop failed,
 * 2 for a bad command line or configuration file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "appliance/daemon.h"

static void log_stderr(void *arg, int level, const char *msg)
{
	(void)arg;
	fprintf(stderr, "vifwalld: %s%s\n",
		level <= LOG_ERR       ? "error: "
		: level == LOG_WARNING ? "warning: "
				       : "",
		msg);
}

int main(int argc, char **argv)
{
	static struct app_daemon_config cfg; /* big: ports with their addresses */
	struct flt_logger log = {.fn = log_stderr, .max_level = LOG_INFO};
	struct app_daemon *d;
	sigset_t sigs;
	int rc;

	rc = app_daemon_args_parse(argc, argv, &cfg);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (cfg.verbosity)
		log.max_level = LOG_DEBUG;
	/* Line-buffered even into a file, so a supervisor or a test sees each line. */
	setvbuf(stderr, NULL, _IOLBF, 0);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (app_daemon_start(&cfg, &log, &d) < 0)
		return 1;
	rc = app_daemon_run(d);
	app_daemon_log_stats(d);
	app_daemon_free(d);
	return rc < 0 ? 1 : 0;
}
