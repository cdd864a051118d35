/* Every command of the CLI, one file each (appliance/cmd_*.c). */
#ifndef VIFWALL_APPLIANCE_COMMANDS_H
#define VIFWALL_APPLIANCE_COMMANDS_H

#include "appliance/cli.h"

extern const struct app_cmd app_cmd_check;
extern const struct app_cmd app_cmd_replay;
extern const struct app_cmd app_cmd_load;
extern const struct app_cmd app_cmd_show;
extern const struct app_cmd app_cmd_ports;
extern const struct app_cmd app_cmd_stats;
extern const struct app_cmd app_cmd_reattach;
extern const struct app_cmd app_cmd_capture;
extern const struct app_cmd app_cmd_trace;

#endif
