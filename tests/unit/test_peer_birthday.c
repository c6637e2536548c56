/*
 * The hard side's probe sockets (agent/peer_birthday.c) are held by one
 * attempt at a time, so an attempt that never ends blocks every later
 * one on every peer. The tick closes them when:
 *   - the attempt's peer is gone
 *   - it was removed and added again with the same key in one round
 *     (`wg setconf`): the new peer has no attempt under way
 *   - the attempt's window has passed, whoever holds the key
 * and not while the attempt runs.
 */
#include "check.h"
#include "agent/device.h"
#include "agent/loop.h"
#include "agent/peer_birthday.h"
#include "agent/udp.h"
#include "crypto/random.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#define S(x) ((uint64_t)(x) * 1000000000ULL)

static struct wm_device dev;
static struct wm_loop loop;
static struct wm_peer_birthday pb;
static uint8_t key[32];
static int probe_fd[2];

static void on_probe(struct wm_loop_handler *h, uint32_t events)
{
	(void)h;
	(void)events;
}

static struct wm_peer *setup(void)
{
	uint8_t priv[32];
	struct wm_peer *p;

	CHECK(wm_random_bytes(priv, 32) == 0 && wm_random_bytes(key, 32) == 0);
	CHECK(wm_device_init(&dev, "wmpb") == 0);
	wm_device_set_private_key(&dev, priv);
	CHECK(wm_loop_init(&loop, 50) == 0);
	CHECK(wm_peer_birthday_init(&pb, &dev, &loop) == 0);
	p = wm_device_add_peer(&dev, key);
	CHECK(p != NULL);
	return p;
}

/* What hard_start leaves: an attempt under way on p, two probe sockets. */
static void attempt(struct wm_peer *p, uint64_t now)
{
	p->bday.role = WM_BDAY_HARD;
	p->bday.until_ns = now + S(WM_BDAY_WINDOW_S);
	memcpy(pb.key, key, 32);
	pb.active = true;
	pb.until_ns = p->bday.until_ns;
	for (int i = 0; i < 2; i++) {
		int family;
		uint16_t port;

		probe_fd[i] = wm_udp_open(0, 0, &family, &port);
		CHECK(probe_fd[i] >= 0);
		pb.probe[i].h = (struct wm_loop_handler){ probe_fd[i], on_probe, &pb };
		pb.probe[i].family = family;
		CHECK(wm_loop_add(&loop, &pb.probe[i].h, EPOLLIN) == 0);
	}
	pb.n_probe = 2;
}

static bool probes_closed(void)
{
	return !pb.active && pb.n_probe == 0 &&
	       fcntl(probe_fd[0], F_GETFD) < 0 && fcntl(probe_fd[1], F_GETFD) < 0;
}

static void teardown(void)
{
	wm_peer_birthday_free(&pb);
	wm_loop_close(&loop);
	wm_device_free(&dev);
}

TEST(runs_until_its_window_ends)
{
	struct wm_peer *p = setup();
	uint64_t t = S(100);

	attempt(p, t);
	wm_peer_birthday_tick(&pb, t + S(1));
	CHECK(pb.active && pb.n_probe == 2);
	wm_peer_birthday_tick(&pb, t + S(WM_BDAY_WINDOW_S));
	CHECK(probes_closed());
	CHECK(p->bday.role == WM_BDAY_IDLE);
	teardown();
}

TEST(peer_removed)
{
	struct wm_peer *p = setup();
	uint64_t t = S(100);

	attempt(p, t);
	wm_device_remove_peer(&dev, p);
	wm_peer_birthday_tick(&pb, t + S(1));
	CHECK(probes_closed());
	teardown();
}

TEST(peer_removed_and_added_again)
{
	struct wm_peer *p = setup();
	uint64_t t = S(100);

	attempt(p, t);
	/* wg setconf: every peer out, then in again, in one round */
	wm_device_remove_all_peers(&dev);
	p = wm_device_add_peer(&dev, key);
	CHECK(p && p->bday.role == WM_BDAY_IDLE);
	wm_peer_birthday_tick(&pb, t + S(1));
	CHECK(probes_closed());
	teardown();
}

TEST(window_over_whoever_holds_the_key)
{
	struct wm_peer *p = setup();
	uint64_t t = S(100);

	attempt(p, t);
	/* the new peer is in an attempt of its own, with a later window
	 * (as if one had started on it): the old attempt's sockets go at
	 * the old window's end all the same */
	p->bday.until_ns = t + S(1000);
	wm_peer_birthday_tick(&pb, t + S(WM_BDAY_WINDOW_S) - 1);
	CHECK(pb.active);
	wm_peer_birthday_tick(&pb, t + S(WM_BDAY_WINDOW_S));
	CHECK(probes_closed());
	teardown();
}

int main(void)
{
	RUN(runs_until_its_window_ends);
	RUN(peer_removed);
	RUN(peer_removed_and_added_again);
	RUN(window_over_whoever_holds_the_key);
	return check_summary();
}
