/*
 * Config files: valid wg-quick, wiremesh and relay files checked field by
 * field, then tables of broken files, each of which must fail with one
 * error naming the right file, line and key.
 */
#include "agent/config.h"
#include "agent/relay/config.h"
#include "crypto/encoding.h"
#include "tests/unit/check.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Generated with `wiremesh genkey | wiremesh pubkey`, checked with wg. */
#define PRIV_A "+HieJxnAEhnJKDIPOe0IvafovBaTnmH+iKkOogNaClw="
#define PUB_A "Z7M7w5IWLZeBtbL8cs5FScFtqO+B2gfLk5amBZ5zWEY="
#define PRIV_B "MG9uZcGI7aSYVipjmsrsj3Q4jxnw03a9ESYnT1GyTmQ="
#define PUB_B "Tjn6uQG5fXirSt7+QjHC8AmpKehx2KmL5yEzo52/vHE="
#define PUB_C "H/ip3QrSsM4MEjY/R9fjQmAOGkSlb959PnYBr2tqlmY="
#define PUB_D "2sV0w1/ViVjnUcLZzh0bu790O7mLuvEnTBDu/xIpTAI="
#define PSK "0fNUtQaxx3DmFDeRqMEi62I7o31qir+YduzSJOqo+iE="

#define IFACE "[Interface]\nPrivateKey = " PRIV_A "\n"

static bool key_is(const uint8_t key[32], const char *b64)
{
	char s[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(s, key);
	return strcmp(s, b64) == 0;
}

static bool cidr_is(const struct wm_cidr *c, const char *text)
{
	char s[WM_CIDR_STRLEN];

	return strcmp(wm_cidr_format(s, sizeof(s), c), text) == 0;
}

static bool addr_is(const union wm_sockaddr *a, const char *text)
{
	char s[WM_SOCKADDR_STRLEN];

	return strcmp(wm_sockaddr_format(s, sizeof(s), a), text) == 0;
}

/* Runs the parser, then the resolver as the agent does, with err
 * captured; *msg is malloc'd ("" when quiet). */
static bool parse(struct wm_config *cfg, const char *name, const char *text,
		  char **msg)
{
	size_t len;
	FILE *err = open_memstream(msg, &len);
	bool ok = wm_config_parse_string(cfg, name, text, err) &&
		  wm_config_resolve(cfg, err);

	fclose(err);
	return ok;
}

static bool parse_relay(struct wm_relay_config *cfg, const char *name,
			const char *text, char **msg)
{
	size_t len;
	FILE *err = open_memstream(msg, &len);
	bool ok = wm_relay_config_parse_string(cfg, name, text, err);

	fclose(err);
	return ok;
}

static bool load(struct wm_config *cfg, const char *path, char **msg)
{
	size_t len;
	FILE *err = open_memstream(msg, &len);
	bool ok = wm_config_load(cfg, path, err) && wm_config_resolve(cfg, err);

	fclose(err);
	return ok;
}

static bool is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void write_file(const char *path, const void *data, size_t len,
		       mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd)) {
		perror(path);
		abort();
	}
	chmod(path, mode);
}

TEST(plain_wg_quick_file)
{
	static const char text[] =
		"# exported from a wg-quick host\n"
		"[Interface]\n"
		"PrivateKey = " PRIV_A "\n"
		"Address = 10.77.0.1/24, fd77::1/64\r\n"
		"address=10.78.0.1/16\n"
		"DNS = 1.1.1.1, 9.9.9.9\n"
		"Table = off\n"
		"MTU = 1420\n"
		"ListenPort = 51820\n"
		"FwMark = 0xca6c\n"
		"SaveConfig = true\n"
		"PreUp = sysctl -w net.ipv4.ip_forward=1\n"
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat "
		"-A POSTROUTING -o eth0 -j MASQUERADE\n"
		"PostUp = echo up   # a comment after a value\n"
		"PreDown = true\n"
		"PostDown = iptables -D FORWARD -i %i -j ACCEPT\n"
		"\n"
		"; a semicolon comment\n"
		"  [peer]  \n"
		"\tpublickey\t=\t" PUB_B "\n"
		"PresharedKey = " PSK "\n"
		"AllowedIPs = 10.77.0.2/32 , 10.99.1.7/24,fd77::2/128\n"
		"AllowedIPs = 192.168.50.0/24\n"
		"Endpoint = 192.0.2.10:51820\n"
		"PersistentKeepalive = 25\n"
		"\n"
		"[Peer]\n"
		"PublicKey = " PUB_C "\n"
		"AllowedIPs = \n"
		"Endpoint = [2001:db8::5]:4500\n"
		"PersistentKeepalive = off\n"
		"PresharedKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	struct wm_config cfg;
	char *msg;

	CHECK(parse(&cfg, "/etc/wireguard/wg0.conf", text, &msg));
	CHECK(!strcmp(msg, ""));
	CHECK(!strcmp(cfg.ifname, "wg0"));
	CHECK(!strcmp(cfg.path, "/etc/wireguard/wg0.conf"));
	CHECK(key_is(cfg.private_key, PRIV_A));
	CHECK(key_is(cfg.public_key, PUB_A));
	CHECK(cfg.addresses.len == 3);
	if (cfg.addresses.len == 3) {
		CHECK(cidr_is(&cfg.addresses.items[0], "10.77.0.1/24"));
		CHECK(cidr_is(&cfg.addresses.items[1], "fd77::1/64"));
		CHECK(cidr_is(&cfg.addresses.items[2], "10.78.0.1/16"));
	}
	CHECK(cfg.mtu == 1420);
	CHECK(cfg.listen_port == 51820);
	CHECK(cfg.fwmark == 0xca6c);
	CHECK(cfg.save_config);
	/* wg-quick's keys are kept to be acted on (agent/hooks.h, route_sync.h) */
	CHECK(cfg.table_mode == WM_TABLE_OFF);
	CHECK(cfg.dns.len == 2 && !strcmp(cfg.dns.items[1], "9.9.9.9"));
	CHECK(cfg.hooks[WM_HOOK_PRE_UP].len == 1);
	CHECK(cfg.hooks[WM_HOOK_POST_UP].len == 2);
	if (cfg.hooks[WM_HOOK_POST_UP].len == 2)
		CHECK(!strcmp(cfg.hooks[WM_HOOK_POST_UP].items[1], "echo up"));
	CHECK(cfg.hooks[WM_HOOK_PRE_DOWN].len == 1);
	CHECK(cfg.hooks[WM_HOOK_POST_DOWN].len == 1);
	CHECK(!cfg.relay[0] && !cfg.relay_tcp[0] && !cfg.has_relay_public_key);
	CHECK(cfg.n_stun == 0);
	CHECK(!strcmp(cfg.api_socket, "/run/wiremesh/wg0.sock"));
	CHECK(!cfg.api_listen[0] && !cfg.api_token_file[0]);
	CHECK(cfg.n_peers == 2);
	if (cfg.n_peers == 2) {
		struct wm_peer_config *p = &cfg.peers[0], *q = &cfg.peers[1];

		CHECK(key_is(p->public_key, PUB_B));
		CHECK(p->has_psk && key_is(p->psk, PSK));
		CHECK(p->allowed_ips.len == 4);
		if (p->allowed_ips.len == 4) {
			CHECK(cidr_is(&p->allowed_ips.items[0], "10.77.0.2/32"));
			/* host bits cleared, as wg does */
			CHECK(cidr_is(&p->allowed_ips.items[1], "10.99.1.0/24"));
			CHECK(cidr_is(&p->allowed_ips.items[2], "fd77::2/128"));
			CHECK(cidr_is(&p->allowed_ips.items[3],
				      "192.168.50.0/24"));
		}
		CHECK(p->has_endpoint && addr_is(&p->endpoint, "192.0.2.10:51820"));
		CHECK(!strcmp(p->endpoint_text, "192.0.2.10:51820"));
		CHECK(p->persistent_keepalive == 25);
		CHECK(p->path_mode == WM_PATH_AUTO);
		CHECK(p->line == 19);

		CHECK(key_is(q->public_key, PUB_C));
		CHECK(!q->has_psk); /* all zero means none */
		CHECK(q->allowed_ips.len == 0);
		CHECK(q->has_endpoint &&
		      addr_is(&q->endpoint, "[2001:db8::5]:4500"));
		CHECK(q->persistent_keepalive == 0);
		CHECK(q->line == 27);
	}
	wm_config_free(&cfg);
	CHECK(is_zero(&cfg, sizeof(cfg)));
	wm_config_free(&cfg); /* twice is harmless */
	free(msg);
}

