/* See relay/client.h. */
#include "agent/relay/client.h"
#include "agent/relay/fwd.h"
#include "agent/relay/tls.h"
#include "agent/wg/clock.h"
#include "agent/wg/transport.h"
#include "crypto/ct.h"
#include "crypto/random.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * WM_NSEC_PER_SEC)

enum { TX_CAP = WM_RELAY_FWD_MAX + 16 };

const char *wm_relay_client_text(const struct wm_relay_client *rc)
{
	return rc->udp_text[0] ? rc->udp_text : rc->tcp_text;
}

const char *wm_rc_transport_name(enum wm_rc_transport t)
{
	switch (t) {
	case WM_RC_TCP: return "tcp";
	case WM_RC_TLS: return "tls";
	case WM_RC_UDP: break;
	}
	return "udp";
}

bool wm_relay_client_up(const struct wm_relay_client *rc)
{
	return rc && rc->state == WM_RELAY_UP && rc->session.valid;
}

/* "tcp://h:p" is plain TCP, "tls://h:p" TLS; a bare "h:p" tries TLS
 * first, so the fallback looks like HTTPS where networks only let that
 * through, and plain TCP when the relay has no certificate. */
static void parse_tcp_target(struct wm_relay_client *rc, const char *text)
{
	rc->tcp_tls = true;
	rc->tcp_auto = false;
	if (strncmp(text, "tcp://", 6) == 0) {
		rc->tcp_tls = false;
		text += 6;
	} else if (strncmp(text, "tls://", 6) == 0) {
		text += 6;
	} else {
		rc->tcp_auto = true;
	}
	snprintf(rc->tcp_text, sizeof(rc->tcp_text), "%s", text);
	rc->tcp_configured = rc->tcp_text[0] != '\0';
}

int wm_relay_client_init(struct wm_relay_client *rc,
			 const struct wm_relay_client_setup *su)
{
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->name, sizeof(rc->name), "%s", su->name);
	rc->local = su->local;
	rc->udp = su->udp_socket;
	rc->loop = su->loop;
	rc->on_tcp = su->on_tcp;
	rc->on_tcp_ctx = su->on_tcp_ctx;
	rc->resolve = su->resolve;
	rc->resolve_ctx = su->resolve_ctx;
	rc->tcp_fd = -1;
	snprintf(rc->udp_text, sizeof(rc->udp_text), "%s", su->udp);
	parse_tcp_target(rc, su->tcp ? su->tcp : "");
	wm_noise_peer_init(&rc->noise, rc->local, su->public_key, NULL);
	wm_cookie_maker_init(&rc->cookie, su->public_key);
	rc->txbuf = malloc(TX_CAP);
	rc->tcp_in = malloc(WM_RELAY_TCP_BUF);
	rc->tcp_out = malloc(WM_RELAY_TCP_BUF);
	if (!rc->txbuf || !rc->tcp_in || !rc->tcp_out)
		return -ENOMEM;
	return 0;
}

static void tcp_close(struct wm_relay_client *rc)
{
	if (rc->tcp_fd < 0)
		return;
	if (rc->tls) {
		wm_tls_close(rc->tls, rc->tcp_fd);
		wm_tls_free(rc->tls);
		rc->tls = NULL;
	}
	wm_loop_del(rc->loop, &rc->tcp_h);
	close(rc->tcp_fd);
	rc->tcp_fd = -1;
	rc->tcp_connected = false;
	rc->tcp_in_len = rc->tcp_in_off = rc->tcp_out_len = 0;
}

static void session_drop(struct wm_relay_client *rc)
{
	rc->relay_fwd = false;
	wm_session_wipe(&rc->session);
	wm_memzero(&rc->hs, sizeof(rc->hs));
}

void wm_relay_client_free(struct wm_relay_client *rc)
{
	tcp_close(rc);
	session_drop(rc);
	free(rc->txbuf);
	free(rc->tcp_in);
	free(rc->tcp_out);
	wm_memzero(rc, sizeof(*rc));
	rc->tcp_fd = -1;
}

/* A bare RelayTCP whose connection was accepted but failed before a
 * session came up (a relay without a certificate closes a ClientHello;
 * a middlebox may cut what does not look like TLS): the other kind (TLS
 * or plain) is tried next, at once the first time (true); after both
 * failed, the usual backoff applies, starting again with the kind tried
 * first. A connection that was never accepted (the relay is down) says
 * nothing about the kind, and changes nothing. */
