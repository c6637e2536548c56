/*
 * fuzz_receive.c - the whole UDP receive path: wm_receive_datagram
 * (agent/receive.h), the demultiplexer in front of the WireGuard
 * handshake, transport data, STUN, disco and relay code.
 *
 * The device is built as `wiremesh agent` builds it (agent.c's start):
 * a config parsed by wm_config_parse_string, wm_device_set_private_key,
 * wm_device_sync_peers, a relay client (wm_relay_client_init) and a STUN
 * client (wm_stun_client_init). Its UDP fd is a placeholder: sendto is
 * wrapped (build.sh, common.c), so what the agent sends is recorded in
 * memory and never leaves the process; the TUN fd is /dev/null.
 *
 * The harness then plays the other ends for real, with the agent's own
 * protocol code: it is the relay (answers the relay client's initiation
 * with wm_noise_*), and it is peer P (sends a handshake initiation, reads
 * the agent's response off the recorded datagrams, derives the session).
 * So every input can be delivered either raw, or authenticated as the
 * real protocol would carry it, and the fuzzer reaches the code behind
 * the MACs and AEAD tags.
 *
 * Input: byte 0 = mode (bits 0-2) and flags (bits 3-7); the rest is the
 * payload.
 *
 *   0 RAW        payload as a datagram from a source picked by bits 4-5
 *                (P's endpoint, another v6 address, the relay, the STUN
 *                server); bit 6: src NULL (as if it came off the relay)
 *   1 RAW_MACS   as RAW, but a payload of initiation or response length
 *                gets a valid mac1 (mac2 too when P holds a cookie), as
 *                P would send it: the Noise code runs on it; bit 7: bytes
 *                4..7 (the receiver index of a response, cookie reply or
 *                data message) become the index of the agent's pending
 *                handshake with P, or else of its current session
 *   2 DATA       a counter choice (byte 1, low 2 bits: 0 fresh; 1 an
 *                old one, byte 2 back; 2 ahead, byte 2 << byte 3; 3 the
 *                next 8 bytes, big-endian), then the rest sealed as P's
 *                transport data:
 *                decrypt, replay window, inner IP checks, TUN write;
 *                bit 6: seal with P's previous session
 *   3 DISCO      the payload sealed as P's disco message (key from the
 *                pair's DH, the 9-byte type+clock head of the plaintext
 *                is fuzzed; bit 6 puts the current wall clock in it)
 *   4 FRAME      the payload as a relay frame (type | key | body) sealed
 *                in the relay session, from the relay; bit 4: as a
 *                forwarding frame ("WMR" 0x02, relay/fwd.h) of that type
 *   5 TUN        the payload as an IP packet read from the TUN:
 *                wm_send_ip_packet (allowed-IPs lookup, sealing, staging
 *                while there is no session, path choice); what reaches P
 *                must open under P's session
 *   6 STUN       the payload from a STUN server (bit 4: the relay's);
 *                bit 6: bytes 8..19 replaced by the transaction id the
 *                client last sent there, and a FINGERPRINT at the end
 *                recomputed
 *   7 HANDSHAKE  P makes a new handshake from P's endpoint (bit 4: from
 *                another v6 address, roaming; bit 6: the initiation is
 *                delivered twice, the second a replay), then the rest as
 *                DATA under the new session
 *
 *   bit 3 (modes 0-3, 7): deliver what was built inside a RECV frame
 *   through the relay session instead of straight from the source (as a
 *   forwarding frame when its body's length is odd).
 *
 * Between inputs the agent's tick runs every 100 ms of wall time, as its
 * event loop would (timers, relay and STUN clients, discovery), and the
 * harness answers what the relay must answer (new relay handshakes,
 * keepalive) so the relay session stays up, and what P must answer: a
 * handshake the agent starts with P gets a cookie reply (every third
 * time, so the agent's cookie and mac2 code runs) or P's response. State carries over from
 * input to input, as in a running agent; P re-handshakes every 100 s so
 * its session never expires during a long run.
 *
 * Checked besides "no crash": a datagram that does not authenticate
 * never moves P's endpoint nor its rx_bytes.
 */
#include "common.h"
#include "agent/wg/clock.h"
#include "agent/config.h"
#include "agent/peer_disco.h"
#include "agent/receive.h"
#include "agent/send.h"
#include "agent/tick.h"
#include "agent/tun_writer.h"
#include "agent/device.h"
#include "agent/nat/disco.h"
#include "agent/nat/discovery.h"
#include "agent/relay/client.h"
#include "agent/relay/fwd.h"
#include "agent/relays.h"
#include "agent/relay/proto.h"
#include "agent/wg/replay.h"
#include "agent/nat/stun.h"
#include "agent/nat/stun_client.h"
#include "agent/wg/timers.h"
#include "agent/wg/transport.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/x25519.h"
#include "crypto/xchacha.h"

#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

enum {
	MODE_RAW, MODE_RAW_MACS, MODE_DATA, MODE_DISCO, MODE_FRAME,
	MODE_TUN, MODE_STUN, MODE_HANDSHAKE,
};
enum { F_VIA_RELAY = 1 << 3, F_SRC_SHIFT = 4, F_ALT = 1 << 6, F_FIX = 1 << 7 };
enum { INPUT_LIMIT = 9000 }; /* fits a relay frame body */

