/*
 * The handshake, cookies and transport between two in-process peers, and
 * each way a message must be refused, one by one.
 */
#include "check.h"
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/wg/transport.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

struct side {
	struct wm_noise_local local;
	struct wm_noise_peer peer; /* the other side, as this side knows it */
	struct wm_cookie_maker maker;
	struct wm_cookie_checker checker;
	struct wm_handshake hs;
	struct wm_keypair kp;
	struct wm_replay replay;
	bool knows_peer;
};

static struct wm_noise_peer *lookup(void *ctx, const uint8_t key[32])
{
	struct side *s = ctx;

	if (s->knows_peer && memcmp(key, s->peer.remote_static, 32) == 0)
		return &s->peer;
	return NULL;
}

static uint64_t now = 1000 * WM_NSEC_PER_SEC;
static int64_t wall = 1700000000;

static void rnd(uint8_t *b, size_t n)
{
	CHECK(wm_random_bytes(b, n) == 0);
}

static void pair(struct side *a, struct side *b, const uint8_t *psk_a,
		 const uint8_t *psk_b)
{
	uint8_t ka[32], kb[32];

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	rnd(ka, 32);
	rnd(kb, 32);
	wm_noise_local_init(&a->local, ka);
	wm_noise_local_init(&b->local, kb);
	wm_noise_peer_init(&a->peer, &a->local, b->local.public_key, psk_a);
	wm_noise_peer_init(&b->peer, &b->local, a->local.public_key, psk_b);
	wm_cookie_maker_init(&a->maker, b->local.public_key);
	wm_cookie_maker_init(&b->maker, a->local.public_key);
	wm_cookie_checker_init(&a->checker, a->local.public_key);
	wm_cookie_checker_init(&b->checker, b->local.public_key);
	a->knows_peer = b->knows_peer = true;
}

static void make_initiation(struct side *i, struct wm_msg_initiation *msg)
{
	uint8_t eph[32], ts[12];

	rnd(eph, 32);
	wm_noise_tai64n(ts, wall++, 0);
	CHECK(wm_noise_create_initiation(msg, &i->hs, &i->local, &i->peer,
					 0x11223344, eph, ts) == WM_NOISE_OK);
	wm_cookie_add_macs(&i->maker, msg, sizeof(*msg), now);
}

static const uint8_t src[6] = { 192, 0, 2, 1, 0xca, 0x6c };
static uint8_t secret[32];

/* Runs initiator i against responder r; returns r's consume result. */
static enum wm_noise_result handshake(struct side *i, struct side *r)
{
	struct wm_msg_initiation init;
	struct wm_msg_response resp;
	struct wm_noise_peer *who;
	enum wm_noise_result res;
	uint8_t eph[32];

	make_initiation(i, &init);
	CHECK(wm_cookie_validate(&r->checker, &init, sizeof(init), src, 6,
				 now) != WM_COOKIE_INVALID_MAC);
	res = wm_noise_consume_initiation(&init, &r->hs, &r->local, lookup, r,
					  &who, now);
	if (res != WM_NOISE_OK)
		return res;
	CHECK(who == &r->peer);
	rnd(eph, 32);
	CHECK(wm_noise_create_response(&resp, &r->hs, who, 0x55667788, eph) ==
	      WM_NOISE_OK);
	wm_cookie_add_macs(&r->maker, &resp, sizeof(resp), now);
	CHECK(wm_cookie_validate(&i->checker, &resp, sizeof(resp), src, 6,
				 now) != WM_COOKIE_INVALID_MAC);
	res = wm_noise_consume_response(&resp, &i->hs, &i->local, &i->peer);
	if (res != WM_NOISE_OK)
		return res;
	CHECK(wm_noise_derive_keypair(&r->kp, &r->hs, now) == WM_NOISE_OK);
	CHECK(wm_noise_derive_keypair(&i->kp, &i->hs, now) == WM_NOISE_OK);
	wm_replay_init(&i->replay);
	wm_replay_init(&r->replay);
	return WM_NOISE_OK;
}

