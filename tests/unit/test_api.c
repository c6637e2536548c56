/*
 * The REST API's pure parts: peer keys in URLs, the router, peer JSON
 * both ways, request-body checks (400/413/415/422), the error document,
 * Prometheus text and its escaping, SSE records, SaveConfig's file text,
 * the CLI's helpers — and api/openapi.yaml checked against the route
 * table, in both directions, so the document stays true.
 */
#include "api/cli.h"
#include "api/events.h"
#include "api/browser.h"
#include "api/json.h"
#include "api/json_wipe.h"
#include "api/metrics.h"
#include "api/peer_json.h"
#include "api/routes.h"
#include "api/saveconfig.h"
#include "api/server.h"
#include "agent/device.h"
#include "agent/peer_path.h"
#include "crypto/encoding.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* `wiremesh genkey | wiremesh pubkey` pairs. */
#define PRIV_A "+HieJxnAEhnJKDIPOe0IvafovBaTnmH+iKkOogNaClw="
#define PUB_A "Z7M7w5IWLZeBtbL8cs5FScFtqO+B2gfLk5amBZ5zWEY="
#define PUB_B "Tjn6uQG5fXirSt7+QjHC8AmpKehx2KmL5yEzo52/vHE="
#define PUB_C "H/ip3QrSsM4MEjY/R9fjQmAOGkSlb959PnYBr2tqlmY="
#define PSK "0fNUtQaxx3DmFDeRqMEi62I7o31qir+YduzSJOqo+iE="
/* PUB_B in the URL alphabet, without padding. */
#define PUB_B_URL "Tjn6uQG5fXirSt7-QjHC8AmpKehx2KmL5yEzo52_vHE"

static const uint8_t *key(const char *b64)
{
	static uint8_t k[4][32];
	static int n;
	uint8_t *out = k[n++ % 4];

	if (!wm_key_from_base64(out, b64))
		abort();
	return out;
}

static bool url_key_is(const char *seg, const char *want)
{
	uint8_t k[32];

	return wm_peer_json_url_key(k, seg, strlen(seg)) &&
	       memcmp(k, key(want), 32) == 0;
}

static bool url_key_bad(const char *seg)
{
	uint8_t k[32];

	return !wm_peer_json_url_key(k, seg, strlen(seg));
}

TEST(url_keys)
{
	CHECK(url_key_is(PUB_B_URL, PUB_B));
	CHECK(url_key_is(PUB_B_URL "=", PUB_B));
	CHECK(url_key_is(PUB_B_URL "%3D", PUB_B));
	CHECK(url_key_is("Tjn6uQG5fXirSt7%2BQjHC8AmpKehx2KmL5yEzo52%2FvHE%3D", PUB_B));
	CHECK(url_key_is("Tjn6uQG5fXirSt7%2bQjHC8AmpKehx2KmL5yEzo52%2fvHE%3d", PUB_B));
	CHECK(url_key_is("Tjn6uQG5fXirSt7+QjHC8AmpKehx2KmL5yEzo52%2FvHE", PUB_B));
	CHECK(url_key_is("H%2Fip3QrSsM4MEjY%2FR9fjQmAOGkSlb959PnYBr2tqlmY%3D", PUB_C));
	CHECK(url_key_bad(""));
	CHECK(url_key_bad("abc"));
	CHECK(url_key_bad(PUB_B_URL "=="));
	CHECK(url_key_bad(PUB_B_URL "x"));
	CHECK(url_key_bad("Tjn6uQG5fXirSt7%2"));
	CHECK(url_key_bad("Tjn6uQG5fXirSt7%ZZQjHC8AmpKehx2KmL5yEzo52_vHE"));
	CHECK(url_key_bad("Tjn6uQG5fXirSt7%00QjHC8AmpKehx2KmL5yEzo52_vHE"));
	/* 258 bits: the last symbol must leave the spare bits zero. */
	CHECK(url_key_bad("Tjn6uQG5fXirSt7-QjHC8AmpKehx2KmL5yEzo52_vHF"));
}

static const struct wm_api_route *route(const char *m, const char *path,
					unsigned *st, char *allow)
{
	uint8_t k[32];

	return wm_api_route_match(m, path, k, st, allow, 64);
}

TEST(router)
{
	const struct wm_api_route *r;
	char allow[64];
	uint8_t k[32];
	unsigned st;

	r = route("GET", "/v1/status", &st, allow);
	CHECK(r && strcmp(r->pattern, "/v1/status") == 0 && st == 0);
	r = route("HEAD", "/v1/peers", &st, allow);
	CHECK(r && strcmp(r->method, "GET") == 0);
	r = route("GET", "/v1/peers/", &st, allow);
	CHECK(r && strcmp(r->pattern, "/v1/peers") == 0);
	r = route("POST", "/v1/peers", &st, allow);
	CHECK(!r && st == 405 && strcmp(allow, "GET, PUT") == 0);
	r = route("GET", "/v1/peers/" PUB_B_URL "/path", &st, allow);
	CHECK(!r && st == 405 && strcmp(allow, "PUT") == 0);
	r = route("PATCH", "/v1/peers/" PUB_B_URL, &st, allow);
	CHECK(!r && st == 405 && strcmp(allow, "GET, PUT, DELETE") == 0);
	CHECK(!route("GET", "/nope", &st, allow) && st == 404);
	CHECK(!route("GET", "/v1", &st, allow) && st == 404);
	CHECK(!route("GET", "/v1/peers/a/b/c", &st, allow) && st == 404);
	CHECK(!route("GET", "/v1/statusx", &st, allow) && st == 404);
	CHECK(!route("GET", "/v1/peers//path", &st, allow) && st == 404);
	CHECK(!route("GET", "/v1/peers/notakey", &st, allow) && st == 400);
	/* The page is public; the event stream takes a cookie; nothing else. */
	r = route("GET", "/", &st, allow);
	CHECK(r && wm_api_route_public(r) && !wm_api_route_cookie(r));
	r = route("GET", "/v1/events", &st, allow);
	CHECK(r && !wm_api_route_public(r) && wm_api_route_cookie(r));
	for (size_t i = 0; i < wm_api_n_routes; i++) {
		const struct wm_api_route *x = &wm_api_routes[i];
		CHECK(!wm_api_route_public(x) ||
		      (strcmp(x->pattern, "/") == 0 && strcmp(x->method, "GET") == 0));
		CHECK(!wm_api_route_cookie(x) ||
		      (strcmp(x->pattern, "/v1/events") == 0 &&
		       strcmp(x->method, "GET") == 0));
	}
	CHECK(!route("GET", "/v1/session", &st, allow) && st == 405 &&
	      strcmp(allow, "POST") == 0);
	r = route("POST", "/v1/peers/" PUB_B_URL "/ping", &st, allow);
	CHECK(r && !r->has_body);
	CHECK(!route("GET", "/index.html", &st, allow) && st == 404);
	r = wm_api_route_match("PUT", "/v1/peers/" PUB_B_URL "/path", k, &st,
			       allow, sizeof(allow));
	CHECK(r && strcmp(r->pattern, "/v1/peers/{key}/path") == 0 &&
	      r->has_body && memcmp(k, key(PUB_B), 32) == 0);
	r = wm_api_route_match("DELETE", "/v1/peers/H%2Fip3QrSsM4MEjY%2FR9fjQ"
			       "mAOGkSlb959PnYBr2tqlmY%3D", k, &st, allow,
			       sizeof(allow));
	CHECK(r && memcmp(k, key(PUB_C), 32) == 0);
}