#define DEV_PRIV "c8d0a4e1f7b3925c6e1a8d4f2b7c9e0a1d3f5b7c9e1a2c4e6f8a0b2d4f6a8c0e"
#define P_PRIV "70a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e4f"
#define Q_PRIV "18f0e1d2c3b4a59687786950413223140516273849505a6b7c8d9eafb0c1d2e3"
#define RELAY_PRIV "4053a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e"
#define PSK "0fd5b3a1c2e4f6081a3c5e7092b4d6f8e0c2a4b6d8f0e2c4a6b8d0f2e4c6a8b0"

static struct wm_device dev;
static struct wm_tun_writer tun_out; /* coalescing, as with offloads on */
static struct wm_config cfg;
static struct wm_relays relays; /* one relay */
#define rc (relays.slot[0].rc)
static struct wm_stun_client sc;
static struct wm_peer *dev_p; /* the agent's view of P */

static union wm_sockaddr ep4, ep6, relay_addr, stun_addr, other6;

/* P: our side of the agent's peer. */
static struct {
	struct wm_noise_local local;
	struct wm_noise_peer noise;    /* the agent as P's peer */
	struct wm_cookie_maker cookie; /* P's macs to the agent */
	struct wm_keypair cur, prev;
	bool have_cur, have_prev;
	uint64_t counter, prev_counter;
	uint8_t disco_key[32];
	uint8_t last_ts[WM_TIMESTAMP_SIZE];
	uint32_t next_index;
	struct wm_cookie_checker checker; /* P's side of cookie replies */
	unsigned answered;                /* the agent's initiations seen */
} P;

/* The relay. */
static struct {
	struct wm_noise_local local;
	struct wm_noise_peer client;  /* the agent, as the relay sees it */
	struct wm_cookie_maker cookie;
	struct wm_keypair kp;
	bool up;
	uint64_t counter;
	struct wm_replay replay;      /* what the agent sends to us */
	uint64_t last_keepalive;
} R;

static uint8_t stun_txid[2][WM_STUN_TXID_LEN]; /* last request per server */
static uint64_t last_tick;

/* ------------------------------------------------------------ helpers */

static void priv_key(uint8_t out[32], const char *hex)
{
	fuzz_key(out, hex);
	wm_x25519_clamp(out);
}

static void addr(union wm_sockaddr *a, const char *text)
{
	if (!wm_sockaddr_parse(a, text))
		fuzz_fail("bad address %s", text);
}

/* wm_receive_datagram on an exact-size heap copy, so ASan sees reads
 * past the datagram's end (the agent's own buffers are larger). */
static void rx(const uint8_t *buf, size_t len, const union wm_sockaddr *src)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, buf, len);
	wm_receive_datagram(&dev, copy, len, src, wm_now_ns());
	free(copy);
}

/* Seals frame (type | key | body) in the relay session and delivers it
 * from the relay; fwd: as a forwarding frame (relay/fwd.h), tagged. */
static void relay_deliver_frame(const uint8_t *frame, size_t flen, bool fwd)
{
	uint8_t *out = malloc(WM_RELAY_MAGIC_LEN + WM_MSG_MIN_DATA + flen);
	struct wm_session ss;
	size_t n;

	if (!out)
		abort();
	if (!R.up) {
		free(out);
		return;
	}
	if (fwd && flen >= WM_RELAY_FRAME_HDR) {
		wm_session_start(&ss, &R.kp);
		ss.send_counter = R.counter;
		memcpy(out + WM_RELAY_FWD_BODY, frame + WM_RELAY_FRAME_HDR,
		       flen - WM_RELAY_FRAME_HDR);
		n = wm_relay_fwd_seal(&ss, out, (enum wm_relay_frame_type)frame[0],
				      frame + 1, flen - WM_RELAY_FRAME_HDR,
				      wm_now_ns());
		R.counter = ss.send_counter;
		wm_session_wipe(&ss);
		if (n)
			rx(out, n, &relay_addr);
		free(out);
		return;
	}
	memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	n = wm_transport_seal(out + WM_RELAY_MAGIC_LEN, &R.kp, R.counter++,
			      frame, flen, flen);
	rx(out, WM_RELAY_MAGIC_LEN + n, &relay_addr);
	free(out);
}

/* A datagram from P: straight from src, or through the relay. */
static void from_p(const uint8_t *buf, size_t len,
		   const union wm_sockaddr *src, bool via_relay)
{
	uint8_t *frame;

	if (!via_relay && !src) {
		/* What a relay delivers from a key that is no peer of ours:
		 * it must cost no DH and no decryption. */
		uint8_t *copy = malloc(len ? len : 1);
		struct wm_relay_event ev = { WM_RELAY_EV_FRAME,
					     R.local.public_key, copy, len };

		if (!copy)
			abort();
		memcpy(copy, buf, len);
		wm_receive_relay_event(&dev, 0, &ev, wm_now_ns());
		free(copy);
		return;
	}
	if (!via_relay) {
		rx(buf, len, src);
		return;
	}
	if (len > WM_RELAY_MAX_BODY)
		return;
	frame = malloc(WM_RELAY_FRAME_HDR + len);
	if (!frame)
		abort();
	wm_relay_frame_build(frame, WM_RELAY_RECV, P.local.public_key, buf, len);
	relay_deliver_frame(frame, WM_RELAY_FRAME_HDR + len, len & 1);
	free(frame);
}

