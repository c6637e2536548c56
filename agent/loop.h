/*
 * loop.h - the control thread's epoll loop. Handlers are caller-owned
 * structs (no allocation here); a periodic tick drives the timers.
 */
#ifndef WM_LOOP_H
#define WM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wm_loop_handler {
	int fd;
	void (*fn)(struct wm_loop_handler *h, uint32_t events);
	void *ctx;
};

enum { WM_LOOP_MAX_TICKS = 8 };

struct wm_loop_tick {
	void (*fn)(void *ctx, uint64_t now_ns);
	void *ctx;
};

struct wm_loop {
	int epfd;
	bool stop;
	unsigned tick_ms;
	uint64_t next_tick;
	struct wm_loop_tick ticks[WM_LOOP_MAX_TICKS];
	unsigned n_ticks;
	void (*round_end)(void *ctx);
	void *round_end_ctx;
};

int wm_loop_init(struct wm_loop *l, unsigned tick_ms);
void wm_loop_close(struct wm_loop *l);
/* Watches h->fd for events (EPOLLIN...). 0 or -errno. */
int wm_loop_add(struct wm_loop *l, struct wm_loop_handler *h, uint32_t events);
int wm_loop_mod(struct wm_loop *l, struct wm_loop_handler *h, uint32_t events);
void wm_loop_del(struct wm_loop *l, struct wm_loop_handler *h);
/* Blocks the n signals in sigs and delivers them through a signalfd that
 * h watches (h->fn and h->ctx are the caller's; h->fd is set here).
 * SIGPIPE is ignored: a peer closing a socket is not fatal. 0 or -errno. */
int wm_loop_add_signals(struct wm_loop *l, struct wm_loop_handler *h,
			const int *sigs, size_t n);
/* Calls fn every tick. 0, or -ENOSPC past WM_LOOP_MAX_TICKS. */
int wm_loop_add_tick(struct wm_loop *l, void (*fn)(void *, uint64_t),
		     void *ctx);
/* Stops calling fn(ctx) each tick; absent is fine. */
void wm_loop_del_tick(struct wm_loop *l, void (*fn)(void *, uint64_t),
		      void *ctx);
/* Calls fn(ctx) after each round of handlers and ticks, before the loop
 * waits again: where batched output is sent. One at a time; NULL: none. */
void wm_loop_set_round_end(struct wm_loop *l, void (*fn)(void *), void *ctx);
/* Runs until wm_loop_stop(). Returns 0 or -errno of a failed epoll. */
int wm_loop_run(struct wm_loop *l);
void wm_loop_stop(struct wm_loop *l);

#endif
