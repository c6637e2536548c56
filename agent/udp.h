/*
 * udp.h - the agent's one UDP socket: dual-stack where the host has IPv6,
 * non-blocking, with room for bursts. Everything (WireGuard, STUN, disco,
 * relay) shares it, so the mapping STUN reports is the one peers punch to.
 */
#ifndef WM_UDP_H
#define WM_UDP_H

#include <stdint.h>

/* Binds [::]:port (or 0.0.0.0:port without IPv6); port 0 picks one.
 * Returns the fd or -errno; *family and *bound get what was used. */
int wm_udp_open(uint16_t port, uint32_t fwmark, int *family, uint16_t *bound);

#endif
