/* See config.h. */
#include "agent/config.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"
#include "crypto/x25519.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER, SEC_RELAY };
enum { KEYS_MAIN, KEYS_PEER };

/* --- characters and strings, locale-independent ------------------------ */

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

static bool eq_nocase(const char *a, const char *b)
{
	while (*a && lower(*a) == lower(*b))
		a++, b++;
	return lower(*a) == lower(*b);
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Decimal only: no sign, no spaces, no 0x; at most 20 digits. */
static bool parse_u64(uint64_t *out, const char *s, uint64_t max)
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

/* Grows an array to hold len + 1 items. The old block is wiped before it
 * is freed, because peer arrays carry preshared keys. NULL when out of
 * memory (the array is then unchanged). */
static void *grow(void *items, size_t *cap, size_t len, size_t size)
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

	if (!parse_u64(&v, text, 65535))
		return false;
	*out = (uint16_t)v;
	return true;
}

bool wm_parse_keepalive(uint16_t *out, const char *text)
{
	if (eq_nocase(text, "off")) {
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
		if (eq_nocase(text, path_modes[i])) {
			*out = (enum wm_path_mode)i;
			return true;
		}
	}
	return false;
}

const char *wm_path_mode_name(enum wm_path_mode mode)
{
	return mode <= WM_PATH_RELAY ? path_modes[mode] : "?";
}

