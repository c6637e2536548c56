/*
 * route_sync.h - keeps the kernel's routes through our interface equal to the
 * union of every peer's AllowedIPs, adding and removing only the
 * difference, so peer changes at run time never flap unrelated routes.
 *
 * Where each route goes follows wg-quick's `Table =`: auto puts routes in
 * the main table, except a default route (0.0.0.0/0, ::/0), which goes to
 * the full-tunnel table (agent/fulltunnel.h adds the rules that use it);
 * off installs nothing; a number puts every route, defaults included, in
 * that table.
 */
#ifndef WM_ROUTES_H
#define WM_ROUTES_H

#include "agent/config.h"
#include "agent/device.h"
#include "netif/link.h"

struct wm_route {
	struct wm_cidr c;
	uint32_t table;
};

struct wm_routes {
	struct wm_route *installed;
	size_t len, cap;
	/* After a sync in auto mode: a default route per family is in
	 * full_table, and needs the full tunnel's rules. */
	bool default4, default6;
};

struct wm_route_policy {
	enum wm_table_mode mode;
	uint32_t table;      /* WM_TABLE_ID */
	uint32_t full_table; /* auto: where default routes go */
};

/* Brings the routes in line with dev's peers under pol. Failures are
 * reported on stderr and counted; returns the number that failed. */
int wm_routes_sync(struct wm_routes *r, struct wm_netif *n, int ifindex,
		   const struct wm_device *dev, const struct wm_route_policy *pol);
/* Where c goes under pol: a table number, or 0 for nowhere (Table = off). */
uint32_t wm_route_table(const struct wm_route_policy *pol,
			const struct wm_cidr *c);
void wm_routes_free(struct wm_routes *r);

#endif
