/* See resolver.h. */
#include "agent/resolver.h"
#include "agent/privileges.h"
#include "agent/wg/clock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

enum { TEXT_MAX = 256 };

struct entry {
	char text[TEXT_MAX];
	union wm_sockaddr addr;
	bool used, have, failed, queued; /* queued: until its lookup ends */
	uint64_t done_ns;  /* when the last lookup finished */
	uint64_t asked_ns; /* the last wm_resolver_get for it (caller's clock) */
};

struct wm_resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int wake_fd;
	bool stop, busy, orphaned;
	uint64_t answers;
	int (*lookup)(union wm_sockaddr *out, const char *text);
	struct entry e[WM_RESOLVER_MAX];
};

static void destroy(struct wm_resolver *r)
{
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* The next queued entry's text, copied (the table may change meanwhile). */
static int next_job(struct wm_resolver *r, char text[TEXT_MAX])
{
	for (int i = 0; i < WM_RESOLVER_MAX; i++)
		if (r->e[i].used && r->e[i].queued) {
			memcpy(text, r->e[i].text, TEXT_MAX);
			return i;
		}
	return -1;
}

static void finish_job(struct wm_resolver *r, int i, const char *text,
		       int rc, const union wm_sockaddr *addr)
{
	struct entry *e = &r->e[i];

	r->answers++;
	/* The slot may have been given to another name meanwhile. */
	if (!e->used || strcmp(e->text, text) != 0)
		return;
	e->queued = false;
	e->done_ns = wm_now_ns();
	e->failed = rc != 0;
	if (rc == 0) {
		e->addr = *addr;
		e->have = true;
	}
}

static void *worker(void *arg)
{
	struct wm_resolver *r = arg;
	char text[TEXT_MAX];

	/* It parses what name servers send: with no capability at all
	 * (privileges.h; the loop's thread keeps its own). Best effort: a
	 * thread that cannot lower them had none to lose. */
	(void)wm_privileges_drop_thread();
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		union wm_sockaddr addr;
		int i = next_job(r, text), rc;

		if (i < 0) {
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		r->busy = true;
		pthread_mutex_unlock(&r->mu);
		memset(&addr, 0, sizeof(addr));
		rc = r->lookup(&addr, text);
		pthread_mutex_lock(&r->mu);
		r->busy = false;
		if (r->orphaned)
			break;
		finish_job(r, i, text, rc, &addr);
		if (eventfd_write(r->wake_fd, 1) < 0) {
			/* the loop also polls on its tick */
		}
	}
	if (r->orphaned) {
		pthread_mutex_unlock(&r->mu);
		destroy(r);
		return NULL;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int wm_resolver_new(struct wm_resolver **out,
		    int (*lookup)(union wm_sockaddr *out, const char *text))
{
	struct wm_resolver *r = calloc(1, sizeof(*r));
	sigset_t all, old;
	int err;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->lookup = lookup ? lookup : wm_sockaddr_resolve;
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0) {
		err = -errno;
		free(r);
		return err;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* Signals belong to the loop's signalfd: a worker that could take
	 * SIGHUP would die of it. It starts with every signal blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&r->thread, NULL, worker, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		destroy(r);
		return -err;
	}
	*out = r;
	return 0;
}

void wm_resolver_free(struct wm_resolver *r)
{
	bool busy;

	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	busy = r->busy;
	if (busy)
		r->orphaned = true; /* the worker frees r when its lookup ends */
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (busy) {
		pthread_detach(r->thread);
		return;
	}
	pthread_join(r->thread, NULL);
	destroy(r);
}

/* A slot for a new name: a free one, else the one asked for longest
 * ago if that was WM_RESOLVER_IDLE_S ago or more (a peer's endpoint
 * resolved once, a relay no longer configured). One queued or in the
 * worker's hands is never taken (finish_job would find its slot gone
 * anyway, but the lookup would be wasted). */
static struct entry *slot_for(struct wm_resolver *r, uint64_t now)
{
	struct entry *oldest = NULL;

	for (int i = 0; i < WM_RESOLVER_MAX; i++) {
		struct entry *e = &r->e[i];

		if (!e->used)
			return e;
		if (e->queued ||
		    wm_since(now, e->asked_ns) < SEC(WM_RESOLVER_IDLE_S))
			continue;
		if (!oldest || e->asked_ns < oldest->asked_ns)
			oldest = e;
	}
	return oldest;
}

static struct entry *find(struct wm_resolver *r, const char *text,
			  uint64_t now)
{
	struct entry *e;

	for (int i = 0; i < WM_RESOLVER_MAX; i++)
		if (r->e[i].used && strcmp(r->e[i].text, text) == 0)
			return &r->e[i];
	e = slot_for(r, now);
	if (e) {
		memset(e, 0, sizeof(*e));
		e->used = true;
		memcpy(e->text, text, strlen(text) + 1);
	}
	return e;
}

/* Whether e needs a (new) lookup now. */
static bool due(const struct entry *e, uint64_t now)
{
	if (e->queued)
		return false;
	if (!e->done_ns)
		return true;
	return wm_since(now, e->done_ns) >=
	       SEC(e->failed ? WM_RESOLVER_RETRY_S : WM_RESOLVER_REFRESH_S);
}

int wm_resolver_get(struct wm_resolver *r, const char *text,
		    union wm_sockaddr *out, uint64_t now)
{
	struct entry *e;
	int rc;

	if (wm_sockaddr_parse(out, text))
		return 0;
	if (strlen(text) >= TEXT_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&r->mu);
	e = find(r, text, now);
	if (!e) {
		pthread_mutex_unlock(&r->mu);
		return -ENOSPC;
	}
	e->asked_ns = now;
	if (due(e, now)) {
		e->queued = true;
		pthread_cond_signal(&r->cv);
	}
	if (e->have) {
		*out = e->addr;
		rc = 0;
	} else {
		rc = e->failed ? -ENOENT : -EAGAIN;
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int wm_resolver_fd(const struct wm_resolver *r)
{
	return r->wake_fd;
}

void wm_resolver_drain(struct wm_resolver *r)
{
	eventfd_t v;

	if (eventfd_read(r->wake_fd, &v) < 0) {
		/* nothing was pending */
	}
}

uint64_t wm_resolver_answers(struct wm_resolver *r)
{
	uint64_t n;

	pthread_mutex_lock(&r->mu);
	n = r->answers;
	pthread_mutex_unlock(&r->mu);
	return n;
}
