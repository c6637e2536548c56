/* The relay core driven in-process, no sockets: fake clients built from
 * noise.c, cookie.c and transport.c handshake with it and exchange frames;
 * every datagram the relay emits is captured with its path. */
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/relay/fwd.h"
#include "agent/relay/proto.h"
#include "agent/relay/server.h"
#include "agent/nat/stun.h"
#include "agent/wg/transport.h"
#include "crypto/x25519.h"
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>

#define NS 1000000000ULL

/* ------------------------------------------------------------ harness */

enum { MAX_OUT = 64, MAX_DGRAM = 10000 };

static struct out {
	struct wm_relay_path to;
	size_t len;
	uint8_t buf[MAX_DGRAM];
} outs[MAX_OUT];
static size_t n_out, n_logs, send_fail_conn;
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static int fake_send(void *ctx, const struct wm_relay_path *to,
		     const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (to->conn && to->conn == send_fail_conn)
		return -EPIPE;
	if (n_out < MAX_OUT && len <= MAX_DGRAM) {
		outs[n_out].to = *to;
		outs[n_out].len = len;
		memcpy(outs[n_out].buf, buf, len);
		n_out++;
	}
	return 0;
}

/* Deterministic, so a failing run can be replayed. */
static int fake_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		p[i] = (uint8_t)rng_state;
	}
	return 0;
}

static void fake_log(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
	n_logs++;
}

static const struct wm_relay_ops ops = { fake_send, fake_random, fake_log, NULL };

static uint8_t relay_priv[32], relay_pub[32];

struct client {
	struct wm_noise_local local;
	struct wm_noise_peer relay;
	struct wm_cookie_maker maker;
	struct wm_handshake hs;
	struct wm_keypair kp, old;
	struct wm_replay replay;
	uint64_t counter;
	struct wm_relay_path path;
	int64_t ts_sec;
};

static void client_init(struct client *c, uint8_t seed, const char *addr)
{
	uint8_t priv[32];

	memset(c, 0, sizeof(*c));
	memset(priv, seed, sizeof(priv));
	wm_noise_local_init(&c->local, priv);
	wm_noise_peer_init(&c->relay, &c->local, relay_pub, NULL);
	wm_cookie_maker_init(&c->maker, relay_pub);
	c->path.transport = WM_RELAY_UDP;
	CHECK(wm_sockaddr_parse(&c->path.addr, addr));
	c->ts_sec = 1700000000;
}

static struct wm_relay *relay_new(const struct client **allowed, size_t n,
				  uint64_t rate, uint32_t max_clients)
{
	uint8_t keys[8][32];
	struct wm_relay_params p = {
		.private_key = relay_priv, .allowed = (const uint8_t(*)[32])keys,
		.n_allowed = n, .client_rate = rate, .max_clients = max_clients,
		.stun_port = 3478, .stun_alt_port = 3479,
	};
	struct wm_relay *r = NULL;

	for (size_t i = 0; i < n; i++)
		memcpy(keys[i], allowed[i]->local.public_key, 32);
	CHECK(wm_relay_new(&r, &p, &ops) == 0);
	n_out = 0;
	n_logs = 0;
	return r;
}

/* Writes "WMR\x01" + an initiation into buf; returns its length. */
static size_t make_initiation(struct client *c, uint8_t *buf, uint64_t now)
{
	struct wm_msg_initiation msg;
	uint8_t eph[32], ts[12];

	fake_random(NULL, eph, sizeof(eph));
	wm_noise_tai64n(ts, c->ts_sec++, 0);
	CHECK(wm_noise_create_initiation(&msg, &c->hs, &c->local, &c->relay,
					 0x1000 + (uint32_t)c->ts_sec, eph, ts) ==
	      WM_NOISE_OK);
	wm_cookie_add_macs(&c->maker, &msg, sizeof(msg), now);
	memcpy(buf, WM_RELAY_MAGIC, 4);
	memcpy(buf + 4, &msg, sizeof(msg));
	return 4 + sizeof(msg);
}

/* Consumes a response datagram; the old keypair is kept for rekey tests. */
static bool take_response(struct client *c, const struct out *o, uint64_t now)
{
	struct wm_msg_response resp;

	if (o->len != 4 + sizeof(resp) || memcmp(o->buf, WM_RELAY_MAGIC, 4))
		return false;
	memcpy(&resp, o->buf + 4, sizeof(resp));
	if (wm_noise_consume_response(&resp, &c->hs, &c->local, &c->relay) !=
	    WM_NOISE_OK)
		return false;
	c->old = c->kp;
	CHECK(wm_noise_derive_keypair(&c->kp, &c->hs, now) == WM_NOISE_OK);
	wm_replay_init(&c->replay);
	c->counter = 0;
	return true;
}

/* Seals a frame (or a keepalive when type is 0) into buf, unpadded. */
static size_t make_frame(struct client *c, uint8_t *buf, int type,
			 const uint8_t *key, const uint8_t *body, size_t blen)
{
	uint8_t *plain = buf + 4 + 16;
	size_t n = 0;

	if (type)
		n = wm_relay_frame_build(plain, (enum wm_relay_frame_type)type,
					 key, body, blen);
	memcpy(buf, WM_RELAY_MAGIC, 4);
	return 4 + wm_transport_seal(buf + 4, &c->kp, c->counter++, plain, n, n);
}

/* Opens a datagram the relay sent to c; frame parsed into f. */
static bool open_frame(struct client *c, struct out *o,
		       struct wm_relay_frame *f)
{
	uint8_t *plain;
	size_t plen;

	if (o->len < 4 + 32 || memcmp(o->buf, WM_RELAY_MAGIC, 4) ||
	    wm_transport_open(&c->kp, &c->replay, o->buf + 4, o->len - 4,
			      &plain, &plen) != WM_RX_OK)
		return false;
	return wm_relay_frame_parse(f, plain, plen);
}

static void input(struct wm_relay *r, const struct client *c, uint8_t *buf,
		  size_t len, uint64_t now)
{
	wm_relay_input(r, &c->path, buf, len, now);
}

/* Handshake plus a keepalive to confirm: the client is then online. */
static bool connect_client(struct wm_relay *r, struct client *c, uint64_t now)
{
	uint8_t buf[512];
	size_t n = make_initiation(c, buf, now), before = n_out;

	input(r, c, buf, n, now);
	if (n_out != before + 1 || !take_response(c, &outs[before], now))
		return false;
	if (!wm_sockaddr_equal(&outs[before].to.addr, &c->path.addr))
		return false;
	n_out = before;
	n = make_frame(c, buf, 0, NULL, NULL, 0);
	input(r, c, buf, n, now);
	return n_out == before;
}

static uint64_t drops(struct wm_relay *r, enum wm_relay_drop d)
{
	struct wm_relay_counters k;

	wm_relay_get_counters(r, &k);
	return k.drops[d];
}

static struct wm_relay_counters counters(struct wm_relay *r)
{
	struct wm_relay_counters k;

	wm_relay_get_counters(r, &k);
	return k;
}

