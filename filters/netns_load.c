/*
 * flt_netns_load(): commit an nft script to the kernel inside a private network
 * namespace and hand the caller a netlink socket that lives there.
 *
 * Why a child process: unshare(CLONE_NEWNET) moves the calling process for good,
 * and a daemon must stay in its own namespace. The child unshares, creates the
 * port devices, runs libnftables, opens the NETLINK_NETFILTER socket and passes it
 * back with SCM_RIGHTS, then exits. A socket holds a reference on its namespace,
 * so the namespace (and the ruleset in it) outlives the child exactly as long as
 * the caller keeps the socket.
 *
 * Child to parent, over a stream socketpair: one struct reply_hdr (carrying the fd
 * as ancillary data on success), then nports ifindexes, then textlen bytes of
 * message. No temp files, nothing written outside the namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <nftables/libnftables.h>

#include "filters/netns_load.h"
#include "filters/ruleset.h"
#include "filters/log.h"

/* An nft error text longer than this is not a message but a bug. */
#define REPLY_TEXT_MAX (1u << 20)

struct reply_hdr {
	int32_t status;	  /* 0 or -errno */
	uint32_t nports;  /* ifindexes that follow (0 on failure) */
	uint32_t textlen; /* message bytes after them */
	uint32_t has_fd;  /* the netlink socket rides along as SCM_RIGHTS */
};

/* What the child found out, sent to the parent in one go. */
struct child_out {
	int status;
	char *text;
	int nl_fd;
	uint32_t *ifindex;
	size_t nports;
};

static int child_fail(struct child_out *o, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int child_fail(struct child_out *o, int status, const char *fmt, ...)
{
	va_list ap;

	free(o->text);
	va_start(ap, fmt);
	if (vasprintf(&o->text, fmt, ap) < 0)
		o->text = NULL;
	va_end(ap);
	o->status = status;
	return status;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly @len bytes; -EPIPE when the other end closed first. */
static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_str_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = write_full(fd, text, strlen(text));
	close(fd);
	return ret;
}

/*
 * Move the child into a new network namespace. Root gets a plain one; anyone else
 * (and root without CAP_SYS_ADMIN, as in some containers) also gets a user
 * namespace in which they are root, which is all nf_tables asks for.
 */
static int child_enter_netns(struct child_out *o)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int ret;

	if (uid == 0) {
		if (unshare(CLONE_NEWNET) == 0)
			return 0;
		if (errno != EPERM)
			return child_fail(o, -errno,
					  "cannot create a private network namespace: %s (vifwall "
					  "needs a kernel with CONFIG_NET_NS)",
					  strerror(errno));
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return child_fail(o, -errno,
				  "cannot create a private user and network namespace as uid %u: "
				  "%s. Unprivileged user namespaces are disabled or restricted "
				  "here: run as root, or allow them (sysctl "
				  "user.max_user_namespaces=10000; on Debian/Ubuntu also "
				  "kernel.unprivileged_userns_clone=1 or "
				  "kernel.apparmor_restrict_unprivileged_userns=0)",
				  (unsigned)uid, strerror(errno));
	/* An unprivileged process may map only its own ids, and gid_map only after
	 * giving up setgroups(). Older kernels have no setgroups file. */
	ret = write_str_file("/proc/self/setgroups", "deny");
	if (ret < 0 && ret != -ENOENT)
		return child_fail(o, ret, "cannot write /proc/self/setgroups: %s", strerror(-ret));
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	ret = write_str_file("/proc/self/uid_map", map);
	if (ret == 0) {
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		ret = write_str_file("/proc/self/gid_map", map);
	}
	if (ret < 0)
		return child_fail(o, ret,
				  "cannot map uid %u to root in the private user namespace: %s "
				  "(is the process non-dumpable?)",
				  (unsigned)uid, strerror(-ret));
	return 0;
}

/* Send one request that asks for an ACK and read until that ACK (or an error). */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t portid = mnl_socket_get_portid(nl);
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (ret < 0)
			return errno ? -errno : -EPROTO;
	} while (ret > MNL_CB_STOP);
	return 0;
}

