/*
 * The configuration file's parser (format in daemon_config.h and vifwalld(8)). It
 * works on a bounded copy of one line at a time and never trusts the text to end in a
 * newline or a NUL: the file is the operator's, but a typo in it must be refused with
 * its line, never half-applied, since a guest port started without its addresses
 * would forward that guest unchecked.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ether.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "appliance/daemon_config.h"

#define CONFIG_FILE_MAX (1u << 20) /* a bigger file is surely not a configuration */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void app_daemon_config_init(struct app_daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port.ring_blocks = APP_DEFAULT_RING_BLOCKS;
	cfg->port.retire_ms = APP_DEFAULT_RING_RETIRE_MS;
	cfg->burst = APP_DEFAULT_BURST;
	cfg->mac_table_entries = APP_DEFAULT_MAC_TABLE_ENTRIES;
	cfg->mac_table_age_s = APP_DEFAULT_MAC_TABLE_AGE_S;
	cfg->conntrack_entries = APP_DEFAULT_CONNTRACK_ENTRIES;
	cfg->flow_cache_entries = APP_DEFAULT_FLOW_CACHE_ENTRIES;
	cfg->nports = 1;
	cfg->ports[0].uplink = true;
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= NB_IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == ',' || *s == '#' || *s == '[' || *s == ']' ||
		    !isgraph((unsigned char)*s))
			return false;
	return true;
}

#define IFNAME_HINT "1 to 15 characters, no '/', ':', ',', '#', brackets or spaces"

int app_daemon_config_set_uplink(struct app_daemon_config *cfg, const char *name, char *err,
				 size_t errlen)
{
	if (!ifname_ok(name))
		return fail(err, errlen, "uplink '%s' is not a device name (" IFNAME_HINT ")",
			    name);
	for (unsigned i = 1; i < cfg->nports; i++)
		if (!strcmp(cfg->ports[i].name, name))
			return fail(err, errlen,
				    "'%s' cannot be the uplink: it is a guest port (one device is "
				    "one or the other)",
				    name);
	strcpy(cfg->ports[0].name, name);
	return 0;
}

int app_daemon_config_port(struct app_daemon_config *cfg, const char *name, bool replace,
			   struct app_daemon_port **out, char *err, size_t errlen)
{
	struct app_daemon_port *p;

	if (!ifname_ok(name))
		return fail(err, errlen, "port '%s' is not a device name (" IFNAME_HINT ")", name);
	if (!strcmp(cfg->ports[0].name, name))
		return fail(err, errlen,
			    "port '%s' is the uplink, which has no guest settings (name another "
			    "device)",
			    name);
	for (unsigned i = 1; i < cfg->nports; i++) {
		if (strcmp(cfg->ports[i].name, name))
			continue;
		if (!replace)
			return fail(err, errlen,
				    "port '%s' is given twice (one section or --port per device)",
				    name);
		p = &cfg->ports[i];
		goto fresh;
	}
	if (cfg->nports == NB_MAX_PORTS)
		return fail(err, errlen, "port '%s': more than %d guest ports", name,
			    NB_MAX_PORTS - 1);
	p = &cfg->ports[cfg->nports++];
fresh:
	memset(p, 0, sizeof(*p));
	strcpy(p->name, name);
	nb_antispoof_init(&p->as, NULL);
	*out = p;
	return 0;
}

/* Six groups of one or two hex digits joined by ':' and nothing else (ether_aton_r
 * stops quietly at a blank, so "00:16:3e:00:00:01 junk" would pass it). */
static bool mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0, n = 0;

		for (; n < 2 && isxdigit((unsigned char)*s); n++, s++)
			v = v * 16 + (unsigned)(isdigit((unsigned char)*s)
							? *s - '0'
							: (*s | 0x20) - 'a' + 10);
		if (!n || *s != (i < 5 ? ':' : '\0'))
			return false;
		mac[i] = (uint8_t)v;
		s += i < 5;
	}
	return true;
}