TEST(error_document)
{
	json_t *e = wm_json_error_body(404, "no peer");
	char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);

	CHECK(strcmp(s, "{\"error\":{\"code\":\"not_found\",\"message\":\"no peer\"}}") == 0);
	free(s);
	json_decref(e);
	CHECK(strcmp(wm_json_error_code(400), "bad_request") == 0);
	CHECK(strcmp(wm_json_error_code(401), "unauthorized") == 0);
	CHECK(strcmp(wm_json_error_code(405), "method_not_allowed") == 0);
	CHECK(strcmp(wm_json_error_code(409), "conflict") == 0);
	CHECK(strcmp(wm_json_error_code(413), "payload_too_large") == 0);
	CHECK(strcmp(wm_json_error_code(415), "unsupported_media_type") == 0);
	CHECK(strcmp(wm_json_error_code(422), "unprocessable") == 0);
	CHECK(strcmp(wm_json_error_code(500), "internal") == 0);
}

static unsigned body_status(const char *ct, const char *body)
{
	char msg[256];
	json_t *j = NULL;
	unsigned st = wm_json_parse_body(ct, body, strlen(body), &j, msg,
					 sizeof(msg));

	CHECK((st == 0) == (j != NULL));
	CHECK(st == 0 || msg[0]);
	json_decref(j);
	return st;
}

TEST(body_checks)
{
	static char big[WM_JSON_BODY_MAX + 2];

	CHECK(body_status("application/json", "{}") == 0);
	CHECK(body_status("Application/JSON; charset=utf-8", "{}") == 0);
	CHECK(body_status(NULL, "{}") == 415);
	CHECK(body_status("text/plain", "{}") == 415);
	CHECK(body_status("application/jsonx", "{}") == 415);
	CHECK(body_status("application/x-www-form-urlencoded", "{}") == 415);
	CHECK(body_status("application/json", "") == 400);
	CHECK(body_status("application/json", "{bad") == 400);
	CHECK(body_status("application/json", "{\"a\":1,\"a\":2}") == 400);
	CHECK(body_status("application/json", "{} trailing") == 400);
	CHECK(body_status("application/json", "[]") == 422);
	CHECK(body_status("application/json", "\"x\"") == 422);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	CHECK(body_status("application/json", big) == 413);
}

static unsigned peer_status(const char *text, const uint8_t *url_key,
			    struct wm_peer_update *u)
{
	json_t *j = json_loads(text, 0, NULL);
	char msg[256] = "";
	unsigned st;

	if (!j)
		abort();
	st = wm_peer_json_parse(u, j, url_key, msg, sizeof(msg));
	CHECK(st == 0 || msg[0]);
	json_decref(j);
	return st;
}

TEST(peer_body)
{
	struct wm_peer_update u;
	char s[WM_CIDR_STRLEN];

	CHECK(peer_status("{\"allowed_ips\":[\"10.0.0.9/24\",\"fd00::1/128\"],"
			  "\"endpoint\":\"192.0.2.2:51820\",\"preshared_key\":\"" PSK "\","
			  "\"persistent_keepalive\":25,\"path_mode\":\"relay\"}",
			  key(PUB_B), &u) == 0);
	CHECK(memcmp(u.pc.public_key, key(PUB_B), 32) == 0);
	CHECK(u.pc.allowed_ips.len == 2);
	CHECK(strcmp(wm_cidr_format(s, sizeof(s), &u.pc.allowed_ips.items[0]),
		     "10.0.0.0/24") == 0);
	CHECK(u.pc.has_endpoint && u.psk_given && u.pc.has_psk);
	CHECK(memcmp(u.pc.psk, key(PSK), 32) == 0);
	CHECK(u.pc.persistent_keepalive == 25 && u.pc.path_mode == WM_PATH_RELAY);
	wm_peer_update_free(&u);

	/* Defaults; read-only fields of a GET answer pass. */
	CHECK(peer_status("{\"allowed_ips\":[],\"public_key\":\"" PUB_B "\","
			  "\"path\":\"direct\",\"rx_bytes\":5,\"rtt_ms\":null,"
			  "\"candidates\":[],\"last_handshake\":null,"
			  "\"tx_bytes\":1,\"endpoint\":null,"
			  "\"persistent_keepalive\":null}", key(PUB_B), &u) == 0);
	CHECK(!u.pc.has_endpoint && !u.psk_given && !u.pc.has_psk);
	CHECK(u.pc.persistent_keepalive == 0 && u.pc.path_mode == WM_PATH_AUTO);
	wm_peer_update_free(&u);
	CHECK(peer_status("{\"allowed_ips\":[],\"preshared_key\":null}",
			  key(PUB_B), &u) == 0);
	CHECK(u.psk_given && !u.pc.has_psk);
	wm_peer_update_free(&u);
	CHECK(peer_status("{\"allowed_ips\":[],\"public_key\":\"" PUB_C "\"}",
			  NULL, &u) == 0);
	CHECK(memcmp(u.pc.public_key, key(PUB_C), 32) == 0);
	wm_peer_update_free(&u);

	/* Each of these is well-formed JSON with a bad value: 422. */
	static const char *const bad[] = {
		"{}",
		"{\"allowed_ips\":\"10.0.0.1/32\"}",
		"{\"allowed_ips\":[\"10.0.0.300/32\"]}",
		"{\"allowed_ips\":[\"10.0.0.1/33\"]}",
		"{\"allowed_ips\":[\"10.0.0.1/32,10.0.0.2/32\"]}",
		"{\"allowed_ips\":[5]}",
		"{\"allowed_ips\":[],\"endpoint\":\"example.com:51820\"}",
		"{\"allowed_ips\":[],\"endpoint\":\"192.0.2.1\"}",
		"{\"allowed_ips\":[],\"endpoint\":\"192.0.2.1:0\"}",
		"{\"allowed_ips\":[],\"preshared_key\":\"short\"}",
		"{\"allowed_ips\":[],\"persistent_keepalive\":65536}",
		"{\"allowed_ips\":[],\"persistent_keepalive\":-1}",
		"{\"allowed_ips\":[],\"persistent_keepalive\":\"25\"}",
		"{\"allowed_ips\":[],\"path_mode\":\"fast\"}",
		"{\"allowed_ips\":[],\"allowedips\":[]}",
		"{\"allowed_ips\":[],\"public_key\":\"" PUB_C "\"}",
		"{\"allowed_ips\":[],\"public_key\":\"nope\"}",
		/* SaveConfig writes the name back: '#' would start a comment */
		"{\"allowed_ips\":[],\"name\":\"#1\"}",
		"{\"allowed_ips\":[],\"name\":\"a#b\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned st = peer_status(bad[i], key(PUB_B), &u);
		if (st != 422)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK(st == 422);
	}
	/* No key in the URL or body. */
	CHECK(peer_status("{\"allowed_ips\":[]}", NULL, &u) == 422);
}

