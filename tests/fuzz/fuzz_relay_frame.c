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
 */
#include "common.h"
#include "agent/relay/proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_relay_frame f;
	uint8_t *copy, *out, answer[WM_RELAY_UNKNOWN_SESSION_LEN];
	uint32_t idx;
	size_t n;

	if (wm_relay_is_relay(data, size) !=
	    (size >= WM_RELAY_MAGIC_LEN &&
	     memcmp(data, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN) == 0))
		fuzz_fail("wm_relay_is_relay disagrees with the magic");
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
