/* See receive.h: the UDP -> TUN direction and the demultiplexer. */
#include "agent/receive.h"
#include "agent/handshake.h"
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/peer_ping.h"
#include "agent/send.h"
#include "agent/tun_writer.h"
#include "agent/tx_queue.h"
#include "agent/udp.h"
#include "agent/nat/disco.h"
#include "agent/nat/stun.h"
#include "agent/nat/stun_client.h"
#include "agent/relay/proto.h"
#include "agent/relays.h"
#include "agent/wg/clock.h"
#include "agent/wg/transport.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

/* The length the IP header claims, or 0 when this is not a sane IPv4 or
 * IPv6 packet that fits in len. */
static size_t inner_length(const uint8_t *pkt, size_t len)
{
	size_t n;

	if (len < 1)
		return 0;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < 20 || (pkt[0] & 15) < 5)
			return 0;
		n = (size_t)pkt[2] << 8 | pkt[3];
		return n >= 20 && n <= len ? n : 0;
	case 6:
		if (len < 40)
			return 0;
		n = 40 + ((size_t)pkt[4] << 8 | pkt[5]);
		return n <= len ? n : 0;
	}
	return 0;
}

/* As the initiator nears REJECT_AFTER_TIME with a quiet send side, the
 * receive side must start the rekey instead (whitepaper 6.2). */
static void keep_key_fresh(struct wm_device *dev, struct wm_peer *p,
			   uint64_t now)
{
	struct wm_session *s = p->current;

	if (s && s->valid && s->kp.is_initiator &&
	    wm_since(now, s->kp.birth_ns) >
		    SEC(WM_REJECT_AFTER_TIME - WM_KEEPALIVE_TIMEOUT -
			WM_REKEY_TIMEOUT))
		wm_send_initiation(dev, p, false, now);
}

static void deliver(struct wm_device *dev, struct wm_peer *p, uint8_t *pkt,
		    size_t len, uint64_t now)
{
	size_t n = inner_length(pkt, len);

	if (!n) {
		dev->stats.rx_bad_inner++;
		return;
	}
	/* The cryptokey routing rule: a peer may only send from its own
	 * AllowedIPs. */
	if (wm_allowedips_lookup_src(&dev->allowedips, pkt, n) != p) {
		dev->stats.rx_source_not_allowed++;
		return;
	}
	/* Held for the end of the receive batch, to be coalesced. */
	if (dev->tun_out)
		dev->stats.tx_send_errors +=
			wm_tun_writer_add(dev->tun_out, p, pkt, n);
	wm_timers_on_data_received(&p->timers, now);
}

static void receive_data(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src, struct wm_peer *from,
			 uint64_t now)
{
	const struct wm_index_entry *e;
	struct wm_session *s;
	struct wm_peer *p;
	uint8_t *plain;
	size_t plen;
	enum wm_rx_result r;

	e = wm_index_lookup(&dev->index, wm_transport_receiver(buf));
	if (!e || !e->session) {
		dev->stats.rx_unknown_index++;
		return;
	}
	s = e->session;
	p = e->owner;
	if (!src && p != from) {
		dev->stats.rx_unknown_peer++;
		return;
	}
	r = wm_session_open(s, buf, len, now, &plain, &plen);
	if (r != WM_RX_OK) {
		if (r == WM_RX_EXPIRED)
			dev->stats.rx_expired++;
		else if (r == WM_RX_REPLAY)
			dev->stats.rx_replay++;
		else
			dev->stats.rx_bad_auth++;
		return;
	}
	/* Only authenticated packets may move state from here on. */
	if (s == p->next_session) {
		wm_peer_confirm_next(p);
		wm_timers_on_handshake_complete(&p->timers, now);
	}
	/* Roaming: an authenticated packet from a new address moves the
	 * endpoint. Relayed packets say nothing about the direct path. */
	wm_peer_path_heard(dev, p, src, now);
	p->rx_bytes += len;
	wm_timers_on_authenticated_received(&p->timers, now);
	wm_timers_on_authenticated_traversal(&p->timers, now);
	keep_key_fresh(dev, p, now);
	if (p->staged_len)
		wm_send_staged(dev, p, now);
	if (plen)
		deliver(dev, p, plain, plen, now);
}

