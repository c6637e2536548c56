/*
 * config.h - the agent's config file, `wiremesh agent --config wm0.conf`
 * (format: DESIGN.md, "Config"): [Interface] and [Peer] into a struct
 * wm_config, and any number of [Relay] sections (up to WM_RELAYS_MAX,
 * the Interface's Relay/RelayTCP/RelayPublicKey counting as the first).
 * The relay's file is agent/relay/config.h's; the INI reading
 * is config_ini.h's and the value parsers config_fields.h's.
 *
 * Files are read line by line through a small streaming API (init /
 * parse_line / finish) that wm_config_load and wm_config_parse_string
 * drive; fuzzers drive the same calls. Plain WireGuard and wg-quick files
 * load unchanged, and the agent acts on wg-quick's keys as wg-quick does:
 * Table (agent/route_sync.h, agent/fulltunnel.h), DNS and the four hooks
 * (agent/hooks.h). A key accepted but not acted on is a warning with its
 * file:line, never silence.
 *
 * Parsing never asks DNS: an Endpoint = host name is kept as text and
 * looked up later, off the loop, by the running agent (agent/names.h), or
 * by wm_config_resolve for --check-config.
 *
 * Every error is printed to `err` (NULL: silent) at the point of failure as
 * "FILE:LINE: KEY: message 'text'", "FILE:LINE: message" or "FILE: message",
 * and the call returns false; the caller exits 2. Bad secrets are not
 * echoed. Section and key names are case-insensitive; "#" starts a comment
 * anywhere, ";" only at the start of a line.
 */
#ifndef WM_AGENT_CONFIG_H
#define WM_AGENT_CONFIG_H

#include "agent/config_fields.h"
#include "agent/config_ini.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	WM_API_SOCKET_MAX = 108,   /* sizeof(sun_path) */
	WM_MTU_MIN = 1280,         /* the IPv6 minimum */
	WM_MTU_MAX = 9000,
	WM_RELAYS_MAX = 8,         /* relays one agent keeps a session with */
};

/* One relay the agent uses: a [Relay] section, or the Interface's
 * Relay/RelayTCP/RelayPublicKey shorthand (always the first). */
struct wm_config_relay {
	char endpoint[WM_HOSTPORT_MAX]; /* UDP host:port; syntax checked only */
	char tcp[WM_HOSTPORT_MAX];      /* [tls://|tcp://]host:port, "" = none */
	uint8_t public_key[32];
	unsigned line;                  /* its [Relay]; 0 for the shorthand */
};

/* Table = auto (the default: routes in main, a default route through
 * policy routing as wg-quick does), off (no routes), or a table number. */
enum wm_table_mode { WM_TABLE_AUTO, WM_TABLE_OFF, WM_TABLE_ID };

/* wg-quick's hooks, in the order they run. */
enum wm_hook { WM_HOOK_PRE_UP, WM_HOOK_POST_UP, WM_HOOK_PRE_DOWN,
	       WM_HOOK_POST_DOWN, WM_HOOK_COUNT };

/* Strings given one per line (repeated keys), in file order. */
struct wm_strings {
	char **items;
	size_t len, cap;
};

struct wm_peer_config {
	uint8_t public_key[32];
	bool has_psk;                /* false for a missing or all-zero key */
	uint8_t psk[32];
	struct wm_cidr_list allowed_ips; /* host bits cleared */
	bool has_endpoint;           /* endpoint holds an address */
	union wm_sockaddr endpoint;
	char endpoint_text[WM_HOSTPORT_MAX]; /* as written, for re-resolving */
	bool endpoint_unresolved;    /* endpoint_text names a host not looked
				      * up yet: by the agent's background
				      * resolver (agent/names.h), or by
				      * wm_config_resolve (--check-config) */
	bool endpoint_named;         /* endpoint_text is a host name: the
				      * agent follows it when it moves */
	bool endpoint_warned;        /* its lookup failure was logged */
	unsigned endpoint_line;      /* where Endpoint = is, for messages */
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	enum wm_path_mode path_mode;
	char name[WM_PEER_NAME_MAX]; /* Name =, "" when none */
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
	/* Every relay, the shorthand above first: what the agent uses. */
	struct wm_config_relay relays[WM_RELAYS_MAX];
	size_t n_relays;
	char **stun;                    /* "host:port" strings */
	size_t n_stun, cap_stun;
	char api_socket[WM_API_SOCKET_MAX]; /* default /run/wiremesh/IF.sock */
	char api_listen[64];            /* "" = none; numeric "ip:port" */
	char api_token_file[WM_CONFIG_PATH_MAX];
	bool api_allow_remote;          /* APIListen may be non-loopback */
	bool save_config;
	bool port_mapping_off;  /* PortMapping = off: ask no gateway (NAT-PMP, UPnP) */
	enum wm_table_mode table_mode;
	uint32_t table;                 /* WM_TABLE_ID: the table number */
	struct wm_strings hooks[WM_HOOK_COUNT]; /* shell commands, %i unexpanded */
	struct wm_strings dns;          /* DNS = servers and search domains */
	bool birthday_off;      /* BirthdayProbe = off: no extra sockets, no probes */
	struct wm_peer_config *peers;
	size_t n_peers, cap_peers;
};

/* Parser state; callers own it, its fields are private. */
struct wm_config_ctx {
	struct wm_ini ini;
	struct wm_config *cfg;
	int section;
	unsigned section_line;
	unsigned interface_line;
	unsigned key_line[2][32];   /* [0] interface, [1] current peer */
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
/*
 * Looks up every Endpoint = that names a host (numeric ones are parsed
 * with the file), in file order, and sets has_endpoint. The first that
 * does not resolve is reported as "FILE:LINE: Endpoint: cannot resolve
 * 'host:port': reason" and stops it. Blocks on DNS: for --check-config
 * only (the running agent uses agent/names.h). On false cfg is freed,
 * as by a failed wm_config_load.
 */
bool wm_config_resolve(struct wm_config *cfg, FILE *err);
/* Frees all arrays and wipes the keys; safe on a zeroed or freed cfg. */
void wm_config_free(struct wm_config *cfg);

#endif
