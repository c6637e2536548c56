/*
 * The device's receive demultiplexer: a real handshake between two
 * in-process devices passes through it, and every truncated or padded
 * handshake or data message is counted as malformed and changes nothing.
 */
#include "check.h"
#include "agent/wg/cookie.h"
#include "agent/receive.h"
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

int main(void)
{
	RUN(valid_initiation_is_consumed);
	RUN(truncated_and_padded_messages_are_malformed);
	RUN(bad_mac1_and_unknown_index_are_counted);
	return check_summary();
}
