/* See browser.h. */
#include "api/browser.h"
#include "crypto/ct.h"
#include "crypto/random.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

/* The port of "ip:port" / "[v6]:port": what follows the last ':'. */
static const char *port_of(const char *listen)
{
	const char *c = strrchr(listen, ':');

	return c ? c + 1 : "";
}

static bool is_wildcard(const char *listen)
{
	return strncmp(listen, "0.0.0.0:", 8) == 0 ||
	       strncmp(listen, "[::]:", 5) == 0;
}

/* host is "a.b.c.d:port" or "[v6]:port" with that port. */
static bool literal_ip_with_port(const char *host, const char *port)
{
	char ip[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *colon = strrchr(host, ':');
	size_t n;
	int family = AF_INET;

	if (!colon || strcmp(colon + 1, port) != 0)
		return false;
	n = (size_t)(colon - host);
	if (host[0] == '[') {
		if (n < 2 || host[n - 1] != ']')
			return false;
		host++;
		n -= 2;
		family = AF_INET6;
	}
	if (n == 0 || n >= sizeof(ip))
		return false;
	memcpy(ip, host, n);
	ip[n] = '\0';
	return inet_pton(family, ip, bin) == 1;
}

bool wm_browser_host_ok(const char *host, const char *listen)
{
	char local[80];

	if (!host || !*host || !listen || !*listen)
		return false;
	if (strcasecmp(host, listen) == 0)
		return true;
	snprintf(local, sizeof(local), "localhost:%s", port_of(listen));
	if (strcasecmp(host, local) == 0)
		return true;
	if (is_wildcard(listen) && literal_ip_with_port(host, port_of(listen)))
		return true;
	/* Port 80 may be left out of Host. */
	if (strcmp(port_of(listen), "80") == 0) {
		size_t n = strlen(listen) - 3;
		if ((strlen(host) == n && strncasecmp(host, listen, n) == 0) ||
		    strcasecmp(host, "localhost") == 0)
			return true;
	}
	return false;
}

bool wm_browser_origin_ok(const char *origin, const char *host)
{
	static const char scheme[] = "http://";

	if (!origin)
		return true;
	if (!host || strncasecmp(origin, scheme, sizeof(scheme) - 1) != 0)
		return false;
	return strcasecmp(origin + sizeof(scheme) - 1, host) == 0;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int wm_browser_session_new(struct wm_browser_sessions *t, uint64_t now,
			   char *out, size_t cap)
{
	char id[2 * WM_BROWSER_ID_LEN + 1];
	size_t pick = 0;
	int r;

	/* A free or expired slot, else the one that expires first. */
	for (size_t i = 0; i < WM_BROWSER_SESSIONS; i++) {
		if (t->s[i].expires_ns <= now) {
			pick = i;
			break;
		}
		if (t->s[i].expires_ns < t->s[pick].expires_ns)
			pick = i;
	}
	r = wm_random_bytes(t->s[pick].id, WM_BROWSER_ID_LEN);
	if (r < 0)
		return r;
	t->s[pick].expires_ns = now + SEC(WM_BROWSER_SESSION_S);
	hex(id, t->s[pick].id, WM_BROWSER_ID_LEN);
	snprintf(out, cap, "%s=%s; Path=/v1/events; Max-Age=%d; HttpOnly; "
			   "SameSite=Strict",
		 WM_BROWSER_COOKIE, id, WM_BROWSER_SESSION_S);
	return 0;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The value of our cookie in a Cookie header ("a=1; wm_session=..."). */
static bool cookie_id(const char *h, uint8_t id[WM_BROWSER_ID_LEN])
{
	static const char name[] = WM_BROWSER_COOKIE "=";
	const char *p = h;

	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, name, sizeof(name) - 1) == 0) {
			p += sizeof(name) - 1;
			for (size_t i = 0; i < WM_BROWSER_ID_LEN; i++) {
				int hi = unhex(p[2 * i]), lo;
				if (hi < 0 || (lo = unhex(p[2 * i + 1])) < 0)
					return false;
				id[i] = (uint8_t)(hi << 4 | lo);
			}
			p += 2 * WM_BROWSER_ID_LEN;
			return *p == '\0' || *p == ';' || *p == ' ';
		}
		p = strchr(p, ';');
	}
	return false;
}

bool wm_browser_session_ok(const struct wm_browser_sessions *t,
			   const char *cookie_header, uint64_t now)
{
	uint8_t id[WM_BROWSER_ID_LEN];
	bool ok = false;

	if (!cookie_header || !cookie_id(cookie_header, id))
		return false;
	for (size_t i = 0; i < WM_BROWSER_SESSIONS; i++)
		ok |= t->s[i].expires_ns > now &&
		      wm_ct_memeq(t->s[i].id, id, WM_BROWSER_ID_LEN);
	wm_memzero(id, sizeof(id));
	return ok;
}
