/*
 * The relay's forwarding frame (agent/relay/fwd.h): the bytes of a SEND
 * and of a RECV whose tag covers a WireGuard body's tail, against tags
 * computed independently (Python's `cryptography`, ChaCha20Poly1305 with
 * an empty plaintext and the documented associated data); round trips;
 * every flipped byte refused where the tag covers it (and never moving
 * the replay window), a flipped byte inside a WireGuard body passed on
 * for that body's own tag to refuse; replays; the tail flag only from
 * the relay and only on a WireGuard data body; one counter space with
 * the sealed frames, which do not open a forwarding frame.
 */
#include "check.h"
#include "agent/relay/fwd.h"
#include "agent/wg/transport.h"

#define NS 1000000000ULL

static const char SEND_HEX[] =
	"574d52020400000044332211070000000000000001"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"0102030405060708"
	"a0c083a170ddc65666cebadadecb7106";
static const char RECV_HEX[] =
	"574d52020401000088776655090000000000000002"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"04000000030a11181f262d343b424950575e656c737a81888f969da4abb2b9c0"
	"c7ced5dce3eaf1f8ff060d141b222930"
	"2e34e2aaffb5e596ce5cda9ecd21bce2";

static uint8_t key[WM_KEY_SIZE];
static uint8_t dgram[WM_RELAY_FWD_MAX + 64], copy[WM_RELAY_FWD_MAX + 64];

/* A sender's and a receiver's view of one session: tx's send key is
 * rx's receive key. */
static void pair(struct wm_session *tx, struct wm_session *rx,
		 uint32_t rx_index)
{
	struct wm_keypair kp;

	memset(&kp, 0, sizeof(kp));
	for (size_t i = 0; i < WM_KEY_SIZE; i++) {
		kp.send_key[i] = (uint8_t)(0x40 + i);
		kp.recv_key[i] = (uint8_t)(0x90 + i);
	}
	kp.remote_index = rx_index;
	kp.birth_ns = 1 * NS;
	wm_session_start(tx, &kp);
	memcpy(kp.recv_key, kp.send_key, WM_KEY_SIZE);
	kp.local_index = rx_index;
	wm_session_start(rx, &kp);
	for (size_t i = 0; i < WM_KEY_SIZE; i++)
		key[i] = (uint8_t)(0xa0 + i);
}

TEST(send_golden)
{
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	uint8_t want[sizeof(SEND_HEX) / 2];
	size_t n;

	pair(&tx, &rx, 0x11223344);
	tx.send_counter = 7;
	check_unhex(want, sizeof(want), SEND_HEX);
	for (int i = 0; i < 8; i++)
		dgram[WM_RELAY_FWD_BODY + i] = (uint8_t)(i + 1);
	n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key, 8, 2 * NS);
	CHECK(n == sizeof(want) && n == WM_RELAY_OVERHEAD + 8);
	CHECK_MEM(dgram, want, sizeof(want));
	CHECK(tx.send_counter == 8);
	CHECK(wm_relay_fwd_open(&rx, want, sizeof(want), WM_RELAY_SEND, 2 * NS,
				&f) == WM_RX_OK);
	CHECK(f.type == WM_RELAY_SEND && f.body_len == 8);
	CHECK_MEM(f.key, key, WM_KEY_SIZE);
	CHECK(f.body == want + WM_RELAY_FWD_BODY);
	/* Once only. */
	CHECK(wm_relay_fwd_open(&rx, want, sizeof(want), WM_RELAY_SEND, 2 * NS,
				&f) == WM_RX_REPLAY);
	/* A SEND is not a RECV. */
	CHECK(wm_relay_fwd_open(&rx, want, sizeof(want), WM_RELAY_RECV, 2 * NS,
				&f) == WM_RX_TOO_SHORT);
}

