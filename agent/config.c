/* See config.h. */
#include "agent/config.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"
#include "crypto/x25519.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER, SEC_RELAY };
/* Key lines: [Interface]'s, and the current [Peer]'s or [Relay]'s. */
enum { KEYS_MAIN, KEYS_PEER };

typedef bool (*key_fn)(struct wm_config_ctx *ctx, const char *value);

enum { REPEAT = 1 };

struct key_def {
	const char *name;
	key_fn parse; /* NULL: accepted, not acted on: a warning */
	unsigned flags;
};

/* --- [Interface] -------------------------------------------------------- */

enum {
	IF_PRIVATE_KEY, IF_LISTEN_PORT, IF_FWMARK, IF_ADDRESS, IF_MTU,
	IF_RELAY, IF_RELAY_TCP, IF_RELAY_PUBLIC_KEY, IF_STUN, IF_API,
	IF_API_LISTEN, IF_API_TOKEN_FILE, IF_API_ALLOW_REMOTE, IF_SAVE_CONFIG,
	IF_PORT_MAPPING,
	IF_BIRTHDAY_PROBE,
	IF_DNS, IF_TABLE, IF_PRE_UP, IF_POST_UP, IF_PRE_DOWN, IF_POST_DOWN,
	IF_COUNT
};

static bool if_private_key(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_secret(&ctx->ini, ctx->cfg->private_key, v);
}

static bool if_listen_port(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_port(&ctx->cfg->listen_port, v))
		return true;
	return wm_ini_fail(&ctx->ini, "not a port (0..65535, 0 = random): "
				      "'%s'", v);
}

static bool if_fwmark(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_fwmark(&ctx->cfg->fwmark, v))
		return true;
	return wm_ini_fail(&ctx->ini, "neither off nor 0..0xffffffff: '%s'", v);
}

static bool if_address(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_cidrs(&ctx->ini, &ctx->cfg->addresses, v);
}

static bool if_mtu(struct wm_config_ctx *ctx, const char *v)
{
	uint64_t mtu;

	if (!wm_parse_u64(&mtu, v, WM_MTU_MAX) || mtu < WM_MTU_MIN)
		return wm_ini_fail(&ctx->ini, "not %d..%d (%d is the IPv6 "
					      "minimum): '%s'", WM_MTU_MIN,
				   WM_MTU_MAX, WM_MTU_MIN, v);
	ctx->cfg->mtu = (uint16_t)mtu;
	return true;
}

static bool if_relay(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_hostport(&ctx->ini, ctx->cfg->relay, v, true);
}

/* "tls://host:port" or "tcp://host:port"; a bare host:port means TLS.
 * The scheme is kept for the relay client (relay/client.c). */
static bool relay_tcp(struct wm_config_ctx *ctx, char dst[WM_HOSTPORT_MAX],
		      const char *v)
{
	char hp[WM_HOSTPORT_MAX];
	size_t skip = 0;

	if (strncmp(v, "tls://", 6) == 0 || strncmp(v, "tcp://", 6) == 0)
		skip = 6;
	if (!wm_field_hostport(&ctx->ini, hp, v + skip, true))
		return false;
	if (strlen(hp) + skip >= WM_HOSTPORT_MAX)
		return wm_ini_fail(&ctx->ini, "too long: '%s'", v);
	snprintf(dst, WM_HOSTPORT_MAX, "%.6s%s", skip ? v : "", hp);
	return true;
}

static bool if_relay_tcp(struct wm_config_ctx *ctx, const char *v)
{
	return relay_tcp(ctx, ctx->cfg->relay_tcp, v);
}

static bool if_relay_public_key(struct wm_config_ctx *ctx, const char *v)
{
	ctx->cfg->has_relay_public_key =
		wm_field_public_key(&ctx->ini, ctx->cfg->relay_public_key, v);
	return ctx->cfg->has_relay_public_key;
}