/* Sends a packet from s to d through the transport and checks it arrives. */
static void exchange(struct side *s, struct side *d, uint64_t counter,
		     size_t len)
{
	uint8_t pkt[1500], wire[1600], *plain;
	size_t n, plen;

	for (size_t j = 0; j < len; j++)
		pkt[j] = (uint8_t)(j * 7 + counter);
	n = wm_transport_seal(wire, &s->kp, counter, pkt, len, 1420);
	CHECK(n == wm_transport_sealed_len(len, 1420));
	/* Padding rounds up to 16 but never past the MTU. */
	size_t want = (len + 15) & ~(size_t)15;
	if (want > 1420)
		want = 1420;
	CHECK(n == 16 + want + 16);
	CHECK(wm_transport_receiver(wire) == d->kp.local_index);
	CHECK(wm_transport_open(&d->kp, &d->replay, wire, n, &plain, &plen) ==
	      WM_RX_OK);
	CHECK(plen == want);
	CHECK(memcmp(plain, pkt, len) == 0);
}

TEST(handshake_a_initiates)
{
	struct side a, b;

	pair(&a, &b, NULL, NULL);
	CHECK(handshake(&a, &b) == WM_NOISE_OK);
	CHECK_MEM(a.kp.send_key, b.kp.recv_key, 32);
	CHECK_MEM(a.kp.recv_key, b.kp.send_key, 32);
	CHECK(memcmp(a.kp.send_key, a.kp.recv_key, 32) != 0);
	CHECK(a.kp.is_initiator && !b.kp.is_initiator);
	CHECK(a.kp.remote_index == 0x55667788 && b.kp.remote_index == 0x11223344);
	exchange(&a, &b, 0, 84);
	exchange(&b, &a, 0, 1420);
	exchange(&a, &b, 1, 0); /* keepalive */
}

TEST(handshake_b_initiates)
{
	struct side a, b;

	pair(&a, &b, NULL, NULL);
	CHECK(handshake(&b, &a) == WM_NOISE_OK);
	CHECK_MEM(b.kp.send_key, a.kp.recv_key, 32);
	exchange(&b, &a, 0, 100);
	exchange(&a, &b, 0, 1);
}

TEST(handshake_with_psk)
{
	struct side a, b;
	uint8_t psk[32], k1[32];

	rnd(psk, 32);
	pair(&a, &b, psk, psk);
	CHECK(handshake(&a, &b) == WM_NOISE_OK);
	memcpy(k1, a.kp.send_key, 32);
	CHECK_MEM(a.kp.send_key, b.kp.recv_key, 32);
	exchange(&a, &b, 0, 64);
	CHECK(handshake(&b, &a) == WM_NOISE_OK);
	CHECK(memcmp(k1, b.kp.recv_key, 32) != 0); /* fresh keys */
	exchange(&b, &a, 0, 64);
}

TEST(psk_mismatch_rejected)
{
	struct side a, b;
	uint8_t psk[32];

	rnd(psk, 32);
	pair(&a, &b, psk, NULL);
	/* The responder cannot tell; the initiator's check of the empty
	 * payload fails and it keeps waiting for a real response. */
	CHECK(handshake(&a, &b) == WM_NOISE_DECRYPT_FAILED);
	CHECK(a.hs.state == WM_HS_CREATED_INITIATION);
}

