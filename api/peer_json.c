/* See peer_json.h. */
#include "api/peer_json.h"
#include "api/json.h"
#include "agent/device.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *allowed_ips_json(const struct wm_peer *p)
{
	const struct wm_allowedips *t = &p->dev->allowedips;
	size_t n = wm_allowedips_list(t, p, NULL, 0);
	struct wm_cidr *c = n ? calloc(n, sizeof(*c)) : NULL;
	json_t *arr = json_array();

	if (!arr || (n && !c)) {
		free(c);
		json_decref(arr);
		return NULL;
	}
	n = wm_allowedips_list(t, p, c, n);
	for (size_t i = 0; i < n; i++) {
		char buf[WM_CIDR_STRLEN];
		if (json_array_append_new(arr, json_string(wm_cidr_format(
						buf, sizeof(buf), &c[i]))) < 0) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	}
	free(c);
	return arr;
}

char *wm_peer_json_time_ms(char out[40], int64_t ms)
{
	char secs[32];
	size_t n;

	if (ms < 0 || !wm_json_rfc3339(secs, ms / 1000))
		return NULL;
	n = strlen(secs);
	/* "...:SSZ" becomes "...:SS.mmmZ". */
	snprintf(out, 40, "%.*s.%03dZ", (int)(n - 1), secs, (int)(ms % 1000));
	return out;
}

static json_t *time_ms_json(int64_t ms)
{
	char buf[40];

	return ms > 0 && wm_peer_json_time_ms(buf, ms) ? json_string(buf)
						       : json_null();
}

