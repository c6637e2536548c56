/*
 * hs_bench - complete WireGuard handshakes per second on one core, both
 * sides in this process, through agent/wg/noise.h as the agent and
 * tests/unit/test_noise.c use it: initiation created (with its MACs),
 * checked and consumed, response created, checked and consumed, and both
 * keypairs derived. Each handshake is both peers' work, eight X25519
 * operations in all (the static-static DH is precomputed per peer).
 *
 *   hs_bench [--seconds S]    (default 1; the best of five runs of S/5)
 *
 * Prints the backend, handshakes/s and microseconds per handshake; exits 1
 * if a handshake fails or the two sides' keys do not match.
 */
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "crypto/random.h"
#include "crypto/x25519.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct side {
	struct wm_noise_local local;
	struct wm_noise_peer peer;
	struct wm_cookie_maker maker;
	struct wm_cookie_checker checker;
	struct wm_handshake hs;
	struct wm_keypair kp;
};

static const uint8_t src[6] = { 192, 0, 2, 1, 0xca, 0x6c };

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void rnd(uint8_t *b, size_t n)
{
	if (wm_random_bytes(b, n) != 0)
		abort();
}

static struct wm_noise_peer *lookup(void *ctx, const uint8_t key[32])
{
	struct side *s = ctx;

	return memcmp(key, s->peer.remote_static, 32) == 0 ? &s->peer : NULL;
}

/* One handshake, i initiating; now_ns moves a second each time so the
 * flood guard never trips, and the timestamp a second too. */
static bool handshake(struct side *i, struct side *r, uint64_t now_ns,
		      int64_t wall)
{
	struct wm_msg_initiation init;
	struct wm_msg_response resp;
	struct wm_noise_peer *who;
	uint8_t eph[32], ts[12];

	rnd(eph, 32);
	wm_noise_tai64n(ts, wall, 0);
	if (wm_noise_create_initiation(&init, &i->hs, &i->local, &i->peer,
				       0x11223344, eph, ts) != WM_NOISE_OK)
		return false;
	wm_cookie_add_macs(&i->maker, &init, sizeof(init), now_ns);
	if (wm_cookie_validate(&r->checker, &init, sizeof(init), src, 6,
			       now_ns) == WM_COOKIE_INVALID_MAC ||
	    wm_noise_consume_initiation(&init, &r->hs, &r->local, lookup, r,
					&who, now_ns) != WM_NOISE_OK ||
	    who != &r->peer)
		return false;
	rnd(eph, 32);
	if (wm_noise_create_response(&resp, &r->hs, who, 0x55667788, eph) !=
	    WM_NOISE_OK)
		return false;
	wm_cookie_add_macs(&r->maker, &resp, sizeof(resp), now_ns);
	return wm_cookie_validate(&i->checker, &resp, sizeof(resp), src, 6,
				  now_ns) != WM_COOKIE_INVALID_MAC &&
	       wm_noise_consume_response(&resp, &i->hs, &i->local,
					 &i->peer) == WM_NOISE_OK &&
	       wm_noise_derive_keypair(&r->kp, &r->hs, now_ns) ==
		       WM_NOISE_OK &&
	       wm_noise_derive_keypair(&i->kp, &i->hs, now_ns) ==
		       WM_NOISE_OK &&
	       memcmp(i->kp.send_key, r->kp.recv_key, 32) == 0 &&
	       memcmp(i->kp.recv_key, r->kp.send_key, 32) == 0;
}

int main(int argc, char **argv)
{
	static struct side a, b;
	double seconds = 1, t0, t, rate = 0;
	uint8_t ka[32], kb[32];
	uint64_t n = 0;

	if (argc == 3 && !strcmp(argv[1], "--seconds"))
		seconds = atof(argv[2]);
	else if (argc != 1 || !(seconds > 0)) {
		fputs("usage: hs_bench [--seconds S]\n", stderr);
		return 2;
	}
	rnd(ka, 32);
	rnd(kb, 32);
	wm_noise_local_init(&a.local, ka);
	wm_noise_local_init(&b.local, kb);
	wm_noise_peer_init(&a.peer, &a.local, b.local.public_key, NULL);
	wm_noise_peer_init(&b.peer, &b.local, a.local.public_key, NULL);
	wm_cookie_maker_init(&a.maker, b.local.public_key);
	wm_cookie_maker_init(&b.maker, a.local.public_key);
	wm_cookie_checker_init(&a.checker, a.local.public_key);
	wm_cookie_checker_init(&b.checker, b.local.public_key);

	/* The best of five runs: the machine is shared. */
	for (int r = 0; r < 5; r++) {
		uint64_t n0 = n;

		t0 = now();
		do {
			for (int k = 0; k < 16; k++, n++) {
				uint64_t ns = (n + 1000) * 1000000000ULL;

				if (!handshake(&a, &b, ns,
					       1700000000 + (int64_t)n)) {
					fprintf(stderr, "hs_bench: handshake "
						"%llu failed\n",
						(unsigned long long)n);
					return 1;
				}
			}
		} while ((t = now() - t0) < seconds / 5);
		if ((double)(n - n0) / t > rate)
			rate = (double)(n - n0) / t;
	}
	printf("WireGuard handshakes (both sides), one core, %s\n",
	       wm_x25519_impl_name());
	printf("handshakes/s %.0f   us/handshake %.1f\n", rate, 1e6 / rate);
	return 0;
}
