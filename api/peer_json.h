/*
 * peer_json.h - the peer resource of the REST API: a wm_peer rendered as
 * JSON, request bodies checked and turned into wm_peer_config, and peer keys
 * as they appear in URLs. Pure: nothing here does I/O or changes a device,
 * so the unit tests drive it directly.
 *
 * A peer body (PUT /v1/peers/{key}, or one element of PUT /v1/peers):
 *   allowed_ips            required, array of "ip/len" strings (may be [])
 *   persistent_keepalive   0..65535 seconds; left out or null: 0
 *   path_mode              "auto" | "direct" | "relay"; left out: "auto"
 *   preshared_key          base64; null removes it; left out: kept
 *   endpoint               numeric "ip:port" / "[v6]:port"; left out or
 *                          null: kept (it may have been learned by roaming)
 *   name                   1..63 visible ASCII characters but '#' (spaces
 *                          inside allowed); null removes it; left out: kept
 *   public_key             must match the URL's key when both are given
 * The read-only fields of a rendered peer (path, candidates,
 * last_handshake, rx_bytes, tx_bytes, rtt_ms, rtt_us, last_rx) are
 * accepted and ignored, so
 * a GET answer can be sent back; anything else is refused (422), so typos
 * do not pass silently.
 */
#ifndef WM_API_PEER_JSON_H
#define WM_API_PEER_JSON_H

#include "agent/config.h"
#include "agent/peer.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the device alone cannot tell about a peer; the agent's path
 * selection knows it. */
struct wm_peer_view {
	const char *path;   /* "direct", "relay" or "none" */
	int rtt_ms;         /* < 0: unknown (rendered as null) */
	json_t *candidates; /* "ip:port" strings; taken over; NULL: [] */
	int64_t rtt_us;     /* <= 0: unknown (null) */
	/* The last authenticated packet straight from the endpoint and
	 * through the relay, unix ms (wall clock); 0: never (null). */
	int64_t rx_direct_ms, rx_relay_ms;
};

/* A parsed peer body: the config to apply plus what was left out. */
struct wm_peer_update {
	struct wm_peer_config pc; /* allowed_ips owned: free with _free */
	bool psk_given;           /* preshared_key present (string or null) */
	bool name_given;          /* name present (string or null) */
};

/* The peer object (field list in DESIGN.md, REST API). NULL on ENOMEM;
 * v->candidates is released either way. */
json_t *wm_peer_json_render(const struct wm_peer *p,
			    const struct wm_peer_view *v);

/* Decodes the {key} segment of a URL path as it arrived (still
 * percent-encoded): base64url with or without padding, or standard base64
 * with '+', '/' and '=' raw or as %2B %2F %3D. False on anything else. */
bool wm_peer_json_url_key(uint8_t key[32], const char *seg, size_t len);

/* Parses a peer body into u (zeroed first). url_key: the key from the
 * URL, or NULL when the body must name it in public_key. Returns 0, or
 * 422 with the reason in msg, or 500 when out of memory (u is then
 * freed). */
unsigned wm_peer_json_parse(struct wm_peer_update *u, const json_t *body,
			    const uint8_t *url_key, char *msg, size_t cap);
/* Fills what u left out from the peer it will update (cur; NULL for a
 * new peer changes nothing): the preshared key and the name are kept
 * unless given. */
void wm_peer_json_merge(struct wm_peer_update *u, const struct wm_peer *cur);
/* True when applying u (after merge) to cur would change nothing. */
bool wm_peer_json_same(const struct wm_peer_update *u,
		       const struct wm_peer *cur);
void wm_peer_update_free(struct wm_peer_update *u);

/* Parses {"peers":[peer body with public_key, ...]} for PUT /v1/peers.
 * Returns 0 with *out (n elements; free each and the array), 422 with
 * msg (duplicate keys, a bad element) or 500 when out of memory. */
unsigned wm_peer_json_parse_set(struct wm_peer_update **out, size_t *n,
				const json_t *body, char *msg, size_t cap);

/* Unix ms as RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.250Z");
 * returns out, or NULL when the time cannot be shown. */
char *wm_peer_json_time_ms(char out[40], int64_t ms);

/* Parses {"mode":"auto"|"direct"|"relay"}. Returns 0 or 422 with msg. */
unsigned wm_peer_json_parse_mode(enum wm_path_mode *mode, const json_t *body,
				 char *msg, size_t cap);

#endif
