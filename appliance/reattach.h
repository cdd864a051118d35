/*
 * dom0's half of the appliance's recovery. xl does not re-attach a vif whose backend
 * domain died: the guest keeps a frontend pointing at a domain that is gone. This
 * module records, while the appliance runs, every vif it serves (guest, devid, and the
 * vif's settings from the backend directory), keeps the record in a state file, and
 * when a domain of the appliance's name is back and its vifwalld is up, detaches each
 * stale vif and attaches it again with the recorded settings, through `xl` (libxl's C
 * interface is not a stable API; xl's command line is).
 */
#ifndef VIFWALL_APPLIANCE_REATTACH_H
#define VIFWALL_APPLIANCE_REATTACH_H

#include <stdbool.h>

#define APP_REATTACH_STATE "/var/lib/vifwall/reattach.json"

struct app_reattach_opts {
	const char *appliance; /* the appliance's domain name ("vifwall") */
	const char *state;     /* the record (APP_REATTACH_STATE) */
	const char *xl;	       /* the xl program ("xl") */
	bool watch;	       /* run as the service: until killed */
	bool verbose;
};

/* One pass (record, re-attach what is stale), or the service loop with @o->watch.
 * Returns the process exit status: 0, or 1 after printing what failed. */
int app_reattach_run(const struct app_reattach_opts *o);

#endif