static int port_mac(struct app_daemon_port *p, const char *val, char *err, size_t errlen)
{
	struct ether_addr ea;
	struct nb_antispoof as;

	if (!mac_parse(val, ea.ether_addr_octet))
		return fail(err, errlen,
			    "mac '%s' is not a MAC address (write it as 00:16:3e:00:00:01)", val);
	if (p->as.have_mac)
		return fail(err, errlen, "port %s: mac is given twice (a guest port has one MAC)",
			    p->name);
	if (nb_antispoof_init(&as, ea.ether_addr_octet) < 0)
		return fail(err, errlen, "mac '%s' is multicast or zero: no guest can own it", val);
	/* Keep what was said before mac. */
	as.enabled = p->as.enabled;
	as.n4 = p->as.n4;
	as.n6 = p->as.n6;
	memcpy(as.ip4, p->as.ip4, sizeof(as.ip4));
	memcpy(as.ip6, p->as.ip6, sizeof(as.ip6));
	p->as = as;
	return 0;
}

static int port_ip(struct app_daemon_port *p, const char *val, char *err, size_t errlen)
{
	unsigned char addr[16];
	int af = strchr(val, ':') ? AF_INET6 : AF_INET;
	int rc;

	if (inet_pton(af, val, addr) != 1)
		return fail(err, errlen,
			    "ip '%s' is not an IPv4 or IPv6 address (one address, no prefix "
			    "length; repeat ip for more)",
			    val);
	rc = nb_antispoof_add_ip(&p->as, af, addr);
	if (rc == -ENOSPC)
		return fail(err, errlen, "port %s: more than %d addresses of one family", p->name,
			    NB_AS_MAX_ADDRS);
	if (rc < 0)
		return fail(err, errlen,
			    "ip '%s' is unspecified, multicast or loopback: no guest can own it",
			    val);
	if (p->antispoof < 0)
		p->as.enabled = false;
	return 0;
}

int app_daemon_config_port_set(struct app_daemon_port *p, const char *key, const char *val,
			       char *err, size_t errlen)
{
	if (!strcmp(key, "mac"))
		return port_mac(p, val, err, errlen);
	if (!strcmp(key, "ip"))
		return port_ip(p, val, err, errlen);
	if (!strcmp(key, "antispoof")) {
		if (p->antispoof)
			return fail(err, errlen, "port %s: antispoof is given twice", p->name);
		if (!strcmp(val, "off"))
			p->antispoof = -1, p->as.enabled = false;
		else if (!strcmp(val, "on"))
			p->antispoof = 1, p->as.enabled = true;
		else
			return fail(err, errlen,
				    "antispoof '%s' is neither on nor off (it is on whenever an ip "
				    "is given)",
				    val);
		return 0;
	}
	return fail(err, errlen, "unknown port key '%s' (a port knows mac, ip, antispoof)", key);
}

/* A port asked to check its guest's addresses must have some. */
static int port_complete(const struct app_daemon_port *p, char *err, size_t errlen)
{
	if (p->antispoof > 0 && !p->as.n4 && !p->as.n6)
		return fail(err, errlen,
			    "port %s: antispoof is on but no ip is given, so the guest could send "
			    "no IP at all (add ip = ADDR, or antispoof = off)",
			    p->name);
	return 0;
}

int app_daemon_config_check(const struct app_daemon_config *cfg, char *err, size_t errlen)
{
	int rc;

	if (!cfg->rules)
		return fail(err, errlen,
			    "no rules file: set 'rules = FILE' in the configuration or give "
			    "--rules FILE");
	if (!cfg->ports[0].name[0])
		return fail(err, errlen,
			    "no uplink: set 'uplink = IFNAME' in the configuration or give "
			    "--uplink IFNAME");
	for (unsigned i = 1; i < cfg->nports; i++)
		if ((rc = port_complete(&cfg->ports[i], err, errlen)) < 0)
			return rc;
	return 0;
}

