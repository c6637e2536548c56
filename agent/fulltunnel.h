/*
 * fulltunnel.h - wg-quick's full tunnel, per address family: while a
 * peer's AllowedIPs hold a default route (and Table = auto), that route
 * lives in its own table (route_sync.h) and two rules send everything but
 * our own UDP socket's marked datagrams there (netif/rule.h), so the
 * tunnel's packets still leave by the main table to the endpoint. The
 * caller marks the socket (SO_MARK) before asking for the rules.
 *
 * For IPv4 it also sets net.ipv4.conf.all.src_valid_mark = 1, as wg-quick
 * does, so reverse-path filtering sees the mark on replies; a host where
 * that cannot be written gets a warning, not a failure.
 */
#ifndef WM_FULLTUNNEL_H
#define WM_FULLTUNNEL_H

#include "netif/link.h"

#include <stdbool.h>
#include <stdint.h>

enum { WM_FULLTUNNEL_TABLE = 51820 }; /* wg-quick's first choice */

struct wm_fulltunnel {
	bool on4, on6;   /* the rules of that family are in place */
	uint32_t mark;   /* and use this mark and table */
	uint32_t table;
};

/* Adds or removes each family's rules to match want4/want6. Failures are
 * reported on stderr (prefixed by ifname); returns how many failed. */
int wm_fulltunnel_sync(struct wm_fulltunnel *ft, struct wm_netif *n,
		       const char *ifname, bool want4, bool want6,
		       uint32_t mark, uint32_t table);
/* Removes whatever rules are in place (at stop). */
void wm_fulltunnel_stop(struct wm_fulltunnel *ft, struct wm_netif *n,
			const char *ifname);

#endif
