/*
 * fuzz_api.c - the REST API's request parsing (api/routes.h, api/json.h,
 * api/peer_json.h): everything between the bytes libmicrohttpd hands over
 * and a change to the device, with no server running.
 *
 * Byte 0 of an input picks what the rest is (byte 1 is a flag byte for
 * the body cases):
 *
 *   0  a URL path: wm_api_route_match with a method picked by byte 1 (as
 *      server.c calls it, with its 64-byte Allow buffer), and
 *      wm_peer_json_url_key on the same bytes (an exact-size copy, not
 *      NUL-terminated, as the router passes a segment); the same text as
 *      a Content-Type through wm_json_media_type_ok
 *   1  a PUT /v1/peers/{key} body: wm_json_parse_body, then
 *      wm_peer_json_parse (flag bit 0: with the URL's key, else the body
 *      must name it), wm_peer_json_merge and wm_peer_json_same against
 *      the device's peer with that key, if any (flag bit 1: against none)
 *   2  a PUT /v1/peers body: wm_peer_json_parse_set, then merge/same of
 *      each element against the device's peer of that key
 *   3  a PUT /v1/peers/{key}/path body: wm_peer_json_parse_mode
 *
 * The device is built once: a private key and one peer (allowed IPs, a
 * psk, an endpoint). Parsing never changes it. Checked besides "no
 * crash": the status codes are the documented ones, the message is a
 * terminated string, and a parsed peer has masked prefixes, a port on
 * its endpoint and the URL's key.
 */
#include "common.h"
#include "api/json.h"
#include "api/peer_json.h"
#include "api/routes.h"
#include "agent/device.h"

#include <stdlib.h>
#include <string.h>

#define PRIV_HEX "4848484848484848484848484848484848484848484848484848484848484848"
/* Its base64 is ERERERERERERERERERERERERERERERERERERERERERE= */
#define PEER_HEX "1111111111111111111111111111111111111111111111111111111111111111"
#define PSK_HEX "3333333333333333333333333333333333333333333333333333333333333333"

static struct wm_device dev;
static uint8_t url_key[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t k[32];
	struct wm_peer *p;
	struct wm_cidr c;

	(void)argc;
	(void)argv;
	if (wm_device_init(&dev, "wmapi") < 0)
		fuzz_fail("wm_device_init");
	fuzz_key(k, PRIV_HEX);
	wm_device_set_private_key(&dev, k);
	fuzz_key(url_key, PEER_HEX);
	p = wm_device_add_peer(&dev, url_key);
	if (!p)
		fuzz_fail("wm_device_add_peer");
	fuzz_key(k, PSK_HEX);
	wm_peer_set_psk(p, k);
	if (!wm_sockaddr_parse(&p->endpoint, "192.0.2.1:51820") ||
	    !wm_cidr_parse(&c, "10.0.0.2/32") ||
	    wm_device_add_allowed_ip(&dev, p, &c) < 0 ||
	    !wm_cidr_parse(&c, "fd00::/64") ||
	    wm_device_add_allowed_ip(&dev, p, &c) < 0)
		fuzz_fail("peer setup");
	p->persistent_keepalive = 25;
	return 0;
}

static void check_msg(unsigned st, const char *msg, size_t cap,
		      const char *what)
{
	if (st != 422 && st != 500)
		fuzz_fail("%s: status %u", what, st);
	if (st == 422 && strnlen(msg, cap) == cap)
		fuzz_fail("%s: message not terminated", what);
}

static void check_update(const struct wm_peer_update *u, const uint8_t *key)
{
	const struct wm_peer_config *pc = &u->pc;

	if (key && memcmp(pc->public_key, key, 32) != 0)
		fuzz_fail("parsed peer has another key than the URL's");
	for (size_t i = 0; i < pc->allowed_ips.len; i++) {
		struct wm_cidr c = pc->allowed_ips.items[i];

		wm_cidr_mask(&c);
		if (!wm_cidr_equal(&c, &pc->allowed_ips.items[i]))
			fuzz_fail("allowed_ips[%zu] not masked", i);
	}
	if (pc->has_endpoint &&
	    (pc->endpoint.sa.sa_family == AF_INET ? pc->endpoint.in.sin_port
						  : pc->endpoint.in6.sin6_port) == 0)
		fuzz_fail("endpoint without a port");
}