/* One server per line, or several separated by commas. */
static bool if_stun(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_config *cfg = ctx->cfg;
	char buf[WM_CONFIG_LINE_MAX + 1], *item, *rest = buf;
	char hp[WM_HOSTPORT_MAX];

	memcpy(buf, v, strlen(v) + 1);
	while ((item = strsep(&rest, ","))) {
		char **stun;

		if (!wm_field_hostport(&ctx->ini, hp, wm_ini_trim(item), true))
			return false;
		stun = wm_config_grow(cfg->stun, &cfg->cap_stun, cfg->n_stun,
				      sizeof(*stun));
		if (!stun)
			return wm_ini_fail(&ctx->ini, "out of memory");
		cfg->stun = stun;
		if (!(cfg->stun[cfg->n_stun] = strdup(hp)))
			return wm_ini_fail(&ctx->ini, "out of memory");
		cfg->n_stun++;
	}
	return true;
}

static bool if_api(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_string(&ctx->ini, ctx->cfg->api_socket,
			       sizeof(ctx->cfg->api_socket), v);
}

static bool if_api_listen(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_listen(&ctx->ini, ctx->cfg->api_listen,
			       sizeof(ctx->cfg->api_listen), v);
}

static bool if_api_token_file(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_string(&ctx->ini, ctx->cfg->api_token_file,
			       sizeof(ctx->cfg->api_token_file), v);
}

static bool if_api_allow_remote(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_bool(&ctx->ini, &ctx->cfg->api_allow_remote, v);
}

static bool if_port_mapping(struct wm_config_ctx *ctx, const char *v)
{
	bool on;

	if (!wm_field_bool(&ctx->ini, &on, v))
		return false;
	ctx->cfg->port_mapping_off = !on;
	return true;
}

static bool if_birthday_probe(struct wm_config_ctx *ctx, const char *v)
{
	bool on;

	if (!wm_field_bool(&ctx->ini, &on, v))
		return false;
	ctx->cfg->birthday_off = !on;
	return true;
}

static bool if_save_config(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_bool(&ctx->ini, &ctx->cfg->save_config, v);
}

/* "auto", "off", "main" or a number, as `ip route ... table` takes it
 * from wg-quick (other names from rt_tables are not read). */
static bool if_table(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_config *cfg = ctx->cfg;
	uint64_t id;

	if (wm_ini_eq_nocase(v, "auto")) {
		cfg->table_mode = WM_TABLE_AUTO;
		return true;
	}
	if (wm_ini_eq_nocase(v, "off")) {
		cfg->table_mode = WM_TABLE_OFF;
		return true;
	}
	if (wm_ini_eq_nocase(v, "main"))
		id = 254;
	else if (!wm_parse_u64(&id, v, UINT32_MAX) || id == 0)
		return wm_ini_fail(&ctx->ini, "not auto, off, main or a table "
					      "number 1..4294967295: '%s'", v);
	cfg->table_mode = WM_TABLE_ID;
	cfg->table = (uint32_t)id;
	return true;
}

static bool add_string(struct wm_config_ctx *ctx, struct wm_strings *l,
		       const char *v)
{
	char **items = wm_config_grow(l->items, &l->cap, l->len, sizeof(*items));

	if (!items)
		return wm_ini_fail(&ctx->ini, "out of memory");
	l->items = items;
	if (!(l->items[l->len] = strdup(v)))
		return wm_ini_fail(&ctx->ini, "out of memory");
	l->len++;
	return true;
}

static bool add_hook(struct wm_config_ctx *ctx, enum wm_hook h, const char *v)
{
	if (!v[0])
		return wm_ini_fail(&ctx->ini, "empty command");
	return add_string(ctx, &ctx->cfg->hooks[h], v);
}

static bool if_pre_up(struct wm_config_ctx *ctx, const char *v)
{
	return add_hook(ctx, WM_HOOK_PRE_UP, v);
}

static bool if_post_up(struct wm_config_ctx *ctx, const char *v)
{
	return add_hook(ctx, WM_HOOK_POST_UP, v);
}

