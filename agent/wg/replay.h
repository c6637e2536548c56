/*
 * replay.h - the anti-replay window of one receiving keypair (RFC 6479, as
 * WireGuard's counter validation).
 *
 * A ring of WM_REPLAY_BITS bits remembers which counters near the greatest
 * one seen have arrived. A counter is accepted once, and only if it is at
 * most WM_REPLAY_WINDOW below the greatest so far (one word of the ring is
 * kept spare so that sliding forward clears whole words) and below
 * WM_REJECT_AFTER_MESSAGES, past which a keypair must not be used.
 *
 * Call wm_replay_check only AFTER the packet has authenticated: decrypt
 * first, then update the window. A forged packet must never move it.
 * Not thread-safe: one receiver per keypair, or the caller locks.
 */
#ifndef WM_AGENT_REPLAY_H
#define WM_AGENT_REPLAY_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

/* 2^64 - 2^13 - 1, as in the WireGuard paper. */
#define WM_REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))

#define WM_REPLAY_BITS 2048
#define WM_REPLAY_WORD_BITS (sizeof(unsigned long) * CHAR_BIT)
#define WM_REPLAY_WORDS (WM_REPLAY_BITS / WM_REPLAY_WORD_BITS)
#define WM_REPLAY_WINDOW (WM_REPLAY_BITS - WM_REPLAY_WORD_BITS)

struct wm_replay {
	uint64_t next; /* greatest counter accepted + 1; 0 before the first */
	unsigned long ring[WM_REPLAY_WORDS];
};

/* Empties the window (a new keypair). */
void wm_replay_init(struct wm_replay *r);
/* Call only after the packet authenticated. True, and the counter is recorded,
 * if it is new and inside the window; false for a duplicate, a counter more
 * than WM_REPLAY_WINDOW below the greatest, or one >= REJECT_AFTER_MESSAGES. */
bool wm_replay_check(struct wm_replay *r, uint64_t counter);

#endif
