/*
 * The device's receive demultiplexer: a real handshake between two
 * in-process devices passes through it, and every truncated or padded
 * handshake or data message is counted as malformed and changes nothing.
 * With a session up, each rule of the data path is tried once and counted
 * under its own reason: a replay, a flipped tag, an unknown index, a
 * decrypted packet that is not IP, and the cryptokey-routing rule (a peer
 * may only send from its own AllowedIPs, not from nowhere's nor another
 * peer's); and a data message the relay says came from one peer, under
 * another peer's session, is refused.
 */
#include "check.h"
#include "agent/wg/cookie.h"
#include "agent/receive.h"
#include "agent/handshake.h"
#include "agent/device.h"
#include "agent/relay/client.h"
#include "agent/wg/allowedips.h"
#include "agent/wg/noise.h"
#include "agent/wg/session.h"
#include "crypto/random.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A flood that reached us on a birthday socket (dev.rx_sock_fd) gets its
 * cookie replies from that socket, not from ListenPort (here: none at
 * all, so a reply from there could not leave). */
TEST(cookie_reply_leaves_from_the_socket_it_came_to)
{
	struct wm_msg_initiation init;
	struct sockaddr_in bound = { 0 }, from = { 0 };
	socklen_t sl = sizeof(bound);
	union wm_sockaddr src = { 0 };
	uint8_t got[128];
	int bs, peer, n = 0;
	uint64_t t = 30 * SEC;

	setup();
	bs = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	peer = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	CHECK(bs >= 0 && peer >= 0);
	bound.sin_family = AF_INET;
	bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(bs, (struct sockaddr *)&bound, sizeof(bound)) == 0 &&
	      bind(peer, (struct sockaddr *)&bound, sizeof(bound)) == 0);
	CHECK(getsockname(peer, &src.sa, &sl) == 0);
	sl = sizeof(bound);
	CHECK(getsockname(bs, (struct sockaddr *)&bound, &sl) == 0);
	CHECK(b.udp.fd < 0 && !b.txq.arena);
	b.rx_sock_fd = bs;
	b.rx_sock_family = AF_INET;
	initiation(&init);
	for (int i = 0; i < 100; i++) {
		uint8_t buf[sizeof(init)];
		memcpy(buf, &init, sizeof(init));
		wm_receive_datagram(&b, buf, sizeof(buf), &src, t);
	}
	CHECK(b.stats.cookie_replies_sent > 0);
	for (;;) {
		ssize_t r;

		sl = sizeof(from);
		r = recvfrom(peer, got, sizeof(got), 0, (struct sockaddr *)&from, &sl);
		if (r < 0)
			break;
		CHECK(r == (ssize_t)sizeof(struct wm_msg_cookie) && got[0] == WM_MSG_COOKIE);
		CHECK(from.sin_port == bound.sin_port);
		n++;
	}
	CHECK((uint64_t)n == b.stats.cookie_replies_sent);
	b.rx_sock_fd = -1;
	close(bs);
	close(peer);
	teardown();
}

/* Setting a peer's AllowedIPs to a list with repeats, or to other
 * prefixes of the same count, replaces the old set (the "unchanged"
 * shortcut compares sets both ways). */
TEST(allowed_ips_replaced_as_a_set)
{
	struct wm_cidr two[2], same[2], dup[2], out[4];

	setup();
	CHECK(wm_cidr_parse(&two[0], "10.9.0.2/32") && wm_cidr_parse(&two[1], "10.9.0.3/32"));
	CHECK(wm_device_set_allowed_ips(&b, b_a, two, 2) == 0);
	CHECK(wm_allowedips_list(&b.allowedips, b_a, out, 4) == 2);
	same[0] = two[1];
	same[1] = two[0];
	CHECK(wm_device_set_allowed_ips(&b, b_a, same, 2) == 0);
	CHECK(wm_allowedips_list(&b.allowedips, b_a, out, 4) == 2);
	dup[0] = two[0];
	dup[1] = two[0];
	CHECK(wm_device_set_allowed_ips(&b, b_a, dup, 2) == 0);
	CHECK(wm_allowedips_list(&b.allowedips, b_a, out, 4) == 1);
	CHECK(wm_cidr_equal(&out[0], &two[0]));
	/* 10.9.0.3/31 masks to 10.9.0.2/31: another prefix, not the same */
	CHECK(wm_cidr_parse(&dup[1], "10.9.0.3/31"));
	CHECK(wm_device_set_allowed_ips(&b, b_a, dup, 2) == 0);
	CHECK(wm_allowedips_list(&b.allowedips, b_a, out, 4) == 2);
	teardown();
}

/* A session a -> b through the real handshake code (the response is
 * carried by hand: the devices have no sockets). a's AllowedIPs on b are
 * 10.9.0.1/32; a third peer c owns 10.9.0.3/32. */
static struct wm_peer *b_c;

static void session_up(uint64_t now)
{
	struct wm_msg_initiation init;
	struct wm_msg_response resp;
	struct wm_peer *c;
	uint8_t kc[32];
	struct wm_cidr cidr;

	CHECK(wm_handshake_create_initiation(&a, a_b, &init, now));
	CHECK(wm_handshake_consume_initiation(&b, &init, NULL, now, &resp) == b_a);
	CHECK(wm_handshake_consume_response(&a, a_b, &resp, now));
	CHECK(a_b->current != NULL && b_a->next_session != NULL);
	CHECK(wm_cidr_parse(&cidr, "10.9.0.1/32"));
	CHECK(wm_device_add_allowed_ip(&b, b_a, &cidr) == 0);
	CHECK(wm_random_bytes(kc, 32) == 0);
	c = wm_device_add_peer(&b, kc);
	CHECK(c != NULL);
	CHECK(wm_cidr_parse(&cidr, "10.9.0.3/32"));
	CHECK(wm_device_add_allowed_ip(&b, c, &cidr) == 0);
	b_c = c;
}

