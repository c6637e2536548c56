/* See config.h. */
#include "agent/relay/config.h"
#include "agent/relay/server.h"
#include "crypto/ct.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

enum {
	RL_PRIVATE_KEY, RL_LISTEN_PORT, RL_TCP_LISTEN, RL_TLS_CERT, RL_TLS_KEY,
	RL_ALLOWED_CLIENTS, RL_ALLOWED_CLIENTS_FILE, RL_CLIENT_RATE,
	RL_MAX_CLIENTS, RL_MAX_CONNS_PER_ADDRESS, RL_METRICS_LISTEN,
	RL_STUN_ALT_PORT, RL_COUNT
};

struct ctx {
	struct wm_ini ini;
	struct wm_relay_config *cfg;
	unsigned relay_line;        /* where [Relay] is; 0 before it */
	unsigned key_line[RL_COUNT];
};

/* --- [Relay] ------------------------------------------------------------ */

static bool rl_private_key(struct ctx *ctx, const char *v)
{
	return wm_field_secret(&ctx->ini, ctx->cfg->private_key, v);
}

static bool rl_listen_port(struct ctx *ctx, const char *v)
{
	uint16_t port;

	/* Clients must know the port: a random one would serve nobody. */
	if (!wm_parse_port(&port, v) || port == 0)
		return wm_ini_fail(&ctx->ini, "not a port (1..65535): '%s'", v);
	ctx->cfg->listen_port = port;
	return true;
}

static bool rl_tcp_listen(struct ctx *ctx, const char *v)
{
	return wm_field_listen(&ctx->ini, ctx->cfg->tcp_listen,
			       sizeof(ctx->cfg->tcp_listen), v);
}

static bool rl_tls_cert(struct ctx *ctx, const char *v)
{
	return wm_field_string(&ctx->ini, ctx->cfg->tls_cert,
			       sizeof(ctx->cfg->tls_cert), v);
}

static bool rl_tls_key(struct ctx *ctx, const char *v)
{
	return wm_field_string(&ctx->ini, ctx->cfg->tls_key,
			       sizeof(ctx->cfg->tls_key), v);
}

static bool add_client(struct ctx *ctx, const uint8_t key[32])
{
	struct wm_relay_config *r = ctx->cfg;
	uint8_t (*keys)[32];

	keys = wm_config_grow(r->allowed_clients, &r->cap_allowed_clients,
			      r->n_allowed_clients, sizeof(*keys));
	if (!keys)
		return wm_ini_fail(&ctx->ini, "out of memory");
	r->allowed_clients = keys;
	memcpy(r->allowed_clients[r->n_allowed_clients++], key, 32);
	return true;
}

static bool rl_allowed_clients(struct ctx *ctx, const char *v)
{
	uint8_t key[32];

	return wm_field_public_key(&ctx->ini, key, v) && add_client(ctx, key);
}

/* One line of an AllowedClientsFile. */
static bool client_line(void *arg, const char *item, const char *path,
			unsigned lineno)
{
	struct ctx *ctx = arg;
	uint8_t key[32];

	if (!wm_parse_key(key, item))
		return wm_ini_fail(&ctx->ini, "%s:%u: not a base64 public key: "
					      "'%s'", path, lineno, item);
	return add_client(ctx, key);
}

static bool rl_allowed_clients_file(struct ctx *ctx, const char *v)
{
	return wm_ini_read_list(&ctx->ini, v, client_line, ctx);
}

static bool rl_client_rate(struct ctx *ctx, const char *v)
{
	/* The relay core's token buckets hold no more (relay/server.h). */
	if (!wm_parse_u64(&ctx->cfg->client_rate, v, WM_RELAY_MAX_CLIENT_RATE) ||
	    ctx->cfg->client_rate == 0)
		return wm_ini_fail(&ctx->ini, "not 1..%llu bytes/s: '%s'",
				   (unsigned long long)WM_RELAY_MAX_CLIENT_RATE,
				   v);
	return true;
}