static bool to_is(const struct fuzz_sent *s, const union wm_sockaddr *a)
{
	union wm_sockaddr to;

	memcpy(&to, &s->to, sizeof(to));
	/* The agent's socket is dual-stack: v4 goes out v4-mapped. */
	if (to.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&to.in6.sin6_addr) && a->sa.sa_family == AF_INET)
		return to.in6.sin6_port == a->in.sin_port &&
		       memcmp(&to.in6.sin6_addr.s6_addr[12], &a->in.sin_addr, 4) == 0;
	return wm_sockaddr_equal(&to, a);
}

/* The same for a forwarding frame (the client's, once the relay
 * accepted them): its tag checked, the body where it is. */
static bool fwd_to_p(const struct fuzz_sent *s, const uint8_t **body,
		     size_t *blen)
{
	struct wm_relay_frame f;
	struct wm_session ss;
	enum wm_rx_result r;

	if (s->len < WM_RELAY_FWD_MIN ||
	    wm_transport_receiver(s->buf + WM_RELAY_MAGIC_LEN) != R.kp.local_index)
		return false;
	wm_session_start(&ss, &R.kp);
	ss.replay = R.replay;
	r = wm_relay_fwd_open(&ss, s->buf, s->len, WM_RELAY_SEND, wm_now_ns(), &f);
	R.replay = ss.replay;
	wm_session_wipe(&ss);
	if (r != WM_RX_OK || memcmp(f.key, P.local.public_key, 32) != 0)
		return false;
	*body = f.body;
	*blen = f.body_len;
	return true;
}

/* If s is a relay datagram carrying a SEND frame to P, points *body at
 * the message inside (decrypted into scratch). */
static bool relayed_to_p(const struct fuzz_sent *s, uint8_t *scratch,
			 const uint8_t **body, size_t *blen)
{
	struct wm_relay_frame f;
	uint8_t *plain;
	size_t plen, mlen;

	if (R.up && to_is(s, &relay_addr) && s->len <= FUZZ_SENT_LEN &&
	    wm_relay_is_fwd(s->buf, s->len))
		return fwd_to_p(s, body, blen);
	if (!R.up || !to_is(s, &relay_addr) || s->len > FUZZ_SENT_LEN ||
	    !wm_relay_is_relay(s->buf, s->len) ||
	    s->len < WM_RELAY_MAGIC_LEN + WM_MSG_MIN_DATA ||
	    s->buf[WM_RELAY_MAGIC_LEN] != WM_MSG_DATA)
		return false;
	mlen = s->len - WM_RELAY_MAGIC_LEN;
	memcpy(scratch, s->buf + WM_RELAY_MAGIC_LEN, mlen);
	if (wm_transport_receiver(scratch) != R.kp.local_index ||
	    wm_transport_open(&R.kp, &R.replay, scratch, mlen, &plain, &plen) !=
		    WM_RX_OK ||
	    !wm_relay_frame_parse(&f, plain, plen) || f.type != WM_RELAY_SEND ||
	    memcmp(f.key, P.local.public_key, 32) != 0)
		return false;
	*body = f.body;
	*blen = f.body_len;
	return true;
}

/* ------------------------------------------------------------- relay */

static struct wm_noise_peer *relay_lookup(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	return memcmp(key, R.client.remote_static, 32) == 0 ? &R.client : NULL;
}

/* Answers the relay client's initiations among the recorded datagrams,
 * as the relay does; records what the agent sent to P meanwhile. */