static struct client A, B, C, X;
static uint8_t buf[MAX_DGRAM];

static void setup(void)
{
	memset(relay_priv, 0x77, 32);
	wm_x25519_clamp(relay_priv);
	wm_x25519_public(relay_pub, relay_priv);
	client_init(&A, 0x11, "192.0.2.10:40000");
	client_init(&B, 0x22, "198.51.100.20:50000");
	client_init(&C, 0x33, "203.0.113.30:60000");
	client_init(&X, 0x44, "203.0.113.99:1234");
}

/* --------------------------------------------------------------- tests */

TEST(handshake_then_ping_pong)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, pub[32];
	struct wm_relay_frame f;
	size_t n;

	wm_relay_public_key(r, pub);
	CHECK_MEM(pub, relay_pub, 32);
	CHECK(connect_client(r, &A, now));
	CHECK(counters(r).handshakes == 1);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 1);
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, nonce, 8);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1);
	CHECK(open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_PONG && f.body_len == 8);
	CHECK_MEM(f.body, nonce, 8);
	CHECK(counters(r).pings == 1);
	wm_relay_free(r);
}

TEST(forward_send_as_recv_same_body)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	uint8_t body[1400];
	struct wm_relay_frame f;
	size_t n;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	fake_random(NULL, body, sizeof(body));
	n = make_frame(&A, buf, WM_RELAY_SEND, B.local.public_key, body,
		       sizeof(body));
	input(r, &A, buf, n, now);
	CHECK(n_out == 1);
	CHECK(outs[0].len == n); /* same size: only type and key change */
	CHECK(wm_sockaddr_equal(&outs[0].to.addr, &B.path.addr));
	CHECK(open_frame(&B, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV);
	CHECK_MEM(f.key, A.local.public_key, 32);
	CHECK(f.body_len == sizeof(body));
	CHECK_MEM(f.body, body, sizeof(body));
	CHECK(counters(r).frames_forwarded == 1);
	CHECK(counters(r).bytes_forwarded == sizeof(body));

	/* and back, with an empty body */
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, NULL, 0);
	input(r, &B, buf, n, now + 1);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV && f.body_len == 0);
	CHECK_MEM(f.key, B.local.public_key, 32);
	wm_relay_free(r);
}

TEST(gone_for_unknown_and_offline)
{
	const struct client *allowed[] = { &A, &B, &C };
	struct wm_relay *r = relay_new(allowed, 3, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_frame f;
	uint8_t body[4] = { 9, 9, 9, 9 };
	size_t n;

	CHECK(connect_client(r, &A, now));
	n = make_frame(&A, buf, WM_RELAY_SEND, X.local.public_key, body, 4);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_GONE && f.body_len == 0);
	CHECK_MEM(f.key, X.local.public_key, 32);
	CHECK(drops(r, WM_RELAY_DROP_DST_UNKNOWN) == 1);

	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_SEND, C.local.public_key, body, 4);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_GONE);
	CHECK_MEM(f.key, C.local.public_key, 32);
	CHECK(drops(r, WM_RELAY_DROP_DST_OFFLINE) == 1);
	CHECK(counters(r).gone_sent == 2);
	CHECK(counters(r).frames_forwarded == 0);
	wm_relay_free(r);
}

TEST(not_on_allow_list_gets_nothing)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint64_t now = 5 * NS;
	size_t n;

	n = make_initiation(&X, buf, now);
	input(r, &X, buf, n, now);
	CHECK(n_out == 0);
	CHECK(drops(r, WM_RELAY_DROP_NOT_ALLOWED) == 1);
	CHECK(n_logs == 1);
	/* logged at most once a minute per key */
	for (int i = 1; i <= 5; i++) {
		n = make_initiation(&X, buf, now + (uint64_t)i * NS);
		input(r, &X, buf, n, now + (uint64_t)i * NS);
	}
	CHECK(n_out == 0);
	CHECK(drops(r, WM_RELAY_DROP_NOT_ALLOWED) == 6);
	CHECK(n_logs == 1);
	n = make_initiation(&X, buf, now + 70 * NS);
	input(r, &X, buf, n, now + 70 * NS);
	CHECK(n_logs == 2);
	CHECK(counters(r).handshakes == 0);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 0);
	wm_relay_free(r);
}

TEST(bad_mac1_and_bad_static_dropped)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint64_t now = 5 * NS;
	size_t n;

	n = make_initiation(&A, buf, now);
	buf[4 + 100] ^= 1; /* inside encrypted_static: mac1 no longer fits */
	input(r, &A, buf, n, now);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_BAD_AUTH) == 1);
	/* mac1 for another relay key: silently dropped */
	{
		struct client other = A;
		uint8_t wrong[32];
		memset(wrong, 0x55, 32);
		wm_cookie_maker_init(&other.maker, wrong);
		n = make_initiation(&other, buf, now);
		input(r, &A, buf, n, now);
	}
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_BAD_AUTH) == 2);
	CHECK(n_logs == 0);
	wm_relay_free(r);
}

TEST(replayed_transport_dropped)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	uint8_t copy[256], body[16] = { 0 };
	size_t n;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	n = make_frame(&A, buf, WM_RELAY_SEND, B.local.public_key, body, 16);
	memcpy(copy, buf, n);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1);
	input(r, &A, copy, n, now + 1);
	CHECK(n_out == 1);
	CHECK(drops(r, WM_RELAY_DROP_REPLAY) == 1);
	/* and a replayed initiation too */
	{
		uint8_t init[256];
		size_t m = make_initiation(&A, init, now + 2 * NS);
		memcpy(copy, init, m);
		input(r, &A, init, m, now + 2 * NS);
		CHECK(n_out == 2);
		input(r, &A, copy, m, now + 3 * NS);
		CHECK(n_out == 2);
		CHECK(drops(r, WM_RELAY_DROP_REPLAY) == 2);
	}
	wm_relay_free(r);
}

/* A floods at ten times its rate for five seconds; B sends well under its
 * own. A gets about burst + 5 s x rate through; all of B's frames pass. */
TEST(rate_limit_per_client)
{
	const struct client *allowed[] = { &A, &B };
	const uint64_t rate = 100000;
	struct wm_relay *r = relay_new(allowed, 2, rate, 0);
	uint64_t now = 5 * NS, a_through = 0, b_through = 0;
	uint8_t body[1000];
	size_t n, frame = WM_RELAY_FRAME_HDR + sizeof(body);

	memset(body, 0xab, sizeof(body));
	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	for (int ms = 0; ms < 5000; ms++) {
		uint64_t t = now + (uint64_t)ms * 1000000ULL;
		n_out = 0;
		n = make_frame(&A, buf, WM_RELAY_SEND, B.local.public_key, body,
			       sizeof(body));
		input(r, &A, buf, n, t);
		if (n_out == 1 && wm_sockaddr_equal(&outs[0].to.addr, &B.path.addr))
			a_through++;
		if (ms % 20 == 0) {
			n_out = 0;
			n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key,
				       body, sizeof(body));
			input(r, &B, buf, n, t);
			if (n_out == 1 &&
			    wm_sockaddr_equal(&outs[0].to.addr, &A.path.addr))
				b_through++;
		}
	}
	{
		uint64_t want = (65536 + 5 * rate) / frame;
		fprintf(stderr, "  rate limit: A %llu of 5000 frames (ideal %llu), "
			"B %llu of 250\n", (unsigned long long)a_through,
			(unsigned long long)want, (unsigned long long)b_through);
		CHECK(a_through >= want - want / 20 && a_through <= want + want / 20);
	}
	CHECK(b_through == 250);
	CHECK(drops(r, WM_RELAY_DROP_RATE_LIMITED) == 5000 - a_through);
	wm_relay_free(r);
}