/* A veth pair: @name and @peer (NULL: the kernel picks a free vethN). */
static int rtnl_veth_add(struct mnl_socket *nl, uint32_t seq, const char *name, const char *peer)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data, *peerinfo;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	/* The peer's attributes follow an ifinfomsg of its own. */
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
	if (peer)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh);
}

/*
 * Create a device for every port name and record its ifindex. Ports are paired
 * with each other as veth ends, so no invented peer name can clash with a port
 * that comes later; an odd one out gets a kernel-named peer, made last.
 */
static int child_create_ports(struct child_out *o, const char *const *ports, size_t n)
{
	const char **todo;
	struct mnl_socket *nl;
	size_t i, m = 0;
	int ret = 0;

	if (n == 0)
		return 0;
	o->ifindex = calloc(n, sizeof(*o->ifindex));
	todo = calloc(n, sizeof(*todo));
	if (!o->ifindex || !todo) {
		free(todo);
		return child_fail(o, -ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (if_nametoindex(ports[i]) == 0) /* "lo" already exists */
			todo[m++] = ports[i];
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = child_fail(o, -errno, "cannot open an rtnetlink socket: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < m; i += 2) {
		const char *peer = i + 1 < m ? todo[i + 1] : NULL;

		ret = rtnl_veth_add(nl, (uint32_t)i + 1, todo[i], peer);
		if (ret < 0) {
			child_fail(o, ret,
				   "cannot create port \"%s\" in the private namespace: %s "
				   "(vifwall needs veth devices: modprobe veth)",
				   todo[i], strerror(-ret));
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		o->ifindex[i] = if_nametoindex(ports[i]);
		if (o->ifindex[i] == 0) {
			ret = child_fail(o, -ENODEV, "port \"%s\" vanished after creation",
					 ports[i]);
			goto out;
		}
	}
	o->nports = n;
out:
	if (nl)
		mnl_socket_close(nl);
	free(todo);
	return ret;
}

/*
 * Open the socket the caller will dump the ruleset through, and make sure
 * nf_tables answers on it before libnftables runs: libnftables 1.0.6 exits the
 * whole process when it cannot open its own netlink socket.
 */
static int child_open_nft(struct child_out *o, struct mnl_socket **out)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return child_fail(o, -errno,
				  "nf_tables is not available: %s. Load it (modprobe nf_tables) "
				  "or use a kernel built with CONFIG_NF_TABLES",
				  strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		mnl_socket_close(nl);
		return child_fail(o, ret, "cannot bind a netfilter netlink socket: %s",
				  strerror(-ret));
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, 1);
	ret = nl_talk(nl, nlh);
	if (ret < 0) {
		mnl_socket_close(nl);
		return child_fail(o, ret == -EINVAL ? -EOPNOTSUPP : ret,
				  "nf_tables is not available: the kernel does not answer "
				  "nf_tables requests (%s). Load it (modprobe nf_tables) or use "
				  "a kernel built with CONFIG_NF_TABLES",
				  strerror(-ret));
	}
	*out = nl;
	return 0;
}

/* The file's directory, where its relative includes are looked up. */
static char *path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int child_run_nft(struct child_out *o, const char *path)
{
	struct nft_ctx *nft;
	char *dir = path_dir(path);
	const char *msg;
	int ret = 0;

	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft || !dir) {
		ret = child_fail(o, -ENOMEM, "cannot set up libnftables");
		goto out;
	}
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		ret = child_fail(o, -ENOMEM, "cannot set up libnftables' buffers");
		goto out;
	}
	/* Only the file's own directory: no surprise matches in /etc. */
	nft_ctx_clear_include_paths(nft);
	if (nft_ctx_add_include_path(nft, dir)) {
		ret = child_fail(o, -ENOMEM, "cannot set up libnftables' include path");
		goto out;
	}
	if (nft_run_cmd_from_filename(nft, path) != 0) {
		msg = nft_ctx_get_error_buffer(nft);
		if (msg && *msg)
			ret = child_fail(o, -EINVAL, "%s", msg);
		else
			ret = child_fail(o, -EINVAL, "%s: nft refused the ruleset", path);
	}
out:
	if (nft)
		nft_ctx_free(nft);
	free(dir);
	return ret;
}

