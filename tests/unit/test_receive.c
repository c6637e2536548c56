/*
 * The device's receive demultiplexer: a real handshake between two
 * in-process devices passes through it, and every truncated or padded
 * handshake or data message is counted as malformed and changes nothing.
 */
#include "check.h"
#include "agent/wg/cookie.h"
#include "agent/receive.h"
#include "agent/handshake.h"
#include "agent/device.h"
#include "agent/wg/noise.h"
#include "crypto/random.h"

#include <arpa/inet.h>

static struct wm_device a, b;
static struct wm_peer *a_b, *b_a;

static void setup(void)
{
	uint8_t ka[32], kb[32];

	CHECK(wm_random_bytes(ka, 32) == 0 && wm_random_bytes(kb, 32) == 0);
	CHECK(wm_device_init(&a, "wmra") == 0);
	CHECK(wm_device_init(&b, "wmrb") == 0);
	wm_device_set_private_key(&a, ka);
	wm_device_set_private_key(&b, kb);
	a_b = wm_device_add_peer(&a, b.local.public_key);
	b_a = wm_device_add_peer(&b, a.local.public_key);
	CHECK(a_b && b_a);
}

static void teardown(void)
{
	wm_device_free(&a);
	wm_device_free(&b);
}

static const union wm_sockaddr *source(void)
{
	static union wm_sockaddr src;

	src.in.sin_family = AF_INET;
	src.in.sin_port = htons(51820);
	inet_pton(AF_INET, "192.0.2.7", &src.in.sin_addr);
	return &src;
}

/* An initiation from a to b with valid MACs, as a would send it. */
static void initiation(struct wm_msg_initiation *msg)
{
	uint8_t eph[32], ts[12];

	CHECK(wm_random_bytes(eph, 32) == 0);
	wm_noise_tai64n(ts, 1700000000, 0);
	CHECK(wm_noise_create_initiation(msg, &a_b->hs, &a.local, &a_b->noise,
					 1234, eph, ts) == WM_NOISE_OK);
	wm_cookie_add_macs(&a_b->cookie, msg, sizeof(*msg), 1);
}

TEST(valid_initiation_is_consumed)
{
	struct wm_msg_initiation msg;

	setup();
	initiation(&msg);
	wm_receive_datagram(&b, (uint8_t *)&msg, sizeof(msg), source(), 1000000000ULL);
	CHECK(b.stats.rx_malformed == 0);
	CHECK(b.stats.handshakes_completed == 1);
	CHECK(b_a->next_session != NULL);
	CHECK(b_a->rx_bytes == sizeof(msg));
	CHECK(wm_sockaddr_equal(&b_a->endpoint, source()));
	teardown();
}

static void feed(struct wm_device *dev, const void *msg, size_t len)
{
	uint8_t buf[512];

	memcpy(buf, msg, len);
	wm_receive_datagram(dev, buf, len, source(), 1000000000ULL);
}

TEST(truncated_and_padded_messages_are_malformed)
{
	struct wm_msg_initiation init;
	uint8_t big[512] = { 0 };
	static const struct { uint8_t type; size_t len; } bad[] = {
		{ WM_MSG_INITIATION, 147 }, { WM_MSG_INITIATION, 149 },
		{ WM_MSG_INITIATION, 4 },   { WM_MSG_RESPONSE, 91 },
		{ WM_MSG_RESPONSE, 93 },    { WM_MSG_COOKIE, 63 },
		{ WM_MSG_COOKIE, 65 },      { WM_MSG_DATA, 31 },
		{ WM_MSG_DATA, 16 },        { 5, 148 },
		{ 0, 148 },
	};
	uint64_t expect = 0;

	setup();
	initiation(&init);
	memcpy(big, &init, sizeof(init));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		big[0] = bad[i].type;
		feed(&b, big, bad[i].len);
		CHECK(b.stats.rx_malformed == ++expect);
	}
	/* Non-zero reserved bytes, and lengths below a header. */
	big[0] = WM_MSG_INITIATION;
	big[2] = 1;
	feed(&b, big, sizeof(init));
	CHECK(b.stats.rx_malformed == ++expect);
	feed(&b, big, 0);
	feed(&b, big, 3);
	CHECK(b.stats.rx_malformed == expect + 2);
	/* None of it reached the handshake or moved the peer. */
	CHECK(b.stats.handshakes_completed == 0);
	CHECK(b_a->next_session == NULL && b_a->current == NULL);
	CHECK(b_a->rx_bytes == 0);
	CHECK(b_a->endpoint.sa.sa_family == AF_UNSPEC);
	teardown();
}

TEST(bad_mac1_and_unknown_index_are_counted)
{
	struct wm_msg_initiation init;
	uint8_t data[64] = { WM_MSG_DATA };

	setup();
	initiation(&init);
	init.macs.mac1[0] ^= 1;
	feed(&b, &init, sizeof(init));
	CHECK(b.stats.rx_bad_mac == 1);
	feed(&b, data, sizeof(data));
	CHECK(b.stats.rx_unknown_index == 1);
	CHECK(b.stats.handshakes_completed == 0);
	teardown();
}

static unsigned random_calls;

static int counting_random(void *buf, size_t len)
{
	random_calls++;
	return wm_random_bytes(buf, len);
}

static const union wm_sockaddr *source_n(unsigned n)
{
	static union wm_sockaddr src;

	src.in.sin_family = AF_INET;
	src.in.sin_port = htons(51820);
	src.in.sin_addr.s_addr = htonl(0xc6336400u + n); /* 198.51.100.n */
	return &src;
}

#define SEC 1000000000ULL

/* Under a flood of bad mac1s, nothing but a hash is spent: no getrandom
 * (and no DH: nothing reaches the handshake). */
