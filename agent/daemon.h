/*
 * daemon.h - going to the background the way `wireguard-go IFNAME` does, for
 * `wiremesh-wg`: the caller (wg-quick) gets control back only once the
 * interface and its UAPI socket exist, so its next `wg setconf` finds them,
 * and learns from the exit status whether they came up.
 *
 * wm_daemon_begin forks: the parent waits for the child's word and exits
 * with 0 (ready) or 1 (the child failed before it was ready; its messages
 * went to the same stderr); the child, in a new session, carries on and
 * calls wm_daemon_ready once up, which also points its stdio at /dev/null
 * so that nothing holds the caller's pipes open.
 */
#ifndef WM_DAEMON_H
#define WM_DAEMON_H

/* In the child: returns the fd to pass to wm_daemon_ready (>= 0). In the
 * parent: never returns (exits). -errno when fork fails. */
int wm_daemon_begin(void);
/* Tells the waiting parent we are up, and detaches stdio. */
void wm_daemon_ready(int fd);

#endif