static int child_check_table(struct child_out *o, struct mnl_socket *nl, const char *path)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int ret;

	if (!t)
		return child_fail(o, -ENOMEM, "out of memory");
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, 0, 2);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FLT_TABLE_NAME);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	ret = nl_talk(nl, nlh);
	if (ret == -ENOENT)
		return child_fail(o, -EINVAL,
				  "%s: the ruleset must define `table inet %s` with a `forward` "
				  "base chain (type filter hook forward priority 0)",
				  path, FLT_TABLE_NAME);
	if (ret < 0)
		return child_fail(o, ret, "cannot look up table inet %s: %s", FLT_TABLE_NAME,
				  strerror(-ret));
	return 0;
}

static int child_send(int sk, const struct child_out *o)
{
	struct reply_hdr h = {
		.status = o->status,
		.nports = o->status == 0 ? (uint32_t)o->nports : 0,
		.textlen = o->text ? (uint32_t)strnlen(o->text, REPLY_TEXT_MAX) : 0,
		.has_fd = o->status == 0 && o->nl_fd >= 0,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = &h, .iov_len = sizeof(h)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cmsg;
	ssize_t n;
	int ret;

	if (h.has_fd) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &o->nl_fd, sizeof(int));
	}
	do {
		n = sendmsg(sk, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(h)) {
		ret = write_full(sk, (char *)&h + n, sizeof(h) - (size_t)n);
		if (ret < 0)
			return ret;
	}
	if (h.nports) {
		ret = write_full(sk, o->ifindex, h.nports * sizeof(uint32_t));
		if (ret < 0)
			return ret;
	}
	return h.textlen ? write_full(sk, o->text, h.textlen) : 0;
}

static void __attribute__((noreturn))
child_main(int sk, const char *path, const char *const *ports, size_t nports)
{
	struct child_out o = {.nl_fd = -1};
	struct mnl_socket *nl = NULL;

	if (child_enter_netns(&o) == 0 && child_create_ports(&o, ports, nports) == 0 &&
	    child_open_nft(&o, &nl) == 0 && child_run_nft(&o, path) == 0 &&
	    child_check_table(&o, nl, path) == 0)
		o.nl_fd = mnl_socket_get_fd(nl);
	/* _exit: no atexit handlers or stdio flushes of the parent's state. */
	_exit(child_send(sk, &o) == 0 ? 0 : 1);
}

/* Counts @ports and refuses names the kernel would refuse or that repeat. */
static int ports_check(const char *const *ports, size_t *count, char **err)
{
	size_t i, j, len;

	*count = 0;
	for (i = 0; ports && ports[i]; i++) {
		len = strlen(ports[i]);
		if (len == 0 || len >= FLT_IFNAMSIZ || !strcmp(ports[i], ".") ||
		    !strcmp(ports[i], "..") || strpbrk(ports[i], "/: \t\n\r\v\f")) {
			flt_err_set(err,
				    "invalid port name \"%s\": a port name has 1 to %d characters, "
				    "none of them '/', ':' or white space",
				    ports[i], FLT_IFNAMSIZ - 1);
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (!strcmp(ports[i], ports[j])) {
				flt_err_set(err, "port \"%s\" is listed twice", ports[i]);
				return -EINVAL;
			}
		}
	}
	*count = i;
	return 0;
}

/* Reads the header and the fd riding with it. *fd is -1 unless one came. */
static int parent_recv_hdr(int sk, struct reply_hdr *h, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = h, .iov_len = sizeof(*h)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sk, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	}
	if ((size_t)n < sizeof(*h))
		return read_full(sk, (char *)h + n, sizeof(*h) - (size_t)n);
	return 0;
}

