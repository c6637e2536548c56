/*
 * ifstate.h - is an interface administratively up? One ioctl, for the
 * REST API's health probe (GET /v1/health): the interface may be taken
 * down or deleted behind the agent's back (`ip link set wm0 down`).
 */
#ifndef WM_NETIF_IFSTATE_H
#define WM_NETIF_IFSTATE_H

/* 1 when name exists and has IFF_UP, 0 when it exists and is down,
 * -ENODEV when there is no such interface, other -errno on failure. */
int wm_netif_is_up(const char *name);

#endif
