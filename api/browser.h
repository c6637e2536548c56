/*
 * browser.h - how a browser may use the API: the status page (GET /,
 * api/page.html, compiled in) on the loopback TCP listener (APIListen),
 * and the checks that keep other web sites out of it.
 *
 *   - Host: on the TCP listener every request must name the listener
 *     itself: its literal address ("127.0.0.1:7707", "[::1]:7707") or
 *     "localhost:PORT". A DNS name that an attacker points at 127.0.0.1
 *     (DNS rebinding) is refused with 403 before anything else.
 *   - Token: every request but GET / needs `Authorization: Bearer`. The
 *     page asks for the token once and keeps it for the tab
 *     (sessionStorage). EventSource cannot send headers, so the page
 *     trades the token for a session cookie (POST /v1/session): random,
 *     HttpOnly, SameSite=Strict, Path=/v1/events, WM_BROWSER_SESSION_S
 *     long, and good for GET /v1/events only, never for a change.
 *   - Origin: a state-changing request (anything but GET and HEAD) that
 *     carries an Origin must come from the listener's own origin
 *     ("http://" + Host), else 403; browsers send Origin on every such
 *     request, other clients (curl) need none. With no CORS header ever
 *     sent, other sites can neither read answers nor force a path.
 *
 * The unix socket is not reachable from a browser: none of this applies
 * there. Pure except the session table's random ids.
 */
#ifndef WM_API_BROWSER_H
#define WM_API_BROWSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_BROWSER_SESSIONS = 8,        /* at once; the oldest gives way */
	WM_BROWSER_SESSION_S = 600,     /* a cookie's life; the page renews */
	WM_BROWSER_ID_LEN = 16,         /* random bytes, 32 hex in the cookie */
};

#define WM_BROWSER_COOKIE "wm_session"

struct wm_browser_sessions {
	struct {
		uint8_t id[WM_BROWSER_ID_LEN];
		uint64_t expires_ns; /* 0: free */
	} s[WM_BROWSER_SESSIONS];
};

/* The page, generated from api/page.html at build time. */
extern const char wm_page_html[];
extern const size_t wm_page_html_len;

/* True when host (the Host header, NULL when missing) names the listener
 * listen ("ip:port" or "[v6]:port", as APIListen holds it). A wildcard
 * listener (0.0.0.0, [::]) is named by any literal IP with its port: a
 * rebound DNS name is what the check keeps out, and an IP is no name. */
bool wm_browser_host_ok(const char *host, const char *listen);
/* True when a state-changing request may go on: no Origin (not a
 * browser), or exactly "http://" + host. */
bool wm_browser_origin_ok(const char *origin, const char *host);

/* A new session: its Set-Cookie value in out (cap >= 160). 0 or -errno
 * (no randomness). */
int wm_browser_session_new(struct wm_browser_sessions *t, uint64_t now_ns,
			   char *out, size_t cap);
/* True when the Cookie header (NULL: none) holds a live session. */
bool wm_browser_session_ok(const struct wm_browser_sessions *t,
			   const char *cookie_header, uint64_t now_ns);

#endif
