/* vifwall ports: the ports vifwalld forwards between, with their traffic. */
#include <stdio.h>

#include "appliance/commands.h"

static int ports_run(const struct app_global_opts *g, int argc, char **argv)
{
	json_t *res, *p;
	size_t i;

	(void)argv;
	if (argc != 1) {
		app_cmd_print_help(&app_cmd_ports, stderr);
		return 2;
	}
	if (app_cli_call(g, "ports", NULL, &res))
		return 1;
	printf("%-16s %-7s %-9s %12s %12s %10s\n", "PORT", "ROLE", "ANTISPOOF", "RX-PACKETS",
	       "TX-PACKETS", "DROPS");
	json_array_foreach(json_object_get(res, "ports"), i, p)
	{
		printf("%-16s %-7s %-9s %12lld %12lld %10lld\n",
		       json_string_value(json_object_get(p, "name")),
		       json_string_value(json_object_get(p, "role")),
		       json_is_true(json_object_get(p, "antispoof")) ? "on" : "off",
		       json_integer_value(json_object_get(p, "rx_packets")),
		       json_integer_value(json_object_get(p, "tx_packets")),
		       json_integer_value(json_object_get(p, "drops")));
	}
	json_decref(res);
	return 0;
}

const struct app_cmd app_cmd_ports = {
	.name = "ports",
	.summary = "list the ports (guest vifs and the uplink) with their traffic",
	.usage = "ports",
	.help = "",
	.run = ports_run,
};