TEST(full_wiremesh_file)
{
	static const char text[] =
		"[Interface]\n"
		"PrivateKey = " PRIV_A "\n"
		"ListenPort = 0\n"
		"Address = 10.77.0.1/24\n"
		"MTU = 1280\n"
		"FwMark = off\n"
		"SaveConfig = false\n"
		"Relay = relay.example.net:3478          # UDP\n"
		"RelayTCP = [2001:db8::1]:443\n"
		"RelayPublicKey = " PUB_D "\n"
		"STUN = stun.example.net:3478\n"
		"STUN = 198.51.100.1:3478, stun2.example.net.:19302\n"
		"API = /tmp/wm-test/wm0.sock\n"
		"APIListen = 0.0.0.0:7707\n"
		"APITokenFile = /etc/wiremesh/api.token\n"
		"APIAllowRemote = yes\n"
		"\n"
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"AllowedIPs = 10.77.0.2/32\n"
		"Path = relay\n"
		"[Peer]\n"
		"PublicKey = " PUB_C "\n"
		"AllowedIPs = 10.77.0.3/32\n"
		"Endpoint = 203.0.113.5:51820\n"
		"Path = DIRECT\n"
		"PersistentKeepalive = 0\n"
		"Name = db-1 (Frankfurt)\n";
	struct wm_config cfg;
	char *msg;

	CHECK(parse(&cfg, "wm0.conf", text, &msg));
	CHECK(!strcmp(msg, ""));
	CHECK(!strcmp(cfg.ifname, "wm0"));
	CHECK(cfg.listen_port == 0 && cfg.mtu == 1280 && cfg.fwmark == 0);
	CHECK(!cfg.save_config);
	CHECK(!strcmp(cfg.relay, "relay.example.net:3478"));
	CHECK(!strcmp(cfg.relay_tcp, "[2001:db8::1]:443"));
	CHECK(cfg.has_relay_public_key && key_is(cfg.relay_public_key, PUB_D));
	CHECK(cfg.n_stun == 3);
	if (cfg.n_stun == 3) {
		CHECK(!strcmp(cfg.stun[0], "stun.example.net:3478"));
		CHECK(!strcmp(cfg.stun[1], "198.51.100.1:3478"));
		CHECK(!strcmp(cfg.stun[2], "stun2.example.net.:19302"));
	}
	CHECK(!strcmp(cfg.api_socket, "/tmp/wm-test/wm0.sock"));
	CHECK(!strcmp(cfg.api_listen, "0.0.0.0:7707"));
	CHECK(!strcmp(cfg.api_token_file, "/etc/wiremesh/api.token"));
	CHECK(cfg.api_allow_remote);
	CHECK(cfg.n_peers == 2);
	if (cfg.n_peers == 2) {
		CHECK(cfg.peers[0].path_mode == WM_PATH_RELAY);
		CHECK(!cfg.peers[0].has_endpoint);
		CHECK(cfg.peers[0].line == 18);
		CHECK(cfg.peers[1].path_mode == WM_PATH_DIRECT);
		CHECK(addr_is(&cfg.peers[1].endpoint, "203.0.113.5:51820"));
		CHECK(cfg.peers[1].line == 22);
		CHECK(!strcmp(cfg.peers[0].name, ""));
		CHECK(!strcmp(cfg.peers[1].name, "db-1 (Frankfurt)"));
	}
	wm_config_free(&cfg);
	free(msg);
}

TEST(defaults)
{
	struct wm_config cfg;
	char *msg;

	CHECK(parse(&cfg, "x.y-z_0.conf", IFACE, &msg));
	CHECK(!strcmp(msg, ""));
	CHECK(!strcmp(cfg.ifname, "x.y-z_0"));
	CHECK(key_is(cfg.public_key, PUB_A));
	CHECK(cfg.listen_port == 0 && cfg.mtu == 0 && cfg.fwmark == 0);
	CHECK(cfg.addresses.len == 0 && cfg.n_peers == 0 && cfg.n_stun == 0);
	CHECK(!strcmp(cfg.api_socket, "/run/wiremesh/x.y-z_0.sock"));
	CHECK(!cfg.api_allow_remote && !cfg.save_config);
	wm_config_free(&cfg);
	free(msg);
}

/* RelayTCP may name its transport; the relay client reads the scheme. */
TEST(relay_tcp_schemes)
{
	static const struct { const char *in, *stored; } ok[] = {
		{ "tls://relay.example.net:443", "tls://relay.example.net:443" },
		{ "tcp://[2001:db8::1]:8080", "tcp://[2001:db8::1]:8080" },
		{ "203.0.113.10:443", "203.0.113.10:443" },
	};
	static const char *bad[] = { "udp://203.0.113.10:443", "tls://", "tls://:443" };
	struct wm_config cfg;
	char text[512], *msg;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text),
			 IFACE "RelayTCP = %s\nRelayPublicKey = " PUB_D "\n",
			 ok[i].in);
		CHECK(parse(&cfg, "wm0.conf", text, &msg));
		CHECK(!strcmp(cfg.relay_tcp, ok[i].stored));
		wm_config_free(&cfg);
		free(msg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 IFACE "RelayTCP = %s\nRelayPublicKey = " PUB_D "\n",
			 bad[i]);
		CHECK(!parse(&cfg, "wm0.conf", text, &msg));
		CHECK(strstr(msg, "wm0.conf:3: RelayTCP: ") != NULL);
		free(msg);
	}
}

