/*
 * Birthday probing's planner (agent/nat/birthday.c) on a virtual clock,
 * and its disco messages (agent/nat/disco.c):
 *   - the hard side starts only when it is hard, the peer easy, the grace
 *     time is over, the relay up, no direct path, not `relay` mode, and
 *     BirthdayProbe on; never when both are hard; then with backoff 30,
 *     60, 120 ... capped at 480 s
 *   - the easy side sends at most WM_BDAY_PROBES per attempt,
 *     WM_BDAY_PER_TICK at a time, to ports >= 1024 of the target's IP,
 *     stops at the window's end, and refuses a new request for
 *     WM_BDAY_EASY_GAP_S (a hostile peer cannot make it a flood)
 *   - only the attempt's txid counts as a probe's pong
 *   - the easy side probes public addresses only: a peer cannot point
 *     its probes at a host of our LAN (its gateway, say)
 *   - what counts as public (the documentation ranges the lab uses do);
 *     the hard side pings public targets of one family for which it has a
 *     public reflexive address, whatever the family of the peer's first
 *     candidate
 *   - MAPPING carries the mapping; BIRTHDAY carries an address
 */
#include "check.h"
#include "agent/nat/birthday.h"
#include "agent/nat/disco.h"

#include <arpa/inet.h>

#define S(x) ((uint64_t)(x) * 1000000000ULL)

static unsigned rnd_state = 1;
static int fake_random(void *buf, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		rnd_state = rnd_state * 1103515245u + 12345u;
		b[i] = (uint8_t)(rnd_state >> 16);
	}
	return 0;
}

static struct wm_bday_view hard_view(void)
{
	return (struct wm_bday_view){ .mode = WM_PATH_AUTO, .enabled = true,
				      .relay_up = true,
				      .our_mapping = WM_BDAY_MAP_HARD };
}

static union wm_sockaddr v4(const char *ip, uint16_t port)
{
	union wm_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.in.sin_addr);
	return a;
}

TEST(hard_side_conditions)
{
	struct wm_birthday b;
	struct wm_bday_view v = hard_view();
	uint64_t t = S(100);

	memset(&b, 0, sizeof(b));
	CHECK(!wm_birthday_hard_due(&b, &v, t)); /* peer's mapping unknown */
	wm_birthday_peer_mapping(&b, WM_BDAY_MAP_HARD, t);
	CHECK(!wm_birthday_hard_due(&b, &v, t + S(10))); /* both hard */
	wm_birthday_peer_mapping(&b, WM_BDAY_MAP_EASY, t);
	CHECK(!wm_birthday_hard_due(&b, &v, t + S(WM_BDAY_GRACE_S) - 1));
	t += S(WM_BDAY_GRACE_S);
	v.enabled = false;
	CHECK(!wm_birthday_hard_due(&b, &v, t));
	v = hard_view();
	v.mode = WM_PATH_RELAY;
	CHECK(!wm_birthday_hard_due(&b, &v, t));
	v = hard_view();
	v.direct_proven = true;
	CHECK(!wm_birthday_hard_due(&b, &v, t));
	v = hard_view();
	v.relay_up = false;
	CHECK(!wm_birthday_hard_due(&b, &v, t));
	v = hard_view();
	v.our_mapping = WM_BDAY_MAP_EASY;
	CHECK(!wm_birthday_hard_due(&b, &v, t));
	v = hard_view();
	v.mode = WM_PATH_DIRECT;
	CHECK(wm_birthday_hard_due(&b, &v, t));
	CHECK(b.role == WM_BDAY_HARD && b.attempts == 1);
	CHECK(!wm_birthday_hard_due(&b, &v, t)); /* one at a time */
}

TEST(hard_side_backoff)
{
	struct wm_birthday b;
	struct wm_bday_view v = hard_view();
	unsigned want[] = { 30, 60, 120, 240, 480, 480 };
	uint64_t t = S(10);

	memset(&b, 0, sizeof(b));
	wm_birthday_peer_mapping(&b, WM_BDAY_MAP_EASY, t);
	t += S(WM_BDAY_GRACE_S);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(wm_birthday_hard_due(&b, &v, t));
		CHECK(!wm_birthday_expire(&b, t + S(WM_BDAY_WINDOW_S) - 1, false));
		t += S(WM_BDAY_WINDOW_S);
		CHECK(wm_birthday_expire(&b, t, false));
		CHECK(b.backoff_s == want[i]);
		CHECK(!wm_birthday_hard_due(&b, &v, t + S(want[i]) - 1));
		t += S(want[i]);
	}
	/* A win ends the attempt; a later loss waits the minimum. */
	CHECK(wm_birthday_hard_due(&b, &v, t));
	wm_birthday_won(&b, t + S(1));
	CHECK(b.role == WM_BDAY_IDLE && b.won &&
	      b.backoff_s == WM_BDAY_BACKOFF_MIN_S);
	CHECK(!wm_birthday_hard_due(&b, &v, t + S(1 + WM_BDAY_BACKOFF_MIN_S) - 1));
	CHECK(wm_birthday_hard_due(&b, &v, t + S(1 + WM_BDAY_BACKOFF_MIN_S)));
}

