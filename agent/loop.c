/* See loop.h. */
#include "agent/loop.h"
#include "agent/wg/clock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum { MAX_EVENTS = 64 };

int wm_loop_init(struct wm_loop *l, unsigned tick_ms)
{
	memset(l, 0, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->tick_ms = tick_ms;
	return 0;
}

void wm_loop_close(struct wm_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static int ctl(struct wm_loop *l, int op, struct wm_loop_handler *h,
	       uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epfd, op, h->fd, &ev) < 0 ? -errno : 0;
}

int wm_loop_add(struct wm_loop *l, struct wm_loop_handler *h, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, h, events);
}

int wm_loop_mod(struct wm_loop *l, struct wm_loop_handler *h, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, h, events);
}

void wm_loop_del(struct wm_loop *l, struct wm_loop_handler *h)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

int wm_loop_add_signals(struct wm_loop *l, struct wm_loop_handler *h,
			const int *sigs, size_t n)
{
	sigset_t set;
	int r;

	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	h->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (h->fd < 0)
		return -errno;
	r = wm_loop_add(l, h, EPOLLIN);
	if (r < 0) {
		close(h->fd);
		h->fd = -1;
	}
	return r;
}

int wm_loop_add_tick(struct wm_loop *l, void (*fn)(void *, uint64_t),
		     void *ctx)
{
	if (l->n_ticks == WM_LOOP_MAX_TICKS)
		return -ENOSPC;
	l->ticks[l->n_ticks].fn = fn;
	l->ticks[l->n_ticks].ctx = ctx;
	l->n_ticks++;
	return 0;
}

void wm_loop_del_tick(struct wm_loop *l, void (*fn)(void *, uint64_t),
		      void *ctx)
{
	for (unsigned i = 0; i < l->n_ticks; i++) {
		if (l->ticks[i].fn == fn && l->ticks[i].ctx == ctx) {
			memmove(&l->ticks[i], &l->ticks[i + 1],
				(l->n_ticks - i - 1) * sizeof(l->ticks[0]));
			l->n_ticks--;
			return;
		}
	}
}

void wm_loop_stop(struct wm_loop *l)
{
	l->stop = true;
}

void wm_loop_set_round_end(struct wm_loop *l, void (*fn)(void *), void *ctx)
{
	l->round_end = fn;
	l->round_end_ctx = ctx;
}

static void run_ticks(struct wm_loop *l)
{
	uint64_t now = wm_now_ns();

	if (now < l->next_tick)
		return;
	l->next_tick = now + (uint64_t)l->tick_ms * 1000000ULL;
	for (unsigned i = 0; i < l->n_ticks; i++)
		l->ticks[i].fn(l->ticks[i].ctx, now);
}

int wm_loop_run(struct wm_loop *l)
{
	struct epoll_event ev[MAX_EVENTS];

	l->next_tick = 0;
	while (!l->stop) {
		uint64_t now = wm_now_ns();
		int timeout = 0, n;

		if (l->next_tick > now)
			timeout = (int)((l->next_tick - now) / 1000000ULL) + 1;
		n = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			struct wm_loop_handler *h = ev[i].data.ptr;
			h->fn(h, ev[i].events);
		}
		run_ticks(l);
		if (l->round_end)
			l->round_end(l->round_end_ctx);
	}
	return 0;
}
