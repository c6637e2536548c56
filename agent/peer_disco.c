/* See peer_disco.h. */
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/peer_ping.h"
#include "agent/send.h"
#include "agent/nat/discovery.h"
#include "agent/relay/client.h"
#include "agent/wg/clock.h"
#include "crypto/random.h"

#include <string.h>

static bool peer_key(struct wm_device *dev, struct wm_peer *p)
{
	if (!p->disco.have_key) {
		if (!dev->has_private_key)
			return false;
		wm_disco_key(p->disco.key, p->noise.precomputed_ss);
		p->disco.have_key = true;
	}
	return true;
}

static void view_of(struct wm_device *dev, const struct wm_peer *p,
		    uint64_t now, struct wm_disco_view *v)
{
	v->mode = p->path_mode;
	v->endpoint = p->endpoint;
	v->direct_proven = wm_peer_has_endpoint(p) &&
			   wm_path_direct_proven(&p->path, now);
	v->relay_up = wm_peer_path_relay_up(dev);
	v->local = dev->local_cands;
	v->n_local = dev->n_local_cands;
	v->random = wm_random_bytes;
}

bool wm_peer_disco_send(struct wm_device *dev, struct wm_peer *p,
			struct wm_disco_msg *msg, const union wm_sockaddr *to)
{
	uint8_t buf[WM_DISCO_MAX], nonce[24];
	struct timespec wall = wm_wall_now();
	size_t n;

	if (!peer_key(dev, p) || wm_random_bytes(nonce, sizeof(nonce)) < 0)
		return false;
	msg->sent_at = wall.tv_sec;
	n = wm_disco_seal(buf, msg, dev->local.public_key, p->disco.key, nonce);
	if (!n)
		return false;
	if (to->sa.sa_family != AF_UNSPEC
		    ? wm_send_udp(dev, to, buf, n) != 0
		    : wm_relay_client_send(dev->relay, p->public_key, buf, n) != 0)
		return false;
	dev->stats.disco_tx++;
	return true;
}

static void act(struct wm_device *dev, struct wm_peer *p,
		struct wm_disco_out *out, uint64_t now)
{
	for (size_t i = 0; i < out->n_send; i++)
		wm_peer_disco_send(dev, p, &out->send[i].msg, &out->send[i].to);
	if (out->set_endpoint)
		wm_peer_set_endpoint(p, &out->endpoint, WM_EP_DISCO);
	if (out->direct_proven) {
		p->path.direct_rx_ns = now;
		p->path.disco_rx_ns = now;
	}
	if (out->set_endpoint || out->direct_proven)
		wm_peer_path_update(dev, p, now);
}

void wm_peer_disco_receive(struct wm_device *dev, const uint8_t *buf,
			   size_t len, const union wm_sockaddr *src,
			   struct wm_peer *from, uint64_t now)
{
	struct timespec wall = wm_wall_now();
	struct wm_disco_view v;
	struct wm_disco_out out;
	struct wm_disco_msg msg;
	struct wm_peer *p;

	if (len < WM_DISCO_HDR ||
	    !(p = wm_device_find_peer(dev, wm_disco_sender(buf))) ||
	    (!src && p != from) || !peer_key(dev, p) ||
	    wm_disco_open(&msg, buf, len, p->disco.key, wall.tv_sec) != WM_DISCO_OK) {
		dev->stats.disco_dropped++;
		return;
	}
	view_of(dev, p, now, &v);
	/* An answer to `wiremesh ping` is timed there, and is no business of
	 * discovery's (its txid is none of discovery's). */
	if (msg.type == WM_DISCO_PONG &&
	    wm_peer_ping_pong(dev, p, &msg, src, now)) {
		dev->stats.disco_rx++;
		if (!src)
			p->rx_relay_ns = now;
		else if (wm_sockaddr_equal(src, &p->endpoint))
			p->rx_direct_ns = now;
		return;
	}
	if (!wm_discovery_receive(&p->disco, &v, &msg,
				  buf + WM_DISCO_MAGIC_LEN + WM_KEY_SIZE, src,
				  now, &out)) {
		dev->stats.disco_dropped++;
		return;
	}
	dev->stats.disco_rx++;
	wm_peer_path_alive(p, now);
	/* For last_rx: authentic, from that endpoint or through the relay. */
	if (!src)
		p->rx_relay_ns = now;
	else if (wm_sockaddr_equal(src, &p->endpoint))
		p->rx_direct_ns = now;
	act(dev, p, &out, now);
}

void wm_peer_disco_tick(struct wm_device *dev, struct wm_peer *p,
			uint64_t now)
{
	struct wm_disco_view v;
	struct wm_disco_out out;

	view_of(dev, p, now, &v);
	wm_discovery_tick(&p->disco, &v, now, &out);
	act(dev, p, &out, now);
}

void wm_peer_disco_direct_failed(struct wm_device *dev, struct wm_peer *p,
				 uint64_t now)
{
	struct wm_disco_view v;

	view_of(dev, p, now, &v);
	if (!wm_discovery_direct_failed(&p->disco, &v, now))
		return;
	p->path.direct_rx_ns = 0;
	wm_peer_path_update(dev, p, now);
}

void wm_peer_disco_set_local(struct wm_device *dev,
			     const union wm_sockaddr *cands, size_t n)
{
	bool same;

	if (n > WM_DISCO_MAX_CANDIDATES)
		n = WM_DISCO_MAX_CANDIDATES;
	same = n == dev->n_local_cands;
	for (size_t i = 0; same && i < n; i++)
		same = wm_sockaddr_equal(&cands[i], &dev->local_cands[i]);
	if (same)
		return;
	memcpy(dev->local_cands, cands, n * sizeof(*cands));
	dev->n_local_cands = n;
	/* New addresses or a new NAT mapping: tell peers and probe now. */
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		wm_discovery_restart(&p->disco);
}
