/*
 * handshake.h - the handshake messages of one device: glue between the
 * Noise module (wg/noise.h), mac1/mac2 and cookies (wg/cookie.h), the
 * receiver-index table and the peers' session slots. It builds and
 * consumes messages and installs sessions; it sends nothing and touches
 * no timer, path or endpoint: send.c and receive.c do that with what it
 * returns.
 */
#ifndef WM_HANDSHAKE_H
#define WM_HANDSHAKE_H

#include "agent/device.h"
#include "agent/wg/messages.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the MACs of a handshake message allow. */
enum wm_mac_verdict {
	WM_MAC_DROP,   /* mac1 wrong, over the source's budget under load
			* (both counted), or no randomness for a cookie */
	WM_MAC_COOKIE, /* under load without a valid cookie: send *reply */
	WM_MAC_OK,
};

/* Starts a new handshake with p and builds its initiation into msg (a
 * fresh index and ephemeral key). False when no identity is set or
 * randomness or memory failed. */
bool wm_handshake_create_initiation(struct wm_device *dev, struct wm_peer *p,
				    struct wm_msg_initiation *msg,
				    uint64_t now_ns);

/* Checks mac1 of an initiation or response, first and with nothing but a
 * hash; then, under load, mac2 for a message from src (without a valid
 * one: a cookie reply in *reply) and src's budget (wg/ratelimit.h).
 * Relayed messages (src NULL) are never asked for a cookie: the relay
 * authenticated their sender. */
enum wm_mac_verdict wm_handshake_check_macs(struct wm_device *dev,
					    const uint8_t *buf, size_t len,
					    uint32_t sender_index,
					    const union wm_sockaddr *src,
					    uint64_t now_ns,
					    struct wm_msg_cookie *reply);

/* Consumes an initiation (MACs already checked): on success installs the
 * responder's next session, fills *resp and returns the peer; NULL when
 * it was refused (counted) or memory ran out. from: the peer the relay
 * says sent it, or NULL off the wire; a relayed initiation must come
 * from that peer. */
struct wm_peer *wm_handshake_consume_initiation(struct wm_device *dev,
						struct wm_msg_initiation *msg,
						struct wm_peer *from,
						uint64_t now_ns,
						struct wm_msg_response *resp);

/* The peer a response is for, by its receiver index; NULL (counted) when
 * unknown. */
struct wm_peer *wm_handshake_response_peer(struct wm_device *dev,
					   const struct wm_msg_response *msg);
/* Consumes a response of p's handshake (MACs already checked) and
 * installs the new current session. False when refused (counted), or
 * when there was no memory for the session. */
bool wm_handshake_consume_response(struct wm_device *dev, struct wm_peer *p,
				   struct wm_msg_response *msg,
				   uint64_t now_ns);

/* Takes a cookie reply to our last initiation or response. */
void wm_handshake_consume_cookie(struct wm_device *dev,
				 const struct wm_msg_cookie *msg,
				 uint64_t now_ns);

/* A handshake completed: counters and the handshake event. */
void wm_handshake_completed(struct wm_device *dev, struct wm_peer *p,
			    uint64_t now_ns);

#endif
