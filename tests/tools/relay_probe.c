/*
 * relay_probe - a minimal relay client for tests of `wiremesh relay` over
 * real sockets: the Noise handshake with the relay's key, then one job.
 *
 *   relay_probe --relay-key PUB --key PRIV [--udp IP:PORT | --tcp IP:PORT
 *               [--tls]] [--timeout MS] JOB
 *   JOB:  ping             PING, wait for the PONG
 *         send PUB N       N SEND frames ("probe-<i>") to PUB; prints GONE
 *                          for each GONE that comes back
 *         recv N           wait for N RECV frames, print "RECV <key> <body>"
 *         recv-ping N      recv N, and PING once the first RECV is in: the
 *                          PING reaches the relay while it is still busy
 *                          sending the rest; waits for (and prints) PONG
 *         handshake        just the handshake: "OK", or no answer at all
 *
 * Prints what it got and exits 0 when the job completed, 1 when it timed
 * out or failed, 2 on bad usage. Sessions are unpadded, as the relay wants.
 * An unanswered initiation is replaced by a fresh one every RETRY_MS.
 */
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "agent/relay/proto.h"
#include "agent/relay/tls.h"
#include "agent/wg/transport.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "netif/addr.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_DGRAM = 16384 };

struct link {
	int fd;
	bool stream;
	struct wm_tls *tls;
	uint8_t in[2 * MAX_DGRAM];
	size_t in_len;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long left = deadline - now_ms();

	return left > 0 && poll(&p, 1, (int)left) > 0;
}

static bool tls_events_wait(struct link *l, long deadline)
{
	uint32_t ev = wm_tls_events(l->tls);

	return wait_fd(l->fd, (short)((ev & EPOLLOUT ? POLLOUT : 0) | POLLIN),
		       deadline);
}