TEST(malformed_counted)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS, expect = 0;
	struct wm_relay_path p = A.path;
	uint8_t body[8] = { 0 };
	size_t n;

	CHECK(connect_client(r, &A, now));
	/* not relay, not STUN */
	memcpy(buf, "hello world", 11);
	wm_relay_input(r, &p, buf, 11, now);
	expect++;
	/* magic only, magic + short header */
	memcpy(buf, WM_RELAY_MAGIC, 4);
	wm_relay_input(r, &p, buf, 4, now);
	expect++;
	buf[4] = 1;
	wm_relay_input(r, &p, buf, 6, now);
	expect++;
	/* an initiation one byte short, a response, a cookie, type 9 */
	memset(buf + 4, 0, 200);
	buf[4] = 1;
	wm_relay_input(r, &p, buf, 4 + 147, now);
	buf[4] = 2;
	wm_relay_input(r, &p, buf, 4 + 92, now);
	buf[4] = 3;
	wm_relay_input(r, &p, buf, 4 + 64, now);
	buf[4] = 9;
	wm_relay_input(r, &p, buf, 4 + 64, now);
	expect += 4;
	/* nonzero reserved bytes */
	buf[4] = 4;
	buf[5] = 1;
	wm_relay_input(r, &p, buf, 4 + 64, now);
	expect++;
	/* a data message shorter than header + tag */
	buf[5] = 0;
	wm_relay_input(r, &p, buf, 4 + 31, now);
	expect++;
	/* an authentic frame of a type a client may not send (RECV), and
	 * an authentic frame too short for its header */
	n = make_frame(&A, buf, WM_RELAY_RECV, B.local.public_key, body, 8);
	wm_relay_input(r, &p, buf, n, now);
	expect++;
	memcpy(buf, WM_RELAY_MAGIC, 4);
	n = 4 + wm_transport_seal(buf + 4, &A.kp, A.counter++, body, 5, 5);
	wm_relay_input(r, &p, buf, n, now);
	expect++;
	/* a STUN-looking datagram that does not parse */
	n = check_unhex(buf, sizeof(buf),
			"000100042112a442b7e7a701bc34d686fa87dfae80220008");
	wm_relay_input(r, &p, buf, n, now);
	expect++;
	CHECK(n_out == 0);
	CHECK(drops(r, WM_RELAY_DROP_MALFORMED) == expect);
	/* unknown receiver index (answered: "unknown session"), and a
	 * forged tag on a known one (not answered) */
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	buf[4 + 4] ^= 0xff;
	wm_relay_input(r, &p, buf, n, now);
	CHECK(n_out == 1 && outs[0].len == WM_RELAY_UNKNOWN_SESSION_LEN);
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	buf[n - 1] ^= 1;
	wm_relay_input(r, &p, buf, n, now);
	CHECK(drops(r, WM_RELAY_DROP_BAD_AUTH) == 2);
	CHECK(n_out == 0);
	wm_relay_free(r);
}

TEST(stun_binding_answered)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint8_t txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	union wm_sockaddr mapped;
	struct wm_relay_path tcp = A.path;

	wm_stun_build_request(buf, txid);
	wm_relay_input(r, &A.path, buf, WM_STUN_REQUEST_LEN, 1);
	CHECK(n_out == 1);
	CHECK(wm_stun_parse_response(outs[0].buf, outs[0].len, txid, &mapped));
	CHECK(wm_sockaddr_equal(&mapped, &A.path.addr));
	CHECK(counters(r).stun_requests == 1);
	/* not over TCP: there the datagram is just malformed */
	tcp.transport = WM_RELAY_TCP;
	tcp.conn = 7;
	wm_stun_build_request(buf, txid);
	wm_relay_input(r, &tcp, buf, WM_STUN_REQUEST_LEN, 1);
	CHECK(n_out == 1);
	CHECK(drops(r, WM_RELAY_DROP_MALFORMED) == 1);
	wm_relay_free(r);
}

/* An answer is 3-4 times its request: a source (here a spoofed one)
 * gets bursts of 40 answers and 20 a second, others are unaffected, and
 * what is dropped is counted. */
TEST(stun_answers_limited_per_source)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint8_t txid[12] = { 9 };
	struct wm_relay_path other = B.path, v6 = A.path;
	uint64_t now = 5 * NS;

	for (int i = 0; i < 50; i++) {
		wm_stun_build_request(buf, txid);
		wm_relay_input(r, &A.path, buf, WM_STUN_REQUEST_LEN, now);
	}
	CHECK(n_out == 40 && counters(r).stun_requests == 40);
	CHECK(drops(r, WM_RELAY_DROP_STUN_LIMITED) == 10);
	/* another address has its own budget */
	wm_stun_build_request(buf, txid);
	wm_relay_input(r, &other, buf, WM_STUN_REQUEST_LEN, now);
	CHECK(n_out == 41);
	/* a second later, 20 more */
	for (int i = 0; i < 30; i++) {
		wm_stun_build_request(buf, txid);
		wm_relay_input(r, &A.path, buf, WM_STUN_REQUEST_LEN, now + NS);
	}
	CHECK(counters(r).stun_requests == 61);
	CHECK(drops(r, WM_RELAY_DROP_STUN_LIMITED) == 20);
	/* an IPv6 /64 is one source, whatever its host part */
	n_out = 0;
	for (int i = 0; i < 45; i++) {
		char a[64];

		snprintf(a, sizeof(a), "[2001:db8:5::%x]:3478", i + 1);
		CHECK(wm_sockaddr_parse(&v6.addr, a));
		wm_stun_build_request(buf, txid);
		wm_relay_input(r, &v6, buf, WM_STUN_REQUEST_LEN, now + NS);
	}
	CHECK(n_out == 40);
	CHECK(!strcmp(wm_relay_drop_name(WM_RELAY_DROP_STUN_LIMITED),
		      "stun_rate_limited"));
	wm_relay_free(r);
}