TEST(recv_golden_tail)
{
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	uint8_t want[sizeof(RECV_HEX) / 2];
	size_t n, blen = sizeof(want) - WM_RELAY_OVERHEAD;

	pair(&tx, &rx, 0x55667788);
	tx.send_counter = 9;
	check_unhex(want, sizeof(want), RECV_HEX);
	memcpy(dgram + WM_RELAY_FWD_BODY, want + WM_RELAY_FWD_BODY, blen);
	n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_RECV, key, blen, 2 * NS);
	CHECK(n == sizeof(want));
	CHECK_MEM(dgram, want, sizeof(want));
	CHECK(dgram[5] == WM_RELAY_FWD_FLAG_TAIL);
	/* A byte inside the WireGuard body is for its own tag to refuse;
	 * its tag, its length and every header byte are ours. */
	memcpy(copy, want, n);
	copy[WM_RELAY_FWD_BODY + 20] ^= 1;
	CHECK(wm_relay_fwd_open(&rx, copy, n, WM_RELAY_RECV, 2 * NS, &f) ==
	      WM_RX_OK);
	CHECK(f.body_len == blen && f.body == copy + WM_RELAY_FWD_BODY);
	CHECK_MEM(f.key, key, WM_KEY_SIZE);
	for (size_t i = 0; i < n; i++) {
		if (i >= WM_RELAY_FWD_BODY + 4 && i < n - 32)
			continue;
		memcpy(copy, want, n);
		copy[i] ^= 0x80;
		CHECK(wm_relay_fwd_open(&rx, copy, n, WM_RELAY_RECV, 2 * NS,
					&f) != WM_RX_OK);
	}
	/* Cut short by 16 (the WireGuard tag moves): refused. */
	memcpy(copy, want, n);
	CHECK(wm_relay_fwd_open(&rx, copy, n - 16, WM_RELAY_RECV, 2 * NS, &f) !=
	      WM_RX_OK);
}

/* Every byte of a SEND is covered; a forgery never moves the window. */
TEST(send_every_byte_covered)
{
	static const size_t lens[] = { 0, 1, 32, 148, 1376, WM_RELAY_MAX_BODY };
	struct wm_session tx, rx;
	struct wm_relay_frame f;

	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t n;

		pair(&tx, &rx, 42);
		for (size_t i = 0; i < lens[l]; i++)
			dgram[WM_RELAY_FWD_BODY + i] = (uint8_t)(i * 13);
		if (lens[l] >= 32)
			dgram[WM_RELAY_FWD_BODY] = WM_MSG_DATA,
			memset(dgram + WM_RELAY_FWD_BODY + 1, 0, 3);
		n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key, lens[l],
				      2 * NS);
		CHECK(n == WM_RELAY_OVERHEAD + lens[l]);
		CHECK(dgram[5] == 0); /* no tail flag on a SEND */
		for (size_t i = 0; i < n; i += (n > 200 ? 97 : 1)) {
			memcpy(copy, dgram, n);
			copy[i] ^= 0x01;
			CHECK(wm_relay_fwd_open(&rx, copy, n, WM_RELAY_SEND,
						2 * NS, &f) != WM_RX_OK);
		}
		CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_SEND, 2 * NS,
					&f) == WM_RX_OK);
		CHECK(f.body_len == lens[l]);
	}
	/* Too long a body is neither built nor taken. */
	CHECK(wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key,
				WM_RELAY_MAX_BODY + 1, 2 * NS) == 0);
	CHECK(wm_relay_fwd_open(&rx, dgram, WM_RELAY_FWD_MAX + 1, WM_RELAY_SEND,
				2 * NS, &f) == WM_RX_TOO_SHORT);
	CHECK(wm_relay_fwd_open(&rx, dgram, WM_RELAY_FWD_MIN - 1, WM_RELAY_SEND,
				2 * NS, &f) == WM_RX_TOO_SHORT);
}

/* The tail flag is refused on a SEND and on a body that is no
 * WireGuard data message (a handshake's last bytes are no tag). */