static bool if_pre_down(struct wm_config_ctx *ctx, const char *v)
{
	return add_hook(ctx, WM_HOOK_PRE_DOWN, v);
}

static bool if_post_down(struct wm_config_ctx *ctx, const char *v)
{
	return add_hook(ctx, WM_HOOK_POST_DOWN, v);
}

/* Comma-separated; addresses are servers, anything else a search domain
 * (wg-quick's rule). Names go to resolvconf as they are. */
static bool if_dns(struct wm_config_ctx *ctx, const char *v)
{
	char buf[WM_CONFIG_LINE_MAX + 1], *item, *rest = buf;

	memcpy(buf, v, strlen(v) + 1);
	while ((item = strsep(&rest, ","))) {
		item = wm_ini_trim(item);
		if (!item[0])
			continue;
		if (strpbrk(item, " \t\n;'\"$`\\"))
			return wm_ini_fail(&ctx->ini, "neither an address nor a "
					   "domain: '%s'", item);
		if (!add_string(ctx, &ctx->cfg->dns, item))
			return false;
	}
	return true;
}

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
	[IF_PORT_MAPPING] = { "PortMapping", if_port_mapping, 0 },
	[IF_BIRTHDAY_PROBE] = { "BirthdayProbe", if_birthday_probe, 0 },
	/* wg-quick's keys: the agent does what wg-quick would. */
	[IF_DNS] = { "DNS", if_dns, REPEAT },
	[IF_TABLE] = { "Table", if_table, 0 },
	[IF_PRE_UP] = { "PreUp", if_pre_up, REPEAT },
	[IF_POST_UP] = { "PostUp", if_post_up, REPEAT },
	[IF_PRE_DOWN] = { "PreDown", if_pre_down, REPEAT },
	[IF_POST_DOWN] = { "PostDown", if_post_down, REPEAT },
};

/* --- [Peer] ------------------------------------------------------------- */

enum {
	PEER_PUBLIC_KEY, PEER_PRESHARED_KEY, PEER_ALLOWED_IPS, PEER_ENDPOINT,
	PEER_KEEPALIVE, PEER_PATH, PEER_NAME, PEER_COUNT
};

static struct wm_peer_config *cur_peer(struct wm_config_ctx *ctx)
{
	return &ctx->cfg->peers[ctx->cfg->n_peers - 1];
}

static bool peer_public_key(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_public_key(&ctx->ini, cur_peer(ctx)->public_key, v);
}

static bool peer_preshared_key(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_peer_config *p = cur_peer(ctx);

	if (!wm_field_secret(&ctx->ini, p->psk, v))
		return false;
	/* An all-zero PSK is what Noise uses without one. */
	p->has_psk = !wm_ct_is_zero(p->psk, sizeof(p->psk));
	return true;
}

static bool peer_allowed_ips(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_cidr_list *l = &cur_peer(ctx)->allowed_ips;
	size_t from = l->len;

	if (!wm_field_cidrs(&ctx->ini, l, v))
		return false;
	/* Like wg: 10.0.0.1/24 routes 10.0.0.0/24. */
	for (size_t i = from; i < l->len; i++)
		wm_cidr_mask(&l->items[i]);
	return true;
}

/* A numeric address is parsed now; a host name, or a scope that names an
 * interface, waits for wm_config_resolve. */
static bool peer_endpoint(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_peer_config *p = cur_peer(ctx);

	/* The host's spelling is left to the resolver. */
	if (!wm_field_hostport(&ctx->ini, p->endpoint_text, v, false))
		return false;
	p->endpoint_line = ctx->ini.lineno;
	if (!strchr(v, '%') && wm_sockaddr_parse(&p->endpoint, v))
		p->has_endpoint = true;
	else
		p->endpoint_unresolved = p->endpoint_named = true;
	return true;
}

