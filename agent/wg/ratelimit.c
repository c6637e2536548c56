/* See ratelimit.h. */
#include "agent/wg/ratelimit.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NS 1000000000ULL
/* A full table may be swept again this soon, not on every new source. */
#define FULL_GC_EVERY_NS (NS / 10)

struct wm_ratelimit_entry {
	uint64_t prefix;  /* the /32 or /64, as bytes */
	uint64_t last_ns; /* when the bucket was last filled */
	uint64_t tokens;
	uint32_t next;    /* index + 1 in the chain; 0 ends it */
	uint8_t family;   /* 0: on the free list */
};

int wm_ratelimit_init(struct wm_ratelimit *rl, size_t max_entries,
		      unsigned per_second, unsigned burst,
		      const uint8_t seed[WM_RATELIMIT_SEED_SIZE])
{
	memset(rl, 0, sizeof(*rl));
	if (max_entries == 0)
		max_entries = WM_RATELIMIT_DEFAULT_ENTRIES;
	if (per_second == 0)
		per_second = WM_RATELIMIT_PER_SECOND;
	if (burst == 0)
		burst = WM_RATELIMIT_BURST;
	if (max_entries > UINT32_MAX / 2 || per_second > NS || burst > 1000000)
		return -EINVAL;
	/* The bucket is counted in nanoseconds of credit: a handshake costs
	 * cost_ns, and a bucket holds at most burst of them. */
	rl->cost_ns = NS / per_second;
	rl->max_ns = rl->cost_ns * burst;
	/* A quarter as many chains as entries: four to a chain on average
	 * when full, and a seed the sender cannot know keeps it so. */
	rl->n_buckets = 1;
	while (rl->n_buckets < max_entries / 4)
		rl->n_buckets <<= 1;
	rl->max_entries = (uint32_t)max_entries;
	memcpy(rl->seed, seed, WM_RATELIMIT_SEED_SIZE);
	return 0;
}

/* The table is allocated at the first source: a device never under load
 * never pays for it. */
static bool ensure_table(struct wm_ratelimit *rl)
{
	if (rl->pool)
		return true;
	if (!rl->max_entries)
		return false;
	rl->pool = calloc(rl->max_entries, sizeof(*rl->pool));
	rl->buckets = calloc(rl->n_buckets, sizeof(*rl->buckets));
	if (rl->pool && rl->buckets)
		return true;
	free(rl->pool);
	free(rl->buckets);
	rl->pool = NULL;
	rl->buckets = NULL;
	return false;
}

void wm_ratelimit_free(struct wm_ratelimit *rl)
{
	free(rl->pool);
	free(rl->buckets);
	wm_memzero(rl, sizeof(*rl));
}

size_t wm_ratelimit_count(const struct wm_ratelimit *rl)
{
	return rl->used;
}

static uint32_t chain_of(const struct wm_ratelimit *rl, int family,
			 uint64_t prefix)
{
	uint8_t in[9], out[4];
	uint32_t h;

	memcpy(in, &prefix, 8);
	in[8] = (uint8_t)family;
	wm_blake2s(out, sizeof(out), in, sizeof(in), rl->seed, sizeof(rl->seed));
	memcpy(&h, out, 4);
	return h & (rl->n_buckets - 1);
}

/* Idle long enough that its bucket is full again: as good as new. */
static bool idle(const struct wm_ratelimit *rl,
		 const struct wm_ratelimit_entry *e, uint64_t now)
{
	uint64_t quiet = rl->max_ns > WM_RATELIMIT_IDLE_NS ? rl->max_ns
							  : WM_RATELIMIT_IDLE_NS;

	return now > e->last_ns && now - e->last_ns >= quiet;
}

static void sweep(struct wm_ratelimit *rl, uint64_t now)
{
	rl->last_gc_ns = now ? now : 1;
	for (uint32_t b = 0; b < rl->n_buckets && rl->used; b++) {
		uint32_t *link = &rl->buckets[b];

		while (*link) {
			struct wm_ratelimit_entry *e = &rl->pool[*link - 1];
			uint32_t self = *link;

			if (!idle(rl, e, now)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			memset(e, 0, sizeof(*e));
			e->next = rl->free_head;
			rl->free_head = self;
			rl->used--;
		}
	}
}

void wm_ratelimit_gc(struct wm_ratelimit *rl, uint64_t now_ns)
{
	if (!rl->pool)
		return;
	if (rl->last_gc_ns && now_ns < rl->last_gc_ns + WM_RATELIMIT_IDLE_NS)
		return;
	sweep(rl, now_ns);
}

/* The source's key; an IPv4 address seen on a dual-stack socket
 * (::ffff:a.b.c.d) is its IPv4 self, not one /64 for all of IPv4. */
static bool prefix_of(uint64_t *prefix, int *family, const void *addr)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	*prefix = 0;
	if (*family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		*family = AF_INET;
		addr = (const uint8_t *)addr + 12;
	}
	if (*family == AF_INET)
		memcpy(prefix, addr, 4);
	else if (*family == AF_INET6)
		memcpy(prefix, addr, 8);
	else
		return false;
	return true;
}

/* A new source: its bucket starts full, less this handshake. */
static bool add(struct wm_ratelimit *rl, uint32_t chain, int family,
		uint64_t prefix, uint64_t now)
{
	struct wm_ratelimit_entry *e;
	uint32_t self;

	if (rl->used == rl->max_entries &&
	    (!rl->last_gc_ns || now >= rl->last_gc_ns + FULL_GC_EVERY_NS))
		sweep(rl, now);
	if (rl->free_head) {
		self = rl->free_head;
		rl->free_head = rl->pool[self - 1].next;
	} else if (rl->fresh < rl->max_entries) {
		/* Never used before: the pool's pages are only touched as
		 * sources arrive. */
		self = ++rl->fresh;
	} else {
		return false;
	}
	e = &rl->pool[self - 1];
	e->prefix = prefix;
	e->family = (uint8_t)family;
	e->last_ns = now;
	e->tokens = rl->max_ns - rl->cost_ns;
	e->next = rl->buckets[chain];
	rl->buckets[chain] = self;
	rl->used++;
	return true;
}

bool wm_ratelimit_allow(struct wm_ratelimit *rl, int family, const void *addr,
			uint64_t now_ns)
{
	struct wm_ratelimit_entry *e;
	uint64_t prefix;
	uint32_t chain, i;

	if (!prefix_of(&prefix, &family, addr) || !ensure_table(rl))
		return false;
	chain = chain_of(rl, family, prefix);
	for (i = rl->buckets[chain]; i; i = e->next) {
		e = &rl->pool[i - 1];
		if (e->prefix != prefix || e->family != family)
			continue;
		if (now_ns > e->last_ns) {
			e->tokens += now_ns - e->last_ns;
			if (e->tokens > rl->max_ns)
				e->tokens = rl->max_ns;
			e->last_ns = now_ns;
		}
		if (e->tokens < rl->cost_ns)
			return false;
		e->tokens -= rl->cost_ns;
		return true;
	}
	return add(rl, chain, family, prefix, now_ns);
}
