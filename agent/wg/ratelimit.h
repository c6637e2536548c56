/*
 * ratelimit.h - a handshake budget per source address, as the kernel's
 * ratelimiter.c keeps one: a token bucket per IPv4 address (/32) or IPv6
 * prefix (/64: one host usually holds a whole /64): so many handshakes a
 * second with a burst, by default WireGuard's WM_RATELIMIT_PER_SECOND and
 * WM_RATELIMIT_BURST.
 *
 * Memory is bounded: a table of at most max_entries sources, allocated
 * once, at the first source that asks (a device never under load never
 * holds it); a source idle for WM_RATELIMIT_IDLE_NS has a full bucket again, so
 * it is forgotten (after a second, or the bucket's refill time if longer) by
 * the garbage collection (wm_ratelimit_gc, and on
 * demand when the table is full). A new source that finds the table full
 * of live ones is refused: under a spray of addresses, sources already
 * known keep their budget. Buckets are found by a hash keyed with a secret
 * seed, so a sender cannot choose addresses that land in one chain.
 *
 * Pure: time comes in as an argument, the seed at init; no clock, no I/O.
 */
#ifndef WM_RATELIMIT_H
#define WM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_RATELIMIT_PER_SECOND = 20,
	WM_RATELIMIT_BURST = 5,
	/* 32 bytes a source: 8,192 of them is 256 KiB (and a quarter of
	 * that for the heads), touched only as sources arrive. */
	WM_RATELIMIT_DEFAULT_ENTRIES = 8192,
	WM_RATELIMIT_SEED_SIZE = 16,
};
#define WM_RATELIMIT_IDLE_NS 1000000000ULL

struct wm_ratelimit_entry;

struct wm_ratelimit {
	struct wm_ratelimit_entry *pool; /* max_entries, chained by index */
	uint32_t *buckets;               /* n_buckets heads (index + 1; 0 empty) */
	uint32_t n_buckets, max_entries, used, free_head;
	uint32_t fresh; /* pool entries ever handed out */
	uint64_t cost_ns, max_ns; /* a handshake's cost; the bucket's size */
	uint64_t last_gc_ns;
	uint8_t seed[WM_RATELIMIT_SEED_SIZE];
};

/* Sets up a limiter for max_entries sources, per_second handshakes a
 * second and bursts of burst per source (0 for any: the defaults); the
 * table itself comes with the first source. seed: 16 random bytes,
 * copied. 0, or -EINVAL when a figure is absurd. rl is overwritten: free
 * a limiter before setting it up again. */
int wm_ratelimit_init(struct wm_ratelimit *rl, size_t max_entries,
		      unsigned per_second, unsigned burst,
		      const uint8_t seed[WM_RATELIMIT_SEED_SIZE]);
/* Frees the table; a zeroed or freed limiter is fine. */
void wm_ratelimit_free(struct wm_ratelimit *rl);

/* True when a handshake from this source may be handled now (and charges
 * its bucket); false too when the table cannot be allocated. family: AF_INET with 4 bytes at addr, or AF_INET6 with 16
 * (only the first 8 count; a v4-mapped one counts as its IPv4 address).
 * Any other family is refused. */
bool wm_ratelimit_allow(struct wm_ratelimit *rl, int family, const void *addr,
			uint64_t now_ns);

/* Forgets sources idle for WM_RATELIMIT_IDLE_NS. Cheap to call often: it
 * walks the table at most once a second. */
void wm_ratelimit_gc(struct wm_ratelimit *rl, uint64_t now_ns);

/* Sources remembered now. */
size_t wm_ratelimit_count(const struct wm_ratelimit *rl);

#endif