static unsigned set_status(const char *text, size_t *n)
{
	struct wm_peer_update *u = NULL;
	json_t *j = json_loads(text, 0, NULL);
	char msg[256] = "";
	unsigned st;

	if (!j)
		abort();
	st = wm_peer_json_parse_set(&u, n, j, msg, sizeof(msg));
	json_decref(j);
	if (st == 0) {
		for (size_t i = 0; i < *n; i++)
			wm_peer_update_free(&u[i]);
		free(u);
	} else {
		CHECK(msg[0] && !u);
	}
	return st;
}

TEST(peer_set_and_mode_bodies)
{
	enum wm_path_mode m = WM_PATH_AUTO;
	char msg[128];
	json_t *j;
	size_t n;

	CHECK(set_status("{\"peers\":[]}", &n) == 0 && n == 0);
	CHECK(set_status("{\"peers\":[{\"public_key\":\"" PUB_B "\",\"allowed_ips\":[]},"
			 "{\"public_key\":\"" PUB_C "\",\"allowed_ips\":[]}]}", &n) == 0 &&
	      n == 2);
	CHECK(set_status("{\"peers\":[{\"public_key\":\"" PUB_B "\",\"allowed_ips\":[]},"
			 "{\"public_key\":\"" PUB_B "\",\"allowed_ips\":[]}]}", &n) == 422);
	CHECK(set_status("{\"peers\":[{\"allowed_ips\":[]}]}", &n) == 422);
	CHECK(set_status("{\"peers\":{}}", &n) == 422);
	CHECK(set_status("{\"peers\":[],\"extra\":1}", &n) == 422);
	CHECK(set_status("{}", &n) == 422);

	j = json_loads("{\"mode\":\"relay\"}", 0, NULL);
	CHECK(wm_peer_json_parse_mode(&m, j, msg, sizeof(msg)) == 0 && m == WM_PATH_RELAY);
	json_decref(j);
	j = json_loads("{\"mode\":\"sideways\"}", 0, NULL);
	CHECK(wm_peer_json_parse_mode(&m, j, msg, sizeof(msg)) == 422);
	json_decref(j);
	j = json_loads("{\"mode\":\"auto\",\"x\":1}", 0, NULL);
	CHECK(wm_peer_json_parse_mode(&m, j, msg, sizeof(msg)) == 422);
	json_decref(j);
	j = json_loads("{}", 0, NULL);
	CHECK(wm_peer_json_parse_mode(&m, j, msg, sizeof(msg)) == 422);
	json_decref(j);
}

/* A device with two peers: B (two prefixes, endpoint, keepalive, a
 * handshake, traffic, PSK) and C (nothing). */
static void two_peers(struct wm_device *dev, struct wm_peer **b,
		      struct wm_peer **c)
{
	struct wm_peer_config pc;
	const char *bad;
	size_t bad_len;

	CHECK(wm_device_init(dev, "wmtest") == 0);
	wm_device_set_private_key(dev, key(PRIV_A));
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.public_key, key(PUB_B), 32);
	CHECK(wm_parse_cidr_list(&pc.allowed_ips, "10.77.0.2/32, fd77::2/128",
				 &bad, &bad_len));
	pc.has_endpoint = wm_sockaddr_parse(&pc.endpoint, "192.0.2.2:51820");
	pc.has_psk = true;
	memcpy(pc.psk, key(PSK), 32);
	pc.persistent_keepalive = 25;
	snprintf(pc.name, sizeof(pc.name), "bee 2");
	CHECK(wm_device_apply_peer(dev, &pc, b) == 0);
	wm_cidr_list_free(&pc.allowed_ips);
	*c = wm_device_add_peer(dev, key(PUB_C));
	CHECK(*c != NULL);
	(*b)->rx_bytes = 1234;
	(*b)->tx_bytes = 5678;
	(*b)->last_handshake_mono = 1;
	(*b)->last_handshake_sec = 1700000000;
	/* heard at 5 s, direct at 5.25 s: 250 ms to a direct path */
	(*b)->first_heard_ns = 5000000000ULL;
	(*b)->first_direct_ns = 5250000000ULL;
}

TEST(peer_render)
{
	struct wm_peer_view v = { "direct", 12, json_pack("[s]", "198.51.100.7:4000"),
				  11800, 1700000001250, 0 };
	struct wm_device dev;
	struct wm_peer *b, *c;
	char *s;
	json_t *j;

	two_peers(&dev, &b, &c);
	j = wm_peer_json_render(b, &v);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CHECK(strcmp(s, "{\"public_key\":\"" PUB_B "\",\"name\":\"bee 2\","
			 "\"allowed_ips\":[\"10.77.0.2/32\",\"fd77::2/128\"],"
			 "\"path\":\"direct\",\"path_mode\":\"auto\","
			 "\"endpoint\":\"192.0.2.2:51820\","
			 "\"candidates\":[\"198.51.100.7:4000\"],"
			 "\"last_handshake\":\"2023-11-14T22:13:20Z\","
			 "\"rx_bytes\":1234,\"tx_bytes\":5678,\"rtt_ms\":12,"
			 "\"rtt_us\":11800,\"last_rx\":{\"direct\":"
			 "\"2023-11-14T22:13:21.250Z\",\"relay\":null},"
			 "\"persistent_keepalive\":25,\"time_to_direct_ms\":250}") == 0);
	if (strcmp(s, "") != 0 && check_case_failed)
		fprintf(stderr, "  got %s\n", s);
	free(s);
	json_decref(j);

	v = (struct wm_peer_view){ "none", -1, NULL, -1, 0, 0 };
	j = wm_peer_json_render(c, &v);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CHECK(strcmp(s, "{\"public_key\":\"" PUB_C "\",\"name\":null,"
			 "\"allowed_ips\":[],"
			 "\"path\":\"none\",\"path_mode\":\"auto\","
			 "\"endpoint\":null,\"candidates\":[],"
			 "\"last_handshake\":null,\"rx_bytes\":0,\"tx_bytes\":0,"
			 "\"rtt_ms\":null,\"rtt_us\":null,\"last_rx\":"
			 "{\"direct\":null,\"relay\":null},"
			 "\"persistent_keepalive\":0,\"time_to_direct_ms\":null}") == 0);
	free(s);
	json_decref(j);
	wm_device_free(&dev);
}

/* The GET answer of a peer parses back into the very same settings, so
 * PUT /v1/peers of a GET /v1/peers answer changes nothing. */