static void relay_serve(void)
{
	size_t n = fuzz_sent_count();

	for (size_t i = 0; i < n; i++) {
		const struct fuzz_sent *s = fuzz_sent_get(i);
		struct wm_handshake hs;
		struct wm_noise_peer *np;
		struct wm_msg_response resp;
		struct wm_keypair kp;
		uint8_t eph[32], out[WM_RELAY_MAGIC_LEN + sizeof(resp)];
		uint64_t now = wm_now_ns();

		if (!to_is(s, &relay_addr) ||
		    s->len != WM_RELAY_MAGIC_LEN + sizeof(struct wm_msg_initiation) ||
		    !wm_relay_is_relay(s->buf, s->len) ||
		    s->buf[WM_RELAY_MAGIC_LEN] != WM_MSG_INITIATION)
			continue;
		if (wm_noise_consume_initiation(
			    (const struct wm_msg_initiation *)(s->buf + WM_RELAY_MAGIC_LEN),
			    &hs, &R.local, relay_lookup, NULL, &np, now) != WM_NOISE_OK)
			continue;
		wm_random_bytes(eph, sizeof(eph));
		if (wm_noise_create_response(&resp, &hs, np, 0x52000000u + (uint32_t)i,
					     eph) != WM_NOISE_OK)
			continue;
		wm_cookie_add_macs(&R.cookie, &resp, sizeof(resp), now);
		wm_noise_derive_keypair(&kp, &hs, now);
		memcpy(out, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
		memcpy(out + WM_RELAY_MAGIC_LEN, &resp, sizeof(resp));
		R.kp = kp;
		R.up = true;
		R.counter = 0;
		wm_replay_init(&R.replay);
		rx(out, sizeof(out), &relay_addr);
	}
}

/* A PONG now and then, so the client does not declare the relay dead. */
static void relay_keepalive(uint64_t now)
{
	uint8_t frame[WM_RELAY_FRAME_HDR + 8];

	if (!R.up || now - R.last_keepalive < SEC(2))
		return;
	R.last_keepalive = now;
	wm_relay_frame_build(frame, WM_RELAY_PONG, NULL, (const uint8_t *)&now, 8);
	relay_deliver_frame(frame, sizeof(frame), false);
}

/* Remembers the STUN requests' transaction ids. */
static void note_stun(void)
{
	for (size_t i = 0; i < fuzz_sent_count(); i++) {
		const struct fuzz_sent *s = fuzz_sent_get(i);

		if (s->len != WM_STUN_REQUEST_LEN || !wm_stun_is_stun(s->buf, s->len))
			continue;
		if (to_is(s, &stun_addr))
			memcpy(stun_txid[0], s->buf + 8, WM_STUN_TXID_LEN);
		else if (to_is(s, &relay_addr))
			memcpy(stun_txid[1], s->buf + 8, WM_STUN_TXID_LEN);
	}
}

/* --------------------------------------------------------------- P */

static void next_timestamp(uint8_t ts[WM_TIMESTAMP_SIZE])
{
	struct timespec wall = wm_wall_now();

	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	if (memcmp(ts, P.last_ts, WM_TIMESTAMP_SIZE) <= 0) {
		memcpy(ts, P.last_ts, WM_TIMESTAMP_SIZE);
		for (int i = WM_TIMESTAMP_SIZE - 1; i >= 0 && ++ts[i] == 0; i--)
			;
	}
	memcpy(P.last_ts, ts, WM_TIMESTAMP_SIZE);
}

/* Finds the agent's answer of type/len to P among the recorded datagrams
 * (sent to P's address or through the relay) and copies it to out. */
static bool answer_to_p(uint8_t type, size_t len, uint8_t *out)
{
	static uint8_t scratch[FUZZ_SENT_LEN];

	for (size_t i = 0; i < fuzz_sent_count(); i++) {
		const struct fuzz_sent *s = fuzz_sent_get(i);
		const uint8_t *body;
		size_t blen;

		if ((to_is(s, &ep4) || to_is(s, &ep6)) && s->len == len &&
		    s->buf[0] == type) {
			memcpy(out, s->buf, len);
			return true;
		}
		if (relayed_to_p(s, scratch, &body, &blen) && blen == len &&
		    body[0] == type) {
			memcpy(out, body, len);
			return true;
		}
	}
	return false;
}

static struct wm_noise_peer *p_lookup(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	return memcmp(key, P.noise.remote_static, 32) == 0 ? &P.noise : NULL;
}

/* P answers the handshakes the agent started with it: every third one
 * with a cookie reply, the others with a response (P is then the
 * responder; the agent's session is the new one at once). */
static void p_serve(void)
{
	static uint8_t scratch[FUZZ_SENT_LEN];
	size_t n = fuzz_sent_count();

	for (size_t i = 0; i < n; i++) {
		const struct fuzz_sent *s = fuzz_sent_get(i);
		const struct wm_msg_initiation *init;
		const union wm_sockaddr *src = NULL;
		struct wm_handshake hs;
		struct wm_noise_peer *np;
		struct wm_msg_response resp;
		struct wm_msg_cookie reply;
		struct wm_keypair kp;
		uint8_t eph[32], secret[32], nonce[24], srcb[18];
		const uint8_t *body;
		size_t blen, alen = 0;
		bool via = false;
		uint64_t now = wm_now_ns();

		if ((to_is(s, &ep4) || to_is(s, &ep6)) &&
		    s->len == sizeof(*init) && s->buf[0] == WM_MSG_INITIATION) {
			body = s->buf;
			src = to_is(s, &ep4) ? &ep4 : &ep6;
		} else if (relayed_to_p(s, scratch, &body, &blen) &&
			   blen == sizeof(*init) && body[0] == WM_MSG_INITIATION) {
			via = true;
		} else {
			continue;
		}
		init = (const struct wm_msg_initiation *)body;
		if (++P.answered % 3 == 1 && src) {
			/* The bytes a cookie binds to: IP then port. */
			if (src->sa.sa_family == AF_INET) {
				memcpy(srcb, &src->in.sin_addr, 4);
				memcpy(srcb + 4, &src->in.sin_port, 2);
				alen = 6;
			} else {
				memcpy(srcb, &src->in6.sin6_addr, 16);
				memcpy(srcb + 16, &src->in6.sin6_port, 2);
				alen = 18;
			}
			if (wm_cookie_checker_needs_secret(&P.checker, now)) {
				wm_random_bytes(secret, sizeof(secret));
				wm_cookie_checker_rotate(&P.checker, secret, now);
			}
			wm_random_bytes(nonce, sizeof(nonce));
			wm_cookie_create_reply(&reply, &P.checker, init, sizeof(*init),
					       init->sender_index, srcb, alen, now,
					       nonce);
			from_p((const uint8_t *)&reply, sizeof(reply), src, via);
			continue;
		}
		if (wm_noise_consume_initiation(init, &hs, &P.local, p_lookup, NULL,
						&np, now) != WM_NOISE_OK)
			continue;
		wm_random_bytes(eph, sizeof(eph));
		if (wm_noise_create_response(&resp, &hs, np, ++P.next_index, eph) !=
		    WM_NOISE_OK)
			continue;
		wm_cookie_add_macs(&P.cookie, &resp, sizeof(resp), now);
		wm_noise_derive_keypair(&kp, &hs, now);
		P.prev = P.cur;
		P.prev_counter = P.counter;
		P.have_prev = P.have_cur;
		P.cur = kp;
		P.have_cur = true;
		P.counter = 0;
		from_p((const uint8_t *)&resp, sizeof(resp), src ? src : &ep4, via);
		return; /* one answer per round; what it triggered is new */
	}
}

/* P sends a transport data message under kp with counter. */
static void p_data(const struct wm_keypair *kp, uint64_t counter,
		   const uint8_t *pkt, size_t len, const union wm_sockaddr *src,
		   bool via_relay)
{
	size_t n = wm_transport_sealed_len(len, dev.mtu);
	uint8_t *out = malloc(n);

	if (!out)
		abort();
	wm_transport_seal(out, kp, counter, pkt, len, dev.mtu);
	from_p(out, n, src, via_relay);
	free(out);
}

/* P runs a handshake with the agent as initiator, answering a cookie
 * reply (the agent under load) once. On success P's current session is
 * the new one, confirmed with a keepalive. */
static bool p_handshake(const union wm_sockaddr *src, bool via_relay,
			bool replay)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct wm_msg_initiation init;
		struct wm_msg_response resp;
		struct wm_msg_cookie reply;
		struct wm_handshake hs;
		struct wm_keypair kp;
		uint8_t eph[32], ts[WM_TIMESTAMP_SIZE];
		uint32_t idx = ++P.next_index;
		uint64_t now = wm_now_ns();

		wm_random_bytes(eph, sizeof(eph));
		next_timestamp(ts);
		if (wm_noise_create_initiation(&init, &hs, &P.local, &P.noise, idx,
					       eph, ts) != WM_NOISE_OK)
			return false;
		wm_cookie_add_macs(&P.cookie, &init, sizeof(init), now);
		fuzz_sent_reset();
		from_p((const uint8_t *)&init, sizeof(init), src, via_relay);
		if (replay)
			from_p((const uint8_t *)&init, sizeof(init), src, via_relay);
		relay_serve();
		if (answer_to_p(WM_MSG_COOKIE, sizeof(reply), (uint8_t *)&reply)) {
			wm_cookie_consume_reply(&P.cookie, &reply, now);
			continue;
		}
		if (!answer_to_p(WM_MSG_RESPONSE, sizeof(resp), (uint8_t *)&resp) ||
		    le32toh(resp.receiver_index) != idx ||
		    wm_noise_consume_response(&resp, &hs, &P.local, &P.noise) !=
			    WM_NOISE_OK)
			return false;
		wm_noise_derive_keypair(&kp, &hs, now);
		P.prev = P.cur;
		P.prev_counter = P.counter;
		P.have_prev = P.have_cur;
		P.cur = kp;
		P.have_cur = true;
		P.counter = 0;
		/* The responder waits for our first packet: a keepalive. */
		p_data(&P.cur, P.counter++, NULL, 0, src, via_relay);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------- setup */

/* What the agent's tick does (agent.c, on_tick), minus the interface. */
static void tick(uint64_t now)
{
	union wm_sockaddr cands[WM_DISCO_MAX_CANDIDATES];
	size_t n;

	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	struct wm_event ev;

	fuzz_sent_reset();
	wm_tick_peers(&dev, now);
	wm_relays_tick(dev.relays, now);
	if (wm_relays_update(dev.relays, now))
		wm_tick_relay_changed(&dev, now);
	n = wm_stun_client_tick(dev.stun, now, wm_random_bytes, req,
				WM_STUN_MAX_SERVERS);
	for (size_t i = 0; i < n; i++)
		wm_send_udp(&dev, &req[i].to, req[i].msg, sizeof(req[i].msg));
	addr(&cands[0], "10.1.2.3:51820");
	n = 1 + wm_stun_client_reflexive(&sc, cands + 1,
					 WM_DISCO_MAX_CANDIDATES - 1, now);
	(void)wm_stun_client_mapping(&sc, now);
	wm_peer_disco_set_local(&dev, cands, n);
	while (wm_event_pop(&dev.events, &ev))
		;
	note_stun();
	relay_serve();
	p_serve();
	relay_keepalive(now);
	last_tick = now;
}

static char *config_text(void)
{
	uint8_t k[32], pub[32];
	char dev_b64[WM_KEY_B64_LEN + 1], p_b64[WM_KEY_B64_LEN + 1];
	char q_b64[WM_KEY_B64_LEN + 1], r_b64[WM_KEY_B64_LEN + 1];
	char psk_b64[WM_KEY_B64_LEN + 1];
	static char text[2048];

	priv_key(k, DEV_PRIV);
	wm_key_to_base64(dev_b64, k);
	priv_key(k, P_PRIV);
	wm_x25519_public(pub, k);
	wm_key_to_base64(p_b64, pub);
	priv_key(k, Q_PRIV);
	wm_x25519_public(pub, k);
	wm_key_to_base64(q_b64, pub);
	priv_key(k, RELAY_PRIV);
	wm_x25519_public(pub, k);
	wm_key_to_base64(r_b64, pub);
	fuzz_key(k, PSK);
	wm_key_to_base64(psk_b64, k);
	snprintf(text, sizeof(text),
		 "[Interface]\n"
		 "PrivateKey = %s\n"
		 "ListenPort = 51820\n"
		 "Relay = 198.51.100.2:3478\n"
		 "RelayPublicKey = %s\n"
		 "STUN = 198.51.100.7:3478\n"
		 "[Peer]\n"
		 "PublicKey = %s\n"
		 "PresharedKey = %s\n"
		 "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
		 "Endpoint = 192.0.2.1:51820\n"
		 "[Peer]\n"
		 "PublicKey = %s\n"
		 "AllowedIPs = 10.0.0.3/32\n"
		 "Endpoint = [2001:db8::3]:51820\n"
		 "PersistentKeepalive = 25\n",
		 dev_b64, r_b64, p_b64, psk_b64, q_b64);
	return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t k[32], shared[32];
	int null_fd;
	uint64_t now;

	(void)argc;
	(void)argv;
	addr(&ep4, "192.0.2.1:51820");
	addr(&ep6, "[2001:db8::1]:51820");
	addr(&other6, "[2001:db8::99]:4242");
	addr(&relay_addr, "198.51.100.2:3478");
	addr(&stun_addr, "198.51.100.7:3478");

	if (!wm_config_parse_string(&cfg, "wmfuzz.conf", config_text(), stderr))
		fuzz_fail("setup: config");
	if (wm_device_init(&dev, cfg.ifname) < 0)
		fuzz_fail("setup: wm_device_init");
	dev.mtu = WM_RELAY_PATH_MTU;
	wm_device_set_private_key(&dev, cfg.private_key);
	if (wm_device_sync_peers(&dev, &cfg) < 0)
		fuzz_fail("setup: wm_device_sync_peers");
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null_fd < 0)
		fuzz_fail("setup: /dev/null");
	dev.udp.fd = null_fd; /* never used: sendto is wrapped */
	dev.udp.family = AF_INET6;
	dev.tun_fd = null_fd;
	if (wm_tun_writer_init(&tun_out, null_fd, true) < 0)
		fuzz_fail("setup: wm_tun_writer_init");
	dev.tun_out = &tun_out;
	{
		const struct wm_relay_client_setup su = {
			.name = cfg.ifname,
			.udp = cfg.relay,
			.tcp = cfg.relay_tcp,
			.public_key = cfg.relay_public_key,
			.local = &dev.local,
			.udp_socket = &dev.udp,
		};
		wm_relays_init(&relays, NULL);
		if (wm_relays_add(&relays, &su) < 0)
			fuzz_fail("setup: wm_relays_add");
	}
	dev.relays = &relays;
	wm_stun_client_init(&sc);
	for (size_t i = 0; i < cfg.n_stun; i++)
		wm_stun_client_add(&sc, cfg.stun[i]);
	wm_stun_client_add(&sc, cfg.relay);
	dev.stun = &sc;

	/* P, the relay. */
	priv_key(k, P_PRIV);
	wm_noise_local_init(&P.local, k);
	dev_p = wm_device_find_peer(&dev, P.local.public_key);
	if (!dev_p)
		fuzz_fail("setup: P not in the device");
	fuzz_key(k, PSK);
	wm_noise_peer_init(&P.noise, &P.local, dev.local.public_key, k);
	wm_cookie_maker_init(&P.cookie, dev.local.public_key);
	wm_cookie_checker_init(&P.checker, P.local.public_key);
	if (!wm_x25519(shared, P.local.private_key, dev.local.public_key))
		fuzz_fail("setup: DH");
	wm_disco_key(P.disco_key, shared);
	P.next_index = 0x50000000u;
	priv_key(k, RELAY_PRIV);
	wm_noise_local_init(&R.local, k);
	wm_noise_peer_init(&R.client, &R.local, dev.local.public_key, NULL);
	wm_cookie_maker_init(&R.cookie, dev.local.public_key);

	/* The first tick connects the relay (we answer) and asks STUN. */
	now = wm_now_ns();
	tick(now);
	if (!wm_relay_client_up(&rc))
		fuzz_fail("setup: the relay client did not come up");
	if (!p_handshake(&ep4, false, false))
		fuzz_fail("setup: P's handshake failed");
	if (!dev_p->current)
		fuzz_fail("setup: the agent has no session with P");
	/* Past the agent's initiation flood guard (50/s), so that a first
	 * HANDSHAKE input can succeed too. */
	usleep(25000);
	return 0;
}

