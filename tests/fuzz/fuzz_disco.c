/*
 * fuzz_disco.c - disco messages (agent/nat/disco.h) through wm_disco_open, as
 * discovery.c calls it on every datagram with the disco magic.
 *
 * The AEAD would stop nearly every mutated input before the parser, so
 * the first byte of an input chooses how the rest is used:
 *
 *   bit 0 clear  raw: the rest is the datagram, opened with the pair key
 *   bit 0 set    sealed: byte 1 is a clock skew (signed, seconds), bytes
 *                2..25 the nonce, the rest the plaintext payload; the
 *                harness seals it exactly as wm_disco_seal does ("WMD" 1 |
 *                sender | nonce | XChaCha20-Poly1305 with the 36-byte
 *                header as AD), so every payload reaches unmarshal
 *   bit 1 set    (sealed only) the payload's clock field is overwritten
 *                with NOW - skew, so fresh and stale both get exercised
 *
 * The receiver's clock is the fixed NOW. Checked besides "no crash": an
 * accepted message is within the format's limits, and sealing it again
 * with wm_disco_seal gives a datagram of the same length that opens to
 * the same message.
 */
#include "common.h"
#include "agent/nat/disco.h"
#include "crypto/xchacha.h"

#include <string.h>

#define NOW 1700000000LL
#define KEY_HEX "8f1e7a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define SENDER_HEX "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a"

static uint8_t key[32], sender[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_key(key, KEY_HEX);
	fuzz_key(sender, SENDER_HEX);
	return 0;
}

static bool same_msg(const struct wm_disco_msg *a, const struct wm_disco_msg *b)
{
	if (a->type != b->type || a->sent_at != b->sent_at)
		return false;
	switch (a->type) {
	case WM_DISCO_PING:
		return memcmp(a->txid, b->txid, WM_DISCO_TXID) == 0;
	case WM_DISCO_PONG:
		return memcmp(a->txid, b->txid, WM_DISCO_TXID) == 0 &&
		       wm_sockaddr_equal(&a->observed, &b->observed);
	case WM_DISCO_CALL_ME_MAYBE:
		if (a->n_candidates != b->n_candidates)
			return false;
		for (size_t i = 0; i < a->n_candidates; i++)
			if (!wm_sockaddr_equal(&a->candidates[i], &b->candidates[i]))
				return false;
		return true;
	case WM_DISCO_BIRTHDAY:
		return wm_sockaddr_equal(&a->target, &b->target);
	case WM_DISCO_MAPPING:
		return a->mapping == b->mapping;
	}
	return false;
}

static void check_accepted(const struct wm_disco_msg *m, size_t len,
			   const uint8_t nonce[24])
{
	uint8_t out[WM_DISCO_MAX];
	struct wm_disco_msg back;
	size_t n;

	if (m->type < WM_DISCO_PING || m->type > WM_DISCO_MAPPING ||
	    m->n_candidates > WM_DISCO_MAX_CANDIDATES ||
	    m->sent_at - NOW > WM_DISCO_MAX_SKEW_S ||
	    NOW - m->sent_at > WM_DISCO_MAX_SKEW_S)
		fuzz_fail("accepted message out of bounds");
	n = wm_disco_seal(out, m, sender, key, nonce);
	if (n != len)
		fuzz_fail("re-sealed length %zu, received %zu", n, len);
	if (wm_disco_open(&back, out, n, key, NOW) != WM_DISCO_OK ||
	    !same_msg(m, &back))
		fuzz_fail("seal(open(x)) does not open to the same message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[WM_DISCO_MAX + 64], plain[WM_DISCO_MAX + 64];
	const uint8_t *nonce, *dgram = buf;
	struct wm_disco_msg m;
	enum wm_disco_result r;
	size_t len, plen;

	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		dgram = data + 1;
		len = size - 1;
		nonce = len >= WM_DISCO_HDR ? dgram + WM_DISCO_MAGIC_LEN + 32 : NULL;
	} else {
		if (size < 26)
			return 0;
		nonce = data + 2;
		plen = size - 26;
		if (WM_DISCO_HDR + plen + 16 > sizeof(buf))
			return 0;
		memcpy(plain, data + 26, plen);
		if ((data[0] & 2) && plen >= 9) {
			uint64_t t = (uint64_t)(NOW - (int8_t)data[1]);
			for (int i = 0; i < 8; i++)
				plain[1 + i] = (uint8_t)(t >> (56 - 8 * i));
		}
		memcpy(buf, WM_DISCO_MAGIC, WM_DISCO_MAGIC_LEN);
		memcpy(buf + WM_DISCO_MAGIC_LEN, sender, 32);
		memcpy(buf + WM_DISCO_MAGIC_LEN + 32, nonce, 24);
		wm_xaead_seal(buf + WM_DISCO_HDR, plain, plen, buf, WM_DISCO_HDR,
			      nonce, key);
		len = WM_DISCO_HDR + plen + 16;
	}
	if (wm_disco_is_disco(dgram, len) && len >= WM_DISCO_HDR)
		(void)wm_disco_sender(dgram);
	r = wm_disco_open(&m, dgram, len, key, NOW);
	if (fuzz_verbose())
		fprintf(stderr, "open: %d (type %d, sent_at %lld)\n", r,
			r == WM_DISCO_OK ? (int)m.type : 0,
			r == WM_DISCO_OK ? (long long)m.sent_at : 0LL);
	if (r == WM_DISCO_OK) {
		/* A sender's own key in the header is what the agent
		 * checks against; re-seal with the header's key. */
		memcpy(sender, dgram + WM_DISCO_MAGIC_LEN, 32);
		check_accepted(&m, len, nonce);
		fuzz_key(sender, SENDER_HEX);
	}
	return 0;
}
