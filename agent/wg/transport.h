/*
 * transport.h - WireGuard transport data messages (type 4): sealing one IP
 * packet under a session's send key, and opening one under its receive key
 * with the replay window. A zero-length packet is a keepalive.
 */
#ifndef WM_TRANSPORT_H
#define WM_TRANSPORT_H

#include "agent/wg/messages.h"
#include "agent/wg/noise.h"
#include "agent/wg/replay.h"

#include <stddef.h>
#include <stdint.h>

enum wm_rx_result {
	WM_RX_OK = 0,
	WM_RX_TOO_SHORT,
	WM_RX_BAD_AUTH,     /* tag did not verify: forged or wrong key */
	WM_RX_REPLAY,       /* authentic, but seen or older than the window */
	WM_RX_EXPIRED,      /* the session is gone or past REJECT_AFTER_TIME */
};

/* Bytes a packet of len grows to on the wire, padded to 16 but not past
 * mtu (the padding hides lengths without fragmenting). */
size_t wm_transport_sealed_len(size_t len, size_t mtu);

/* Writes the data message for packet[0..len) with this counter into out
 * (room for wm_transport_sealed_len()). out may not overlap packet unless
 * out + 16 == packet (in place behind a reserved header). Returns the
 * message length. */
size_t wm_transport_seal(uint8_t *out, const struct wm_keypair *kp,
			 uint64_t counter, const uint8_t *packet, size_t len,
			 size_t mtu);

/* Opens msg[0..len) in place. Decrypts first and only then updates the
 * replay window, so a forgery cannot move it. On WM_RX_OK, *plain points
 * into msg and *plain_len includes any padding. */
enum wm_rx_result wm_transport_open(const struct wm_keypair *kp,
				    struct wm_replay *replay, uint8_t *msg,
				    size_t len, uint8_t **plain,
				    size_t *plain_len);

/* The receiver index of a data message (wire order kept as host value). */
uint32_t wm_transport_receiver(const uint8_t *msg);

#endif