static bool link_open(struct link *l, const union wm_sockaddr *a, bool stream,
		      bool tls, long deadline)
{
	memset(l, 0, sizeof(*l));
	l->stream = stream;
	l->fd = socket(a->sa.sa_family,
		       (stream ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (l->fd < 0 || connect(l->fd, &a->sa, wm_sockaddr_len(a)) < 0) {
		perror("relay_probe: connect");
		return false;
	}
	fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
	/* Without it, a small datagram after another waits for the relay's
	 * delayed ACK: tens of milliseconds per relayed packet. */
	if (stream)
		setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (!tls)
		return true;
	if (wm_tls_new_client(&l->tls, "relay") < 0)
		return false;
	while (!wm_tls_established(l->tls)) {
		if (wm_tls_pump(l->tls, l->fd) < 0) {
			fprintf(stderr, "relay_probe: TLS handshake failed (%d)\n",
				wm_tls_last_error(l->tls));
			return false;
		}
		if (!wm_tls_established(l->tls) && !tls_events_wait(l, deadline))
			return false;
	}
	return true;
}

static bool write_all(struct link *l, const uint8_t *p, size_t len, long deadline)
{
	while (len) {
		ssize_t n = l->tls ? wm_tls_write(l->tls, l->fd, p, len)
				   : send(l->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && !l->tls && errno == EAGAIN)
			n = 0;
		if (n < 0)
			return false;
		p += n;
		len -= (size_t)n;
		if (len && !(l->tls ? tls_events_wait(l, deadline)
				    : wait_fd(l->fd, POLLOUT, deadline)))
			return false;
	}
	if (l->tls) /* push out what the engine still holds */
		while (wm_tls_events(l->tls) & EPOLLOUT)
			if (wm_tls_pump(l->tls, l->fd) < 0 || !tls_events_wait(l, deadline))
				return false;
	return true;
}

/* buf has 2 bytes of headroom before it, for the stream prefix: one
 * write, one TLS record. */
static bool link_send(struct link *l, uint8_t *buf, size_t len, long deadline)
{
	if (!l->stream)
		return send(l->fd, buf, len, 0) == (ssize_t)len;
	buf[-2] = (uint8_t)(len >> 8);
	buf[-1] = (uint8_t)len;
	return write_all(l, buf - 2, len + 2, deadline);
}

/* The next datagram into out: its length, or 0 at the deadline. */
static size_t link_recv(struct link *l, uint8_t *out, long deadline)
{
	for (;;) {
		ssize_t n;

		if (l->stream && l->in_len >= 2) {
			size_t len = (size_t)l->in[0] << 8 | l->in[1];
			if (l->in_len >= 2 + len) {
				memcpy(out, l->in + 2, len);
				memmove(l->in, l->in + 2 + len, l->in_len - 2 - len);
				l->in_len -= 2 + len;
				return len;
			}
		}
		if (!l->stream)
			n = recv(l->fd, out, MAX_DGRAM, 0);
		else if (l->tls)
			n = wm_tls_read(l->tls, l->fd, l->in + l->in_len,
					sizeof(l->in) - l->in_len);
		else
			n = recv(l->fd, l->in + l->in_len, sizeof(l->in) - l->in_len, 0);
		if (n > 0 && !l->stream)
			return (size_t)n;
		if (n > 0) {
			l->in_len += (size_t)n;
			continue;
		}
		if ((n == 0 && l->stream && !l->tls) || (n < 0 && (l->tls || errno != EAGAIN)))
			return 0; /* closed */
		if (!(l->tls ? tls_events_wait(l, deadline)
			     : wait_fd(l->fd, POLLIN, deadline)))
			return 0;
	}
}

struct session {
	struct wm_noise_local local;
	struct wm_noise_peer relay;
	struct wm_keypair kp;
	struct wm_replay replay;
	uint64_t counter;
};

/* Sends a fresh initiation (new ephemeral, index and timestamp) for hs. */
static bool send_initiation(struct session *s, struct link *l,
			    struct wm_handshake *hs, long deadline)
{
	uint8_t room[2 + 4 + sizeof(struct wm_msg_initiation)], *buf = room + 2;
	uint8_t eph[32], ts[12];
	struct wm_msg_initiation init;
	struct wm_cookie_maker maker;
	struct timespec wall;
	uint32_t idx;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &wall);
	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	wm_random_bytes(eph, sizeof(eph));
	wm_random_bytes(&idx, sizeof(idx));
	ok = wm_noise_create_initiation(&init, hs, &s->local, &s->relay, idx,
					eph, ts) == WM_NOISE_OK;
	wm_memzero(eph, sizeof(eph));
	if (!ok)
		return false;
	wm_cookie_maker_init(&maker, s->relay.remote_static);
	wm_cookie_add_macs(&maker, &init, sizeof(init), now_ns());
	memcpy(buf, WM_RELAY_MAGIC, 4);
	memcpy(buf + 4, &init, sizeof(init));
	return link_send(l, buf, 4 + sizeof(init), deadline);
}

/* Like any WireGuard initiator, the probe sends a new initiation when the
 * last one got no answer: the relay silently drops an initiation that
 * comes within 1/WM_INITIATIONS_PER_SECOND (20 ms) of the key's previous
 * handshake, or whose timestamp (TAI64N rounded to 2^24 ns) is not newer
 * than it. A probe run just after another one with the same key (a whole
 * run takes ~15 ms in the lab) is such a case; sending once and waiting
 * out the timeout turned every other run into "NO ANSWER". */
enum { RETRY_MS = 250 };

static bool handshake(struct session *s, struct link *l, long deadline)
{
	uint8_t room[2 + MAX_DGRAM], *buf = room + 2;
	struct wm_msg_response resp;
	struct wm_handshake hs;
	bool ok = false;

	memset(&hs, 0, sizeof(hs));
	while (!ok && now_ms() < deadline) {
		long retry = now_ms() + RETRY_MS;
		size_t n;

		if (retry > deadline)
			retry = deadline;
		if (!send_initiation(s, l, &hs, deadline))
			break;
		/* A late answer to an earlier initiation no longer matches hs
		 * (its receiver index is the old one) and is skipped. */
		while (!ok && (n = link_recv(l, buf, retry)) > 0) {
			if (n != 4 + sizeof(resp) || memcmp(buf, WM_RELAY_MAGIC, 4))
				continue;
			memcpy(&resp, buf + 4, sizeof(resp));
			ok = wm_noise_consume_response(&resp, &hs, &s->local,
						       &s->relay) == WM_NOISE_OK &&
			     wm_noise_derive_keypair(&s->kp, &hs, now_ns()) ==
				     WM_NOISE_OK;
		}
	}
	if (ok)
		wm_replay_init(&s->replay);
	wm_memzero(&hs, sizeof(hs));
	return ok;
}

static bool send_frame(struct session *s, struct link *l, int type,
		       const uint8_t *key, const void *body, size_t blen,
		       long deadline)
{
	uint8_t room[2 + MAX_DGRAM], *buf = room + 2;
	uint8_t *plain = buf + 4 + 16;
	size_t n = type ? wm_relay_frame_build(plain, (enum wm_relay_frame_type)type,
					       key, body, blen) : 0;

	memcpy(buf, WM_RELAY_MAGIC, 4);
	n = wm_transport_seal(buf + 4, &s->kp, s->counter++, plain, n, n);
	return link_send(l, buf, 4 + n, deadline);
}

/* The next frame from the relay, or false at the deadline. */
static bool recv_frame(struct session *s, struct link *l, uint8_t *buf,
		       struct wm_relay_frame *f, long deadline)
{
	size_t n;

	while ((n = link_recv(l, buf, deadline)) > 0) {
		uint8_t *plain;
		size_t plen;

		if (n < 4 + 32 || memcmp(buf, WM_RELAY_MAGIC, 4) || buf[4] != 4)
			continue;
		if (wm_transport_open(&s->kp, &s->replay, buf + 4, n - 4, &plain,
				      &plen) == WM_RX_OK &&
		    wm_relay_frame_parse(f, plain, plen))
			return true;
	}
	return false;
}

static int usage(void)
{
	fputs("usage: relay_probe --relay-key PUB --key PRIV [--udp IP:PORT | "
	      "--tcp IP:PORT [--tls]] [--timeout MS] ping | send PUB N | recv N "
	      "| recv-ping N | handshake\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static struct link l;
	static uint8_t buf[MAX_DGRAM];
	union wm_sockaddr addr;
	struct session s;
	uint8_t relay_pub[32], priv[32], dst[32];
	bool have_addr = false, stream = false, tls = false;
	unsigned have_keys = 0;
	long timeout = 3000, deadline;
	char text[WM_KEY_B64_LEN + 1];
	struct wm_relay_frame f;
	int i, count = 0;

	memset(&s, 0, sizeof(s));
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--tls")) {
			tls = true;
			continue;
		}
		if (argv[i][0] != '-' || !v)
			break;
		if (!strcmp(argv[i], "--relay-key") && wm_key_from_base64(relay_pub, v))
			have_keys |= 1;
		else if (!strcmp(argv[i], "--key") && wm_key_from_base64(priv, v))
			have_keys |= 2;
		else if ((!strcmp(argv[i], "--udp") || !strcmp(argv[i], "--tcp")) &&
			 wm_sockaddr_parse(&addr, v))
			have_addr = true, stream = argv[i][2] == 't';
		else if (!strcmp(argv[i], "--timeout"))
			timeout = atol(v);
		else
			return usage();
		i++;
	}
	if (!have_addr || have_keys != 3 || i >= argc || (tls && !stream))
		return usage();
	deadline = now_ms() + timeout;
	wm_noise_local_init(&s.local, priv);
	wm_noise_peer_init(&s.relay, &s.local, relay_pub, NULL);
	if (!link_open(&l, &addr, stream, tls, deadline))
		return 1;
	if (!handshake(&s, &l, deadline)) {
		puts("NO ANSWER");
		return 1;
	}
	/* confirm the session: the relay sends with it only after this */
	if (!send_frame(&s, &l, 0, NULL, NULL, 0, deadline))
		return 1;
	if (!strcmp(argv[i], "handshake")) {
		puts("OK");
		return 0;
	}
	if (!strcmp(argv[i], "ping")) {
		uint8_t nonce[8];
		wm_random_bytes(nonce, sizeof(nonce));
		send_frame(&s, &l, WM_RELAY_PING, NULL, nonce, 8, deadline);
		while (recv_frame(&s, &l, buf, &f, deadline))
			if (f.type == WM_RELAY_PONG && f.body_len == 8 &&
			    !memcmp(f.body, nonce, 8)) {
				puts("PONG");
				return 0;
			}
		return 1;
	}
	if (!strcmp(argv[i], "send") && i + 2 < argc &&
	    wm_key_from_base64(dst, argv[i + 1]) && (count = atoi(argv[i + 2])) > 0) {
		for (int k = 0; k < count; k++) {
			char body[32];
			int n = snprintf(body, sizeof(body), "probe-%d", k);
			if (!send_frame(&s, &l, WM_RELAY_SEND, dst, body, (size_t)n,
					deadline))
				return 1;
		}
		/* GONE answers come back quickly; give them a moment */
		deadline = now_ms() + (timeout < 500 ? timeout : 500);
		while (recv_frame(&s, &l, buf, &f, deadline))
			if (f.type == WM_RELAY_GONE)
				printf("GONE %s\n", (wm_key_to_base64(text, f.key), text));
		puts("SENT");
		return 0;
	}
	if ((!strcmp(argv[i], "recv") || !strcmp(argv[i], "recv-ping")) &&
	    i + 1 < argc && (count = atoi(argv[i + 1])) > 0) {
		/* A PONG proves the relay has our confirmed session: only then
		 * may the test send to us. */
		uint8_t nonce[8] = { 'r', 'e', 'a', 'd', 'y' };
		bool ping = argv[i][4] == '-', ponged = !ping;
		send_frame(&s, &l, WM_RELAY_PING, NULL, nonce, 8, deadline);
		while (!(recv_frame(&s, &l, buf, &f, deadline) &&
			 f.type == WM_RELAY_PONG))
			if (now_ms() >= deadline)
				return 1;
		puts("READY");
		fflush(stdout);
		memcpy(nonce, "midburst", 8);
		for (int got = 0; got < count || !ponged;) {
			if (!recv_frame(&s, &l, buf, &f, deadline))
				return 1;
			if (f.type == WM_RELAY_PONG && f.body_len == 8 &&
			    !memcmp(f.body, nonce, 8) && !ponged) {
				ponged = true;
				puts("PONG");
				fflush(stdout);
			}
			if (f.type != WM_RELAY_RECV)
				continue;
			wm_key_to_base64(text, f.key);
			printf("RECV %s %.*s\n", text, (int)f.body_len, (const char *)f.body);
			fflush(stdout);
			/* while the relay is still busy sending us the rest */
			if (got++ == 0 && ping &&
			    !send_frame(&s, &l, WM_RELAY_PING, NULL, nonce, 8, deadline))
				return 1;
		}
		return 0;
	}
	return usage();
}