TEST(replayed_initiation_rejected)
{
	struct side a, b;
	struct wm_msg_initiation init;
	struct wm_noise_peer *who;

	pair(&a, &b, NULL, NULL);
	make_initiation(&a, &init);
	CHECK(wm_noise_consume_initiation(&init, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_OK);
	now += WM_NSEC_PER_SEC;
	CHECK(wm_noise_consume_initiation(&init, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_REPLAY);
	CHECK(who == NULL);
}

TEST(stale_timestamp_rejected)
{
	struct side a, b;
	struct wm_msg_initiation old, fresh;
	struct wm_noise_peer *who;

	pair(&a, &b, NULL, NULL);
	make_initiation(&a, &old);
	make_initiation(&a, &fresh);
	CHECK(wm_noise_consume_initiation(&fresh, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_OK);
	now += WM_NSEC_PER_SEC;
	CHECK(wm_noise_consume_initiation(&old, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_REPLAY);
}

TEST(initiation_flood_rejected)
{
	struct side a, b;
	struct wm_msg_initiation m1, m2;
	struct wm_noise_peer *who;

	pair(&a, &b, NULL, NULL);
	make_initiation(&a, &m1);
	make_initiation(&a, &m2);
	CHECK(wm_noise_consume_initiation(&m1, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_OK);
	CHECK(wm_noise_consume_initiation(&m2, &b.hs, &b.local, lookup, &b,
					  &who, now + 1000) == WM_NOISE_FLOOD);
	now += WM_NSEC_PER_SEC;
	CHECK(wm_noise_consume_initiation(&m2, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_OK);
}

TEST(bad_mac1_rejected)
{
	struct side a, b;
	struct wm_msg_initiation init;

	pair(&a, &b, NULL, NULL);
	make_initiation(&a, &init);
	init.macs.mac1[3] ^= 1;
	CHECK(wm_cookie_validate(&b.checker, &init, sizeof(init), src, 6,
				 now) == WM_COOKIE_INVALID_MAC);
	/* mac1 covers the whole message before it. */
	make_initiation(&a, &init);
	init.sender_index ^= 1;
	CHECK(wm_cookie_validate(&b.checker, &init, sizeof(init), src, 6,
				 now) == WM_COOKIE_INVALID_MAC);
}

TEST(unknown_static_key_rejected)
{
	struct side a, b;
	struct wm_msg_initiation init;
	struct wm_noise_peer *who;

	pair(&a, &b, NULL, NULL);
	b.knows_peer = false;
	make_initiation(&a, &init);
	CHECK(wm_noise_consume_initiation(&init, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_UNKNOWN_PEER);
}

TEST(wrong_responder_key_rejected)
{
	struct side a, b, c, d;
	struct wm_msg_initiation init;
	struct wm_noise_peer *who;

	pair(&a, &b, NULL, NULL);
	pair(&c, &d, NULL, NULL);
	make_initiation(&a, &init); /* sealed to b's key, delivered to d */
	CHECK(wm_noise_consume_initiation(&init, &d.hs, &d.local, lookup, &d,
					  &who, now) == WM_NOISE_DECRYPT_FAILED);
	CHECK(wm_cookie_validate(&d.checker, &init, sizeof(init), src, 6,
				 now) == WM_COOKIE_INVALID_MAC);
}

TEST(tampered_initiation_rejected)
{
	struct side a, b;
	struct wm_msg_initiation init;
	struct wm_noise_peer *who;
	size_t offs[] = { offsetof(struct wm_msg_initiation, encrypted_static),
			  offsetof(struct wm_msg_initiation, encrypted_static) + 40,
			  offsetof(struct wm_msg_initiation, encrypted_timestamp),
			  offsetof(struct wm_msg_initiation, encrypted_timestamp) + 20,
			  offsetof(struct wm_msg_initiation, unencrypted_ephemeral) + 5 };

	pair(&a, &b, NULL, NULL);
	for (size_t k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		make_initiation(&a, &init);
		((uint8_t *)&init)[offs[k]] ^= 0x80;
		CHECK(wm_noise_consume_initiation(&init, &b.hs, &b.local, lookup,
						  &b, &who, now) != WM_NOISE_OK);
	}
}

TEST(tampered_response_rejected_and_real_one_still_works)
{
	struct side a, b;
	struct wm_msg_initiation init;
	struct wm_msg_response resp, bad;
	struct wm_noise_peer *who;
	uint8_t eph[32];

	pair(&a, &b, NULL, NULL);
	make_initiation(&a, &init);
	CHECK(wm_noise_consume_initiation(&init, &b.hs, &b.local, lookup, &b,
					  &who, now) == WM_NOISE_OK);
	rnd(eph, 32);
	CHECK(wm_noise_create_response(&resp, &b.hs, who, 7, eph) == WM_NOISE_OK);
	bad = resp;
	bad.encrypted_nothing[0] ^= 1;
	CHECK(wm_noise_consume_response(&bad, &a.hs, &a.local, &a.peer) ==
	      WM_NOISE_DECRYPT_FAILED);
	bad = resp;
	bad.receiver_index ^= 1;
	CHECK(wm_noise_consume_response(&bad, &a.hs, &a.local, &a.peer) ==
	      WM_NOISE_BAD_MESSAGE);
	CHECK(wm_noise_consume_response(&resp, &a.hs, &a.local, &a.peer) ==
	      WM_NOISE_OK);
	/* A second copy of the response finds no handshake waiting. */
	CHECK(wm_noise_consume_response(&resp, &a.hs, &a.local, &a.peer) ==
	      WM_NOISE_BAD_MESSAGE);
}

TEST(transport_rejects_forgery_and_replay)
{
	struct side a, b;
	uint8_t pkt[64] = { 0x45 }, wire[128], copy[128], *plain;
	size_t n, plen;

	pair(&a, &b, NULL, NULL);
	CHECK(handshake(&a, &b) == WM_NOISE_OK);
	n = wm_transport_seal(wire, &a.kp, 5, pkt, sizeof(pkt), 1420);
	memcpy(copy, wire, n);
	for (size_t bit = 16 * 8; bit < n * 8; bit += 61) {
		uint8_t t[128];
		memcpy(t, wire, n);
		t[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		CHECK(wm_transport_open(&b.kp, &b.replay, t, n, &plain, &plen) ==
		      WM_RX_BAD_AUTH);
	}
	/* A forged counter must not move the window: counter 5 still opens. */
	CHECK(wm_transport_open(&b.kp, &b.replay, wire, n, &plain, &plen) ==
	      WM_RX_OK);
	CHECK(wm_transport_open(&b.kp, &b.replay, copy, n, &plain, &plen) ==
	      WM_RX_REPLAY);
	CHECK(wm_transport_open(&b.kp, &b.replay, copy, 20, &plain, &plen) ==
	      WM_RX_TOO_SHORT);
}

TEST(cookie_reply_roundtrip)
{
	struct side a, b;
	struct wm_msg_initiation init;
	struct wm_msg_cookie reply;
	uint8_t nonce[24];

	pair(&a, &b, NULL, NULL);
	rnd(secret, 32);
	wm_cookie_checker_rotate(&b.checker, secret, now);
	make_initiation(&a, &init);
	CHECK(wm_cookie_validate(&b.checker, &init, sizeof(init), src, 6,
				 now) == WM_COOKIE_VALID_MAC);
	rnd(nonce, 24);
	wm_cookie_create_reply(&reply, &b.checker, &init, sizeof(init),
			       init.sender_index, src, 6, now, nonce);
	/* A reply tampered with, or for another mac1, is refused. */
	struct wm_msg_cookie bad = reply;
	bad.encrypted_cookie[2] ^= 4;
	CHECK(!wm_cookie_consume_reply(&a.maker, &bad, now));
	CHECK(wm_cookie_consume_reply(&a.maker, &reply, now));
	make_initiation(&a, &init);
	CHECK(wm_cookie_validate(&b.checker, &init, sizeof(init), src, 6,
				 now) == WM_COOKIE_VALID_MAC_COOKIE);
	/* The cookie is bound to the source address. */
	const uint8_t other[6] = { 192, 0, 2, 2, 0xca, 0x6c };
	CHECK(wm_cookie_validate(&b.checker, &init, sizeof(init), other, 6,
				 now) == WM_COOKIE_VALID_MAC);
	/* And it expires after two minutes. */
	make_initiation(&a, &init);
	now += 121 * WM_NSEC_PER_SEC;
	make_initiation(&a, &init);
	CHECK(init.macs.mac2[0] == 0 && init.macs.mac2[15] == 0);
}

TEST(tai64n_is_monotonic_and_big_endian)
{
	uint8_t t1[12], t2[12], t3[12];

	wm_noise_tai64n(t1, 1700000000, 0);
	wm_noise_tai64n(t2, 1700000000, 999999999);
	wm_noise_tai64n(t3, 1700000001, 0);
	CHECK(t1[0] == 0x40);
	CHECK(memcmp(t1, t2, 12) < 0);
	CHECK(memcmp(t2, t3, 12) < 0);
}

int main(void)
{
	RUN(handshake_a_initiates);
	RUN(handshake_b_initiates);
	RUN(handshake_with_psk);
	RUN(psk_mismatch_rejected);
	RUN(replayed_initiation_rejected);
	RUN(stale_timestamp_rejected);
	RUN(initiation_flood_rejected);
	RUN(bad_mac1_rejected);
	RUN(unknown_static_key_rejected);
	RUN(wrong_responder_key_rejected);
	RUN(tampered_initiation_rejected);
	RUN(tampered_response_rejected_and_real_one_still_works);
	RUN(transport_rejects_forgery_and_replay);
	RUN(cookie_reply_roundtrip);
	RUN(tai64n_is_monotonic_and_big_endian);
	return check_summary();
}
