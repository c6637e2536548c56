/* See peer_birthday.h. */
#include "agent/peer_birthday.h"
#include "agent/peer_disco.h"
#include "agent/receive.h"
#include "agent/relay/client.h"
#include "agent/nat/stun_client.h"
#include "agent/tun_writer.h"
#include "agent/udp.h"
#include "agent/wg/clock.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)

static const char *short_key(char out[12], const uint8_t key[32])
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, key);
	snprintf(out, 12, "%.8s…", b64);
	return out;
}

static void sock_close(struct wm_peer_birthday *pb, struct wm_bday_sock *s)
{
	if (s->h.fd < 0)
		return;
	wm_loop_del(pb->loop, &s->h);
	close(s->h.fd);
	s->h.fd = -1;
}

static void close_probes(struct wm_peer_birthday *pb)
{
	for (size_t i = 0; i < pb->n_probe; i++)
		sock_close(pb, &pb->probe[i]);
	pb->n_probe = 0;
	pb->active = false;
}

static bool is_probe(const struct wm_peer_birthday *pb,
		     const struct wm_bday_sock *s)
{
	return s >= pb->probe && s < pb->probe + WM_BDAY_SOCKETS;
}

/* The probe socket s won its peer (peer_disco.c pointed the peer at it):
 * it moves to the kept ones, the other probe sockets close. */
static void keep(struct wm_peer_birthday *pb, struct wm_bday_sock *s)
{
	struct wm_peer *p = wm_device_find_peer(pb->dev, pb->key);
	size_t i;

	for (i = 0; i < WM_BDAY_KEPT_MAX && pb->kept[i].h.fd >= 0; i++)
		;
	wm_loop_del(pb->loop, &s->h);
	if (i == WM_BDAY_KEPT_MAX) {
		/* No room: the peer stays on the ListenPort. */
		if (p)
			p->direct_fd = -1;
		close(s->h.fd);
	} else {
		pb->kept[i] = *s;
		memcpy(pb->kept[i].key, pb->key, 32);
		pb->kept[i].lost_since = 0;
		if (wm_loop_add(pb->loop, &pb->kept[i].h, EPOLLIN) < 0) {
			if (p)
				p->direct_fd = -1;
			close(s->h.fd);
			pb->kept[i].h.fd = -1;
		}
	}
	s->h.fd = -1;
	close_probes(pb);
}

/* Datagrams on one of our sockets go through the normal demux, marked
 * with the socket when it is a probe socket (peer_disco.c looks). */
static void on_sock(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_bday_sock *s = (struct wm_bday_sock *)h;
	struct wm_peer_birthday *pb = h->ctx;
	struct wm_device *dev = pb->dev;
	union wm_sockaddr src;
	socklen_t sl;
	ssize_t n;
	uint64_t now;
	struct wm_peer *p;
	bool probe = is_probe(pb, s);

	(void)events;
	for (int i = 0; i < 64; i++) {
		sl = sizeof(src);
		n = recvfrom(h->fd, pb->buf, WM_PACKET_MAX, MSG_DONTWAIT,
			     &src.sa, &sl);
		if (n <= 0)
			break;
		wm_udp_unmap(&src);
		now = wm_now_ns();
		dev->rx_bday_fd = probe ? h->fd : -1;
		dev->rx_bday_family = s->family;
		dev->rx_sock_fd = h->fd;
		dev->rx_sock_family = s->family;
		wm_receive_datagram(dev, pb->buf, (size_t)n, &src, now);
		dev->rx_bday_fd = -1;
		dev->rx_sock_fd = -1;
		if (probe && pb->active &&
		    (p = wm_device_find_peer(dev, pb->key)) &&
		    p->direct_fd == h->fd) {
			keep(pb, s);
			break;
		}
	}
	if (dev->tun_out)
		dev->stats.tx_send_errors += wm_tun_writer_flush(dev->tun_out);
}

int wm_peer_birthday_init(struct wm_peer_birthday *pb, struct wm_device *dev,
			  struct wm_loop *loop)
{
	memset(pb, 0, sizeof(*pb));
	pb->dev = dev;
	pb->loop = loop;
	for (size_t i = 0; i < WM_BDAY_KEPT_MAX; i++)
		pb->kept[i].h.fd = -1;
	pb->buf = malloc(WM_PACKET_MAX);
	return pb->buf ? 0 : -ENOMEM;
}

