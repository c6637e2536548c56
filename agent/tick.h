/*
 * tick.h - the periodic work on peers, every WM_TIMERS_TICK_MS: acting on
 * the WireGuard timers that fired (wg/timers.h says which), judging the
 * direct path's liveness, discovery's probes and heartbeats, and paths
 * whose proof ran out. Also what a change of the relay's state means for
 * peers.
 */
#ifndef WM_TICK_H
#define WM_TICK_H

#include "agent/device.h"

#include <stdint.h>

/* Everything due for every peer. */
void wm_tick_peers(struct wm_device *dev, uint64_t now_ns);

/* The relay went up or down: paths follow; with a path back, peers with
 * packets waiting, or that must stay alive, handshake now rather than at
 * their next retry. */
void wm_tick_relay_changed(struct wm_device *dev, uint64_t now_ns);

#endif