/* A 28-byte IPv4 packet from 10.9.0.<src> to 10.9.0.2 (no checksum: the
 * agent leaves that to the kernel). */
static size_t ip4(uint8_t *pkt, uint8_t src)
{
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[3] = 28;
	pkt[8] = 64;
	pkt[9] = 17;
	pkt[12] = 10, pkt[13] = 9, pkt[15] = src;
	pkt[16] = 10, pkt[17] = 9, pkt[19] = 2;
	return 28;
}

/* Seals pkt under a's current session into out; returns the length. */
static size_t seal(uint8_t *out, const uint8_t *pkt, size_t len, uint64_t now)
{
	size_t n = wm_session_seal(a_b->current, out, pkt, len, 1420, now);

	CHECK(n >= WM_MSG_MIN_DATA);
	return n;
}

static void feed_at(const uint8_t *msg, size_t len, uint64_t now)
{
	uint8_t buf[512];

	memcpy(buf, msg, len);
	wm_receive_datagram(&b, buf, len, source(), now);
}

/* Every drop counter of b but the one named stays at zero. */
static uint64_t drops(void)
{
	return b.stats.rx_malformed + b.stats.rx_bad_mac +
	       b.stats.rx_handshake_failed + b.stats.rx_unknown_index +
	       b.stats.rx_bad_auth + b.stats.rx_replay + b.stats.rx_expired +
	       b.stats.rx_bad_inner + b.stats.rx_source_not_allowed +
	       b.stats.rx_unknown_peer;
}

TEST(data_path_rules_are_each_counted)
{
	const uint64_t now = 2000000000ULL;
	uint8_t pkt[64], msg[128], bad[128];
	size_t n, m;
	uint64_t rx;

	setup();
	session_up(now);

	/* An authenticated packet from a's own address is taken. */
	rx = b_a->rx_bytes;
	n = seal(msg, pkt, ip4(pkt, 1), now);
	feed_at(msg, n, now);
	CHECK(drops() == 0);
	CHECK(b_a->current != NULL); /* the first packet confirmed it */
	CHECK(b_a->rx_bytes == rx + n);

	/* The same datagram again: the replay window. */
	feed_at(msg, n, now);
	CHECK(b.stats.rx_replay == 1 && drops() == 1);

	/* A flipped tag bit: the AEAD. */
	m = seal(bad, pkt, ip4(pkt, 1), now);
	bad[m - 1] ^= 0x10;
	feed_at(bad, m, now);
	CHECK(b.stats.rx_bad_auth == 1 && drops() == 2);
	/* ... and the counter it carried is still free: the real one passes. */
	bad[m - 1] ^= 0x10;
	feed_at(bad, m, now);
	CHECK(drops() == 2);

	/* A receiver index nobody was given. */
	m = seal(bad, pkt, ip4(pkt, 1), now);
	bad[4] ^= 0xff;
	feed_at(bad, m, now);
	CHECK(b.stats.rx_unknown_index == 1 && drops() == 3);

	/* Decrypts, but is no IP packet. */
	memset(pkt, 0x77, 28);
	m = seal(bad, pkt, 28, now);
	feed_at(bad, m, now);
	CHECK(b.stats.rx_bad_inner == 1 && drops() == 4);

	/* Cryptokey routing: an address in nobody's AllowedIPs, then one in
	 * peer c's, both sealed by a. */
	m = seal(bad, pkt, ip4(pkt, 99), now);
	feed_at(bad, m, now);
	CHECK(b.stats.rx_source_not_allowed == 1 && drops() == 5);
	m = seal(bad, pkt, ip4(pkt, 3), now);
	feed_at(bad, m, now);
	CHECK(b.stats.rx_source_not_allowed == 2 && drops() == 6);

	/* An unknown message type with a data message's body. */
	memcpy(bad, msg, n);
	bad[0] = 5;
	feed_at(bad, n, now);
	CHECK(b.stats.rx_malformed == 1 && drops() == 7);

	/* Relayed: the relay vouches for c's key, the body is a's session. */
	{
		struct wm_relay_event ev = { .type = WM_RELAY_EV_FRAME,
					     .key = b_c->public_key };

		m = seal(bad, pkt, ip4(pkt, 1), now);
		ev.body = bad;
		ev.len = m;
		wm_receive_relay_event(&b, 0, &ev, now);
		CHECK(b.stats.rx_unknown_peer == 1 && drops() == 8);
		/* from a, through the relay, it is a's packet */
		m = seal(bad, pkt, ip4(pkt, 1), now);
		ev.key = b_a->public_key;
		ev.len = m;
		wm_receive_relay_event(&b, 0, &ev, now);
		CHECK(drops() == 8);
	}

	/* After all that, a's own traffic still passes. */
	n = seal(msg, pkt, ip4(pkt, 1), now);
	feed_at(msg, n, now);
	CHECK(drops() == 8);
	teardown();
}

int main(void)
{
	RUN(mac1_checked_before_randomness);
	RUN(cookie_then_budget_under_load);
	RUN(flood_with_cookies_is_limited_before_the_handshake);
	RUN(cookie_reply_leaves_from_the_socket_it_came_to);
	RUN(allowed_ips_replaced_as_a_set);
	RUN(valid_initiation_is_consumed);
	RUN(truncated_and_padded_messages_are_malformed);
	RUN(bad_mac1_and_unknown_index_are_counted);
	RUN(data_path_rules_are_each_counted);
	return check_summary();
}