static bool tcp_flip(struct wm_relay_client *rc)
{
	if (!rc->tcp_auto || rc->transport == WM_RC_UDP ||
	    rc->state != WM_RELAY_HANDSHAKE || !rc->tcp_connected)
		return false;
	rc->tcp_tls = !rc->tcp_tls;
	rc->tcp_flipped = !rc->tcp_flipped;
	return rc->tcp_flipped;
}

/* Goes down and schedules the next attempt with capped backoff. */
static void go_down(struct wm_relay_client *rc, uint64_t now, const char *why)
{
	if (tcp_flip(rc)) {
		fprintf(stderr, "%s: relay %s: %s over %s, trying %s\n",
			rc->name, rc->tcp_text, why,
			wm_rc_transport_name(rc->transport),
			rc->tcp_tls ? "TLS" : "plain TCP");
		tcp_close(rc);
		session_drop(rc);
		rc->state = WM_RELAY_IDLE;
		rc->transport = WM_RC_UDP;
		/* the tick starts TCP again at once (the sticky rule) */
		rc->tcp_lost_at = now ? now : 1;
		rc->next_attempt = now;
		return;
	}
	if (rc->state == WM_RELAY_UP) {
		rc->stats.disconnects++;
		rc->changes++;
		if (rc->transport != WM_RC_UDP)
			rc->tcp_lost_at = now ? now : 1;
	}
	rc->probe_at = 0;
	tcp_close(rc);
	session_drop(rc);
	rc->transport = WM_RC_UDP;
	rc->backoff_s = rc->backoff_s ? rc->backoff_s * 2 : 1;
	if (rc->backoff_s > WM_RELAY_BACKOFF_MAX_S)
		rc->backoff_s = WM_RELAY_BACKOFF_MAX_S;
	rc->next_attempt = now + SEC(rc->backoff_s) / 2 +
			   (uint64_t)wm_random_below(rc->backoff_s * 500 + 1) * 1000000ULL;
	fprintf(stderr, "%s: relay %s: %s (%s), retrying in %.1f s\n",
		rc->name, wm_relay_client_text(rc),
		rc->state == WM_RELAY_UP ? "down" : "no session", why,
		(double)(rc->next_attempt - now) / 1e9);
	rc->state = WM_RELAY_IDLE;
}

void wm_relay_client_identity_changed(struct wm_relay_client *rc,
				      uint64_t now)
{
	if (!rc)
		return;
	wm_noise_peer_rekey_local(&rc->noise, rc->local);
	go_down(rc, now, "private key changed");
	rc->next_attempt = now;
	rc->backoff_s = 0;
}

/* Queues bytes for the TCP stream; false when the buffer is full (the
 * frame is dropped, as a full UDP socket would). */
static bool tcp_queue(struct wm_relay_client *rc, const uint8_t *buf,
		      size_t len)
{
	if (rc->tcp_out_len + WM_RELAY_TCP_PREFIX + len > WM_RELAY_TCP_BUF)
		return false;
	rc->tcp_out[rc->tcp_out_len++] = (uint8_t)(len >> 8);
	rc->tcp_out[rc->tcp_out_len++] = (uint8_t)len;
	memcpy(rc->tcp_out + rc->tcp_out_len, buf, len);
	rc->tcp_out_len += len;
	return true;
}

/* The byte stream under the frames: plain TCP, or TLS over it. Both
 * return > 0 bytes moved, 0 for "not now", < 0 when the stream is dead. */
