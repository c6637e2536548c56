/* See relay/server_tables.h. */
#include "agent/relay/server_tables.h"
#include "crypto/ct.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_BURST = 64 * 1024 };
/* Tokens are kept in byte-nanoseconds so that refills of a few
 * microseconds are not rounded away; past WM_RELAY_MAX_CLIENT_RATE the
 * product could overflow 64 bits. */
#define NS 1000000000ULL

static int cmp_allowed(const void *a, const void *b)
{
	return memcmp(((const struct wm_relay_allowed *)a)->key,
		      ((const struct wm_relay_allowed *)b)->key, WM_KEY_SIZE);
}

int wm_relay_tables_init(struct wm_relay_tables *t,
			 const uint8_t (*keys)[WM_KEY_SIZE], size_t n_keys,
			 uint32_t max_clients, uint64_t rate,
			 const struct wm_relay_ops *ops)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	t->allowed = calloc(n_keys ? n_keys : 1, sizeof(*t->allowed));
	if (!t->allowed)
		return -ENOMEM;
	for (size_t i = 0; i < n_keys; i++)
		memcpy(t->allowed[i].key, keys[i], WM_KEY_SIZE);
	qsort(t->allowed, n_keys, sizeof(*t->allowed), cmp_allowed);
	for (size_t i = 0; i < n_keys; i++)
		if (n == 0 || cmp_allowed(&t->allowed[n - 1], &t->allowed[i]))
			t->allowed[n++] = t->allowed[i];
	t->n_allowed = n;

	t->n_pool = max_clients && max_clients < n ? max_clients : n;
	t->pool = calloc(t->n_pool ? t->n_pool : 1, sizeof(*t->pool));
	/* Three sessions a client, and a fourth index for a moment while a
	 * handshake replaces "next" (server.c's respond). */
	if (!t->pool || wm_index_init_fixed(&t->index, t->n_pool * 3 + 1,
					    ops->random, ops->ctx) < 0) {
		wm_relay_tables_free(t);
		return -ENOMEM;
	}
	for (size_t i = t->n_pool; i-- > 0;) {
		t->pool[i].next_free = t->free_slots;
		t->free_slots = &t->pool[i];
	}
	/* Clamped, not turned off: a caller asking for more than the
	 * arithmetic holds still gets a limit (the config refuses it). */
	t->rate = rate > WM_RELAY_MAX_CLIENT_RATE ? WM_RELAY_MAX_CLIENT_RATE
						  : rate;
	t->burst = t->rate / 4 > MIN_BURST ? t->rate / 4 : MIN_BURST;
	return 0;
}

/* Moves old's index entries (sessions) to ns, in nt's index. */
static int move_indices(struct wm_relay_tables *nt,
			const struct wm_relay_tables *t,
			const struct wm_relay_slot *os, struct wm_relay_slot *ns)
{
	for (size_t i = 0; i < t->index.cap; i++) {
		const struct wm_index_entry *e = &t->index.slots[i];
		struct wm_session *s = NULL;
		int r;

		if (!e->used || e->owner != os)
			continue;
		if (e->session == &os->cur)
			s = &ns->cur;
		else if (e->session == &os->prev)
			s = &ns->prev;
		else if (e->session == &os->next)
			s = &ns->next;
		r = wm_index_insert(&nt->index, e->index, ns, s);
		if (r < 0)
			return r;
	}
	return 0;
}

