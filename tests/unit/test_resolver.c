/*
 * The background resolver (agent/resolver.h) with lookup functions of our
 * own: one that answers from a table, one that fails, and one that never
 * returns (a dead name server) until the test lets it go. What matters:
 * wm_resolver_get never waits for a lookup, a good answer is kept through
 * later failures, answers wake the loop's fd, and free does not wait for
 * a lookup that hangs; a full table gives the slot of a name long not
 * asked for to a new one, never one whose lookup is pending.
 */
#include "check.h"
#include "agent/resolver.h"
#include "agent/wg/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>

#define S(x) ((uint64_t)(x) * 1000000000ULL)

static int fail_now; /* written by the test while no lookup runs */

static int table_lookup(union wm_sockaddr *out, const char *text)
{
	if (fail_now || strcmp(text, "relay.example.net:3478") != 0)
		return -2; /* EAI_NONAME */
	return wm_sockaddr_parse(out, "203.0.113.10:3478") ? 0 : -2;
}

static sem_t hang_release, hang_entered;

static int hanging_lookup(union wm_sockaddr *out, const char *text)
{
	(void)out;
	(void)text;
	sem_post(&hang_entered);
	sem_wait(&hang_release);
	return -2;
}

/* Waits (bounded: 2 s) for the resolver to have n answers, as the loop
 * would: on its fd. The fd is left readable for the caller to see. */
static bool wait_answers(struct wm_resolver *r, uint64_t n)
{
	for (int i = 0; i < 200 && wm_resolver_answers(r) < n; i++) {
		struct pollfd pfd = { wm_resolver_fd(r), POLLIN, 0 };

		wm_resolver_drain(r);
		if (wm_resolver_answers(r) >= n)
			break;
		poll(&pfd, 1, 10);
	}
	return wm_resolver_answers(r) >= n;
}

TEST(numeric_needs_no_thread_work)
{
	struct wm_resolver *r;
	union wm_sockaddr a, want;

	CHECK(wm_resolver_new(&r, table_lookup) == 0);
	CHECK(wm_resolver_get(r, "198.51.100.7:3478", &a, S(1)) == 0);
	CHECK(wm_sockaddr_parse(&want, "198.51.100.7:3478"));
	CHECK(wm_sockaddr_equal(&a, &want));
	CHECK(wm_resolver_get(r, "[2001:db8::1]:51820", &a, S(1)) == 0);
	CHECK(wm_resolver_answers(r) == 0);
	wm_resolver_free(r);
}

TEST(name_answered_in_background_and_kept)
{
	struct wm_resolver *r;
	union wm_sockaddr a, want;
	struct pollfd pfd;

	CHECK(wm_sockaddr_parse(&want, "203.0.113.10:3478"));
	fail_now = 0;
	CHECK(wm_resolver_new(&r, table_lookup) == 0);
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a, S(1)) == -EAGAIN);
	pfd = (struct pollfd){ wm_resolver_fd(r), POLLIN, 0 };
	CHECK(poll(&pfd, 1, 2000) == 1); /* the loop is woken */
	CHECK(wait_answers(r, 1));
	wm_resolver_drain(r);
	CHECK(poll(&pfd, 1, 0) == 0);
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a, S(2)) == 0);
	CHECK(wm_sockaddr_equal(&a, &want));
	/* a refresh that fails keeps the last good answer */
	fail_now = 1;
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a,
			      wm_now_ns() + S(WM_RESOLVER_REFRESH_S + 1)) == 0);
	CHECK(wait_answers(r, 2));
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a, S(3)) == 0);
	CHECK(wm_sockaddr_equal(&a, &want));
	wm_resolver_free(r);
	fail_now = 0;
}

TEST(unknown_name_fails_then_retries)
{
	struct wm_resolver *r;
	union wm_sockaddr a;
	uint64_t t;

	CHECK(wm_resolver_new(&r, table_lookup) == 0);
	CHECK(wm_resolver_get(r, "nothing.example.net:1", &a, S(1)) == -EAGAIN);
	CHECK(wait_answers(r, 1));
	t = wm_now_ns();
	CHECK(wm_resolver_get(r, "nothing.example.net:1", &a, t) == -ENOENT);
	CHECK(wm_resolver_answers(r) == 1); /* not asked again at once */
	CHECK(wm_resolver_get(r, "nothing.example.net:1", &a,
			      t + S(WM_RESOLVER_RETRY_S + 1)) == -ENOENT);
	CHECK(wait_answers(r, 2));
	wm_resolver_free(r);
}