bool wm_parse_fwmark(uint32_t *out, const char *text)
{
	uint64_t v = 0;
	size_t n;

	if (eq_nocase(text, "off")) {
		*out = 0;
		return true;
	}
	if (text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
		if (!parse_u64(&v, text, UINT32_MAX))
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
		if (eq_nocase(text, yes[i]) || eq_nocase(text, no[i])) {
			*out = eq_nocase(text, yes[i]);
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
	if (!parse_u64(&p, port, 65535) || p == 0)
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
		items = grow(list->items, &list->cap, list->len, sizeof(c));
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

/* --- errors ------------------------------------------------------------- */

/* Prints "FILE[:LINE][: KEY]: message" and returns false. */
__attribute__((format(printf, 2, 3)))
static bool fail(struct wm_config_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	ctx->failed = true;
	if (!ctx->err)
		return false;
	fputs(ctx->path, ctx->err);
	if (ctx->lineno)
		fprintf(ctx->err, ":%u", ctx->lineno);
	if (ctx->key)
		fprintf(ctx->err, ": %s", ctx->key);
	fputs(": ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
	return false;
}

static bool out_of_memory(struct wm_config_ctx *ctx)
{
	return fail(ctx, "out of memory");
}

/* Secrets are never echoed: a near-miss private key in a log is a leak. */
static bool parse_secret(struct wm_config_ctx *ctx, uint8_t out[32],
			 const char *value)
{
	if (wm_parse_key(out, value))
		return true;
	return fail(ctx, "not a base64 key (44 characters ending in '='; "
			 "got %zu characters, not shown)", strlen(value));
}

static bool parse_public(struct wm_config_ctx *ctx, uint8_t out[32],
			 const char *value)
{
	if (wm_parse_key(out, value))
		return true;
	return fail(ctx, "not a base64 key (44 characters ending in '='): '%s'",
		    value);
}

static bool parse_string(struct wm_config_ctx *ctx, char *dst, size_t cap,
			 const char *value)
{
	size_t n = strlen(value);

	if (n == 0)
		return fail(ctx, "empty value");
	if (n >= cap)
		return fail(ctx, "longer than %zu bytes: '%s'", cap - 1, value);
	memcpy(dst, value, n + 1);
	return true;
}

static bool parse_cidrs(struct wm_config_ctx *ctx, struct wm_cidr_list *list,
			const char *value)
{
	const char *bad;
	size_t bad_len;

	if (wm_parse_cidr_list(list, value, &bad, &bad_len))
		return true;
	if (!bad)
		return out_of_memory(ctx);
	return fail(ctx, "not an address or prefix (like 10.0.0.1/24 or "
			 "fd00::1/64): '%.*s'", (int)bad_len, bad);
}

static bool parse_hostport(struct wm_config_ctx *ctx, char *dst,
			   const char *value)
{
	const char *why = hostport_problem(value, true);

	if (why)
		return fail(ctx, "%s: '%s'", why, value);
	memcpy(dst, value, strlen(value) + 1);
	return true;
}

/* A numeric listen address: "127.0.0.1:7707" or "[::1]:7707". */
static bool parse_listen(struct wm_config_ctx *ctx, char *dst, size_t cap,
			 const char *value)
{
	union wm_sockaddr a;

	if (strlen(value) >= cap || !wm_sockaddr_parse(&a, value) ||
	    wm_sockaddr_len(&a) == 0 ||
	    (a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port) == 0)
		return fail(ctx, "not a numeric ip:port or [ipv6]:port with "
				 "port 1..65535: '%s'", value);
	memcpy(dst, value, strlen(value) + 1);
	return true;
}

static bool parse_flag(struct wm_config_ctx *ctx, bool *out, const char *value)
{
	if (wm_parse_bool(out, value))
		return true;
	return fail(ctx, "neither true nor false: '%s'", value);
}

/* --- [Interface] -------------------------------------------------------- */

enum {
	IF_PRIVATE_KEY, IF_LISTEN_PORT, IF_FWMARK, IF_ADDRESS, IF_MTU,
	IF_RELAY, IF_RELAY_TCP, IF_RELAY_PUBLIC_KEY, IF_STUN, IF_API,
	IF_API_LISTEN, IF_API_TOKEN_FILE, IF_API_ALLOW_REMOTE, IF_SAVE_CONFIG,
	IF_DNS, IF_TABLE, IF_PRE_UP, IF_POST_UP, IF_PRE_DOWN, IF_POST_DOWN,
	IF_COUNT
};

static bool if_private_key(struct wm_config_ctx *ctx, const char *v)
{
	return parse_secret(ctx, ctx->cfg->private_key, v);
}

static bool if_listen_port(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_port(&ctx->cfg->listen_port, v))
		return true;
	return fail(ctx, "not a port (0..65535, 0 = random): '%s'", v);
}

static bool if_fwmark(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_fwmark(&ctx->cfg->fwmark, v))
		return true;
	return fail(ctx, "neither off nor 0..0xffffffff: '%s'", v);
}

static bool if_address(struct wm_config_ctx *ctx, const char *v)
{
	return parse_cidrs(ctx, &ctx->cfg->addresses, v);
}

static bool if_mtu(struct wm_config_ctx *ctx, const char *v)
{
	uint64_t mtu;

	if (!parse_u64(&mtu, v, WM_MTU_MAX) || mtu < WM_MTU_MIN)
		return fail(ctx, "not %d..%d (%d is the IPv6 minimum): '%s'",
			    WM_MTU_MIN, WM_MTU_MAX, WM_MTU_MIN, v);
	ctx->cfg->mtu = (uint16_t)mtu;
	return true;
}

static bool if_relay(struct wm_config_ctx *ctx, const char *v)
{
	return parse_hostport(ctx, ctx->cfg->relay, v);
}

/* "tls://host:port" or "tcp://host:port"; a bare host:port means TLS.
 * The scheme is kept for the relay client (relay/client.c). */
static bool if_relay_tcp(struct wm_config_ctx *ctx, const char *v)
{
	char hp[WM_HOSTPORT_MAX];
	size_t skip = 0;

	if (strncmp(v, "tls://", 6) == 0 || strncmp(v, "tcp://", 6) == 0)
		skip = 6;
	if (!parse_hostport(ctx, hp, v + skip))
		return false;
	snprintf(ctx->cfg->relay_tcp, sizeof(ctx->cfg->relay_tcp), "%.6s%s",
		 skip ? v : "", hp);
	return true;
}

static bool if_relay_public_key(struct wm_config_ctx *ctx, const char *v)
{
	ctx->cfg->has_relay_public_key =
		parse_public(ctx, ctx->cfg->relay_public_key, v);
	return ctx->cfg->has_relay_public_key;
}

/* One server per line, or several separated by commas. */
static bool if_stun(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_config *cfg = ctx->cfg;
	char buf[WM_CONFIG_LINE_MAX + 1], *item, *rest = buf;

	memcpy(buf, v, strlen(v) + 1);
	while ((item = strsep(&rest, ","))) {
		const char *why;
		char **stun;

		item = trim(item);
		why = hostport_problem(item, true);
		if (why)
			return fail(ctx, "%s: '%s'", why, item);
		stun = grow(cfg->stun, &cfg->cap_stun, cfg->n_stun,
			    sizeof(*stun));
		if (!stun)
			return out_of_memory(ctx);
		cfg->stun = stun;
		if (!(cfg->stun[cfg->n_stun] = strdup(item)))
			return out_of_memory(ctx);
		cfg->n_stun++;
	}
	return true;
}

static bool if_api(struct wm_config_ctx *ctx, const char *v)
{
	return parse_string(ctx, ctx->cfg->api_socket,
			    sizeof(ctx->cfg->api_socket), v);
}

static bool if_api_listen(struct wm_config_ctx *ctx, const char *v)
{
	return parse_listen(ctx, ctx->cfg->api_listen,
			    sizeof(ctx->cfg->api_listen), v);
}

static bool if_api_token_file(struct wm_config_ctx *ctx, const char *v)
{
	return parse_string(ctx, ctx->cfg->api_token_file,
			    sizeof(ctx->cfg->api_token_file), v);
}

static bool if_api_allow_remote(struct wm_config_ctx *ctx, const char *v)
{
	return parse_flag(ctx, &ctx->cfg->api_allow_remote, v);
}

static bool if_save_config(struct wm_config_ctx *ctx, const char *v)
{
	return parse_flag(ctx, &ctx->cfg->save_config, v);
}

typedef bool (*key_fn)(struct wm_config_ctx *ctx, const char *value);

enum { REPEAT = 1 };

struct key_def {
	const char *name;
	key_fn parse; /* NULL: accepted and ignored */
	unsigned flags;
};

static const struct key_def interface_keys[IF_COUNT] = {
	[IF_PRIVATE_KEY] = { "PrivateKey", if_private_key, 0 },
	[IF_LISTEN_PORT] = { "ListenPort", if_listen_port, 0 },
	[IF_FWMARK] = { "FwMark", if_fwmark, 0 },
	[IF_ADDRESS] = { "Address", if_address, REPEAT },
	[IF_MTU] = { "MTU", if_mtu, 0 },
	[IF_RELAY] = { "Relay", if_relay, 0 },
	[IF_RELAY_TCP] = { "RelayTCP", if_relay_tcp, 0 },
	[IF_RELAY_PUBLIC_KEY] = { "RelayPublicKey", if_relay_public_key, 0 },
	[IF_STUN] = { "STUN", if_stun, REPEAT },
	[IF_API] = { "API", if_api, 0 },
	[IF_API_LISTEN] = { "APIListen", if_api_listen, 0 },
	[IF_API_TOKEN_FILE] = { "APITokenFile", if_api_token_file, 0 },
	[IF_API_ALLOW_REMOTE] = { "APIAllowRemote", if_api_allow_remote, 0 },
	[IF_SAVE_CONFIG] = { "SaveConfig", if_save_config, 0 },
	/* wg-quick runs these itself; a wg-quick file must load as it is. */
	[IF_DNS] = { "DNS", NULL, REPEAT },
	[IF_TABLE] = { "Table", NULL, REPEAT },
	[IF_PRE_UP] = { "PreUp", NULL, REPEAT },
	[IF_POST_UP] = { "PostUp", NULL, REPEAT },
	[IF_PRE_DOWN] = { "PreDown", NULL, REPEAT },
	[IF_POST_DOWN] = { "PostDown", NULL, REPEAT },
};

/* --- [Peer] ------------------------------------------------------------- */

enum {
	PEER_PUBLIC_KEY, PEER_PRESHARED_KEY, PEER_ALLOWED_IPS, PEER_ENDPOINT,
	PEER_KEEPALIVE, PEER_PATH, PEER_COUNT
};

static struct wm_peer_config *cur_peer(struct wm_config_ctx *ctx)
{
	return &ctx->cfg->peers[ctx->cfg->n_peers - 1];
}

static bool peer_public_key(struct wm_config_ctx *ctx, const char *v)
{
	return parse_public(ctx, cur_peer(ctx)->public_key, v);
}

static bool peer_preshared_key(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_peer_config *p = cur_peer(ctx);

	if (!parse_secret(ctx, p->psk, v))
		return false;
	/* An all-zero PSK is what Noise uses without one. */
	p->has_psk = !wm_ct_is_zero(p->psk, sizeof(p->psk));
	return true;
}

static bool peer_allowed_ips(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_cidr_list *l = &cur_peer(ctx)->allowed_ips;
	size_t from = l->len;

	if (!parse_cidrs(ctx, l, v))
		return false;
	/* Like wg: 10.0.0.1/24 routes 10.0.0.0/24. */
	for (size_t i = from; i < l->len; i++)
		wm_cidr_mask(&l->items[i]);
	return true;
}

static bool peer_endpoint(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_peer_config *p = cur_peer(ctx);
	const char *why = hostport_problem(v, false);
	int r;

	if (why)
		return fail(ctx, "%s: '%s'", why, v);
	r = wm_sockaddr_resolve(&p->endpoint, v);
	if (r)
		return fail(ctx, "cannot resolve '%s': %s", v,
			    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	memcpy(p->endpoint_text, v, strlen(v) + 1);
	p->has_endpoint = true;
	return true;
}

static bool peer_keepalive(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_keepalive(&cur_peer(ctx)->persistent_keepalive, v))
		return true;
	return fail(ctx, "neither off nor 0..65535 seconds: '%s'", v);
}

static bool peer_path(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_path_mode(&cur_peer(ctx)->path_mode, v))
		return true;
	return fail(ctx, "not auto, direct or relay: '%s'", v);
}

/* Key lines are kept in a ctx array of 32 per section. */
_Static_assert(IF_COUNT <= 32 && PEER_COUNT <= 32, "too many keys");

static const struct key_def peer_keys[PEER_COUNT] = {
	[PEER_PUBLIC_KEY] = { "PublicKey", peer_public_key, 0 },
	[PEER_PRESHARED_KEY] = { "PresharedKey", peer_preshared_key, 0 },
	[PEER_ALLOWED_IPS] = { "AllowedIPs", peer_allowed_ips, REPEAT },
	[PEER_ENDPOINT] = { "Endpoint", peer_endpoint, 0 },
	[PEER_KEEPALIVE] = { "PersistentKeepalive", peer_keepalive, 0 },
	[PEER_PATH] = { "Path", peer_path, 0 },
};

/* --- [Relay] ------------------------------------------------------------ */

enum {
	RL_PRIVATE_KEY, RL_LISTEN_PORT, RL_TCP_LISTEN, RL_TLS_CERT, RL_TLS_KEY,
	RL_ALLOWED_CLIENTS, RL_ALLOWED_CLIENTS_FILE, RL_CLIENT_RATE,
	RL_MAX_CLIENTS, RL_COUNT
};

static bool rl_private_key(struct wm_config_ctx *ctx, const char *v)
{
	return parse_secret(ctx, ctx->relay->private_key, v);
}

static bool rl_listen_port(struct wm_config_ctx *ctx, const char *v)
{
	uint16_t port;

	/* Clients must know the port: a random one would serve nobody. */
	if (!wm_parse_port(&port, v) || port == 0)
		return fail(ctx, "not a port (1..65535): '%s'", v);
	ctx->relay->listen_port = port;
	return true;
}

static bool rl_tcp_listen(struct wm_config_ctx *ctx, const char *v)
{
	return parse_listen(ctx, ctx->relay->tcp_listen,
			    sizeof(ctx->relay->tcp_listen), v);
}

static bool rl_tls_cert(struct wm_config_ctx *ctx, const char *v)
{
	return parse_string(ctx, ctx->relay->tls_cert,
			    sizeof(ctx->relay->tls_cert), v);
}

static bool rl_tls_key(struct wm_config_ctx *ctx, const char *v)
{
	return parse_string(ctx, ctx->relay->tls_key,
			    sizeof(ctx->relay->tls_key), v);
}

static bool add_client(struct wm_config_ctx *ctx, const uint8_t key[32])
{
	struct wm_relay_config *r = ctx->relay;
	uint8_t (*keys)[32];

	keys = grow(r->allowed_clients, &r->cap_allowed_clients,
		    r->n_allowed_clients, sizeof(*keys));
	if (!keys)
		return out_of_memory(ctx);
	r->allowed_clients = keys;
	memcpy(r->allowed_clients[r->n_allowed_clients++], key, 32);
	return true;
}

static bool rl_allowed_clients(struct wm_config_ctx *ctx, const char *v)
{
	uint8_t key[32];

	return parse_public(ctx, key, v) && add_client(ctx, key);
}

static int read_line(FILE *f, char *buf, size_t cap, size_t *len);
static FILE *open_config(struct wm_config_ctx *ctx, const char *path);
static const char *text_problem(const unsigned char *s, size_t *col);

/* One key per line; '#' starts a comment. */
static bool rl_allowed_clients_file(struct wm_config_ctx *ctx, const char *v)
{
	char path[2 * WM_CONFIG_PATH_MAX + 2], line[WM_CONFIG_LINE_MAX + 1];
	const char *slash = strrchr(ctx->path, '/'), *why;
	unsigned n = 0;
	size_t len, col;
	bool ok = true;
	FILE *f;
	int r;

	if (!v[0])
		return fail(ctx, "empty value");
	/* Relative to the config file, where an operator would keep it. */
	if (v[0] != '/' && slash)
		snprintf(path, sizeof(path), "%.*s/%s",
			 (int)(slash - ctx->path), ctx->path, v);
	else
		snprintf(path, sizeof(path), "%s", v);
	f = open_config(ctx, path);
	if (!f)
		return false;
	while (ok && (r = read_line(f, line, sizeof(line), &len)) > 0) {
		char *hash = strchr(line, '#'), *key;
		uint8_t k[32];

		n++;
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((why = text_problem((const unsigned char *)line, &col))) {
			ok = fail(ctx, "%s:%u: %s at column %zu", path, n, why,
				  col);
			break;
		}
		if (hash)
			*hash = '\0';
		key = trim(line);
		if (!*key)
			continue;
		if (!wm_parse_key(k, key))
			ok = fail(ctx, "%s:%u: not a base64 public key: '%s'",
				  path, n, key);
		else
			ok = add_client(ctx, k);
	}
	if (ok && r < 0)
		ok = fail(ctx, "%s:%u: %s", path, n + 1,
			  r == -1 ? "line too long" :
			  r == -2 ? "NUL byte" : strerror(errno));
	fclose(f);
	return ok;
}

static bool rl_client_rate(struct wm_config_ctx *ctx, const char *v)
{
	/* A terabyte per second bounds the token-bucket arithmetic. */
	if (!parse_u64(&ctx->relay->client_rate, v, 1000000000000ULL) ||
	    ctx->relay->client_rate == 0)
		return fail(ctx, "not 1..1000000000000 bytes/s: '%s'", v);
	return true;
}

static bool rl_max_clients(struct wm_config_ctx *ctx, const char *v)
{
	uint64_t n;

	if (!parse_u64(&n, v, 1000000) || n == 0)
		return fail(ctx, "not 1..1000000: '%s'", v);
	ctx->relay->max_clients = (uint32_t)n;
	return true;
}

_Static_assert(RL_COUNT <= 32, "too many keys");

static const struct key_def relay_keys[RL_COUNT] = {
	[RL_PRIVATE_KEY] = { "PrivateKey", rl_private_key, 0 },
	[RL_LISTEN_PORT] = { "ListenPort", rl_listen_port, 0 },
	[RL_TCP_LISTEN] = { "TCPListen", rl_tcp_listen, 0 },
	[RL_TLS_CERT] = { "TLSCert", rl_tls_cert, 0 },
	[RL_TLS_KEY] = { "TLSKey", rl_tls_key, 0 },
	[RL_ALLOWED_CLIENTS] = { "AllowedClients", rl_allowed_clients, REPEAT },
	[RL_ALLOWED_CLIENTS_FILE] = { "AllowedClientsFile",
				      rl_allowed_clients_file, REPEAT },
	[RL_CLIENT_RATE] = { "ClientRate", rl_client_rate, 0 },
	[RL_MAX_CLIENTS] = { "MaxClients", rl_max_clients, 0 },
};

/* --- lines -------------------------------------------------------------- */

/* NULL when s is valid UTF-8 without control characters (tab allowed). */
static const char *text_problem(const unsigned char *s, size_t *col)
{
	const unsigned char *start = s;

	while (*s) {
		unsigned c = *s, cp, min;
		size_t n;

		*col = (size_t)(s - start) + 1;
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return "control character";
			s++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return "invalid UTF-8";
		/* Stops at a NUL too: it is not a continuation byte. */
		for (size_t i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "invalid UTF-8";
		s += n + 1;
	}
	return NULL;
}

static bool close_section(struct wm_config_ctx *ctx)
{
	if (ctx->section == SEC_PEER && !ctx->key_line[KEYS_PEER][PEER_PUBLIC_KEY]) {
		ctx->lineno = ctx->section_line;
		ctx->key = NULL;
		return fail(ctx, "[Peer] has no PublicKey");
	}
	return true;
}

static bool open_section(struct wm_config_ctx *ctx, char *s)
{
	char *close = strchr(s, ']'), *name;
	bool relay_file = ctx->relay != NULL;
	unsigned lineno = ctx->lineno;

	if (!close || *trim(close + 1))
		return fail(ctx, "not a section header: '%s'", s);
	*close = '\0';
	name = trim(s + 1);
	if (!close_section(ctx))
		return false;
	ctx->lineno = lineno;
	memset(ctx->key_line[KEYS_PEER], 0, sizeof(ctx->key_line[KEYS_PEER]));
	ctx->section_line = lineno;
	if (relay_file ? eq_nocase(name, "Relay") : eq_nocase(name, "Interface")) {
		if (ctx->interface_line)
			return fail(ctx, "second [%s] section (the first is at "
					 "line %u)", name, ctx->interface_line);
		ctx->interface_line = lineno;
		ctx->section = relay_file ? SEC_RELAY : SEC_INTERFACE;
		return true;
	}
	if (!relay_file && eq_nocase(name, "Peer")) {
		struct wm_config *cfg = ctx->cfg;
		struct wm_peer_config *peers;

		peers = grow(cfg->peers, &cfg->cap_peers, cfg->n_peers,
			     sizeof(*peers));
		if (!peers)
			return out_of_memory(ctx);
		cfg->peers = peers;
		memset(&peers[cfg->n_peers], 0, sizeof(*peers));
		peers[cfg->n_peers].path_mode = WM_PATH_AUTO;
		peers[cfg->n_peers].line = lineno;
		cfg->n_peers++;
		ctx->section = SEC_PEER;
		return true;
	}
	return fail(ctx, "unknown section '[%s]' (%s)", name,
		    relay_file ? "a relay file has only [Relay]" :
		    eq_nocase(name, "Relay") ? "[Relay] is for `wiremesh relay` files" :
					       "expected [Interface] or [Peer]");
}

static int find_key(const struct key_def *keys, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (eq_nocase(name, keys[i].name))
			return i;
	return -1;
}

/* Quotes only the first word: "PrivateKey <key>" lacks its '=' and the
 * key's base64 padding would pass for one. */
static bool malformed(struct wm_config_ctx *ctx, const char *s, size_t w)
{
	return fail(ctx, "expected 'Key = Value' or '[Section]', got '%.*s%s'",
		    (int)(w > 24 ? 24 : w), s, w > 24 ? "..." : "");
}

static bool parse_pair(struct wm_config_ctx *ctx, char *s)
{
	char *eq = strchr(s, '='), *name, *value;
	size_t w = strcspn(s, " \t=");
	const struct key_def *keys;
	const char *section;
	int n, i, set;

	if (!eq)
		return malformed(ctx, s, w);
	*eq = '\0';
	name = trim(s);
	value = trim(eq + 1);
	if (!*name)
		return fail(ctx, "no key name before '='");
	for (const char *c = name; *c; c++)
		if (!is_alnum(*c))
			return malformed(ctx, s, w);
	switch (ctx->section) {
	case SEC_INTERFACE:
		keys = interface_keys, n = IF_COUNT, set = KEYS_MAIN;
		section = "[Interface]";
		break;
	case SEC_PEER:
		keys = peer_keys, n = PEER_COUNT, set = KEYS_PEER;
		section = "[Peer]";
		break;
	case SEC_RELAY:
		keys = relay_keys, n = RL_COUNT, set = KEYS_MAIN;
		section = "[Relay]";
		break;
	default:
		ctx->key = name;
		return fail(ctx, "outside of any section (start with [%s])",
			    ctx->relay ? "Relay" : "Interface");
	}
	i = find_key(keys, n, name);
	if (i < 0) {
		const char *hint = "";

		ctx->key = name;
		if (ctx->section == SEC_INTERFACE &&
		    find_key(peer_keys, PEER_COUNT, name) >= 0)
			hint = " (it belongs in [Peer])";
		else if (ctx->section == SEC_PEER &&
			 find_key(interface_keys, IF_COUNT, name) >= 0)
			hint = " (it belongs in [Interface])";
		return fail(ctx, "unknown key in %s%s", section, hint);
	}
	ctx->key = keys[i].name;
	if (!(keys[i].flags & REPEAT) && ctx->key_line[set][i])
		return fail(ctx, "given twice in %s (first at line %u)",
			    section, ctx->key_line[set][i]);
	ctx->key_line[set][i] = ctx->lineno;
	if (keys[i].parse && !keys[i].parse(ctx, value))
		return false;
	ctx->key = NULL;
	return true;
}

/* Everything one line needs, without freeing on failure. */
static bool feed(struct wm_config_ctx *ctx, const char *line, unsigned lineno)
{
	char buf[WM_CONFIG_LINE_MAX + 1], *s, *hash;
	size_t len = strlen(line), col;
	const char *why;
	bool ok;

	ctx->lineno = lineno;
	ctx->key = NULL;
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (len > WM_CONFIG_LINE_MAX)
		return fail(ctx, "line too long (%zu bytes, at most %d)", len,
			    WM_CONFIG_LINE_MAX);
	memcpy(buf, line, len);
	buf[len] = '\0';
	why = text_problem((const unsigned char *)buf, &col);
	if (why) {
		ok = fail(ctx, "%s at column %zu", why, col);
		goto out;
	}
	/* As wg-quick: '#' starts a comment anywhere; ';' only at the
	 * start, since PostUp commands use it. */
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	s = trim(buf);
	if (!*s || *s == ';')
		ok = true;
	else if (*s == '[')
		ok = open_section(ctx, s);
	else
		ok = parse_pair(ctx, s);
out:
	wm_memzero(buf, sizeof(buf));
	return ok;
}

/* --- agent file --------------------------------------------------------- */

bool wm_config_init(struct wm_config_ctx *ctx, struct wm_config *cfg,
		    const char *path, FILE *err)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(cfg, 0, sizeof(*cfg));
	ctx->cfg = cfg;
	ctx->err = err;
	ctx->path = cfg->path;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	if (strlen(path) >= sizeof(cfg->path))
		return fail(ctx, "path too long");
	if (!wm_parse_ifname(cfg->ifname, path))
		return fail(ctx, "the file name must be an interface name "
				 "(1..15 of A-Z a-z 0-9 _ = + . -) followed by "
				 "'.conf'");
	return true;
}

static void discard(struct wm_config_ctx *ctx)
{
	ctx->failed = true;
	if (ctx->cfg)
		wm_config_free(ctx->cfg);
	if (ctx->relay)
		wm_relay_config_free(ctx->relay);
}

bool wm_config_parse_line(struct wm_config_ctx *ctx, const char *line,
			  unsigned lineno)
{
	if (ctx->failed)
		return false;
	if (feed(ctx, line, lineno))
		return true;
	discard(ctx);
	return false;
}

static int by_key(const void *a, const void *b)
{
	const struct wm_peer_config *x = *(const struct wm_peer_config *const *)a;
	const struct wm_peer_config *y = *(const struct wm_peer_config *const *)b;
	int c = memcmp(x->public_key, y->public_key, 32);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorting finds duplicates in n log n; fleets have thousands of peers. */
static bool check_distinct(struct wm_config_ctx *ctx)
{
	struct wm_config *cfg = ctx->cfg;
	const struct wm_peer_config **v, *first = NULL, *second = NULL;
	char b64[WM_KEY_B64_LEN + 1];

	if (cfg->n_peers < 2)
		return true;
	v = calloc(cfg->n_peers, sizeof(*v));
	if (!v)
		return out_of_memory(ctx);
	for (size_t i = 0; i < cfg->n_peers; i++)
		v[i] = &cfg->peers[i];
	qsort(v, cfg->n_peers, sizeof(*v), by_key);
	for (size_t i = 1; i < cfg->n_peers; i++) {
		if (memcmp(v[i - 1]->public_key, v[i]->public_key, 32) == 0 &&
		    (!second || v[i]->line < second->line))
			first = v[i - 1], second = v[i];
	}
	free(v);
	if (!second)
		return true;
	wm_key_to_base64(b64, second->public_key);
	ctx->lineno = second->line;
	ctx->key = "PublicKey";
	return fail(ctx, "peer '%s' is already defined by the [Peer] at line "
			 "%u", b64, first->line);
}

static bool is_loopback(const char *text)
{
	union wm_sockaddr a;
	const uint8_t *b;

	if (!wm_sockaddr_parse(&a, text))
		return false;
	if (a.sa.sa_family == AF_INET)
		return (ntohl(a.in.sin_addr.s_addr) >> 24) == 127;
	b = a.in6.sin6_addr.s6_addr;
	return IN6_IS_ADDR_LOOPBACK(&a.in6.sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&a.in6.sin6_addr) && b[12] == 127);
}

static bool finish_agent(struct wm_config_ctx *ctx)
{
	struct wm_config *cfg = ctx->cfg;
	const unsigned *kl = ctx->key_line[KEYS_MAIN];
	bool has_relay = cfg->relay[0] || cfg->relay_tcp[0];

	if (!close_section(ctx))
		return false;
	ctx->lineno = 0;
	ctx->key = NULL;
	if (!ctx->interface_line)
		return fail(ctx, "no [Interface] section");
	if (!kl[IF_PRIVATE_KEY]) {
		ctx->key = "PrivateKey";
		return fail(ctx, "missing from [Interface] (line %u)",
			    ctx->interface_line);
	}
	wm_x25519_public(cfg->public_key, cfg->private_key);
	if (has_relay && !cfg->has_relay_public_key) {
		ctx->lineno = kl[IF_RELAY] ? kl[IF_RELAY] : kl[IF_RELAY_TCP];
		ctx->key = kl[IF_RELAY] ? "Relay" : "RelayTCP";
		return fail(ctx, "needs RelayPublicKey in [Interface]");
	}
	if (cfg->api_listen[0]) {
		ctx->lineno = kl[IF_API_LISTEN];
		ctx->key = "APIListen";
		if (!cfg->api_token_file[0])
			return fail(ctx, "needs APITokenFile: TCP clients must "
					 "present a bearer token");
		if (!cfg->api_allow_remote && !is_loopback(cfg->api_listen))
			return fail(ctx, "'%s' is not a loopback address "
					 "(set APIAllowRemote = true to allow "
					 "it)", cfg->api_listen);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wm_peer_config *p = &cfg->peers[i];

		ctx->lineno = p->line;
		if (!memcmp(p->public_key, cfg->public_key, 32)) {
			ctx->key = "PublicKey";
			return fail(ctx, "peer has this interface's own public key");
		}
		if (p->path_mode == WM_PATH_RELAY && !has_relay) {
			ctx->key = "Path";
			return fail(ctx, "'relay' but [Interface] sets no Relay "
					 "or RelayTCP");
		}
	}
	if (!check_distinct(ctx))
		return false;
	if (!cfg->api_socket[0])
		snprintf(cfg->api_socket, sizeof(cfg->api_socket),
			 "/run/wiremesh/%s.sock", cfg->ifname);
	return true;
}

bool wm_config_finish(struct wm_config_ctx *ctx)
{
	if (ctx->failed)
		return false;
	if (finish_agent(ctx))
		return true;
	discard(ctx);
	return false;
}

void wm_config_free(struct wm_config *cfg)
{
	wm_cidr_list_free(&cfg->addresses);
	for (size_t i = 0; i < cfg->n_stun; i++)
		free(cfg->stun[i]);
	free(cfg->stun);
	for (size_t i = 0; i < cfg->n_peers; i++)
		wm_cidr_list_free(&cfg->peers[i].allowed_ips);
	if (cfg->peers)
		wm_memzero(cfg->peers, cfg->cap_peers * sizeof(*cfg->peers));
	free(cfg->peers);
	wm_memzero(cfg, sizeof(*cfg));
}

/* --- reading ------------------------------------------------------------ */

/*
 * Reads one line without its '\n' into buf. Returns 1 for a line, 0 at
 * the end, -1 for a line longer than cap - 1, -2 for a NUL byte, -3 for a
 * read error (errno set). Bounded, unlike getline: a config may be
 * /dev/zero by mistake.
 */
static int read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;

	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n + 1 >= cap)
			return -1;
		buf[n++] = (char)c;
	}
	if (ferror(f))
		return -3;
	buf[n] = '\0';
	*len = n;
	return c == EOF && n == 0 ? 0 : 1;
}

