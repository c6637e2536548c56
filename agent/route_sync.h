/*
 * route_sync.h - keeps the kernel's routes through our interface equal to the
 * union of every peer's AllowedIPs, adding and removing only the
 * difference, so peer changes at run time never flap unrelated routes.
 */
#ifndef WM_ROUTES_H
#define WM_ROUTES_H

#include "agent/config.h"
#include "agent/device.h"
#include "netif/link.h"

struct wm_routes {
	struct wm_cidr_list installed;
};

/* Brings the routes in line with dev's peers. Failures are reported on
 * stderr and counted; returns the number that failed. */
int wm_routes_sync(struct wm_routes *r, struct wm_netif *n, int ifindex,
		   const struct wm_device *dev);
void wm_routes_free(struct wm_routes *r);

#endif