/* What the handlers do next with an update (routes.c, apply()). */
static void merge_same(struct wm_peer_update *u, bool with_peer)
{
	struct wm_peer *p = with_peer ? wm_device_find_peer(&dev, u->pc.public_key)
				      : NULL;

	wm_peer_json_merge(u, p);
	if (p)
		(void)wm_peer_json_same(u, p);
}

static void route(const uint8_t *d, size_t n, uint8_t which)
{
	static const char *const methods[] = { "GET", "PUT", "DELETE", "HEAD",
					       "POST" };
	const char *method = methods[which % 5];
	char *path = fuzz_cstr(d, n), allow[64];
	char *seg = malloc(n ? n : 1);
	const struct wm_api_route *rt;
	uint8_t key[32];
	unsigned st = 12345;

	if (!seg)
		abort();
	memcpy(seg, d, n);
	rt = wm_api_route_match(method, path, key, &st, allow, sizeof(allow));
	if (rt ? st != 0 : (st != 400 && st != 404 && st != 405))
		fuzz_fail("route_match: status %u", st);
	if (!rt && strnlen(allow, sizeof(allow)) == sizeof(allow))
		fuzz_fail("route_match: Allow not terminated");
	if (fuzz_verbose())
		fprintf(stderr, "%s %s -> %s (%u) allow '%s'\n", method, path,
			rt ? rt->pattern : "-", st, rt ? "" : allow);
	(void)wm_peer_json_url_key(key, seg, n);
	(void)wm_json_media_type_ok(path);
	free(seg);
	free(path);
}

static json_t *body(const uint8_t *d, size_t n)
{
	char msg[300];
	json_t *j = NULL;
	unsigned st;

	st = wm_json_parse_body("application/json; charset=utf-8",
				(const char *)d, n, &j, msg, sizeof(msg));
	if (st == 0 && !json_is_object(j))
		fuzz_fail("parse_body: 0 without an object");
	if (st != 0 && (j || (st != 400 && st != 413 && st != 422)))
		fuzz_fail("parse_body: status %u", st);
	return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wm_peer_update u, *set;
	enum wm_path_mode mode;
	char msg[400];
	uint8_t flags;
	size_t n;
	unsigned st;
	json_t *j;

	if (size < 2 || size > WM_JSON_BODY_MAX + 2)
		return 0;
	flags = data[1];
	if (data[0] % 4 == 0) {
		route(data + 2, size - 2, flags);
		return 0;
	}
	j = body(data + 2, size - 2);
	if (!j)
		return 0;
	switch (data[0] % 4) {
	case 1:
		st = wm_peer_json_parse(&u, j, (flags & 1) ? url_key : NULL, msg,
					300);
		if (fuzz_verbose())
			fprintf(stderr, "peer: %u %s\n", st, st ? msg : "");
		if (st) {
			check_msg(st, msg, 300, "peer");
			break;
		}
		check_update(&u, (flags & 1) ? url_key : NULL);
		merge_same(&u, !(flags & 2));
		wm_peer_update_free(&u);
		break;
	case 2:
		st = wm_peer_json_parse_set(&set, &n, j, msg, sizeof(msg));
		if (fuzz_verbose())
			fprintf(stderr, "set: %u %s\n", st, st ? msg : "");
		if (st) {
			check_msg(st, msg, sizeof(msg), "set");
			break;
		}
		for (size_t i = 0; i < n; i++) {
			check_update(&set[i], NULL);
			for (size_t k = 0; k < i; k++)
				if (memcmp(set[k].pc.public_key,
					   set[i].pc.public_key, 32) == 0)
					fuzz_fail("set: duplicate key accepted");
			merge_same(&set[i], true);
		}
		for (size_t i = 0; i < n; i++)
			wm_peer_update_free(&set[i]);
		free(set);
		break;
	case 3:
		st = wm_peer_json_parse_mode(&mode, j, msg, 300);
		if (st)
			check_msg(st, msg, 300, "mode");
		else if (mode != WM_PATH_AUTO && mode != WM_PATH_DIRECT &&
			 mode != WM_PATH_RELAY)
			fuzz_fail("mode %d", (int)mode);
		break;
	}
	json_decref(j);
	return 0;
}
