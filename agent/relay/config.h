/*
 * config.h - the relay's config file, `wiremesh relay --config
 * relay.conf` (format: DESIGN.md, "Config"): one [Relay] section into a
 * struct wm_relay_config. AllowedClientsFile = names a list of client
 * keys, one per line, read while the file is parsed.
 *
 * Lines are read by agent/config_ini.h and values checked by
 * agent/config_fields.h, so the rules and the error format are the
 * agent's: every error is printed to `err` (NULL: silent) as
 * "FILE:LINE: KEY: message 'text'", the call returns false and the relay
 * exits 2.
 */
#ifndef WM_RELAY_CONFIG_H
#define WM_RELAY_CONFIG_H

#include "agent/config_fields.h"
#include "agent/config_ini.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	WM_RELAY_DEFAULT_PORT = 3478,
	WM_RELAY_DEFAULT_MAX_CLIENTS = 10000,
	WM_RELAY_DEFAULT_CONNS_PER_ADDRESS = 8,
};
#define WM_RELAY_DEFAULT_CLIENT_RATE 12500000ULL /* bytes/s: 100 Mbit/s */

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
	uint32_t max_conns_per_address; /* TCP/TLS; 0: no cap */
	char metrics_listen[64];        /* "" = none; loopback "ip:port" */
	/* STUN's second port (OTHER-ADDRESS); default ListenPort + 1, 0 off.
	 * When only defaulted, a port already taken is a warning, not fatal. */
	uint16_t stun_alt_port;
	bool stun_alt_explicit;
};

/* Reads and parses the file at path; AllowedClientsFile is read now,
 * relative to path's directory. On false cfg is freed. */
bool wm_relay_config_load(struct wm_relay_config *cfg, const char *path,
			  FILE *err);
/* Parses text as the file `name` (AllowedClientsFile is relative to it). */
bool wm_relay_config_parse_string(struct wm_relay_config *cfg,
				  const char *name, const char *text,
				  FILE *err);
/* Frees the client list and wipes the key; safe on a zeroed or freed cfg. */
void wm_relay_config_free(struct wm_relay_config *cfg);

#endif