/* Several relays: [Relay] sections in file order, the Interface's
 * shorthand first whatever its place; at most WM_RELAYS_MAX in all. */
TEST(several_relays)
{
	static const char text[] =
		"[Relay]\n"                                   /* 1 */
		"Endpoint = r2.example.net:3478\n"
		"PublicKey = " PUB_C "\n"
		"[Interface]\n"                               /* 4 */
		"PrivateKey = " PRIV_A "\n"
		"Relay = r1.example.net:3478\n"
		"RelayPublicKey = " PUB_D "\n"
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"Path = relay\n"
		"[relay]\n"                                   /* 11 */
		"publickey = " PUB_B "\n"
		"TCP = tcp://[2001:db8::3]:443\n"
		"Endpoint = [2001:db8::3]:3478\n";
	struct wm_config cfg;
	char buf[4096], *msg;
	int n;

	CHECK(parse(&cfg, "wm0.conf", text, &msg));
	CHECK(!strcmp(msg, ""));
	free(msg);
	CHECK(cfg.n_relays == 3 && cfg.n_peers == 1);
	if (cfg.n_relays == 3) {
		const struct wm_config_relay *r = cfg.relays;

		CHECK(!strcmp(r[0].endpoint, "r1.example.net:3478") &&
		      !r[0].tcp[0] && key_is(r[0].public_key, PUB_D) &&
		      r[0].line == 0);
		CHECK(!strcmp(r[1].endpoint, "r2.example.net:3478") &&
		      !r[1].tcp[0] && key_is(r[1].public_key, PUB_C) &&
		      r[1].line == 1);
		CHECK(!strcmp(r[2].endpoint, "[2001:db8::3]:3478") &&
		      !strcmp(r[2].tcp, "tcp://[2001:db8::3]:443") &&
		      key_is(r[2].public_key, PUB_B) && r[2].line == 11);
	}
	wm_config_free(&cfg);

	/* [Relay] alone is enough for Path = relay. */
	CHECK(parse(&cfg, "wm0.conf",
		    IFACE "[Relay]\nEndpoint = 203.0.113.10:3478\nPublicKey = "
		    PUB_D "\n[Peer]\nPublicKey = " PUB_B "\nPath = relay\n", &msg));
	CHECK(cfg.n_relays == 1 && !cfg.relay[0]);
	wm_config_free(&cfg);
	free(msg);

	/* Eight are fine, a ninth is named by its line. */
	n = snprintf(buf, sizeof(buf), IFACE);
	for (int i = 0; i < WM_RELAYS_MAX + 1; i++) {
		uint8_t key[32] = { (uint8_t)(i + 1) };
		char b64[WM_KEY_B64_LEN + 1];

		wm_key_to_base64(b64, key);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "[Relay]\nEndpoint = r%d.example:3478\n"
			      "PublicKey = %s\n", i, b64);
		if (i == WM_RELAYS_MAX - 1) {
			CHECK(parse(&cfg, "wm0.conf", buf, &msg));
			CHECK(cfg.n_relays == WM_RELAYS_MAX);
			wm_config_free(&cfg);
			free(msg);
		}
	}
	CHECK(!parse(&cfg, "wm0.conf", buf, &msg));
	CHECK(strstr(msg, "wm0.conf:27: more than 8 relays") == msg);
	free(msg);

	/* The shorthand counts: it and eight sections are one too many,
	 * and the last [Relay] is the one named. */
	n = snprintf(buf, sizeof(buf), IFACE "Relay = r.example:1\n"
		     "RelayPublicKey = " PUB_D "\n");
	for (int i = 0; i < WM_RELAYS_MAX; i++) {
		uint8_t key[32] = { (uint8_t)(i + 1) };
		char b64[WM_KEY_B64_LEN + 1];

		wm_key_to_base64(b64, key);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
			      "[Relay]\nEndpoint = r%d.example:3478\n"
			      "PublicKey = %s\n", i, b64);
	}
	CHECK(!parse(&cfg, "wm0.conf", buf, &msg));
	CHECK(strstr(msg, "wm0.conf:26: more than 8 relays") == msg);
	free(msg);
}

/* The streaming API on its own, as a fuzzer or the UAPI would drive it. */
TEST(streaming)
{
	static const char *const lines[] = {
		"[Interface]\n",
		("PrivateKey = " PRIV_A "\r\n"),
		"[Peer]",
		("PublicKey = " PUB_B),
		"AllowedIPs = 10.0.0.0/8",
	};
	struct wm_config_ctx ctx;
	struct wm_config cfg;

	CHECK(wm_config_init(&ctx, &cfg, "wm1.conf", NULL));
	for (unsigned i = 0; i < 5; i++)
		CHECK(wm_config_parse_line(&ctx, lines[i], i + 1));
	CHECK(wm_config_finish(&ctx));
	CHECK(cfg.n_peers == 1 && cfg.peers[0].allowed_ips.len == 1);
	wm_config_free(&cfg);

	/* After a failure the ctx stays failed and cfg is already freed. */
	CHECK(wm_config_init(&ctx, &cfg, "wm1.conf", NULL));
	CHECK(wm_config_parse_line(&ctx, "[Interface]", 1));
	CHECK(wm_config_parse_line(&ctx, "Address = 10.0.0.1/8", 2));
	CHECK(!wm_config_parse_line(&ctx, "Bogus = 1", 3));
	CHECK(cfg.addresses.items == NULL);
	CHECK(!wm_config_parse_line(&ctx, "PrivateKey = " PRIV_A, 4));
	CHECK(!wm_config_finish(&ctx));
	wm_config_free(&cfg);

	CHECK(!wm_config_init(&ctx, &cfg, "/etc/wiremesh/no-suffix", NULL));
	wm_config_free(&cfg);
}

/* Parsing asks no DNS: a numeric Endpoint is an address at once, a name
 * is kept as text until wm_config_resolve, which reports file:line. */