/* ------------------------------------------------------------- input */

static const union wm_sockaddr *pick_src(uint8_t flags)
{
	switch ((flags >> F_SRC_SHIFT) & 3) {
	case 0: return &ep4;
	case 1: return &other6;
	case 2: return &relay_addr;
	default: return &stun_addr;
	}
}

static uint64_t pick_counter(const uint8_t *c, uint64_t *next)
{
	uint64_t v = 0;

	switch (c[0] & 3) {
	case 0: /* fresh */
		return (*next)++;
	case 1: /* an old one, maybe still in the window */
		return *next > c[1] ? *next - 1 - c[1] : 0;
	case 2: /* ahead, sliding the window */
		*next += (uint64_t)c[1] << (c[2] & 15);
		return (*next)++;
	default: /* anything; a usable one moves our window along */
		for (int i = 1; i < 9; i++)
			v = v << 8 | c[i];
		if (v >= *next && v < (UINT64_C(1) << 62))
			*next = v + 1;
		return v;
	}
}

static void mode_data(uint8_t flags, const uint8_t *d, size_t n, bool via)
{
	static const size_t head[4] = { 1, 2, 3, 9 }; /* by counter choice */
	const union wm_sockaddr *src = (flags >> F_SRC_SHIFT) & 1 ? &ep6 : &ep4;
	bool prev = (flags & F_ALT) && P.have_prev;
	uint64_t *next = prev ? &P.prev_counter : &P.counter;
	uint8_t c[9] = { 0 };
	uint64_t counter;
	size_t h;

	if (n < 1)
		return;
	h = head[d[0] & 3] < n ? head[d[0] & 3] : n;
	memcpy(c, d, h);
	counter = pick_counter(c, next);
	p_data(prev ? &P.prev : &P.cur, counter, d + h, n - h, src, via);
}