/* ---- the file --------------------------------------------------------------------- */

/* A number setting: where it lives and what it may be. */
struct num_key {
	const char *name;
	size_t off; /* of a uint32_t or unsigned in struct app_daemon_config */
	uint32_t min, max;
	const char *unit;
};

/* Every number setting is 32 bits wide, whether uint32_t or unsigned. */
_Static_assert(sizeof(unsigned) == sizeof(uint32_t), "unsigned is 32 bits");

#define NUM(name, field, min, max, unit)                                                           \
	{                                                                                          \
		name, offsetof(struct app_daemon_config, field), min, max, unit                    \
	}

static const struct num_key num_keys[] = {
	NUM("ring-blocks", port.ring_blocks, 4, 4096, "blocks of 128 KiB per port"),
	NUM("ring-retire-ms", port.retire_ms, 1, 100, "ms a partly filled block waits"),
	NUM("burst", burst, 1, NB_BURST_MAX, "frames per port per turn"),
	NUM("mac-table-entries", mac_table_entries, 16, 1u << 24, "entries"),
	NUM("mac-table-age", mac_table_age_s, 1, 1000000, "seconds"),
	NUM("conntrack-entries", conntrack_entries, 16, 1u << 26, "entries"),
	NUM("flow-cache-entries", flow_cache_entries, 16, 1u << 24, "entries"),
	NUM("workers", workers, 0, NB_MAX_WORKERS, "forwarding threads (0: one per CPU)"),
};

/* The global keys, in the order --check-config prints them. */
enum gkey { G_RULES, G_UPLINK, G_CTL, G_LOG_LEVEL, G_NUM0 };
#define G_COUNT (G_NUM0 + sizeof(num_keys) / sizeof(num_keys[0]))
static const char *const gkey_names[G_NUM0] = {"rules", "uplink", "ctl", "log-level"};

static const char *gkey_name(unsigned k)
{
	return k < G_NUM0 ? gkey_names[k] : num_keys[k - G_NUM0].name;
}

struct parse {
	const char *name; /* the file's, for messages */
	unsigned line;
	struct app_daemon_config *cfg;
	unsigned set_at[G_COUNT];     /* line of each global key, 0: not set */
	struct app_daemon_port *port; /* the section being read; NULL: global */
	unsigned port_line;
	char *err;
	size_t errlen;
};

static int at_line(struct parse *ps, int rc)
{
	char msg[512];

	if (rc >= 0 || !ps->errlen)
		return rc;
	snprintf(msg, sizeof(msg), "%s", ps->err);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, msg);
	return rc;
}

static int bad(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct parse *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, msg);
}

/* "rules, uplink, ...": every global key, from the tables, for the unknown-key message. */
static const char *known_keys(char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned k = 0; k < G_COUNT && at < len; k++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", k ? ", " : "", gkey_name(k));
	return buf;
}

static int set_num(struct parse *ps, const struct num_key *k, const char *val)
{
	unsigned long long n = 0;
	const char *s = val;

	if (!*s)
		return bad(ps, "%s needs a number (%u to %u %s)", k->name, k->min, k->max, k->unit);
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return bad(ps,
				   "%s '%s' is not a number (write a plain decimal, %u to %u %s)",
				   k->name, val, k->min, k->max, k->unit);
		if (n <= UINT32_MAX)
			n = n * 10 + (unsigned)(*s - '0');
	}
	if (n < k->min || n > k->max)
		return bad(ps, "%s %s is out of range (%u to %u %s)", k->name, val, k->min, k->max,
			   k->unit);
	*(uint32_t *)((char *)ps->cfg + k->off) = (uint32_t)n;
	return 0;
}