static bool rl_max_clients(struct ctx *ctx, const char *v)
{
	uint64_t n;

	if (!wm_parse_u64(&n, v, 1000000) || n == 0)
		return wm_ini_fail(&ctx->ini, "not 1..1000000: '%s'", v);
	ctx->cfg->max_clients = (uint32_t)n;
	return true;
}

static bool rl_max_conns_per_address(struct ctx *ctx, const char *v)
{
	uint64_t n;

	if (!wm_parse_u64(&n, v, 65535))
		return wm_ini_fail(&ctx->ini, "not 0..65535 (0: no cap): '%s'", v);
	ctx->cfg->max_conns_per_address = (uint32_t)n;
	return true;
}

static bool loopback(const union wm_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
	return a->sa.sa_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
}

/* The counters are for the host's own scraper: loopback only, since
 * they tell an outsider who is connected and how busy the relay is. */
static bool rl_metrics_listen(struct ctx *ctx, const char *v)
{
	struct wm_relay_config *r = ctx->cfg;
	union wm_sockaddr a;

	if (!wm_field_listen(&ctx->ini, r->metrics_listen,
			     sizeof(r->metrics_listen), v))
		return false;
	if (!wm_sockaddr_parse(&a, v) || !loopback(&a)) {
		r->metrics_listen[0] = '\0';
		return wm_ini_fail(&ctx->ini, "not a loopback address "
					      "(127.0.0.1:PORT or [::1]:PORT): "
					      "'%s'", v);
	}
	return true;
}

static bool rl_stun_alt_port(struct ctx *ctx, const char *v)
{
	uint16_t port;

	if (!wm_parse_port(&port, v))
		return wm_ini_fail(&ctx->ini, "not a port (0 = none, "
					      "1..65535): '%s'", v);
	ctx->cfg->stun_alt_port = port;
	return true;
}

enum { REPEAT = 1 };

static const struct {
	const char *name;
	bool (*parse)(struct ctx *ctx, const char *value);
	unsigned flags;
} relay_keys[RL_COUNT] = {
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
	[RL_MAX_CONNS_PER_ADDRESS] = { "MaxConnsPerAddress",
				       rl_max_conns_per_address, 0 },
	[RL_METRICS_LISTEN] = { "MetricsListen", rl_metrics_listen, 0 },
	[RL_STUN_ALT_PORT] = { "STUNAltPort", rl_stun_alt_port, 0 },
};

static bool on_section(void *arg, const char *name)
{
	struct ctx *ctx = arg;

	if (!wm_ini_eq_nocase(name, "Relay"))
		return wm_ini_fail(&ctx->ini, "unknown section '[%s]' (a relay "
					      "file has only [Relay])", name);
	if (ctx->relay_line)
		return wm_ini_fail(&ctx->ini, "second [%s] section (the first "
					      "is at line %u)", name,
				   ctx->relay_line);
	ctx->relay_line = ctx->ini.lineno;
	return true;
}

static bool on_pair(void *arg, const char *name, const char *value)
{
	struct ctx *ctx = arg;
	int i;

	ctx->ini.key = name;
	if (!ctx->relay_line)
		return wm_ini_fail(&ctx->ini, "outside of any section (start "
					      "with [Relay])");
	for (i = 0; i < RL_COUNT; i++)
		if (wm_ini_eq_nocase(name, relay_keys[i].name))
			break;
	if (i == RL_COUNT)
		return wm_ini_fail(&ctx->ini, "unknown key in [Relay]");
	ctx->ini.key = relay_keys[i].name;
	if (!(relay_keys[i].flags & REPEAT) && ctx->key_line[i])
		return wm_ini_fail(&ctx->ini, "given twice in [Relay] (first at "
					      "line %u)", ctx->key_line[i]);
	ctx->key_line[i] = ctx->ini.lineno;
	return relay_keys[i].parse(ctx, value);
}

