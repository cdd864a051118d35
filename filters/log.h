/*
 * One logging function with levels for every part of vifwall. Who logs holds a
 * struct flt_logger (no globals); the daemon routes it to syslog or the control
 * channel, the CLI to stderr, tests to a buffer they inspect.
 */
#ifndef VIFWALL_FILTERS_LOG_H
#define VIFWALL_FILTERS_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */

struct flt_logger {
	/* Receives one formatted message, without a trailing newline. */
	void (*fn)(void *arg, int level, const char *msg);
	void *arg;
	int max_level; /* messages above this level are dropped */
};

/* Log one message through @lg. A NULL @lg or NULL lg->fn writes to stderr. */
void flt_log(const struct flt_logger *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void flt_vlog(const struct flt_logger *lg, int level, const char *fmt, va_list ap);

/*
 * Replace *@err (freed first) with a malloc'd message for the user; the caller frees
 * it. Does nothing when @err is NULL; leaves *err NULL when out of memory.
 */
void flt_err_set(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
