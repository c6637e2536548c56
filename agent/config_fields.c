/* See config_fields.h. */
#include "agent/config_fields.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* --- characters, locale-independent ------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool wm_parse_u64(uint64_t *out, const char *s, uint64_t max)
{
	uint64_t v = 0;
	size_t n;

	for (n = 0; is_digit(s[n]); n++) {
		unsigned d = (unsigned)(s[n] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (n == 0 || s[n] || v > max)
		return false;
	*out = v;
	return true;
}

void *wm_config_grow(void *items, size_t *cap, size_t len, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *n;

	if (len < *cap)
		return items;
	if (ncap > SIZE_MAX / size || !(n = calloc(ncap, size)))
		return NULL;
	if (items) {
		memcpy(n, items, len * size);
		wm_memzero(items, *cap * size);
		free(items);
	}
	*cap = ncap;
	return n;
}

/* --- field parsers ------------------------------------------------------ */

bool wm_parse_key(uint8_t out[32], const char *text)
{
	return wm_key_from_base64(out, text);
}

bool wm_parse_port(uint16_t *out, const char *text)
{
	uint64_t v;

	if (!wm_parse_u64(&v, text, 65535))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool wm_parse_keepalive(uint16_t *out, const char *text)
{
	if (wm_ini_eq_nocase(text, "off")) {
		*out = 0;
		return true;
	}
	return wm_parse_port(out, text);
}

static const char *const path_modes[] = {
	[WM_PATH_AUTO] = "auto",
	[WM_PATH_DIRECT] = "direct",
	[WM_PATH_RELAY] = "relay",
};

bool wm_parse_path_mode(enum wm_path_mode *out, const char *text)
{
	for (int i = WM_PATH_AUTO; i <= WM_PATH_RELAY; i++) {
		if (wm_ini_eq_nocase(text, path_modes[i])) {
			*out = (enum wm_path_mode)i;
			return true;
		}
	}
	return false;
}

bool wm_parse_peer_name(char out[WM_PEER_NAME_MAX], const char *text)
{
	size_t n = strlen(text);

	/* Shown in terminals and pages: no control bytes, nothing a
	 * terminal would take as an escape. */
	if (n == 0 || n >= WM_PEER_NAME_MAX || text[0] == ' ' ||
	    text[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (text[i] < 0x20 || text[i] > 0x7e || text[i] == '#')
			return false;
	memcpy(out, text, n + 1);
	return true;
}

const char *wm_path_mode_name(enum wm_path_mode mode)
{
	return mode <= WM_PATH_RELAY ? path_modes[mode] : "?";
}

bool wm_parse_fwmark(uint32_t *out, const char *text)
{
	uint64_t v = 0;
	size_t n;

	if (wm_ini_eq_nocase(text, "off")) {
		*out = 0;
		return true;
	}
	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
		if (!wm_parse_u64(&v, text, UINT32_MAX))
			return false;
		*out = (uint32_t)v;
		return true;
	}
	for (n = 2; text[n]; n++) {
		char c = lower(text[n]);
		int d = is_digit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (d < 0 || n >= 10)
			return false;
		v = v << 4 | (unsigned)d;
	}
	if (n == 2)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool wm_parse_bool(bool *out, const char *text)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (wm_ini_eq_nocase(text, yes[i]) || wm_ini_eq_nocase(text, no[i])) {
			*out = wm_ini_eq_nocase(text, yes[i]);
			return true;
		}
	}
	return false;
}

/* A DNS name: RFC 1123 labels, with '_' tolerated for internal zones. */
static bool valid_hostname(const char *h, size_t len)
{
	size_t label = 0;

	if (len && h[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || h[i] == '.') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(h[i]) || h[i] == '_' ||
			   (h[i] == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

/*
 * Why text is not "host:port" or "[v6]:port" with port 1..65535, or NULL
 * when it is. check_host also vets the host's spelling; otherwise that is
 * left to the resolver.
 */
static const char *hostport_problem(const char *text, bool check_host)
{
	char host[WM_HOSTPORT_MAX];
	const char *port;
	size_t hlen;
	uint64_t p;

	if (!text[0])
		return "empty";
	if (strlen(text) >= WM_HOSTPORT_MAX)
		return "too long";
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		struct in6_addr a6;
		char *pct;

		if (!close)
			return "no ']' after the IPv6 address";
		if (close[1] != ':')
			return "no ':port' after ']'";
		hlen = (size_t)(close - text - 1);
		memcpy(host, text + 1, hlen);
		host[hlen] = '\0';
		port = close + 2;
		pct = strchr(host, '%');
		if (pct)
			*pct = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1 || (pct && !pct[1]))
			return "not an IPv6 address inside [ ]";
	} else {
		const char *colon = strrchr(text, ':');
		struct in_addr a4;

		if (!colon)
			return "no ':port'";
		if (memchr(text, ':', (size_t)(colon - text)))
			return "an IPv6 address needs brackets, as in [fd00::1]:51820";
		hlen = (size_t)(colon - text);
		if (hlen == 0)
			return "no host before ':'";
		memcpy(host, text, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		if (check_host && inet_pton(AF_INET, host, &a4) != 1) {
			/* The last label all digits means a mistyped address. */
			const char *dot = strrchr(host, '.');
			const char *tail = dot ? dot + 1 : host;
			bool numeric = *tail != '\0';

			for (const char *c = tail; *c; c++)
				numeric &= is_digit(*c);
			if (numeric || !valid_hostname(host, hlen))
				return "not a valid host name or IPv4 address";
		}
	}
	if (!wm_parse_u64(&p, port, 65535) || p == 0)
		return "port must be 1..65535";
	return NULL;
}

bool wm_parse_hostport(char out[WM_HOSTPORT_MAX], const char *text)
{
	if (hostport_problem(text, true))
		return false;
	memcpy(out, text, strlen(text) + 1);
	return true;
}

bool wm_parse_ifname(char out[WM_IFNAME_MAX], const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len <= 5 || strcmp(base + len - 5, ".conf") != 0)
		return false;
	len -= 5;
	if (len >= WM_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = base[i];

		if (!is_alnum(c) && !strchr("_=+.-", c))
			return false;
	}
	/* The kernel refuses these two as names. */
	if ((len == 1 && base[0] == '.') || (len == 2 && !strncmp(base, "..", 2)))
		return false;
	memcpy(out, base, len);
	out[len] = '\0';
	return true;
}

static bool parse_cidr_item(struct wm_cidr *c, const char *item, size_t n)
{
	char buf[WM_CIDR_STRLEN];

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, item, n);
	buf[n] = '\0';
	return wm_cidr_parse(c, buf);
}

bool wm_parse_cidr_list(struct wm_cidr_list *list, const char *text,
			const char **bad, size_t *bad_len)
{
	size_t start = list->len;
	const char *p = text;

	while (is_space(*p))
		p++;
	if (!*p)
		return true;
	for (;;) {
		const char *item, *end;
		struct wm_cidr c, *items;
		size_t n;

		while (is_space(*p))
			p++;
		item = p;
		end = item + strcspn(item, ",");
		n = (size_t)(end - item);
		while (n && is_space(item[n - 1]))
			n--;
		if (!parse_cidr_item(&c, item, n)) {
			list->len = start;
			*bad = item;
			*bad_len = n;
			return false;
		}
		items = wm_config_grow(list->items, &list->cap, list->len, sizeof(c));
		if (!items) {
			list->len = start;
			*bad = NULL;
			return false;
		}
		list->items = items;
		list->items[list->len++] = c;
		if (!*end)
			return true;
		p = end + 1;
	}
}

void wm_cidr_list_free(struct wm_cidr_list *list)
{
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* --- the config files' wording ------------------------------------------ */

/* Secrets are never echoed: a near-miss private key in a log is a leak. */
bool wm_field_secret(struct wm_ini *ini, uint8_t out[32], const char *value)
{
	if (wm_parse_key(out, value))
		return true;
	return wm_ini_fail(ini, "not a base64 key (44 characters ending in "
				"'='; got %zu characters, not shown)",
			   strlen(value));
}

bool wm_field_public_key(struct wm_ini *ini, uint8_t out[32],
			 const char *value)
{
	if (wm_parse_key(out, value))
		return true;
	return wm_ini_fail(ini, "not a base64 key (44 characters ending in "
				"'='): '%s'", value);
}

bool wm_field_string(struct wm_ini *ini, char *dst, size_t cap,
		     const char *value)
{
	size_t n = strlen(value);

	if (n == 0)
		return wm_ini_fail(ini, "empty value");
	if (n >= cap)
		return wm_ini_fail(ini, "longer than %zu bytes: '%s'", cap - 1,
				   value);
	memcpy(dst, value, n + 1);
	return true;
}

bool wm_field_cidrs(struct wm_ini *ini, struct wm_cidr_list *list,
		    const char *value)
{
	const char *bad;
	size_t bad_len;

	if (wm_parse_cidr_list(list, value, &bad, &bad_len))
		return true;
	if (!bad)
		return wm_ini_fail(ini, "out of memory");
	return wm_ini_fail(ini, "not an address or prefix (like 10.0.0.1/24 "
				"or fd00::1/64): '%.*s'", (int)bad_len, bad);
}

bool wm_field_hostport(struct wm_ini *ini, char dst[WM_HOSTPORT_MAX],
		       const char *value, bool check_host)
{
	const char *why = hostport_problem(value, check_host);

	if (why)
		return wm_ini_fail(ini, "%s: '%s'", why, value);
	memcpy(dst, value, strlen(value) + 1);
	return true;
}

bool wm_field_listen(struct wm_ini *ini, char *dst, size_t cap,
		     const char *value)
{
	union wm_sockaddr a;

	if (strlen(value) >= cap || !wm_sockaddr_parse(&a, value) ||
	    wm_sockaddr_len(&a) == 0 ||
	    (a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port) == 0)
		return wm_ini_fail(ini, "not a numeric ip:port or [ipv6]:port "
					"with port 1..65535: '%s'", value);
	memcpy(dst, value, strlen(value) + 1);
	return true;
}

bool wm_field_bool(struct wm_ini *ini, bool *out, const char *value)
{
	if (wm_parse_bool(out, value))
		return true;
	return wm_ini_fail(ini, "neither true nor false: '%s'", value);
}