TEST(endpoints_resolved_after_parsing)
{
	static const char text[] =
		IFACE
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"Endpoint = 192.0.2.7:51820\n"
		"[Peer]\n"
		"PublicKey = " PUB_C "\n"
		"Endpoint = [2001:db8::1]:51820\n"
		"[Peer]\n"
		"PublicKey = " PUB_D "\n"
		"Endpoint = localhost:51820\n"
		"[Peer]\n"
		"PublicKey = " PSK "\n" /* any 32 bytes will do */
		"Endpoint = [fe80::1%lo]:4500\n";
	struct wm_config cfg;
	char *msg;
	size_t len;
	FILE *err;

	CHECK(wm_config_parse_string(&cfg, "wm0.conf", text, NULL));
	CHECK(cfg.n_peers == 4);
	if (cfg.n_peers == 4) {
		struct wm_peer_config *p = cfg.peers;

		CHECK(p[0].has_endpoint && !p[0].endpoint_unresolved &&
		      addr_is(&p[0].endpoint, "192.0.2.7:51820"));
		CHECK(p[1].has_endpoint && !p[1].endpoint_unresolved &&
		      addr_is(&p[1].endpoint, "[2001:db8::1]:51820"));
		/* Left for the resolver: no address yet, the text kept. */
		CHECK(!p[2].has_endpoint && p[2].endpoint_unresolved);
		CHECK(p[2].endpoint.sa.sa_family == AF_UNSPEC);
		CHECK(!strcmp(p[2].endpoint_text, "localhost:51820"));
		CHECK(p[2].endpoint_line == 11);
		/* A scope names an interface of this host: looked up later. */
		CHECK(!p[3].has_endpoint && p[3].endpoint_unresolved);
	}
	err = open_memstream(&msg, &len);
	CHECK(wm_config_resolve(&cfg, err));
	fclose(err);
	if (strcmp(msg, "") != 0)
		fprintf(stderr, "  resolve: %s", msg);
	CHECK(!strcmp(msg, ""));
	free(msg);
	if (cfg.n_peers == 4) {
		struct wm_peer_config *p = cfg.peers;
		const union wm_sockaddr *a = &p[2].endpoint;

		CHECK(addr_is(&p[0].endpoint, "192.0.2.7:51820"));
		CHECK(p[2].has_endpoint && !p[2].endpoint_unresolved);
		CHECK((a->sa.sa_family == AF_INET &&
		       ntohs(a->in.sin_port) == 51820 &&
		       ntohl(a->in.sin_addr.s_addr) >> 24 == 127) ||
		      (a->sa.sa_family == AF_INET6 &&
		       ntohs(a->in6.sin6_port) == 51820 &&
		       IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr)));
		CHECK(!strcmp(p[2].endpoint_text, "localhost:51820"));
		CHECK(p[3].has_endpoint && !p[3].endpoint_unresolved &&
		      p[3].endpoint.sa.sa_family == AF_INET6 &&
		      p[3].endpoint.in6.sin6_scope_id != 0);
	}
	wm_config_free(&cfg);
}

TEST(unresolvable_endpoint)
{
	static const char text[] =
		IFACE
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"Endpoint = localhost:51820\n"
		"[Peer]\n"
		"PublicKey = " PUB_C "\n"
		"AllowedIPs = 10.0.0.3/32\n"
		"Endpoint = no-such-host.invalid:51820\n";
	struct wm_config cfg;
	char *msg;
	size_t len;
	FILE *err = open_memstream(&msg, &len);
	const char *nl;

	/* The parser accepts it: whether a name resolves is not syntax. */
	CHECK(wm_config_parse_string(&cfg, "wm0.conf", text, err));
	CHECK(cfg.n_peers == 2 && cfg.peers[1].endpoint_unresolved);
	CHECK(!wm_config_resolve(&cfg, err));
	fclose(err);
	CHECK(strstr(msg, "wm0.conf:9: Endpoint: cannot resolve "
			  "'no-such-host.invalid:51820': ") == msg);
	nl = strchr(msg, '\n');
	CHECK(nl && !nl[1]);
	/* Freed and wiped, as by a failed load. */
	CHECK(is_zero(&cfg, sizeof(cfg)));
	free(msg);
}

/* Thousands of peers: array growth, and duplicates found by sorting. */
TEST(many_peers)
{
	enum { N = 3000 };
	size_t cap = 64 + N * 100, len = 0;
	char *text = malloc(cap), b64[WM_KEY_B64_LEN + 1], *msg;
	struct wm_config cfg;
	uint8_t key[32] = { 0 };

	len += (size_t)snprintf(text + len, cap - len, IFACE);
	for (unsigned i = 0; i < N; i++) {
		key[0] = (uint8_t)i;
		key[1] = (uint8_t)(i >> 8);
		key[31] = 0x42;
		wm_key_to_base64(b64, key);
		len += (size_t)snprintf(text + len, cap - len,
					"[Peer]\nPublicKey = %s\n", b64);
	}
	CHECK(parse(&cfg, "wm0.conf", text, &msg));
	CHECK(cfg.n_peers == N);
	CHECK(cfg.n_peers == N && cfg.peers[N - 1].line == 3 + 2 * (N - 1));
	wm_config_free(&cfg);
	free(msg);

	/* Peer 1000 again at the end: line 3 + 2 * 1000 and the last one. */
	key[0] = (uint8_t)1000;
	key[1] = (uint8_t)(1000 >> 8);
	wm_key_to_base64(b64, key);
	snprintf(text + len, cap - len, "[Peer]\nPublicKey = %s\n", b64);
	CHECK(!parse(&cfg, "wm0.conf", text, &msg));
	CHECK(strstr(msg, "wm0.conf:6003: PublicKey: peer '") == msg);
	CHECK(strstr(msg, "at line 2003") != NULL);
	CHECK(cfg.peers == NULL);
	free(msg);
	free(text);
}

struct bad_case {
	const char *name; /* NULL: wm0.conf */
	const char *text;
	const char *prefix; /* the error starts with this */
	const char *detail; /* and contains this */
};

#define LONG_LINE_1 "################################################################"
#define LONG_LINE_4 LONG_LINE_1 LONG_LINE_1 LONG_LINE_1 LONG_LINE_1
#define LONG_LINE_16 LONG_LINE_4 LONG_LINE_4 LONG_LINE_4 LONG_LINE_4
#define LONG_LINE LONG_LINE_16 LONG_LINE_16 LONG_LINE_16 LONG_LINE_16 "#"

