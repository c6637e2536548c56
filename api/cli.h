/*
 * cli.h - the CLI client of the agent's REST API, over the agent's unix
 * socket with libcurl:
 *   status     the interface, then one line per peer (as `tailscale
 *              status`): address, name or key, path, endpoint or relay,
 *              rtt, last handshake, bytes (GET /v1/status, /v1/peers)
 *   peers      the peer table
 *   path PEER auto|direct|relay
 *   ping PEER  disco pings over every candidate and the relay, each
 *              answer with its rtt and the way it came (POST
 *              /v1/peers/{key}/ping), -c COUNT rounds a second apart,
 *              -t TIMEOUT_MS each; exit 1 when nothing answered
 *   netcheck   UDP, reflexive addresses, mapping, STUN and relay
 *              latency, the port mapping in use (GET /v1/netcheck)
 *
 * Each takes `--json` (print the API's JSON instead of text) and
 * `--socket PATH`; without it the one *.sock in /run/wiremesh/ is used.
 * Exit status: 0 ok, 1 the agent is unreachable or refused the request,
 * 2 a usage error (including an ambiguous PEER or several sockets to
 * choose from). PEER is a peer's name, a full key (base64 or base64url)
 * or a unique prefix of one, resolved through GET /v1/peers.
 */
#ifndef WM_API_CLI_H
#define WM_API_CLI_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WM_CLI_SOCKET_DIR "/run/wiremesh"

int wm_cmd_status(int argc, char **argv);
int wm_cmd_peers(int argc, char **argv);
int wm_cmd_path(int argc, char **argv);
int wm_cmd_ping(int argc, char **argv);
int wm_cmd_netcheck(int argc, char **argv);

/* The pieces below are exported for the unit tests. */

/* The one socket in dir: 0 and out, -ENOENT (none), -E2BIG (several;
 * out lists them, comma-separated) or another -errno. */
int wm_cli_find_socket(const char *dir, char *out, size_t cap);
/* The peer of a {"peers":[...]} answer that arg names (full key in
 * either alphabet, or a prefix of its base64): 0 and key, -ENOENT (none)
 * or -EEXIST (several). */
int wm_cli_match_peer(const json_t *peers, const char *arg, uint8_t key[32]);
/* An rtt_us JSON value as "0.31 ms" (under 10 ms) or "45 ms"; "-" when
 * it is not a number. */
void wm_cli_rtt(char *out, size_t cap, const json_t *rtt_us);
/* A peer's name, else the first 8 characters of its key and "..". */
void wm_cli_peer_label(char *out, size_t cap, const json_t *peer);
/* The peer's first allowed IP, bare when a host prefix; "-" when none. */
void wm_cli_tunnel_addr(char *out, size_t cap, const json_t *peer);
/* "1.5 KiB"-style sizes; "0 B" under 1 KiB. */
void wm_cli_bytes(char *out, size_t cap, uint64_t n);
/* "never", "12s ago", "3m 4s ago", "2h 5m ago", "3d 4h ago" for an RFC
 * 3339 UTC time (or NULL) seen at now (unix seconds). */
void wm_cli_age(char *out, size_t cap, const char *rfc3339, int64_t now);

#endif