static bool peer_keepalive(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_keepalive(&cur_peer(ctx)->persistent_keepalive, v))
		return true;
	return wm_ini_fail(&ctx->ini, "neither off nor 0..65535 seconds: "
				      "'%s'", v);
}

static bool peer_path(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_path_mode(&cur_peer(ctx)->path_mode, v))
		return true;
	return wm_ini_fail(&ctx->ini, "not auto, direct or relay: '%s'", v);
}

static bool peer_name(struct wm_config_ctx *ctx, const char *v)
{
	if (wm_parse_peer_name(cur_peer(ctx)->name, v))
		return true;
	return wm_ini_fail(&ctx->ini, "not 1..%d visible ASCII characters "
				      "other than '#' (spaces inside allowed): '%s'",
			   WM_PEER_NAME_MAX - 1, v);
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
	[PEER_NAME] = { "Name", peer_name, 0 },
};

/* --- [Relay] (one per relay; the agent keeps a session with each) ------ */

enum { RELAY_ENDPOINT, RELAY_PUBLIC_KEY, RELAY_TCP, RELAY_COUNT };

static struct wm_config_relay *cur_relay(struct wm_config_ctx *ctx)
{
	return &ctx->cfg->relays[ctx->cfg->n_relays - 1];
}

static bool relay_endpoint(struct wm_config_ctx *ctx, const char *v)
{
	return wm_field_hostport(&ctx->ini, cur_relay(ctx)->endpoint, v, true);
}

static bool relay_public_key(struct wm_config_ctx *ctx, const char *v)
{
	struct wm_config *cfg = ctx->cfg;
	struct wm_config_relay *r = cur_relay(ctx);

	if (!wm_field_public_key(&ctx->ini, r->public_key, v))
		return false;
	for (size_t i = 0; i + 1 < cfg->n_relays; i++)
		if (!memcmp(cfg->relays[i].public_key, r->public_key, 32))
			return wm_ini_fail(&ctx->ini, "relay '%s' is already "
					   "defined by the [Relay] at line %u",
					   v, cfg->relays[i].line);
	return true;
}

static bool relay_tcp_key(struct wm_config_ctx *ctx, const char *v)
{
	return relay_tcp(ctx, cur_relay(ctx)->tcp, v);
}

static const struct key_def relay_keys[RELAY_COUNT] = {
	[RELAY_ENDPOINT] = { "Endpoint", relay_endpoint, 0 },
	[RELAY_PUBLIC_KEY] = { "PublicKey", relay_public_key, 0 },
	[RELAY_TCP] = { "TCP", relay_tcp_key, 0 },
};
_Static_assert(RELAY_COUNT <= 32, "too many keys");

/* --- sections and keys -------------------------------------------------- */

static bool close_section(struct wm_config_ctx *ctx)
{
	const unsigned *kl = ctx->key_line[KEYS_PEER];
	const char *missing = NULL;

	if (ctx->section == SEC_PEER && !kl[PEER_PUBLIC_KEY])
		missing = "[Peer] has no PublicKey";
	else if (ctx->section == SEC_RELAY && !kl[RELAY_PUBLIC_KEY])
		missing = "[Relay] has no PublicKey";
	else if (ctx->section == SEC_RELAY && !kl[RELAY_ENDPOINT])
		missing = "[Relay] has no Endpoint (host:port, UDP)";
	if (!missing)
		return true;
	ctx->ini.lineno = ctx->section_line;
	ctx->ini.key = NULL;
	return wm_ini_fail(&ctx->ini, "%s", missing);
}

static bool add_relay(struct wm_config_ctx *ctx, unsigned lineno)
{
	struct wm_config *cfg = ctx->cfg;

	if (cfg->n_relays == WM_RELAYS_MAX)
		return wm_ini_fail(&ctx->ini, "more than %d relays (the "
				   "[Interface]'s Relay counts as one)",
				   WM_RELAYS_MAX);
	memset(&cfg->relays[cfg->n_relays], 0, sizeof(cfg->relays[0]));
	cfg->relays[cfg->n_relays++].line = lineno;
	return true;
}

