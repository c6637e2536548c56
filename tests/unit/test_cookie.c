/* mac1, mac2 and cookie replies on a virtual clock: bit flips, the cookie
 * round trip, the checker's explicit secret rotation and its 120 s limit,
 * and the maker's own cookie lifetime. The reply's bytes against the
 * Python reference are in test_golden (golden_cookie_reply). */
#include "check.h"
#include "agent/wg/cookie.h"

#define SEC WM_NSEC_PER_SEC
#define MAX_AGE (WM_COOKIE_SECRET_MAX_AGE * SEC)
#define MAKER_AGE ((WM_COOKIE_SECRET_MAX_AGE - WM_COOKIE_SECRET_LATENCY) * SEC)

/* The virtual clock starts well away from 0, which cookie.c keeps for
 * "never". */
static const uint64_t t0 = 1000 * SEC;
static const uint8_t responder_pub[32] = { 0x11, 0x22, 0x33, 0x44 };
static const uint8_t other_pub[32] = { 0x99 };
static const uint8_t src[6] = { 192, 0, 2, 1, 0xca, 0x6c };
static const uint8_t src2[6] = { 192, 0, 2, 2, 0xca, 0x6c };
static const uint8_t zero16[16];

struct fx {
	struct wm_cookie_maker maker;     /* initiator, to the responder */
	struct wm_cookie_checker checker; /* the responder */
	uint8_t secret[32], nonce[24];
};

static void fill(uint8_t *b, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(start + i);
}

static void setup(struct fx *f)
{
	wm_cookie_maker_init(&f->maker, responder_pub);
	wm_cookie_checker_init(&f->checker, responder_pub);
	fill(f->secret, sizeof(f->secret), 0xc0);
	fill(f->nonce, sizeof(f->nonce), 0xe0);
}

/* An initiation-sized message whose body is a counting pattern. */
static void message(struct fx *f, struct wm_msg_initiation *m, uint8_t seed,
		    uint64_t now)
{
	fill((uint8_t *)m, sizeof(*m), seed);
	m->header.type = WM_MSG_INITIATION;
	wm_cookie_add_macs(&f->maker, m, sizeof(*m), now);
}

static enum wm_cookie_mac_state check(struct fx *f,
				      const struct wm_msg_initiation *m,
				      const uint8_t *from, uint64_t now)
{
	return wm_cookie_validate(&f->checker, m, sizeof(*m), from, 6, now);
}

/* The responder answers m with a cookie reply; the maker takes it. */
static bool get_cookie(struct fx *f, const struct wm_msg_initiation *m,
		       uint64_t now)
{
	struct wm_msg_cookie reply;

	if (!wm_cookie_create_reply(&reply, &f->checker, m, sizeof(*m),
				    m->sender_index, src, 6, now, f->nonce))
		return false;
	return wm_cookie_consume_reply(&f->maker, &reply, now);
}

TEST(mac1_valid_and_bit_flips)
{
	struct fx f;
	struct wm_msg_initiation m, x;
	struct wm_cookie_checker wrong;
	size_t mac2_at = offsetof(struct wm_msg_initiation, macs.mac2);
	int bad = 0;

	setup(&f);
	message(&f, &m, 1, t0);
	CHECK(memcmp(m.macs.mac2, zero16, 16) == 0); /* no cookie yet */
	CHECK(check(&f, &m, src, t0) == WM_COOKIE_VALID_MAC);
	/* Every bit up to and including mac1 is covered by mac1; a flip in
	 * mac2 only loses the cookie proof it did not have. */
	for (size_t i = 0; i < sizeof(m); i++) {
		for (int bit = 0; bit < 8; bit++) {
			enum wm_cookie_mac_state st;

			x = m;
			((uint8_t *)&x)[i] ^= (uint8_t)(1u << bit);
			st = check(&f, &x, src, t0);
			if (i < mac2_at)
				bad += st != WM_COOKIE_INVALID_MAC;
			else
				bad += st != WM_COOKIE_VALID_MAC;
		}
	}
	CHECK(bad == 0);
	/* mac1 is keyed by the receiver's public key. */
	wm_cookie_checker_init(&wrong, other_pub);
	CHECK(wm_cookie_validate(&wrong, &m, sizeof(m), src, 6, t0) ==
	      WM_COOKIE_INVALID_MAC);
}

