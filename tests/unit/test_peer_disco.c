/*
 * The agent's side of disco versions (agent/peer_disco.c), between an
 * in-process device a and a peer b played by hand over loopback in a
 * network namespace of the test's own:
 *   - b speaks version 1: a takes it, counts it, and answers in version 1
 *     (its key in the answer); then b speaks version 2: a answers in
 *     version 2, and no answer carries a's key
 *   - version 2 ids of the epochs before and after a's are found, two
 *     epochs away are not; an unknown id and a replay are dropped
 *   - a version 2 message from a clock a day off is taken and counted as
 *     skew; a version 1 message as far off is refused and counted
 *   - an agent speaking only version 1 (WIREMESH_DISCO_V1) drops version 2
 */
#include "check.h"
#include "netns.h"
#include "agent/device.h"
#include "agent/nat/disco.h"
#include "agent/peer_disco.h"
#include "agent/udp.h"
#include "agent/wg/clock.h"
#include "crypto/random.h"

#include <arpa/inet.h>
#include <poll.h>

static struct wm_device a;
static struct wm_peer *a_b;
static uint8_t b_pub[32], key[32], id_key[32];
static int b_fd = -1;
static union wm_sockaddr b_addr;

static bool setup(void)
{
	uint8_t ka[32], kb[32], shared[32];
	struct wm_noise_local lb;
	struct wm_noise_peer nb;
	socklen_t sl = sizeof(b_addr.in);
	uint16_t port;

	CHECK(wm_random_bytes(ka, 32) == 0 && wm_random_bytes(kb, 32) == 0);
	CHECK(wm_device_init(&a, "wmpd") == 0);
	wm_device_set_private_key(&a, ka);
	wm_noise_local_init(&lb, kb);
	memcpy(b_pub, lb.public_key, 32);
	a_b = wm_device_add_peer(&a, b_pub);
	CHECK(a_b != NULL);
	/* b's side of the pair's keys, from its own DH */
	wm_noise_peer_init(&nb, &lb, a.local.public_key, NULL);
	memcpy(shared, nb.precomputed_ss, 32);
	wm_disco_key(key, shared);
	wm_disco_id_key(id_key, shared);
	a.udp.fd = wm_udp_open(0, 0, &a.udp.family, &port);
	b_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&b_addr, 0, sizeof(b_addr));
	b_addr.in.sin_family = AF_INET;
	b_addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(a.udp.fd >= 0 && b_fd >= 0);
	CHECK(bind(b_fd, &b_addr.sa, sizeof(b_addr.in)) == 0);
	CHECK(getsockname(b_fd, &b_addr.sa, &sl) == 0);
	return a_b && a.udp.fd >= 0 && b_fd >= 0;
}

static void teardown(void)
{
	close(a.udp.fd);
	a.udp.fd = -1;
	close(b_fd);
	wm_device_free(&a);
}

static struct wm_disco_msg ping(int64_t t)
{
	struct wm_disco_msg m;

	memset(&m, 0, sizeof(m));
	m.type = WM_DISCO_PING;
	m.sent_at = t;
	CHECK(wm_random_bytes(m.txid, sizeof(m.txid)) == 0);
	return m;
}

static size_t v1_ping(uint8_t *buf, int64_t wall_s)
{
	struct wm_disco_msg m = ping(wall_s);
	uint8_t nonce[24];

	CHECK(wm_random_bytes(nonce, 24) == 0);
	return wm_disco_seal(buf, &m, b_pub, key, nonce);
}

/* A version 2 ping with the id of epoch wall_s / 3600 + de and the
 * counter ctr. */
static size_t v2_ping(uint8_t *buf, int64_t de, uint64_t ctr)
{
	struct wm_disco_msg m = ping((int64_t)ctr);
	struct timespec w = wm_wall_now();
	uint8_t nonce[24], id[WM_DISCO_ID];

	CHECK(wm_random_bytes(nonce, 24) == 0);
	wm_disco_pair_id(id, id_key, b_pub, wm_disco_epoch(w.tv_sec) + de);
	return wm_disco_seal_v2(buf, &m, id, key, nonce);
}

static uint64_t wall_ns(int64_t off_s)
{
	struct timespec w = wm_wall_now();

	return (uint64_t)(w.tv_sec + off_s) * 1000000000u + (uint64_t)w.tv_nsec;
}

static void feed(const uint8_t *buf, size_t len)
{
	struct wm_disco_msg msg;

	(void)wm_peer_disco_receive(&a, buf, len, &b_addr, NULL, wm_now_ns(), &msg);
}

