/*
 * Have the kernel's own nftables judge an nft script, without touching the host's
 * ruleset: the script is committed in a private network namespace (plus a user
 * namespace when the caller is not root) and the caller gets back a netlink socket
 * that lives in that namespace, to dump what the kernel accepted.
 */
#ifndef VIFWALL_FILTERS_NETNS_LOAD_H
#define VIFWALL_FILTERS_NETNS_LOAD_H

#include <stdint.h>

/*
 * Load the nft script @path into a fresh, private network namespace.
 *
 * @ports is NULL or a NULL-terminated list of port names (guest vifnames, the
 * uplink). A network device of each name is created in the namespace before the
 * script runs, so that rules naming them in `iif`/`oif` (which the kernel resolves
 * to an ifindex at load time) load. Names must be valid interface names (1 to 15
 * bytes, no '/', ':' or white space) and must not repeat.
 *
 * @ifindex is NULL, or room for as many entries as @ports has names: on success
 * ifindex[i] is the ifindex that ports[i] has in the namespace, i.e. the number
 * the dumped `iif`/`oif` expressions compare with.
 *
 * `include` statements are looked up in the directory of @path (and, for names
 * starting with "/", "./" or "../", as nft does: from the current directory).
 *
 * Returns 0 on success: *nl_fd is a NETLINK_NETFILTER socket, bound, inside the
 * namespace (use mnl_socket_fdopen() on it). The namespace and the ruleset in it
 * live exactly as long as that socket is open: the caller closes it.
 *
 * On failure returns a negative errno value, *nl_fd is -1, and, when @err is not
 * NULL, *err is a malloc'd message for the user, which the caller frees:
 *   -EINVAL   the ruleset was refused: *err is nft's own error text unchanged
 *             (file:line:column and the caret lines), or says that the file
 *             does not define `table inet vifwall`. Also for a bad port name.
 *   -ENOENT, -EACCES, ...  @path could not be read.
 *   -EPERM, -ENOSPC, ...   no private namespace could be made (e.g. user
 *             namespaces disabled for non-root users): *err says what to change.
 *   -EPROTONOSUPPORT, -EOPNOTSUPP  the kernel has no nf_tables: *err says so.
 *   -ECHILD   the helper process died without an answer.
 *   -ENOMEM and others: as the failing call said.
 *
 * Works by fork()ing a short-lived child; the child is always reaped before this
 * returns. Safe in a multi-threaded caller as far as glibc's fork() is (the child
 * uses malloc and libnftables).
 */
int flt_netns_load(const char *path, const char *const *ports, uint32_t *ifindex, int *nl_fd,
		   char **err);

#endif
