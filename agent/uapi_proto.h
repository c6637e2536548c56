/*
 * uapi_proto.h - the text of the WireGuard cross-platform userspace API
 * (what `wg show`, `wg showconf` and `wg set` say to a wiremesh
 * interface): the answer to get=1 built from a device, and the
 * key=value lines of set=1 applied to it. No sockets, no loop, no I/O:
 * requests come in as buffers, so the unit tests and the fuzzer call the
 * very functions the socket side (agent/uapi.h) calls.
 *
 *   get=1\n\n                  -> key=value lines, then errno=0\n\n
 *   set=1\n<key=value lines>\n -> errno=N\n\n (N = 0 or a positive errno)
 *
 * Keys and their order rules follow wireguard-go's device/uapi.go: device
 * keys (private_key, listen_port, fwmark, replace_peers) come first; each
 * public_key line opens a peer section for the keys after it (remove,
 * update_only, preshared_key, endpoint, persistent_keepalive_interval,
 * replace_allowed_ips, allowed_ip, protocol_version). A failing line stops
 * the request with its errno, but the lines before it stay applied. A
 * public_key equal to our own opens a section that is parsed and ignored.
 * Every change goes through the wm_device_* and wm_peer_* calls (an
 * endpoint through wm_peer_set_endpoint, as WM_EP_CONFIG).
 */
#ifndef WM_UAPI_PROTO_H
#define WM_UAPI_PROTO_H

#include "agent/device.h"

#include <stddef.h>
#include <stdint.h>

/* What the agent does for us; any member may be NULL. */
struct wm_uapi_ops {
	/* Rebinds the UDP socket and sets dev->listen_port. 0 or -errno.
	 * NULL: listen_port is only stored in dev. */
	int (*set_listen_port)(void *ctx, uint16_t port);
	/* Applies the mark to the UDP socket and sets dev->fwmark. 0 or
	 * -errno. NULL: fwmark is only stored in dev. */
	int (*set_fwmark)(void *ctx, uint32_t mark);
	/* A set request changed something (keys, peers, allowed IPs,
	 * endpoints...): routes follow, the config is saved. Called once per
	 * request, also when it failed after some lines took effect. */
	void (*changed)(void *ctx);
	/* Peers the request created (once it is done, as they stand then),
	 * and each peer just before it is removed: the REST API's
	 * peer_added and peer_removed events. NULL: not announced. */
	void (*peer_added)(void *ctx, const struct wm_peer *p);
	void (*peer_removing)(void *ctx, const struct wm_peer *p);
	void *ctx;
};

/* The answer to get=1: malloc'd text ending in "errno=0\n\n" into *out,
 * its length returned; 0 and *out NULL when out of memory. The text holds
 * the private key: wipe it before freeing. */
size_t wm_uapi_get(struct wm_device *dev, char **out);
/* Applies the key=value lines of a set=1 request (without the "set=1"
 * line; processing ends at an empty line or at the NUL). ops may be NULL.
 * Returns 0 or the positive errno to answer with. */
int wm_uapi_set(struct wm_device *dev, const char *request,
		const struct wm_uapi_ops *ops);

#endif