TEST(idle_client_forgotten)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_frame f;
	uint8_t body[4] = { 0 };
	size_t n;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now + 100 * NS));
	wm_relay_tick(r, now + 179 * NS);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 2);
	wm_relay_tick(r, now + 181 * NS);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 1);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + 182 * NS);
	CHECK(n_out == 1 && open_frame(&B, &outs[0], &f));
	CHECK(f.type == WM_RELAY_GONE);
	CHECK(drops(r, WM_RELAY_DROP_DST_OFFLINE) == 1);
	/* A's old session is gone with it: "unknown session" */
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 4);
	input(r, &A, buf, n, now + 183 * NS);
	CHECK(n_out == 1 && drops(r, WM_RELAY_DROP_BAD_AUTH) == 1);
	CHECK(outs[0].len == WM_RELAY_UNKNOWN_SESSION_LEN);
	/* a new handshake brings it back */
	CHECK(connect_client(r, &A, now + 184 * NS));
	CHECK(counters(r).clients[WM_RELAY_UDP] == 2);
	wm_relay_free(r);
}

/* A transport may stamp a client with a time read after the now a tick
 * is given (relay/server_tcp.c's tick serves deferred connections): the
 * client is fresh, not idle for 2^64 ns, and stays a destination. */
TEST(activity_newer_than_tick_is_not_idle)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_frame f;
	uint8_t body[4] = { 0 };
	size_t n;

	CHECK(connect_client(r, &A, now + 2 * NS));
	CHECK(connect_client(r, &B, now + 2 * NS));
	wm_relay_tick(r, now);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 2);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + NS);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV);
	wm_relay_free(r);
}

TEST(rekey_keeps_old_session_until_confirmed)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_frame f;
	struct wm_keypair newkp;
	uint8_t body[4] = { 1, 2, 3, 4 };
	size_t n;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	/* A starts a new handshake and takes the response ... */
	n = make_initiation(&A, buf, now + 100 * NS);
	input(r, &A, buf, n, now + 100 * NS);
	CHECK(n_out == 1 && take_response(&A, &outs[0], now + 100 * NS));
	/* ... but before A confirms, the relay still sends on the old one */
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + 101 * NS);
	newkp = A.kp;
	A.kp = A.old;
	wm_replay_init(&A.replay);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV);
	/* a straggler on the old session is still accepted */
	n_out = 0;
	A.counter = 1000;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 4);
	input(r, &A, buf, n, now + 102 * NS);
	CHECK(n_out == 1);
	/* A confirms on the new session; the relay then uses it */
	A.kp = newkp;
	A.counter = 0;
	wm_replay_init(&A.replay);
	n_out = 0;
	n = make_frame(&A, buf, 0, NULL, NULL, 0);
	input(r, &A, buf, n, now + 103 * NS);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + 104 * NS);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV);
	/* B rekeys too; at 200 s the first sessions are past
	 * REJECT_AFTER_TIME and gone, the new ones carry on */
	CHECK(connect_client(r, &B, now + 150 * NS));
	wm_relay_tick(r, now + 200 * NS);
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + 200 * NS);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f));
	CHECK(f.type == WM_RELAY_RECV);
	newkp = A.kp;
	A.kp = A.old;
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 4);
	input(r, &A, buf, n, now + 201 * NS);
	/* only "unknown session", naming the old index (A's client, on
	 * its new session, ignores it) */
	CHECK(n_out == 1 && outs[0].len == WM_RELAY_UNKNOWN_SESSION_LEN);
	CHECK(drops(r, WM_RELAY_DROP_BAD_AUTH) == 1);
	A.kp = newkp;
	wm_relay_free(r);
}

TEST(tcp_path_and_close)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_frame f;
	uint8_t body[4] = { 0 };
	size_t n;

	A.path.transport = WM_RELAY_TLS;
	A.path.conn = 42;
	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	CHECK(counters(r).clients[WM_RELAY_TLS] == 1);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 1);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now);
	CHECK(n_out == 1 && outs[0].to.conn == 42 &&
	      outs[0].to.transport == WM_RELAY_TLS);
	/* a refused send is counted, not fatal */
	send_fail_conn = 42;
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_SEND_FAILED) == 1);
	send_fail_conn = 0;
	wm_relay_conn_closed(r, 42);
	CHECK(counters(r).clients[WM_RELAY_TLS] == 0);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now);
	CHECK(n_out == 1 && open_frame(&B, &outs[0], &f) &&
	      f.type == WM_RELAY_GONE);
	A.path.transport = WM_RELAY_UDP;
	A.path.conn = 0;
	wm_relay_free(r);
}

/* WireGuard's limits on initiations, which the relay keeps: one per key
 * per 1/WM_INITIATIONS_PER_SECOND, with a strictly newer timestamp. A
 * client that reconnects within 20 ms of its last handshake (relay_probe
 * runs back to back did) is dropped silently and must send a fresh
 * initiation, as WireGuard initiators do. */
TEST(initiation_too_soon_dropped_retry_answered)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint64_t now = 5 * NS, ms = NS / 1000;
	size_t n;

	CHECK(connect_client(r, &A, now));
	n = make_initiation(&A, buf, now + 10 * ms);
	input(r, &A, buf, n, now + 10 * ms);
	CHECK(n_out == 0);
	CHECK(drops(r, WM_RELAY_DROP_RATE_LIMITED) == 1);
	/* the dropped one does not restart the window */
	CHECK(connect_client(r, &A, now + 21 * ms));
	CHECK(counters(r).handshakes == 2);
	wm_relay_free(r);
}

/* A moves to a new connection (a new handshake there, confirmed); a frame
 * it sent on the old one under the old session is read after that, then
 * the old connection closes. The straggler must not pull A's path back:
 * the close would take A offline while it is alive on the new one. */
TEST(reconnect_straggler_keeps_new_path)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_path old_path;
	struct wm_relay_frame f;
	struct wm_keypair newkp;
	uint8_t body[4] = { 1, 2, 3, 4 };
	uint64_t counter;
	size_t n;

	A.path.transport = WM_RELAY_TLS;
	A.path.conn = 1u << 16 | 7;
	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	old_path = A.path;
	A.path.conn = 2u << 16 | 7; /* slot 7 again, next generation */
	CHECK(wm_sockaddr_parse(&A.path.addr, "192.0.2.10:40001"));
	CHECK(connect_client(r, &A, now + NS));
	/* the straggler: a PING under the old session, from the old path */
	newkp = A.kp;
	counter = A.counter;
	A.kp = A.old;
	A.counter = 100;
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 4);
	wm_relay_input(r, &old_path, buf, n, now + NS + 1);
	A.kp = newkp;
	A.counter = counter;
	/* answered on the new connection, with the new session */
	CHECK(n_out == 1 && outs[0].to.conn == A.path.conn);
	CHECK(open_frame(&A, &outs[0], &f) && f.type == WM_RELAY_PONG);
	wm_relay_conn_closed(r, old_path.conn);
	CHECK(counters(r).clients[WM_RELAY_TLS] == 1);
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + NS + 2);
	CHECK(n_out == 1 && outs[0].to.conn == A.path.conn);
	CHECK(open_frame(&A, &outs[0], &f) && f.type == WM_RELAY_RECV);
	/* A frame under the current session still moves the path (a
	 * client that roams without a new handshake). */
	n_out = 0;
	n = make_frame(&A, buf, 0, NULL, NULL, 0);
	wm_relay_input(r, &old_path, buf, n, now + NS + 3);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + NS + 4);
	CHECK(n_out == 1 && outs[0].to.conn == old_path.conn);
	/* and closing the connection A is on takes it offline */
	wm_relay_conn_closed(r, old_path.conn);
	CHECK(counters(r).clients[WM_RELAY_TLS] == 0);
	A.path.transport = WM_RELAY_UDP;
	A.path.conn = 0;
	CHECK(wm_sockaddr_parse(&A.path.addr, "192.0.2.10:40000"));
	wm_relay_free(r);
}