static bool add_peer(struct wm_config_ctx *ctx, unsigned lineno)
{
	struct wm_config *cfg = ctx->cfg;
	struct wm_peer_config *peers;

	peers = wm_config_grow(cfg->peers, &cfg->cap_peers, cfg->n_peers,
			       sizeof(*peers));
	if (!peers)
		return wm_ini_fail(&ctx->ini, "out of memory");
	cfg->peers = peers;
	memset(&peers[cfg->n_peers], 0, sizeof(*peers));
	peers[cfg->n_peers].path_mode = WM_PATH_AUTO;
	peers[cfg->n_peers].line = lineno;
	cfg->n_peers++;
	return true;
}

static bool on_section(void *arg, const char *name)
{
	struct wm_config_ctx *ctx = arg;
	unsigned lineno = ctx->ini.lineno;

	if (!close_section(ctx))
		return false;
	memset(ctx->key_line[KEYS_PEER], 0, sizeof(ctx->key_line[KEYS_PEER]));
	ctx->section_line = lineno;
	if (wm_ini_eq_nocase(name, "Interface")) {
		if (ctx->interface_line)
			return wm_ini_fail(&ctx->ini, "second [%s] section (the "
					   "first is at line %u)", name,
					   ctx->interface_line);
		ctx->interface_line = lineno;
		ctx->section = SEC_INTERFACE;
		return true;
	}
	if (wm_ini_eq_nocase(name, "Peer")) {
		if (!add_peer(ctx, lineno))
			return false;
		ctx->section = SEC_PEER;
		return true;
	}
	if (wm_ini_eq_nocase(name, "Relay")) {
		if (!add_relay(ctx, lineno))
			return false;
		ctx->section = SEC_RELAY;
		return true;
	}
	return wm_ini_fail(&ctx->ini, "unknown section '[%s]' (expected "
			   "[Interface], [Peer] or [Relay])", name);
}

static int find_key(const struct key_def *keys, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (wm_ini_eq_nocase(name, keys[i].name))
			return i;
	return -1;
}

static bool on_pair(void *arg, const char *name, const char *value)
{
	struct wm_config_ctx *ctx = arg;
	const struct key_def *keys;
	const char *section;
	int n, i, set;

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
		keys = relay_keys, n = RELAY_COUNT, set = KEYS_PEER;
		section = "[Relay]";
		break;
	default:
		ctx->ini.key = name;
		return wm_ini_fail(&ctx->ini, "outside of any section (start "
					      "with [Interface])");
	}
	i = find_key(keys, n, name);
	if (i < 0) {
		const char *hint = "";

		ctx->ini.key = name;
		if (ctx->section == SEC_INTERFACE &&
		    find_key(peer_keys, PEER_COUNT, name) >= 0)
			hint = " (it belongs in [Peer])";
		else if (ctx->section == SEC_PEER &&
			 find_key(interface_keys, IF_COUNT, name) >= 0)
			hint = " (it belongs in [Interface])";
		else if (ctx->section == SEC_RELAY)
			hint = " (an agent's [Relay] takes Endpoint, PublicKey "
			       "and TCP; a relay's own file is `wiremesh relay`'s)";
		return wm_ini_fail(&ctx->ini, "unknown key in %s%s", section,
				   hint);
	}
	ctx->ini.key = keys[i].name;
	if (!(keys[i].flags & REPEAT) && ctx->key_line[set][i])
		return wm_ini_fail(&ctx->ini, "given twice in %s (first at line "
					      "%u)", section,
				   ctx->key_line[set][i]);
	ctx->key_line[set][i] = ctx->ini.lineno;
	if (!keys[i].parse) {
		/* Never silence: the operator must learn it does nothing. */
		if (ctx->ini.err)
			fprintf(ctx->ini.err, "%s:%u: %s: warning: accepted but "
				"not acted on\n", ctx->cfg->path, ctx->ini.lineno,
				keys[i].name);
		return true;
	}
	return keys[i].parse(ctx, value);
}