TEST(dead_name_server_never_blocks)
{
	struct wm_resolver *r;
	union wm_sockaddr a;

	sem_init(&hang_release, 0, 0);
	sem_init(&hang_entered, 0, 0);
	CHECK(wm_resolver_new(&r, hanging_lookup) == 0);
	CHECK(wm_resolver_get(r, "a.example.net:1", &a, S(1)) == -EAGAIN);
	sem_wait(&hang_entered); /* the worker is stuck in the lookup */
	for (int i = 0; i < 1000; i++)
		CHECK(wm_resolver_get(r, "a.example.net:1", &a, S(1)) == -EAGAIN);
	/* other names queue behind it; numeric ones still work */
	CHECK(wm_resolver_get(r, "b.example.net:1", &a, S(1)) == -EAGAIN);
	CHECK(wm_resolver_get(r, "192.0.2.1:1", &a, S(1)) == 0);
	wm_resolver_free(r); /* returns with the worker still stuck */
	sem_post(&hang_release); /* the orphaned worker cleans up */
	sem_post(&hang_release);
}

TEST(table_full)
{
	struct wm_resolver *r;
	union wm_sockaddr a;
	char name[64];

	sem_init(&hang_release, 0, 0);
	sem_init(&hang_entered, 0, 0);
	CHECK(wm_resolver_new(&r, hanging_lookup) == 0);
	for (int i = 0; i < WM_RESOLVER_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.example.net:1", i);
		CHECK(wm_resolver_get(r, name, &a, S(1)) == -EAGAIN);
	}
	CHECK(wm_resolver_get(r, "one-more.example.net:1", &a, S(1)) == -ENOSPC);
	/* queued or in flight: never given away, however long idle */
	CHECK(wm_resolver_get(r, "one-more.example.net:1", &a,
			      S(1 + 2 * WM_RESOLVER_IDLE_S)) == -ENOSPC);
	sem_wait(&hang_entered);
	wm_resolver_free(r);
	for (int i = 0; i < WM_RESOLVER_MAX + 1; i++)
		sem_post(&hang_release);
}

TEST(idle_slots_reused)
{
	struct wm_resolver *r;
	union wm_sockaddr a, want;
	char name[64];
	uint64_t t = S(1000);

	fail_now = 0;
	CHECK(wm_sockaddr_parse(&want, "203.0.113.10:3478"));
	CHECK(wm_resolver_new(&r, table_lookup) == 0);
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a, t) == -EAGAIN);
	for (int i = 1; i < WM_RESOLVER_MAX; i++) {
		snprintf(name, sizeof(name), "n%d.example.net:1", i);
		CHECK(wm_resolver_get(r, name, &a, t + S(i)) == -EAGAIN);
	}
	CHECK(wait_answers(r, WM_RESOLVER_MAX));
	CHECK(wm_resolver_get(r, "new0.example.net:1", &a, t + S(100)) == -ENOSPC);
	/* the relay's name is still asked for; n1 was asked longest ago */
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a,
			      t + S(WM_RESOLVER_IDLE_S)) == 0);
	CHECK(wm_resolver_get(r, "new1.example.net:1", &a,
			      t + S(1 + WM_RESOLVER_IDLE_S) - 1) == -ENOSPC);
	CHECK(wm_resolver_get(r, "new1.example.net:1", &a,
			      t + S(1 + WM_RESOLVER_IDLE_S)) == -EAGAIN);
	CHECK(wm_resolver_get(r, "new2.example.net:1", &a,
			      t + S(1 + WM_RESOLVER_IDLE_S)) == -ENOSPC);
	CHECK(wm_resolver_get(r, "new2.example.net:1", &a,
			      t + S(2 + WM_RESOLVER_IDLE_S)) == -EAGAIN);
	CHECK(wait_answers(r, WM_RESOLVER_MAX + 2));
	/* n1 and n2 are forgotten: asked again, they take a slot anew */
	CHECK(wm_resolver_get(r, "relay.example.net:3478", &a,
			      t + S(3 + WM_RESOLVER_IDLE_S)) == 0);
	CHECK(wm_sockaddr_equal(&a, &want));
	CHECK(wm_resolver_get(r, "n3.example.net:1", &a,
			      t + S(3 + WM_RESOLVER_IDLE_S)) == -ENOENT);
	CHECK(wm_resolver_get(r, "n1.example.net:1", &a,
			      t + S(4 + WM_RESOLVER_IDLE_S)) == -EAGAIN);
	wm_resolver_free(r);
}

int main(void)
{
	RUN(numeric_needs_no_thread_work);
	RUN(name_answered_in_background_and_kept);
	RUN(unknown_name_fails_then_retries);
	RUN(dead_name_server_never_blocks);
	RUN(table_full);
	RUN(idle_slots_reused);
	/* let orphaned workers finish before the process (and LSan) ends */
	for (int i = 0; i < 50; i++) {
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	return check_summary();
}
