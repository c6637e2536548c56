/*
 * fuzz_relay_server.c - the relay core (agent/relay/server.h), what
 * `wiremesh relay` runs on every datagram from the internet:
 * wm_relay_input, wm_relay_tick and wm_relay_conn_closed.
 *
 * The core is pure (no socket, no clock; randomness and sending are
 * callbacks), so each input gets a fresh relay and a virtual clock and
 * is fully deterministic: a reproducer replays exactly. Two clients on
 * the allow-list are played by the harness with the agent's own Noise
 * code: A over UDP, B over UDP, TCP or TLS (byte 0). Both handshake and
 * confirm their session before the commands run. C is not on the list.
 *
 * Input: byte 0 = setup (bits 0-1: B's transport; bit 2: MaxClients 1,
 * so B finds the pool full; bit 3: a ClientRate of 4000 bytes/s), then
 * commands, each "op (1) | length (1) | payload (length)":
 *
 *   0 RAW        payload from a path picked by op bits 4-5 (A's, B's,
 *                an unknown UDP address, an unknown TCP connection)
 *   1 RAW_MACS   as RAW, a payload of "WMR" 1 + initiation size gets a
 *                valid mac1 for the relay's key
 *   2 FRAME      payload = counter choice (1 byte) + frame plaintext
 *                (type | key | body), sealed in A's session (op bit 4:
 *                B's, bit 5: the previous session), from its path; a
 *                frame key byte 0xAA/0xBB is replaced by A's/B's key; op
 *                bit 6: as a forwarding frame ("WMR" 0x02, relay/fwd.h)
 *                with that type, key and body, tagged in the session
 *   3 HANDSHAKE  A (op bit 4: B) handshakes again, from its path (bit
 *                5: from another address/connection: roaming), and
 *                confirms with a keepalive unless bit 6
 *   4 TICK       the clock moves payload[0..1] * 10 ms, wm_relay_tick
 *   5 CLOSED     wm_relay_conn_closed(payload[0])
 *   6 STUN       payload from the unknown UDP address
 *   7 STRANGER   C, off the allow-list, sends a valid initiation
 *
 * Every command also moves the clock 1 ms. Checked besides "no crash":
 * the relay answers an unknown address or connection only with STUN
 * answers, cookie replies and "unknown session" answers (those only on
 * the path of the datagram that caused them, no larger than it, naming
 * its receiver index) (never a handshake response or transport
 * data: the allow-list holds); every transport message it sends A or B
 * opens under that client's session and is a RECV, GONE or PONG frame
 * (a forwarding frame only a RECV, and its tag verifies);
 * a RECV carries the sender's key, and when A sends B a frame that is
 * relayed, B receives exactly A's body.
 */
#include "common.h"
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/relay/fwd.h"
#include "agent/relay/proto.h"
#include "agent/relay/server.h"
#include "agent/wg/replay.h"
#include "agent/nat/stun.h"
#include "agent/wg/transport.h"
#include "crypto/x25519.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define NS 1000000000ULL
#define T0 (1000 * NS)

#define RELAY_PRIV "4053a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"
#define A_PRIV "70a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e4f"
#define B_PRIV "18f0e1d2c3b4a59687786950413223140516273849505a6b7c8d9eafb0c1d2e3"
#define C_PRIV "c8d0a4e1f7b3925c6e1a8d4f2b7c9e0a1d3f5b7c9e1a2c4e6f8a0b2d4f6a8c0e"

enum { SENT_MAX = 16, DGRAM_MAX = WM_RELAY_MAGIC_LEN + WM_MSG_MIN_DATA + 300 };
_Static_assert(WM_RELAY_FWD_MIN + 256 <= DGRAM_MAX, "room for a forwarding frame");

struct client {
	const char *name;
	struct wm_noise_local local;
	struct wm_noise_peer relay;   /* the relay, as this client's peer */
	struct wm_cookie_maker cookie;
	struct wm_keypair cur, prev;
	bool have_cur, have_prev;
	uint64_t counter, prev_counter;
	struct wm_relay_path path, alt;
	uint8_t last_ts[WM_TIMESTAMP_SIZE];
	uint32_t index;
	/* The setup handshake is the same in every input (same clock, same
	 * randomness): its initiation and the client's keys are kept. */
	bool cached;
	uint8_t c_init[WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_initiation)];
	struct wm_handshake c_hs;
	uint8_t c_ts[WM_TIMESTAMP_SIZE];
	struct wm_msg_response c_resp;
	struct wm_keypair c_kp;
};