TEST(needs_secret_on_the_clock)
{
	struct fx f;

	setup(&f);
	CHECK(wm_cookie_checker_needs_secret(&f.checker, 0));
	CHECK(wm_cookie_checker_needs_secret(&f.checker, t0));
	wm_cookie_checker_rotate(&f.checker, f.secret, t0);
	CHECK(!wm_cookie_checker_needs_secret(&f.checker, t0));
	CHECK(!wm_cookie_checker_needs_secret(&f.checker, t0 + MAX_AGE - 1));
	CHECK(wm_cookie_checker_needs_secret(&f.checker, t0 + MAX_AGE));
	CHECK(wm_cookie_checker_needs_secret(&f.checker, t0 + 10 * MAX_AGE));
	wm_cookie_checker_rotate(&f.checker, f.secret, t0 + MAX_AGE);
	CHECK(!wm_cookie_checker_needs_secret(&f.checker, t0 + MAX_AGE));
	CHECK(wm_cookie_checker_needs_secret(&f.checker, t0 + 2 * MAX_AGE));
}

/* Without a secret there is no cookie to give nor to check. */
TEST(no_secret_no_reply)
{
	struct fx f;
	struct wm_msg_initiation m;
	struct wm_msg_cookie reply;

	setup(&f);
	message(&f, &m, 1, t0);
	memset(&reply, 0xaa, sizeof(reply));
	CHECK(!wm_cookie_create_reply(&reply, &f.checker, &m, sizeof(m),
				      m.sender_index, src, 6, t0, f.nonce));
	CHECK(reply.header.type == 0 && reply.receiver_index == 0);
}

TEST(cookie_round_trip_gives_mac2)
{
	struct fx f;
	struct wm_msg_initiation m;
	struct wm_msg_cookie reply;

	setup(&f);
	wm_cookie_checker_rotate(&f.checker, f.secret, t0);
	message(&f, &m, 1, t0);
	CHECK(check(&f, &m, src, t0) == WM_COOKIE_VALID_MAC);
	CHECK(wm_cookie_create_reply(&reply, &f.checker, &m, sizeof(m),
				     m.sender_index, src, 6, t0, f.nonce));
	CHECK(reply.header.type == WM_MSG_COOKIE);
	CHECK(reply.receiver_index == m.sender_index);
	CHECK_MEM(reply.nonce, f.nonce, 24);
	CHECK(wm_cookie_consume_reply(&f.maker, &reply, t0));
	CHECK(!wm_cookie_consume_reply(&f.maker, &reply, t0)); /* used up */

	message(&f, &m, 2, t0 + SEC);
	CHECK(memcmp(m.macs.mac2, zero16, 16) != 0);
	CHECK(check(&f, &m, src, t0 + SEC) == WM_COOKIE_VALID_MAC_COOKIE);
	/* The cookie belongs to the address it was sent to. */
	CHECK(check(&f, &m, src2, t0 + SEC) == WM_COOKIE_VALID_MAC);
	/* mac2 covers mac1 and everything before it. */
	m.macs.mac2[15] ^= 0x80;
	CHECK(check(&f, &m, src, t0 + SEC) == WM_COOKIE_VALID_MAC);
}

/* The checker keeps one secret, as WireGuard does: the first rotation
 * already voids cookies made before it, and so does a secret left past
 * 120 s without one. */