json_t *wm_peer_json_render(const struct wm_peer *p,
			    const struct wm_peer_view *v)
{
	char key[WM_KEY_B64_LEN + 1], ep[WM_SOCKADDR_STRLEN], when[32];
	json_t *cand = v->candidates ? v->candidates : json_array();
	json_t *endpoint = json_null(), *hs = json_null();
	json_t *rtt = json_null(), *rtt_us = json_null(), *o;
	int64_t ttd = wm_peer_time_to_direct_ms(p);

	wm_key_to_base64(key, p->public_key);
	if (p->endpoint.sa.sa_family != AF_UNSPEC)
		endpoint = json_string(wm_sockaddr_format(ep, sizeof(ep),
							  &p->endpoint));
	/* The wall-clock stamp is only meaningful once a handshake happened. */
	if (p->last_handshake_mono &&
	    wm_json_rfc3339(when, (int64_t)p->last_handshake_sec))
		hs = json_string(when);
	if (v->rtt_ms >= 0)
		rtt = json_integer(v->rtt_ms);
	if (v->rtt_us > 0)
		rtt_us = json_integer(v->rtt_us);
	/* json_pack's "o" steals each reference, also on failure. */
	o = json_pack("{s:s,s:o,s:o,s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:o,s:o,"
		      "s:{s:o,s:o},s:i}",
			 "public_key", key,
			 "name", p->name[0] ? json_string(p->name) : json_null(),
			 "allowed_ips", allowed_ips_json(p),
			 "path", v->path ? v->path : "none",
			 "path_mode", wm_path_mode_name(p->path_mode),
			 "endpoint", endpoint,
			 "candidates", cand,
			 "last_handshake", hs,
			 "rx_bytes", (json_int_t)p->rx_bytes,
			 "tx_bytes", (json_int_t)p->tx_bytes,
			 "rtt_ms", rtt,
			 "rtt_us", rtt_us,
			 "last_rx", "direct", time_ms_json(v->rx_direct_ms),
			 "relay", time_ms_json(v->rx_relay_ms),
			 "persistent_keepalive", (int)p->persistent_keepalive);
	if (o && json_object_set_new(o, "time_to_direct_ms",
				     ttd >= 0 ? json_integer(ttd) : json_null()) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool wm_peer_json_url_key(uint8_t key[32], const char *seg, size_t len)
{
	char buf[WM_KEY_B64_LEN + 1];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = seg[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return false;
			hi = hexval(seg[i + 1]);
			lo = hexval(seg[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0' || n == WM_KEY_B64_LEN)
			return false;
		buf[n++] = c;
	}
	buf[n] = '\0';
	/* The url decoder takes both alphabets and optional padding. */
	return wm_key_from_base64url(key, buf);
}

static unsigned fail(char *msg, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static unsigned fail(char *msg, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	return 422;
}

static const char *const writable[] = {
	"public_key", "allowed_ips", "endpoint", "preshared_key",
	"persistent_keepalive", "path_mode", "name",
};
static const char *const read_only[] = {
	"path", "candidates", "last_handshake", "rx_bytes", "tx_bytes",
	"rtt_ms", "rtt_us", "last_rx", "time_to_direct_ms",
};

static bool known_field(const char *name)
{
	for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++)
		if (strcmp(name, writable[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
		if (strcmp(name, read_only[i]) == 0)
			return true;
	return false;
}

static unsigned parse_allowed_ips(struct wm_cidr_list *l, const json_t *arr,
				  char *msg, size_t cap)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return fail(msg, cap, "allowed_ips: an array of \"ip/len\" "
				      "strings is required");
	json_array_foreach(arr, i, v) {
		struct wm_cidr c;
		const char *bad = NULL;
		size_t bad_len = 0;

		if (!json_is_string(v))
			return fail(msg, cap, "allowed_ips[%zu]: not a string", i);
		/* One item per string: a comma would smuggle in a list. */
		if (strchr(json_string_value(v), ',') ||
		    !wm_cidr_parse(&c, json_string_value(v)))
			return fail(msg, cap, "allowed_ips[%zu]: not an IP "
					      "prefix: '%.64s'", i,
				    json_string_value(v));
		/* It parsed above: only memory can fail here. */
		if (!wm_parse_cidr_list(l, json_string_value(v), &bad, &bad_len))
			return 500;
		/* As WireGuard stores them, so comparisons see equals. */
		wm_cidr_mask(&l->items[l->len - 1]);
	}
	return 0;
}

unsigned wm_peer_json_parse(struct wm_peer_update *u, const json_t *body,
			    const uint8_t *url_key, char *msg, size_t cap)
{
	struct wm_peer_config *pc = &u->pc;
	const char *name;
	json_t *v;
	unsigned st = 0;

	memset(u, 0, sizeof(*u));
	if (!json_is_object(body))
		return fail(msg, cap, "a peer must be a JSON object");
	json_object_foreach((json_t *)body, name, v) {
		if (!known_field(name)) {
			st = fail(msg, cap, "unknown field '%.64s'", name);
			goto out;
		}
	}
	v = json_object_get(body, "public_key");
	if (v) {
		uint8_t k[32];
		if (!json_is_string(v) || !wm_parse_key(k, json_string_value(v))) {
			st = fail(msg, cap, "public_key: not a base64 key");
			goto out;
		}
		if (url_key && memcmp(k, url_key, 32) != 0) {
			st = fail(msg, cap, "public_key differs from the key "
					    "in the URL");
			goto out;
		}
		memcpy(pc->public_key, k, 32);
	} else if (url_key) {
		memcpy(pc->public_key, url_key, 32);
	} else {
		st = fail(msg, cap, "public_key is required");
		goto out;
	}
	v = json_object_get(body, "allowed_ips");
	if (!v) {
		st = fail(msg, cap, "allowed_ips is required (it may be [])");
		goto out;
	}
	st = parse_allowed_ips(&pc->allowed_ips, v, msg, cap);
	if (st)
		goto out;
	v = json_object_get(body, "endpoint");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    !wm_sockaddr_parse(&pc->endpoint, json_string_value(v)) ||
		    wm_sockaddr_len(&pc->endpoint) == 0 ||
		    (pc->endpoint.sa.sa_family == AF_INET
			     ? pc->endpoint.in.sin_port
			     : pc->endpoint.in6.sin6_port) == 0) {
			st = fail(msg, cap, "endpoint: not a numeric ip:port or "
					    "[ipv6]:port with a port 1..65535");
			goto out;
		}
		pc->has_endpoint = true;
		snprintf(pc->endpoint_text, sizeof(pc->endpoint_text), "%s",
			 json_string_value(v));
	}
	v = json_object_get(body, "preshared_key");
	if (v) {
		u->psk_given = true;
		if (!json_is_null(v) &&
		    (!json_is_string(v) ||
		     !wm_parse_key(pc->psk, json_string_value(v)))) {
			st = fail(msg, cap, "preshared_key: not a base64 key "
					    "(or null)");
			goto out;
		}
		/* An all-zero key means none, as in wg. */
		pc->has_psk = !json_is_null(v) && !wm_ct_is_zero(pc->psk, 32);
	}
	v = json_object_get(body, "persistent_keepalive");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 65535) {
			st = fail(msg, cap, "persistent_keepalive: an integer "
					    "0..65535 is required");
			goto out;
		}
		pc->persistent_keepalive = (uint16_t)json_integer_value(v);
	}
	v = json_object_get(body, "name");
	if (v) {
		u->name_given = true;
		if (!json_is_null(v) &&
		    (!json_is_string(v) ||
		     !wm_parse_peer_name(pc->name, json_string_value(v)))) {
			st = fail(msg, cap, "name: 1..%d visible ASCII "
					    "characters other than '#', spaces "
					    "inside allowed (or null)",
				  WM_PEER_NAME_MAX - 1);
			goto out;
		}
	}
	v = json_object_get(body, "path_mode");
	if (v && (!json_is_string(v) ||
		  !wm_parse_path_mode(&pc->path_mode, json_string_value(v)))) {
		st = fail(msg, cap, "path_mode: not auto, direct or relay");
		goto out;
	}
out:
	if (st)
		wm_peer_update_free(u);
	return st;
}

void wm_peer_json_merge(struct wm_peer_update *u, const struct wm_peer *cur)
{
	if (!cur)
		return;
	if (!u->name_given)
		memcpy(u->pc.name, cur->name, sizeof(u->pc.name));
	if (u->psk_given)
		return;
	memcpy(u->pc.psk, cur->noise.preshared_key, 32);
	u->pc.has_psk = !wm_ct_is_zero(u->pc.psk, 32);
}

static bool same_allowed_ips(const struct wm_cidr_list *want,
			     const struct wm_peer *p)
{
	size_t n = wm_allowedips_list(&p->dev->allowedips, p, NULL, 0);
	struct wm_cidr *have;
	bool same = true;

	have = n ? calloc(n, sizeof(*have)) : NULL;
	if (n && !have)
		return false;
	n = wm_allowedips_list(&p->dev->allowedips, p, have, n);
	/* Both sides as sets: duplicates in the request do not count. */
	for (size_t i = 0; i < want->len && same; i++) {
		bool found = false;
		for (size_t j = 0; j < n && !found; j++)
			found = wm_cidr_equal(&want->items[i], &have[j]);
		same = found;
	}
	for (size_t j = 0; j < n && same; j++) {
		bool found = false;
		for (size_t i = 0; i < want->len && !found; i++)
			found = wm_cidr_equal(&want->items[i], &have[j]);
		same = found;
	}
	free(have);
	return same;
}

bool wm_peer_json_same(const struct wm_peer_update *u,
		       const struct wm_peer *cur)
{
	const struct wm_peer_config *pc = &u->pc;
	uint8_t zero[32] = { 0 };

	if (!wm_ct_memeq(cur->noise.preshared_key, pc->has_psk ? pc->psk : zero,
			 32))
		return false;
	if (pc->has_endpoint && !wm_sockaddr_equal(&pc->endpoint, &cur->endpoint))
		return false;
	return pc->persistent_keepalive == cur->persistent_keepalive &&
	       pc->path_mode == cur->path_mode &&
	       strcmp(pc->name, cur->name) == 0 &&
	       same_allowed_ips(&pc->allowed_ips, cur);
}

void wm_peer_update_free(struct wm_peer_update *u)
{
	wm_cidr_list_free(&u->pc.allowed_ips);
	wm_memzero(u->pc.psk, sizeof(u->pc.psk));
	memset(u, 0, sizeof(*u));
}

unsigned wm_peer_json_parse_set(struct wm_peer_update **out, size_t *n,
				const json_t *body, char *msg, size_t cap)
{
	const json_t *arr = json_object_get(body, "peers");
	struct wm_peer_update *u;
	const char *name;
	json_t *v;
	size_t i, count;
	unsigned st;

	*out = NULL;
	*n = 0;
	json_object_foreach((json_t *)body, name, v)
		if (strcmp(name, "peers") != 0)
			return fail(msg, cap, "unknown field '%.64s'", name);
	if (!json_is_array(arr))
		return fail(msg, cap, "peers: an array of peers is required");
	count = json_array_size(arr);
	u = calloc(count ? count : 1, sizeof(*u));
	if (!u)
		return 500;
	for (i = 0; i < count; i++) {
		char sub[256];
		st = wm_peer_json_parse(&u[i], json_array_get(arr, i), NULL,
					sub, sizeof(sub));
		if (st) {
			snprintf(msg, cap, "peers[%zu]: %s", i, sub);
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (memcmp(u[j].pc.public_key, u[i].pc.public_key, 32) == 0) {
				char key[WM_KEY_B64_LEN + 1];
				wm_key_to_base64(key, u[i].pc.public_key);
				wm_peer_update_free(&u[i]);
				st = fail(msg, cap, "peers[%zu]: %s is also "
						    "peers[%zu]", i, key, j);
				goto fail;
			}
		}
	}
	*out = u;
	*n = count;
	return 0;
fail:
	for (size_t j = 0; j < i; j++)
		wm_peer_update_free(&u[j]);
	free(u);
	return st;
}

unsigned wm_peer_json_parse_mode(enum wm_path_mode *mode, const json_t *body,
				 char *msg, size_t cap)
{
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)body, name, v)
		if (strcmp(name, "mode") != 0)
			return fail(msg, cap, "unknown field '%.64s'", name);
	v = json_object_get(body, "mode");
	if (!json_is_string(v) || !wm_parse_path_mode(mode, json_string_value(v)))
		return fail(msg, cap, "mode: one of \"auto\", \"direct\", "
				      "\"relay\" is required");
	return 0;
}