static void mode_disco(uint8_t flags, const uint8_t *d, size_t n, bool via)
{
	uint8_t out[WM_DISCO_MAX + 64], plain[WM_DISCO_MAX + 64], nonce[24];
	const union wm_sockaddr *src = (flags >> F_SRC_SHIFT) & 1 ? &ep6 : &ep4;

	if (WM_DISCO_HDR + n + 16 > sizeof(out))
		return;
	memcpy(plain, d, n);
	if ((flags & F_ALT) && n >= 9) {
		uint64_t t = (uint64_t)wm_wall_now().tv_sec;
		for (int i = 0; i < 8; i++)
			plain[1 + i] = (uint8_t)(t >> (56 - 8 * i));
	}
	wm_random_bytes(nonce, sizeof(nonce));
	memcpy(out, WM_DISCO_MAGIC, WM_DISCO_MAGIC_LEN);
	memcpy(out + WM_DISCO_MAGIC_LEN, P.local.public_key, 32);
	memcpy(out + WM_DISCO_MAGIC_LEN + 32, nonce, 24);
	wm_xaead_seal(out + WM_DISCO_HDR, plain, n, out, WM_DISCO_HDR, nonce,
		      P.disco_key);
	from_p(out, WM_DISCO_HDR + n + 16, src, via);
}

