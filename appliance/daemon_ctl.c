/*
 * vifwalld's control commands, served on the unix socket (and later the vchan from
 * dom0) by ctl_server.c: load a ruleset sent as text, and report ports, counters and
 * the running ruleset. A load compiles beside the running ruleset and swaps only on
 * success, so a broken file changes nothing and its nft error goes back to the user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appliance/daemon_internal.h"
#include "filters/conntrack.h"
#include "filters/ruleset.h"

int app_daemon_rules_compile(struct app_daemon *d, const char *path, struct flt_ruleset **out,
			     char **err)
{
	struct flt_load_opts lo = {.path = path, .ports = d->port_names, .log = d->log};
	struct flt_ruleset_stats st;
	int rc = flt_ruleset_load(&lo, out, err);

	if (rc < 0)
		return rc;
	flt_ruleset_get_stats(*out, &st);
	flt_log(d->log, LOG_INFO, "%s: %u chains, %u rules, %u sets, %u elements", path, st.chains,
		st.rules, st.sets, st.elements);
	return 0;
}

char *app_daemon_file_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = strdup("");
	}
	fclose(f);
	return text;
}

int app_daemon_rules_remember_text(struct app_daemon *d, char *text, const char *name)
{
	char *nm = strdup(name);

	if (!text || !nm) {
		free(text);
		free(nm);
		return -ENOMEM;
	}
	free(d->rules_text);
	free(d->rules_name);
	d->rules_text = text;
	d->rules_name = nm;
	d->loaded_at = time(NULL);
	return 0;
}

int app_daemon_rules_remember(struct app_daemon *d, const char *path, const char *name)
{
	return app_daemon_rules_remember_text(d, app_daemon_file_text(path), name);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* load {"name": "rules.nft", "text": "..."}: the file travels as text; it is written
 * to a private temporary directory under its own base name so that nft's error
 * messages say "rules.nft:5:3". Includes cannot follow it: say so in the docs. The
 * compile runs in a thread (daemon_load.c); the reply follows when it is done. */
static int ctl_load(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct app_daemon *d = arg;
	const char *name = json_string_value(json_object_get(args, "name"));
	const char *text = json_string_value(json_object_get(args, "text"));
	char dir[] = "/tmp/vifwall-load.XXXXXX", path[sizeof(dir) + 256], *nm;
	const char *base;
	FILE *f;
	int rc;

	if (!text)
		return app_ctl_reply_error(reply, "load: args.text (the ruleset) is missing");
	if (d->load)
		return app_ctl_reply_error(reply, "load: another ruleset is being loaded; "
						  "try again when it is done");
	nm = strdup(base_of(name && name[0] ? name : "rules.nft"));
	if (!nm)
		return -ENOMEM;
	base = nm;
	if (!base[0] || strlen(base) > 255 || !strcmp(base, ".") || !strcmp(base, ".."))
		base = "rules.nft";
	if (!mkdtemp(dir)) {
		free(nm);
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, base);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		rc = -errno;
		unlink(path);
		rmdir(dir);
		free(nm);
		return rc;
	}
	rc = app_daemon_load_start(d, path, dir, base, reply);
	if (rc < 0) {
		unlink(path);
		rmdir(dir);
	}
	free(nm);
	return rc;
}

static json_t *port_json(struct app_daemon *d, unsigned i, bool detail)
{
	struct nb_port_info pi;
	json_t *o, *drops, *per_worker;

	if (nb_bridge_port_info(d->br, i, &pi) < 0)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "name", pi.name, "role",
		      pi.guest ? "guest" : "uplink", "backend", pi.backend ? pi.backend : "?",
		      "antispoof", pi.guest, "rx_packets", (json_int_t)pi.c.rx_packets, "rx_bytes",
		      (json_int_t)pi.c.rx_bytes, "tx_packets", (json_int_t)pi.c.tx_packets,
		      "tx_bytes", (json_int_t)pi.c.tx_bytes, "drops",
		      (json_int_t)nb_port_counters_drops(&pi.c));
	if (!o || !detail)
		return o;
	drops = json_object();
	for (unsigned r = 1; r < NB_DROP_REASON_COUNT; r++)
		json_object_set_new(drops, nb_drop_reason_name(r),
				    json_integer((json_int_t)pi.c.drops[r]));
	json_object_set_new(drops, "ring", json_integer((json_int_t)pi.c.ring_drops));
	json_object_set_new(o, "drop_reasons", drops);
	/* How the device's flows spread over the workers (PACKET_FANOUT). */
	per_worker = json_array();
	for (unsigned w = 0; w < nb_bridge_workers(d->br); w++)
		json_array_append_new(per_worker, json_integer((json_int_t)pi.worker_rx[w]));
	json_object_set_new(o, "worker_rx_packets", per_worker);
	return o;
}

static int ctl_ports(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct app_daemon *d = arg;
	json_t *ports = json_array();

	(void)args;
	for (unsigned i = 0; i < nb_bridge_port_count(d->br); i++)
		json_array_append_new(ports, port_json(d, i, false));
	app_ctl_reply_result(reply, json_pack("{s:o}", "ports", ports));
	return 0;
}