static const struct bad_case bad_agent[] = {
	/* 1 */ { NULL, IFACE "[Peers]\n", "wm0.conf:3: ", "unknown section '[Peers]'" },
	{ NULL, "PrivateKey = " PRIV_A "\n[Interface]\n",
	  "wm0.conf:1: PrivateKey: ", "outside of any section" },
	{ NULL, IFACE "Foo = bar\n", "wm0.conf:3: Foo: ", "unknown key in [Interface]" },
	{ NULL, IFACE "ListenPort 51820\n", "wm0.conf:3: ", "got 'ListenPort'" },
	/* 5 */ { NULL, IFACE "[Peer]\nPublicKey = notakey\n",
	  "wm0.conf:4: PublicKey: ", "'notakey'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPublicKey = " PUB_C "\n",
	  "wm0.conf:5: PublicKey: ", "twice in [Peer] (first at line 4)" },
	{ NULL, IFACE "ListenPort = 65536\n", "wm0.conf:3: ListenPort: ", "'65536'" },
	{ NULL, IFACE "ListenPort = 51820x\n", "wm0.conf:3: ListenPort: ", "'51820x'" },
	{ NULL, IFACE "Address = 10.0.0.256/24\n", "wm0.conf:3: Address: ",
	  "'10.0.0.256/24'" },
	/* 10 */ { NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nAllowedIPs = 10.0.0.0/33\n",
	  "wm0.conf:5: AllowedIPs: ", "'10.0.0.0/33'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nAllowedIPs = fd00::/129\n",
	  "wm0.conf:5: AllowedIPs: ", "'fd00::/129'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B
	  "\nAllowedIPs = 10.0.0.1/32, banana , 10.0.0.2\n",
	  "wm0.conf:5: AllowedIPs: ", "'banana'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nAllowedIPs = 10.0.0.1/32,\n",
	  "wm0.conf:5: AllowedIPs: ", "''" },
	{ NULL, IFACE "MTU = 1279\n", "wm0.conf:3: MTU: ", "'1279'" },
	/* 15 */ { NULL, IFACE "MTU = 9001\n", "wm0.conf:3: MTU: ", "'9001'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPersistentKeepalive = -1\n",
	  "wm0.conf:5: PersistentKeepalive: ", "'-1'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPersistentKeepalive = 65536\n",
	  "wm0.conf:5: PersistentKeepalive: ", "'65536'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPath = sometimes\n",
	  "wm0.conf:5: Path: ", "'sometimes'" },
	{ NULL, IFACE "[Interface]\n", "wm0.conf:3: ",
	  "second [Interface] section (the first is at line 1)" },
	/* 20 */ { NULL, IFACE "PrivateKey = " PRIV_B "\n", "wm0.conf:3: PrivateKey: ",
	  "given twice in [Interface] (first at line 2)" },
	{ NULL, "[Interface]\nListenPort = 1\n", "wm0.conf: PrivateKey: ",
	  "missing from [Interface] (line 1)" },
	{ NULL, "# nothing here\n", "wm0.conf: ", "no [Interface] section" },
	{ NULL, IFACE "[Peer]\nAllowedIPs = 10.0.0.2/32\n[Peer]\nPublicKey = " PUB_B "\n",
	  "wm0.conf:3: ", "[Peer] has no PublicKey" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\n[Peer]\n# last\n",
	  "wm0.conf:5: ", "[Peer] has no PublicKey" },
	/* 25 */ { NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\n[Peer]\nPublicKey = " PUB_C
	  "\n\n[Peer]\nPublicKey = " PUB_B "\n",
	  "wm0.conf:8: PublicKey: ",
	  "peer '" PUB_B "' is already defined by the [Peer] at line 3" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_A "\n", "wm0.conf:3: PublicKey: ",
	  "own public key" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nEndpoint = 192.0.2.1\n",
	  "wm0.conf:5: Endpoint: ", "no ':port': '192.0.2.1'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nEndpoint = fd00::1:51820\n",
	  "wm0.conf:5: Endpoint: ", "needs brackets" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nEndpoint = 192.0.2.1:0\n",
	  "wm0.conf:5: Endpoint: ", "port must be 1..65535" },
	/* 30 */ /* glibc refuses the empty label itself: no query leaves. */
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nEndpoint = bad..name:51820\n",
	  "wm0.conf:5: Endpoint: ", "cannot resolve 'bad..name:51820'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nEndpoint = [fd00::1:51820\n",
	  "wm0.conf:5: Endpoint: ", "no ']'" },
	{ NULL, IFACE "Relay = relay.example.net:3478\n", "wm0.conf:3: Relay: ",
	  "needs RelayPublicKey" },
	{ NULL, IFACE "RelayTCP = relay.example.net:443\n", "wm0.conf:3: RelayTCP: ",
	  "needs RelayPublicKey" },
	{ NULL, IFACE "Relay = relay.example.net\n", "wm0.conf:3: Relay: ",
	  "'relay.example.net'" },
	/* 35 */ { NULL, IFACE "Relay = relay..example.net:3478\n", "wm0.conf:3: Relay: ",
	  "not a valid host name" },
	{ NULL, IFACE "Relay = 10.0.0:3478\n", "wm0.conf:3: Relay: ",
	  "not a valid host name or IPv4 address" },
	{ NULL, IFACE "RelayPublicKey = " PUB_D "x\n", "wm0.conf:3: RelayPublicKey: ",
	  PUB_D "x" },
	{ NULL, IFACE "STUN = stun.example.net:3478, :3478\n", "wm0.conf:3: STUN: ",
	  "':3478'" },
	{ "this-name-is-too-long.conf", IFACE, "this-name-is-too-long.conf: ",
	  "interface name" },
	/* 40 */ { "/etc/wiremesh/wm0.ini", IFACE, "/etc/wiremesh/wm0.ini: ",
	  "followed by '.conf'" },
	{ "/etc/wiremesh/w m.conf", IFACE, "/etc/wiremesh/w m.conf: ", "interface name" },
	{ NULL, IFACE "Address = 10.0.0.1/24 \xff\n", "wm0.conf:3: ",
	  "invalid UTF-8 at column 23" },
	{ NULL, IFACE "Address = \xc0\xaf\n", "wm0.conf:3: ", "invalid UTF-8" },
	{ NULL, IFACE "\xed\xa0\x80 = 1\n", "wm0.conf:3: ", "invalid UTF-8" },
	/* 45 */ { NULL, IFACE "Address = 10.0.0.1\x01\n", "wm0.conf:3: ",
	  "control character at column 19" },
	{ NULL, IFACE "PublicKey = " PUB_B "\n", "wm0.conf:3: PublicKey: ",
	  "unknown key in [Interface] (it belongs in [Peer])" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nMTU = 1400\n", "wm0.conf:5: MTU: ",
	  "(it belongs in [Interface])" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPresharedKey = " PUB_C "=\n",
	  "wm0.conf:5: PresharedKey: ", "45 characters, not shown" },
	{ NULL, IFACE "FwMark = 0x100000000\n", "wm0.conf:3: FwMark: ", "'0x100000000'" },
	/* 50 */ { NULL, IFACE "FwMark = 12ab\n", "wm0.conf:3: FwMark: ", "'12ab'" },
	{ NULL, IFACE "SaveConfig = maybe\n", "wm0.conf:3: SaveConfig: ", "'maybe'" },
	{ NULL, IFACE "APIListen = 127.0.0.1:7707\n", "wm0.conf:3: APIListen: ",
	  "needs APITokenFile" },
	{ NULL, IFACE "APIListen = 0.0.0.0:7707\nAPITokenFile = /t\n",
	  "wm0.conf:3: APIListen: ", "'0.0.0.0:7707' is not a loopback address" },
	{ NULL, IFACE "APIListen = localhost:7707\n", "wm0.conf:3: APIListen: ",
	  "'localhost:7707'" },
	/* 55 */ { NULL, IFACE "API = /run/wiremesh/"
	  "a-very-long-directory-name-that-goes-on/and-on-and-on/until-it-no-"
	  "longer-fits-in-a-unix-socket-address.sock\n", "wm0.conf:3: API: ", "longer than 107 bytes" },
	{ NULL, IFACE "API =\n", "wm0.conf:3: API: ", "empty value" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nPath = relay\n",
	  "wm0.conf:3: Path: ", "no Relay" },
	{ NULL, IFACE "[Peer] extra\n", "wm0.conf:3: ", "not a section header" },
	{ NULL, IFACE "[Peer\n", "wm0.conf:3: ", "not a section header" },
	/* 60 */ { NULL, IFACE " = 1\n", "wm0.conf:3: ", "no key name before '='" },
	{ NULL, IFACE "[Relay]\n", "wm0.conf:3: ", "[Relay] has no PublicKey" },
	{ NULL, IFACE "# " LONG_LINE "\n", "wm0.conf:3: ", "line too long" },
	{ NULL, IFACE "APIAllowRemote = sure\n", "wm0.conf:3: APIAllowRemote: ",
	  "'sure'" },
	/* 65 */ { NULL, IFACE "[Relay]\nPublicKey = " PUB_D "\n", "wm0.conf:3: ",
	  "[Relay] has no Endpoint" },
	{ NULL, IFACE "[Relay]\nEndpoint = r.example:3478\nPrivateKey = " PRIV_B "\n",
	  "wm0.conf:5: PrivateKey: ", "unknown key in [Relay] (an agent's [Relay]" },
	{ NULL, IFACE "[Relay]\nEndpoint = r.example:3478\nPublicKey = " PUB_D
	  "\nTCP = udp://r.example:443\n", "wm0.conf:6: TCP: ", "udp://" },
	{ NULL, IFACE "[Relay]\nEndpoint = r.example\n", "wm0.conf:4: Endpoint: ", "" },
	{ NULL, IFACE "[Relay]\nEndpoint = a.example:1\nPublicKey = " PUB_D
	  "\n[Relay]\nEndpoint = b.example:1\nPublicKey = " PUB_D "\n",
	  "wm0.conf:8: PublicKey: ", "already defined by the [Relay] at line 3" },
	/* 70 */ { NULL, IFACE "RelayPublicKey = " PUB_D "\nRelay = a.example:1\n"
	  "[Relay]\nEndpoint = b.example:1\nPublicKey = " PUB_D "\n",
	  "wm0.conf:3: RelayPublicKey: ", "is also the [Relay] at line 5" },
	{ NULL, IFACE "[Relay]\nEndpoint = a.example:1\nEndpoint = b.example:1\n",
	  "wm0.conf:5: Endpoint: ", "given twice in [Relay] (first at line 4)" },
	{ NULL, IFACE "Table = sometimes\n", "wm0.conf:3: Table: ", "'sometimes'" },
	{ NULL, IFACE "Table = 0\n", "wm0.conf:3: Table: ", "table number" },
	{ NULL, IFACE "PostUp =\n", "wm0.conf:3: PostUp: ", "empty command" },
	{ NULL, IFACE "DNS = 1.1.1.1, a;b\n", "wm0.conf:3: DNS: ", "'a;b'" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nName = "
	  "0123456789012345678901234567890123456789012345678901234567890123\n",
	  "wm0.conf:5: Name: ", "'0123456789" },
	{ NULL, IFACE "[Peer]\nPublicKey = " PUB_B "\nName = caf\xc3\xa9\n",
	  "wm0.conf:5: Name: ", "visible ASCII" },
};