TEST(mac1_checked_before_randomness)
{
	struct wm_msg_initiation init;
	struct wm_msg_cookie reply;

	setup();
	b.random = counting_random;
	random_calls = 0;
	initiation(&init);
	init.macs.mac1[3] ^= 0x40;
	for (int i = 0; i < 1000; i++) {
		uint8_t buf[sizeof(init)];
		memcpy(buf, &init, sizeof(init));
		wm_receive_datagram(&b, buf, sizeof(buf), source_n(i % 100),
				    5 * SEC + (uint64_t)i * 1000);
	}
	CHECK(b.stats.rx_bad_mac == 1000);
	CHECK(random_calls == 0);
	CHECK(b.stats.rx_handshake_failed == 0 && b.stats.handshakes_completed == 0);
	/* mac1 right, not under load: the handshake draws its ephemeral */
	init.macs.mac1[3] ^= 0x40;
	CHECK(wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
				      init.sender_index, source(), 6 * SEC,
				      &reply) == WM_MAC_OK);
	CHECK(random_calls == 0);
	teardown();
}

/* Past 64 handshake messages a second: no valid mac2, a cookie reply
 * that the sender can open; with it, a budget per source address. */
TEST(cookie_then_budget_under_load)
{
	struct wm_msg_initiation init;
	struct wm_msg_cookie reply;
	enum wm_mac_verdict v;
	unsigned ok = 0, cookies = 0, limited = 0, i;
	uint64_t t = 10 * SEC;

	setup();
	b.random = counting_random;
	random_calls = 0;
	initiation(&init);
	for (i = 0; i < 100; i++) {
		v = wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
					    init.sender_index, source(), t,
					    &reply);
		ok += v == WM_MAC_OK;
		cookies += v == WM_MAC_COOKIE;
	}
	CHECK(ok == 64 && cookies == 36);
	/* the secret is drawn once, then one nonce per reply */
	CHECK(random_calls == 1 + 36);
	CHECK(reply.header.type == WM_MSG_COOKIE);
	CHECK(reply.receiver_index == init.sender_index);
	/* the initiator takes the cookie and sends again with mac2 */
	CHECK(wm_cookie_consume_reply(&a_b->cookie, &reply, t));
	wm_cookie_add_macs(&a_b->cookie, &init, sizeof(init), t);
	for (i = 0; i < 20; i++) {
		v = wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
					    init.sender_index, source(), t,
					    &reply);
		ok += v == WM_MAC_OK;
		limited += v == WM_MAC_DROP;
	}
	/* a burst of five, then dropped and counted */
	CHECK(ok == 64 + WM_RATELIMIT_BURST);
	CHECK(limited == 20 - WM_RATELIMIT_BURST);
	CHECK(b.stats.rx_handshake_limited == limited);
	/* the bucket refills at WM_HANDSHAKES_PER_SOURCE a second */
	CHECK(wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
				      init.sender_index, source(),
				      t + SEC / WM_HANDSHAKES_PER_SOURCE, &reply) == WM_MAC_OK);
	/* the cookie is bound to the address: another port needs its own */
	{
		union wm_sockaddr other = *source();
		other.in.sin_port = htons(51821);
		CHECK(wm_handshake_check_macs(&b, (uint8_t *)&init,
					      sizeof(init), init.sender_index,
					      &other, t + SEC / WM_HANDSHAKES_PER_SOURCE,
					      &reply) == WM_MAC_COOKIE);
	}
	/* relayed messages are never asked for a cookie nor limited */
	CHECK(wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
				      init.sender_index, NULL, t + SEC / WM_HANDSHAKES_PER_SOURCE,
				      &reply) == WM_MAC_OK);
	/* two quiet seconds: no longer under load */
	wm_cookie_maker_init(&a_b->cookie, b.local.public_key);
	wm_cookie_add_macs(&a_b->cookie, &init, sizeof(init), t + 3 * SEC);
	CHECK(wm_handshake_check_macs(&b, (uint8_t *)&init, sizeof(init),
				      init.sender_index, source(), t + 3 * SEC,
				      &reply) == WM_MAC_OK);
	teardown();
}

/* Through the demux: a flood that answers its cookies still has no more
 * than its budget reach the Noise handshake. */
TEST(flood_with_cookies_is_limited_before_the_handshake)
{
	struct wm_msg_initiation init;
	struct wm_msg_cookie reply;
	uint64_t t = 20 * SEC;

	setup();
	initiation(&init);
	for (int i = 0; i < 100; i++)
		(void)wm_handshake_check_macs(&b, (uint8_t *)&init,
					      sizeof(init), init.sender_index,
					      source(), t, &reply);
	CHECK(wm_cookie_consume_reply(&a_b->cookie, &reply, t));
	wm_cookie_add_macs(&a_b->cookie, &init, sizeof(init), t);
	for (int i = 0; i < 50; i++) {
		uint8_t buf[sizeof(init)];
		memcpy(buf, &init, sizeof(init));
		wm_receive_datagram(&b, buf, sizeof(buf), source(), t);
	}
	/* five reached Noise: one handshake, four replays of it */
	CHECK(b.stats.handshakes_completed == 1);
	CHECK(b.stats.rx_handshake_failed == WM_RATELIMIT_BURST - 1);
	CHECK(b.stats.rx_handshake_limited == 50 - WM_RATELIMIT_BURST);
	teardown();
}

int main(void)
{
	RUN(mac1_checked_before_randomness);
	RUN(cookie_then_budget_under_load);
	RUN(flood_with_cookies_is_limited_before_the_handshake);
	RUN(valid_initiation_is_consumed);
	RUN(truncated_and_padded_messages_are_malformed);
	RUN(bad_mac1_and_unknown_index_are_counted);
	return check_summary();
}
