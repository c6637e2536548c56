/*
 * fuzz_relay_frame.c - relay frames (agent/relay/proto.h): the plaintext
 * of a relay session's data message, as relay/client.c (agent side) and
 * relay/server.c (relay side) parse it with wm_relay_frame_parse.
 *
 * Checked besides "no crash": a parsed frame's body lies inside the
 * input and within WM_RELAY_MAX_BODY; wm_relay_frame_build gives the
 * very bytes back, both into a fresh buffer and in place (as the relay
 * turns a PING into a PONG and a SEND into a RECV); wm_relay_is_relay
 * agrees with the magic; an "unknown session" answer that parses builds
 * back to the same 12 bytes.
 *
 * Forwarding frames (agent/relay/fwd.h): the input as a datagram is
 * checked under a fixed session (no crash, no over-read; a forgery never
 * moves the window); the input as a body is framed as a SEND and as a
 * RECV, each verifies once (then it is a replay) with the same type, key
 * and body, and a flipped byte (at a place the input picks) is refused
 * exactly where the tag covers it: everywhere, but for the inside of a
 * WireGuard data body in a RECV.
 */
#include "common.h"
#include "agent/relay/fwd.h"
#include "agent/relay/proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void sessions(struct wm_session *tx, struct wm_session *rx)
{
	struct wm_keypair kp;

	memset(&kp, 0, sizeof(kp));
	memset(kp.send_key, 0x42, WM_KEY_SIZE);
	memset(kp.recv_key, 0x42, WM_KEY_SIZE);
	kp.remote_index = kp.local_index = 0x01020304;
	kp.birth_ns = 1;
	wm_session_start(tx, &kp);
	wm_session_start(rx, &kp);
}

/* Is byte i of a frame of body_len covered by its tag (fwd.h)? */
static bool covered(const uint8_t *d, size_t len, size_t i)
{
	size_t body_len = len - WM_RELAY_FWD_MIN;

	if (!(d[5] & WM_RELAY_FWD_FLAG_TAIL))
		return true;
	return i < WM_RELAY_FWD_BODY + 4 ||
	       i >= WM_RELAY_FWD_BODY + body_len - 16;
}

static void fwd_round_trip(const uint8_t *data, size_t size,
			   enum wm_relay_frame_type type)
{
	static uint8_t d[WM_RELAY_FWD_MAX];
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	uint8_t key[WM_KEY_SIZE];
	size_t n, body_len = size > WM_RELAY_MAX_BODY ? WM_RELAY_MAX_BODY : size;
	size_t flip;

	sessions(&tx, &rx);
	memset(key, 0xab, sizeof(key));
	memcpy(d + WM_RELAY_FWD_BODY, data, body_len);
	n = wm_relay_fwd_seal(&tx, d, type, key, body_len, 2);
	if (n != WM_RELAY_FWD_MIN + body_len)
		fuzz_fail("forwarding frame: wrong length");
	flip = size ? (size_t)data[0] * 131 % n : 0;
	d[flip] ^= 0x10;
	if ((wm_relay_fwd_open(&rx, d, n, type, 2, &f) == WM_RX_OK) ==
	    covered(d, n, flip))
		fuzz_fail("forwarding frame: a flipped byte %zu of %zu %s", flip,
			  n, covered(d, n, flip) ? "passed" : "was refused");
	d[flip] ^= 0x10;
	if (!covered(d, n, flip))
		return; /* that opened it: the counter is spent */
	if (wm_relay_fwd_open(&rx, d, n, type, 2, &f) != WM_RX_OK ||
	    f.type != type || memcmp(f.key, key, WM_KEY_SIZE) ||
	    f.body != d + WM_RELAY_FWD_BODY || f.body_len != body_len ||
	    memcmp(f.body, data, body_len))
		fuzz_fail("forwarding frame: open(seal(x)) != x");
	if (wm_relay_fwd_open(&rx, d, n, type, 2, &f) != WM_RX_REPLAY)
		fuzz_fail("forwarding frame: opened twice");
}

static void fwd_checks(const uint8_t *data, size_t size)
{
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	uint8_t *copy;

	if (wm_relay_is_fwd(data, size) !=
	    (size >= WM_RELAY_MAGIC_LEN && memcmp(data, "WMR\x02", 4) == 0))
		fuzz_fail("wm_relay_is_fwd disagrees with the magic");
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	sessions(&tx, &rx);
	if (wm_relay_fwd_open(&rx, copy, size, WM_RELAY_SEND, 2, &f) == WM_RX_OK ||
	    wm_relay_fwd_open(&rx, copy, size, WM_RELAY_RECV, 2, &f) == WM_RX_OK)
		fuzz_fail("forwarding frame: a forgery verified");
	if (rx.replay.next != 0)
		fuzz_fail("forwarding frame: a forgery moved the window");
	free(copy);
	fwd_round_trip(data, size, WM_RELAY_SEND);
	fwd_round_trip(data, size, WM_RELAY_RECV);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_relay_frame f;
	uint8_t *copy, *out, answer[WM_RELAY_UNKNOWN_SESSION_LEN];
	uint32_t idx;
	size_t n;

	if (wm_relay_is_relay(data, size) !=
	    (size >= WM_RELAY_MAGIC_LEN &&
	     (memcmp(data, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN) == 0 ||
	      memcmp(data, "WMR\x02", WM_RELAY_MAGIC_LEN) == 0)))
		fuzz_fail("wm_relay_is_relay disagrees with the magic");
	fwd_checks(data, size);
	/* An exact-size heap copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (wm_relay_unknown_session_parse(copy, size, &idx)) {
		uint8_t le[4] = { (uint8_t)idx, (uint8_t)(idx >> 8),
				  (uint8_t)(idx >> 16), (uint8_t)(idx >> 24) };

		if (wm_relay_unknown_session_build(answer, le) != size ||
		    memcmp(answer, data, size) != 0)
			fuzz_fail("unknown session: build(parse(x)) != x");
	}
	if (!wm_relay_frame_parse(&f, copy, size)) {
		free(copy);
		return 0;
	}
	if (f.body != copy + WM_RELAY_FRAME_HDR ||
	    f.body_len != size - WM_RELAY_FRAME_HDR ||
	    f.body_len > WM_RELAY_MAX_BODY || f.type < WM_RELAY_SEND ||
	    f.type > WM_RELAY_PONG)
		fuzz_fail("frame fields out of bounds");

	out = malloc(WM_RELAY_FRAME_HDR + f.body_len);
	if (!out)
		abort();
	n = wm_relay_frame_build(out, f.type, f.key, f.body, f.body_len);
	if (n != size || memcmp(out, data, size) != 0)
		fuzz_fail("build(parse(x)) != x");
	/* In place, the body already where it belongs. */
	n = wm_relay_frame_build(copy, f.type, f.key, copy + WM_RELAY_FRAME_HDR,
				 f.body_len);
	if (n != size || memcmp(copy, data, size) != 0)
		fuzz_fail("in-place build changed the frame");
	free(out);
	free(copy);
	return 0;
}
