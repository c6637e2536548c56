/*
 * config.h - the wg-quick style INI files of `wiremesh agent` and
 * `wiremesh relay` (format: DESIGN.md, "Config").
 *
 * Agent files are read line by line through a small streaming API
 * (init / parse_line / finish) that wm_config_load and
 * wm_config_parse_string drive; fuzzers drive the same calls. Plain
 * WireGuard and wg-quick files load unchanged: DNS, Table, PreUp, PostUp,
 * PreDown and PostDown are accepted and ignored.
 *
 * Every error is printed to `err` (NULL: silent) at the point of failure as
 * "FILE:LINE: KEY: message 'text'", "FILE:LINE: message" or "FILE: message",
 * and the call returns false; the caller exits 2. Bad secrets are not
 * echoed. Section and key names are case-insensitive; "#" starts a comment
 * anywhere, ";" only at the start of a line.
 *
 * The field parsers (wm_parse_*) print nothing, so the wg UAPI and the REST
 * API can reuse them and word their own errors.
 */
#ifndef WM_AGENT_CONFIG_H
#define WM_AGENT_CONFIG_H

#include "agent/nat/path.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	WM_CONFIG_LINE_MAX = 4096, /* bytes per line, newline excluded */
	WM_CONFIG_PATH_MAX = 4096,
	WM_HOSTPORT_MAX = 256,     /* "host:port" incl. NUL */
	WM_IFNAME_MAX = 16,        /* IFNAMSIZ */
	WM_API_SOCKET_MAX = 108,   /* sizeof(sun_path) */
	WM_RELAY_DEFAULT_PORT = 3478,
	WM_RELAY_DEFAULT_MAX_CLIENTS = 10000,
	WM_MTU_MIN = 1280,         /* the IPv6 minimum */
	WM_MTU_MAX = 9000,
};
#define WM_RELAY_DEFAULT_CLIENT_RATE 12500000ULL /* bytes/s: 100 Mbit/s */


/* A growable prefix list; items owned by the list. */
struct wm_cidr_list {
	struct wm_cidr *items;
	size_t len, cap;
};

struct wm_peer_config {
	uint8_t public_key[32];
	bool has_psk;                /* false for a missing or all-zero key */
	uint8_t psk[32];
	struct wm_cidr_list allowed_ips; /* host bits cleared */
	bool has_endpoint;
	union wm_sockaddr endpoint;  /* resolved at load */
	char endpoint_text[WM_HOSTPORT_MAX]; /* as written, for re-resolving */
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	enum wm_path_mode path_mode;
	unsigned line;               /* where its [Peer] starts */
};

struct wm_config {
	char path[WM_CONFIG_PATH_MAX];  /* as given; prefixes every message */
	char ifname[WM_IFNAME_MAX];     /* the file's basename minus ".conf" */
	uint8_t private_key[32];
	uint8_t public_key[32];         /* derived from private_key */
	uint16_t listen_port;           /* 0 = random */
	uint32_t fwmark;                /* 0 = off */
	struct wm_cidr_list addresses;  /* host bits kept */
	uint16_t mtu;                   /* 0 = default */
	char relay[WM_HOSTPORT_MAX];    /* "" = none; syntax checked only */
	char relay_tcp[WM_HOSTPORT_MAX];
	bool has_relay_public_key;      /* always true when a relay is set */
	uint8_t relay_public_key[32];
	char **stun;                    /* "host:port" strings */
	size_t n_stun, cap_stun;
	char api_socket[WM_API_SOCKET_MAX]; /* default /run/wiremesh/IF.sock */
	char api_listen[64];            /* "" = none; numeric "ip:port" */
	char api_token_file[WM_CONFIG_PATH_MAX];
	bool api_allow_remote;          /* APIListen may be non-loopback */
	bool save_config;
	struct wm_peer_config *peers;
	size_t n_peers, cap_peers;
};

