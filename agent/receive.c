/* See datapath.h: the UDP -> TUN direction and the demultiplexer. */
#include "agent/wg/clock.h"
#include "agent/datapath.h"
#include "agent/nat/disco.h"
#include "agent/nat/discovery.h"
#include "agent/nat/path.h"
#include "agent/relay/client.h"
#include "agent/relay/proto.h"
#include "agent/nat/stun.h"
#include "agent/nat/stun_client.h"
#include "agent/wg/timers.h"
#include "agent/wg/transport.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

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
static void keep_key_fresh(struct wm_peer *p, uint64_t now)
{
	struct wm_session *s = p->current;

	if (s && s->valid && s->kp.is_initiator &&
	    wm_since(now, s->kp.birth_ns) >
		    SEC(WM_REJECT_AFTER_TIME - WM_KEEPALIVE_TIMEOUT -
			WM_REKEY_TIMEOUT))
		wm_handshake_initiate(p, false);
}

static void deliver(struct wm_device *dev, struct wm_peer *p, uint8_t *pkt,
		    size_t len)
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
	if (write(dev->tun_fd, pkt, n) < 0)
		dev->stats.tx_send_errors++;
	wm_timers_on_data_received(p);
}

static void receive_data(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src)
{
	const struct wm_index_entry *e;
	struct wm_session *s;
	struct wm_peer *p;
	uint8_t *plain;
	size_t plen;
	uint64_t now = wm_now_ns();
	enum wm_rx_result r;

	e = wm_index_lookup(&dev->index, wm_transport_receiver(buf));
	if (!e || !e->session) {
		dev->stats.rx_unknown_index++;
		return;
	}
	s = e->session;
	p = e->owner;
	if (!src && p != dev->relayed_from) {
		dev->stats.rx_unknown_peer++;
		return;
	}
	if (!s->valid || wm_since(now, s->kp.birth_ns) >= SEC(WM_REJECT_AFTER_TIME)) {
		dev->stats.rx_expired++;
		return;
	}
	r = wm_transport_open(&s->kp, &s->replay, buf, len, &plain, &plen);
	if (r != WM_RX_OK) {
		if (r == WM_RX_REPLAY)
			dev->stats.rx_replay++;
		else
			dev->stats.rx_bad_auth++;
		return;
	}
	/* Only authenticated packets may move state from here on. */
	if (s == p->next_session) {
		wm_peer_confirm_next(p);
		wm_timers_on_handshake_complete(p);
	}
	/* Roaming: an authenticated packet from a new address moves the
	 * endpoint. Relayed packets say nothing about the direct path. */
	if (src) {
		if (!wm_sockaddr_equal(&p->endpoint, src))
			p->endpoint = *src;
		p->direct_rx_ns = now;
		p->wg_direct_rx_ns = now;
	} else {
		p->relay_rx_ns = now;
	}
	wm_path_update(p, now);
	p->rx_bytes += len;
	wm_timers_on_authenticated_received(p);
	wm_timers_on_authenticated_traversal(p);
	keep_key_fresh(p, now);
	if (p->staged_len)
		wm_send_staged(p);
	if (plen)
		deliver(dev, p, plain, plen);
}

void wm_receive_datagram(struct wm_device *dev, uint8_t *buf, size_t len,
			 const union wm_sockaddr *src)
{
	/* Off the wire, relay traffic has its own magic. Relayed bodies
	 * (src NULL) are only ever WireGuard messages. */
	if (src && wm_relay_is_relay(buf, len)) {
		if (dev->relay)
			wm_relay_client_receive_udp(dev->relay, buf, len, src);
		else
			dev->stats.rx_malformed++;
		return;
	}
	if (src && wm_stun_is_stun(buf, len)) {
		if (dev->stun)
			wm_stun_client_receive(dev->stun, buf, len, src,
					       wm_now_ns());
		else
			dev->stats.rx_malformed++;
		return;
	}
	if (wm_disco_is_disco(buf, len)) {
		wm_discovery_receive(dev, buf, len, src);
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
			return wm_handshake_receive_initiation(dev, buf, len, src);
		break;
	case WM_MSG_RESPONSE:
		if (len == sizeof(struct wm_msg_response))
			return wm_handshake_receive_response(dev, buf, len, src);
		break;
	case WM_MSG_COOKIE:
		if (len == sizeof(struct wm_msg_cookie))
			return wm_handshake_receive_cookie(dev, buf, len);
		break;
	case WM_MSG_DATA:
		if (len >= WM_MSG_MIN_DATA)
			return receive_data(dev, buf, len, src);
		break;
	}
	dev->stats.rx_malformed++;
}

void wm_receive_relayed(struct wm_device *dev, const uint8_t from[32],
			uint8_t *buf, size_t len)
{
	struct wm_peer *p = wm_device_find_peer(dev, from);

	/* Anyone the relay serves can send to us; only our peers may make
	 * us spend a DH or a decryption. */
	if (!p) {
		dev->stats.rx_unknown_peer++;
		return;
	}
	dev->relayed_from = p;
	wm_receive_datagram(dev, buf, len, NULL);
	dev->relayed_from = NULL;
}
