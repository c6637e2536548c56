/*
 * rule.h - the two policy-routing rules wg-quick adds for a full tunnel
 * (AllowedIPs with 0.0.0.0/0 or ::/0), per address family, over rtnetlink:
 *
 *   not fwmark MARK table TABLE           everything not from our own UDP
 *                                         socket looks in the tunnel's table
 *   table main suppress_prefixlength 0    but the main table wins for any
 *                                         route more specific than a default
 *
 * Our socket carries SO_MARK = MARK, so the tunnel's own datagrams skip the
 * first rule and leave by the main table's default route, to the endpoint.
 * Priorities are the kernel's choice (just below the first rule that has
 * one), as with `ip rule add`. Adding a rule that is already there and
 * deleting one that is not both succeed, so setup and teardown repeat.
 */
#ifndef WM_NETIF_RULE_H
#define WM_NETIF_RULE_H

#include "netif/link.h"

#include <stdbool.h>
#include <stdint.h>

/* `not fwmark mark table table` for family (AF_INET or AF_INET6). */
int wm_netif_fwmark_rule(struct wm_netif *n, int family, uint32_t mark,
			 uint32_t table, bool add);
/* `table main suppress_prefixlength 0` for family. */
int wm_netif_suppress_rule(struct wm_netif *n, int family, bool add);

#endif