TEST(easy_side_probes_bounded)
{
	struct wm_birthday b;
	struct wm_bday_view v = hard_view();
	union wm_sockaddr target = v4("192.0.2.18", 40000), out[64];
	uint64_t t = S(50), total = 0;
	size_t n;

	memset(&b, 0, sizeof(b));
	v.our_mapping = WM_BDAY_MAP_HARD;
	CHECK(!wm_birthday_easy_start(&b, &v, &target, fake_random, t));
	v.our_mapping = WM_BDAY_MAP_EASY;
	v.mode = WM_PATH_RELAY;
	CHECK(!wm_birthday_easy_start(&b, &v, &target, fake_random, t));
	v.mode = WM_PATH_AUTO;
	CHECK(wm_birthday_easy_start(&b, &v, &target, fake_random, t));
	CHECK(b.role == WM_BDAY_EASY);
	/* a second request while one runs changes nothing */
	CHECK(!wm_birthday_easy_start(&b, &v, &target, fake_random, t));
	for (int tick = 0; tick < 1000; tick++) {
		n = wm_birthday_easy_probes(&b, t + (uint64_t)tick * 50000000u,
					    fake_random, out, 64);
		CHECK(n <= WM_BDAY_PER_TICK);
		for (size_t i = 0; i < n; i++) {
			CHECK(out[i].in.sin_addr.s_addr == target.in.sin_addr.s_addr);
			CHECK(ntohs(out[i].in.sin_port) >= WM_BDAY_PORT_MIN);
		}
		total += n;
	}
	CHECK(total == WM_BDAY_PROBES && b.sent == WM_BDAY_PROBES);
	CHECK(wm_birthday_expire(&b, t + S(WM_BDAY_WINDOW_S), false));
	t += S(WM_BDAY_WINDOW_S);
	CHECK(!wm_birthday_easy_start(&b, &v, &target, fake_random,
				      t + S(WM_BDAY_EASY_GAP_S) - 1));
	CHECK(wm_birthday_easy_start(&b, &v, &target, fake_random,
				     t + S(WM_BDAY_EASY_GAP_S)));
	/* nothing after the window, however few went out */
	CHECK(wm_birthday_easy_probes(&b, t + S(WM_BDAY_EASY_GAP_S + WM_BDAY_WINDOW_S),
				      fake_random, out, 64) == 0);
}

TEST(probe_txid)
{
	struct wm_birthday b;
	struct wm_bday_view v = hard_view();
	union wm_sockaddr target = v4("192.0.2.18", 1);
	uint8_t other[WM_DISCO_TXID] = { 0 };

	memset(&b, 0, sizeof(b));
	CHECK(!wm_birthday_is_probe(&b, b.txid)); /* no attempt: no match */
	v.our_mapping = WM_BDAY_MAP_EASY;
	CHECK(wm_birthday_easy_start(&b, &v, &target, fake_random, S(1)));
	CHECK(wm_birthday_is_probe(&b, b.txid));
	CHECK(!wm_birthday_is_probe(&b, other));
	wm_birthday_won(&b, S(2));
	CHECK(!wm_birthday_is_probe(&b, b.txid));
}

static union wm_sockaddr v6(const char *ip, uint16_t port)
{
	union wm_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.in6.sin6_family = AF_INET6;
	a.in6.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &a.in6.sin6_addr);
	return a;
}

TEST(public_addresses)
{
	static const char *pub[] = { "192.0.2.18", "20.0.113.5", "198.51.100.20",
				     "8.8.8.8", "172.32.0.1", "100.128.0.1" };
	static const char *priv[] = { "10.0.1.1", "172.16.0.1", "172.31.9.9",
				      "192.168.1.1", "100.64.0.1", "100.127.1.1",
				      "127.0.0.1", "169.254.1.1", "0.0.0.0",
				      "224.0.0.1", "255.255.255.255" };
	union wm_sockaddr a;

	for (size_t i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
		a = v4(pub[i], 1);
		CHECK(wm_birthday_public(&a));
	}
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		a = v4(priv[i], 1);
		CHECK(!wm_birthday_public(&a));
	}
	a = v6("2001:db8::1", 1);
	CHECK(wm_birthday_public(&a));
	a = v6("fd00::1", 1);
	CHECK(!wm_birthday_public(&a));
	a = v6("fe80::1", 1);
	CHECK(!wm_birthday_public(&a));
	a = v6("::ffff:192.0.2.1", 1);
	CHECK(!wm_birthday_public(&a));
}

