/*
 * index.h - a table of receiver indices: each handshake in flight and each
 * session gets a random 32-bit index that the other side echoes, so an
 * incoming response, cookie or data message finds its owner in O(1). The
 * agent's owners are its peers; the relay server's are its client slots.
 *
 * Two sizes: wm_index_init's table grows (it reallocates, at handshake
 * time, never per packet: an entry is added only for an initiation or a
 * response); wm_index_init_fixed's is allocated once and never grows, for
 * the relay core, whose memory is all allocated at wm_relay_new.
 * Randomness comes from a callback, so a pure caller stays pure.
 */
#ifndef WM_INDEX_H
#define WM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_session;

/* Fills buf with len random bytes; 0 or -errno. */
typedef int wm_index_random_fn(void *ctx, void *buf, size_t len);

struct wm_index_entry {
	uint32_t index;
	bool used;
	void *owner;                /* the caller's: a peer, a relay slot */
	struct wm_session *session; /* NULL for a handshake */
};

struct wm_index {
	struct wm_index_entry *slots;
	size_t cap, used;
	size_t max;                 /* a fixed table's limit; 0: grows */
	wm_index_random_fn *random;
	void *random_ctx;
};

/* A table that grows, with indices from the kernel's CSPRNG (the agent).
 * 0 or -ENOMEM. */
int wm_index_init(struct wm_index *t);
/* A table allocated once for at most max entries; it never grows and
 * wm_index_add fails with -ENOSPC past max. Indices come from random.
 * 0, -EINVAL (max 0) or -ENOMEM. */
int wm_index_init_fixed(struct wm_index *t, size_t max,
			wm_index_random_fn *random, void *random_ctx);
void wm_index_free(struct wm_index *t);

/* Picks a fresh random index not in use and maps it to owner and session.
 * Returns 0 (*out gets the index), the random callback's -errno, -ENOMEM
 * or -ENOSPC, or -EAGAIN when 32 random draws were all taken. */
int wm_index_add(struct wm_index *t, void *owner, struct wm_session *session,
		 uint32_t *out);
/* Maps a given index (one already agreed with a peer) to owner and
 * session: how a table is rebuilt with its sessions kept. 0, -EEXIST or
 * -ENOSPC. */
int wm_index_insert(struct wm_index *t, uint32_t index, void *owner,
		    struct wm_session *session);
/* Remaps an existing index (a handshake's index becomes its session's;
 * a session moved to another slot). */
void wm_index_update(struct wm_index *t, uint32_t index,
		     struct wm_session *session);
/* Unknown indices are ignored. */
void wm_index_remove(struct wm_index *t, uint32_t index);
/* NULL when unknown. */
const struct wm_index_entry *wm_index_lookup(const struct wm_index *t,
					     uint32_t index);

#endif