int wm_relay_tables_reload(struct wm_relay_tables *t,
			   const uint8_t (*keys)[WM_KEY_SIZE], size_t n_keys,
			   uint32_t max_clients, uint64_t rate,
			   const struct wm_relay_ops *ops,
			   void (*gone)(void *ctx, const struct wm_relay_slot *c),
			   void *ctx, size_t *dropped)
{
	struct wm_relay_tables nt;
	int r = wm_relay_tables_init(&nt, keys, n_keys, max_clients, rate, ops);

	*dropped = 0;
	if (r < 0)
		return r;
	/* A key keeps what its handshakes taught us (the newest timestamp,
	 * the precomputed DH), so an old initiation cannot be replayed. */
	for (size_t i = 0; i < nt.n_allowed; i++) {
		struct wm_relay_allowed *na = &nt.allowed[i];
		struct wm_relay_allowed *oa = wm_relay_find_allowed(t, na->key);

		if (oa) {
			*na = *oa;
			na->slot = NULL;
		}
	}
	for (size_t i = 0; i < t->n_pool; i++) {
		struct wm_relay_slot *os = &t->pool[i], *ns;
		struct wm_relay_allowed *na;

		if (!os->who)
			continue;
		na = wm_relay_find_allowed(&nt, os->who->key);
		ns = na ? wm_relay_slot_alloc(&nt, na, os->last_rx_ns) : NULL;
		if (!ns) {
			(*dropped)++;
			continue;
		}
		*ns = *os;
		ns->who = na;
		ns->next_free = NULL;
		if (ns->tokens > nt.burst * NS)
			ns->tokens = nt.burst * NS;
		r = move_indices(&nt, t, os, ns);
		if (r < 0) {
			wm_relay_tables_free(&nt);
			return r;
		}
	}
	for (size_t i = 0; gone && i < t->n_pool; i++) {
		struct wm_relay_allowed *na;

		if (!t->pool[i].who)
			continue;
		na = wm_relay_find_allowed(&nt, t->pool[i].who->key);
		if (!na || !na->slot)
			gone(ctx, &t->pool[i]);
	}
	wm_relay_tables_free(t);
	*t = nt;
	return 0;
}

void wm_relay_tables_free(struct wm_relay_tables *t)
{
	if (t->allowed)
		wm_memzero(t->allowed, t->n_allowed * sizeof(*t->allowed));
	if (t->pool)
		wm_memzero(t->pool, t->n_pool * sizeof(*t->pool));
	free(t->allowed);
	free(t->pool);
	wm_index_free(&t->index);
	memset(t, 0, sizeof(*t));
}

struct wm_relay_allowed *wm_relay_find_allowed(struct wm_relay_tables *t,
					       const uint8_t key[WM_KEY_SIZE])
{
	size_t lo = 0, hi = t->n_allowed;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(key, t->allowed[mid].key, WM_KEY_SIZE);
		if (c == 0)
			return &t->allowed[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct wm_relay_slot *wm_relay_slot_alloc(struct wm_relay_tables *t,
					  struct wm_relay_allowed *a,
					  uint64_t now_ns)
{
	struct wm_relay_slot *c = t->free_slots;

	if (!c)
		return NULL;
	t->free_slots = c->next_free;
	memset(c, 0, sizeof(*c));
	c->who = a;
	c->tokens = t->burst * NS;
	c->bucket_ns = now_ns;
	c->last_rx_ns = now_ns;
	a->slot = c;
	t->n_used++;
	return c;
}

void wm_relay_session_clear(struct wm_relay_tables *t, struct wm_session *s)
{
	if (s->valid)
		wm_index_remove(&t->index, s->kp.local_index);
	wm_session_wipe(s);
}

void wm_relay_slot_release(struct wm_relay_tables *t, struct wm_relay_slot *c)
{
	if (!c->who)
		return;
	wm_relay_session_clear(t, &c->cur);
	wm_relay_session_clear(t, &c->prev);
	wm_relay_session_clear(t, &c->next);
	c->who->slot = NULL;
	wm_memzero(c, sizeof(*c));
	c->next_free = t->free_slots;
	t->free_slots = c;
	t->n_used--;
}

bool wm_relay_bucket_take(const struct wm_relay_tables *t,
			  struct wm_relay_slot *c, size_t len,
			  uint64_t now_ns)
{
	uint64_t full = t->burst * NS, elapsed, need;

	if (!t->rate)
		return true;
	elapsed = now_ns > c->bucket_ns ? now_ns - c->bucket_ns : 0;
	if (elapsed >= NS || full - c->tokens <= elapsed * t->rate)
		c->tokens = full;
	else
		c->tokens += elapsed * t->rate;
	c->bucket_ns = now_ns;
	need = (uint64_t)len * NS;
	if (len > t->burst || c->tokens < need)
		return false;
	c->tokens -= need;
	return true;
}
