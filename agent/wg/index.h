/*
 * index.h - the table of our receiver indices: each handshake in flight and
 * each session gets a random 32-bit index that the other side echoes, so an
 * incoming response, cookie or data message finds its peer in O(1).
 */
#ifndef WM_INDEX_H
#define WM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_peer;
struct wm_session;

struct wm_index_entry {
	uint32_t index;
	bool used;
	bool tombstone;
	struct wm_peer *peer;
	struct wm_session *session; /* NULL for a handshake */
};

struct wm_index {
	struct wm_index_entry *slots;
	size_t cap, used, tombstones;
};

int wm_index_init(struct wm_index *t);
void wm_index_free(struct wm_index *t);

/* Picks a fresh random index not in use and maps it. Returns 0 or -ENOMEM;
 * *out gets the index. */
int wm_index_add(struct wm_index *t, struct wm_peer *peer,
		 struct wm_session *session, uint32_t *out);
/* Remaps an existing index (a handshake's index becomes its session's). */
void wm_index_update(struct wm_index *t, uint32_t index,
		     struct wm_session *session);
void wm_index_remove(struct wm_index *t, uint32_t index);
/* NULL when unknown. */
const struct wm_index_entry *wm_index_lookup(const struct wm_index *t,
					     uint32_t index);

#endif
