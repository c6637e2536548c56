/* See send.h: the TUN -> UDP direction. */
#include "agent/send.h"
#include "agent/handshake.h"
#include "agent/relay/client.h"
#include "agent/relay/fwd.h"
#include "agent/relays.h"
#include "agent/wg/clock.h"
#include "agent/wg/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

int wm_send_udp(struct wm_device *dev, const union wm_sockaddr *to,
		const void *buf, size_t len)
{
	int r = wm_udp_send(&dev->udp, to, buf, len);

	if (r < 0)
		dev->stats.tx_send_errors++;
	return r;
}

int wm_send_peer_udp(struct wm_device *dev, const struct wm_peer *p,
		     const union wm_sockaddr *to, const void *buf, size_t len)
{
	struct wm_udp u = { .fd = p->direct_fd, .family = p->direct_family };
	int r;

	if (p->direct_fd < 0)
		return wm_send_udp(dev, to, buf, len);
	r = wm_udp_send(&u, to, buf, len);
	if (r < 0)
		dev->stats.tx_send_errors++;
	return r;
}

/* Since when data has gone straight to the endpoint with no authenticated
 * WireGuard packet coming back that way; the tick judges it. */
static void note_direct_data(struct wm_peer *p, uint64_t now)
{
	if (!p->direct_tx_since || p->wg_direct_rx_ns >= p->direct_tx_since)
		p->direct_tx_since = now ? now : 1;
}

/* WireGuard answers an initiation, and data with a payload within
 * KEEPALIVE_TIMEOUT; a keepalive asks for nothing. */
static bool asks_answer(const uint8_t *msg, size_t len)
{
	return msg[0] == WM_MSG_INITIATION ||
	       (msg[0] == WM_MSG_DATA && len > WM_MSG_MIN_DATA);
}

int wm_send_to_peer(struct wm_device *dev, struct wm_peer *p,
		    const uint8_t *msg, size_t len, uint64_t now)
{
	int r;

	switch (p->via) {
	case WM_VIA_RELAY:
		/* An initiation also tries the endpoint, so a direct path can
		 * prove itself while the relay carries the traffic. */
		if (msg[0] == WM_MSG_INITIATION &&
		    wm_path_probe_direct(&p->path, p->path_mode,
					 wm_peer_has_endpoint(p), now))
			wm_send_peer_udp(dev, p, &p->endpoint, msg, len);
		r = wm_relays_send(dev->relays, p->relay, p->public_key, msg,
				   len);
		if (r == 0 && asks_answer(msg, len))
			wm_path_relay_sent(&p->path, now);
		break;
	case WM_VIA_DIRECT:
		/* Data with a payload (a keepalive asks for no answer). */
		if (msg[0] == WM_MSG_DATA && len > WM_MSG_MIN_DATA)
			note_direct_data(p, now);
		r = wm_send_peer_udp(dev, p, &p->endpoint, msg, len);
		break;
	default:
		dev->stats.tx_no_endpoint++;
		return -EDESTADDRREQ;
	}
	if (r == 0)
		p->tx_bytes += len;
	return r;
}

void wm_send_initiation(struct wm_device *dev, struct wm_peer *p,
			bool is_retry, uint64_t now)
{
	struct wm_msg_initiation msg;

	if (!wm_timers_may_initiate(&p->timers, is_retry, now) ||
	    !dev->has_private_key)
		return;
	if (p->via == WM_VIA_NONE) {
		/* Keep the retransmit timer going, as the kernel does when a
		 * send fails: a path may appear (the relay comes back). No
		 * rate limit for what was never sent, so a path that appears
		 * is used at once. */
		if (!p->timers.retransmit_handshake)
			wm_timers_on_handshake_initiated(&p->timers, now);
		wm_timers_on_authenticated_traversal(&p->timers, now);
		return;
	}
	if (!wm_handshake_create_initiation(dev, p, &msg, now))
		return;
	wm_timers_initiation_sent(&p->timers, now);
	wm_timers_on_handshake_initiated(&p->timers, now);
	wm_timers_on_authenticated_traversal(&p->timers, now);
	wm_send_to_peer(dev, p, (const uint8_t *)&msg, sizeof(msg), now);
	wm_timers_on_authenticated_sent(&p->timers, now);
}

/* Rekey when the session is old or heavily used (whitepaper 6.2). Only the
 * initiator rekeys on age, so both sides do not race to. */
static void keep_key_fresh(struct wm_device *dev, struct wm_peer *p,
			   const struct wm_session *s, uint64_t now)
{
	if (s->send_counter > WM_REKEY_AFTER_MESSAGES ||
	    (s->kp.is_initiator &&
	     wm_since(now, s->kp.birth_ns) > SEC(WM_REKEY_AFTER_TIME)))
		wm_send_initiation(dev, p, false, now);
}

/* Through the relay over UDP, in the same batch: sealed for the peer
 * right where the relay frame's body goes, then framed for the relay
 * around it (relay/client.h), nothing copied. */