/* A client with a working session on one connection handshakes on
 * another: until it confirms there, its frames still go to the first,
 * and closing the second (a client that gave up on it) leaves it online.
 * Its first message under the new session moves it. */
TEST(initiation_does_not_move_a_working_path)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_path first, second;
	struct wm_relay_frame f;
	uint8_t body[4] = { 1, 2, 3, 4 };
	size_t n;

	A.path.transport = WM_RELAY_TLS;
	A.path.conn = 1u << 16 | 3;
	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	first = A.path;
	second = first;
	second.conn = 1u << 16 | 4;
	/* an initiation on the second connection, answered there */
	n = make_initiation(&A, buf, now + NS);
	wm_relay_input(r, &second, buf, n, now + NS);
	CHECK(n_out == 1 && outs[0].to.conn == second.conn);
	CHECK(take_response(&A, &outs[0], now + NS));
	/* B's frames still reach A on the first, under the old session */
	n_out = 0;
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + NS + 1);
	CHECK(n_out == 1 && outs[0].to.conn == first.conn);
	/* the second closes before A confirmed there: A stays online */
	wm_relay_conn_closed(r, second.conn);
	CHECK(counters(r).clients[WM_RELAY_TLS] == 1);
	/* A confirms on a third connection: it moves there */
	A.path.conn = 1u << 16 | 5;
	n_out = 0;
	n = make_frame(&A, buf, 0, NULL, NULL, 0);
	input(r, &A, buf, n, now + NS + 2);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 4);
	input(r, &B, buf, n, now + NS + 3);
	CHECK(n_out == 1 && outs[0].to.conn == A.path.conn);
	CHECK(open_frame(&A, &outs[0], &f) && f.type == WM_RELAY_RECV);
	A.path.transport = WM_RELAY_UDP;
	A.path.conn = 0;
	wm_relay_free(r);
}

TEST(max_clients_cap)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 1);
	uint64_t now = 5 * NS;
	size_t n;

	CHECK(connect_client(r, &A, now));
	n = make_initiation(&B, buf, now);
	input(r, &B, buf, n, now);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_FULL) == 1);
	wm_relay_tick(r, now + 200 * NS);
	CHECK(connect_client(r, &B, now + 201 * NS));
	wm_relay_free(r);
}

TEST(cookie_reply_under_load)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_msg_cookie cookie;
	size_t n, responses = 0, cookies = 0;

	/* 300 initiations within a second from a spoofable UDP source */
	for (int i = 0; i < 300; i++) {
		n_out = 0;
		n = make_initiation(&A, buf, now);
		input(r, &A, buf, n, now + (uint64_t)i * 1000000ULL);
		if (n_out == 1 && outs[0].len == 4 + sizeof(struct wm_msg_response))
			responses++;
		if (n_out == 1 && outs[0].len == 4 + sizeof(cookie))
			cookies++;
	}
	CHECK(cookies > 0);
	CHECK(counters(r).cookie_replies == cookies);
	/* with the cookie, A's next initiation is answered */
	n_out = 0;
	n = make_initiation(&A, buf, now);
	input(r, &A, buf, n, now + 301000000ULL);
	CHECK(n_out == 1 && outs[0].len == 4 + sizeof(cookie) && outs[0].buf[4] == 3);
	memcpy(&cookie, outs[0].buf + 4, sizeof(cookie));
	CHECK(wm_cookie_consume_reply(&A.maker, &cookie, now + 302000000ULL));
	n_out = 0;
	n = make_initiation(&A, buf, now + 303000000ULL);
	input(r, &A, buf, n, now + 303000000ULL);
	CHECK(n_out == 1 && take_response(&A, &outs[0], now));
	(void)responses;
	wm_relay_free(r);
}

static unsigned random_calls;

static int counting_random(void *ctx, void *out, size_t len)
{
	random_calls++;
	return fake_random(ctx, out, len);
}

/* mac1 is checked first, with a hash only: a flood of bad ones, on any
 * transport and under load, never costs randomness (or a DH). */
TEST(mac1_checked_before_randomness)
{
	const struct wm_relay_ops counting = { fake_send, counting_random,
					       fake_log, NULL };
	uint8_t keys[1][32];
	struct wm_relay_params p = {
		.private_key = relay_priv, .allowed = (const uint8_t(*)[32])keys,
		.n_allowed = 1,
	};
	struct wm_relay *r = NULL;
	struct wm_relay_path path = A.path;
	uint64_t now = 7 * NS;
	size_t n;

	memcpy(keys[0], A.local.public_key, 32);
	CHECK(wm_relay_new(&r, &p, &counting) == 0);
	random_calls = 0;
	n_out = 0;
	for (int i = 0; i < 600; i++) {
		n = make_initiation(&A, buf, now);
		buf[4 + 116 + (i % 16)] ^= 0x80; /* a bit of mac1 */
		path.transport = (enum wm_relay_transport)(i % 3);
		path.conn = path.transport == WM_RELAY_UDP ? 0 : (uint32_t)i;
		wm_relay_input(r, &path, buf, n, now + (uint64_t)i * 1000);
	}
	CHECK(random_calls == 0);
	CHECK(n_out == 0);
	CHECK(drops(r, WM_RELAY_DROP_BAD_AUTH) == 600);
	CHECK(counters(r).handshakes == 0);
	wm_relay_free(r);
}

/* Under load, on TCP as on UDP: a cookie reply first; with a valid mac2,
 * a budget per source address (not per connection) before the DH. An
 * allowed client from another address still gets in. */