/* Cookie replies leave with the round's send batch where there is one:
 * under a flood they are most of what we send, and one sendmmsg for many
 * costs far less than a sendto each. A failure at the flush is counted
 * in tx_send_errors. One that came to a birthday socket goes back from
 * it: from ListenPort it would leave a symmetric NAT by another mapping,
 * which the sender's NAT drops. */
static void send_cookie(struct wm_device *dev, const union wm_sockaddr *to,
			const struct wm_msg_cookie *reply)
{
	if (dev->rx_sock_fd >= 0) {
		struct wm_udp u = { .fd = dev->rx_sock_fd,
				    .family = dev->rx_sock_family };

		if (wm_udp_send(&u, to, reply, sizeof(*reply)) == 0)
			dev->stats.cookie_replies_sent++;
		else
			dev->stats.tx_send_errors++;
	} else if (dev->txq.arena) {
		memcpy(wm_txq_reserve(&dev->txq), reply, sizeof(*reply));
		wm_txq_commit(&dev->txq, to, sizeof(*reply));
		dev->stats.cookie_replies_sent++;
	} else if (wm_send_udp(dev, to, reply, sizeof(*reply)) == 0) {
		dev->stats.cookie_replies_sent++;
	}
}

/* Under load: answer with a cookie instead (never through the relay). */
static bool macs_ok(struct wm_device *dev, const uint8_t *buf, size_t len,
		    uint32_t sender_index, const union wm_sockaddr *src,
		    uint64_t now)
{
	struct wm_msg_cookie reply;

	switch (wm_handshake_check_macs(dev, buf, len, sender_index, src, now,
					&reply)) {
	case WM_MAC_OK:
		return true;
	case WM_MAC_COOKIE:
		send_cookie(dev, src, &reply);
		break;
	case WM_MAC_DROP:
		break;
	}
	return false;
}

static void receive_initiation(struct wm_device *dev, uint8_t *buf,
			       size_t len, const union wm_sockaddr *src,
			       struct wm_peer *from, uint64_t now)
{
	struct wm_msg_initiation *msg = (struct wm_msg_initiation *)buf;
	struct wm_msg_response resp;
	struct wm_peer *p;

	if (!dev->has_private_key ||
	    !macs_ok(dev, buf, len, msg->sender_index, src, now))
		return;
	/* Relayed initiations carry no address to prove with a cookie, so
	 * they are limited per relay-authenticated sender before any DH. */
	if (!src) {
		if (!from || wm_since(now, from->relayed_initiation_ns) <
				     WM_NSEC_PER_SEC / WM_INITIATIONS_PER_SECOND) {
			dev->stats.rx_handshake_failed++;
			return;
		}
		from->relayed_initiation_ns = now;
	}
	p = wm_handshake_consume_initiation(dev, msg, src ? NULL : from, now,
					    &resp);
	if (!p)
		return;
	/* Roaming: the sender proved its key, so its address is current. */
	wm_peer_path_heard(dev, p, src, now);
	wm_timers_on_authenticated_traversal(&p->timers, now);
	wm_send_to_peer(dev, p, (const uint8_t *)&resp, sizeof(resp), now);
	wm_timers_on_authenticated_sent(&p->timers, now);
	wm_timers_on_session_derived(&p->timers, now);
	wm_handshake_completed(dev, p, now);
}

static void receive_response(struct wm_device *dev, uint8_t *buf, size_t len,
			     const union wm_sockaddr *src,
			     struct wm_peer *from, uint64_t now)
{
	struct wm_msg_response *msg = (struct wm_msg_response *)buf;
	struct wm_peer *p = wm_handshake_response_peer(dev, msg);