TEST(bad_agent_files)
{
	for (size_t i = 0; i < sizeof(bad_agent) / sizeof(bad_agent[0]); i++) {
		const struct bad_case *t = &bad_agent[i];
		struct wm_config cfg;
		char *msg;
		bool ok = parse(&cfg, t->name ? t->name : "wm0.conf", t->text,
				&msg);
		const char *nl = strchr(msg, '\n');

		if (ok || strncmp(msg, t->prefix, strlen(t->prefix)) ||
		    !strstr(msg, t->detail) || !nl || nl[1]) {
			fprintf(stderr, "case %zu: %s, error: %s", i + 1,
				ok ? "accepted" : "rejected", msg);
			fprintf(stderr, "  wanted '%s...%s'\n", t->prefix,
				t->detail);
			CHECK(false);
		}
		/* Freed and wiped by the failed load. */
		CHECK(is_zero(&cfg.private_key, 32) && cfg.peers == NULL);
		if (ok)
			wm_config_free(&cfg);
		free(msg);
	}
}

TEST(secrets_not_echoed)
{
	static const char text[] = "[Interface]\nPrivateKey = " PRIV_A "xyz\n";
	struct wm_config cfg;
	char *msg;

	CHECK(!parse(&cfg, "wm0.conf", text, &msg));
	CHECK(strstr(msg, "wm0.conf:2: PrivateKey: ") == msg);
	CHECK(strstr(msg, "+HieJxnAE") == NULL);
	free(msg);

	/* A key missing its '=' must not be quoted whole either. */
	CHECK(!parse(&cfg, "wm0.conf", "[Interface]\nPrivateKey " PRIV_A "\n", &msg));
	CHECK(strstr(msg, "wm0.conf:2: ") == msg);
	CHECK(strstr(msg, "+HieJxnAE") == NULL);
	free(msg);
}

static const char relay_full[] =
	"[Relay]\n"
	"PrivateKey = " PRIV_B "\n"
	"ListenPort = 3479\n"
	"TCPListen = 0.0.0.0:443\n"
	"TLSCert = /etc/wiremesh/relay.crt\n"
	"TLSKey = /etc/wiremesh/relay.key\n"
	"AllowedClients = " PUB_A "\n"
	"allowedclients = " PUB_C "\n"
	"AllowedClients = " PUB_A "\n"
	"ClientRate = 1000000\n"
	"MaxClients = 50\n";