static ssize_t stream_send(struct wm_relay_client *rc, const uint8_t *buf,
			   size_t len)
{
	ssize_t n;

	if (rc->tls)
		return wm_tls_write(rc->tls, rc->tcp_fd, buf, len);
	n = send(rc->tcp_fd, buf, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n < 0 ? -errno : n;
}

static ssize_t stream_recv(struct wm_relay_client *rc, uint8_t *buf,
			   size_t len)
{
	ssize_t n;

	if (rc->tls)
		return wm_tls_read(rc->tls, rc->tcp_fd, buf, len);
	n = recv(rc->tcp_fd, buf, len, 0);
	if (n == 0)
		return -EPIPE;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n < 0 ? -errno : n;
}

static void tcp_flush(struct wm_relay_client *rc)
{
	uint32_t ev = EPOLLIN;
	ssize_t n;

	if (!rc->tcp_connected)
		return;
	while (rc->tcp_out_len > 0) {
		n = stream_send(rc, rc->tcp_out, rc->tcp_out_len);
		if (n < 0) {
			go_down(rc, wm_now_ns(), strerror((int)-n));
			return;
		}
		if (n == 0)
			break;
		memmove(rc->tcp_out, rc->tcp_out + n, rc->tcp_out_len - (size_t)n);
		rc->tcp_out_len -= (size_t)n;
	}
	if (rc->tls)
		ev |= wm_tls_events(rc->tls);
	else if (rc->tcp_out_len)
		ev |= EPOLLOUT;
	wm_loop_mod(rc->loop, &rc->tcp_h, ev);
}

/* Sends one relay datagram (magic + message) on the current transport. */
static int transmit(struct wm_relay_client *rc, const uint8_t *buf,
		    size_t len, enum wm_rc_transport t)
{
	if (t == WM_RC_UDP)
		return wm_udp_send(rc->udp, &rc->udp_addr, buf, len);
	if (!tcp_queue(rc, buf, len))
		return -ENOBUFS;
	tcp_flush(rc);
	return 0;
}

/* Never blocks: a name is the resolver's business (see client.h). */
static bool resolve(const struct wm_relay_client *rc, union wm_sockaddr *out,
		    const char *text)
{
	if (!text[0])
		return false;
	if (rc->resolve)
		return rc->resolve(rc->resolve_ctx, text, out) == 0;
	return wm_sockaddr_parse(out, text);
}

static void send_initiation(struct wm_relay_client *rc,
			    enum wm_rc_transport t, uint64_t now)
{
	uint8_t *buf = rc->txbuf, eph[WM_KEY_SIZE], ts[WM_TIMESTAMP_SIZE];
	struct wm_msg_initiation *msg =
		(struct wm_msg_initiation *)(buf + WM_RELAY_MAGIC_LEN);
	struct timespec wall = wm_wall_now();
	uint32_t idx;

	if (wm_random_bytes(eph, sizeof(eph)) < 0 ||
	    wm_random_bytes(&idx, sizeof(idx)) < 0)
		return;
	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	memcpy(buf, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	if (wm_noise_create_initiation(msg, &rc->hs, rc->local, &rc->noise,
				       idx, eph, ts) == WM_NOISE_OK) {
		wm_cookie_add_macs(&rc->cookie, msg, sizeof(*msg), now);
		transmit(rc, buf, WM_RELAY_MAGIC_LEN + sizeof(*msg), t);
	}
	wm_memzero(eph, sizeof(eph));
}

static int tcp_connect(struct wm_relay_client *rc)
{
	int fd, one = 1;
	uint32_t mark = 0;
	socklen_t mlen = sizeof(mark);

	if (!resolve(rc, &rc->tcp_addr, rc->tcp_text))
		return -EHOSTUNREACH;
	fd = socket(rc->tcp_addr.sa.sa_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* The UDP socket's mark (FwMark, or a full tunnel's): the relay's
	 * connection must stay off the tunnel as the datagrams do. */
	if (rc->udp->fd >= 0 &&
	    getsockopt(rc->udp->fd, SOL_SOCKET, SO_MARK, &mark,
		       &mlen) == 0 && mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark));
	if (connect(fd, &rc->tcp_addr.sa, wm_sockaddr_len(&rc->tcp_addr)) < 0 &&
	    errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		return r;
	}
	rc->tcp_fd = fd;
	rc->tcp_h = (struct wm_loop_handler){ fd, rc->on_tcp, rc->on_tcp_ctx };
	return wm_loop_add(rc->loop, &rc->tcp_h, EPOLLIN | EPOLLOUT);
}

static void start_udp(struct wm_relay_client *rc, uint64_t now)
{
	rc->transport = WM_RC_UDP;
	rc->state = WM_RELAY_HANDSHAKE;
	rc->attempt_start = now;
	if (!resolve(rc, &rc->udp_addr, rc->udp_text)) {
		go_down(rc, now, "cannot resolve");
		return;
	}
	send_initiation(rc, WM_RC_UDP, now);
}

static void start_tcp(struct wm_relay_client *rc, uint64_t now)
{
	int r;

	tcp_close(rc);
	rc->transport = rc->tcp_tls ? WM_RC_TLS : WM_RC_TCP;
	rc->state = WM_RELAY_HANDSHAKE;
	rc->attempt_start = now;
	r = tcp_connect(rc);
	if (r < 0)
		go_down(rc, now, strerror(-r));
	/* The initiation goes out once connect() completes (on_tcp). */
}

static void session_up(struct wm_relay_client *rc, enum wm_rc_transport t,
		       uint64_t now)
{
	bool was_up = rc->state == WM_RELAY_UP;

	if (t == WM_RC_UDP && rc->transport != WM_RC_UDP)
		tcp_close(rc); /* UDP works again: leave TCP */
	rc->transport = t;
	rc->state = WM_RELAY_UP;
	rc->backoff_s = 0;
	rc->last_rx = now;
	rc->probe_at = 0;
	rc->tcp_lost_at = 0;
	rc->tcp_flipped = false; /* tcp_tls stays: it worked */
	rc->stats.connects++;
	if (!was_up) {
		rc->changes++;
		fprintf(stderr, "%s: relay %s: up over %s\n", rc->name,
			wm_relay_client_text(rc), wm_rc_transport_name(t));
	}
}

/* Seals frame (already at txbuf + magic + 16) and sends it. */
static int send_frame(struct wm_relay_client *rc, size_t frame_len)
{
	uint8_t *buf = rc->txbuf;
	size_t n;

	if (!wm_relay_client_up(rc))
		return -ENOTCONN;
	memcpy(buf, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	/* mtu = length: relay frames are never padded, since a frame's
	 * body length is what is left of the decrypted datagram. */
	n = wm_session_seal(&rc->session, buf + WM_RELAY_MAGIC_LEN,
			    buf + WM_RELAY_MAGIC_LEN + 16, frame_len, frame_len,
			    wm_now_ns());
	if (!n)
		return -EKEYEXPIRED;
	return transmit(rc, buf, WM_RELAY_MAGIC_LEN + n, rc->transport);
}

/* A PING offers forwarding frames (proto.h): body = nonce | offer. A
 * PONG echoes the relay's body. */
static int send_ping(struct wm_relay_client *rc, enum wm_relay_frame_type type,
		     const uint8_t *body, size_t len, uint64_t now)
{
	uint8_t *frame = rc->txbuf + WM_RELAY_MAGIC_LEN + 16;
	uint8_t nonce[WM_RELAY_PING_LEN + 1];

	if (!body) {
		memcpy(nonce, &now, WM_RELAY_PING_LEN);
		nonce[WM_RELAY_PING_LEN] = WM_RELAY_OFFER_FWD;
		body = nonce;
		len = sizeof(nonce);
	}
	rc->last_ping = now;
	return send_frame(rc, wm_relay_frame_build(frame, type, NULL, body, len));
}

/* A frame for a peer went out. */
static void note_tx(struct wm_relay_client *rc, size_t len, uint64_t now)
{
	rc->last_tx = now;
	if (rc->unanswered_since <= rc->last_rx)
		rc->unanswered_since = rc->last_tx;
	rc->stats.tx_frames++;
	rc->stats.tx_bytes += len;
}

/* Frames the SEND around the body at dgram + WM_RELAY_FWD_BODY: a
 * forwarding frame once the relay accepted them, else sealed. */
static size_t frame_send(struct wm_relay_client *rc, uint8_t *dgram,
			 const uint8_t dst[WM_KEY_SIZE], size_t len,
			 uint64_t now)
{
	size_t n;

	if (rc->relay_fwd)
		return wm_relay_fwd_seal(&rc->session, dgram, WM_RELAY_SEND,
					 dst, len, now);
	wm_relay_frame_build(dgram + WM_RELAY_MAGIC_LEN + 16, WM_RELAY_SEND,
			     dst, dgram + WM_RELAY_FWD_BODY, len);
	/* mtu = length: relay frames are never padded (send_frame) */
	n = wm_session_seal(&rc->session, dgram + WM_RELAY_MAGIC_LEN,
			    dgram + WM_RELAY_MAGIC_LEN + 16,
			    WM_RELAY_FRAME_HDR + len, WM_RELAY_FRAME_HDR + len,
			    now);
	if (!n)
		return 0;
	memcpy(dgram, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
	return WM_RELAY_MAGIC_LEN + n;
}

int wm_relay_client_send(struct wm_relay_client *rc,
			 const uint8_t dst[WM_KEY_SIZE], const uint8_t *body,
			 size_t len)
{
	uint64_t now = wm_now_ns();
	size_t n;
	int r;

	if (!wm_relay_client_up(rc))
		return -ENOTCONN;
	if (len > WM_RELAY_MAX_BODY)
		return -EMSGSIZE;
	memmove(rc->txbuf + WM_RELAY_FWD_BODY, body, len);
	n = frame_send(rc, rc->txbuf, dst, len, now);
	if (!n)
		return -EKEYEXPIRED;
	r = transmit(rc, rc->txbuf, n, rc->transport);
	if (r == 0)
		note_tx(rc, len, now);
	return r;
}

size_t wm_relay_client_wrap(struct wm_relay_client *rc, uint8_t *dgram,
			    const uint8_t dst[WM_KEY_SIZE], size_t len,
			    uint64_t now)
{
	size_t n;

	if (!wm_relay_client_up(rc) || rc->transport != WM_RC_UDP ||
	    len > WM_RELAY_MAX_BODY)
		return 0;
	n = frame_send(rc, dgram, dst, len, now);
	if (n)
		note_tx(rc, len, now);
	return n;
}

bool wm_relay_client_batchable(const struct wm_relay_client *rc)
{
	return wm_relay_client_up(rc) && rc->transport == WM_RC_UDP;
}

const union wm_sockaddr *wm_relay_client_addr(const struct wm_relay_client *rc)
{
	return &rc->udp_addr;
}

/* One authenticated frame; true when it is for the agent (*ev). */
static bool handle_frame(struct wm_relay_client *rc, uint8_t *buf,
			 size_t len, uint64_t now, struct wm_relay_event *ev)
{
	struct wm_relay_frame f;

	if (!wm_relay_frame_parse(&f, buf, len)) {
		rc->stats.malformed++;
		return false;
	}
	switch (f.type) {
	case WM_RELAY_RECV:
		rc->stats.rx_frames++;
		rc->stats.rx_bytes += f.body_len;
		/* The frame sits in a buffer we own (or the caller's
		 * datagram), so its body may be decrypted in place. */
		/* The key and body point into the decrypted frame (buf),
		 * which outlives this call; f is ours and does not. */
		*ev = (struct wm_relay_event){ WM_RELAY_EV_FRAME, buf + 1,
					       buf + (f.body - buf), f.body_len };
		return true;
	case WM_RELAY_GONE:
		rc->stats.gone++;
		*ev = (struct wm_relay_event){ WM_RELAY_EV_GONE, buf + 1, NULL, 0 };
		return true;
	case WM_RELAY_PING:
		if (f.body_len == WM_RELAY_PING_LEN)
			send_ping(rc, WM_RELAY_PONG, f.body, f.body_len, now);
		break;
	case WM_RELAY_PONG:
		if (f.body_len >= WM_RELAY_PING_LEN) {
			uint64_t sent;
			memcpy(&sent, f.body, 8);
			if (sent <= now)
				rc->rtt_ns = wm_since(now, sent);
		}
		/* The relay forwards without sealing again: so do we, on
		 * this session (a relay of the first version echoes the
		 * offer unchanged). */
		if (f.body_len == WM_RELAY_PING_LEN + 1 &&
		    f.body[WM_RELAY_PING_LEN] == WM_RELAY_ACCEPT_FWD)
			rc->relay_fwd = true;
		break;
	default:
		rc->stats.malformed++;
	}
	return false;
}

static void handle_response(struct wm_relay_client *rc, uint8_t *msg,
			    size_t len, enum wm_rc_transport t, uint64_t now)
{
	struct wm_keypair kp;

	(void)len;
	if (wm_noise_consume_response((struct wm_msg_response *)msg, &rc->hs,
				      rc->local, &rc->noise) != WM_NOISE_OK) {
		rc->stats.malformed++;
		return;
	}
	wm_noise_derive_keypair(&kp, &rc->hs, now);
	/* The relay may have been replaced by another version: it says
	 * again what it reads in its answer to our first PING. */
	rc->relay_fwd = false;
	wm_session_start(&rc->session, &kp);
	wm_memzero(&kp, sizeof(kp));
	session_up(rc, t, now);
	/* The relay, as responder, waits for our first message. */
	send_ping(rc, WM_RELAY_PING, NULL, 0, now);
}

/* A new handshake with the relay while the session stays up (it is
 * replaced only when the response comes), at most one per
 * WM_RELAY_REHANDSHAKE_S. */
static void rehandshake(struct wm_relay_client *rc, uint64_t now,
			const char *why)
{
	if (rc->last_rehandshake &&
	    wm_since(now, rc->last_rehandshake) < SEC(WM_RELAY_REHANDSHAKE_S))
		return;
	rc->last_rehandshake = now ? now : 1;
	rc->last_rekey_try = now;
	fprintf(stderr, "%s: relay %s: %s, handshaking again\n", rc->name,
		wm_relay_client_text(rc), why);
	send_initiation(rc, rc->transport, now);
}

/* The relay does not know a session of ours. Unauthenticated: it only
 * ever starts a (rate-limited) handshake, and only when it names the
 * session we send with; a late answer about an older one is ignored. */
static void handle_unknown(struct wm_relay_client *rc, const uint8_t *buf,
			   size_t len, uint64_t now)
{
	uint32_t idx;

	if (!wm_relay_unknown_session_parse(buf, len, &idx)) {
		rc->stats.malformed++;
		return;
	}
	if (!wm_relay_client_up(rc) || idx != rc->session.kp.remote_index)
		return;
	rc->stats.unknown_session++;
	rehandshake(rc, now, "the relay does not know our session");
}

/* A RECV as a forwarding frame (relay/fwd.h): the tag over its header
 * and the body's own tag checked, the body left as it came. */
static bool receive_fwd(struct wm_relay_client *rc, uint8_t *buf, size_t len,
			uint64_t now, struct wm_relay_event *ev)
{
	struct wm_relay_frame f;

	if (!rc->session.valid || len < WM_RELAY_FWD_MIN ||
	    wm_transport_receiver(buf + WM_RELAY_MAGIC_LEN) !=
		    rc->session.kp.local_index ||
	    wm_relay_fwd_open(&rc->session, buf, len, WM_RELAY_RECV, now,
			      &f) != WM_RX_OK) {
		rc->stats.malformed++;
		return false;
	}
	rc->last_rx = now;
	rc->stats.rx_frames++;
	rc->stats.rx_bytes += f.body_len;
	*ev = (struct wm_relay_event){ WM_RELAY_EV_FRAME,
				       buf + WM_RELAY_FWD_BODY - WM_KEY_SIZE,
				       buf + WM_RELAY_FWD_BODY, f.body_len };
	return true;
}

/* The relay is under load and wants our address proven: while we are
 * connecting, the initiation goes again at once, now with mac2, rather
 * than a second later (or never, past the UDP wait). A cookie only opens
 * for the last initiation we sent, once: never more initiations than
 * answers. */
static void cookie_taken(struct wm_relay_client *rc, enum wm_rc_transport t,
			 uint64_t now)
{
	if (rc->state != WM_RELAY_HANDSHAKE || t != rc->transport)
		return;
	rc->last_ping = now;
	send_initiation(rc, t, now);
}

/* One relay datagram (magic included), from transport t; true when it
 * carries something for the agent (*ev). */
static bool process(struct wm_relay_client *rc, uint8_t *buf, size_t len,
		    enum wm_rc_transport t, uint64_t now,
		    struct wm_relay_event *ev)
{
	uint8_t *msg = buf + WM_RELAY_MAGIC_LEN, *plain;
	size_t mlen = len - WM_RELAY_MAGIC_LEN, plen;

	if (wm_relay_is_fwd(buf, len))
		return receive_fwd(rc, buf, len, now, ev);
	if (!wm_relay_is_sealed(buf, len) || mlen < 4 || msg[1] || msg[2] ||
	    msg[3]) {
		rc->stats.malformed++;
		return false;
	}
	switch (msg[0]) {
	case WM_MSG_RESPONSE:
		if (mlen != sizeof(struct wm_msg_response))
			break;
		handle_response(rc, msg, mlen, t, now);
		return false;
	case WM_MSG_COOKIE:
		if (mlen != sizeof(struct wm_msg_cookie))
			break;
		if (wm_cookie_consume_reply(&rc->cookie,
					    (struct wm_msg_cookie *)msg, now))
			cookie_taken(rc, t, now);
		return false;
	case WM_RELAY_MSG_UNKNOWN_SESSION:
		handle_unknown(rc, buf, len, now);
		return false;
	case WM_MSG_DATA:
		if (!rc->session.valid || mlen < WM_MSG_MIN_DATA ||
		    wm_transport_receiver(msg) != rc->session.kp.local_index)
			break;
		if (wm_session_open(&rc->session, msg, mlen, now, &plain,
				    &plen) != WM_RX_OK)
			break;
		rc->last_rx = now;
		return handle_frame(rc, plain, plen, now, ev);
	}
	rc->stats.malformed++;
	return false;
}

bool wm_relay_client_receive_udp(struct wm_relay_client *rc, uint8_t *buf,
				 size_t len, const union wm_sockaddr *src,
				 uint64_t now, struct wm_relay_event *ev)
{
	if (!rc || !wm_sockaddr_equal(src, &rc->udp_addr)) {
		if (rc)
			rc->stats.malformed++;
		return false;
	}
	return process(rc, buf, len, WM_RC_UDP, now, ev);
}

/* The next whole datagram buffered from the stream, or NULL. */
static uint8_t *buffered(struct wm_relay_client *rc, size_t *len)
{
	size_t off = rc->tcp_in_off, have = rc->tcp_in_len - off, flen;

	if (have < WM_RELAY_TCP_PREFIX)
		return NULL;
	flen = (size_t)rc->tcp_in[off] << 8 | rc->tcp_in[off + 1];
	if (have - WM_RELAY_TCP_PREFIX < flen)
		return NULL;
	rc->tcp_in_off += WM_RELAY_TCP_PREFIX + flen;
	*len = flen;
	return rc->tcp_in + off + WM_RELAY_TCP_PREFIX;
}

/* Reads more of the stream behind what is buffered: > 0 bytes read, 0 for
 * nothing now, < 0 when the connection went down. */
static ssize_t tcp_fill(struct wm_relay_client *rc, uint64_t now)
{
	ssize_t n;

	memmove(rc->tcp_in, rc->tcp_in + rc->tcp_in_off,
		rc->tcp_in_len - rc->tcp_in_off);
	rc->tcp_in_len -= rc->tcp_in_off;
	rc->tcp_in_off = 0;
	n = stream_recv(rc, rc->tcp_in + rc->tcp_in_len,
			WM_RELAY_TCP_BUF - rc->tcp_in_len);
	if (n < 0) {
		go_down(rc, now, n == -EPIPE ? "TCP closed" : strerror((int)-n));
		return -1;
	}
	rc->tcp_in_len += (size_t)n;
	return n;
}

bool wm_relay_client_next(struct wm_relay_client *rc, uint64_t now,
			  struct wm_relay_event *ev)
{
	uint8_t *d;
	size_t len;

	/* Bounded: the loop comes back while the socket stays readable. */
	for (int round = 0; rc && round < 64 && rc->tcp_fd >= 0; round++) {
		while ((d = buffered(rc, &len)) != NULL) {
			if (process(rc, d, len, rc->transport, now, ev))
				return true;
			if (rc->tcp_fd < 0)
				return false;
		}
		if (tcp_fill(rc, now) <= 0)
			break;
	}
	if (rc && rc->tcp_fd >= 0)
		tcp_flush(rc);
	return false;
}

bool wm_relay_client_pending(const struct wm_relay_client *rc)
{
	return rc && rc->tls && wm_tls_pending(rc->tls);
}

/* The host part of "host:port" for SNI (BearSSL copies it); none for an
 * IP literal. */
static const char *sni_name(char host[WM_RELAY_TEXT_MAX], const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	size_t n = colon ? (size_t)(colon - hostport) : strlen(hostport);
	uint8_t addr[16];

	if (n >= WM_RELAY_TEXT_MAX || hostport[0] == '[')
		return NULL;
	memcpy(host, hostport, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, addr) == 1 ? NULL : host;
}

void wm_relay_client_tcp_ready(struct wm_relay_client *rc, uint32_t events,
			       uint64_t now)
{
	char host[WM_RELAY_TEXT_MAX];

	if (!rc || rc->tcp_fd < 0)
		return;

	if (!rc->tcp_connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(rc->tcp_fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			go_down(rc, now, strerror(err));
			return;
		}
		rc->tcp_connected = true;
		if (rc->tcp_tls &&
		    wm_tls_new_client(&rc->tls, sni_name(host, rc->tcp_text)) < 0) {
			go_down(rc, now, "TLS setup failed");
			return;
		}
		/* Queued now; over TLS it leaves once the handshake is done. */
		send_initiation(rc, rc->transport, now);
		rc->last_ping = now;
	}
	if (rc->tls && wm_tls_pump(rc->tls, rc->tcp_fd) < 0) {
		go_down(rc, now, "TLS failed");
		return;
	}
	tcp_flush(rc);
}

/* Traffic went out and nothing came back: ask the relay (a PING), then
 * handshake again, then give up on it (client.h). True when the relay
 * went down. */
static bool probe(struct wm_relay_client *rc, uint64_t now)
{
	uint64_t waited;

	if (rc->probe_at && rc->last_rx >= rc->probe_at)
		rc->probe_at = 0; /* answered */
	if (!rc->probe_at) {
		if (rc->unanswered_since > rc->last_rx &&
		    wm_since(now, rc->last_tx) < SEC(WM_RELAY_PING_S) &&
		    wm_since(now, rc->unanswered_since) >= SEC(WM_RELAY_QUIET_S)) {
			rc->stats.probes++;
			send_ping(rc, WM_RELAY_PING, NULL, 0, now);
			rc->probe_at = now ? now : 1;
		}
		return false;
	}
	waited = wm_since(now, rc->probe_at);
	if (waited >= SEC(WM_RELAY_PROBE_WAIT_S + WM_RELAY_UDP_WAIT_S)) {
		go_down(rc, now, "no answer while sending");
		return true;
	}
	if (waited >= SEC(WM_RELAY_PROBE_WAIT_S))
		rehandshake(rc, now, "no answer while sending");
	return false;
}

void wm_relay_client_tick(struct wm_relay_client *rc, uint64_t now)
{
	if (!rc)
		return;
	switch (rc->state) {
	case WM_RELAY_IDLE:
		if (now < rc->next_attempt)
			break;
		/* UDP did not work a moment ago: no need to wait for it
		 * again before TCP (the UP state keeps probing UDP). */
		if (rc->tcp_configured && rc->tcp_lost_at &&
		    wm_since(now, rc->tcp_lost_at) < SEC(WM_RELAY_TCP_STICKY_S))
			start_tcp(rc, now);
		else
			start_udp(rc, now);
		break;
	case WM_RELAY_HANDSHAKE:
		if (rc->transport == WM_RC_UDP &&
		    wm_since(now, rc->attempt_start) >= SEC(WM_RELAY_UDP_WAIT_S)) {
			if (rc->tcp_configured)
				start_tcp(rc, now);
			else
				go_down(rc, now, "no answer over UDP");
		} else if (rc->transport == WM_RC_UDP &&
			   wm_since(now, rc->last_ping) >= SEC(1)) {
			rc->last_ping = now;
			send_initiation(rc, WM_RC_UDP, now);
		} else if (rc->transport != WM_RC_UDP &&
			   wm_since(now, rc->attempt_start) >= SEC(2 * WM_RELAY_UDP_WAIT_S)) {
			go_down(rc, now, "no answer over TCP");
		} else if (rc->transport != WM_RC_UDP && rc->tcp_connected &&
			   wm_since(now, rc->last_ping) >= SEC(1)) {
			/* The relay drops initiations that come too close
			 * together; a lost one is retried, as over UDP. */
			rc->last_ping = now;
			send_initiation(rc, rc->transport, now);
		}
		break;
	case WM_RELAY_UP:
		if (wm_since(now, rc->last_rx) >= SEC(WM_RELAY_DEAD_S)) {
			go_down(rc, now, "no answer to pings");
			break;
		}
		if (wm_since(now, rc->session.kp.birth_ns) >= SEC(WM_REJECT_AFTER_TIME)) {
			go_down(rc, now, "session expired");
			break;
		}
		/* Rekey in place; a lost initiation is retried. One handshake
		 * state serves the rekey and the UDP probe below, so only one
		 * of them is in flight at a time. */
		if (wm_since(now, rc->session.kp.birth_ns) >= SEC(WM_REKEY_AFTER_TIME) &&
		    wm_since(now, rc->last_rekey_try) >= SEC(WM_REKEY_TIMEOUT)) {
			rc->last_rekey_try = now;
			send_initiation(rc, rc->transport, now);
			break;
		}
		if (probe(rc, now))
			break;
		if (wm_since(now, rc->last_ping) >= SEC(WM_RELAY_PING_S))
			send_ping(rc, WM_RELAY_PING, NULL, 0, now);
		/* On TCP, keep checking whether UDP works again. */
		if (rc->transport != WM_RC_UDP &&
		    wm_since(now, rc->last_udp_try) >= SEC(WM_RELAY_UDP_RETRY_S) &&
		    wm_since(now, rc->last_rekey_try) >= SEC(WM_REKEY_TIMEOUT)) {
			rc->last_udp_try = now;
			if (resolve(rc, &rc->udp_addr, rc->udp_text))
				send_initiation(rc, WM_RC_UDP, now);
		}
		break;
	}
}
