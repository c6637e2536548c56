/*
 * Relay frames (agent/relay/proto.h): build/parse round trips for every
 * type, a body already in place, the zero key, and refusal of unknown
 * types, short frames and bodies over WM_RELAY_MAX_BODY; then the MTU
 * budget the header's _Static_assert promises, re-derived here with each
 * number spelled out.
 */
#include "check.h"
#include "agent/nat/disco.h"
#include "agent/relay/proto.h"

static uint8_t key[WM_KEY_SIZE];
static uint8_t frame[WM_RELAY_FRAME_HDR + WM_RELAY_MAX_BODY + 64];
static uint8_t body[WM_RELAY_MAX_BODY + 64];

static void fill(void)
{
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 31 + 7);
}

static const enum wm_relay_frame_type all_types[] = {
	WM_RELAY_SEND, WM_RELAY_RECV, WM_RELAY_GONE, WM_RELAY_PING,
	WM_RELAY_PONG,
};

TEST(wire_values)
{
	/* The numbers are the wire format: they must never move. */
	CHECK(WM_RELAY_SEND == 1 && WM_RELAY_RECV == 2 && WM_RELAY_GONE == 3 &&
	      WM_RELAY_PING == 4 && WM_RELAY_PONG == 5);
	CHECK(WM_RELAY_FRAME_HDR == 33);
	CHECK(WM_RELAY_MAGIC_LEN == 4 && memcmp(WM_RELAY_MAGIC, "WMR\x01", 4) == 0);
	CHECK(WM_RELAY_MAX_BODY == 9216);
}

TEST(golden_frame)
{
	uint8_t want[WM_RELAY_FRAME_HDR + 8], out[sizeof(want)];
	static const uint8_t nonce[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	fill();
	check_unhex(want, sizeof(want),
		    "01"
		    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		    "0102030405060708");
	CHECK(wm_relay_frame_build(out, WM_RELAY_SEND, key, nonce, 8) ==
	      sizeof(want));
	CHECK_MEM(out, want, sizeof(want));
	/* PING carries the zero key (NULL builds it) and the nonce. */
	memset(want + 1, 0, WM_KEY_SIZE);
	want[0] = WM_RELAY_PING;
	CHECK(wm_relay_frame_build(out, WM_RELAY_PING, NULL, nonce, 8) ==
	      sizeof(want));
	CHECK_MEM(out, want, sizeof(want));
}

TEST(round_trips)
{
	static const size_t lens[] = { 0, 1, 8, 32, 148, 1376,
				       WM_RELAY_MAX_BODY - 1, WM_RELAY_MAX_BODY };
	struct wm_relay_frame f;

	fill();
	for (size_t t = 0; t < sizeof(all_types) / sizeof(all_types[0]); t++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			size_t n = wm_relay_frame_build(frame, all_types[t], key,
							body, lens[l]);

			CHECK(n == WM_RELAY_FRAME_HDR + lens[l]);
			memset(&f, 0xee, sizeof(f));
			CHECK(wm_relay_frame_parse(&f, frame, n));
			CHECK(f.type == all_types[t]);
			CHECK_MEM(f.key, key, WM_KEY_SIZE);
			CHECK(f.body == frame + WM_RELAY_FRAME_HDR);
			CHECK(f.body_len == lens[l]);
			CHECK(memcmp(f.body, body, lens[l]) == 0);
		}
	}
	/* NULL key: all zero. */
	memset(frame, 0xff, sizeof(frame));
	CHECK(wm_relay_frame_build(frame, WM_RELAY_PONG, NULL, body, 8) ==
	      WM_RELAY_FRAME_HDR + 8);
	CHECK(wm_relay_frame_parse(&f, frame, WM_RELAY_FRAME_HDR + 8));
	for (int i = 0; i < WM_KEY_SIZE; i++)
		CHECK(f.key[i] == 0);
	CHECK(memcmp(f.body, body, 8) == 0);
}

/* The body may already sit behind the header (the zero-copy path). */
TEST(body_in_place)
{
	struct wm_relay_frame f;
	uint8_t *in_place = frame + WM_RELAY_FRAME_HDR;
	size_t n;

	fill();
	memset(frame, 0, sizeof(frame));
	memcpy(in_place, body, 1500);
	n = wm_relay_frame_build(frame, WM_RELAY_RECV, key, in_place, 1500);
	CHECK(n == WM_RELAY_FRAME_HDR + 1500);
	CHECK(wm_relay_frame_parse(&f, frame, n));
	CHECK(f.type == WM_RELAY_RECV);
	CHECK_MEM(f.key, key, WM_KEY_SIZE);
	CHECK(f.body_len == 1500);
	CHECK_MEM(f.body, body, 1500);

	/* Overlapping but not in place (body a few bytes into the frame's
	 * header area): still right, memmove semantics. */
	memcpy(frame + 5, body, 600);
	n = wm_relay_frame_build(frame, WM_RELAY_SEND, key, frame + 5, 600);
	CHECK(wm_relay_frame_parse(&f, frame, n));
	CHECK(f.body_len == 600);
	CHECK_MEM(f.body, body, 600);

	/* A body of zero bytes with no pointer at all. */
	CHECK(wm_relay_frame_build(frame, WM_RELAY_GONE, key, NULL, 0) ==
	      WM_RELAY_FRAME_HDR);
	CHECK(wm_relay_frame_parse(&f, frame, WM_RELAY_FRAME_HDR));
	CHECK(f.type == WM_RELAY_GONE && f.body_len == 0);
}