TEST(easy_side_public_only)
{
	struct wm_birthday b;
	struct wm_bday_view v = hard_view();
	union wm_sockaddr a;

	memset(&b, 0, sizeof(b));
	v.our_mapping = WM_BDAY_MAP_EASY;
	a = v4("192.168.1.1", 1);
	CHECK(!wm_birthday_easy_start(&b, &v, &a, fake_random, S(1)));
	a = v4("10.0.0.1", 1);
	CHECK(!wm_birthday_easy_start(&b, &v, &a, fake_random, S(1)));
	a = v4("100.64.0.1", 1);
	CHECK(!wm_birthday_easy_start(&b, &v, &a, fake_random, S(1)));
	a = v6("fd00::1", 1);
	CHECK(!wm_birthday_easy_start(&b, &v, &a, fake_random, S(1)));
	CHECK(b.role == WM_BDAY_IDLE && b.attempts == 0);
	a = v6("2001:db8::18", 1);
	CHECK(wm_birthday_easy_start(&b, &v, &a, fake_random, S(1)));
}

TEST(hard_side_family)
{
	union wm_sockaddr cand[] = {
		v6("2001:db8::18", 51820), v4("10.0.2.2", 51820),
		v4("192.0.2.18", 51820), v6("2001:db8::19", 51820),
		v4("192.0.2.19", 40000),
	};
	union wm_sockaddr ours4[] = { v4("192.0.2.2", 33333) };
	union wm_sockaddr priv4[] = { v4("100.64.0.2", 33333) };
	union wm_sockaddr ours46[] = { v4("192.0.2.2", 33333),
				       v6("2001:db8::2", 44444) };
	union wm_sockaddr to[WM_BDAY_TARGETS], me, many[WM_BDAY_TARGETS + 2];
	size_t n;

	/* IPv4 only on our side, the peer's first public candidate IPv6 */
	n = wm_birthday_hard_targets(cand, 5, ours4, 1, to, &me);
	CHECK(n == 2);
	CHECK(me.sa.sa_family == AF_INET && wm_sockaddr_equal(&me, &ours4[0]));
	CHECK(wm_sockaddr_equal(&to[0], &cand[2]) &&
	      wm_sockaddr_equal(&to[1], &cand[4]));
	/* both families: the peer's first public candidate's */
	n = wm_birthday_hard_targets(cand, 5, ours46, 2, to, &me);
	CHECK(n == 2 && me.sa.sa_family == AF_INET6);
	CHECK(wm_sockaddr_equal(&to[0], &cand[0]) &&
	      wm_sockaddr_equal(&to[1], &cand[3]));
	/* no reflexive address, or none of a family the peer has, or none
	 * public (the easy side would refuse to probe it) */
	CHECK(wm_birthday_hard_targets(cand, 5, ours4, 0, to, &me) == 0);
	CHECK(wm_birthday_hard_targets(cand, 5, priv4, 1, to, &me) == 0);
	CHECK(wm_birthday_hard_targets(cand, 2, ours4, 1, to, &me) == 0);
	/* at most WM_BDAY_TARGETS */
	for (size_t i = 0; i < WM_BDAY_TARGETS + 2; i++)
		many[i] = v4("192.0.2.18", (uint16_t)(1000 + i));
	CHECK(wm_birthday_hard_targets(many, WM_BDAY_TARGETS + 2, ours4, 1,
				       to, &me) == WM_BDAY_TARGETS);
}

TEST(disco_messages)
{
	uint8_t key[32] = { 7 }, id[WM_DISCO_ID] = { 1 }, nonce[24] = { 2 };
	uint8_t buf[WM_DISCO_MAX];
	struct wm_disco_msg m, got;
	size_t n;

	memset(&m, 0, sizeof(m));
	m.type = WM_DISCO_MAPPING;
	m.sent_at = 5;
	m.mapping = WM_BDAY_MAP_HARD;
	n = wm_disco_seal_v2(buf, &m, id, key, nonce);
	CHECK(n == WM_DISCO_HDR_V2 + 9 + 1 + 16);
	CHECK(wm_disco_open(&got, buf, n, key, 0) == WM_DISCO_OK);
	CHECK(got.type == WM_DISCO_MAPPING && got.mapping == WM_BDAY_MAP_HARD);

	memset(&m, 0, sizeof(m));
	m.type = WM_DISCO_BIRTHDAY;
	m.sent_at = 6;
	m.target = v4("192.0.2.18", 45973);
	n = wm_disco_seal_v2(buf, &m, id, key, nonce);
	CHECK(n && wm_disco_open(&got, buf, n, key, 0) == WM_DISCO_OK);
	CHECK(got.type == WM_DISCO_BIRTHDAY &&
	      got.target.in.sin_port == htons(45973) &&
	      got.target.in.sin_addr.s_addr == m.target.in.sin_addr.s_addr);
	m.target.sa.sa_family = AF_UNSPEC; /* nothing to probe: not built */
	CHECK(wm_disco_seal_v2(buf, &m, id, key, nonce) == 0);
}

int main(void)
{
	RUN(hard_side_conditions);
	RUN(hard_side_backoff);
	RUN(easy_side_probes_bounded);
	RUN(probe_txid);
	RUN(public_addresses);
	RUN(easy_side_public_only);
	RUN(hard_side_family);
	RUN(disco_messages);
	return check_summary();
}
