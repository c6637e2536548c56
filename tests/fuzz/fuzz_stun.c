/*
 * fuzz_stun.c - the STUN codec (agent/nat/stun.h) on arbitrary datagrams.
 *
 * Each input is one UDP datagram, taken through what both programs do
 * with it: the demux tests wm_stun_is_stun and wm_stun_is_classic_request;
 * the relay's answer path (wm_stun_server_answer, on either port, to a v4
 * and a v6 source, as relay/server.c's on_stun does); and the agent's
 * wm_stun_parse_response, with the
 * message's own transaction id (so a success response can match) and
 * with a fixed one.
 *
 * Checked besides "no crash": what we build parses again, a response we
 * built is accepted by parse_response with the mapped address we put in,
 * a 420 names the unknown attributes; a parse_response success implies a
 * parse success of type Binding success with a mapped address.
 */
#include "common.h"
#include "agent/nat/stun.h"
#include "agent/nat/stun_server.h"

#include <string.h>

static union wm_sockaddr src4, src6;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!wm_sockaddr_parse(&src4, "192.0.2.33:40000") ||
	    !wm_sockaddr_parse(&src6, "[2001:db8::33]:40001"))
		fuzz_fail("wm_sockaddr_parse");
	return 0;
}

/* A classic answer carries no cookie: read its attributes as if it had. */
static bool parse_classic_answer(struct wm_stun_msg *back, const uint8_t *out,
				 size_t n, const uint8_t *req)
{
	uint8_t copy[WM_STUN_ANSWER_MAX];

	if (n > sizeof(copy) || memcmp(out + 4, req + 4, 16) != 0)
		return false;
	memcpy(copy, out, n);
	copy[4] = 0x21, copy[5] = 0x12, copy[6] = 0xa4, copy[7] = 0x42;
	return wm_stun_parse(back, copy, n) && !back->has_fingerprint;
}

static void answer(const uint8_t *req, size_t len, const struct wm_stun_msg *m,
		   const union wm_sockaddr *src, bool on_alt)
{
	static const struct wm_stun_server_ports ports = { 3478, 3479 };
	uint8_t out[WM_STUN_ERROR_MAX + WM_STUN_ANSWER_MAX];
	union wm_sockaddr local = *src, mapped;
	struct wm_stun_msg back;
	enum wm_stun_reply reply;
	bool malformed, ok;
	size_t n;

	reply = wm_stun_server_answer(&ports, on_alt, req, len, src, &local,
				      out, &n, &malformed);
	if (malformed)
		fuzz_fail("a parsed request called malformed");
	if (reply == WM_STUN_REPLY_NONE) {
		if (!m->n_unknown && !(m->change & WM_STUN_CHANGE_IP))
			fuzz_fail("a plain request got no answer");
		return;
	}
	if (m->n_unknown) {
		ok = m->classic ? parse_classic_answer(&back, out, n, req)
				: wm_stun_parse(&back, out, n);
		if (!ok ||
		    back.type != WM_STUN_BINDING_ERROR ||
		    memcmp(back.txid, m->txid, WM_STUN_TXID_LEN) != 0)
			fuzz_fail("our 420 does not parse");
		return;
	}
	if (reply == WM_STUN_REPLY_OTHER && !(m->change & WM_STUN_CHANGE_PORT))
		fuzz_fail("answered from the other port unasked");
	ok = m->classic ? parse_classic_answer(&back, out, n, req)
			: wm_stun_parse(&back, out, n) && back.has_fingerprint;
	if (!ok || back.type != WM_STUN_BINDING_SUCCESS || !back.has_other)
		fuzz_fail("our response does not parse");
	if (!back.has_mapped || !wm_sockaddr_equal(&back.mapped, src))
		fuzz_fail("our response does not give the source back");
	if (!m->classic && (!wm_stun_parse_response(out, n, m->txid, &mapped) ||
			    !wm_sockaddr_equal(&mapped, src)))
		fuzz_fail("the client would not take our response");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed_txid[WM_STUN_TXID_LEN] = "wiremeshfuzz";
	struct wm_stun_msg m;
	union wm_sockaddr mapped;
	bool parsed, resp;

	parsed = wm_stun_parse(&m, data, size);
	if (fuzz_verbose())
		fprintf(stderr, "parse: %d type 0x%04x unknown %u fp %d\n",
			parsed, parsed ? m.type : 0, parsed ? m.n_unknown : 0,
			parsed && m.has_fingerprint);
	if (parsed && !wm_stun_is_stun(data, size) &&
	    !wm_stun_is_classic_request(data, size))
		fuzz_fail("parsed, but the demux would not call it STUN");
	if (parsed && m.classic != wm_stun_is_classic_request(data, size))
		fuzz_fail("classic, but not by the demux");
	if (parsed && m.type == WM_STUN_BINDING_REQUEST) {
		answer(data, size, &m, &src4, false);
		answer(data, size, &m, &src6, true);
	}
	if (size >= WM_STUN_HEADER_LEN) {
		resp = wm_stun_parse_response(data, size, data + 8, &mapped);
		if (resp && (!parsed || m.type != WM_STUN_BINDING_SUCCESS ||
			     !m.has_mapped))
			fuzz_fail("parse_response accepted what parse did not");
	}
	(void)wm_stun_parse_response(data, size, fixed_txid, &mapped);
	return 0;
}
