/*
 * vifwall stats [--json | --prometheus]: counters of ports (with drop reasons), the
 * MAC table, the connection tracker, the flow cache, the running ruleset and
 * vifwalld's memory.
 * --prometheus prints the text exposition format, for a node exporter's textfile
 * collector or any scraper.
 */
#include <stdio.h>
#include <string.h>

#include "appliance/commands.h"

static long long num(json_t *o, const char *path1, const char *key)
{
	return json_integer_value(json_object_get(path1 ? json_object_get(o, path1) : o, key));
}

static void metric_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void print_port_metric(json_t *ports, const char *name, const char *key, const char *help)
{
	json_t *p;
	size_t i;

	metric_head(name, "counter", help);
	json_array_foreach(ports, i, p)
		printf("%s{port=\"%s\"} %lld\n", name,
		       json_string_value(json_object_get(p, "name")), num(p, NULL, key));
}

static void print_prometheus(json_t *res)
{
	json_t *ports = json_object_get(res, "ports"), *p, *v;
	const char *reason;
	size_t i;

	print_port_metric(ports, "vifwall_port_rx_packets_total", "rx_packets",
			  "Frames received on the port.");
	print_port_metric(ports, "vifwall_port_rx_bytes_total", "rx_bytes",
			  "Bytes received on the port.");
	print_port_metric(ports, "vifwall_port_tx_packets_total", "tx_packets",
			  "Frames sent on the port.");
	print_port_metric(ports, "vifwall_port_tx_bytes_total", "tx_bytes",
			  "Bytes sent on the port.");
	metric_head("vifwall_port_drops_total", "counter", "Frames dropped, by reason.");
	json_array_foreach(ports, i, p)
	{
		json_object_foreach(json_object_get(p, "drop_reasons"), reason, v)
			printf("vifwall_port_drops_total{port=\"%s\",reason=\"%s\"} %lld\n",
			       json_string_value(json_object_get(p, "name")), reason,
			       json_integer_value(v));
	}
	metric_head("vifwall_mac_table_entries", "gauge", "Entries in the MAC table.");
	printf("vifwall_mac_table_entries %lld\n", num(res, "mac_table", "entries"));
	metric_head("vifwall_conntrack_entries", "gauge", "Connections tracked.");
	printf("vifwall_conntrack_entries %lld\n", num(res, "conntrack", "entries"));
	metric_head("vifwall_conntrack_max_entries", "gauge", "Size of the connection table.");
	printf("vifwall_conntrack_max_entries %lld\n", num(res, "conntrack", "max_entries"));
	metric_head("vifwall_conntrack_early_drops_total", "counter",
		    "Unassured connections evicted to make room.");
	printf("vifwall_conntrack_early_drops_total %lld\n", num(res, "conntrack", "early_drops"));
	metric_head("vifwall_conntrack_table_full_drops_total", "counter",
		    "Packets dropped because the connection table was full.");
	printf("vifwall_conntrack_table_full_drops_total %lld\n",
	       num(res, "conntrack", "table_full_drops"));
	metric_head("vifwall_flow_cache_hits_total", "counter",
		    "Packets whose verdict came from the flow cache.");
	printf("vifwall_flow_cache_hits_total %lld\n", num(res, "flow_cache", "hits"));
	metric_head("vifwall_flow_cache_misses_total", "counter",
		    "Packets that ran the rules (first of a flow, or not cacheable).");
	printf("vifwall_flow_cache_misses_total %lld\n", num(res, "flow_cache", "misses"));
	metric_head("vifwall_flow_cache_evictions_total", "counter",
		    "Flow cache entries replaced by a new flow.");
	printf("vifwall_flow_cache_evictions_total %lld\n", num(res, "flow_cache", "evictions"));
	metric_head("vifwall_ruleset_generation", "gauge", "Rulesets installed since start.");
	printf("vifwall_ruleset_generation %lld\n", num(res, "ruleset", "generation"));
	metric_head("vifwall_ruleset_rules", "gauge", "Rules in the running ruleset.");
	printf("vifwall_ruleset_rules %lld\n", num(res, "ruleset", "rules"));
	metric_head("vifwall_resident_memory_bytes", "gauge", "vifwalld's resident memory.");
	printf("vifwall_resident_memory_bytes %lld\n", num(res, "memory", "rss_bytes"));
}