static FILE *open_config(struct wm_config_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "re");
	struct stat st;

	/* The config file itself is named by the message prefix. */
	if (path == ctx->path)
		path = "";
	if (!f) {
		fail(ctx, "cannot open%s%s%s: %s", *path ? " '" : "", path,
		     *path ? "'" : "", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		fail(ctx, "%s%s%sis a directory", *path ? "'" : "", path,
		     *path ? "' " : "");
		return NULL;
	}
	return f;
}

/* Feeds every line of the file at ctx->path; false after reporting. */
static bool feed_file(struct wm_config_ctx *ctx)
{
	char line[WM_CONFIG_LINE_MAX + 2];
	unsigned lineno = 0;
	struct stat st;
	size_t len;
	bool ok = true;
	FILE *f;
	int r;

	f = open_config(ctx, ctx->path);
	if (!f)
		return false;
	if (ctx->err && fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
		fprintf(ctx->err, "%s: warning: readable by every user, and it "
				  "holds a private key\n", ctx->path);
	while (ok && (r = read_line(f, line, sizeof(line), &len)) > 0)
		ok = feed(ctx, line, ++lineno);
	if (ok && r < 0) {
		ctx->lineno = lineno + 1;
		ok = fail(ctx, "%s", r == -1 ? "line too long (more than 4096 bytes)" :
				     r == -2 ? "NUL byte" : strerror(errno));
	}
	wm_memzero(line, sizeof(line));
	fclose(f);
	return ok;
}

static bool feed_text(struct wm_config_ctx *ctx, const char *text)
{
	char line[WM_CONFIG_LINE_MAX + 2];
	unsigned lineno = 0;
	bool ok = true;

	while (ok && *text) {
		size_t n = strcspn(text, "\n");

		lineno++;
		if (n >= sizeof(line)) {
			ctx->lineno = lineno;
			ok = fail(ctx, "line too long (%zu bytes, at most %d)",
				  n, WM_CONFIG_LINE_MAX);
			break;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		ok = feed(ctx, line, lineno);
		text += n + (text[n] == '\n');
	}
	wm_memzero(line, sizeof(line));
	return ok;
}

bool wm_config_load(struct wm_config *cfg, const char *path, FILE *err)
{
	struct wm_config_ctx ctx;

	if (!wm_config_init(&ctx, cfg, path, err) || !feed_file(&ctx)) {
		discard(&ctx);
		return false;
	}
	return wm_config_finish(&ctx);
}

bool wm_config_parse_string(struct wm_config *cfg, const char *name,
			    const char *text, FILE *err)
{
	struct wm_config_ctx ctx;

	if (!wm_config_init(&ctx, cfg, name, err) || !feed_text(&ctx, text)) {
		discard(&ctx);
		return false;
	}
	return wm_config_finish(&ctx);
}

/* --- relay file --------------------------------------------------------- */

static bool relay_init(struct wm_config_ctx *ctx, struct wm_relay_config *cfg,
		       const char *path, FILE *err)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(cfg, 0, sizeof(*cfg));
	ctx->relay = cfg;
	ctx->err = err;
	ctx->path = cfg->path;
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->listen_port = WM_RELAY_DEFAULT_PORT;
	cfg->client_rate = WM_RELAY_DEFAULT_CLIENT_RATE;
	cfg->max_clients = WM_RELAY_DEFAULT_MAX_CLIENTS;
	if (strlen(path) >= sizeof(cfg->path))
		return fail(ctx, "path too long");
	return true;
}

static int by_bytes(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static bool relay_finish(struct wm_config_ctx *ctx)
{
	struct wm_relay_config *r = ctx->relay;
	const unsigned *kl = ctx->key_line[KEYS_MAIN];
	size_t n = 0;

	ctx->lineno = 0;
	ctx->key = NULL;
	if (!ctx->interface_line)
		return fail(ctx, "no [Relay] section");
	if (!kl[RL_PRIVATE_KEY]) {
		ctx->key = "PrivateKey";
		return fail(ctx, "missing from [Relay] (line %u)",
			    ctx->interface_line);
	}
	if (!r->tls_cert[0] != !r->tls_key[0]) {
		bool cert = r->tls_cert[0];

		ctx->lineno = kl[cert ? RL_TLS_CERT : RL_TLS_KEY];
		ctx->key = cert ? "TLSCert" : "TLSKey";
		return fail(ctx, "needs %s as well", cert ? "TLSKey" : "TLSCert");
	}
	if (!kl[RL_ALLOWED_CLIENTS] && !kl[RL_ALLOWED_CLIENTS_FILE]) {
		ctx->key = "AllowedClients";
		return fail(ctx, "none given, so the relay would serve nobody "
				 "(add AllowedClients or AllowedClientsFile)");
	}
	/* A key listed twice is harmless; keep one. */
	if (r->n_allowed_clients) {
		qsort(r->allowed_clients, r->n_allowed_clients, 32, by_bytes);
		for (size_t i = 0; i < r->n_allowed_clients; i++)
			if (!n || memcmp(r->allowed_clients[n - 1],
					 r->allowed_clients[i], 32) != 0)
				memmove(r->allowed_clients[n++],
					r->allowed_clients[i], 32);
		r->n_allowed_clients = n;
	}
	return true;
}

bool wm_relay_config_load(struct wm_relay_config *cfg, const char *path,
			  FILE *err)
{
	struct wm_config_ctx ctx;

	if (!relay_init(&ctx, cfg, path, err) || !feed_file(&ctx) ||
	    !relay_finish(&ctx)) {
		discard(&ctx);
		return false;
	}
	return true;
}

bool wm_relay_config_parse_string(struct wm_relay_config *cfg,
				  const char *name, const char *text,
				  FILE *err)
{
	struct wm_config_ctx ctx;

	if (!relay_init(&ctx, cfg, name, err) || !feed_text(&ctx, text) ||
	    !relay_finish(&ctx)) {
		discard(&ctx);
		return false;
	}
	return true;
}

void wm_relay_config_free(struct wm_relay_config *cfg)
{
	free(cfg->allowed_clients);
	wm_memzero(cfg, sizeof(*cfg));
}
