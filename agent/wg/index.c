/* See index.h. Open addressing with linear probing; the table doubles at
 * half load so probes stay short. Indices are random, hence well spread. */
#include "agent/wg/index.h"
#include "crypto/random.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { INITIAL_CAP = 64 };

int wm_index_init(struct wm_index *t)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(INITIAL_CAP, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->cap = INITIAL_CAP;
	return 0;
}

void wm_index_free(struct wm_index *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static struct wm_index_entry *find(const struct wm_index *t, uint32_t index)
{
	size_t mask = t->cap - 1;

	for (size_t i = index & mask, n = 0; n < t->cap; i = (i + 1) & mask, n++) {
		struct wm_index_entry *e = &t->slots[i];
		if (!e->used && !e->tombstone)
			return NULL;
		if (e->used && e->index == index)
			return e;
	}
	return NULL;
}

static void place(struct wm_index_entry *slots, size_t cap,
		  const struct wm_index_entry *src)
{
	size_t mask = cap - 1;

	for (size_t i = src->index & mask;; i = (i + 1) & mask) {
		if (!slots[i].used) {
			slots[i] = *src;
			slots[i].tombstone = false;
			return;
		}
	}
}

static int grow(struct wm_index *t)
{
	size_t cap = t->cap;
	struct wm_index_entry *slots;

	/* Rehash in place when tombstones, not entries, fill the table. */
	if (t->used * 4 >= t->cap)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			place(slots, cap, &t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	t->tombstones = 0;
	return 0;
}

int wm_index_add(struct wm_index *t, struct wm_peer *peer,
		 struct wm_session *session, uint32_t *out)
{
	struct wm_index_entry e = { .used = true, .peer = peer,
				    .session = session };

	if ((t->used + t->tombstones + 1) * 2 > t->cap) {
		int r = grow(t);
		if (r < 0)
			return r;
	}
	do {
		if (wm_random_bytes(&e.index, sizeof(e.index)) < 0)
			return -EIO;
	} while (find(t, e.index));
	/* A tombstone slot on the probe path may be reused. */
	size_t mask = t->cap - 1;
	for (size_t i = e.index & mask;; i = (i + 1) & mask) {
		if (!t->slots[i].used) {
			if (t->slots[i].tombstone)
				t->tombstones--;
			t->slots[i] = e;
			break;
		}
	}
	t->used++;
	*out = e.index;
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
	struct wm_index_entry *e = find(t, index);

	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->tombstone = true;
	t->used--;
	t->tombstones++;
}

const struct wm_index_entry *wm_index_lookup(const struct wm_index *t,
					     uint32_t index)
{
	return find(t, index);
}
