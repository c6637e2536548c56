/*
 * uapi.h - the socket of the WireGuard cross-platform userspace API, so
 * that `wg show`, `wg showconf` and `wg set` work on a wiremesh interface.
 *
 * A unix stream socket at /var/run/wireguard/<ifname>.sock (mode 0600,
 * made by netif/unix_listen.h) takes text requests, each ending in an
 * empty line; agent/uapi_proto.h answers them (get=1, set=1, the keys).
 * This side only listens, buffers and frames: the first line must be
 * "get=1" or "set=1" (else the connection is closed, as wireguard-go
 * does), a request ends at "\n\n", a get=1 with anything after its line
 * answers EINVAL, and a set=1 holding a NUL answers EINVAL.
 *
 * Connections live on the caller's event loop, are non-blocking, and stay
 * open for further requests until the client closes them, as with
 * wireguard-go. Requests are answered one at a time: the next is read
 * only once the last answer is out, which bounds what a client that never
 * reads can cost.
 */
#ifndef WM_UAPI_H
#define WM_UAPI_H

#include "agent/device.h"
#include "agent/loop.h"
#include "agent/uapi_proto.h"

#define WM_UAPI_DIR "/var/run/wireguard"
enum { WM_UAPI_REQUEST_MAX = 1 << 20 }; /* bytes buffered per connection */

struct wm_uapi;

/* Creates the socket for ifname (replacing a stale one, -EADDRINUSE when
 * a live agent answers on it, -EEXIST when the path is not a socket) and
 * watches it on loop. ops is copied and handed to wm_uapi_set. *out is
 * freed by wm_uapi_close. Returns 0 or -errno. */
int wm_uapi_open(struct wm_uapi **out, struct wm_loop *loop,
		 struct wm_device *dev, const char *ifname,
		 const struct wm_uapi_ops *ops);
/* Closes every connection and the listener, unlinks the socket if it is
 * still ours, frees u. Call it outside the loop's dispatch (after
 * wm_loop_run returns, or from a tick). NULL is a no-op. */
void wm_uapi_close(struct wm_uapi *u);

#endif