TEST(relay_file)
{
	struct wm_relay_config r;
	char *msg;

	CHECK(parse_relay(&r, "/etc/wiremesh/relay.conf", relay_full, &msg));
	CHECK(!strcmp(msg, ""));
	CHECK(key_is(r.private_key, PRIV_B));
	CHECK(r.listen_port == 3479);
	CHECK(!strcmp(r.tcp_listen, "0.0.0.0:443"));
	CHECK(!strcmp(r.tls_cert, "/etc/wiremesh/relay.crt"));
	CHECK(!strcmp(r.tls_key, "/etc/wiremesh/relay.key"));
	CHECK(r.n_allowed_clients == 2); /* PUB_A once */
	if (r.n_allowed_clients == 2) {
		bool a = key_is(r.allowed_clients[0], PUB_A) ||
			 key_is(r.allowed_clients[1], PUB_A);
		bool c = key_is(r.allowed_clients[0], PUB_C) ||
			 key_is(r.allowed_clients[1], PUB_C);
		CHECK(a && c);
	}
	CHECK(r.client_rate == 1000000 && r.max_clients == 50);
	wm_relay_config_free(&r);
	CHECK(is_zero(&r, sizeof(r)));
	free(msg);

	CHECK(parse_relay(&r, "relay.conf",
			  "[relay]\nPrivateKey = " PRIV_B "\nAllowedClients = " PUB_A "\n",
			  &msg));
	CHECK(r.listen_port == 3478 && r.client_rate == 12500000 &&
	      r.max_clients == 10000 && !r.tcp_listen[0] && !r.tls_cert[0]);
	CHECK(r.max_conns_per_address == 8 && !r.metrics_listen[0]);
	wm_relay_config_free(&r);
	free(msg);

	CHECK(parse_relay(&r, "relay.conf",
			  "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClients = " PUB_A
			  "\nMaxConnsPerAddress = 0\nMetricsListen = [::1]:9478\n",
			  &msg));
	CHECK(r.max_conns_per_address == 0);
	CHECK(!strcmp(r.metrics_listen, "[::1]:9478"));
	wm_relay_config_free(&r);
	free(msg);

	/* the highest rate the relay's buckets hold */
	CHECK(parse_relay(&r, "relay.conf",
			  "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClients = " PUB_A
			  "\nClientRate = 10000000000\n", &msg));
	CHECK(r.client_rate == 10000000000ULL);
	wm_relay_config_free(&r);
	free(msg);
}

static const struct bad_case bad_relay[] = {
	{ NULL, "[Relay]\nAllowedClients = " PUB_A "\n", "relay.conf: PrivateKey: ",
	  "missing from [Relay]" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClients = " PUB_A
	  "\nTLSCert = /c\n", "relay.conf:4: TLSCert: ", "needs TLSKey" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClients = " PUB_A
	  "\nTLSKey = /k\n", "relay.conf:4: TLSKey: ", "needs TLSCert" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClients = nope\n",
	  "relay.conf:3: AllowedClients: ", "'nope'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\n", "relay.conf: AllowedClients: ",
	  "serve nobody" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nClientRate = 0\n",
	  "relay.conf:3: ClientRate: ", "'0'" },
	/* more than the relay's token buckets hold (it used to turn the
	 * limit off instead) */
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nClientRate = 10000000001\n",
	  "relay.conf:3: ClientRate: ",
	  "not 1..10000000000 bytes/s: '10000000001'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nMaxClients = lots\n",
	  "relay.conf:3: MaxClients: ", "'lots'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nListenPort = 0\n",
	  "relay.conf:3: ListenPort: ", "'0'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nAllowedClientsFile = no-such-file\n",
	  "relay.conf:3: AllowedClientsFile: ", "cannot open 'no-such-file'" },
	{ NULL, "[Interface]\nPrivateKey = " PRIV_B "\n", "relay.conf:1: ",
	  "unknown section '[Interface]' (a relay file has only [Relay])" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nTCPListen = relay.example:443\n",
	  "relay.conf:3: TCPListen: ", "'relay.example:443'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nAddress = 10.0.0.1/24\n",
	  "relay.conf:3: Address: ", "unknown key in [Relay]" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nMetricsListen = 192.0.2.1:9478\n",
	  "relay.conf:3: MetricsListen: ", "not a loopback address" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nMetricsListen = 0.0.0.0:9478\n",
	  "relay.conf:3: MetricsListen: ", "not a loopback address" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nMetricsListen = localhost:9478\n",
	  "relay.conf:3: MetricsListen: ", "'localhost:9478'" },
	{ NULL, "[Relay]\nPrivateKey = " PRIV_B "\nMaxConnsPerAddress = 70000\n",
	  "relay.conf:3: MaxConnsPerAddress: ", "'70000'" },
	{ NULL, "[Relay]\n[Relay]\n", "relay.conf:2: ", "second [Relay]" },
	{ NULL, "", "relay.conf: ", "no [Relay] section" },
};

TEST(bad_relay_files)
{
	for (size_t i = 0; i < sizeof(bad_relay) / sizeof(bad_relay[0]); i++) {
		const struct bad_case *t = &bad_relay[i];
		struct wm_relay_config r;
		char *msg;
		bool ok = parse_relay(&r, "relay.conf", t->text, &msg);

		if (ok || strncmp(msg, t->prefix, strlen(t->prefix)) ||
		    !strstr(msg, t->detail)) {
			fprintf(stderr, "relay case %zu: %s, error: %s", i + 1,
				ok ? "accepted" : "rejected", msg);
			CHECK(false);
		}
		CHECK(r.allowed_clients == NULL);
		if (ok)
			wm_relay_config_free(&r);
		free(msg);
	}
}