static int set_path(struct parse *ps, const char *key, const char *val, char *buf, size_t size,
		    const char **dst)
{
	if (strlen(val) >= size)
		return bad(ps, "%s is longer than %zu characters (use a shorter path)", key,
			   size - 1);
	strcpy(buf, val);
	*dst = buf;
	return 0;
}

static int global_set(struct parse *ps, const char *key, const char *val)
{
	struct app_daemon_config *cfg = ps->cfg;
	char known[320];
	unsigned k;

	for (k = 0; k < G_COUNT && strcmp(gkey_name(k), key); k++)
		;
	if (k == G_COUNT) {
		if (!strcmp(key, "mac") || !strcmp(key, "ip") || !strcmp(key, "antispoof"))
			return bad(ps,
				   "%s belongs to a guest port: put it under a [port NAME] line",
				   key);
		return bad(ps, "unknown key '%s' (known: %s)", key,
			   known_keys(known, sizeof(known)));
	}
	if (ps->set_at[k])
		return bad(ps, "%s is already set on line %u (say it once)", key, ps->set_at[k]);
	ps->set_at[k] = ps->line;
	if (!*val && k < G_NUM0)
		return bad(ps, "%s needs a value", key);
	switch (k) {
	case G_RULES:
		return set_path(ps, key, val, cfg->rules_buf, sizeof(cfg->rules_buf), &cfg->rules);
	case G_CTL:
		return set_path(ps, key, val, cfg->ctl_buf, sizeof(cfg->ctl_buf), &cfg->ctl);
	case G_UPLINK:
		return at_line(ps, app_daemon_config_set_uplink(cfg, val, ps->err, ps->errlen));
	case G_LOG_LEVEL:
		if (!strcmp(val, "info"))
			cfg->verbosity = 0;
		else if (!strcmp(val, "debug"))
			cfg->verbosity = 1;
		else
			return bad(ps, "log-level '%s' is neither info nor debug", val);
		return 0;
	default:
		return set_num(ps, &num_keys[k - G_NUM0], val);
	}
}

static int section_end(struct parse *ps)
{
	int rc = 0;

	if (ps->port) {
		unsigned line = ps->line;

		ps->line = ps->port_line;
		rc = at_line(ps, port_complete(ps->port, ps->err, ps->errlen));
		ps->line = line;
	}
	ps->port = NULL;
	return rc;
}