TEST(flood_limited_per_address_on_every_transport)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	struct client F;
	struct wm_relay_path tcp;
	struct wm_msg_cookie cookie;
	uint64_t now = 9 * NS;
	size_t n, cookies_on_tcp = 0;

	client_init(&F, 0x77, "192.0.2.99:40000"); /* not on the list */
	tcp = F.path;
	tcp.transport = WM_RELAY_TCP;
	for (int i = 0; i < 300; i++) {
		n_out = 0;
		tcp.conn = (uint32_t)i + 1;
		tcp.addr.in.sin_port = htons((uint16_t)(40000 + i));
		n = make_initiation(&F, buf, now);
		wm_relay_input(r, &tcp, buf, n, now);
		if (n_out == 1 && outs[0].to.transport == WM_RELAY_TCP &&
		    outs[0].to.conn == tcp.conn &&
		    outs[0].len == 4 + sizeof(cookie))
			cookies_on_tcp++;
	}
	CHECK(cookies_on_tcp == 300 - 256);
	CHECK(counters(r).cookie_replies == cookies_on_tcp);
	CHECK(drops(r, WM_RELAY_DROP_NOT_ALLOWED) == 256);
	/* X answers the last cookie, on that connection */
	memcpy(&cookie, outs[0].buf + 4, sizeof(cookie));
	CHECK(wm_cookie_consume_reply(&F.maker, &cookie, now));
	for (int i = 0; i < 20; i++) {
		n = make_initiation(&F, buf, now);
		wm_relay_input(r, &tcp, buf, n, now);
	}
	CHECK(drops(r, WM_RELAY_DROP_NOT_ALLOWED) == 256 + 5);
	CHECK(drops(r, WM_RELAY_DROP_HANDSHAKE_LIMITED) == 15);
	/* another connection from the same address shares the budget */
	tcp.conn = 1000;
	tcp.addr.in.sin_port = htons(50000);
	n_out = 0;
	n = make_initiation(&F, buf, now);
	wm_relay_input(r, &tcp, buf, n, now); /* new port: a cookie first */
	CHECK(n_out == 1 && outs[0].len == 4 + sizeof(cookie));
	memcpy(&cookie, outs[0].buf + 4, sizeof(cookie));
	CHECK(wm_cookie_consume_reply(&F.maker, &cookie, now));
	n = make_initiation(&F, buf, now);
	wm_relay_input(r, &tcp, buf, n, now);
	CHECK(drops(r, WM_RELAY_DROP_HANDSHAKE_LIMITED) == 16);
	/* A, from its own address: one cookie round, then connected */
	n_out = 0;
	n = make_initiation(&A, buf, now);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1 && outs[0].len == 4 + sizeof(cookie));
	memcpy(&cookie, outs[0].buf + 4, sizeof(cookie));
	CHECK(wm_cookie_consume_reply(&A.maker, &cookie, now));
	n_out = 0;
	CHECK(connect_client(r, &A, now + NS / 10));
	CHECK(counters(r).handshakes == 1);
	/* a quiet second later the load is gone, and so is the demand */
	wm_relay_tick(r, now + 3 * NS);
	wm_cookie_maker_init(&F.maker, relay_pub);
	n_out = 0;
	n = make_initiation(&F, buf, now + 3 * NS);
	wm_relay_input(r, &tcp, buf, n, now + 3 * NS);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_NOT_ALLOWED) == 256 + 6);
	wm_relay_free(r);
}

/* ------------------------------------------- "unknown session" answers */

/* Golden bytes of the answer: magic, type 0x10, three zero bytes, the
 * receiver index as it came (little-endian). */
TEST(unknown_session_wire_format)
{
	const uint8_t idx[4] = { 0x78, 0x56, 0x34, 0x12 };
	uint8_t out[WM_RELAY_UNKNOWN_SESSION_LEN + 1], want[32];
	uint32_t got = 0;
	size_t n = check_unhex(want, sizeof(want), "574d520110000000" "78563412");

	CHECK(wm_relay_unknown_session_build(out, idx) == n);
	CHECK(n == 12);
	CHECK_MEM(out, want, n);
	CHECK(wm_relay_unknown_session_parse(out, n, &got) && got == 0x12345678);
	CHECK(!wm_relay_unknown_session_parse(out, n - 1, &got));
	out[n] = 0;
	CHECK(!wm_relay_unknown_session_parse(out, n + 1, &got));
	out[5] = 1;
	CHECK(!wm_relay_unknown_session_parse(out, n, &got));
	out[5] = 0;
	out[4] = WM_MSG_DATA;
	CHECK(!wm_relay_unknown_session_parse(out, n, &got));
}

/* The relay restarted: A's session is unknown to the new one. A's data
 * message gets exactly one answer, on A's path, naming the index A sent
 * to; A's next ones within the second get none; a second later, one. */
TEST(unknown_session_answered_once_to_source)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	uint8_t body[8] = { 0 };
	uint32_t idx = 0;
	size_t n;

	CHECK(connect_client(r, &A, now));
	wm_relay_free(r);
	r = relay_new(allowed, 2, 0, 0);
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1);
	CHECK(outs[0].len == WM_RELAY_UNKNOWN_SESSION_LEN && outs[0].len < n);
	CHECK(wm_sockaddr_equal(&outs[0].to.addr, &A.path.addr) &&
	      outs[0].to.transport == WM_RELAY_UDP);
	CHECK(wm_relay_unknown_session_parse(outs[0].buf, outs[0].len, &idx));
	CHECK(idx == A.kp.remote_index);
	CHECK(counters(r).unknown_session_sent == 1);
	CHECK(drops(r, WM_RELAY_DROP_BAD_AUTH) == 1);
	for (int i = 1; i < 10; i++) {
		n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
		input(r, &A, buf, n, now + (uint64_t)i * NS / 10);
	}
	CHECK(n_out == 1);
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	input(r, &A, buf, n, now + NS);
	CHECK(n_out == 2);
	/* the handshake that follows works as ever */
	n_out = 0;
	CHECK(connect_client(r, &A, now + NS + 1));
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	input(r, &A, buf, n, now + NS + 2);
	CHECK(n_out == 1 && outs[0].len != WM_RELAY_UNKNOWN_SESSION_LEN);
	wm_relay_free(r);
}

/* Over TCP or TLS the answer goes back on the connection it came from. */
TEST(unknown_session_on_connection)
{
	const struct client *allowed[] = { &A };
	struct wm_relay *r = relay_new(allowed, 1, 0, 0);
	uint64_t now = 5 * NS;
	struct wm_relay_path p = A.path;
	size_t n;

	CHECK(connect_client(r, &A, now));
	wm_relay_free(r);
	r = relay_new(allowed, 1, 0, 0);
	p.transport = WM_RELAY_TLS;
	p.conn = 7;
	n = make_frame(&A, buf, 0, NULL, NULL, 0);
	wm_relay_input(r, &p, buf, n, now);
	CHECK(n_out == 1 && outs[0].to.transport == WM_RELAY_TLS &&
	      outs[0].to.conn == 7);
	/* another connection from the same address is another source */
	p.conn = 8;
	n = make_frame(&A, buf, 0, NULL, NULL, 0);
	wm_relay_input(r, &p, buf, n, now);
	CHECK(n_out == 2 && outs[1].to.conn == 8);
	wm_relay_free(r);
}

/* A flood of unknown-index messages, from one source and from many
 * (spoofed) ones: the answers stay within one per source per second and
 * 64 a second in all, each no larger than its trigger; A and B, whose
 * sessions are known, go on as before. */
