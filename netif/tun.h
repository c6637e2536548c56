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
 *
 * Offloads: wm_tun_open_offload() opens the device with IFF_VNET_HDR, so
 * every read and write starts with a struct virtio_net_hdr (netif/gso.h),
 * and offers the kernel TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, with
 * TUN_F_USO4 | TUN_F_USO6 where the kernel takes them (Linux 6.2). Reads
 * may then be TCP (or UDP) super-packets of up to 64 KB that the caller
 * splits (netif/gso.h), and writes may be coalesced super-packets
 * (netif/gro.h). Where the kernel refuses, the device is opened plain.
 * The environment variable WIREMESH_TUN_OFFLOAD=0 forces plain mode (for
 * tests and comparisons).
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

/* UDP segmentation offload flags (Linux 6.2); older uapi headers lack
 * them. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* As wm_tun_open(), but with offloads where the kernel allows them (see
 * the top). *offloads is set to the TUN_F_* flags the kernel accepted,
 * or 0 for a plain device (no virtio header on reads and writes). */
int wm_tun_open_offload(const char *name, char actual[IFNAMSIZ],
			unsigned *offloads);

#endif