/* "[port NAME]", spaces allowed inside the brackets. */
static int section_start(struct parse *ps, char *s)
{
	char *end = strchr(s, ']'), *name;
	int rc;

	if (!end || end[1])
		return bad(ps, "a section line is [port NAME], alone on its line");
	*end = '\0';
	s++;
	while (isblank((unsigned char)*s))
		s++;
	while (end > s && isblank((unsigned char)end[-1]))
		*--end = '\0';
	if (!strcmp(s, "port"))
		return bad(ps, "[port] names no device: write [port NAME]");
	if (strncmp(s, "port", 4) || !isblank((unsigned char)s[4]))
		return bad(ps, "unknown section '[%s]' (the only section is [port NAME])", s);
	for (name = s + 4; isblank((unsigned char)*name); name++)
		;
	if ((rc = section_end(ps)) < 0)
		return rc;
	rc = app_daemon_config_port(ps->cfg, name, false, &ps->port, ps->err, ps->errlen);
	ps->port_line = ps->line;
	return at_line(ps, rc);
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isblank((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int line_parse(struct parse *ps, char *s)
{
	char *key, *val, *eq, *hash;

	/* A comment starts at '#' at the beginning or after a blank, so a value may
	 * hold a '#' of its own. */
	for (hash = strchr(s, '#'); hash; hash = strchr(hash + 1, '#'))
		if (hash == s || isblank((unsigned char)hash[-1])) {
			*hash = '\0';
			break;
		}
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[')
		return section_start(ps, s);
	eq = strchr(s, '=');
	if (!eq)
		return bad(ps, "'%s' is not 'key = value' or '[port NAME]'", s);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key)
		return bad(ps, "a line starts with '=': the key is missing");
	if (*val == '#')
		return bad(ps,
			   "%s = %s: a value cannot start with '#' (put a blank before a "
			   "comment)",
			   key, val);
	if (ps->port) {
		if (!*val)
			return bad(ps, "%s needs a value", key);
		return at_line(ps,
			       app_daemon_config_port_set(ps->port, key, val, ps->err, ps->errlen));
	}
	return global_set(ps, key, val);
}

int app_daemon_config_parse(const char *text, size_t len, const char *name,
			    struct app_daemon_config *cfg, char *err, size_t errlen)
{
	struct parse ps = {.name = name, .cfg = cfg, .err = err, .errlen = errlen};
	char line[APP_CONFIG_LINE_MAX + 2];
	size_t pos = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		ps.line++;
		if (n > APP_CONFIG_LINE_MAX)
			return bad(&ps, "line longer than %d characters", APP_CONFIG_LINE_MAX);
		if (memchr(text + pos, '\0', n))
			return bad(&ps, "a NUL byte: this is not a text file");
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if ((rc = line_parse(&ps, line)) < 0)
			return rc;
	}
	return section_end(&ps);
}

int app_daemon_config_read(const char *path, struct app_daemon_config *cfg, char *err,
			   size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, size = 0;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		fail(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = fail(err, errlen, "%s: is a directory, not a configuration file", path);
		goto out;
	}
	/* Until end of file, not st_size: /dev/null (no file at all) reads as empty. */
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *more = size < CONFIG_FILE_MAX ? realloc(buf, size + 4096) : NULL;

			if (!more) {
				rc = size < CONFIG_FILE_MAX ? -ENOMEM : -EFBIG;
				fail(err, errlen, "%s: %s", path,
				     rc == -EFBIG ? "larger than 1 MiB: not a configuration file"
						  : "out of memory");
				goto out;
			}
			buf = more;
			size += 4096;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			fail(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	rc = app_daemon_config_parse(buf, len, path, cfg, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

void app_daemon_config_print(const struct app_daemon_config *cfg, FILE *f)
{
	if (cfg->rules)
		fprintf(f, "rules = %s\n", cfg->rules);
	else
		fprintf(f, "# rules: not set\n");
	if (cfg->ports[0].name[0])
		fprintf(f, "uplink = %s\n", cfg->ports[0].name);
	else
		fprintf(f, "# uplink: not set\n");
	if (cfg->ctl)
		fprintf(f, "ctl = %s\n", cfg->ctl);
	else
		fprintf(f, "# ctl: no control socket\n");
	fprintf(f, "log-level = %s\n", cfg->verbosity ? "debug" : "info");
	for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++)
		fprintf(f, "%s = %u\n", num_keys[i].name,
			*(const uint32_t *)((const char *)cfg + num_keys[i].off));
	for (unsigned i = 1; i < cfg->nports; i++) {
		const struct app_daemon_port *p = &cfg->ports[i];
		char a[INET6_ADDRSTRLEN];

		fprintf(f, "\n[port %s]\n", p->name);
		if (p->as.have_mac)
			fprintf(f, "mac = %02x:%02x:%02x:%02x:%02x:%02x\n", p->as.mac[0],
				p->as.mac[1], p->as.mac[2], p->as.mac[3], p->as.mac[4],
				p->as.mac[5]);
		for (unsigned j = 0; j < p->as.n4; j++)
			fprintf(f, "ip = %s\n", inet_ntop(AF_INET, &p->as.ip4[j], a, sizeof(a)));
		for (unsigned j = 0; j < p->as.n6; j++)
			fprintf(f, "ip = %s\n", inet_ntop(AF_INET6, &p->as.ip6[j], a, sizeof(a)));
		fprintf(f, "antispoof = %s\n", p->as.enabled ? "on" : "off");
	}
}
