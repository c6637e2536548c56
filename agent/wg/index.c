/* See index.h. Open addressing with linear probing, kept at most half
 * full so probes stay short; indices are random, hence well spread.
 * Removal shifts later entries back (no tombstones), so lookups stay short
 * however long the table lives and a fixed table never needs a rehash. */
#include "agent/wg/index.h"
#include "crypto/random.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { INITIAL_CAP = 64, TRIES = 32 };

static int system_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	return wm_random_bytes(buf, len) < 0 ? -EIO : 0;
}

static int alloc(struct wm_index *t, size_t cap, size_t max,
		 wm_index_random_fn *random, void *random_ctx)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = cap;
	t->max = max;
	t->random = random;
	t->random_ctx = random_ctx;
	return 0;
}

int wm_index_init(struct wm_index *t)
{
	return alloc(t, INITIAL_CAP, 0, system_random, NULL);
}

int wm_index_init_fixed(struct wm_index *t, size_t max,
			wm_index_random_fn *random, void *random_ctx)
{
	size_t cap = INITIAL_CAP;

	if (!max || !random || max > SIZE_MAX / 4 / sizeof(*t->slots))
		return -EINVAL;
	while (cap < max * 2)
		cap <<= 1;
	return alloc(t, cap, max, random, random_ctx);
}

void wm_index_free(struct wm_index *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* The slot holding index, or the empty slot ending its probe. */
static size_t probe(const struct wm_index_entry *slots, size_t cap,
		    uint32_t index)
{
	size_t mask = cap - 1, i = index & mask;

	while (slots[i].used && slots[i].index != index)
		i = (i + 1) & mask;
	return i;
}

static struct wm_index_entry *find(const struct wm_index *t, uint32_t index)
{
	struct wm_index_entry *e = &t->slots[probe(t->slots, t->cap, index)];

	return e->used ? e : NULL;
}

static int grow(struct wm_index *t)
{
	size_t cap = t->cap * 2;
	struct wm_index_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			slots[probe(slots, cap, t->slots[i].index)] = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int wm_index_add(struct wm_index *t, void *owner, struct wm_session *session,
		 uint32_t *out)
{
	if (t->max && t->used >= t->max)
		return -ENOSPC;
	if (!t->max && (t->used + 1) * 2 > t->cap) {
		int r = grow(t);
		if (r < 0)
			return r;
	}
	for (int tries = 0; tries < TRIES; tries++) {
		uint32_t index;
		size_t i;
		int r = t->random(t->random_ctx, &index, sizeof(index));

		if (r < 0)
			return r;
		i = probe(t->slots, t->cap, index);
		if (t->slots[i].used)
			continue;
		t->slots[i] = (struct wm_index_entry){
			.index = index, .used = true, .owner = owner,
			.session = session,
		};
		t->used++;
		*out = index;
		return 0;
	}
	return -EAGAIN;
}

int wm_index_insert(struct wm_index *t, uint32_t index, void *owner,
		    struct wm_session *session)
{
	size_t i;

	if (t->max && t->used >= t->max)
		return -ENOSPC;
	if (!t->max && (t->used + 1) * 2 > t->cap) {
		int r = grow(t);
		if (r < 0)
			return r;
	}
	i = probe(t->slots, t->cap, index);
	if (t->slots[i].used)
		return -EEXIST;
	t->slots[i] = (struct wm_index_entry){
		.index = index, .used = true, .owner = owner, .session = session,
	};
	t->used++;
	return 0;
}

void wm_index_update(struct wm_index *t, uint32_t index,
		     struct wm_session *session)
{
	struct wm_index_entry *e = find(t, index);

	if (e)
		e->session = session;
}

void wm_index_remove(struct wm_index *t, uint32_t index)
{
	size_t mask = t->cap - 1, i = probe(t->slots, t->cap, index), j = i;

	if (!t->slots[i].used)
		return;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j].used)
			break;
		home = t->slots[j].index & mask;
		/* j's entry may fill the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	memset(&t->slots[i], 0, sizeof(t->slots[i]));
	t->used--;
}

const struct wm_index_entry *wm_index_lookup(const struct wm_index *t,
					     uint32_t index)
{
	return find(t, index);
}