static void mode_raw(uint8_t mode, uint8_t flags, const uint8_t *d, size_t n,
		     bool via)
{
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		abort();
	memcpy(buf, d, n);
	if (mode == MODE_RAW_MACS && (flags & F_FIX) && n >= 8) {
		uint32_t idx = dev_p->hs.state != WM_HS_ZEROED ? dev_p->hs.local_index
			       : dev_p->current	       ? dev_p->current->kp.local_index
						       : 0;
		idx = htole32(idx);
		memcpy(buf + 4, &idx, 4);
	}
	if (mode == MODE_RAW_MACS &&
	    (n == sizeof(struct wm_msg_initiation) ||
	     n == sizeof(struct wm_msg_response))) {
		/* A scratch copy: P's own cookie state stays P's. */
		struct wm_cookie_maker m = P.cookie;
		wm_cookie_add_macs(&m, buf, n, wm_now_ns());
	}
	from_p(buf, n, (flags & F_ALT) ? NULL : pick_src(flags), via);
	free(buf);
}

/* What the agent sends P must open under P's session: it sealed with
 * the keys it shares with P. */
static void check_sent_to_p(void)
{
	static uint8_t scratch[FUZZ_SENT_LEN];

	for (size_t i = 0; i < fuzz_sent_count(); i++) {
		const struct fuzz_sent *s = fuzz_sent_get(i);
		const struct wm_keypair *kp = NULL;
		struct wm_replay fresh;
		const uint8_t *body;
		uint8_t *plain;
		size_t blen, plen;
		uint32_t to;

		if ((to_is(s, &ep4) || to_is(s, &ep6)) && s->len <= FUZZ_SENT_LEN) {
			body = s->buf;
			blen = s->len;
		} else if (!relayed_to_p(s, scratch, &body, &blen)) {
			continue;
		}
		if (blen < WM_MSG_MIN_DATA || body[0] != WM_MSG_DATA)
			continue;
		to = wm_transport_receiver(body);
		if (P.have_cur && to == P.cur.local_index)
			kp = &P.cur;
		else if (P.have_prev && to == P.prev.local_index)
			kp = &P.prev;
		if (!kp)
			continue;
		if (body != scratch)
			memcpy(scratch, body, blen);
		wm_replay_init(&fresh);
		if (wm_transport_open(kp, &fresh, scratch, blen, &plain, &plen) !=
		    WM_RX_OK)
			fuzz_fail("the agent sent P a data message that does not "
				  "open under P's session (index %08x)", to);
	}
}

static void mode_tun(const uint8_t *d, size_t n)
{
	uint8_t *buf;

	if (n > WM_MAX_PACKET)
		return;
	/* Exact size: headroom, the packet, tailroom (send.h). */
	buf = malloc(WM_HEADROOM + n + WM_TAILROOM);
	if (!buf)
		abort();
	memcpy(buf + WM_HEADROOM, d, n);
	wm_send_ip_packet(&dev, buf + WM_HEADROOM, n, wm_now_ns());
	free(buf);
	check_sent_to_p();
}

