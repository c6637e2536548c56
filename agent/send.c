/* See datapath.h: the TUN -> UDP direction. */
#include "agent/wg/clock.h"
#include "agent/datapath.h"
#include "agent/nat/discovery.h"
#include "agent/nat/path.h"
#include "agent/relay/client.h"
#include "agent/wg/timers.h"
#include "agent/wg/transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

int wm_send_udp(struct wm_device *dev, const union wm_sockaddr *to,
		const void *buf, size_t len)
{
	union wm_sockaddr dst = *to;
	ssize_t n;

	/* A dual-stack socket reaches IPv4 peers as v4-mapped addresses. */
	if (dev->udp_family == AF_INET6 && to->sa.sa_family == AF_INET) {
		memset(&dst, 0, sizeof(dst));
		dst.in6.sin6_family = AF_INET6;
		dst.in6.sin6_port = to->in.sin_port;
		dst.in6.sin6_addr.s6_addr[10] = 0xff;
		dst.in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&dst.in6.sin6_addr.s6_addr[12], &to->in.sin_addr, 4);
	} else if (dev->udp_family == AF_INET && to->sa.sa_family != AF_INET) {
		return -EAFNOSUPPORT;
	}
	n = sendto(dev->udp_fd, buf, len, 0, &dst.sa, wm_sockaddr_len(&dst));
	if (n < 0) {
		dev->stats.tx_send_errors++;
		return -errno;
	}
	return 0;
}

/* Pongs can be forwarded by anyone who sees them; WireGuard packets prove
 * more. When we have sent data straight to the endpoint for a while and no
 * authenticated WireGuard packet came back that way (the answers arrive
 * through the relay, or not at all), the direct path is not working. */
static void check_direct_liveness(struct wm_peer *p, const uint8_t *msg,
				  uint64_t now)
{
	if (msg[0] != WM_MSG_DATA)
		return;
	if (!p->direct_tx_since || p->wg_direct_rx_ns >= p->direct_tx_since) {
		p->direct_tx_since = now ? now : 1;
		return;
	}
	if (wm_since(now, p->direct_tx_since) >=
	    SEC(WM_KEEPALIVE_TIMEOUT + WM_REKEY_TIMEOUT)) {
		p->direct_tx_since = 0;
		wm_discovery_direct_failed(p, now);
	}
}

int wm_send_to_peer(struct wm_peer *p, const uint8_t *msg, size_t len)
{
	struct wm_device *dev = p->dev;
	uint64_t now = wm_now_ns();
	enum wm_via via = wm_path_choose(p, wm_relay_client_up(dev->relay), now);
	int r;

	wm_path_update(p, now);
	switch (via) {
	case WM_VIA_RELAY:
		/* An initiation also tries the endpoint, so a direct path can
		 * prove itself while the relay carries the traffic. */
		if (msg[0] == WM_MSG_INITIATION && wm_path_probe_direct(p, now))
			wm_send_udp(dev, &p->endpoint, msg, len);
		r = wm_relay_client_send(dev->relay, p->public_key, msg, len);
		break;
	case WM_VIA_DIRECT:
		check_direct_liveness(p, msg, now);
		r = wm_send_udp(dev, &p->endpoint, msg, len);
		break;
	default:
		dev->stats.tx_no_endpoint++;
		return -EDESTADDRREQ;
	}
	if (r == 0)
		p->tx_bytes += len;
	return r;
}

/* Rekey when the session is old or heavily used (whitepaper 6.2). Only the
 * initiator rekeys on age, so both sides do not race to. */
static void keep_key_fresh(struct wm_peer *p, const struct wm_session *s,
			   uint64_t now)
{
	if (s->send_counter > WM_REKEY_AFTER_MESSAGES ||
	    (s->kp.is_initiator &&
	     wm_since(now, s->kp.birth_ns) > SEC(WM_REKEY_AFTER_TIME)))
		wm_handshake_initiate(p, false);
}

/* Seals pkt (with headroom) under the current session and sends it. */
static bool seal_and_send(struct wm_peer *p, uint8_t *pkt, size_t len,
			  uint64_t now)
{
	struct wm_session *s = p->current;
	uint8_t *msg = pkt - WM_HEADROOM;
	size_t n;

	if (!wm_session_can_send(s, now))
		return false;
	n = wm_transport_seal(msg, &s->kp, s->send_counter++, pkt, len,
			      p->dev->mtu);
	wm_timers_on_authenticated_traversal(p);
	if (wm_send_to_peer(p, msg, n) == 0) {
		wm_timers_on_authenticated_sent(p);
		if (len)
			wm_timers_on_data_sent(p);
	}
	keep_key_fresh(p, s, now);
	return true;
}

static void stage(struct wm_peer *p, const uint8_t *pkt, size_t len)
{
	if (!wm_peer_stage(p, pkt, len))
		p->dev->stats.staged_dropped++;
	wm_handshake_initiate(p, false);
}

void wm_send_ip_packet(struct wm_device *dev, uint8_t *pkt, size_t len)
{
	struct wm_peer *p = wm_allowedips_lookup_dst(&dev->allowedips, pkt, len);

	if (!p) {
		dev->stats.tx_no_route++;
		return;
	}
	/* Keep order: nothing may overtake packets already waiting. */
	if (p->staged_len || !seal_and_send(p, pkt, len, wm_now_ns()))
		stage(p, pkt, len);
}

void wm_send_keepalive(struct wm_peer *p)
{
	uint8_t buf[WM_HEADROOM + WM_TAILROOM];

	if (p->staged_len)
		wm_send_staged(p);
	else if (!seal_and_send(p, buf + WM_HEADROOM, 0, wm_now_ns()))
		stage(p, buf + WM_HEADROOM, 0);
}

void wm_send_staged(struct wm_peer *p)
{
	uint8_t buf[WM_BUF_SIZE];
	struct wm_staged s;
	uint64_t now = wm_now_ns();

	while (p->staged_len && wm_session_can_send(p->current, now)) {
		wm_peer_unstage(p, &s);
		memcpy(buf + WM_HEADROOM, s.data, s.len);
		free(s.data);
		seal_and_send(p, buf + WM_HEADROOM, s.len, now);
	}
}
