/*
 * config_fields.h - the value parsers shared by the agent's and the
 * relay's config files (agent/config.c, agent/relay/config.c), the wg
 * UAPI (agent/uapi.c) and the REST API (api/peer_json.c): keys, ports,
 * keepalives, path modes, fwmarks, booleans, host:port, interface names
 * and prefix lists.
 *
 * Two families:
 *   wm_parse_*  print nothing: true and *out set, or false and *out left
 *               alone (a key may be zeroed), so each caller words its own
 *               errors;
 *   wm_field_*  the config files' wording of the same checks: they report
 *               through wm_ini_fail (config_ini.h) as "FILE:LINE: KEY:
 *               message 'text'"; secrets are never quoted.
 * Character classes are ASCII whatever the locale.
 */
#ifndef WM_AGENT_CONFIG_FIELDS_H
#define WM_AGENT_CONFIG_FIELDS_H

#include "agent/config_ini.h"
#include "agent/nat/path.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_HOSTPORT_MAX = 256,     /* "host:port" incl. NUL */
	WM_IFNAME_MAX = 16,        /* IFNAMSIZ */
	WM_PEER_NAME_MAX = 64,     /* a peer's Name = incl. NUL */
};


/* A growable prefix list; items owned by the list. */
struct wm_cidr_list {
	struct wm_cidr *items;
	size_t len, cap;
};

/* A 44-character standard base64 key ending in '=', as wg prints it. */
bool wm_parse_key(uint8_t out[32], const char *text);
/* Decimal 0..65535. */
bool wm_parse_port(uint16_t *out, const char *text);
/* Decimal 0..max: no sign, no spaces, no 0x. */
bool wm_parse_u64(uint64_t *out, const char *text, uint64_t max);
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
/* A peer's name (Name =, the API's "name"): 1..63 visible ASCII
 * characters or spaces, not starting or ending with a space, no '#'
 * (a config file's comment sign: SaveConfig writes the name back). */
bool wm_parse_peer_name(char out[WM_PEER_NAME_MAX], const char *text);
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

/* Grows an array of items of `size` bytes to hold len + 1; the old block
 * is wiped before it is freed (peer arrays carry preshared keys). Returns
 * the array, or NULL when out of memory (the array is then unchanged). */
void *wm_config_grow(void *items, size_t *cap, size_t len, size_t size);

/* A key that must not be echoed: the message gives its length only. */
bool wm_field_secret(struct wm_ini *ini, uint8_t out[32], const char *value);
bool wm_field_public_key(struct wm_ini *ini, uint8_t out[32],
			 const char *value);
/* A non-empty string shorter than cap, copied to dst. */
bool wm_field_string(struct wm_ini *ini, char *dst, size_t cap,
		     const char *value);
/* wm_parse_cidr_list, reported. */
bool wm_field_cidrs(struct wm_ini *ini, struct wm_cidr_list *list,
		    const char *value);
/* "host:port" or "[v6]:port", port 1..65535, copied to dst. check_host
 * also vets a name's spelling (RFC 1123 labels); without it that is left
 * to the resolver. */
bool wm_field_hostport(struct wm_ini *ini, char dst[WM_HOSTPORT_MAX],
		       const char *value, bool check_host);
/* A numeric listen address, "127.0.0.1:7707" or "[::1]:7707", copied. */
bool wm_field_listen(struct wm_ini *ini, char *dst, size_t cap,
		     const char *value);
bool wm_field_bool(struct wm_ini *ini, bool *out, const char *value);

#endif