TEST(peer_round_trip_is_a_no_op)
{
	struct wm_peer_view v = { "direct", -1, NULL, -1, 0, 0 };
	struct wm_peer_update u;
	struct wm_device dev;
	struct wm_peer *b, *c;
	char msg[128];
	json_t *j;

	two_peers(&dev, &b, &c);
	j = wm_peer_json_render(b, &v);
	CHECK(wm_peer_json_parse(&u, j, NULL, msg, sizeof(msg)) == 0);
	wm_peer_json_merge(&u, b);
	CHECK(u.pc.has_psk); /* kept, though never shown */
	CHECK(wm_peer_json_same(&u, b));
	u.pc.persistent_keepalive = 26;
	CHECK(!wm_peer_json_same(&u, b));
	wm_peer_update_free(&u);
	json_decref(j);

	j = json_pack("{s:[s],s:n}", "allowed_ips", "10.77.0.2/32",
		      "preshared_key");
	CHECK(wm_peer_json_parse(&u, j, key(PUB_B), msg, sizeof(msg)) == 0);
	wm_peer_json_merge(&u, b);
	CHECK(!u.pc.has_psk && !wm_peer_json_same(&u, b));
	CHECK(strcmp(u.pc.name, "bee 2") == 0); /* left out: kept */
	wm_peer_update_free(&u);
	json_decref(j);

	/* A name is set, changed or removed (null); a bad one is refused. */
	j = json_pack("{s:[s],s:n,s:s}", "allowed_ips", "10.77.0.2/32",
		      "preshared_key", "name", "other");
	CHECK(wm_peer_json_parse(&u, j, key(PUB_B), msg, sizeof(msg)) == 0);
	wm_peer_json_merge(&u, b);
	CHECK(strcmp(u.pc.name, "other") == 0 && !wm_peer_json_same(&u, b));
	wm_peer_update_free(&u);
	json_decref(j);
	j = json_pack("{s:[s],s:n}", "allowed_ips", "10.77.0.2/32", "name");
	CHECK(wm_peer_json_parse(&u, j, key(PUB_B), msg, sizeof(msg)) == 0);
	wm_peer_json_merge(&u, b);
	CHECK(u.pc.name[0] == '\0');
	wm_peer_update_free(&u);
	json_decref(j);
	j = json_pack("{s:[s],s:s}", "allowed_ips", "10.77.0.2/32", "name",
		      "tab\there");
	CHECK(wm_peer_json_parse(&u, j, key(PUB_B), msg, sizeof(msg)) == 422);
	json_decref(j);
	j = json_pack("{s:[s],s:s}", "allowed_ips", "10.77.0.2/32", "name",
		      " lead");
	CHECK(wm_peer_json_parse(&u, j, key(PUB_B), msg, sizeof(msg)) == 422);
	json_decref(j);
	wm_device_free(&dev);
}

TEST(prometheus_escaping)
{
	char out[64];

	CHECK(wm_metrics_escape_label(out, sizeof(out), "plain") == 5 &&
	      strcmp(out, "plain") == 0);
	CHECK(wm_metrics_escape_label(out, sizeof(out), "a\\b\"c\nd") == 10 &&
	      strcmp(out, "a\\\\b\\\"c\\nd") == 0);
	CHECK(wm_metrics_escape_label(out, 4, "\"\"\"") == 6 &&
	      strcmp(out, "\\\"\\") == 0);
	CHECK(wm_metrics_escape_label(out, sizeof(out), "+/=") == 3);
}

static void view(void *ctx, const struct wm_peer *p, struct wm_peer_view *v)
{
	(void)ctx;
	/* A view cannot change the path metric: it comes from p->via. */
	v->path = "relay";
	if (p->rx_bytes)
		v->rtt_ms = 42;
}

/* Every sample belongs to the family announced just before it, and every
 * family has HELP then TYPE. */
static bool families_well_formed(const char *text)
{
	char fam[128] = "";
	const char *line = text;
	bool help = false;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512];

		if (n >= sizeof(buf) || !nl)
			return false;
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (strncmp(buf, "# HELP ", 7) == 0) {
			sscanf(buf + 7, "%127s", fam);
			help = true;
		} else if (strncmp(buf, "# TYPE ", 7) == 0) {
			char name[128], type[32];
			if (!help || sscanf(buf + 7, "%127s %31s", name, type) != 2 ||
			    strcmp(name, fam) != 0 ||
			    (strcmp(type, "gauge") && strcmp(type, "counter")))
				return false;
			help = false;
		} else {
			size_t fl = strlen(fam);
			if (!fl || strncmp(buf, fam, fl) != 0 ||
			    (buf[fl] != '{' && buf[fl] != ' '))
				return false;
		}
		line = nl + 1;
	}
	return true;
}

TEST(metrics_text)
{
	struct wm_device dev;
	struct wm_peer *b, *c;
	size_t len = 0;
	char *t;

	two_peers(&dev, &b, &c);
	dev.stats.rx_replay = 7;
	dev.stats.tx_no_route = 3;
	dev.stats.handshakes_completed = 2;
	/* B's path is decided by the agent's own code: an authenticated
	 * packet came straight from its endpoint. C has none. */
	wm_peer_path_heard(&dev, b, &b->endpoint, 1000000000ULL);
	wm_peer_path_update(&dev, c, 1000000000ULL);
	t = wm_metrics_render(&dev, view, NULL, &len);
	CHECK(t && strlen(t) == len);
	if (!t) {
		wm_device_free(&dev);
		return;
	}
	CHECK(families_well_formed(t));
	CHECK(strstr(t, "# HELP wiremesh_peers ") && strstr(t, "# TYPE wiremesh_peers gauge\n"));
	CHECK(strstr(t, "\nwiremesh_peers{interface=\"wmtest\"} 2\n"));
	CHECK(strstr(t, "# TYPE wiremesh_peer_rx_bytes_total counter\n"));
	CHECK(strstr(t, "\nwiremesh_peer_rx_bytes_total{interface=\"wmtest\",peer=\"" PUB_B "\"} 1234\n"));
	CHECK(strstr(t, "\nwiremesh_peer_tx_bytes_total{interface=\"wmtest\",peer=\"" PUB_B "\"} 5678\n"));
	CHECK(strstr(t, "\nwiremesh_peer_last_handshake_seconds{interface=\"wmtest\",peer=\"" PUB_B "\"} 1700000000\n"));
	CHECK(strstr(t, "\nwiremesh_peer_last_handshake_seconds{interface=\"wmtest\",peer=\"" PUB_C "\"} 0\n"));
	CHECK(strstr(t, "\nwiremesh_peer_rtt_seconds{interface=\"wmtest\",peer=\"" PUB_B "\"} 0.042\n"));
	CHECK(!strstr(t, "wiremesh_peer_rtt_seconds{interface=\"wmtest\",peer=\"" PUB_C));
	CHECK(strstr(t, "\nwiremesh_peer_path{interface=\"wmtest\",peer=\"" PUB_B "\",path=\"direct\"} 1\n"));
	CHECK(strstr(t, "\nwiremesh_peer_path{interface=\"wmtest\",peer=\"" PUB_C "\",path=\"none\"} 1\n"));
	CHECK(strstr(t, "\nwiremesh_rx_dropped_packets_total{interface=\"wmtest\",reason=\"replay\"} 7\n"));
	CHECK(strstr(t, "\nwiremesh_tx_dropped_packets_total{interface=\"wmtest\",reason=\"no_route\"} 3\n"));
	CHECK(strstr(t, "\nwiremesh_handshakes_completed_total{interface=\"wmtest\"} 2\n"));
	free(t);
	wm_device_free(&dev);
}

