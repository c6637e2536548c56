/*
 * privileges.h - once the agent holds what it opens at start (TUN, UDP
 * socket, netlink, the UAPI and API sockets), it keeps CAP_NET_ADMIN and
 * nothing else, as the shipped unit (wiremesh@.service) grants it: root
 * started by hand would otherwise parse network input with every
 * capability.
 *
 * CAP_NET_ADMIN is what the running agent still needs: route sync and
 * link changes over netlink, SO_MARK on a socket bound again (`wg set
 * listen-port`, fwmark), forced socket buffer sizes. Everything else the
 * agent does later (reading its config on SIGHUP, SaveConfig, removing its
 * sockets at exit) needs none as uid 0 owning those files. A listen port
 * below 1024 set at run time then fails (as under the unit). The bounding
 * and ambient sets are cleared too, and no_new_privs set, so nothing the
 * process might execute regains a capability.
 */
#ifndef WM_PRIVILEGES_H
#define WM_PRIVILEGES_H

#include <stdbool.h>

/* Drops every capability of the calling thread but CAP_NET_ADMIN (kept
 * only when it is held).
 * Returns 0 (dropped), 1 (nothing to drop: already that or less), or
 * -errno. */
int wm_privileges_drop(void);

/* Capabilities belong to threads: wm_privileges_drop() lowers the calling
 * thread (the loop's) only. A helper thread that needs no capability
 * (the resolver's, which reads DNS answers) calls this first thing: it
 * then holds none, whatever the agent was started with. 0 or -errno. */
int wm_privileges_drop_thread(void);

/* Whether the calling thread's effective set holds capabilities beyond
 * CAP_NET_ADMIN. */
bool wm_privileges_more_than_net_admin(void);

#endif