static void print_text(json_t *res)
{
	json_t *p, *v;
	const char *reason;
	size_t i, w;

	printf("ruleset %s: generation %lld, %lld chains, %lld rules, %lld sets, %lld elements\n",
	       json_string_value(json_object_get(json_object_get(res, "ruleset"), "name")),
	       num(res, "ruleset", "generation"), num(res, "ruleset", "chains"),
	       num(res, "ruleset", "rules"), num(res, "ruleset", "sets"),
	       num(res, "ruleset", "elements"));
	json_array_foreach(json_object_get(res, "ports"), i, p)
	{
		printf("port %s (%s): rx %lld packets %lld bytes, tx %lld packets %lld bytes, "
		       "drops",
		       json_string_value(json_object_get(p, "name")),
		       json_string_value(json_object_get(p, "role")), num(p, NULL, "rx_packets"),
		       num(p, NULL, "rx_bytes"), num(p, NULL, "tx_packets"),
		       num(p, NULL, "tx_bytes"));
		if (!num(p, NULL, "drops"))
			printf(" none");
		json_object_foreach(json_object_get(p, "drop_reasons"), reason,
				    v) if (json_integer_value(v))
			printf(" %s=%lld", reason, json_integer_value(v));
		if (json_array_size(json_object_get(p, "worker_rx_packets")) > 1) {
			printf("; rx by worker");
			json_array_foreach(json_object_get(p, "worker_rx_packets"), w, v)
				printf(" %lld", json_integer_value(v));
		}
		printf("\n");
	}
	printf("mac table: %lld/%lld entries, learned %lld, evicted %lld\n",
	       num(res, "mac_table", "entries"), num(res, "mac_table", "max_entries"),
	       num(res, "mac_table", "learned"), num(res, "mac_table", "evicted"));
	printf("conntrack: %lld/%lld entries, inserted %lld, expired %lld, early drops %lld, "
	       "table-full drops %lld, invalid %lld\n",
	       num(res, "conntrack", "entries"), num(res, "conntrack", "max_entries"),
	       num(res, "conntrack", "inserted"), num(res, "conntrack", "expired"),
	       num(res, "conntrack", "early_drops"), num(res, "conntrack", "table_full_drops"),
	       num(res, "conntrack", "invalid"));
	printf("flow cache: %lld entries, %s, hits %lld, misses %lld (not cacheable %lld), "
	       "evictions %lld, bypass %lld\n",
	       num(res, "flow_cache", "entries"),
	       json_is_true(json_object_get(json_object_get(res, "flow_cache"), "active"))
		       ? "active"
		       : "inactive",
	       num(res, "flow_cache", "hits"), num(res, "flow_cache", "misses"),
	       num(res, "flow_cache", "uncacheable"), num(res, "flow_cache", "evictions"),
	       num(res, "flow_cache", "bypass"));
	printf("memory: %lld bytes resident; %lld forwarding worker(s)\n",
	       num(res, "memory", "rss_bytes"),
	       json_integer_value(json_object_get(res, "workers")));
}

static int stats_run(const struct app_global_opts *g, int argc, char **argv)
{
	enum { TEXT, JSON, PROM } fmt = TEXT;
	json_t *res;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		fmt = JSON;
	else if (argc == 2 && !strcmp(argv[1], "--prometheus"))
		fmt = PROM;
	else if (argc != 1) {
		app_cmd_print_help(&app_cmd_stats, stderr);
		return 2;
	}
	if (app_cli_call(g, "stats", NULL, &res))
		return 1;
	if (fmt == JSON) {
		json_dumpf(res, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (fmt == PROM) {
		print_prometheus(res);
	} else {
		print_text(res);
	}
	json_decref(res);
	return 0;
}

const struct app_cmd app_cmd_stats = {
	.name = "stats",
	.summary = "counters: ports and drop reasons, MAC table, conntrack, memory",
	.usage = "stats [--json | --prometheus]",
	.help = "  --json        one JSON object (ports, mac_table, conntrack, flow_cache,\n"
		"                ruleset, memory)\n"
		"  --prometheus  Prometheus text exposition format\n",
	.run = stats_run,
};