TEST(unknown_session_rate_limited_under_flood)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS, t;
	uint8_t body[8] = { 0 }, junk[36];
	struct wm_relay_path p = X.path;
	struct wm_relay_frame f;
	uint64_t before;
	size_t n;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	memcpy(junk, WM_RELAY_MAGIC, 4);
	memset(junk + 4, 0, sizeof(junk) - 4);
	junk[4] = WM_MSG_DATA;
	junk[8] = 0xee; /* a receiver index nobody has */
	/* one source, 1,000 a second for 10 s: one answer a second */
	for (int i = 0; i < 10000; i++) {
		t = now + (uint64_t)i * NS / 1000;
		wm_relay_input(r, &p, junk, sizeof(junk), t);
	}
	CHECK(counters(r).unknown_session_sent == 10);
	for (size_t i = 0; i < n_out; i++)
		CHECK(outs[i].len <= sizeof(junk) &&
		      wm_sockaddr_equal(&outs[i].to.addr, &X.path.addr));
	/* 20,000 sources (ports) in one second: the global bucket */
	now += 20 * NS;
	before = counters(r).unknown_session_sent;
	for (int i = 0; i < 20000; i++) {
		t = now + (uint64_t)i * NS / 20000;
		p.addr.in.sin_port = htons((uint16_t)(1000 + i));
		wm_relay_input(r, &p, junk, sizeof(junk), t);
	}
	CHECK(counters(r).unknown_session_sent - before <= 64 + 64);
	CHECK(counters(r).unknown_session_sent - before >= 64);
	/* known sessions are untouched: a ping, a forwarded frame */
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, body, 8);
	input(r, &A, buf, n, now + NS);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f) && f.type == WM_RELAY_PONG);
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_SEND, B.local.public_key, body, 8);
	input(r, &A, buf, n, now + NS);
	CHECK(n_out == 1 && open_frame(&B, &outs[0], &f) && f.type == WM_RELAY_RECV);
	CHECK(counters(r).frames_forwarded == 1);
	wm_relay_free(r);
}

/* SIGHUP's reload (wm_relay_reload): A stays allowed and keeps its session
 * (same receiver index, replay state of its key), B is removed and
 * dropped, C is added and connects; a smaller MaxClients drops the
 * excess. */
TEST(reload_keeps_allowed_sessions)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint8_t keys[2][32], old_init[512], nonce[8] = { 9 };
	struct wm_relay_params p = {
		.private_key = relay_priv, .allowed = (const uint8_t(*)[32])keys,
		.n_allowed = 2,
	};
	struct wm_relay_frame f;
	uint64_t now = 5 * NS;
	size_t n, init_len;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	/* an initiation of A's, answered before the reload */
	init_len = make_initiation(&A, old_init, now + NS);
	memcpy(buf, old_init, init_len);
	n_out = 0;
	input(r, &A, buf, init_len, now + NS);
	CHECK(n_out == 1 && take_response(&A, &outs[0], now + NS));
	n = make_frame(&A, buf, 0, NULL, NULL, 0); /* confirms it */
	input(r, &A, buf, n, now + NS);

	memcpy(keys[0], C.local.public_key, 32);
	memcpy(keys[1], A.local.public_key, 32);
	n_out = 0;
	CHECK(wm_relay_reload(r, &p) == 0);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 1);
	/* A's session works as it was */
	n = make_frame(&A, buf, WM_RELAY_PING, NULL, nonce, 8);
	input(r, &A, buf, n, now + 2 * NS);
	CHECK(n_out == 1 && open_frame(&A, &outs[0], &f) &&
	      f.type == WM_RELAY_PONG);
	/* its key remembers the last timestamp: the old initiation is a
	 * replay */
	memcpy(buf, old_init, init_len);
	input(r, &A, buf, init_len, now + 3 * NS);
	CHECK(drops(r, WM_RELAY_DROP_REPLAY) == 1);
	/* B is gone: its session is unknown, and it is no destination */
	n_out = 0;
	n = make_frame(&B, buf, 0, NULL, NULL, 0);
	input(r, &B, buf, n, now + 3 * NS);
	CHECK(counters(r).unknown_session_sent == 1);
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_SEND, B.local.public_key, nonce, 8);
	input(r, &A, buf, n, now + 3 * NS);
	CHECK(drops(r, WM_RELAY_DROP_DST_UNKNOWN) == 1);
	/* C, added, connects, and A reaches it */
	CHECK(connect_client(r, &C, now + 4 * NS));
	n_out = 0;
	n = make_frame(&A, buf, WM_RELAY_SEND, C.local.public_key, nonce, 8);
	input(r, &A, buf, n, now + 4 * NS);
	CHECK(n_out == 1 && open_frame(&C, &outs[0], &f) &&
	      f.type == WM_RELAY_RECV);
	/* MaxClients 1: one of the two connected clients is dropped */
	p.max_clients = 1;
	CHECK(wm_relay_reload(r, &p) == 0);
	CHECK(counters(r).clients[WM_RELAY_UDP] == 1);
	wm_relay_free(r);
}

/* ------------------------------------------------- forwarding frames */

/* The client's session as wm_session, for relay/fwd.h; put back after. */
static void as_session(const struct client *c, struct wm_session *s)
{
	wm_session_start(s, &c->kp);
	s->send_counter = c->counter;
	s->replay = c->replay;
}

static void from_session(struct client *c, const struct wm_session *s)
{
	c->counter = s->send_counter;
	c->replay = s->replay;
}

/* A WireGuard-data-looking body of len bytes. */
static void wg_body(uint8_t *body, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		body[i] = (uint8_t)(seed + i * 7);
	body[0] = WM_MSG_DATA;
	body[1] = body[2] = body[3] = 0;
}

/* A SEND as a forwarding frame from c to key. */
static size_t make_fwd(struct client *c, uint8_t *out, const uint8_t *key,
		       const uint8_t *body, size_t len, uint64_t now)
{
	struct wm_session s;
	size_t n;

	as_session(c, &s);
	memcpy(out + WM_RELAY_FWD_BODY, body, len);
	n = wm_relay_fwd_seal(&s, out, WM_RELAY_SEND, key, len, now);
	from_session(c, &s);
	return n;
}

/* PING (9 bytes: offer) or an 8-byte one; true when the PONG accepted. */
static bool ping(struct wm_relay *r, struct client *c, bool offer,
		 uint64_t now)
{
	uint8_t body[9] = { 1, 2, 3, 4, 5, 6, 7, 8, WM_RELAY_OFFER_FWD };
	struct wm_relay_frame f;
	size_t n = make_frame(c, buf, WM_RELAY_PING, NULL, body, offer ? 9 : 8);

	n_out = 0;
	input(r, c, buf, n, now);
	if (n_out != 1 || !open_frame(c, &outs[0], &f) ||
	    f.type != WM_RELAY_PONG || f.body_len != (offer ? 9u : 8u) ||
	    memcmp(f.body, body, 8) != 0)
		return false;
	n_out = 0;
	return offer && f.body[8] == WM_RELAY_ACCEPT_FWD;
}

/* What c got from the relay in outs[0]: a RECV's source key and body,
 * whichever framing it came in. */