TEST(mac2_dies_with_its_secret)
{
	struct fx f;
	struct wm_msg_initiation m;
	uint8_t next[32];

	setup(&f);
	wm_cookie_checker_rotate(&f.checker, f.secret, t0);
	message(&f, &m, 1, t0);
	CHECK(get_cookie(&f, &m, t0));
	message(&f, &m, 2, t0 + 1);
	CHECK(check(&f, &m, src, t0 + 1) == WM_COOKIE_VALID_MAC_COOKIE);

	/* Left alone, the secret is good until 120 s and not at 120 s. */
	CHECK(check(&f, &m, src, t0 + MAX_AGE - 1) ==
	      WM_COOKIE_VALID_MAC_COOKIE);
	CHECK(check(&f, &m, src, t0 + MAX_AGE) == WM_COOKIE_VALID_MAC);
	CHECK(check(&f, &m, src, t0 + 3 * MAX_AGE) == WM_COOKIE_VALID_MAC);

	/* The same bytes again make the same cookies; new bytes do not. */
	wm_cookie_checker_rotate(&f.checker, f.secret, t0 + 2);
	CHECK(check(&f, &m, src, t0 + 2) == WM_COOKIE_VALID_MAC_COOKIE);
	fill(next, sizeof(next), 0x40);
	wm_cookie_checker_rotate(&f.checker, next, t0 + 3);
	CHECK(check(&f, &m, src, t0 + 3) == WM_COOKIE_VALID_MAC);
	fill(next, sizeof(next), 0x80);
	wm_cookie_checker_rotate(&f.checker, next, t0 + 4);
	CHECK(check(&f, &m, src, t0 + 4) == WM_COOKIE_VALID_MAC);

	/* A reply from a stale secret is refused too. */
	message(&f, &m, 3, t0 + 4 + MAX_AGE);
	CHECK(!get_cookie(&f, &m, t0 + 4 + MAX_AGE));
}

/* A reply is sealed to the mac1 it answers: the maker opens it only while
 * that mac1 is the last one it sent. */
TEST(reply_only_for_last_mac1)
{
	struct fx f;
	struct wm_msg_initiation m1, m2;
	struct wm_msg_cookie r1, r2, bad;
	struct wm_cookie_maker fresh;

	setup(&f);
	wm_cookie_checker_rotate(&f.checker, f.secret, t0);
	fresh = f.maker;
	message(&f, &m1, 1, t0);
	CHECK(wm_cookie_create_reply(&r1, &f.checker, &m1, sizeof(m1),
				     m1.sender_index, src, 6, t0, f.nonce));
	/* A maker that sent nothing takes nothing. */
	CHECK(!wm_cookie_consume_reply(&fresh, &r1, t0));

	message(&f, &m2, 2, t0);
	CHECK(!wm_cookie_consume_reply(&f.maker, &r1, t0));
	CHECK(wm_cookie_create_reply(&r2, &f.checker, &m2, sizeof(m2),
				     m2.sender_index, src, 6, t0, f.nonce));
	for (size_t i = offsetof(struct wm_msg_cookie, nonce);
	     i < sizeof(r2); i++) {
		bad = r2;
		((uint8_t *)&bad)[i] ^= 1;
		CHECK(!wm_cookie_consume_reply(&f.maker, &bad, t0));
	}
	CHECK(wm_cookie_consume_reply(&f.maker, &r2, t0));
}

/* The maker sends mac2 for 115 s after it got the cookie (120 s less a
 * margin for the responder's rotation), then plain zeroes. */
TEST(maker_drops_old_cookie)
{
	struct fx f;
	struct wm_msg_initiation m;
	uint64_t got = t0 + 7 * SEC;

	setup(&f);
	wm_cookie_checker_rotate(&f.checker, f.secret, got);
	message(&f, &m, 1, got);
	CHECK(get_cookie(&f, &m, got));

	message(&f, &m, 2, got + MAKER_AGE - 1);
	CHECK(memcmp(m.macs.mac2, zero16, 16) != 0);
	CHECK(check(&f, &m, src, got + MAKER_AGE - 1) ==
	      WM_COOKIE_VALID_MAC_COOKIE);
	message(&f, &m, 3, got + MAKER_AGE);
	CHECK(memcmp(m.macs.mac2, zero16, 16) == 0);
	CHECK(check(&f, &m, src, got + MAKER_AGE) == WM_COOKIE_VALID_MAC);
	message(&f, &m, 4, got + MAX_AGE + SEC);
	CHECK(memcmp(m.macs.mac2, zero16, 16) == 0);
}

int main(void)
{
	RUN(mac1_valid_and_bit_flips);
	RUN(needs_secret_on_the_clock);
	RUN(no_secret_no_reply);
	RUN(cookie_round_trip_gives_mac2);
	RUN(mac2_dies_with_its_secret);
	RUN(reply_only_for_last_mac1);
	RUN(maker_drops_old_cookie);
	return check_summary();
}