static struct client A, B, C;
static uint8_t relay_priv[32], relay_pub[32];
static struct wm_relay_path stranger_udp, stranger_tcp;

/* Per input. */
static struct wm_relay *relay;
static uint64_t now, rng, crng; /* the relay's and the clients' */
static struct sent {
	struct wm_relay_path to;
	size_t len;
	uint8_t buf[DGRAM_MAX];
	/* the datagram being handled when this was sent */
	struct wm_relay_path from;
	size_t in_len;
	uint8_t in_index[4];
} sent[SENT_MAX];
static size_t n_sent;
static struct wm_relay_path in_from; /* the datagram being handled */
static size_t in_len;
static uint8_t in_index[4];

/* --------------------------------------------------------------- ops */

static int op_send(void *ctx, const struct wm_relay_path *to,
		   const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (n_sent < SENT_MAX && len <= DGRAM_MAX) {
		sent[n_sent].to = *to;
		sent[n_sent].len = len;
		memcpy(sent[n_sent].buf, buf, len);
		sent[n_sent].from = in_from;
		sent[n_sent].in_len = in_len;
		memcpy(sent[n_sent].in_index, in_index, 4);
		n_sent++;
	}
	return 0;
}

/* xorshift64*, reset per input: the "randomness" replays. */
static void fill(uint64_t *state, void *buf, size_t len)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		*state ^= *state >> 12;
		*state ^= *state << 25;
		*state ^= *state >> 27;
		p[i] = (uint8_t)((*state * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static int op_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	fill(&rng, buf, len);
	return 0;
}

static void op_log(void *ctx, const char *line)
{
	(void)ctx;
	if (fuzz_verbose())
		fprintf(stderr, "relay: %s\n", line);
}

/* ----------------------------------------------------------- helpers */

static void priv_key(uint8_t out[32], const char *hex)
{
	fuzz_key(out, hex);
	wm_x25519_clamp(out);
}

static void path(struct wm_relay_path *p, enum wm_relay_transport t,
		 uint32_t conn, const char *addr)
{
	memset(p, 0, sizeof(*p));
	p->transport = t;
	p->conn = conn;
	if (!wm_sockaddr_parse(&p->addr, addr))
		fuzz_fail("bad address %s", addr);
}

static bool same_path(const struct wm_relay_path *a, const struct wm_relay_path *b)
{
	return a->transport == b->transport &&
	       (a->transport == WM_RELAY_UDP ? wm_sockaddr_equal(&a->addr, &b->addr)
					     : a->conn == b->conn);
}

/* wm_relay_input on an exact-size copy (ASan sees over-reads; the relay
 * seals answers in place, within the datagram). */
static void input(const struct wm_relay_path *from, const uint8_t *buf,
		  size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	in_from = *from;
	in_len = len;
	memset(in_index, 0, 4);
	if (len >= WM_RELAY_MAGIC_LEN + 8)
		memcpy(in_index, buf + WM_RELAY_MAGIC_LEN + 4, 4);
	wm_relay_input(relay, from, copy, len, now);
	free(copy);
}

static void seal_frame(struct client *c, bool prev, uint64_t counter,
		       const uint8_t *frame, size_t flen,
		       const struct wm_relay_path *from)
{
	const struct wm_keypair *kp = prev ? &c->prev : &c->cur;
	uint8_t *out = malloc(WM_RELAY_MAGIC_LEN + WM_MSG_MIN_DATA + flen);
	size_t n;

	if (!out)
		abort();
	memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	n = wm_transport_seal(out + WM_RELAY_MAGIC_LEN, kp, counter, frame, flen,
			      flen);
	input(from, out, WM_RELAY_MAGIC_LEN + n);
	free(out);
}

/* The frame (type | key | body) as a forwarding frame under c's session
 * with this counter; nothing when the session may not send it. */
static void fwd_frame(struct client *c, bool prev, uint64_t counter,
		      const uint8_t *frame, size_t flen,
		      const struct wm_relay_path *from)
{
	uint8_t *out = malloc(WM_RELAY_FWD_MIN + flen);
	struct wm_session ss;
	size_t n;

	if (!out)
		abort();
	wm_session_start(&ss, prev ? &c->prev : &c->cur);
	ss.send_counter = counter;
	memcpy(out + WM_RELAY_FWD_BODY, frame + WM_RELAY_FRAME_HDR,
	       flen - WM_RELAY_FRAME_HDR);
	n = wm_relay_fwd_seal(&ss, out, (enum wm_relay_frame_type)frame[0],
			      frame + 1, flen - WM_RELAY_FRAME_HDR, now);
	wm_session_wipe(&ss);
	if (n)
		input(from, out, n);
	free(out);
}

static void next_timestamp(struct client *c, uint8_t ts[WM_TIMESTAMP_SIZE])
{
	wm_noise_tai64n(ts, (int64_t)(now / NS), (long)(now % NS));
	if (memcmp(ts, c->last_ts, WM_TIMESTAMP_SIZE) <= 0) {
		memcpy(ts, c->last_ts, WM_TIMESTAMP_SIZE);
		for (int i = WM_TIMESTAMP_SIZE - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(c->last_ts, ts, WM_TIMESTAMP_SIZE);
}

/* c sends an initiation from p; on a response, c's session is the new
 * one (confirmed with a keepalive when confirm). */
static bool handshake(struct client *c, const struct wm_relay_path *p,
		      bool confirm, bool setup)
{
	uint8_t buf[WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_initiation)];
	struct wm_msg_initiation *init = (void *)(buf + WM_RELAY_MAGIC_LEN);
	struct wm_msg_response resp;
	struct wm_handshake hs;
	struct wm_keypair kp;
	uint8_t eph[32], ts[WM_TIMESTAMP_SIZE];
	uint32_t idx = ++c->index;

	/* Past the relay's flood guard for this key (50/s). */
	now += 25 * 1000000ULL;
	if (setup && c->cached) {
		memcpy(buf, c->c_init, sizeof(buf));
		hs = c->c_hs;
		memcpy(c->last_ts, c->c_ts, sizeof(c->last_ts));
	} else {
		fill(&crng, eph, sizeof(eph));
		next_timestamp(c, ts);
		if (wm_noise_create_initiation(init, &hs, &c->local, &c->relay, idx,
					       eph, ts) != WM_NOISE_OK)
			return false;
		wm_cookie_add_macs(&c->cookie, init, sizeof(*init), now);
		memcpy(buf, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
		if (setup) {
			memcpy(c->c_init, buf, sizeof(buf));
			c->c_hs = hs;
			memcpy(c->c_ts, ts, sizeof(ts));
		}
	}
	n_sent = 0;
	input(p, buf, sizeof(buf));
	for (size_t i = 0; i < n_sent; i++) {
		const struct sent *s = &sent[i];

		if (!same_path(&s->to, p) ||
		    s->len != WM_RELAY_MAGIC_LEN + sizeof(resp) ||
		    s->buf[WM_RELAY_MAGIC_LEN] != WM_MSG_RESPONSE)
			continue;
		memcpy(&resp, s->buf + WM_RELAY_MAGIC_LEN, sizeof(resp));
		if (setup && c->cached && memcmp(&resp, &c->c_resp, sizeof(resp)) == 0) {
			kp = c->c_kp;
		} else {
			if (le32toh(resp.receiver_index) != idx ||
			    wm_noise_consume_response(&resp, &hs, &c->local,
						      &c->relay) != WM_NOISE_OK)
				fuzz_fail("%s: the relay's response does not verify",
					  c->name);
			wm_noise_derive_keypair(&kp, &hs, now);
			if (setup) {
				c->c_resp = resp;
				c->c_kp = kp;
				c->cached = true;
			}
		}
		c->prev = c->cur;
		c->prev_counter = c->counter;
		c->have_prev = c->have_cur;
		c->cur = kp;
		c->have_cur = true;
		c->counter = 0;
		if (confirm)
			seal_frame(c, false, c->counter++, NULL, 0, p);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------ checks */

static struct client *owner(const struct wm_relay_path *p)
{
	if (same_path(p, &A.path) || same_path(p, &A.alt))
		return &A;
	if (same_path(p, &B.path) || same_path(p, &B.alt))
		return &B;
	return NULL;
}

/* c's session that a message to it names, or NULL. */
static const struct wm_keypair *keys_of(const struct client *c,
					const uint8_t *msg)
{
	if (c->have_cur && wm_transport_receiver(msg) == c->cur.local_index)
		return &c->cur;
	if (c->have_prev && wm_transport_receiver(msg) == c->prev.local_index)
		return &c->prev;
	return NULL;
}

/* A RECV to c: from the client that sent this command's frame, with the
 * very body it sent (when it went to c). */
static void check_recv(const struct client *c, const struct client *from,
		       const uint8_t *to_key, const uint8_t *body, size_t blen,
		       const struct wm_relay_frame *f)
{
	if (!from || c == from ||
	    memcmp(f->key, from->local.public_key, 32) != 0)
		fuzz_fail("%s got a RECV not from the client that sent "
			  "this command", c->name);
	if (to_key && memcmp(to_key, c->local.public_key, 32) == 0 &&
	    (f->body_len != blen || memcmp(f->body, body, blen) != 0))
		fuzz_fail("%s got another body than was sent", c->name);
}

/* A forwarding frame: only to a client, only a RECV, and its tag
 * verifies under the session it names. */
static void check_fwd(const struct sent *s, const struct client *c,
		      const struct client *from, const uint8_t *to_key,
		      const uint8_t *body, size_t blen)
{
	const struct wm_keypair *kp;
	struct wm_relay_frame f;
	struct wm_session ss;
	enum wm_rx_result r;

	if (!c)
		fuzz_fail("the relay sent a forwarding frame to a stranger");
	if (s->len < WM_RELAY_FWD_MIN)
		fuzz_fail("the relay sent a short forwarding frame");
	kp = keys_of(c, s->buf + WM_RELAY_MAGIC_LEN);
	if (!kp)
		return; /* a session the client has not confirmed */
	wm_session_start(&ss, kp);
	r = wm_relay_fwd_open(&ss, s->buf, s->len, WM_RELAY_RECV, now, &f);
	wm_session_wipe(&ss);
	if (r != WM_RX_OK)
		fuzz_fail("%s cannot verify the forwarding frame the relay "
			  "sent it (%d)", c->name, (int)r);
	check_recv(c, from, to_key, body, blen, &f);
}

/* What the relay sent during one command. from: the client whose frame
 * this command sent (NULL: none); to_key/body: the destination and body
 * of its SEND frame (NULL: not a SEND to the other client). */
static void check_sent(const struct client *from, const uint8_t *to_key,
		       const uint8_t *body, size_t blen)
{
	for (size_t i = 0; i < n_sent; i++) {
		struct sent *s = &sent[i];
		const uint8_t *msg = s->buf + WM_RELAY_MAGIC_LEN;
		size_t mlen = s->len - WM_RELAY_MAGIC_LEN;
		struct client *c = owner(&s->to);
		const struct wm_keypair *kp;
		struct wm_relay_frame f;
		struct wm_replay fresh;
		uint8_t *plain;
		size_t plen;

		if (wm_stun_is_stun(s->buf, s->len))
			continue;
		/* An answer to a classic (RFC 3489) Binding request has no
		 * magic cookie: a success or error response, only back on
		 * the path the request came from. */
		if (s->len >= 20 && s->buf[0] == 0x01 &&
		    (s->buf[1] == 0x01 || s->buf[1] == 0x11) &&
		    same_path(&s->to, &s->from))
			continue;
		if (s->len < WM_RELAY_MAGIC_LEN + 4 ||
		    !wm_relay_is_relay(s->buf, s->len))
			fuzz_fail("the relay sent neither STUN nor a relay datagram");
		if (wm_relay_is_fwd(s->buf, s->len)) {
			check_fwd(s, c, from, to_key, body, blen);
			continue;
		}
		if (msg[0] == WM_MSG_COOKIE)
			continue;
		/* "unknown session": to anyone, but only back where the
		 * datagram came from, no larger, naming its index */
		if (msg[0] == WM_RELAY_MSG_UNKNOWN_SESSION) {
			uint32_t idx;

			if (!wm_relay_unknown_session_parse(s->buf, s->len, &idx) ||
			    !same_path(&s->to, &s->from) || s->len > s->in_len ||
			    memcmp(s->buf + WM_RELAY_MAGIC_LEN + 4, s->in_index, 4))
				fuzz_fail("a bad \"unknown session\" answer");
			continue;
		}
		if (!c)
			fuzz_fail("the relay sent message type %u to a stranger",
				  msg[0]);
		if (msg[0] == WM_MSG_RESPONSE)
			continue;
		if (msg[0] != WM_MSG_DATA || mlen < WM_MSG_MIN_DATA)
			fuzz_fail("the relay sent %s message type %u", c->name,
				  msg[0]);
		kp = keys_of(c, msg);
		if (!kp)
			continue; /* a session the client has not confirmed */
		wm_replay_init(&fresh);
		if (wm_transport_open(kp, &fresh, s->buf + WM_RELAY_MAGIC_LEN, mlen,
				      &plain, &plen) != WM_RX_OK)
			fuzz_fail("%s cannot open what the relay sent it", c->name);
		if (!wm_relay_frame_parse(&f, plain, plen) ||
		    (f.type != WM_RELAY_RECV && f.type != WM_RELAY_GONE &&
		     f.type != WM_RELAY_PONG))
			fuzz_fail("the relay sent %s a bad frame", c->name);
		if (f.type == WM_RELAY_RECV)
			check_recv(c, from, to_key, body, blen, &f);
	}
}

/* ------------------------------------------------------------- setup */

static void client_init(struct client *c, const char *name, const char *hex)
{
	uint8_t k[32];

	memset(c, 0, sizeof(*c));
	c->name = name;
	priv_key(k, hex);
	wm_noise_local_init(&c->local, k);
	wm_noise_peer_init(&c->relay, &c->local, relay_pub, NULL);
	wm_cookie_maker_init(&c->cookie, relay_pub);
	c->index = 0x41000000u * (uint32_t)(name[0] - '@');
}

static void reset_client(struct client *c)
{
	memset(&c->cur, 0, sizeof(c->cur));
	memset(&c->prev, 0, sizeof(c->prev));
	c->have_cur = c->have_prev = false;
	c->counter = c->prev_counter = 0;
	memset(c->last_ts, 0, sizeof(c->last_ts));
	wm_cookie_maker_init(&c->cookie, relay_pub);
	c->index = 0x41000000u * (uint32_t)(c->name[0] - '@');
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct wm_noise_local l;

	(void)argc;
	(void)argv;
	priv_key(relay_priv, RELAY_PRIV);
	wm_noise_local_init(&l, relay_priv);
	memcpy(relay_pub, l.public_key, 32);
	client_init(&A, "A", A_PRIV);
	client_init(&B, "B", B_PRIV);
	client_init(&C, "C", C_PRIV);
	path(&A.path, WM_RELAY_UDP, 0, "192.0.2.10:40000");
	path(&A.alt, WM_RELAY_UDP, 0, "192.0.2.11:40001");
	path(&stranger_udp, WM_RELAY_UDP, 0, "203.0.113.66:6666");
	path(&stranger_tcp, WM_RELAY_TCP, 9, "203.0.113.67:6667");
	path(&C.path, WM_RELAY_UDP, 0, "203.0.113.68:6668");
	return 0;
}

/* ---------------------------------------------------------- commands */

static const struct wm_relay_path *pick_path(uint8_t op)
{
	switch ((op >> 4) & 3) {
	case 0: return &A.path;
	case 1: return &B.path;
	case 2: return &stranger_udp;
	default: return &stranger_tcp;
	}
}

static uint64_t pick_counter(uint8_t c, uint64_t *next)
{
	switch (c & 3) {
	case 0: return (*next)++;
	case 1: return *next > (c >> 2) ? *next - 1 - (c >> 2) : 0;
	case 2: *next += (uint64_t)1 << (c >> 2 & 31); return (*next)++;
	default: return WM_REJECT_AFTER_MESSAGES - 1 + (c >> 2 & 1);
	}
}

static void cmd_frame(uint8_t op, const uint8_t *d, size_t n)
{
	struct client *c = (op & 0x10) ? &B : &A;
	struct client *other = c == &A ? &B : &A;
	bool prev = (op & 0x20) && c->have_prev;
	uint8_t frame[256 + 1];
	uint64_t counter;
	size_t flen;

	if (n < 1 || !c->have_cur)
		return;
	counter = pick_counter(d[0], prev ? &c->prev_counter : &c->counter);
	flen = n - 1;
	memcpy(frame, d + 1, flen);
	if (flen >= WM_RELAY_FRAME_HDR && (frame[1] == 0xAA || frame[1] == 0xBB))
		memcpy(frame + 1, frame[1] == 0xAA ? A.local.public_key
						   : B.local.public_key, 32);
	n_sent = 0;
	if ((op & 0x40) && flen >= WM_RELAY_FRAME_HDR)
		fwd_frame(c, prev, counter, frame, flen, &c->path);
	else
		seal_frame(c, prev, counter, frame, flen, &c->path);
	if (flen >= WM_RELAY_FRAME_HDR && frame[0] == WM_RELAY_SEND &&
	    memcmp(frame + 1, other->local.public_key, 32) == 0)
		check_sent(c, other->local.public_key, frame + WM_RELAY_FRAME_HDR,
			   flen - WM_RELAY_FRAME_HDR);
	else
		check_sent(c, NULL, NULL, 0);
}

static void cmd_raw(uint8_t op, const uint8_t *d, size_t n)
{
	uint8_t buf[256];

	memcpy(buf, d, n);
	if ((op & 7) == 1 &&
	    n == WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_initiation)) {
		struct wm_cookie_maker m = A.cookie;
		wm_cookie_add_macs(&m, buf + WM_RELAY_MAGIC_LEN,
				   sizeof(struct wm_msg_initiation), now);
	}
	n_sent = 0;
	input((op & 7) == 6 ? &stranger_udp : pick_path(op), buf, n);
	check_sent(NULL, NULL, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum wm_relay_transport bt[4] = {
		WM_RELAY_UDP, WM_RELAY_TCP, WM_RELAY_TLS, WM_RELAY_TCP
	};
	uint8_t allowed[2][32];
	struct wm_relay_params params = { 0 };
	struct wm_relay_ops ops = { op_send, op_random, op_log, NULL };
	size_t off = 1;

	if (size < 1 || size > 4096)
		return 0;
	now = T0;
	rng = 0x9E3779B97F4A7C15ULL;
	crng = 0xD1B54A32D192ED03ULL;
	reset_client(&A);
	reset_client(&B);
	reset_client(&C);
	if (bt[data[0] & 3] == WM_RELAY_UDP)
		path(&B.path, WM_RELAY_UDP, 0, "[2001:db8::20]:50000");
	else
		path(&B.path, bt[data[0] & 3], 7, "198.51.100.20:50000");
	B.alt = B.path;
	B.alt.conn = 8;
	if (B.alt.transport == WM_RELAY_UDP)
		path(&B.alt, WM_RELAY_UDP, 0, "[2001:db8::21]:50001");

	memcpy(allowed[0], A.local.public_key, 32);
	memcpy(allowed[1], B.local.public_key, 32);
	params.private_key = relay_priv;
	params.allowed = (const uint8_t (*)[32])allowed;
	params.n_allowed = 2;
	params.max_clients = (data[0] & 4) ? 1 : 0;
	params.client_rate = (data[0] & 8) ? 4000 : 0;
	if (wm_relay_new(&relay, &params, &ops) < 0)
		fuzz_fail("wm_relay_new");
	if (!handshake(&A, &A.path, true, true))
		fuzz_fail("setup: A's handshake got no answer");
	if (!handshake(&B, &B.path, true, true) && !(data[0] & 4))
		fuzz_fail("setup: B's handshake got no answer");

	while (off + 2 <= size) {
		uint8_t op = data[off];
		size_t n = data[off + 1];
		const uint8_t *d = data + off + 2;

		if (n > size - off - 2)
			n = size - off - 2;
		off += 2 + n;
		now += 1000000ULL;
		switch (op & 7) {
		case 0:
		case 1:
		case 6:
			cmd_raw(op, d, n);
			break;
		case 2:
			cmd_frame(op, d, n);
			break;
		case 3: {
			struct client *c = (op & 0x10) ? &B : &A;
			n_sent = 0;
			handshake(c, (op & 0x20) ? &c->alt : &c->path, !(op & 0x40),
				  false);
			check_sent(NULL, NULL, NULL, 0);
			break;
		}
		case 4:
			now += ((uint64_t)(n > 0 ? d[0] : 0) << 8 |
				(n > 1 ? d[1] : 0)) * 10000000ULL;
			wm_relay_tick(relay, now);
			break;
		case 5:
			wm_relay_conn_closed(relay, n > 0 ? d[0] : 0);
			break;
		case 7:
			n_sent = 0;
			handshake(&C, &C.path, false, false);
			check_sent(NULL, NULL, NULL, 0);
			break;
		}
	}
	if (fuzz_verbose()) {
		struct wm_relay_counters k;

		wm_relay_get_counters(relay, &k);
		fprintf(stderr, "handshakes %llu cookies %llu stun %llu forwarded "
			"%llu gone %llu pings %llu drops:",
			(unsigned long long)k.handshakes,
			(unsigned long long)k.cookie_replies,
			(unsigned long long)k.stun_requests,
			(unsigned long long)k.frames_forwarded,
			(unsigned long long)k.gone_sent, (unsigned long long)k.pings);
		for (int i = 0; i < WM_RELAY_DROP_MAX; i++)
			if (k.drops[i])
				fprintf(stderr, " %s %llu",
					wm_relay_drop_name((enum wm_relay_drop)i),
					(unsigned long long)k.drops[i]);
		fputc('\n', stderr);
	}
	wm_relay_free(relay);
	relay = NULL;
	return 0;
}