struct wm_relay_config {
	char path[WM_CONFIG_PATH_MAX];
	uint8_t private_key[32];
	uint16_t listen_port;           /* UDP relay + STUN, default 3478 */
	char tcp_listen[64];            /* "" = none; numeric "ip:port" */
	char tls_cert[WM_CONFIG_PATH_MAX]; /* both set or both "" */
	char tls_key[WM_CONFIG_PATH_MAX];
	uint8_t (*allowed_clients)[32]; /* deduplicated */
	size_t n_allowed_clients, cap_allowed_clients;
	uint64_t client_rate;           /* bytes/s per client */
	uint32_t max_clients;
};

/* Parser state; callers own it, its fields are private. */
struct wm_config_ctx {
	struct wm_config *cfg;
	struct wm_relay_config *relay;
	FILE *err;
	const char *path;
	const char *key;            /* canonical name of the key being parsed */
	unsigned lineno;
	int section;
	unsigned section_line;
	unsigned interface_line;
	unsigned key_line[2][32];   /* [0] interface/relay, [1] current peer */
	bool failed;
};

/* Zeroes cfg; false (reported) when path's name is no interface name. */
bool wm_config_init(struct wm_config_ctx *ctx, struct wm_config *cfg,
		    const char *path, FILE *err);
/* One line, numbered from 1, "\n"/"\r\n" optional; false: cfg freed. */
bool wm_config_parse_line(struct wm_config_ctx *ctx, const char *line,
			  unsigned lineno);
/* Whole-file checks (keys, duplicate peers) and defaults; false: freed. */
bool wm_config_finish(struct wm_config_ctx *ctx);

/* Reads and parses the file at path. On false cfg is freed. */
bool wm_config_load(struct wm_config *cfg, const char *path, FILE *err);
/* Parses text as the file `name` (which gives the ifname). */
bool wm_config_parse_string(struct wm_config *cfg, const char *name,
			    const char *text, FILE *err);
/* Frees all arrays and wipes the keys; safe on a zeroed or freed cfg. */
void wm_config_free(struct wm_config *cfg);

/* The relay file; AllowedClientsFile is read now, relative to its dir. */
bool wm_relay_config_load(struct wm_relay_config *cfg, const char *path,
			  FILE *err);
bool wm_relay_config_parse_string(struct wm_relay_config *cfg,
				  const char *name, const char *text,
				  FILE *err);
void wm_relay_config_free(struct wm_relay_config *cfg);

/* Field parsers print nothing: true and *out set, or false and *out left
 * alone (a key may be zeroed). */

/* A 44-character standard base64 key ending in '=', as wg prints it. */
bool wm_parse_key(uint8_t out[32], const char *text);
/* Decimal 0..65535. */
bool wm_parse_port(uint16_t *out, const char *text);
/* "off" or decimal 0..65535 seconds (0 is off too). */
bool wm_parse_keepalive(uint16_t *out, const char *text);
/* "auto", "direct" or "relay", any case. */
bool wm_parse_path_mode(enum wm_path_mode *out, const char *text);
const char *wm_path_mode_name(enum wm_path_mode mode);
/* "off" or 0..0xffffffff, decimal or 0x-prefixed hex, as wg accepts. */
bool wm_parse_fwmark(uint32_t *out, const char *text);
/* "true"/"false" (also yes/no, on/off, 1/0), any case. */
bool wm_parse_bool(bool *out, const char *text);
/* Copies a "host:port"/"[v6]:port" (valid name or IP, port 1..65535). */
bool wm_parse_hostport(char out[WM_HOSTPORT_MAX], const char *text);
/* Basename minus ".conf", 1..15 of [A-Za-z0-9_=+.-] (wg-quick's rule). */
bool wm_parse_ifname(char out[WM_IFNAME_MAX], const char *path);
/* Appends each prefix of a comma-separated list ("" adds none; spaces
 * around items are ignored). On a bad item: false, list unchanged, and
 * *bad / *bad_len give the item within text; *bad is NULL when memory ran
 * out instead. */
bool wm_parse_cidr_list(struct wm_cidr_list *list, const char *text,
			const char **bad, size_t *bad_len);
/* Frees the items and empties the list. */
void wm_cidr_list_free(struct wm_cidr_list *list);

#endif