	if (!p || !macs_ok(dev, buf, len, msg->sender_index, src, now))
		return;
	if (!src && p != from) {
		dev->stats.rx_unknown_peer++;
		return;
	}
	if (!wm_handshake_consume_response(dev, p, msg, now))
		return;
	wm_peer_path_heard(dev, p, src, now);
	wm_timers_on_authenticated_received(&p->timers, now);
	wm_timers_on_authenticated_traversal(&p->timers, now);
	wm_timers_on_handshake_complete(&p->timers, now);
	wm_timers_on_session_derived(&p->timers, now);
	wm_handshake_completed(dev, p, now);
	/* The responder may only send once it hears from us: confirm the
	 * session with data or, failing that, a keepalive. */
	if (p->staged_len)
		wm_send_staged(dev, p, now);
	else
		wm_send_keepalive(dev, p, now);
}

/* A WireGuard or disco message from src, or relayed from the peer from
 * (src NULL). */
static void receive_message(struct wm_device *dev, uint8_t *buf, size_t len,
			    const union wm_sockaddr *src,
			    struct wm_peer *from, uint64_t now)
{
	if (wm_disco_is_disco(buf, len)) {
		struct wm_disco_msg msg;
		struct wm_peer *p;

		p = wm_peer_disco_receive(dev, buf, len, src, from, now, &msg);
		/* An answer to `wiremesh ping` is timed there (discovery
		 * passed it by: the txid is none of its own). */
		if (p && msg.type == WM_DISCO_PONG)
			wm_peer_ping_pong(dev, p, &msg, src, now);
		return;
	}
	/* WireGuard: a type byte, then three zero bytes. */
	if (len < 4 || buf[1] || buf[2] || buf[3]) {
		dev->stats.rx_malformed++;
		return;
	}
	switch (buf[0]) {
	case WM_MSG_INITIATION:
		if (len == sizeof(struct wm_msg_initiation))
			return receive_initiation(dev, buf, len, src, from, now);
		break;
	case WM_MSG_RESPONSE:
		if (len == sizeof(struct wm_msg_response))
			return receive_response(dev, buf, len, src, from, now);
		break;
	case WM_MSG_COOKIE:
		if (len == sizeof(struct wm_msg_cookie))
			return wm_handshake_consume_cookie(
				dev, (const struct wm_msg_cookie *)buf, now);
		break;
	case WM_MSG_DATA:
		if (len >= WM_MSG_MIN_DATA)
			return receive_data(dev, buf, len, src, from, now);
		break;
	}
	dev->stats.rx_malformed++;
}

void wm_receive_relay_event(struct wm_device *dev, int relay,
			    const struct wm_relay_event *ev, uint64_t now)
{
	struct wm_peer *p = wm_device_find_peer(dev, ev->key);

	if (ev->type == WM_RELAY_EV_GONE) {
		if (p)
			wm_peer_path_gone(dev, p, relay, now);
		return;
	}
	/* Anyone the relay serves can send to us; only our peers may make
	 * us spend a DH or a decryption. */
	if (!p) {
		dev->stats.rx_unknown_peer++;
		return;
	}
	/* The relay authenticated the sender: it is connected there. */
	wm_peer_path_relay_frame(dev, p, relay, now);
	receive_message(dev, ev->body, ev->len, NULL, p, now);
}

void wm_receive_datagram(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src, uint64_t now)
{
	struct wm_relay_event ev;
	int r;

	/* Off the wire, relay traffic has its own magic, and comes from the
	 * address of one of our relays. Relayed bodies are only ever
	 * WireGuard or disco messages. */
	if (wm_relay_is_relay(buf, len)) {
		r = wm_relays_by_source(dev->relays, src);
		if (r < 0)
			dev->stats.rx_malformed++;
		else if (wm_relay_client_receive_udp(
				 wm_relays_client(dev->relays, r), buf, len, src,
				 now, &ev))
			wm_receive_relay_event(dev, r, &ev, now);
		return;
	}
	if (wm_stun_is_stun(buf, len)) {
		if (dev->stun)
			wm_stun_client_receive(dev->stun, buf, len, src, now);
		else
			dev->stats.rx_malformed++;
		return;
	}
	receive_message(dev, buf, len, src, NULL, now);
}
