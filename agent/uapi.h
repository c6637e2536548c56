/*
 * uapi.h - the WireGuard cross-platform userspace API, so that `wg show`,
 * `wg showconf` and `wg set` work on a wiremesh interface.
 *
 * A unix stream socket at /var/run/wireguard/<ifname>.sock (mode 0600)
 * takes text requests, each ending in an empty line:
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
 *
 * Connections live on the caller's event loop, are non-blocking, and stay
 * open for further requests until the client closes them, as with
 * wireguard-go. Every change goes through the wm_device_* calls.
 */
#ifndef WM_UAPI_H
#define WM_UAPI_H

#include "agent/device.h"
#include "agent/loop.h"

#include <stddef.h>
#include <stdint.h>

#define WM_UAPI_DIR "/var/run/wireguard"
enum { WM_UAPI_REQUEST_MAX = 1 << 20 }; /* bytes buffered per connection */

/* What the agent does for us; any member may be NULL. */
struct wm_uapi_ops {
	/* Rebinds the UDP socket and sets dev->listen_port. 0 or -errno.
	 * NULL: listen_port is only stored in dev. */
	int (*set_listen_port)(void *ctx, uint16_t port);
	/* A set request changed something (keys, peers, allowed IPs,
	 * endpoints...): routes follow, the config is saved. Called once per
	 * request, also when it failed after some lines took effect. */
	void (*changed)(void *ctx);
	void *ctx;
};

struct wm_uapi;

/* Creates the socket for ifname (replacing a stale one, -EADDRINUSE when
 * a live agent answers on it, -EEXIST when the path is not a socket) and
 * watches it on loop. ops is copied. *out is freed by wm_uapi_close.
 * Returns 0 or -errno. */
int wm_uapi_open(struct wm_uapi **out, struct wm_loop *loop,
		 struct wm_device *dev, const char *ifname,
		 const struct wm_uapi_ops *ops);
/* Closes every connection and the listener, unlinks the socket if it is
 * still ours, frees u. Call it outside the loop's dispatch (after
 * wm_loop_run returns, or from a tick). NULL is a no-op. */
void wm_uapi_close(struct wm_uapi *u);

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
