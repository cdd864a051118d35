/*
 * flt_log(): format once, hand to the logger's sink. Messages are short-lived
 * diagnostics, so a fixed buffer is enough and nothing is allocated.
 */
#define _GNU_SOURCE /* vasprintf */
#include <stdio.h>
#include <stdlib.h>

#include "filters/log.h"

void flt_vlog(const struct flt_logger *lg, int level, const char *fmt, va_list ap)
{
	char msg[1024];

	if (lg && level > lg->max_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg && lg->fn)
		lg->fn(lg->arg, level, msg);
	else
		fprintf(stderr, "%s\n", msg);
}

void flt_log(const struct flt_logger *lg, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flt_vlog(lg, level, fmt, ap);
	va_end(ap);
}

void flt_err_set(char **err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	free(*err);
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}