/* Resident memory, from /proc/self/statm (pages). */
static long long rss_bytes(void)
{
	long long size = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lld %lld", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static int ctl_stats(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct app_daemon *d = arg;
	struct flt_ruleset_stats rst;
	struct nb_switch_stats ss;
	struct flt_ct_stats cs;
	struct flt_fc_stats fs;
	json_t *ports = json_array(), *res;

	(void)args;
	for (unsigned i = 0; i < nb_bridge_port_count(d->br); i++)
		json_array_append_new(ports, port_json(d, i, true));
	nb_bridge_switch_stats(d->br, &ss);
	flt_ct_get_stats(d->ct, &cs);
	flt_ruleset_get_stats(d->rs, &rst);
	nb_bridge_flowcache_stats(d->br, &fs);
	res = json_pack("{s:o, s:{s:i, s:i, s:I, s:I, s:I}, s:{s:i, s:i, s:I, s:I, s:I, s:I, s:I}, "
			"s:{s:s, s:I, s:I, s:i, s:i, s:i, s:i}, s:{s:I}}",
			"ports", ports, "mac_table", "entries", ss.entries, "max_entries",
			ss.max_entries, "learned", (json_int_t)ss.learned, "moved",
			(json_int_t)ss.moved, "evicted", (json_int_t)ss.evicted, "conntrack",
			"entries", cs.entries, "max_entries", cs.max_entries, "inserted",
			(json_int_t)cs.inserted, "expired", (json_int_t)cs.expired, "early_drops",
			(json_int_t)cs.early_drops, "table_full_drops",
			(json_int_t)cs.table_full_drops, "invalid", (json_int_t)cs.invalid,
			"ruleset", "name", d->rules_name ? d->rules_name : "", "generation",
			(json_int_t)d->generation, "loaded_at", (json_int_t)d->loaded_at, "chains",
			rst.chains, "rules", rst.rules, "sets", rst.sets, "elements", rst.elements,
			"memory", "rss_bytes", (json_int_t)rss_bytes());
	json_object_set_new(res, "flow_cache",
			    json_pack("{s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "entries",
				      fs.entries, "active", fs.active, "hits", (json_int_t)fs.hits,
				      "misses", (json_int_t)fs.misses, "inserts",
				      (json_int_t)fs.inserts, "evictions", (json_int_t)fs.evictions,
				      "uncacheable", (json_int_t)fs.uncacheable, "bypass",
				      (json_int_t)fs.bypass, "flushes", (json_int_t)fs.flushes));
	json_object_set_new(res, "workers", json_integer(nb_bridge_workers(d->br)));
	app_ctl_reply_result(reply, res);
	return 0;
}

/* The running ruleset as written, each rule's first line followed by its handle and
 * counters (rules of included files are not annotated). */
static char *show_text(struct app_daemon *d)
{
	unsigned n = flt_ruleset_rule_handles(d->rs, NULL, 0), lineno = 1;
	uint64_t *handles = calloc(n ? n : 1, sizeof(*handles));
	const char *line = d->rules_text ? d->rules_text : "", *name = d->rules_name;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!handles || !f) {
		if (f)
			fclose(f);
		free(handles);
		free(out);
		return NULL;
	}
	flt_ruleset_rule_handles(d->rs, handles, n);
	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);

		fwrite(line, 1, l, f);
		for (unsigned i = 0; i < n; i++) {
			struct flt_rule_src src;
			uint64_t p, b;

			if (flt_ruleset_rule_src(d->rs, handles[i], &src) < 0 || !src.file ||
			    !name || strcmp(base_of(src.file), base_of(name)) || src.line != lineno)
				continue;
			fprintf(f, "  # handle %llu", (unsigned long long)handles[i]);
			if (flt_ruleset_rule_counter(d->rs, handles[i], &p, &b) == 0)
				fprintf(f, " packets %llu bytes %llu", (unsigned long long)p,
					(unsigned long long)b);
		}
		fputc('\n', f);
		lineno++;
		line += l + (nl ? 1 : 0);
	}
	fclose(f);
	free(handles);
	return out;
}

static int ctl_show(void *arg, json_t *args, struct app_ctl_reply *reply)
{
	struct app_daemon *d = arg;
	char *text = show_text(d);

	(void)args;
	if (!text)
		return -ENOMEM;
	app_ctl_reply_result(reply, json_pack("{s:s, s:I, s:s}", "name",
					      d->rules_name ? d->rules_name : "", "generation",
					      (json_int_t)d->generation, "text", text));
	free(text);
	return 0;
}

/* The daemon's side of the protocol: one line per command. */
static const struct app_ctl_command daemon_commands[] = {
	{"load", ctl_load},
	{"ports", ctl_ports},
	{"stats", ctl_stats},
	{"show", ctl_show},
	{"capture", app_daemon_ctl_capture},
	{"trace", app_daemon_ctl_trace},
};

int app_daemon_ctl_open(struct app_daemon *d, const char *path)
{
	struct app_ctl_server_config cfg = {
		.commands = daemon_commands,
		.n_commands = sizeof(daemon_commands) / sizeof(daemon_commands[0]),
		.arg = d,
		.log = d->log,
	};
	int rc;

	if (!path) /* only for transports added later: the vchan */
		return app_ctl_server_new(&cfg, &d->ctl);
	rc = app_ctl_server_open_unix(path, &cfg, &d->ctl);
	if (rc < 0)
		flt_log(d->log, LOG_ERR, "control socket %s: %s", path,
			rc == -EADDRINUSE ? "another vifwalld answers there" : strerror(-rc));
	else
		flt_log(d->log, LOG_INFO, "control socket %s", path);
	return rc;
}
