/*
 * server_tables.h - the relay core's tables (private to relay/server.c):
 * the allow-list (sorted keys, binary search), a fixed pool of client
 * slots, the receiver-index table (wg/index.h, fixed size) and each
 * slot's token bucket. Everything is sized and allocated once, by
 * wm_relay_tables_init.
 *
 * (A slot is the relay's side of one connected client; the agent's side
 * of its session with a relay is relay/client.h's struct wm_relay_client.)
 */
#ifndef WM_RELAY_SERVER_TABLES_H
#define WM_RELAY_SERVER_TABLES_H

#include "agent/wg/index.h"
#include "agent/wg/noise.h"
#include "agent/relay/server.h"
#include "agent/wg/session.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_relay_slot;

/* A key the relay serves. */
struct wm_relay_allowed {
	uint8_t key[WM_KEY_SIZE];
	struct wm_noise_peer noise;     /* set up at its first handshake */
	bool noise_ready;
	struct wm_relay_slot *slot;     /* while it has one */
};

/* One connected client: its sessions, path and bucket. */
struct wm_relay_slot {
	struct wm_relay_allowed *who;     /* NULL: the slot is free */
	struct wm_relay_slot *next_free;
	struct wm_relay_path path;        /* where it was last heard from */
	/* next: answered, unconfirmed; cur: confirmed, used to send;
	 * prev: the one before cur, still accepted for stragglers */
	struct wm_session cur, prev, next;
	uint64_t last_rx_ns;
	uint64_t tokens;                  /* bytes it may still send now */
	uint64_t bucket_ns;               /* when tokens was last refilled */
	bool announced;                   /* "connected" was logged */
	/* cur's last PING offered forwarding frames (relay/fwd.h): RECVs
	 * go to it as "WMR" 0x02, else sealed as "WMR" 0x01 */
	bool fwd;
};

struct wm_relay_tables {
	struct wm_relay_allowed *allowed; /* sorted by key */
	size_t n_allowed;
	struct wm_relay_slot *pool;
	size_t n_pool, n_used;
	struct wm_relay_slot *free_slots;
	struct wm_index index;            /* owner: a slot; fixed size */
	uint64_t rate, burst;             /* bytes/s, bytes; rate 0: off */
};

/* Sorts and dedups the keys, sizes the pool (min(max_clients, keys)) and
 * the index, whose random indices come from ops->random. 0 or -ENOMEM. */
int wm_relay_tables_init(struct wm_relay_tables *t,
			 const uint8_t (*keys)[WM_KEY_SIZE], size_t n_keys,
			 uint32_t max_clients, uint64_t rate,
			 const struct wm_relay_ops *ops);
/* Replaces the allow-list, the pool's size and the rate (SIGHUP), sized
 * as wm_relay_tables_init does: a client still allowed keeps its slot's
 * state (sessions under the same receiver indices, path, bucket) and its
 * key its handshake state (replay timestamp); a client no longer allowed,
 * or past a smaller pool, loses its sessions: gone(ctx, slot) hears of
 * each first, and *dropped counts them. On -ENOMEM t is unchanged. */
int wm_relay_tables_reload(struct wm_relay_tables *t,
			   const uint8_t (*keys)[WM_KEY_SIZE], size_t n_keys,
			   uint32_t max_clients, uint64_t rate,
			   const struct wm_relay_ops *ops,
			   void (*gone)(void *ctx, const struct wm_relay_slot *c),
			   void *ctx, size_t *dropped);
/* Wipes and frees everything. */
void wm_relay_tables_free(struct wm_relay_tables *t);

/* The allow-list entry of key, or NULL. */
struct wm_relay_allowed *wm_relay_find_allowed(struct wm_relay_tables *t,
					       const uint8_t key[WM_KEY_SIZE]);

/* A zeroed slot for a, or NULL when the pool is full. */
struct wm_relay_slot *wm_relay_slot_alloc(struct wm_relay_tables *t,
					  struct wm_relay_allowed *a,
					  uint64_t now_ns);
/* Drops the client's indices, wipes its sessions, frees the slot. */
void wm_relay_slot_release(struct wm_relay_tables *t, struct wm_relay_slot *c);

/* Wipes a session and unmaps its index. */
void wm_relay_session_clear(struct wm_relay_tables *t, struct wm_session *s);

/* Takes len bytes from c's bucket. False (nothing taken) when it holds
 * fewer. */
bool wm_relay_bucket_take(const struct wm_relay_tables *t,
			  struct wm_relay_slot *c, size_t len,
			  uint64_t now_ns);

#endif
