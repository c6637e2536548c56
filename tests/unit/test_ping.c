/*
 * `wiremesh ping`'s PONG matching (agent/peer_ping.h): a PONG times the
 * PING whose txid it carries, only when it comes back the way the PING
 * went (straight from an address, or through the relay), only once, only
 * for the peer it was sent to, and only while the set is registered.
 */
#include "check.h"
#include "agent/device.h"
#include "agent/peer.h"
#include "agent/peer_ping.h"

#include <arpa/inet.h>

static union wm_sockaddr v4(uint32_t ip, uint16_t port)
{
	union wm_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.in.sin_family = AF_INET;
	a.in.sin_addr.s_addr = htonl(ip);
	a.in.sin_port = htons(port);
	return a;
}

TEST(pongs_are_matched)
{
	struct wm_device *dev = calloc(1, sizeof(*dev));
	struct wm_peer *p = calloc(1, sizeof(*p)), *q = calloc(1, sizeof(*q));
	struct wm_ping_set *s = calloc(1, sizeof(*s));
	struct wm_disco_msg pong = { .type = WM_DISCO_PONG };
	union wm_sockaddr ep = v4(0xc0000202, 51820);

	memset(p->public_key, 1, 32);
	memset(q->public_key, 2, 32);
	memcpy(s->key, p->public_key, 32);
	s->n = 2;
	s->t[0].to = ep;
	s->t[0].sent = true;
	s->t[0].sent_ns = 1000;
	memset(s->t[0].txid, 0xaa, WM_DISCO_TXID);
	s->t[1].relay = true;
	s->t[1].sent = true;
	s->t[1].sent_ns = 1000;
	memset(s->t[1].txid, 0xbb, WM_DISCO_TXID);

	/* Not registered: nothing matches. */
	memset(pong.txid, 0xaa, WM_DISCO_TXID);
	CHECK(!wm_peer_ping_pong(dev, p, &pong, &ep, 5000));
	s->next = NULL;
	dev->pings = s;
	CHECK(!wm_peer_ping_done(s));
	/* Another peer's PONG with the same txid: no. */
	CHECK(!wm_peer_ping_pong(dev, q, &pong, &ep, 5000));
	/* The direct PING's txid through the relay: no. */
	CHECK(!wm_peer_ping_pong(dev, p, &pong, NULL, 5000));
	/* Straight back: timed. */
	CHECK(wm_peer_ping_pong(dev, p, &pong, &ep, 5000));
	CHECK(s->t[0].rtt_ns == 4000 && s->t[1].rtt_ns == 0);
	CHECK(wm_sockaddr_equal(&s->t[0].from, &ep));
	/* Once only. */
	CHECK(!wm_peer_ping_pong(dev, p, &pong, &ep, 6000));
	CHECK(s->t[0].rtt_ns == 4000);
	/* The relay's PING answered straight: no; through the relay: yes. */
	memset(pong.txid, 0xbb, WM_DISCO_TXID);
	CHECK(!wm_peer_ping_pong(dev, p, &pong, &ep, 7000));
	CHECK(wm_peer_ping_pong(dev, p, &pong, NULL, 7000));
	CHECK(s->t[1].rtt_ns == 6000 && wm_peer_ping_done(s));
	/* Unregistered, and unregistering twice is harmless. */
	wm_peer_ping_stop(dev, s);
	CHECK(dev->pings == NULL);
	wm_peer_ping_stop(dev, s);
	/* A PING that could not be sent does not hold the answer back. */
	s->t[0].rtt_ns = 0;
	s->t[0].sent = false;
	CHECK(wm_peer_ping_done(s));
	free(s);
	free(q);
	free(p);
	free(dev);
}

int main(void)
{
	RUN(pongs_are_matched);
	return check_summary();
}