TEST(tail_flag_only_where_it_holds)
{
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	size_t n;

	pair(&tx, &rx, 42);
	memset(dgram + WM_RELAY_FWD_BODY, 0, 148);
	dgram[WM_RELAY_FWD_BODY] = WM_MSG_INITIATION;
	n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_RECV, key, 148, 2 * NS);
	CHECK(dgram[5] == 0);
	memcpy(copy, dgram, n);
	copy[WM_RELAY_FWD_BODY + 60] ^= 1; /* covered: not a data body */
	CHECK(wm_relay_fwd_open(&rx, copy, n, WM_RELAY_RECV, 2 * NS, &f) ==
	      WM_RX_BAD_AUTH);
	copy[WM_RELAY_FWD_BODY + 60] ^= 1;
	copy[5] = WM_RELAY_FWD_FLAG_TAIL;
	CHECK(wm_relay_fwd_open(&rx, copy, n, WM_RELAY_RECV, 2 * NS, &f) ==
	      WM_RX_TOO_SHORT);
	CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_RECV, 2 * NS, &f) ==
	      WM_RX_OK);
	/* A SEND claiming the flag. */
	dgram[WM_RELAY_FWD_BODY] = WM_MSG_DATA;
	n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key, 148, 2 * NS);
	dgram[5] = WM_RELAY_FWD_FLAG_TAIL;
	CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_SEND, 2 * NS, &f) ==
	      WM_RX_TOO_SHORT);
	dgram[5] = 0x02; /* unknown flags */
	CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_SEND, 2 * NS, &f) ==
	      WM_RX_TOO_SHORT);
}

/* Sealed frames and forwarding frames share the counter and the window
 * of one session, and neither opens as the other. */
TEST(one_counter_space_with_sealed_frames)
{
	struct wm_session tx, rx;
	struct wm_relay_frame f;
	uint8_t *plain;
	size_t n, m, plen;

	pair(&tx, &rx, 42);
	memset(dgram, 0x5a, 200);
	m = wm_session_seal(&tx, copy + 4, dgram, 40, 40, 2 * NS);
	CHECK(m && tx.send_counter == 1);
	n = wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key, 40, 2 * NS);
	CHECK(n && tx.send_counter == 2);
	CHECK(dgram[12] == 1); /* the counter on the wire */
	/* The forwarding frame read as a sealed message: refused (the
	 * failed open wipes what it read, so on a copy). */
	memcpy(copy + 256, dgram, n);
	CHECK(wm_session_open(&rx, copy + 256 + 4, n - 4, 2 * NS, &plain,
			      &plen) == WM_RX_BAD_AUTH);
	CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_SEND, 2 * NS, &f) ==
	      WM_RX_OK);
	CHECK(wm_session_open(&rx, copy + 4, m, 2 * NS, &plain, &plen) ==
	      WM_RX_OK);
	/* An expired session seals nothing and opens nothing. */
	CHECK(wm_relay_fwd_seal(&tx, dgram, WM_RELAY_SEND, key, 40,
				(1 + WM_REJECT_AFTER_TIME) * NS + NS) == 0);
	CHECK(wm_relay_fwd_open(&rx, dgram, n, WM_RELAY_SEND,
				(1 + WM_REJECT_AFTER_TIME) * NS + NS,
				&f) == WM_RX_EXPIRED);
}

TEST(magic)
{
	CHECK(memcmp(WM_RELAY_MAGIC_V2, "WMR\x02", 4) == 0);
	CHECK(wm_relay_is_fwd((const uint8_t *)"WMR\x02", 4));
	CHECK(!wm_relay_is_fwd((const uint8_t *)"WMR\x01", 4));
	CHECK(!wm_relay_is_fwd((const uint8_t *)"WMR", 3));
	CHECK(wm_relay_is_relay((const uint8_t *)"WMR\x02", 4));
	CHECK(wm_relay_is_relay((const uint8_t *)"WMR\x01", 4));
	CHECK(!wm_relay_is_relay((const uint8_t *)"WMR\x03", 4));
	CHECK(!wm_relay_is_sealed((const uint8_t *)"WMR\x02", 4));
	CHECK(WM_RELAY_FWD_BODY == 53 && WM_RELAY_OFFER_FWD == 0x02 &&
	      WM_RELAY_ACCEPT_FWD == 0x82);
}

int main(void)
{
	RUN(send_golden);
	RUN(recv_golden_tail);
	RUN(send_every_byte_covered);
	RUN(tail_flag_only_where_it_holds);
	RUN(one_counter_space_with_sealed_frames);
	RUN(magic);
	return check_summary();
}
