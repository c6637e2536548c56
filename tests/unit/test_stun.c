/* STUN codec: RFC 5769 vectors, golden bytes of what we emit, round
 * trips, bit flips and a table of malformed messages. */
#include "agent/nat/stun.h"
#include "agent/nat/stun_server.h"
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <bearssl.h>

/* RFC 5769 2.1-2.3 (password of all three: "VOkJxbRl1RmTxUk/WvJxBt"). */
static const char rfc_request[] =
	"000100582112a442b7e7a701bc34d686fa87dfae"
	"802200105354554e207465737420636c69656e74"
	"002400046e0001ff"
	"80290008932ff9b151263b36"
	"000600096576746a3a68367659202020"
	"000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2"
	"80280004e57a3bcf";
static const char rfc_response_v4[] =
	"0101003c2112a442b7e7a701bc34d686fa87dfae"
	"8022000b7465737420766563746f7220"
	"002000080001a147e112a643"
	"000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
	"80280004c07d4c96";
static const char rfc_response_v6[] =
	"010100482112a442b7e7a701bc34d686fa87dfae"
	"8022000b7465737420766563746f7220"
	"002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
	"00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
	"80280004c8fb0b4c";
static const char rfc_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t rfc_txid[12] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				      0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };

/* The codec does not check MESSAGE-INTEGRITY; checking it here proves the
 * vectors were copied right, so a FINGERPRINT pass is meaningful. */
static bool integrity_ok(const uint8_t *msg, size_t len)
{
	uint8_t copy[256], mac[20];
	br_hmac_key_context kc;
	br_hmac_context hc;
	size_t off = 20;

	while (off + 4 <= len) {
		unsigned type = (unsigned)msg[off] << 8 | msg[off + 1];
		unsigned vlen = (unsigned)msg[off + 2] << 8 | msg[off + 3];
		if (type == 0x0008) {
			memcpy(copy, msg, off);
			copy[2] = (uint8_t)((off + 24 - 20) >> 8);
			copy[3] = (uint8_t)(off + 24 - 20);
			br_hmac_key_init(&kc, &br_sha1_vtable, rfc_password,
					 strlen(rfc_password));
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, copy, off);
			br_hmac_out(&hc, mac);
			return memcmp(mac, msg + off + 4, 20) == 0;
		}
		off += 4 + ((vlen + 3) & ~3u);
	}
	return false;
}

static bool addr_is(const union wm_sockaddr *a, const char *text)
{
	union wm_sockaddr want;

	return wm_sockaddr_parse(&want, text) && wm_sockaddr_equal(a, &want);
}

TEST(crc32_check_value)
{
	CHECK(wm_stun_crc32("123456789", 9) == 0xcbf43926u);
	CHECK(wm_stun_crc32("", 0) == 0);
}

TEST(rfc5769_request)
{
	uint8_t m[256];
	size_t n = check_unhex(m, sizeof(m), rfc_request);
	struct wm_stun_msg msg;

	CHECK(n == 108);
	CHECK(integrity_ok(m, n));
	CHECK(wm_stun_is_stun(m, n));
	CHECK(wm_stun_parse(&msg, m, n));
	CHECK(msg.type == WM_STUN_BINDING_REQUEST);
	CHECK_MEM(msg.txid, rfc_txid, 12);
	CHECK(msg.has_fingerprint);
	CHECK(msg.has_integrity);
	CHECK(!msg.has_mapped);
	CHECK(msg.n_unknown == 0); /* USERNAME, PRIORITY are known */
}

TEST(rfc5769_response_v4)
{
	uint8_t m[256], other[12];
	size_t n = check_unhex(m, sizeof(m), rfc_response_v4);
	struct wm_stun_msg msg;
	union wm_sockaddr a;

	CHECK(integrity_ok(m, n));
	CHECK(wm_stun_parse(&msg, m, n));
	CHECK(msg.has_fingerprint && msg.has_integrity && msg.has_mapped);
	CHECK(addr_is(&msg.mapped, "192.0.2.1:32853"));
	CHECK(wm_stun_parse_response(m, n, rfc_txid, &a));
	CHECK(addr_is(&a, "192.0.2.1:32853"));
	memcpy(other, rfc_txid, 12);
	other[11] ^= 1;
	CHECK(!wm_stun_parse_response(m, n, other, &a));
}