static bool relay_into_batch(struct wm_device *dev, struct wm_peer *p,
			     struct wm_session *s, const uint8_t *pkt,
			     size_t len, uint64_t now)
{
	struct wm_relay_client *rc = wm_relays_client(dev->relays, p->relay);
	uint8_t *out;
	size_t n, m;

	if (!rc || !wm_relay_client_batchable(rc) ||
	    len + WM_HEADROOM + WM_TAILROOM + WM_RELAY_FWD_MIN >
		    WM_TXQ_DATAGRAM_MAX)
		return false;
	out = wm_txq_reserve(&dev->txq);
	n = wm_session_seal(s, out + WM_RELAY_FWD_BODY, pkt, len, dev->mtu, now);
	if (!n)
		return false;
	m = wm_relay_client_wrap(rc, out, p->public_key, n, now);
	if (m) {
		wm_txq_commit(&dev->txq, wm_relay_client_addr(rc), m);
		if (len)
			wm_path_relay_sent(&p->path, now);
	} else {
		dev->stats.tx_send_errors++; /* the relay's session expired */
	}
	p->tx_bytes += n;
	return true;
}

/* Straight to the endpoint through the device's send batch: sealed into
 * the batch's arena, sent when the loop's round ends. False when the
 * batch does not apply (no batch, no path, too big). */
static bool seal_into_batch(struct wm_device *dev, struct wm_peer *p,
			    struct wm_session *s, const uint8_t *pkt,
			    size_t len, uint64_t now)
{
	uint8_t *out;
	size_t n;

	if (dev->txq.arena && p->via == WM_VIA_RELAY)
		return relay_into_batch(dev, p, s, pkt, len, now);
	if (!dev->txq.arena || p->via != WM_VIA_DIRECT || p->direct_fd >= 0 ||
	    len + WM_HEADROOM + WM_TAILROOM > WM_TXQ_DATAGRAM_MAX)
		return false;
	out = wm_txq_reserve(&dev->txq);
	n = wm_session_seal(s, out, pkt, len, dev->mtu, now);
	if (!n)
		return false;
	wm_txq_commit(&dev->txq, &p->endpoint, n);
	/* A keepalive asks for no answer: only data waits for one. */
	if (len)
		note_direct_data(p, now);
	p->tx_bytes += n;
	return true;
}

/* Seals pkt (with headroom) under the current session and sends it. */
static bool seal_and_send(struct wm_device *dev, struct wm_peer *p,
			  uint8_t *pkt, size_t len, uint64_t now)
{
	struct wm_session *s = p->current;
	uint8_t *msg = pkt - WM_HEADROOM;
	bool sent;
	size_t n;

	if (!wm_session_can_send(s, now))
		return false;
	if (seal_into_batch(dev, p, s, pkt, len, now)) {
		sent = true;
	} else {
		n = wm_session_seal(s, msg, pkt, len, dev->mtu, now);
		if (!n)
			return false;
		sent = wm_send_to_peer(dev, p, msg, n, now) == 0;
	}
	wm_timers_on_authenticated_traversal(&p->timers, now);
	if (sent) {
		wm_timers_on_authenticated_sent(&p->timers, now);
		if (len)
			wm_timers_on_data_sent(&p->timers, now);
	}
	keep_key_fresh(dev, p, s, now);
	return true;
}

static void stage(struct wm_device *dev, struct wm_peer *p,
		  const uint8_t *pkt, size_t len, uint64_t now)
{
	if (!wm_peer_stage(p, pkt, len))
		dev->stats.staged_dropped++;
	wm_send_initiation(dev, p, false, now);
}

void wm_send_ip_packet(struct wm_device *dev, uint8_t *pkt, size_t len,
		       uint64_t now)
{
	struct wm_peer *p = wm_allowedips_lookup_dst(&dev->allowedips, pkt, len);

	if (!p) {
		dev->stats.tx_no_route++;
		return;
	}
	/* Keep order: nothing may overtake packets already waiting. */
	if (p->staged_len || !seal_and_send(dev, p, pkt, len, now))
		stage(dev, p, pkt, len, now);
}

void wm_send_keepalive(struct wm_device *dev, struct wm_peer *p, uint64_t now)
{
	uint8_t buf[WM_HEADROOM + WM_TAILROOM];

	if (p->staged_len)
		wm_send_staged(dev, p, now);
	else if (!seal_and_send(dev, p, buf + WM_HEADROOM, 0, now))
		stage(dev, p, buf + WM_HEADROOM, 0, now);
}

void wm_send_staged(struct wm_device *dev, struct wm_peer *p, uint64_t now)
{
	uint8_t buf[WM_BUF_SIZE];
	struct wm_staged *s;

	while (p->staged_len && wm_session_can_send(p->current, now)) {
		s = wm_peer_unstage(p);
		memcpy(buf + WM_HEADROOM, s->data, s->len);
		seal_and_send(dev, p, buf + WM_HEADROOM, s->len, now);
		free(s);
	}
}
