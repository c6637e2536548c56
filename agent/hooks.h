/*
 * hooks.h - what wg-quick runs around an interface, run by the agent:
 * PreUp, PostUp, PreDown, PostDown (each command through /bin/sh -c, with
 * every %i replaced by the interface name, in file order) and DNS through
 * `resolvconf -a IF -m 0 -x` (removed with `resolvconf -d IF -f`).
 *
 * When they run (agent.c), as with wg-quick: PreUp before the TUN exists,
 * PostUp once the interface is up with its addresses, routes and DNS;
 * PreDown while it still exists at stop, PostDown after it is gone. A
 * failing PreUp or PostUp command aborts startup (the interface is removed,
 * the agent exits 1), as wg-quick's `set -e` does; the hook's remaining
 * commands are skipped. A failing PreDown or PostDown is reported and the
 * agent stops anyway: a daemon being stopped cannot refuse to.
 *
 * A failure names the hook, the command, the exit status (or signal) and
 * what the command wrote to stderr, and, when that looks like missing
 * privileges, says why: the command runs with the agent's own, which under
 * the shipped unit are CAP_NET_ADMIN, a read-only /etc and /proc/sys, and
 * at PreDown/PostDown time CAP_NET_ADMIN only even outside it
 * (privileges.h). Everything a command writes to stderr is logged.
 */
#ifndef WM_HOOKS_H
#define WM_HOOKS_H

#include "agent/config.h"

/* Runs the commands of hook h for ifname; 0, or -1 at the first failure
 * (reported on stderr). */
int wm_hooks_run(enum wm_hook h, const struct wm_strings *cmds,
		 const char *ifname);
/* The hook's name as in the file ("PostUp"). */
const char *wm_hook_name(enum wm_hook h);

/* DNS = through resolvconf: 1 when set (wm_dns_unset at stop), 0 when
 * there was nothing to do, -1 when resolvconf failed (reported). Without
 * a resolvconf on PATH: a warning, and 0 (wg-quick would fail; an agent
 * without DNS is still a working tunnel). */
int wm_dns_set(const struct wm_strings *dns, const char *ifname);
void wm_dns_unset(const char *ifname);

#endif
