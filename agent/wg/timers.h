/*
 * timers.h - WireGuard's per-peer timers, driven by event hooks: the data
 * path reports what happened (wm_timers_on_*), and only timers.c decides
 * what to arm or cancel. The five timers, as in the whitepaper 6.2-6.5:
 *
 *   retransmit_handshake  REKEY_TIMEOUT (+ jitter) after an initiation;
 *                         resend, up to MAX_TIMER_HANDSHAKES, then give up
 *   send_keepalive        KEEPALIVE_TIMEOUT after data arrived and nothing
 *                         was sent back: send an empty packet
 *   new_handshake         KEEPALIVE + REKEY_TIMEOUT after data was sent and
 *                         nothing came back: the session may be dead
 *   zero_key_material     3 * REJECT_AFTER_TIME after the last session was
 *                         made: wipe every key
 *   persistent_keepalive  every PersistentKeepalive seconds of silence
 *
 * Deadlines live in struct wm_peer_timers; wm_timers_tick() fires those
 * due. The event loop ticks every WM_TIMERS_TICK_MS.
 */
#ifndef WM_TIMERS_H
#define WM_TIMERS_H

#include <stdint.h>

struct wm_peer;
struct wm_device;

enum { WM_TIMERS_TICK_MS = 50 };

void wm_timers_on_data_sent(struct wm_peer *p);
void wm_timers_on_data_received(struct wm_peer *p);
void wm_timers_on_authenticated_sent(struct wm_peer *p);
void wm_timers_on_authenticated_received(struct wm_peer *p);
void wm_timers_on_authenticated_traversal(struct wm_peer *p);
void wm_timers_on_handshake_initiated(struct wm_peer *p);
void wm_timers_on_handshake_complete(struct wm_peer *p);
void wm_timers_on_session_derived(struct wm_peer *p);

/* Persistent keepalive was just turned on: send one now. */
void wm_timers_persistent_keepalive_now(struct wm_peer *p);
/* Disarms everything (peer removal, shutdown). */
void wm_timers_stop(struct wm_peer *p);
/* Fires every due timer of every peer. */
void wm_timers_tick(struct wm_device *dev, uint64_t now_ns);

#endif