TEST(sse_record)
{
	json_t *d = json_pack("{s:s}", "text", "two\nlines");
	char *s = wm_events_format(7, "path_changed", d);

	CHECK(strcmp(s, "id: 7\nevent: path_changed\ndata: {\"text\":\"two\\nlines\"}\n\n") == 0);
	free(s);
	s = wm_events_format(8, "relay_state", NULL);
	CHECK(strcmp(s, "id: 8\nevent: relay_state\ndata: {}\n\n") == 0);
	free(s);
	json_decref(d);
}

TEST(rfc3339)
{
	char b[32];

	CHECK(strcmp(wm_json_rfc3339(b, 0), "1970-01-01T00:00:00Z") == 0);
	CHECK(strcmp(wm_json_rfc3339(b, 1700000000), "2023-11-14T22:13:20Z") == 0);
	CHECK(wm_json_rfc3339(b, -1) == NULL);
}

TEST(saveconfig_text)
{
	static const char orig[] =
		"# wm0, managed by hand\n"
		"[Interface]\n"
		"PrivateKey = " PRIV_A "\n"
		"PostUp = echo up # kept as written\n"
		"SaveConfig = true\n"
		"\n"
		"[Peer]\n"
		"# this comment goes with the old peer\n"
		"PublicKey = " PUB_C "\n"
		"AllowedIPs = 10.9.9.9/32\n"
		"\n\n";
	struct wm_config cfg;
	struct wm_device dev;
	struct wm_peer *b, *c;
	char *t;

	memset(&cfg, 0, sizeof(cfg));
	two_peers(&dev, &b, &c);
	c->path_mode = WM_PATH_RELAY;
	t = wm_saveconfig_render(orig, &cfg, &dev);
	CHECK(t && strcmp(t,
		"# wm0, managed by hand\n"
		"[Interface]\n"
		"PrivateKey = " PRIV_A "\n"
		"PostUp = echo up # kept as written\n"
		"SaveConfig = true\n"
		"\n[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"Name = bee 2\n"
		"PresharedKey = " PSK "\n"
		"AllowedIPs = 10.77.0.2/32, fd77::2/128\n"
		"Endpoint = 192.0.2.2:51820\n"
		"PersistentKeepalive = 25\n"
		"\n[Peer]\n"
		"PublicKey = " PUB_C "\n"
		"Path = relay\n") == 0);
	if (t && check_case_failed)
		fprintf(stderr, "  got:\n%s", t);
	free(t);

	/* The configured endpoint text is kept while it still holds. */
	{
		struct wm_peer_config pc;
		memset(&pc, 0, sizeof(pc));
		memcpy(pc.public_key, key(PUB_B), 32);
		pc.has_endpoint = wm_sockaddr_parse(&pc.endpoint, "192.0.2.2:51820");
		snprintf(pc.endpoint_text, sizeof(pc.endpoint_text), "peer-b.example:51820");
		cfg.peers = &pc;
		cfg.n_peers = 1;
		t = wm_saveconfig_render(orig, &cfg, &dev);
		CHECK(t && strstr(t, "Endpoint = peer-b.example:51820\n"));
		free(t);
		cfg.peers = NULL;
		cfg.n_peers = 0;
	}
	wm_device_free(&dev);

	/* `wg set` changes of the private key, port and mark are written
	 * in place of the file's lines, or after [Interface] when missing. */
	{
		struct wm_config run;
		two_peers(&dev, &b, &c);
		memset(&run, 0, sizeof(run));
		wm_device_set_private_key(&dev, key(PSK));
		dev.listen_port = 51999;
		run.listen_port = 51999;
		dev.fwmark = 0xca6c;
		static const char head[] =
			"# wm0, managed by hand\n"
			"[Interface]\n"
			"ListenPort = 51999\n"
			"FwMark = 0xca6c\n"
			/* PSK's bytes as a private key, clamped */
			"PrivateKey = 0PNUtQaxx3DmFDeRqMEi62I7o31qir+YduzSJOqo+mE=\n"
			"PostUp = echo up # kept as written\n";
		t = wm_saveconfig_render(orig, &run, &dev);
		CHECK(t && strncmp(t, head, sizeof(head) - 1) == 0);
		CHECK(t && !strstr(t, PRIV_A));
		if (t && check_case_failed)
			fprintf(stderr, "  got:\n%s", t);
		/* Saved again, each key stays once, where it now is. */
		{
			char *again = t ? wm_saveconfig_render(t, &run, &dev) : NULL;
			CHECK(again && strcmp(again, t) == 0);
			free(again);
		}
		free(t);
		/* No private key (cleared by `wg set`), no pinned port, no
		 * mark: the file's lines stay (a keyless file would not load). */
		wm_device_clear_private_key(&dev);
		dev.fwmark = 0;
		run.listen_port = 0;
		t = wm_saveconfig_render(orig, &run, &dev);
		CHECK(t && strstr(t, "PrivateKey = " PRIV_A "\n") &&
		      !strstr(t, "ListenPort") && !strstr(t, "FwMark"));
		free(t);
		wm_device_free(&dev);
	}

	/* And the written file loads back. */
	{
		struct wm_config back;
		char *again;
		two_peers(&dev, &b, &c);
		t = wm_saveconfig_render(orig, &cfg, &dev);
		CHECK(wm_config_parse_string(&back, "wm0.conf", t, stderr));
		CHECK(back.n_peers == 2 && back.peers[0].persistent_keepalive == 25 &&
		      back.peers[0].has_psk && back.peers[1].allowed_ips.len == 0);
		again = wm_saveconfig_render(t, &cfg, &dev);
		CHECK(again && strcmp(again, t) == 0);
		free(again);
		free(t);
		wm_config_free(&back);
		wm_device_free(&dev);
	}

	/* [Relay] sections are the operator's: kept where they are, before
	 * or after the peers, and the file loads back with them. */
	{
		static const char with_relays[] =
			"[Interface]\nPrivateKey = " PRIV_A "\n"
			"[Relay]\nEndpoint = r1.example:3478\nPublicKey = " PUB_B "\n"
			"[Peer]\nPublicKey = " PUB_C "\n"
			"[Relay]\nEndpoint = r2.example:3478\nPublicKey = " PUB_C "\n";
		struct wm_config back;

		two_peers(&dev, &b, &c);
		t = wm_saveconfig_render(with_relays, &cfg, &dev);
		CHECK(t && strstr(t, "[Relay]\nEndpoint = r1.example:3478\n"));
		CHECK(t && strstr(t, "[Relay]\nEndpoint = r2.example:3478\n"));
		CHECK(t && wm_config_parse_string(&back, "wm0.conf", t, stderr));
		CHECK(t && back.n_relays == 2 && back.n_peers == 2);
		if (t)
			wm_config_free(&back);
		free(t);
		wm_device_free(&dev);
	}
}

