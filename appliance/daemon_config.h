/*
 * vifwalld's configuration file, /etc/vifwall/vifwalld.conf: key = value lines, then
 * one [port NAME] section per static guest port; '#' starts a comment. Everything the
 * command line says can be said here, plus the sizes of the bounded tables. The
 * parser only reads text: it fills the same struct app_daemon_config as the command
 * line (daemon_args.c, which applies its options over the file's), so both are
 * checked by the same rules and tested without a daemon.
 *
 *   rules = /etc/vifwall/rules.nft
 *   uplink = eth0
 *   ctl = /run/vifwall/ctl
 *   ring-blocks = 32
 *   ring-retire-ms = 4
 *   [port web1]
 *   mac = 00:16:3e:00:00:01
 *   ip = 10.0.0.11
 *   ip = fd00::11
 *
 * Every refusal is one line, "FILE:LINE: what is wrong (what to write instead)".
 */
#ifndef VIFWALL_APPLIANCE_DAEMON_CONFIG_H
#define VIFWALL_APPLIANCE_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "appliance/daemon.h"

#define APP_DAEMON_CONFIG_DEFAULT "/etc/vifwall/vifwalld.conf"

/* Defaults of the settings; the tables' own defaults, written out so that
 * --check-config shows what runs. */
#define APP_DEFAULT_RING_BLOCKS	       256u
#define APP_DEFAULT_BURST	       32u
#define APP_DEFAULT_MAC_TABLE_ENTRIES  4096u
#define APP_DEFAULT_MAC_TABLE_AGE_S    300u
#define APP_DEFAULT_CONNTRACK_ENTRIES  65536u
#define APP_DEFAULT_FLOW_CACHE_ENTRIES 65536u

/* How long a partly filled receive block waits for more frames before vifwalld gets
 * it: the latency a quiet port adds. 4 ms is one tick of the appliance's kernel
 * (Debian 12, HZ=250), whose timer rounds any shorter value up to that anyway; on
 * kernels whose block timer is an hrtimer (6.18) 1 ms would mean 1000 timer
 * interrupts a second per ring and worker, busy or idle (docs/performance.md). */
#define APP_DEFAULT_RING_RETIRE_MS 4u

/* Longest line of a configuration file, newline excluded: room for the longest
 * rules path (rules_buf) with its key. */
#define APP_CONFIG_LINE_MAX 4200

/* Empty @cfg: no rules, no ctl, the uplink slot (ports[0]) unnamed, defaults for the
 * rest. */
void app_daemon_config_init(struct app_daemon_config *cfg);

/*
 * Apply the configuration text @text (@len bytes; need not end in a newline or a NUL)
 * named @name (for messages) to @cfg, which app_daemon_config_init() prepared. Returns 0,
 * or -EINVAL with "NAME:LINE: message" in @err (@errlen bytes, always terminated); @cfg
 * is then half-filled and must not be used. Nothing is required here: the command line
 * may still give the rules and the uplink (see app_daemon_config_check()).
 */
int app_daemon_config_parse(const char *text, size_t len, const char *name,
			    struct app_daemon_config *cfg, char *err, size_t errlen);

/*
 * Read the file @path and apply it with app_daemon_config_parse(). Returns 0; -ENOENT
 * when there is no such file; another -errno when it cannot be read; -EINVAL when it
 * is bad. On failure @err says why (FILE:LINE for a bad file).
 */
int app_daemon_config_read(const char *path, struct app_daemon_config *cfg, char *err,
			   size_t errlen);

/*
 * Whether @cfg can run: the rules file and the uplink are set. Returns 0 or -EINVAL
 * with the message in @err.
 */
int app_daemon_config_check(const struct app_daemon_config *cfg, char *err, size_t errlen);

/* Name the uplink (ports[0]). Returns 0 or -EINVAL with the message in @err: not a
 * device name, or a guest port's name. */
int app_daemon_config_set_uplink(struct app_daemon_config *cfg, const char *name, char *err,
				 size_t errlen);

/*
 * The guest port @name: a new one (at the end) or, when @cfg already has a guest port
 * of that name and @replace, that one emptied of its mac, ip and antispoof. Returns 0
 * and *@out; -EINVAL with the message in @err: not a device name, the uplink's name,
 * already there (without @replace), or more than NB_MAX_PORTS ports.
 */
int app_daemon_config_port(struct app_daemon_config *cfg, const char *name, bool replace,
			   struct app_daemon_port **out, char *err, size_t errlen);

/*
 * Set @key (mac, ip, antispoof) of port @p to @val. ip may be given several times.
 * Returns 0 or -EINVAL with the message in @err.
 */
int app_daemon_config_port_set(struct app_daemon_port *p, const char *key, const char *val,
			       char *err, size_t errlen);

/* Print @cfg in the file's format: what --check-config shows. */
void app_daemon_config_print(const struct app_daemon_config *cfg, FILE *f);

#endif