static int set_mark(const struct wm_bday_sock *s, uint32_t mark)
{
	if (s->h.fd < 0 ||
	    setsockopt(s->h.fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0)
		return 0;
	return -errno;
}

int wm_peer_birthday_set_mark(struct wm_peer_birthday *pb, uint32_t mark)
{
	int r, first = 0;

	if (!pb->dev)
		return 0; /* not started yet: no sockets */
	for (size_t i = 0; i < pb->n_probe; i++)
		if ((r = set_mark(&pb->probe[i], mark)) < 0 && !first)
			first = r;
	for (size_t i = 0; i < WM_BDAY_KEPT_MAX; i++)
		if ((r = set_mark(&pb->kept[i], mark)) < 0 && !first)
			first = r;
	return first;
}

void wm_peer_birthday_free(struct wm_peer_birthday *pb)
{
	if (!pb->dev)
		return;
	close_probes(pb);
	for (size_t i = 0; i < WM_BDAY_KEPT_MAX; i++)
		sock_close(pb, &pb->kept[i]);
	free(pb->buf);
	pb->buf = NULL;
	pb->dev = NULL;
}

/* The hard side: open the sockets, ping the easy side from each (so our
 * NAT opens a mapping toward it per socket), then ask it to probe. */
static void hard_start(struct wm_peer_birthday *pb, struct wm_peer *p,
		       uint64_t now)
{
	struct wm_device *dev = pb->dev;
	union wm_sockaddr to[WM_BDAY_TARGETS], me;
	union wm_sockaddr cand[WM_DISCO_MAX_CANDIDATES];
	union wm_sockaddr ours[WM_STUN_MAX_SERVERS];
	struct wm_disco_msg msg;
	size_t nt, n_ours;
	uint16_t port;
	char k[12], a[WM_SOCKADDR_STRLEN];
	int fd, family;

	for (size_t i = 0; i < p->disco.n_cand; i++)
		cand[i] = p->disco.cand[i].addr;
	n_ours = dev->stun ? wm_stun_client_reflexive(dev->stun, ours,
						WM_STUN_MAX_SERVERS, now) : 0;
	nt = wm_birthday_hard_targets(cand, p->disco.n_cand, ours, n_ours,
				      to, &me);
	if (!nt) {
		wm_birthday_expire(&p->bday, now, true);
		return;
	}
	dev->stats.bday_attempts++;
	memcpy(pb->key, p->public_key, 32);
	pb->active = true;
	pb->until_ns = p->bday.until_ns;
	memset(&msg, 0, sizeof(msg));
	msg.type = WM_DISCO_PING;
	wm_random_bytes(msg.txid, sizeof(msg.txid));
	while (pb->n_probe < WM_BDAY_SOCKETS) {
		struct wm_bday_sock *s = &pb->probe[pb->n_probe];

		fd = wm_udp_open(0, dev->fwmark, &family, &port);
		if (fd < 0)
			break;
		s->h = (struct wm_loop_handler){ fd, on_sock, pb };
		s->family = family;
		if (wm_loop_add(pb->loop, &s->h, EPOLLIN) < 0) {
			close(fd);
			break;
		}
		pb->n_probe++;
		dev->stats.bday_sockets++;
		p->direct_fd = fd;
		p->direct_family = family;
		for (size_t i = 0; i < nt; i++)
			wm_peer_disco_send(dev, p, &msg, &to[i]);
	}
	p->direct_fd = -1;
	memset(&msg, 0, sizeof(msg));
	msg.type = WM_DISCO_BIRTHDAY;
	msg.target = me;
	wm_peer_disco_send(dev, p, &msg, &(union wm_sockaddr){ 0 });
	fprintf(stderr, "%s: birthday: peer %s is behind an endpoint-"
			"independent NAT, we are not: attempt %u, %zu sockets "
			"pinging %zu of its addresses, asked it to probe %s\n",
		dev->ifname, short_key(k, p->public_key), p->bday.attempts,
		pb->n_probe, nt, wm_sockaddr_format(a, sizeof(a), &me));
}

static void easy_probes(struct wm_peer_birthday *pb, struct wm_peer *p,
			uint64_t now)
{
	union wm_sockaddr to[WM_BDAY_PER_TICK];
	struct wm_disco_msg msg;
	size_t n = wm_birthday_easy_probes(&p->bday, now, wm_random_bytes, to,
					   WM_BDAY_PER_TICK);

	memset(&msg, 0, sizeof(msg));
	msg.type = WM_DISCO_PING;
	memcpy(msg.txid, p->bday.txid, sizeof(msg.txid));
	for (size_t i = 0; i < n; i++) {
		/* Sealing overwrites nothing of msg but sent_at. */
		wm_peer_disco_send(pb->dev, p, &msg, &to[i]);
		pb->dev->stats.bday_probes++;
	}
}

static void attempt_over(struct wm_peer_birthday *pb, struct wm_peer *p,
			 enum wm_bday_role role, uint64_t now)
{
	char k[12];

	if (role == WM_BDAY_HARD && pb->active &&
	    memcmp(pb->key, p->public_key, 32) == 0)
		close_probes(pb);
	if (role == WM_BDAY_HARD)
		fprintf(stderr, "%s: birthday: peer %s: attempt %u found no "
				"path (hard side); next in %u s\n",
			pb->dev->ifname, short_key(k, p->public_key),
			p->bday.attempts, p->bday.backoff_s);
	else
		fprintf(stderr, "%s: birthday: peer %s: attempt %u found no "
				"path after %u probes\n",
			pb->dev->ifname, short_key(k, p->public_key),
			p->bday.attempts, p->bday.sent);
	(void)now;
}

/* A kept socket closes when its peer is gone, uses another socket, or
 * has had no direct path for WM_BDAY_KEPT_LOST_S. */
static void check_kept(struct wm_peer_birthday *pb, struct wm_bday_sock *s,
		       uint64_t now)
{
	struct wm_peer *p = wm_device_find_peer(pb->dev, s->key);
	char k[12];

	if (s->h.fd < 0)
		return;
	if (!p || p->direct_fd != s->h.fd) {
		sock_close(pb, s);
		return;
	}
	if (wm_path_direct_proven(&p->path, now)) {
		s->lost_since = 0;
		return;
	}
	if (!s->lost_since) {
		s->lost_since = now;
		return;
	}
	if (now - s->lost_since < SEC(WM_BDAY_KEPT_LOST_S))
		return;
	fprintf(stderr, "%s: birthday: peer %s: its path is gone, closing "
			"its socket\n", pb->dev->ifname,
		short_key(k, p->public_key));
	p->direct_fd = -1;
	sock_close(pb, s);
}

/* The attempt holding the probe sockets is over with no path, or no
 * longer anyone's: its window passed, or its peer was removed (and maybe
 * added again with the same key: `wg setconf` does both in one round, and
 * the new peer has no attempt under way to end). */
static bool attempt_gone(struct wm_peer_birthday *pb, uint64_t now)
{
	struct wm_peer *p = wm_device_find_peer(pb->dev, pb->key);

	return !p || p->bday.role != WM_BDAY_HARD || now >= pb->until_ns;
}

void wm_peer_birthday_tick(struct wm_peer_birthday *pb, uint64_t now)
{
	struct wm_device *dev = pb->dev;
	struct wm_bday_view v;
	enum wm_bday_role role;

	int mapping = wm_peer_disco_our_mapping(dev, now);

	/* Peers learn our mapping from CALL_ME_MAYBE: tell them now, not
	 * at discovery's next backed-off probe. */
	if (mapping != pb->told_mapping) {
		pb->told_mapping = mapping;
		for (struct wm_peer *p = dev->peers; p; p = p->next)
			wm_discovery_restart(&p->disco);
	}
	if (pb->active && attempt_gone(pb, now))
		close_probes(pb);
	for (size_t i = 0; i < WM_BDAY_KEPT_MAX; i++)
		check_kept(pb, &pb->kept[i], now);
	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		role = p->bday.role;
		if (wm_birthday_expire(&p->bday, now, false))
			attempt_over(pb, p, role, now);
		wm_peer_disco_bday_view(dev, p, now, &v);
		if (p->bday.role == WM_BDAY_EASY) {
			/* A path found another way, or probing turned off. */
			if (!v.enabled || v.direct_proven || v.mode == WM_PATH_RELAY)
				wm_birthday_expire(&p->bday, now, true);
			else
				easy_probes(pb, p, now);
			continue;
		}
		if (pb->active || p->direct_fd >= 0)
			continue;
		if (wm_birthday_hard_due(&p->bday, &v, now))
			hard_start(pb, p, now);
	}
}
