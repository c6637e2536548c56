/*
 * replay.c - see replay.h.
 *
 * Counter c lives in word (c / WORD_BITS) mod WORDS of the ring, bit
 * c % WORD_BITS. The window spans WORDS - 1 whole words below the greatest
 * counter's word plus that word itself, so every counter it accepts has a
 * slot of its own; the bits of the oldest word lying below the window are
 * stale but never consulted, since such counters fail the age test first.
 */
#include "agent/wg/replay.h"

#include <string.h>

_Static_assert(WM_REPLAY_BITS % WM_REPLAY_WORD_BITS == 0 &&
		       (WM_REPLAY_WORDS & (WM_REPLAY_WORDS - 1)) == 0,
	       "the ring must be a power-of-two number of whole words");
_Static_assert(sizeof(((struct wm_replay *)0)->ring) * CHAR_BIT ==
		       WM_REPLAY_BITS,
	       "ring size");

void wm_replay_init(struct wm_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Makes counter the greatest: words that the ring reuses between the old
 * greatest's word and counter's word still hold bits of a lap ago. */
static void advance(struct wm_replay *r, uint64_t counter)
{
	uint64_t first = r->next ? (r->next - 1) / WM_REPLAY_WORD_BITS + 1 : 0;
	uint64_t last = counter / WM_REPLAY_WORD_BITS;

	if (last >= first) {
		uint64_t n = last - first + 1;

		if (n > WM_REPLAY_WORDS)
			n = WM_REPLAY_WORDS;
		for (uint64_t i = 0; i < n; i++)
			r->ring[(first + i) % WM_REPLAY_WORDS] = 0;
	}
	r->next = counter + 1;
}

bool wm_replay_check(struct wm_replay *r, uint64_t counter)
{
	unsigned long *word, bit;

	if (counter >= WM_REJECT_AFTER_MESSAGES)
		return false;
	/* No overflow: counter is far below UINT64_MAX - WINDOW. */
	if (counter + WM_REPLAY_WINDOW + 1 < r->next)
		return false;
	if (counter >= r->next)
		advance(r, counter);

	word = &r->ring[(counter / WM_REPLAY_WORD_BITS) % WM_REPLAY_WORDS];
	bit = 1UL << (counter % WM_REPLAY_WORD_BITS);
	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}