/* Real files: CRLF, NUL bytes, a clients file next to the config. */
TEST(files_on_disk)
{
	char dir[] = "/tmp/wm-test-config-XXXXXX", path[256], *msg;
	struct wm_config cfg;
	struct wm_relay_config r;
	static const char nul[] = IFACE "Address = 10.0.0.1/24\0junk\n";
	static const char crlf[] = "[Interface]\r\nPrivateKey = " PRIV_A
				   "\r\nListenPort = 4242\r\n";

	CHECK(mkdtemp(dir) != NULL);

	snprintf(path, sizeof(path), "%s/wmt0.conf", dir);
	write_file(path, crlf, sizeof(crlf) - 1, 0600);
	CHECK(load(&cfg, path, &msg));
	CHECK(!strcmp(msg, "")); /* mode 0600: no warning */
	CHECK(!strcmp(cfg.ifname, "wmt0") && cfg.listen_port == 4242);
	wm_config_free(&cfg);
	free(msg);

	chmod(path, 0644);
	CHECK(load(&cfg, path, &msg));
	CHECK(strstr(msg, "warning: readable by every user") != NULL);
	wm_config_free(&cfg);
	free(msg);

	write_file(path, nul, sizeof(nul) - 1, 0600);
	CHECK(!load(&cfg, path, &msg));
	CHECK(strstr(msg, "/wmt0.conf:3: NUL byte") != NULL);
	free(msg);

	char *big = malloc(8192);
	int n = snprintf(big, 8192, IFACE "Address = 10.0.0.1/24 #");
	memset(big + n, 'x', 5000);
	write_file(path, big, (size_t)n + 5000, 0600);
	free(big);
	CHECK(!load(&cfg, path, &msg));
	CHECK(strstr(msg, "/wmt0.conf:3: line too long") != NULL);
	free(msg);

	CHECK(!load(&cfg, dir, &msg)); /* no .conf suffix */
	free(msg);
	snprintf(path, sizeof(path), "%s/sub.conf", dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(!load(&cfg, path, &msg));
	CHECK(strstr(msg, "/sub.conf: is a directory") != NULL);
	free(msg);
	rmdir(path);

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	CHECK(!load(&cfg, path, &msg));
	CHECK(strstr(msg, "/missing.conf: cannot open: No such file") != NULL);
	free(msg);

	snprintf(path, sizeof(path), "%s/clients", dir);
	static const char clients[] = "# fleet\n" PUB_C "\r\n\n  " PUB_D
				      "  # laptop\n" PUB_A;
	write_file(path, clients, sizeof(clients) - 1, 0600);
	snprintf(path, sizeof(path), "%s/relay.conf", dir);
	static const char relay[] = "[Relay]\nPrivateKey = " PRIV_B
				    "\nAllowedClientsFile = clients\n"
				    "AllowedClients = " PUB_A "\n";
	write_file(path, relay, sizeof(relay) - 1, 0600);
	CHECK(wm_relay_config_load(&r, path, NULL));
	CHECK(r.n_allowed_clients == 3);
	wm_relay_config_free(&r);

	snprintf(path, sizeof(path), "%s/clients", dir);
	static const char bad_clients[] = PUB_C "\n" PUB_D "x\n";
	write_file(path, bad_clients, sizeof(bad_clients) - 1, 0600);
	snprintf(path, sizeof(path), "%s/relay.conf", dir);
	size_t len;
	FILE *err = open_memstream(&msg, &len);
	CHECK(!wm_relay_config_load(&r, path, err));
	fclose(err);
	CHECK(strstr(msg, "/relay.conf:3: AllowedClientsFile: ") != NULL);
	CHECK(strstr(msg, "/clients:2: not a base64 public key: '" PUB_D "x'") != NULL);
	free(msg);

	unlink(path);
	snprintf(path, sizeof(path), "%s/clients", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/wmt0.conf", dir);
	unlink(path);
	CHECK(rmdir(dir) == 0);
}

TEST(field_parsers)
{
	uint16_t u16;
	uint32_t u32;
	bool b;
	enum wm_path_mode m;
	char hp[WM_HOSTPORT_MAX], ifn[WM_IFNAME_MAX];
	uint8_t key[32];

	CHECK(wm_parse_port(&u16, "0") && u16 == 0);
	CHECK(wm_parse_port(&u16, "65535") && u16 == 65535);
	CHECK(!wm_parse_port(&u16, "65536") && !wm_parse_port(&u16, "") &&
	      !wm_parse_port(&u16, "+1") && !wm_parse_port(&u16, "0x10") &&
	      !wm_parse_port(&u16, "99999999999999999999999"));
	CHECK(wm_parse_keepalive(&u16, "OFF") && u16 == 0);
	CHECK(wm_parse_keepalive(&u16, "25") && u16 == 25);
	CHECK(!wm_parse_keepalive(&u16, "25s"));
	CHECK(wm_parse_path_mode(&m, "Relay") && m == WM_PATH_RELAY);
	CHECK(!wm_parse_path_mode(&m, "relays"));
	CHECK(!strcmp(wm_path_mode_name(WM_PATH_DIRECT), "direct"));
	CHECK(wm_parse_fwmark(&u32, "0xFFFFFFFF") && u32 == 0xffffffff);
	CHECK(wm_parse_fwmark(&u32, "4294967295") && u32 == 0xffffffff);
	CHECK(!wm_parse_fwmark(&u32, "4294967296") && !wm_parse_fwmark(&u32, "0x"));
	CHECK(wm_parse_bool(&b, "TRUE") && b && wm_parse_bool(&b, "off") && !b);
	CHECK(wm_parse_key(key, PUB_B) && key_is(key, PUB_B));
	CHECK(!wm_parse_key(key, "Tjn6uQG5fXirSt7-QjHC8AmpKehx2KmL5yEzo52_vHE="));

	CHECK(wm_parse_hostport(hp, "a.b-c.example:1") && !strcmp(hp, "a.b-c.example:1"));
	CHECK(wm_parse_hostport(hp, "[fe80::1%eth0]:3478"));
	CHECK(wm_parse_hostport(hp, "192.0.2.1:65535"));
	CHECK(!wm_parse_hostport(hp, "-a.example:1"));
	CHECK(!wm_parse_hostport(hp, "a-.example:1"));
	CHECK(!wm_parse_hostport(hp, "a.example:65536"));
	CHECK(!wm_parse_hostport(hp, "a.example:"));
	CHECK(!wm_parse_hostport(hp, "[a.example]:1"));
	CHECK(!wm_parse_hostport(hp, "256.0.0.1:1"));
	CHECK(!wm_parse_hostport(hp, "a b:1"));

	CHECK(wm_parse_ifname(ifn, "/a/b/wg-home.conf") && !strcmp(ifn, "wg-home"));
	CHECK(wm_parse_ifname(ifn, "123456789012345.conf"));
	CHECK(!wm_parse_ifname(ifn, "1234567890123456.conf"));
	CHECK(!wm_parse_ifname(ifn, ".conf") && !wm_parse_ifname(ifn, "..conf"));
	CHECK(!wm_parse_ifname(ifn, "/etc/wm0.conf/"));

	struct wm_cidr_list l = { 0 };
	const char *bad;
	size_t bad_len;
	CHECK(wm_parse_cidr_list(&l, " ", &bad, &bad_len) && l.len == 0);
	CHECK(wm_parse_cidr_list(&l, "10.0.0.1/8,fd00::/8", &bad, &bad_len));
	CHECK(l.len == 2);
	static const char text[] = "1.2.3.4, 1.2.3.4/99 ,5.6.7.8";
	CHECK(!wm_parse_cidr_list(&l, text, &bad, &bad_len));
	CHECK(l.len == 2 && bad == text + 9 && bad_len == 10);
	for (int i = 0; i < 10; i++)
		CHECK(wm_parse_cidr_list(&l, "::1, 127.0.0.1", &bad, &bad_len));
	CHECK(l.len == 22 && cidr_is(&l.items[21], "127.0.0.1/32"));
	wm_cidr_list_free(&l);
	CHECK(l.items == NULL && l.len == 0);
}

int main(void)
{
	RUN(plain_wg_quick_file);
	RUN(full_wiremesh_file);
	RUN(defaults);
	RUN(relay_tcp_schemes);
	RUN(several_relays);
	RUN(streaming);
	RUN(endpoints_resolved_after_parsing);
	RUN(unresolvable_endpoint);
	RUN(many_peers);
	RUN(bad_agent_files);
	RUN(secrets_not_echoed);
	RUN(relay_file);
	RUN(bad_relay_files);
	RUN(files_on_disk);
	RUN(field_parsers);
	return check_summary();
}
