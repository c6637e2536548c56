/*
 * timers.h - WireGuard's per-peer timers (whitepaper 6.2-6.5), pure: the
 * caller reports what happened with the time (wm_timers_on_*), and
 * wm_timers_tick() says which timers fired; the caller acts on them.
 * Nothing here sends, reads a clock or touches a peer.
 *
 *   retransmit_handshake  REKEY_TIMEOUT (+ jitter) after an initiation:
 *                         resend, up to MAX_TIMER_HANDSHAKES, then give up
 *   send_keepalive        KEEPALIVE_TIMEOUT after data arrived and nothing
 *                         was sent back: send an empty packet
 *   new_handshake         KEEPALIVE + REKEY_TIMEOUT (+ jitter) after data
 *                         was sent and nothing came back: the session may
 *                         be dead, start a new handshake
 *   zero_key_material     3 * REJECT_AFTER_TIME after the last session was
 *                         made (or after giving up): wipe every key
 *   persistent_keepalive  every PersistentKeepalive seconds of silence
 *
 * Jitter comes from a small generator seeded by the caller, so a test
 * with a fixed seed sees fixed deadlines.
 */
#ifndef WM_TIMERS_H
#define WM_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

enum { WM_TIMERS_TICK_MS = 50 };

/* Deadlines in monotonic ns, 0 when not armed. */
struct wm_timers {
	uint64_t retransmit_handshake;
	uint64_t send_keepalive;
	uint64_t new_handshake;
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	bool need_another_keepalive;
	unsigned handshake_attempts;
	uint64_t last_initiation_sent; /* 0 = never */
	uint16_t keepalive_s;          /* PersistentKeepalive, 0 = off */
	uint64_t jitter_state;
};

/* What wm_timers_tick() found due; the caller does each, in this order. */
enum wm_timer_action {
	WM_TIMER_RETRANSMIT = 1 << 0,     /* resend the initiation (a retry) */
	WM_TIMER_GIVE_UP = 1 << 1,        /* too many retries: drop staged */
	WM_TIMER_KEEPALIVE = 1 << 2,      /* send a keepalive */
	WM_TIMER_NEW_HANDSHAKE = 1 << 3,  /* sent data, heard nothing */
	WM_TIMER_ZERO_KEYS = 1 << 4,      /* wipe sessions and handshake */
	WM_TIMER_PERSISTENT = 1 << 5,     /* persistent keepalive is due */
};

/* Clears every deadline and seeds the jitter. */
void wm_timers_init(struct wm_timers *t, uint64_t seed);

void wm_timers_on_data_sent(struct wm_timers *t, uint64_t now);
void wm_timers_on_data_received(struct wm_timers *t, uint64_t now);
void wm_timers_on_authenticated_sent(struct wm_timers *t, uint64_t now);
void wm_timers_on_authenticated_received(struct wm_timers *t, uint64_t now);
void wm_timers_on_authenticated_traversal(struct wm_timers *t, uint64_t now);
void wm_timers_on_handshake_initiated(struct wm_timers *t, uint64_t now);
void wm_timers_on_handshake_complete(struct wm_timers *t, uint64_t now);
void wm_timers_on_session_derived(struct wm_timers *t, uint64_t now);

/* True when an initiation may go out now (none sent within
 * REKEY_TIMEOUT). A new, non-retry attempt resets the retry count. */
bool wm_timers_may_initiate(struct wm_timers *t, bool is_retry, uint64_t now);
/* An initiation went out now. */
void wm_timers_initiation_sent(struct wm_timers *t, uint64_t now);

/* Sets PersistentKeepalive; turning it on makes one due at once. */
void wm_timers_set_persistent_keepalive(struct wm_timers *t, uint16_t secs,
					uint64_t now);

/* Disarms everything (peer removal, shutdown); keeps the interval. */
void wm_timers_stop(struct wm_timers *t);

/* Fires every due timer: returns a mask of enum wm_timer_action. */
unsigned wm_timers_tick(struct wm_timers *t, uint64_t now);

#endif