static bool got_recv(struct client *c, bool want_fwd, uint8_t key[32],
		     uint8_t *body, size_t *len, uint64_t now)
{
	struct wm_relay_frame f;
	struct wm_session s;
	bool ok;

	if (n_out != 1 || !wm_sockaddr_equal(&outs[0].to.addr, &c->path.addr))
		return false;
	if (wm_relay_is_fwd(outs[0].buf, outs[0].len) != want_fwd)
		return false;
	if (want_fwd) {
		as_session(c, &s);
		ok = wm_relay_fwd_open(&s, outs[0].buf, outs[0].len,
				       WM_RELAY_RECV, now, &f) == WM_RX_OK;
		from_session(c, &s);
	} else {
		ok = open_frame(c, &outs[0], &f) && f.type == WM_RELAY_RECV;
	}
	if (!ok)
		return false;
	memcpy(key, f.key, 32);
	memcpy(body, f.body, f.body_len);
	*len = f.body_len;
	n_out = 0;
	return true;
}

/* A offers forwarding frames, B (a client of the first version) does
 * not: each gets RECVs in its own framing, with the body unchanged and
 * the datagram no longer than what came in; a forged or replayed
 * forwarding frame is dropped unanswered; B's later offer, and A's new
 * session without one, change what each gets. */
TEST(forwarding_frames_mixed_versions)
{
	const struct client *allowed[] = { &A, &B };
	struct wm_relay *r = relay_new(allowed, 2, 0, 0);
	uint64_t now = 5 * NS;
	static uint8_t orig[MAX_DGRAM];
	uint8_t body[1200], got[1300], key[32], stranger[32];
	size_t n, len;

	CHECK(connect_client(r, &A, now));
	CHECK(connect_client(r, &B, now));
	CHECK(ping(r, &A, true, now));
	CHECK(!ping(r, &B, false, now));

	/* A -> B: forwarding frame in, sealed out (B reads no other). */
	wg_body(body, sizeof(body), 3);
	n = make_fwd(&A, orig, B.local.public_key, body, sizeof(body), now);
	memcpy(buf, orig, n); /* the relay works in place */
	input(r, &A, buf, n, now);
	CHECK(outs[0].len == n);
	CHECK(got_recv(&B, false, key, got, &len, now));
	CHECK_MEM(key, A.local.public_key, 32);
	CHECK(len == sizeof(body) && memcmp(got, body, len) == 0);
	/* The same frame again: a replay, dropped. */
	memcpy(buf, orig, n);
	input(r, &A, buf, n, now);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_REPLAY) == 1);
	/* Forged (a body byte flipped): no answer, counted. */
	n = make_fwd(&A, orig, B.local.public_key, body, sizeof(body), now);
	memcpy(buf, orig, n);
	buf[WM_RELAY_FWD_BODY + 100] ^= 1;
	input(r, &A, buf, n, now);
	CHECK(n_out == 0 && drops(r, WM_RELAY_DROP_BAD_AUTH) == 1);
	/* The window did not move: the genuine frame still goes. */
	memcpy(buf, orig, n);
	input(r, &A, buf, n, now);
	CHECK(got_recv(&B, false, key, got, &len, now));

	/* B -> A: sealed in, forwarding frame out, tag over the tail. */
	wg_body(body, 600, 9);
	n = make_frame(&B, buf, WM_RELAY_SEND, A.local.public_key, body, 600);
	input(r, &B, buf, n, now);
	CHECK(n_out == 1 && outs[0].len == n);
	CHECK(outs[0].buf[5] == WM_RELAY_FWD_FLAG_TAIL);
	CHECK(got_recv(&A, true, key, got, &len, now));
	CHECK_MEM(key, B.local.public_key, 32);
	CHECK(len == 600 && memcmp(got, body, len) == 0);

	/* B offers: from now on it gets forwarding frames too. */
	CHECK(ping(r, &B, true, now));
	wg_body(body, 100, 1);
	n = make_fwd(&A, buf, B.local.public_key, body, 100, now);
	input(r, &A, buf, n, now);
	CHECK(outs[0].len == n);
	CHECK(got_recv(&B, true, key, got, &len, now));
	CHECK(len == 100 && memcmp(got, body, 100) == 0);
	/* A handshake body is covered whole (no tail flag). */
	memset(body, 0, 148);
	body[0] = WM_MSG_INITIATION;
	n = make_fwd(&A, buf, B.local.public_key, body, 148, now);
	input(r, &A, buf, n, now);
	CHECK(n_out == 1 && outs[0].buf[5] == 0);
	CHECK(got_recv(&B, true, key, got, &len, now));

	/* To a key the relay does not serve: GONE, sealed, to A. */
	memset(stranger, 0x5c, 32);
	n = make_fwd(&A, buf, stranger, body, 100, now);
	input(r, &A, buf, n, now);
	{
		struct wm_relay_frame f;
		CHECK(n_out == 1 && open_frame(&A, &outs[0], &f) &&
		      f.type == WM_RELAY_GONE && memcmp(f.key, stranger, 32) == 0);
		n_out = 0;
	}

	/* A handshakes again (maybe another version now) and says
	 * nothing: B's frames reach it sealed until it offers again. */
	CHECK(connect_client(r, &A, now + NS));
	n_out = 0;
	wg_body(body, 200, 5);
	n = make_fwd(&B, buf, A.local.public_key, body, 200, now + NS);
	input(r, &B, buf, n, now + NS);
	CHECK(got_recv(&A, false, key, got, &len, now + NS));
	CHECK(ping(r, &A, true, now + NS));
	n = make_fwd(&B, buf, A.local.public_key, body, 200, now + NS);
	input(r, &B, buf, n, now + NS);
	CHECK(got_recv(&A, true, key, got, &len, now + NS));
	CHECK(counters(r).frames_forwarded == 7);
	wm_relay_free(r);
}

int main(void)
{
	setup();
	RUN(handshake_then_ping_pong);
	RUN(forward_send_as_recv_same_body);
	RUN(gone_for_unknown_and_offline);
	RUN(not_on_allow_list_gets_nothing);
	RUN(bad_mac1_and_bad_static_dropped);
	RUN(replayed_transport_dropped);
	RUN(rate_limit_per_client);
	RUN(malformed_counted);
	RUN(stun_binding_answered);
	RUN(stun_answers_limited_per_source);
	RUN(idle_client_forgotten);
	RUN(activity_newer_than_tick_is_not_idle);
	RUN(rekey_keeps_old_session_until_confirmed);
	RUN(tcp_path_and_close);
	RUN(initiation_too_soon_dropped_retry_answered);
	RUN(reconnect_straggler_keeps_new_path);
	RUN(initiation_does_not_move_a_working_path);
	RUN(max_clients_cap);
	RUN(cookie_reply_under_load);
	RUN(mac1_checked_before_randomness);
	RUN(flood_limited_per_address_on_every_transport);
	RUN(unknown_session_wire_format);
	RUN(unknown_session_answered_once_to_source);
	RUN(unknown_session_on_connection);
	RUN(unknown_session_rate_limited_under_flood);
	RUN(reload_keeps_allowed_sessions);
	RUN(forwarding_frames_mixed_versions);
	return check_summary();
}