/* Reads the child's whole answer. Returns the child's status, or -ECHILD when
 * the answer was cut short (the child died). */
static int parent_recv(int sk, size_t nports, uint32_t *ifindex, int *nl_fd, char **text)
{
	struct reply_hdr h;
	uint32_t *idx = NULL;
	int fd, ret;

	*text = NULL;
	ret = parent_recv_hdr(sk, &h, &fd);
	if (ret < 0)
		goto fail;
	if (h.textlen > REPLY_TEXT_MAX || (h.status == 0 && (h.nports != nports || fd < 0)) ||
	    (h.status != 0 && (h.nports != 0 || h.status > 0))) {
		ret = -EPROTO;
		goto fail;
	}
	if (h.nports) {
		idx = calloc(h.nports, sizeof(*idx));
		if (!idx) {
			ret = -ENOMEM;
			goto fail;
		}
		ret = read_full(sk, idx, h.nports * sizeof(*idx));
		if (ret < 0)
			goto fail;
	}
	*text = malloc(h.textlen + 1);
	if (!*text) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = read_full(sk, *text, h.textlen);
	if (ret < 0)
		goto fail;
	(*text)[h.textlen] = '\0';
	if (h.status == 0) {
		if (ifindex && nports)
			memcpy(ifindex, idx, nports * sizeof(*idx));
		*nl_fd = fd;
		fd = -1;
	}
	free(idx);
	return h.status;
fail:
	if (fd >= 0)
		close(fd);
	free(idx);
	free(*text);
	*text = NULL;
	return ret == -EPIPE ? -ECHILD : ret;
}

/* Waits for the child; -1 in *wstatus when it was reaped elsewhere (SIGCHLD
 * ignored). */
static void parent_reap(pid_t pid, int *wstatus)
{
	pid_t r;

	do {
		r = waitpid(pid, wstatus, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		*wstatus = -1;
}

int flt_netns_load(const char *path, const char *const *ports, uint32_t *ifindex, int *nl_fd,
		   char **err)
{
	size_t nports;
	int sk[2], fd, ret, wstatus;
	char *text;
	pid_t pid;

	if (err)
		*err = NULL;
	if (nl_fd)
		*nl_fd = -1;
	if (!path || !nl_fd) {
		flt_err_set(err, "flt_netns_load: no file given");
		return -EINVAL;
	}
	ret = ports_check(ports, &nports, err);
	if (ret < 0)
		return ret;
	/* Say "cannot read" ourselves: clearer than what nft says about it. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		flt_err_set(err, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	close(fd);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk) < 0) {
		ret = -errno;
		flt_err_set(err, "cannot create a socket pair: %s", strerror(-ret));
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(sk[0]);
		close(sk[1]);
		flt_err_set(err, "cannot fork the namespace helper: %s", strerror(-ret));
		return ret;
	}
	if (pid == 0) {
		close(sk[0]);
		child_main(sk[1], path, ports, nports);
	}
	/* Close our copy of the child's end first, so that its death reads as EOF. */
	close(sk[1]);
	ret = parent_recv(sk[0], nports, ifindex, nl_fd, &text);
	close(sk[0]);
	parent_reap(pid, &wstatus);

	if (ret == 0) {
		free(text);
		return 0;
	}
	if (text && *text) {
		if (err)
			*err = text;
		else
			free(text);
		return ret;
	}
	free(text);
	if (wstatus != -1 && WIFSIGNALED(wstatus))
		flt_err_set(err, "the namespace helper for %s was killed by signal %d", path,
			    WTERMSIG(wstatus));
	else if (wstatus != -1 && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
		flt_err_set(err, "the namespace helper for %s exited with status %d", path,
			    WEXITSTATUS(wstatus));
	else
		flt_err_set(err, "loading %s in a private namespace failed: %s", path,
			    strerror(-ret));
	return ret;
}