TEST(cli_helpers)
{
	json_t *peers = json_pack("[{s:s},{s:s},{s:s}]", "public_key", PUB_A,
				  "public_key", PUB_B, "public_key", PUB_C);
	char b[32];
	uint8_t k[32];

	CHECK(wm_cli_match_peer(peers, "Tjn6", k) == 0 && memcmp(k, key(PUB_B), 32) == 0);
	CHECK(wm_cli_match_peer(peers, PUB_B_URL, k) == 0 && memcmp(k, key(PUB_B), 32) == 0);
	CHECK(wm_cli_match_peer(peers, PUB_C, k) == 0 && memcmp(k, key(PUB_C), 32) == 0);
	CHECK(wm_cli_match_peer(peers, "H_ip", k) == 0 && memcmp(k, key(PUB_C), 32) == 0);
	CHECK(wm_cli_match_peer(peers, "Q", k) == -ENOENT);
	CHECK(wm_cli_match_peer(peers, "", k) == -ENOENT);
	json_array_append_new(peers, json_pack("{s:s}", "public_key",
					       "TjnAuQG5fXirSt7+QjHC8AmpKehx2KmL5yEzo52/vHE="));
	CHECK(wm_cli_match_peer(peers, "Tjn", k) == -EEXIST);
	CHECK(wm_cli_match_peer(peers, "Tjn6", k) == 0);
	json_decref(peers);

	wm_cli_bytes(b, sizeof(b), 0);
	CHECK(strcmp(b, "0 B") == 0);
	wm_cli_bytes(b, sizeof(b), 1023);
	CHECK(strcmp(b, "1023 B") == 0);
	wm_cli_bytes(b, sizeof(b), 1536);
	CHECK(strcmp(b, "1.5 KiB") == 0);
	wm_cli_bytes(b, sizeof(b), 5ULL << 30);
	CHECK(strcmp(b, "5.0 GiB") == 0);
	wm_cli_age(b, sizeof(b), NULL, 1700000000);
	CHECK(strcmp(b, "never") == 0);
	wm_cli_age(b, sizeof(b), "2023-11-14T22:13:20Z", 1700000012);
	CHECK(strcmp(b, "12s ago") == 0);
	wm_cli_age(b, sizeof(b), "2023-11-14T22:13:20Z", 1700000000 + 3 * 60 + 4);
	CHECK(strcmp(b, "3m 4s ago") == 0);
	wm_cli_age(b, sizeof(b), "2023-11-14T22:13:20Z", 1700000000 + 2 * 3600 + 300);
	CHECK(strcmp(b, "2h 5m ago") == 0);
	wm_cli_age(b, sizeof(b), "2023-11-14T22:13:20Z", 1700000000 + 3 * 86400 + 4 * 3600);
	CHECK(strcmp(b, "3d 4h ago") == 0);
	wm_cli_age(b, sizeof(b), "yesterday", 0);
	CHECK(strcmp(b, "never") == 0);
}

/* The socket file rules of wm_api_open: parents made, non-sockets and
 * symlinks left alone, stale sockets replaced, live ones refused, our
 * socket removed on close (and only ours). */