static const struct wm_ini_ops relay_ops = { on_section, on_pair };

/* --- the whole file ----------------------------------------------------- */

static bool init(struct ctx *ctx, struct wm_relay_config *cfg,
		 const char *path, FILE *err)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(cfg, 0, sizeof(*cfg));
	ctx->cfg = cfg;
	wm_ini_init(&ctx->ini, cfg->path, err);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->listen_port = WM_RELAY_DEFAULT_PORT;
	cfg->client_rate = WM_RELAY_DEFAULT_CLIENT_RATE;
	cfg->max_clients = WM_RELAY_DEFAULT_MAX_CLIENTS;
	cfg->max_conns_per_address = WM_RELAY_DEFAULT_CONNS_PER_ADDRESS;
	if (strlen(path) >= sizeof(cfg->path))
		return wm_ini_fail(&ctx->ini, "path too long");
	return true;
}

static int by_bytes(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static bool finish(struct ctx *ctx)
{
	struct wm_relay_config *r = ctx->cfg;
	const unsigned *kl = ctx->key_line;
	size_t n = 0;

	ctx->ini.lineno = 0;
	ctx->ini.key = NULL;
	if (!ctx->relay_line)
		return wm_ini_fail(&ctx->ini, "no [Relay] section");
	if (!kl[RL_PRIVATE_KEY]) {
		ctx->ini.key = "PrivateKey";
		return wm_ini_fail(&ctx->ini, "missing from [Relay] (line %u)",
				   ctx->relay_line);
	}
	if (!r->tls_cert[0] != !r->tls_key[0]) {
		bool cert = r->tls_cert[0];

		ctx->ini.lineno = kl[cert ? RL_TLS_CERT : RL_TLS_KEY];
		ctx->ini.key = cert ? "TLSCert" : "TLSKey";
		return wm_ini_fail(&ctx->ini, "needs %s as well",
				   cert ? "TLSKey" : "TLSCert");
	}
	if (!kl[RL_ALLOWED_CLIENTS] && !kl[RL_ALLOWED_CLIENTS_FILE]) {
		ctx->ini.key = "AllowedClients";
		return wm_ini_fail(&ctx->ini, "none given, so the relay would "
				   "serve nobody (add AllowedClients or "
				   "AllowedClientsFile)");
	}
	if (!kl[RL_STUN_ALT_PORT]) {
		/* One relay should be enough to classify a NAT: on by default. */
		r->stun_alt_port = r->listen_port < 65535 ? r->listen_port + 1 : 0;
		r->stun_alt_explicit = false;
	} else if (r->stun_alt_port == r->listen_port) {
		ctx->ini.lineno = kl[RL_STUN_ALT_PORT];
		ctx->ini.key = "STUNAltPort";
		return wm_ini_fail(&ctx->ini, "must differ from ListenPort (%u)",
				   r->listen_port);
	} else {
		r->stun_alt_explicit = true;
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
	struct ctx ctx;

	if (!init(&ctx, cfg, path, err) ||
	    !wm_ini_read_file(&ctx.ini, &relay_ops, &ctx, true) ||
	    !finish(&ctx)) {
		wm_relay_config_free(cfg);
		return false;
	}
	return true;
}

bool wm_relay_config_parse_string(struct wm_relay_config *cfg,
				  const char *name, const char *text,
				  FILE *err)
{
	struct ctx ctx;

	if (!init(&ctx, cfg, name, err) ||
	    !wm_ini_read_string(&ctx.ini, &relay_ops, &ctx, text) ||
	    !finish(&ctx)) {
		wm_relay_config_free(cfg);
		return false;
	}
	return true;
}

void wm_relay_config_free(struct wm_relay_config *cfg)
{
	free(cfg->allowed_clients);
	wm_memzero(cfg, sizeof(*cfg));
}