TEST(unknown_type_refused)
{
	struct wm_relay_frame f;

	fill();
	wm_relay_frame_build(frame, WM_RELAY_SEND, key, body, 16);
	for (int t = 0; t < 256; t++) {
		bool known = t >= WM_RELAY_SEND && t <= WM_RELAY_PONG;

		frame[0] = (uint8_t)t;
		CHECK(wm_relay_frame_parse(&f, frame, WM_RELAY_FRAME_HDR + 16) ==
		      known);
	}
}

TEST(short_refused)
{
	struct wm_relay_frame f;

	fill();
	wm_relay_frame_build(frame, WM_RELAY_SEND, key, NULL, 0);
	for (size_t len = 0; len < WM_RELAY_FRAME_HDR; len++)
		CHECK(!wm_relay_frame_parse(&f, frame, len));
	CHECK(wm_relay_frame_parse(&f, frame, WM_RELAY_FRAME_HDR));
}

TEST(oversized_refused)
{
	struct wm_relay_frame f;

	fill();
	wm_relay_frame_build(frame, WM_RELAY_SEND, key, body,
			     WM_RELAY_MAX_BODY + 1);
	CHECK(wm_relay_frame_parse(&f, frame,
				   WM_RELAY_FRAME_HDR + WM_RELAY_MAX_BODY));
	CHECK(!wm_relay_frame_parse(&f, frame,
				    WM_RELAY_FRAME_HDR + WM_RELAY_MAX_BODY + 1));
	CHECK(!wm_relay_frame_parse(&f, frame, sizeof(frame)));
	CHECK(!wm_relay_frame_parse(&f, frame, SIZE_MAX));
}

TEST(magic)
{
	static const uint8_t good[] = { 'W', 'M', 'R', 1, 4 };
	uint8_t bad[5];

	CHECK(wm_relay_is_relay(good, 4));
	CHECK(wm_relay_is_relay(good, 5));
	for (size_t len = 0; len < 4; len++)
		CHECK(!wm_relay_is_relay(good, len));
	for (int i = 0; i < 4; i++) {
		memcpy(bad, good, sizeof(bad));
		bad[i] ^= 1;
		CHECK(!wm_relay_is_relay(bad, sizeof(bad)));
	}
}

/*
 * The MTU budget of relay/proto.h, number by number: a full-size inner
 * packet on the relay path over IPv6 is
 *
 *   IPv6 40 + UDP 8                                          = 48
 *   relay magic 4 + relay data header 16                     = 20
 *   frame type 1 + destination key 32                        = 33
 *   inner WireGuard data header 16 + inner tag 16            = 32
 *   the inner packet (MTU bytes; padding stops at the MTU)
 *   relay tag 16                                             = 16
 *
 * and must fit 1500.
 */
TEST(mtu_budget)
{
	const unsigned ipv6 = 40, udp = 8, magic = 4, data_hdr = 16, tag = 16;
	const unsigned frame_hdr = 1 + 32, inner_wg = 16 + 16;
	const unsigned overhead = magic + data_hdr + frame_hdr + tag;

	CHECK(WM_RELAY_OVERHEAD == 69);
	CHECK(WM_RELAY_OVERHEAD == overhead);
	CHECK(WM_DATA_OVERHEAD == inner_wg);
	CHECK(WM_RELAY_PATH_MTU == 1344);
	CHECK(WM_RELAY_PATH_MTU % 16 == 0);
	/* The header's assertion: 1344 + 32 + 69 + 48 = 1493 <= 1500. */
	CHECK(WM_RELAY_PATH_MTU + 32 + WM_RELAY_OVERHEAD + 48 == 1493);
	CHECK(WM_RELAY_PATH_MTU + inner_wg + overhead + ipv6 + udp <= 1500);
	/* And it is the largest multiple of 16 that fits. */
	CHECK(WM_RELAY_PATH_MTU + 16 + inner_wg + overhead + ipv6 + udp > 1500);
	/* The inner packet is padded to 16 but never past the MTU, so a
	 * full-size packet adds no padding: MTU 1344 is already aligned. */
	CHECK(((WM_RELAY_PATH_MTU + 15) & ~15u) == WM_RELAY_PATH_MTU);
	/* Every relayed body fits a frame: the largest disco message and a
	 * WireGuard data message of a 9000-byte inner MTU. */
	CHECK((int)WM_DISCO_MAX <= (int)WM_RELAY_MAX_BODY);
	CHECK(9000 + inner_wg <= WM_RELAY_MAX_BODY);
}

int main(void)
{
	RUN(wire_values);
	RUN(golden_frame);
	RUN(round_trips);
	RUN(body_in_place);
	RUN(unknown_type_refused);
	RUN(short_refused);
	RUN(oversized_refused);
	RUN(magic);
	RUN(mtu_budget);
	return check_summary();
}