/* a's answer on b's socket (waits up to 1 s); its length, 0 if none. */
static size_t answer(uint8_t *buf, size_t cap)
{
	struct pollfd p = { .fd = b_fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return 0;
	n = recv(b_fd, buf, cap, 0);
	return n > 0 ? (size_t)n : 0;
}

static bool holds(const uint8_t *buf, size_t len, const uint8_t *k)
{
	return memmem(buf, len, k, 32) != NULL;
}

TEST(versions_follow_the_peer)
{
	uint8_t buf[WM_DISCO_MAX], got[2048];
	size_t n;

	if (!setup())
		return;
	/* b is an older agent: version 1 in, version 1 out. */
	feed(buf, v1_ping(buf, wm_wall_now().tv_sec));
	CHECK(a.stats.disco_rx == 1 && a.stats.disco_v1_rx == 1);
	CHECK(a_b->disco.speaks_v1 && a_b->disco.told_v1);
	n = answer(got, sizeof(got));
	CHECK(n > 4 && wm_disco_version(got) == 1);
	CHECK(holds(got, n, a.local.public_key));
	/* b upgraded: version 2 in, version 2 out, a's key nowhere. */
	feed(buf, v2_ping(buf, 0, wall_ns(0)));
	CHECK(a.stats.disco_rx == 2 && a.stats.disco_v1_rx == 1);
	CHECK(!a_b->disco.speaks_v1);
	n = answer(got, sizeof(got));
	CHECK(n > 4 && wm_disco_version(got) == 2);
	CHECK(!holds(got, n, a.local.public_key) && !holds(got, n, b_pub));
	/* ...and b could find a's answer by its own table: the id is the
	 * one a sends in this epoch. */
	{
		uint8_t id[WM_DISCO_ID];
		wm_disco_pair_id(id, id_key, a.local.public_key,
				 wm_disco_epoch(wm_wall_now().tv_sec));
		CHECK(n > 20 && memcmp(got + 4, id, WM_DISCO_ID) == 0);
	}
	CHECK(a.stats.disco_dropped == 0 && a.stats.disco_clock_skew == 0);
	teardown();
}

TEST(ids_epochs_unknown_and_replay)
{
	uint8_t buf[WM_DISCO_MAX], got[2048];
	size_t n;

	if (!setup())
		return;
	feed(buf, v2_ping(buf, -1, wall_ns(0)));
	feed(buf, v2_ping(buf, +1, wall_ns(0)));
	CHECK(a.stats.disco_rx == 2 && a.stats.disco_dropped == 0);
	feed(buf, v2_ping(buf, -2, wall_ns(0)));
	feed(buf, v2_ping(buf, +2, wall_ns(0)));
	CHECK(a.stats.disco_rx == 2 && a.stats.disco_dropped == 2 &&
	      a.stats.disco_unknown_id == 2);
	/* an id nobody has */
	n = v2_ping(buf, 0, wall_ns(0));
	buf[5] ^= 1;
	feed(buf, n);
	CHECK(a.stats.disco_rx == 2 && a.stats.disco_dropped == 3);
	/* the same message twice: once */
	n = v2_ping(buf, 0, wall_ns(0));
	feed(buf, n);
	feed(buf, n);
	CHECK(a.stats.disco_rx == 3 && a.stats.disco_dropped == 4);
	while (answer(got, sizeof(got)))
		;
	teardown();
}

TEST(clock_skew)
{
	uint8_t buf[WM_DISCO_MAX];

	if (!setup())
		return;
	/* b's clock a day behind: version 2 does not care, but says so */
	feed(buf, v2_ping(buf, 0, wall_ns(-86400)));
	CHECK(a.stats.disco_rx == 1 && a.stats.disco_clock_skew == 1);
	CHECK(a_b->disco.told_skew);
	feed(buf, v2_ping(buf, 0, wall_ns(-86400)));
	CHECK(a.stats.disco_rx == 2 && a.stats.disco_clock_skew == 2);
	/* within a minute: not skew */
	feed(buf, v2_ping(buf, 0, wall_ns(30)));
	CHECK(a.stats.disco_rx == 3 && a.stats.disco_clock_skew == 2);
	/* version 1 from a day ago: refused (its clock check), counted */
	feed(buf, v1_ping(buf, wm_wall_now().tv_sec - 86400));
	CHECK(a.stats.disco_rx == 3 && a.stats.disco_dropped == 1 &&
	      a.stats.disco_clock_skew == 3);
	teardown();
}

TEST(v1_only_agent_drops_v2)
{
	uint8_t buf[WM_DISCO_MAX], got[2048];
	size_t n;

	if (!setup())
		return;
	a.disco_v1_only = true;
	feed(buf, v2_ping(buf, 0, wall_ns(0)));
	CHECK(a.stats.disco_rx == 0 && a.stats.disco_dropped == 1);
	feed(buf, v1_ping(buf, wm_wall_now().tv_sec));
	CHECK(a.stats.disco_rx == 1);
	n = answer(got, sizeof(got));
	CHECK(n > 4 && wm_disco_version(got) == 1);
	teardown();
}

int main(void)
{
	if (!test_own_netns()) {
		fprintf(stderr, "test_peer_disco: cannot enter a network namespace "
				"of its own (needs root)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(versions_follow_the_peer);
	RUN(ids_epochs_unknown_and_replay);
	RUN(clock_skew);
	RUN(v1_only_agent_drops_v2);
	return check_summary();
}