TEST(rfc5769_response_v6)
{
	uint8_t m[256];
	size_t n = check_unhex(m, sizeof(m), rfc_response_v6);
	union wm_sockaddr a;

	CHECK(integrity_ok(m, n));
	CHECK(wm_stun_parse_response(m, n, rfc_txid, &a));
	CHECK(addr_is(&a, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
}

/* Every vector carries a FINGERPRINT over all the bytes before it, so no
 * single flipped bit may survive the parse with a fingerprint. */
TEST(rfc5769_bit_flips_rejected)
{
	const char *vectors[] = { rfc_request, rfc_response_v4, rfc_response_v6 };
	struct wm_stun_msg msg;

	for (size_t v = 0; v < 3; v++) {
		uint8_t m[256];
		size_t n = check_unhex(m, sizeof(m), vectors[v]);
		for (size_t i = 0; i < n; i++) {
			for (int bit = 0; bit < 8; bit++) {
				m[i] ^= (uint8_t)(1u << bit);
				/* A flip may turn FINGERPRINT into another
				 * attribute, or swallow it into one: then the
				 * message is just unfingerprinted. */
				if (wm_stun_parse(&msg, m, n) &&
				    msg.has_fingerprint) {
					fprintf(stderr, "vector %zu byte %zu bit %d\n",
						v, i, bit);
					CHECK(0);
				}
				m[i] ^= (uint8_t)(1u << bit);
			}
		}
		CHECK(wm_stun_parse(&msg, m, n));
	}
}

TEST(request_golden)
{
	uint8_t out[WM_STUN_REQUEST_LEN], want[WM_STUN_REQUEST_LEN];
	struct wm_stun_msg msg;

	CHECK(wm_stun_build_request(out, rfc_txid) == WM_STUN_REQUEST_LEN);
	/* The CRC cross-checked with Python's zlib.crc32. */
	check_unhex(want, sizeof(want),
		    "000100082112a442b7e7a701bc34d686fa87dfae"
		    "80280004fdf6ae02");
	CHECK_MEM(out, want, sizeof(want));
	CHECK(wm_stun_parse(&msg, out, sizeof(out)));
	CHECK(msg.type == WM_STUN_BINDING_REQUEST && msg.has_fingerprint);
	CHECK_MEM(msg.txid, rfc_txid, 12);
}

TEST(response_golden_v4)
{
	uint8_t out[WM_STUN_RESPONSE_MAX], want[64];
	union wm_sockaddr src, got;
	size_t n;

	CHECK(wm_sockaddr_parse(&src, "192.0.2.1:32853"));
	n = wm_stun_build_response(out, sizeof(out), rfc_txid, &src);
	CHECK(n == 20 + 12 + 12 + 8);
	/* The XOR-MAPPED-ADDRESS bytes are RFC 5769's own. */
	check_unhex(want, sizeof(want),
		    "010100202112a442b7e7a701bc34d686fa87dfae"
		    "002000080001a147e112a643"
		    "80220008776972656d657368"
		    "80280004");
	CHECK_MEM(out, want, n - 4);
	CHECK(wm_stun_parse_response(out, n, rfc_txid, &got));
	CHECK(wm_sockaddr_equal(&got, &src));
}

TEST(response_golden_v6)
{
	uint8_t out[WM_STUN_RESPONSE_MAX], want[64];
	union wm_sockaddr src, got;
	size_t n;

	CHECK(wm_sockaddr_parse(&src, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"));
	n = wm_stun_build_response(out, sizeof(out), rfc_txid, &src);
	CHECK(n == WM_STUN_RESPONSE_MAX);
	check_unhex(want, sizeof(want),
		    "0101002c2112a442b7e7a701bc34d686fa87dfae"
		    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9");
	CHECK_MEM(out, want, 44);
	CHECK(wm_stun_parse_response(out, n, rfc_txid, &got));
	CHECK(wm_sockaddr_equal(&got, &src));
}

TEST(response_v4_mapped_source)
{
	uint8_t out[WM_STUN_RESPONSE_MAX];
	union wm_sockaddr src, got;
	size_t n;

	CHECK(wm_sockaddr_parse(&src, "[::ffff:203.0.113.7]:4500"));
	n = wm_stun_build_response(out, sizeof(out), rfc_txid, &src);
	CHECK(n == 52);
	CHECK(wm_stun_parse_response(out, n, rfc_txid, &got));
	CHECK(addr_is(&got, "203.0.113.7:4500"));
	CHECK(wm_stun_build_response(out, 51, rfc_txid, &src) == 0);
	memset(&src, 0, sizeof(src));
	CHECK(wm_stun_build_response(out, sizeof(out), rfc_txid, &src) == 0);
}

TEST(round_trip_many)
{
	const char *addrs[] = { "0.0.0.0:1", "255.255.255.255:65535",
				"198.51.100.20:3478", "[::1]:1",
				"[fd00:ffff::abcd]:65535" };
	uint8_t txid[12];

	for (unsigned t = 0; t < 64; t++) {
		for (size_t i = 0; i < sizeof(txid); i++)
			txid[i] = (uint8_t)(t * 37 + i * 11);
		for (size_t i = 0; i < 5; i++) {
			uint8_t out[WM_STUN_RESPONSE_MAX];
			union wm_sockaddr src, got;
			size_t n;
			CHECK(wm_sockaddr_parse(&src, addrs[i]));
			n = wm_stun_build_response(out, sizeof(out), txid, &src);
			CHECK(n > 0);
			CHECK(wm_stun_parse_response(out, n, txid, &got));
			CHECK(wm_sockaddr_equal(&got, &src));
		}
	}
}

TEST(mapped_address_accepted_and_xor_preferred)
{
	uint8_t m[128];
	union wm_sockaddr a;
	size_t n;

	/* MAPPED-ADDRESS only (a RFC 3489 server), no FINGERPRINT */
	n = check_unhex(m, sizeof(m),
			"0101000c2112a442b7e7a701bc34d686fa87dfae"
			"0001000800010d96c0000201");
	CHECK(wm_stun_parse_response(m, n, rfc_txid, &a));
	CHECK(addr_is(&a, "192.0.2.1:3478"));
	/* MAPPED first, XOR after: the XOR one wins (NATs rewrite plain) */
	n = check_unhex(m, sizeof(m),
			"010100182112a442b7e7a701bc34d686fa87dfae"
			"0001000800010d960a000001"
			"002000080001a147e112a643");
	CHECK(wm_stun_parse_response(m, n, rfc_txid, &a));
	CHECK(addr_is(&a, "192.0.2.1:32853"));
	/* and XOR first, MAPPED after */
	n = check_unhex(m, sizeof(m),
			"010100182112a442b7e7a701bc34d686fa87dfae"
			"002000080001a147e112a643"
			"0001000800010d960a000001");
	CHECK(wm_stun_parse_response(m, n, rfc_txid, &a));
	CHECK(addr_is(&a, "192.0.2.1:32853"));
}

TEST(unknown_required_attribute)
{
	uint8_t m[128], out[WM_STUN_ERROR_MAX];
	struct wm_stun_msg msg, err;
	union wm_sockaddr a;
	size_t n, e;

	/* a request with 0x7fff (required, unknown) and 0x8001 (optional) */
	n = check_unhex(m, sizeof(m),
			"000100102112a442b7e7a701bc34d686fa87dfae"
			"7fff000400000000"
			"8001000400000000");
	CHECK(wm_stun_parse(&msg, m, n));
	CHECK(msg.n_unknown == 1 && msg.unknown[0] == 0x7fff);
	e = wm_stun_build_unknown_error(out, sizeof(out), &msg);
	CHECK(e > 0);
	CHECK(wm_stun_parse(&err, out, e));
	CHECK(err.type == WM_STUN_BINDING_ERROR && err.has_fingerprint);
	CHECK_MEM(err.txid, rfc_txid, 12);
	/* ERROR-CODE 420 then UNKNOWN-ATTRIBUTES listing 0x7fff */
	CHECK(out[26] == 4 && out[27] == 20);
	CHECK(memcmp(out + 28, "Unknown Attribute", 17) == 0);
	CHECK(out[48] == 0x00 && out[49] == 0x0a && out[51] == 2);
	CHECK(out[52] == 0x7f && out[53] == 0xff);
	/* a success response with an unknown required attribute is refused */
	n = check_unhex(m, sizeof(m),
			"010100142112a442b7e7a701bc34d686fa87dfae"
			"002000080001a147e112a643"
			"7ffe000400000000");
	CHECK(!wm_stun_parse_response(m, n, rfc_txid, &a));
}

/* The fuzzer's find (tests/fuzz/crashes/stun-1): with the most unknown
 * attributes listed, the answer must fit WM_STUN_ERROR_MAX exactly. */
TEST(unknown_error_with_most_attributes_fits)
{
	uint8_t m[128], *out = malloc(WM_STUN_ERROR_MAX);
	struct wm_stun_msg msg, err;
	size_t n, e;

	n = check_unhex(m, sizeof(m),
			"000100282112a442b7e7a701bc34d686fa87dfae"
			"7ff1000400000000" "7ff2000400000000"
			"7ff3000400000000" "7ff4000400000000"
			"7ff5000400000000");
	CHECK(wm_stun_parse(&msg, m, n));
	CHECK(msg.n_unknown == 5);
	/* Exactly sized on the heap, so ASan sees a byte written past it. */
	e = wm_stun_build_unknown_error(out, WM_STUN_ERROR_MAX, &msg);
	CHECK(e == WM_STUN_ERROR_MAX);
	CHECK(wm_stun_parse(&err, out, e));
	CHECK(err.type == WM_STUN_BINDING_ERROR && err.has_fingerprint);
	CHECK(wm_stun_build_unknown_error(out, WM_STUN_ERROR_MAX - 1, &msg) == 0);
	free(out);
}

TEST(ignored_after_integrity)
{
	uint8_t m[128];
	union wm_sockaddr a;
	size_t n;

	/* XOR-MAPPED-ADDRESS after MESSAGE-INTEGRITY is not trusted */
	n = check_unhex(m, sizeof(m),
			"010100242112a442b7e7a701bc34d686fa87dfae"
			"000800140000000000000000000000000000000000000000"
			"002000080001a147e112a643");
	CHECK(!wm_stun_parse_response(m, n, rfc_txid, &a));
}

struct bad_case {
	const char *name;
	const char *hex;
};

/* Each is malformed; wm_stun_parse must refuse it. */
static const struct bad_case bad[] = {
	{ "empty", "" },
	{ "short header", "000100002112a442b7e7a701bc34d686fa87df" },
	{ "top bits set", "c00100002112a442b7e7a701bc34d686fa87dfae" },
	/* (a request without the cookie is a classic one: see below) */
	{ "bad cookie", "010100002112a443b7e7a701bc34d686fa87dfae" },
	{ "length not /4", "000100022112a442b7e7a701bc34d686fa87dfae0000" },
	{ "length beyond datagram", "000100082112a442b7e7a701bc34d686fa87dfae80220000" },
	{ "length short of datagram", "000100002112a442b7e7a701bc34d686fa87dfae80220000" },
	{ "attr value past end", "000100082112a442b7e7a701bc34d686fa87dfae8022000800000000" },
	{ "attr padding past end", "000100082112a442b7e7a701bc34d686fa87dfae8022000561626364" },
	{ "xor v4 length 12", "010100102112a442b7e7a701bc34d686fa87dfae0020000c0001a147e112a64300000000" },
	{ "xor v6 length 8", "0101000c2112a442b7e7a701bc34d686fa87dfae002000080002a147e112a643" },
	{ "xor too short", "010100082112a442b7e7a701bc34d686fa87dfae0020000200010000" },
	{ "mapped v4 length 4", "010100082112a442b7e7a701bc34d686fa87dfae0001000400010d96" },
	{ "integrity 16 bytes", "010100142112a442b7e7a701bc34d686fa87dfae0008001000000000000000000000000000000000" },
	{ "fingerprint 8 bytes", "0001000c2112a442b7e7a701bc34d686fa87dfae802800080000000000000000" },
	{ "fingerprint wrong", "000100082112a442b7e7a701bc34d686fa87dfae8028000400000000" },
	{ "fingerprint not last", "000100102112a442b7e7a701bc34d686fa87dfae80280004" "0cb778e1" "8022000461626364" },
};

TEST(malformed_table)
{
	struct wm_stun_msg msg;
	union wm_sockaddr a;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t m[256];
		size_t n = check_unhex(m, sizeof(m), bad[i].hex);
		if (wm_stun_parse(&msg, m, n) ||
		    wm_stun_parse_response(m, n, rfc_txid, &a)) {
			fprintf(stderr, "accepted: %s\n", bad[i].name);
			CHECK(0);
		}
	}
}

TEST(fingerprint_not_last_is_the_only_flaw)
{
	/* The "fingerprint not last" case must fail for its position, not
	 * for a wrong CRC: the same FINGERPRINT alone parses. */
	uint8_t m[64];
	struct wm_stun_msg msg;
	size_t n = check_unhex(m, sizeof(m),
			       "000100082112a442b7e7a701bc34d686fa87dfae80280004fdf6ae02");

	CHECK(wm_stun_parse(&msg, m, n));
	CHECK(msg.has_fingerprint);
}

TEST(is_stun_demux)
{
	uint8_t wg[32] = { 1, 0, 0, 0 };
	uint8_t relay[24] = { 'W', 'M', 'R', 1 };
	uint8_t req[WM_STUN_REQUEST_LEN];

	wm_stun_build_request(req, rfc_txid);
	CHECK(wm_stun_is_stun(req, sizeof(req)));
	CHECK(!wm_stun_is_stun(req, 19));
	CHECK(!wm_stun_is_stun(wg, sizeof(wg)));
	CHECK(!wm_stun_is_stun(relay, sizeof(relay)));
}

/* An RFC 3489 request: no cookie, 16 ID bytes, CHANGE-REQUEST. */
static size_t classic_request(uint8_t *out, uint32_t change)
{
	static const uint8_t head[20] = {
		0x00, 0x01, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
		5, 6, 7, 8, 9, 10, 11, 12,
	};

	memcpy(out, head, 20);
	out[20] = 0x00; out[21] = 0x03; out[22] = 0x00; out[23] = 0x04;
	out[24] = (uint8_t)(change >> 24); out[25] = (uint8_t)(change >> 16);
	out[26] = (uint8_t)(change >> 8); out[27] = (uint8_t)change;
	return 28;
}

static const struct wm_stun_server_ports two_ports = { 3478, 3479 };

static enum wm_stun_reply serve(const uint8_t *req, size_t n, bool on_alt,
				const struct wm_stun_server_ports *ports,
				uint8_t *out, size_t *olen)
{
	union wm_sockaddr src, local;
	bool malformed;
	enum wm_stun_reply r;

	CHECK(wm_sockaddr_parse(&src, "192.0.2.1:4000"));
	CHECK(wm_sockaddr_parse(&local, "198.51.100.7:0"));
	r = wm_stun_server_answer(ports, on_alt, req, n, &src, &local, out,
				  olen, &malformed);
	CHECK(!malformed);
	return r;
}

/* RFC 5389 section 12: a classic client gets MAPPED-ADDRESS (it would
 * refuse XOR-MAPPED-ADDRESS), all 16 ID bytes back, and CHANGED-ADDRESS. */
TEST(classic_request_answered_as_classic)
{
	uint8_t req[32], out[WM_STUN_ANSWER_MAX + WM_STUN_ERROR_MAX];
	static const uint8_t want[] = {
		0x01, 0x01, 0x00, 0x24, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4,
		5, 6, 7, 8, 9, 10, 11, 12,
		0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x0f, 0xa0, 192, 0, 2, 1,
		0x00, 0x05, 0x00, 0x08, 0x00, 0x01, 0x0d, 0x97, 198, 51, 100, 7,
		0x80, 0x22, 0x00, 0x08, 'w', 'i', 'r', 'e', 'm', 'e', 's', 'h',
	};
	size_t n = classic_request(req, 0), olen;
	struct wm_stun_msg m;

	CHECK(wm_stun_is_classic_request(req, n));
	CHECK(!wm_stun_is_stun(req, n));
	CHECK(!wm_stun_is_classic_request(req, n - 4)); /* length mismatch */
	CHECK(wm_stun_parse(&m, req, n) && m.classic && m.change == 0);
	CHECK(serve(req, n, false, &two_ports, out, &olen) == WM_STUN_REPLY_SAME);
	CHECK(olen == sizeof(want));
	CHECK_MEM(out, want, sizeof(want));
}

TEST(modern_answer_names_other_port)
{
	uint8_t req[WM_STUN_REQUEST_LEN], out[WM_STUN_ANSWER_MAX + WM_STUN_ERROR_MAX];
	union wm_sockaddr other;
	struct wm_stun_msg m;
	size_t olen;

	wm_stun_build_request(req, rfc_txid);
	CHECK(!wm_stun_is_classic_request(req, sizeof(req)));
	CHECK(serve(req, sizeof(req), false, &two_ports, out, &olen) ==
	      WM_STUN_REPLY_SAME);
	CHECK(wm_stun_parse(&m, out, olen) && m.has_fingerprint && !m.classic);
	CHECK(m.has_mapped && addr_is(&m.mapped, "192.0.2.1:4000"));
	CHECK(m.has_other && addr_is(&m.other, "198.51.100.7:3479"));
	CHECK(wm_sockaddr_parse(&other, "198.51.100.7:3478"));
	/* asked on the second port, the other one is the first */
	CHECK(serve(req, sizeof(req), true, &two_ports, out, &olen) ==
	      WM_STUN_REPLY_SAME);
	CHECK(wm_stun_parse(&m, out, olen) && wm_sockaddr_equal(&m.other, &other));
	/* no second port: no OTHER-ADDRESS */
	CHECK(serve(req, sizeof(req), false, &(struct wm_stun_server_ports){ 3478, 0 },
		    out, &olen) == WM_STUN_REPLY_SAME);
	CHECK(wm_stun_parse(&m, out, olen) && !m.has_other);
}

TEST(change_request_flags)
{
	uint8_t req[32], out[WM_STUN_ANSWER_MAX + WM_STUN_ERROR_MAX];
	size_t olen;

	CHECK(serve(req, classic_request(req, WM_STUN_CHANGE_PORT), false,
		    &two_ports, out, &olen) == WM_STUN_REPLY_OTHER);
	CHECK(serve(req, classic_request(req, WM_STUN_CHANGE_PORT), false,
		    &(struct wm_stun_server_ports){ 3478, 0 }, out, &olen) ==
	      WM_STUN_REPLY_NONE);
	/* no second address to answer from */
	CHECK(serve(req, classic_request(req, WM_STUN_CHANGE_IP), false,
		    &two_ports, out, &olen) == WM_STUN_REPLY_NONE);
	CHECK(serve(req, classic_request(req, WM_STUN_CHANGE_IP | WM_STUN_CHANGE_PORT),
		    false, &two_ports, out, &olen) == WM_STUN_REPLY_NONE);
}

/* What else arrives on a relay's port never looks like a classic request. */
TEST(classic_demux_excludes_other_messages)
{
	uint8_t wg[148] = { 1, 0, 0, 0 };
	uint8_t relay[48] = { 'W', 'M', 'R', 1 };
	uint8_t resp[20] = { 0x01, 0x01, 0x00, 0x00 };

	CHECK(!wm_stun_is_classic_request(wg, sizeof(wg)));
	CHECK(!wm_stun_is_classic_request(relay, sizeof(relay)));
	CHECK(!wm_stun_is_classic_request(resp, sizeof(resp)));
}

int main(void)
{
	RUN(crc32_check_value);
	RUN(rfc5769_request);
	RUN(rfc5769_response_v4);
	RUN(rfc5769_response_v6);
	RUN(rfc5769_bit_flips_rejected);
	RUN(request_golden);
	RUN(response_golden_v4);
	RUN(response_golden_v6);
	RUN(response_v4_mapped_source);
	RUN(round_trip_many);
	RUN(mapped_address_accepted_and_xor_preferred);
	RUN(unknown_required_attribute);
	RUN(unknown_error_with_most_attributes_fits);
	RUN(ignored_after_integrity);
	RUN(malformed_table);
	RUN(fingerprint_not_last_is_the_only_flaw);
	RUN(is_stun_demux);
	RUN(classic_request_answered_as_classic);
	RUN(modern_answer_names_other_port);
	RUN(change_request_flags);
	RUN(classic_demux_excludes_other_messages);
	return check_summary();
}