TEST(api_socket_rules)
{
	char dir[] = "/tmp/wmapitest.XXXXXX", path[100], other[100];
	struct wm_api *api = NULL, *api2 = NULL;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct wm_config cfg;
	struct wm_device dev;
	struct wm_loop loop;
	struct stat st;
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.path, sizeof(cfg.path), "%s/wm0.conf", dir);
	snprintf(path, sizeof(path), "%s/run/deeper/wm0.sock", dir);
	snprintf(cfg.api_socket, sizeof(cfg.api_socket), "%s", path);
	CHECK(wm_device_init(&dev, "wm0") == 0);
	CHECK(wm_loop_init(&loop, 50) == 0);

	CHECK(wm_api_open(&api, &loop, &dev, &cfg, NULL) == 0);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK((st.st_mode & 0777) == (getgrnam("wiremesh") ? 0660u : 0600u));
	/* A live agent answers there: refused, and its file stays. */
	CHECK(wm_api_open(&api2, &loop, &dev, &cfg, NULL) == -EADDRINUSE && !api2);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	wm_api_close(api);
	CHECK(lstat(path, &st) < 0 && errno == ENOENT);

	/* A stale socket (nobody listens) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	CHECK(wm_api_open(&api, &loop, &dev, &cfg, NULL) == 0);
	/* Someone else's socket in our place is not ours to remove. */
	CHECK(unlink(path) == 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	wm_api_close(api);
	CHECK(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	close(fd);
	unlink(path);

	/* A regular file or a symlink is never replaced or followed. */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK(wm_api_open(&api, &loop, &dev, &cfg, NULL) == -EEXIST && !api);
	CHECK(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(path);
	snprintf(other, sizeof(other), "%s/target", dir);
	CHECK(symlink(other, path) == 0);
	CHECK(wm_api_open(&api, &loop, &dev, &cfg, NULL) == -EEXIST && !api);
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	CHECK(lstat(other, &st) < 0);
	unlink(path);

	/* TCP without a readable token file: refused before listening. */
	snprintf(cfg.api_listen, sizeof(cfg.api_listen), "127.0.0.1:1");
	snprintf(cfg.api_token_file, sizeof(cfg.api_token_file), "%s/none", dir);
	CHECK(wm_api_open(&api, &loop, &dev, &cfg, NULL) == -EACCES && !api);
	CHECK(lstat(path, &st) < 0);

	snprintf(other, sizeof(other), "%s/run/deeper", dir);
	rmdir(other);
	snprintf(other, sizeof(other), "%s/run", dir);
	rmdir(other);
	rmdir(dir);
	wm_loop_close(&loop);
	wm_device_free(&dev);
}

/* jansson allocates through the wiping allocator once it is installed
 * (as the agent's main does), and bodies with keys parse and free under
 * it (ASan checks the size header's arithmetic). */
TEST(json_wipe_allocator)
{
	json_malloc_t m0, m1;
	json_free_t f0, f1;
	json_t *j;
	char *s;

	json_get_alloc_funcs(&m0, &f0);
	wm_json_wipe_on_free();
	json_get_alloc_funcs(&m1, &f1);
	CHECK(m1 != malloc && f1 != free && m1 && f1);
	j = json_loads("{\"public_key\":\"" PUB_B "\",\"preshared_key\":\""
		       PSK "\",\"big\":\"" PSK PSK PSK PSK PSK PSK "\"}", 0, NULL);
	CHECK(j && strcmp(json_string_value(json_object_get(j, "preshared_key")),
			  PSK) == 0);
	s = json_dumps(j, JSON_COMPACT);
	CHECK(s && strstr(s, PSK));
	f1(s); /* jansson's dumps allocate with its allocator */
	json_decref(j);
	j = json_pack("{s:s}", "k", PSK);
	json_decref(j);
	json_set_alloc_funcs(m0, f0);
}

/* Runs wm_api_open with stderr going to a file; returns what it printed
 * (static buffer) and the open's result in *r. */
static const char *api_open_stderr(struct wm_api **api, struct wm_loop *loop,
				   struct wm_device *dev, struct wm_config *cfg,
				   int *r)
{
	static char out[2048];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n = 0;

	out[0] = '\0';
	if (!tmp || saved < 0)
		return out;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	*r = wm_api_open(api, loop, dev, cfg, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

/* A token file readable by group or others is warned about (the agent
 * still comes up); mode 0600 is not. */
TEST(token_file_mode_warning)
{
	char dir[] = "/tmp/wmapitest.XXXXXX", tok[100];
	struct wm_api *api = NULL;
	struct wm_config cfg;
	struct wm_device dev;
	struct wm_loop loop;
	const char *err;
	FILE *f;
	int r = -1;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.path, sizeof(cfg.path), "%s/wm0.conf", dir);
	snprintf(cfg.api_socket, sizeof(cfg.api_socket), "%s/wm0.sock", dir);
	snprintf(cfg.api_listen, sizeof(cfg.api_listen), "127.0.0.1:0");
	snprintf(tok, sizeof(tok), "%s/api.token", dir);
	snprintf(cfg.api_token_file, sizeof(cfg.api_token_file), "%s", tok);
	f = fopen(tok, "w");
	CHECK(f && fputs("s3cret-token\n", f) >= 0);
	if (f)
		fclose(f);
	CHECK(wm_device_init(&dev, "wm0") == 0);
	CHECK(wm_loop_init(&loop, 50) == 0);

	static const mode_t modes[] = { 0644, 0640, 0604, 0600, 0400 };
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		bool open = modes[i] & 044;
		CHECK(chmod(tok, modes[i]) == 0);
		err = api_open_stderr(&api, &loop, &dev, &cfg, &r);
		CHECK(r == 0 && api);
		CHECK(!!strstr(err, "warning: APITokenFile") == open);
		CHECK(!open || strstr(err, tok));
		if (check_case_failed)
			fprintf(stderr, "  mode %04o: %s\n", (unsigned)modes[i], err);
		wm_api_close(api);
		api = NULL;
	}
	unlink(tok);
	rmdir(dir);
	wm_loop_close(&loop);
	wm_device_free(&dev);
}

/* ------------------------------------------------------ openapi.yaml */

struct doc_op {
	char method[8];
	char path[64];
	unsigned short statuses[16];
	unsigned n;
};

/* Reads the operations under `paths:` from the document's fixed layout:
 * paths at two spaces, methods at four, status codes at eight under a
 * six-space `responses:`. Returns the count, or -1 if unreadable. */
static int read_doc(struct doc_op *ops, int cap)
{
	static const char *const methods[] = { "get", "put", "post", "delete",
					       "patch", "head", "options" };
	FILE *f = fopen("api/openapi.yaml", "r");
	char line[512], path[64] = "";
	bool in_paths = false, in_resp = false;
	int n = 0;

	if (!f)
		f = fopen("../../api/openapi.yaml", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t ind = strspn(line, " ");
		char *s = line + ind;
		s[strcspn(s, "\r\n")] = '\0';
		if (!*s || *s == '#')
			continue;
		if (ind == 0) {
			in_paths = strcmp(s, "paths:") == 0;
			continue;
		}
		if (!in_paths)
			continue;
		if (ind == 2 && *s == '/') {
			snprintf(path, sizeof(path), "%.*s", (int)strcspn(s, ":"), s);
			continue;
		}
		if (ind == 4) {
			in_resp = false;
			for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
				size_t ml = strlen(methods[i]);
				if (strncmp(s, methods[i], ml) == 0 && s[ml] == ':' &&
				    n < cap) {
					memset(&ops[n], 0, sizeof(ops[n]));
					for (size_t j = 0; j < ml; j++)
						ops[n].method[j] = (char)(s[j] - 32);
					snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
					n++;
				}
			}
			continue;
		}
		if (ind == 6)
			in_resp = strcmp(s, "responses:") == 0;
		else if (ind == 8 && in_resp && n > 0) {
			unsigned code;
			if (sscanf(s, "'%u':", &code) == 1 || sscanf(s, "\"%u\":", &code) == 1 ||
			    sscanf(s, "%u:", &code) == 1) {
				if (ops[n - 1].n < 16)
					ops[n - 1].statuses[ops[n - 1].n++] = (unsigned short)code;
			}
		}
	}
	fclose(f);
	return n;
}

static bool has_status(const unsigned short *list, size_t cap, unsigned s)
{
	for (size_t i = 0; i < cap && list[i]; i++)
		if (list[i] == s)
			return true;
	return false;
}

TEST(openapi_matches_routes)
{
	struct doc_op ops[32];
	int n = read_doc(ops, 32);

	CHECK(n == (int)wm_api_n_routes);
	for (int i = 0; i < n; i++) {
		const struct wm_api_route *r = NULL;
		for (size_t j = 0; j < wm_api_n_routes && !r; j++)
			if (strcmp(wm_api_routes[j].method, ops[i].method) == 0 &&
			    strcmp(wm_api_routes[j].pattern, ops[i].path) == 0)
				r = &wm_api_routes[j];
		if (!r) {
			fprintf(stderr, "  documented, not served: %s %s\n",
				ops[i].method, ops[i].path);
			CHECK(r != NULL);
			continue;
		}
		for (unsigned k = 0; k < ops[i].n; k++) {
			if (!has_status(r->statuses, WM_API_ROUTE_STATUSES,
					ops[i].statuses[k])) {
				fprintf(stderr, "  %s %s: documents %u, never answers it\n",
					r->method, r->pattern, ops[i].statuses[k]);
				CHECK(0);
			}
		}
		for (size_t k = 0; k < WM_API_ROUTE_STATUSES && r->statuses[k]; k++) {
			if (!has_status(ops[i].statuses, ops[i].n, r->statuses[k])) {
				fprintf(stderr, "  %s %s: answers %u, undocumented\n",
					r->method, r->pattern, r->statuses[k]);
				CHECK(0);
			}
		}
	}
	for (size_t j = 0; j < wm_api_n_routes; j++) {
		bool found = false;
		for (int i = 0; i < n && !found; i++)
			found = strcmp(wm_api_routes[j].method, ops[i].method) == 0 &&
				strcmp(wm_api_routes[j].pattern, ops[i].path) == 0;
		if (!found)
			fprintf(stderr, "  served, not documented: %s %s\n",
				wm_api_routes[j].method, wm_api_routes[j].pattern);
		CHECK(found);
	}
}

/* ------------------------------------------------------------ browser */

/* Only the listener's own address, or localhost with its port, is a
 * Host to answer (DNS rebinding); a change carries no foreign Origin. */
TEST(browser_host_and_origin)
{
	CHECK(wm_browser_host_ok("127.0.0.1:7707", "127.0.0.1:7707"));
	CHECK(wm_browser_host_ok("localhost:7707", "127.0.0.1:7707"));
	CHECK(wm_browser_host_ok("LOCALHOST:7707", "127.0.0.1:7707"));
	CHECK(wm_browser_host_ok("[::1]:7707", "[::1]:7707"));
	CHECK(wm_browser_host_ok("localhost:7707", "[::1]:7707"));
	CHECK(!wm_browser_host_ok("evil.example:7707", "127.0.0.1:7707"));
	CHECK(!wm_browser_host_ok("127.0.0.1", "127.0.0.1:7707"));
	CHECK(!wm_browser_host_ok("127.0.0.1:7708", "127.0.0.1:7707"));
	CHECK(!wm_browser_host_ok("localhost:77070", "127.0.0.1:7707"));
	CHECK(!wm_browser_host_ok("127.0.0.2:7707", "127.0.0.1:7707"));
	/* a wildcard listener: any literal IP with its port, never a name */
	CHECK(wm_browser_host_ok("192.0.2.2:7707", "0.0.0.0:7707"));
	CHECK(wm_browser_host_ok("127.0.0.1:7707", "0.0.0.0:7707"));
	CHECK(wm_browser_host_ok("[2001:db8::2]:7707", "[::]:7707"));
	CHECK(wm_browser_host_ok("192.0.2.2:7707", "[::]:7707"));
	CHECK(wm_browser_host_ok("localhost:7707", "0.0.0.0:7707"));
	CHECK(!wm_browser_host_ok("evil.example:7707", "0.0.0.0:7707"));
	CHECK(!wm_browser_host_ok("192.0.2.2:7708", "0.0.0.0:7707"));
	CHECK(!wm_browser_host_ok("192.0.2.2", "0.0.0.0:7707"));
	CHECK(!wm_browser_host_ok("[192.0.2.2]:7707", "0.0.0.0:7707"));
	CHECK(!wm_browser_host_ok("[]:7707", "[::]:7707"));
	CHECK(!wm_browser_host_ok("192.0.2.2:7707", "192.0.2.1:7707"));
	CHECK(!wm_browser_host_ok("", "127.0.0.1:7707"));
	CHECK(!wm_browser_host_ok(NULL, "127.0.0.1:7707"));
	CHECK(wm_browser_host_ok("127.0.0.1", "127.0.0.1:80"));
	CHECK(wm_browser_host_ok("localhost", "127.0.0.1:80"));
	CHECK(!wm_browser_host_ok("127.0.0.1:8", "127.0.0.1:80"));

	CHECK(wm_browser_origin_ok(NULL, "127.0.0.1:7707"));
	CHECK(wm_browser_origin_ok("http://127.0.0.1:7707", "127.0.0.1:7707"));
	CHECK(wm_browser_origin_ok("http://localhost:7707", "localhost:7707"));
	CHECK(!wm_browser_origin_ok("http://localhost:7707", "127.0.0.1:7707"));
	CHECK(!wm_browser_origin_ok("https://127.0.0.1:7707", "127.0.0.1:7707"));
	CHECK(!wm_browser_origin_ok("http://evil.example", "127.0.0.1:7707"));
	CHECK(!wm_browser_origin_ok("null", "127.0.0.1:7707"));
	CHECK(!wm_browser_origin_ok("http://127.0.0.1:7707", NULL));
}

/* Session cookies: random, live WM_BROWSER_SESSION_S, a full match only;
 * the oldest gives way when the table is full. */
TEST(browser_sessions)
{
	struct wm_browser_sessions t;
	char c1[160], c2[160], hdr[200];
	const uint64_t s = 1000000000ULL, t0 = 5 * s;
	const char *v1;

	memset(&t, 0, sizeof(t));
	CHECK(wm_browser_session_new(&t, t0, c1, sizeof(c1)) == 0);
	CHECK(wm_browser_session_new(&t, t0, c2, sizeof(c2)) == 0);
	CHECK(strncmp(c1, "wm_session=", 11) == 0 && strcmp(c1, c2) != 0);
	CHECK(strstr(c1, "; HttpOnly") && strstr(c1, "SameSite=Strict") &&
	      strstr(c1, "Path=/v1/events"));
	v1 = c1;
	snprintf(hdr, sizeof(hdr), "a=b; %.*s; c=d", (int)strcspn(v1, ";"), v1);
	CHECK(wm_browser_session_ok(&t, hdr, t0 + 1));
	CHECK(!wm_browser_session_ok(&t, hdr, t0 + WM_BROWSER_SESSION_S * s));
	CHECK(!wm_browser_session_ok(&t, NULL, t0));
	CHECK(!wm_browser_session_ok(&t, "wm_session=", t0));
	snprintf(hdr, sizeof(hdr), "%.*s", (int)strcspn(v1, ";") - 1, v1);
	CHECK(!wm_browser_session_ok(&t, hdr, t0)); /* one digit short */
	snprintf(hdr, sizeof(hdr), "%.*s0", (int)strcspn(v1, ";"), v1);
	CHECK(!wm_browser_session_ok(&t, hdr, t0)); /* one digit more */
	/* A full table: the session that expires first is replaced. */
	snprintf(hdr, sizeof(hdr), "%.*s", (int)strcspn(v1, ";"), v1);
	for (int i = 0; i < WM_BROWSER_SESSIONS - 2; i++)
		CHECK(wm_browser_session_new(&t, t0 + s, c2, sizeof(c2)) == 0);
	CHECK(wm_browser_session_ok(&t, hdr, t0 + s));
	CHECK(wm_browser_session_new(&t, t0 + s, c2, sizeof(c2)) == 0);
	CHECK(!wm_browser_session_ok(&t, hdr, t0 + s));
	/* The page is compiled in, whole. */
	CHECK(wm_page_html_len > 1000 && wm_page_html[0] == '<' &&
	      strstr(wm_page_html, "</html>") &&
	      strlen(wm_page_html) == wm_page_html_len);
	/* Nothing loaded from elsewhere (the SVG namespace is a name). */
	CHECK(!strstr(wm_page_html, "https://") && !strstr(wm_page_html, " src=") &&
	      !strstr(wm_page_html, "<link"));
}

int main(void)
{
	RUN(url_keys);
	RUN(router);
	RUN(error_document);
	RUN(body_checks);
	RUN(peer_body);
	RUN(peer_set_and_mode_bodies);
	RUN(peer_render);
	RUN(peer_round_trip_is_a_no_op);
	RUN(prometheus_escaping);
	RUN(metrics_text);
	RUN(sse_record);
	RUN(rfc3339);
	RUN(saveconfig_text);
	RUN(cli_helpers);
	RUN(api_socket_rules);
	RUN(token_file_mode_warning);
	RUN(json_wipe_allocator);
	RUN(openapi_matches_routes);
	RUN(browser_host_and_origin);
	RUN(browser_sessions);
	return check_summary();
}