static void mode_stun(uint8_t flags, const uint8_t *d, size_t n)
{
	uint8_t *buf = malloc(n ? n : 1);
	bool relay = (flags >> F_SRC_SHIFT) & 1;

	if (!buf)
		abort();
	memcpy(buf, d, n);
	if ((flags & F_ALT) && n >= WM_STUN_HEADER_LEN) {
		memcpy(buf + 8, stun_txid[relay], WM_STUN_TXID_LEN);
		/* A FINGERPRINT at the end covers the id: redo it. */
		if (n >= WM_STUN_HEADER_LEN + 8 && buf[n - 8] == 0x80 &&
		    buf[n - 7] == 0x28 && buf[n - 6] == 0 && buf[n - 5] == 4) {
			uint32_t crc = wm_stun_crc32(buf, n - 8) ^ 0x5354554eu;
			for (int i = 0; i < 4; i++)
				buf[n - 4 + i] = (uint8_t)(crc >> (24 - 8 * i));
		}
	}
	rx(buf, n, relay ? &relay_addr : &stun_addr);
	free(buf);
}

/* FUZZ_VERBOSE: where the input ended up. */
static void report(uint8_t mode)
{
	const struct wm_device_stats *st = &dev.stats;
	char ep[WM_SOCKADDR_STRLEN];

	fprintf(stderr,
		"mode %u: malformed %llu bad_mac %llu hs_failed %llu "
		"unknown_index %llu bad_auth %llu replay %llu expired %llu "
		"bad_inner %llu src_not_allowed %llu handshakes %llu "
		"cookie_replies %llu disco rx %llu dropped %llu | P rx_bytes "
		"%llu endpoint %s | relay rx_frames %llu malformed %llu gone "
		"%llu | stun rx %llu bad %llu | sent %zu\n",
		mode, (unsigned long long)st->rx_malformed,
		(unsigned long long)st->rx_bad_mac,
		(unsigned long long)st->rx_handshake_failed,
		(unsigned long long)st->rx_unknown_index,
		(unsigned long long)st->rx_bad_auth,
		(unsigned long long)st->rx_replay,
		(unsigned long long)st->rx_expired,
		(unsigned long long)st->rx_bad_inner,
		(unsigned long long)st->rx_source_not_allowed,
		(unsigned long long)st->handshakes_completed,
		(unsigned long long)st->cookie_replies_sent,
		(unsigned long long)st->disco_rx,
		(unsigned long long)st->disco_dropped,
		(unsigned long long)dev_p->rx_bytes,
		wm_sockaddr_format(ep, sizeof(ep), &dev_p->endpoint),
		(unsigned long long)rc.stats.rx_frames,
		(unsigned long long)rc.stats.malformed,
		(unsigned long long)rc.stats.gone,
		(unsigned long long)sc.rx, (unsigned long long)sc.rx_bad,
		fuzz_sent_count());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = wm_now_ns(), rx_before;
	union wm_sockaddr ep_before;
	uint8_t mode, flags;
	bool via, authentic;

	if (size < 1 || size > INPUT_LIMIT)
		return 0;
	if (now - last_tick >= 100000000ULL)
		tick(now);
	if (P.have_cur && (now - P.cur.birth_ns > SEC(100) ||
			   P.counter > (UINT64_C(1) << 62)))
		p_handshake(&ep4, false, false);
	mode = data[0] & 7;
	flags = data[0] & ~7;
	via = (flags & F_VIA_RELAY) != 0;
	data++;
	size--;
	ep_before = dev_p->endpoint;
	rx_before = dev_p->rx_bytes;
	authentic = false;
	fuzz_sent_reset();

	switch (mode) {
	case MODE_RAW:
	case MODE_RAW_MACS:
		mode_raw(mode, flags, data, size, via);
		break;
	case MODE_DATA:
		mode_data(flags, data, size, via);
		authentic = true;
		break;
	case MODE_DISCO:
		mode_disco(flags, data, size, via);
		authentic = true;
		break;
	case MODE_FRAME:
		relay_deliver_frame(data, size, flags & 0x10);
		authentic = true; /* a RECV frame's body may be P's */
		break;
	case MODE_TUN:
		mode_tun(data, size);
		break;
	case MODE_STUN:
		mode_stun(flags, data, size);
		break;
	case MODE_HANDSHAKE:
		p_handshake((flags >> F_SRC_SHIFT) & 1 ? &ep6 : &ep4, via,
			    (flags & F_ALT) != 0);
		mode_data(flags & ~F_ALT, data, size, via);
		authentic = true;
		break;
	}
	if (!authentic && (!wm_sockaddr_equal(&ep_before, &dev_p->endpoint) ||
			   rx_before != dev_p->rx_bytes))
		fuzz_fail("an unauthenticated datagram (mode %u) moved P's "
			  "endpoint or rx_bytes", mode);
	relay_serve();
	p_serve();
	/* The end of the agent's receive batch. */
	wm_tun_writer_flush(&tun_out);
	if (fuzz_verbose())
		report(mode);
	return 0;
}
