/*
 * fuzz_stun.c - the STUN codec (agent/nat/stun.h) on arbitrary datagrams.
 *
 * Each input is one UDP datagram, taken through what both programs do
 * with it: the demux test wm_stun_is_stun; the relay's answer path
 * (wm_stun_parse, then for a Binding request wm_stun_build_unknown_error
 * or wm_stun_build_response to a v4 and a v6 source, as relay/server.c's
 * on_stun does); and the agent's wm_stun_parse_response, with the
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

static void answer(const struct wm_stun_msg *m, const union wm_sockaddr *src)
{
	uint8_t out[WM_STUN_ERROR_MAX > WM_STUN_RESPONSE_MAX ?
			    WM_STUN_ERROR_MAX : WM_STUN_RESPONSE_MAX];
	struct wm_stun_msg back;
	union wm_sockaddr mapped;
	size_t n;

	if (m->n_unknown) {
		n = wm_stun_build_unknown_error(out, sizeof(out), m);
		if (!n)
			fuzz_fail("no 420 built");
		if (!wm_stun_parse(&back, out, n) ||
		    back.type != WM_STUN_BINDING_ERROR ||
		    memcmp(back.txid, m->txid, WM_STUN_TXID_LEN) != 0)
			fuzz_fail("our 420 does not parse");
		return;
	}
	n = wm_stun_build_response(out, sizeof(out), m->txid, src);
	if (!n)
		fuzz_fail("no response built");
	if (!wm_stun_parse(&back, out, n) || !back.has_fingerprint ||
	    back.type != WM_STUN_BINDING_SUCCESS)
		fuzz_fail("our response does not parse");
	if (!wm_stun_parse_response(out, n, m->txid, &mapped) ||
	    !wm_sockaddr_equal(&mapped, src))
		fuzz_fail("our response does not give the source back");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t fixed_txid[WM_STUN_TXID_LEN] = "wiremeshfuzz";
	struct wm_stun_msg m;
	union wm_sockaddr mapped;
	bool parsed, resp;

	(void)wm_stun_is_stun(data, size);
	parsed = wm_stun_parse(&m, data, size);
	if (fuzz_verbose())
		fprintf(stderr, "parse: %d type 0x%04x unknown %u fp %d\n",
			parsed, parsed ? m.type : 0, parsed ? m.n_unknown : 0,
			parsed && m.has_fingerprint);
	if (parsed && !wm_stun_is_stun(data, size))
		fuzz_fail("parsed, but the demux would not call it STUN");
	if (parsed && m.type == WM_STUN_BINDING_REQUEST) {
		answer(&m, &src4);
		answer(&m, &src6);
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
