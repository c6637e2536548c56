/*
 * receive.h - the UDP -> TUN direction: the demultiplexer of the agent's
 * one socket (WireGuard | STUN | disco | relay), handshake messages and
 * their answers, and data: decrypt, replay check, roaming and path, the
 * cryptokey-routing source check, then to dev->tun_out (tun_writer.h),
 * which the caller flushes when its batch ends.
 *
 * A relayed message arrives as a struct wm_relay_event from one of the
 * relay clients (relays.h), with the sender key that relay authenticated;
 * it is handled as a message from that peer, whichever relay carried it,
 * and may never claim another.
 */
#ifndef WM_RECEIVE_H
#define WM_RECEIVE_H

#include "agent/device.h"
#include "agent/relay/client.h"
#include "netif/addr.h"

#include <stddef.h>
#include <stdint.h>

/* One datagram from src off the agent's socket. buf may be modified
 * (decrypted in place). */
void wm_receive_datagram(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src, uint64_t now_ns);

/* What relay i's client handed up: a frame from a peer (dropped and
 * counted unless its key is a configured peer), or "peer gone". */
void wm_receive_relay_event(struct wm_device *dev, int relay,
			    const struct wm_relay_event *ev, uint64_t now_ns);

#endif
