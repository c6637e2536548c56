/*
 * tun.h - the agent's TUN device: one queue, raw IP packets (IFF_TUN with
 * IFF_NO_PI, so each read or write is exactly one IPv4 or IPv6 packet with no
 * 4-byte protocol header in front).
 *
 * The device is not persistent: it disappears when its last fd is closed,
 * so a crashed agent leaves nothing behind. Configure it (MTU, addresses,
 * routes, up) with netif/link.h.
 *
 * Only one queue is opened today. A second data thread would want a queue of
 * its own; that needs IFF_MULTI_QUEUE both here, when the device is created
 * (the kernel refuses to add queues to a device made without it), and on the
 * extra fd, so it will come as a flag change plus wm_tun_open_queue().
 */
#ifndef WM_NETIF_TUN_H
#define WM_NETIF_TUN_H

#include <net/if.h>

/* Creates (or attaches to an existing persistent) TUN device called name, or
 * a kernel-chosen "tunN" when name is NULL or "". The fd is non-blocking and
 * close-on-exec; the caller owns it. The device's real name is written to
 * actual (NUL-terminated). Returns the fd, or -errno: -EINVAL when name does
 * not fit IFNAMSIZ or belongs to a device that is not a TUN, -EBUSY when
 * another fd already holds that TUN. */
int wm_tun_open(const char *name, char actual[IFNAMSIZ]);

#endif