static const struct wm_ini_ops agent_ops = { on_section, on_pair };

/* --- the whole file ----------------------------------------------------- */

bool wm_config_init(struct wm_config_ctx *ctx, struct wm_config *cfg,
		    const char *path, FILE *err)
{
	memset(ctx, 0, sizeof(*ctx));
	memset(cfg, 0, sizeof(*cfg));
	ctx->cfg = cfg;
	wm_ini_init(&ctx->ini, cfg->path, err);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	if (strlen(path) >= sizeof(cfg->path))
		return wm_ini_fail(&ctx->ini, "path too long");
	if (!wm_parse_ifname(cfg->ifname, path))
		return wm_ini_fail(&ctx->ini, "the file name must be an "
				   "interface name (1..15 of A-Z a-z 0-9 _ = + "
				   ". -) followed by '.conf'");
	return true;
}

static void discard(struct wm_config_ctx *ctx)
{
	ctx->ini.failed = true;
	wm_config_free(ctx->cfg);
}

bool wm_config_parse_line(struct wm_config_ctx *ctx, const char *line,
			  unsigned lineno)
{
	if (ctx->ini.failed)
		return false;
	if (wm_ini_line(&ctx->ini, &agent_ops, ctx, line, lineno))
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
		return wm_ini_fail(&ctx->ini, "out of memory");
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
	ctx->ini.lineno = second->line;
	ctx->ini.key = "PublicKey";
	return wm_ini_fail(&ctx->ini, "peer '%s' is already defined by the "
				      "[Peer] at line %u", b64, first->line);
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

/* The Interface's shorthand becomes the first relay; no relay twice. */
static bool relays_finish(struct wm_config_ctx *ctx, bool shorthand)
{
	struct wm_config *cfg = ctx->cfg;
	struct wm_config_relay *r = cfg->relays;
	char b64[WM_KEY_B64_LEN + 1];

	if (shorthand) {
		if (cfg->n_relays == WM_RELAYS_MAX) {
			ctx->ini.lineno = r[WM_RELAYS_MAX - 1].line;
			return wm_ini_fail(&ctx->ini, "more than %d relays (the "
					   "[Interface]'s Relay counts as one)",
					   WM_RELAYS_MAX);
		}
		memmove(r + 1, r, cfg->n_relays * sizeof(*r));
		memset(r, 0, sizeof(*r));
		snprintf(r->endpoint, sizeof(r->endpoint), "%s", cfg->relay);
		snprintf(r->tcp, sizeof(r->tcp), "%s", cfg->relay_tcp);
		memcpy(r->public_key, cfg->relay_public_key, 32);
		cfg->n_relays++;
	}
	/* [Relay] sections were checked against each other as they came. */
	for (size_t i = 1; shorthand && i < cfg->n_relays; i++) {
		if (memcmp(r[i].public_key, r->public_key, 32))
			continue;
		wm_key_to_base64(b64, r->public_key);
		ctx->ini.lineno = ctx->key_line[KEYS_MAIN][IF_RELAY_PUBLIC_KEY];
		ctx->ini.key = "RelayPublicKey";
		return wm_ini_fail(&ctx->ini, "relay '%s' is also the [Relay] at "
				   "line %u", b64, r[i].line);
	}
	return true;
}

static bool finish(struct wm_config_ctx *ctx)
{
	struct wm_config *cfg = ctx->cfg;
	const unsigned *kl = ctx->key_line[KEYS_MAIN];
	bool has_relay = cfg->relay[0] || cfg->relay_tcp[0];

	if (!close_section(ctx))
		return false;
	ctx->ini.lineno = 0;
	ctx->ini.key = NULL;
	if (!ctx->interface_line)
		return wm_ini_fail(&ctx->ini, "no [Interface] section");
	if (!kl[IF_PRIVATE_KEY]) {
		ctx->ini.key = "PrivateKey";
		return wm_ini_fail(&ctx->ini, "missing from [Interface] (line "
					      "%u)", ctx->interface_line);
	}
	wm_x25519_public(cfg->public_key, cfg->private_key);
	if (has_relay && !cfg->has_relay_public_key) {
		ctx->ini.lineno = kl[IF_RELAY] ? kl[IF_RELAY] : kl[IF_RELAY_TCP];
		ctx->ini.key = kl[IF_RELAY] ? "Relay" : "RelayTCP";
		return wm_ini_fail(&ctx->ini, "needs RelayPublicKey in "
					      "[Interface]");
	}
	if (!relays_finish(ctx, has_relay))
		return false;
	has_relay = cfg->n_relays > 0;
	if (cfg->api_listen[0]) {
		ctx->ini.lineno = kl[IF_API_LISTEN];
		ctx->ini.key = "APIListen";
		if (!cfg->api_token_file[0])
			return wm_ini_fail(&ctx->ini, "needs APITokenFile: TCP "
					   "clients must present a bearer token");
		if (!cfg->api_allow_remote && !is_loopback(cfg->api_listen))
			return wm_ini_fail(&ctx->ini, "'%s' is not a loopback "
					   "address (set APIAllowRemote = true "
					   "to allow it)", cfg->api_listen);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wm_peer_config *p = &cfg->peers[i];

		ctx->ini.lineno = p->line;
		if (!memcmp(p->public_key, cfg->public_key, 32)) {
			ctx->ini.key = "PublicKey";
			return wm_ini_fail(&ctx->ini, "peer has this "
					   "interface's own public key");
		}
		if (p->path_mode == WM_PATH_RELAY && !has_relay) {
			ctx->ini.key = "Path";
			return wm_ini_fail(&ctx->ini, "'relay' but no Relay is "
					   "set (in [Interface] or a [Relay] "
					   "section)");
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
	if (ctx->ini.failed)
		return false;
	if (finish(ctx))
		return true;
	discard(ctx);
	return false;
}

bool wm_config_load(struct wm_config *cfg, const char *path, FILE *err)
{
	struct wm_config_ctx ctx;

	if (!wm_config_init(&ctx, cfg, path, err) ||
	    !wm_ini_read_file(&ctx.ini, &agent_ops, &ctx, true)) {
		discard(&ctx);
		return false;
	}
	return wm_config_finish(&ctx);
}

bool wm_config_parse_string(struct wm_config *cfg, const char *name,
			    const char *text, FILE *err)
{
	struct wm_config_ctx ctx;

	if (!wm_config_init(&ctx, cfg, name, err) ||
	    !wm_ini_read_string(&ctx.ini, &agent_ops, &ctx, text)) {
		discard(&ctx);
		return false;
	}
	return wm_config_finish(&ctx);
}

bool wm_config_resolve(struct wm_config *cfg, FILE *err)
{
	struct wm_ini ini;

	wm_ini_init(&ini, cfg->path, err);
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wm_peer_config *p = &cfg->peers[i];
		int r;

		if (!p->endpoint_unresolved)
			continue;
		r = wm_sockaddr_resolve(&p->endpoint, p->endpoint_text);
		if (r) {
			ini.lineno = p->endpoint_line;
			ini.key = "Endpoint";
			wm_ini_fail(&ini, "cannot resolve '%s': %s",
				    p->endpoint_text,
				    r == EAI_SYSTEM ? strerror(errno)
						    : gai_strerror(r));
			wm_config_free(cfg);
			return false;
		}
		p->endpoint_unresolved = false;
		p->has_endpoint = true;
	}
	return true;
}

static void strings_free(struct wm_strings *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
}

void wm_config_free(struct wm_config *cfg)
{
	for (int h = 0; h < WM_HOOK_COUNT; h++)
		strings_free(&cfg->hooks[h]);
	strings_free(&cfg->dns);
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
