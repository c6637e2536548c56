/*
 * link.h - interface configuration over rtnetlink (libnl-route-3): look up an
 * interface, set its MTU and up state, add and remove its addresses and the
 * routes that point into it, and list the host's own addresses as
 * NAT-traversal candidates. No shelling out to ip(8).
 *
 * A struct wm_netif is one netlink socket plus the last error's details. It
 * belongs to one thread (the control loop); two threads need two of them.
 * Everything acts on the network namespace the socket was opened in.
 *
 * Every call returns 0 (or a count or ifindex) on success and -errno on
 * failure. When the kernel refuses a request the errno is the kernel's own
 * (-ENODEV for an unknown ifindex, -EINVAL for an MTU out of range, ...), not
 * libnl's coarser code; wm_netif_last_error() adds the kernel's
 * extended-ack text when it gave one. Adding what already exists and deleting
 * what is already gone both succeed, so setup and teardown can be repeated.
 */
#ifndef WM_NETIF_LINK_H
#define WM_NETIF_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netif/addr.h"

struct nl_sock;

struct wm_netif {
	struct nl_sock *sk;
	int kernel_err;        /* the kernel's errno for the latest request */
	char kernel_msg[128];  /* its extended-ack text, "" if none */
	char error[192];       /* see wm_netif_last_error() */
};

/* Connects a NETLINK_ROUTE socket (close-on-exec). n must stay at the same
 * address until wm_netif_close(): the socket's error hook points at it.
 * Returns 0 or -errno; on failure n needs no close. */
int wm_netif_open(struct wm_netif *n);
/* Frees the socket. Safe on a zeroed or already-closed n. */
void wm_netif_close(struct wm_netif *n);
/* Why the latest failing call on n failed, for logs: the operation, then
 * the kernel's extended-ack text and errno text, or libnl's own message
 * ("set mtu: mtu greater than device maximum: Invalid argument"). */
const char *wm_netif_last_error(const struct wm_netif *n);

/* The ifindex (> 0) of the interface called name; -ENODEV if none, -EINVAL
 * if name is empty or longer than IFNAMSIZ - 1. */
int wm_netif_ifindex(struct wm_netif *n, const char *name);
/* Sets the MTU. The kernel bounds it per device (-EINVAL outside); below
 * 1280 the kernel turns IPv6 off on that interface. */
int wm_netif_set_mtu(struct wm_netif *n, int ifindex, unsigned mtu);
/* Sets or clears IFF_UP, leaving every other flag alone. */
int wm_netif_set_up(struct wm_netif *n, int ifindex, bool up);

/* Adds c (host bits kept: 10.0.0.1/24 means address 10.0.0.1 on a /24) to
 * the interface. IPv6 addresses get IFA_F_NODAD so they are never held
 * tentative (the kernel still installs their local route from a work item,
 * a moment after this returns). An address already there succeeds. */
int wm_netif_add_address(struct wm_netif *n, int ifindex,
			 const struct wm_cidr *c);
/* Removes c from the interface; an address that is not there succeeds. */
int wm_netif_del_address(struct wm_netif *n, int ifindex,
			 const struct wm_cidr *c);

/* Routes the prefix c (host bits cleared first) into the interface: main
 * table, scope link, no gateway, protocol static; the kernel's default metric
 * (0 for IPv4, 1024 for IPv6). The interface must be up (IPv4 refuses a
 * route into a down device with -ENETDOWN). Succeeds when a route for that
 * prefix and metric into this interface already exists, which covers the
 * kernel's own route for the interface's address subnet; -EEXIST when one
 * exists into another interface (the caller may warn and go on). */
int wm_netif_add_route(struct wm_netif *n, int ifindex,
		       const struct wm_cidr *c);
/* Removes the static route for prefix c into the interface; absent succeeds.
 * Only protocol-static routes match, so the kernel's subnet route for the
 * interface's own address survives even when add_route met it. */
int wm_netif_del_route(struct wm_netif *n, int ifindex,
		       const struct wm_cidr *c);

/* The first routing table from `from` on (at most 1024 tried) that holds
 * no route, IPv4 or IPv6: wg-quick's search for a full tunnel's table.
 * Stored in *out; 0 or -errno (-ENOSPC when every one is in use). */
int wm_netif_free_table(struct wm_netif *n, uint32_t from, uint32_t *out);
/* The same in routing table `table` (RT_TABLE_MAIN is 254; tables above
 * 255 go as RTA_TABLE): wg-quick's `Table =` and full-tunnel routes. */
int wm_netif_add_route_table(struct wm_netif *n, int ifindex,
			     const struct wm_cidr *c, uint32_t table);
int wm_netif_del_route_table(struct wm_netif *n, int ifindex,
			     const struct wm_cidr *c, uint32_t table);

/* Fills out with up to cap of the host's usable global unicast addresses,
 * v4 and v6, each with its prefix length: skips loopback, link-local
 * (169.254/16, fe80::/10), non-global scope, tentative and DAD-failed ones,
 * and every address on skip_ifindex (pass the mesh interface; 0 skips none).
 * These are NAT-traversal candidates. Returns the count stored (extra
 * addresses are dropped) or -errno. */
int wm_netif_list_addresses(struct wm_netif *n, int skip_ifindex,
			    struct wm_cidr *out, size_t cap);

#endif
