/*
 * link_nl.h - the error bookkeeping link.c keeps for every request, shared
 * with the other netif/ files that speak rtnetlink on a struct wm_netif
 * (rule.c). Not for callers outside netif/.
 */
#ifndef WM_NETIF_LINK_NL_H
#define WM_NETIF_LINK_NL_H

#include "netif/link.h"

/* Clears the kernel's answer before a request. */
void wm_netif_begin(struct wm_netif *n);
/* A libnl result as 0 or -errno (the kernel's own when it refused), with
 * the reason recorded for wm_netif_last_error(). */
int wm_netif_finish(struct wm_netif *n, const char *what, int nlerr);
/* A refusal the caller counts as success: leaves no message; returns 0. */
int wm_netif_forgive(struct wm_netif *n);
/* A request refused before it was sent; returns err. */
int wm_netif_reject(struct wm_netif *n, const char *what, int err);

#endif
