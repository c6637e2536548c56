/*
 * hs_flood - a bounded handshake flood for the lab: WireGuard initiations
 * with a valid mac1 for a target's public key, from many source addresses,
 * at a fixed total rate; optionally answering cookie replies as
 * wireguard-go would (the cookie opened with the mac1 it answers, then
 * mac2 on every later initiation from that source). The initiations carry
 * no key the target knows: each one that gets past the target's checks
 * costs it a Diffie-Hellman and is then refused.
 *
 *   hs_flood --target IP:PORT --key PUB --src IP [--sources N] [--rate R]
 *            [--seconds S] [--cookies] [--relay] [--tcp]
 *
 *   --src IP      the first source address; the next N-1 follow it (they
 *                 must be configured in the namespace, or routed back to
 *                 it: sockets are bound with IP_FREEBIND)
 *   --relay       prefix each initiation with the relay magic (proto.h)
 *   --tcp         one connection per source, 2-byte length-prefixed
 *                 records, as the relay's plain TCP listener reads them
 *
 * SIGTERM or SIGINT ends the flood early, as the time running out does.
 * Prints one line at the end: "hs_flood: sources=.. sent=.. rate=../s
 * cookies=.. cookies_opened=.. send_errors=.. connected=..". Exits 0, or
 * 1 when nothing could be sent, 2 on bad usage.
 */
#include "agent/relay/proto.h"
#include "agent/wg/cookie.h"
#include "agent/wg/messages.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "netif/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_SOURCES = 4096, MSG_MAX = 2 + WM_RELAY_MAGIC_LEN + 148 };

struct source {
	int fd;
	bool connected;                  /* TCP: the connect completed */
	struct wm_cookie_maker maker;
	uint8_t msg[MSG_MAX];            /* [prefix][magic] initiation */
	size_t len, init_off;            /* whole record; where the initiation starts */
	uint8_t pending[MSG_MAX];        /* TCP: the unsent tail of a record */
	size_t pending_len;
	uint8_t in[4096];                /* TCP: received, not yet parsed */
	size_t in_len;
};

static struct opts {
	union wm_sockaddr target;
	uint8_t key[WM_KEY_SIZE];
	union wm_sockaddr src;
	unsigned sources, rate;
	double seconds;
	bool cookies, relay, tcp;
} o = { .sources = 100, .rate = 15000, .seconds = 8 };

static struct stats {
	uint64_t sent, send_errors, cookies, cookies_opened, skipped;
	unsigned connected;
} st;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: hs_flood --target IP:PORT --key PUB --src IP "
			"[--sources N] [--rate R] [--seconds S] [--cookies] "
			"[--relay] [--tcp]\n");
	return 2;
}

static bool parse_args(int argc, char **argv)
{
	bool have_target = false, have_key = false, have_src = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--cookies"))
			o.cookies = true;
		else if (!strcmp(a, "--relay"))
			o.relay = true;
		else if (!strcmp(a, "--tcp"))
			o.tcp = true;
		else if (!v)
			return false;
		else if (!strcmp(a, "--target") && ++i)
			have_target = wm_sockaddr_parse(&o.target, v);
		else if (!strcmp(a, "--key") && ++i)
			have_key = wm_key_from_base64(o.key, v);
		else if (!strcmp(a, "--src") && ++i) {
			memset(&o.src, 0, sizeof(o.src));
			if (inet_pton(AF_INET, v, &o.src.in.sin_addr) == 1)
				have_src = (o.src.sa.sa_family = AF_INET);
			else if (inet_pton(AF_INET6, v, &o.src.in6.sin6_addr) == 1)
				have_src = (o.src.sa.sa_family = AF_INET6);
		} else if (!strcmp(a, "--sources") && ++i)
			o.sources = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--rate") && ++i)
			o.rate = (unsigned)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--seconds") && ++i)
			o.seconds = strtod(v, NULL);
		else
			return false;
	}
	return have_target && have_key && have_src && o.sources &&
	       o.sources <= MAX_SOURCES && o.rate && o.seconds > 0 &&
	       o.src.sa.sa_family == o.target.sa.sa_family;
}

/* The n-th source address: --src plus n, in its last bytes. */
static void nth_address(union wm_sockaddr *out, unsigned n)
{
	uint8_t *b;
	size_t len;
	unsigned carry = n;

	*out = o.src;
	if (out->sa.sa_family == AF_INET) {
		b = (uint8_t *)&out->in.sin_addr;
		len = 4;
	} else {
		b = out->in6.sin6_addr.s6_addr;
		len = 16;
	}
	for (size_t i = len; i-- > 0 && carry;) {
		carry += b[i];
		b[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

/* A fresh initiation of random bytes (no key the target knows) with a
 * valid mac1, and mac2 once the source holds a cookie. */
static void build_message(struct source *s, uint64_t now)
{
	struct wm_msg_initiation *m;
	size_t off = 0;

	if (o.tcp)
		off += 2;
	if (o.relay) {
		memcpy(s->msg + off, WM_RELAY_MAGIC, WM_RELAY_MAGIC_LEN);
		off += WM_RELAY_MAGIC_LEN;
	}
	s->init_off = off;
	s->len = off + sizeof(*m);
	if (o.tcp) {
		s->msg[0] = (uint8_t)((s->len - 2) >> 8);
		s->msg[1] = (uint8_t)(s->len - 2);
	}
	m = (struct wm_msg_initiation *)(s->msg + off);
	(void)wm_random_bytes(m, sizeof(*m));
	memset(&m->header, 0, sizeof(m->header));
	m->header.type = WM_MSG_INITIATION;
	wm_cookie_add_macs(&s->maker, m, sizeof(*m), now);
}

/* The mac1 stays (the bytes before it do), so a cookie reply to any of
 * the initiations already sent still opens; only mac2 changes. */
static void refresh_macs(struct source *s, uint64_t now)
{
	wm_cookie_add_macs(&s->maker, s->msg + s->init_off,
			   sizeof(struct wm_msg_initiation), now);
}

static int open_source(struct source *s, unsigned n, int ep, uint64_t now)
{
	union wm_sockaddr a;
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, fd;

	nth_address(&a, n);
	fd = socket(a.sa.sa_family,
		    (o.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (a.sa.sa_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	if (bind(fd, &a.sa, wm_sockaddr_len(&a)) < 0 ||
	    (connect(fd, &o.target.sa, wm_sockaddr_len(&o.target)) < 0 &&
	     errno != EINPROGRESS)) {
		int err = -errno;
		close(fd);
		return err;
	}
	s->fd = fd;
	s->connected = !o.tcp;
	if (o.tcp)
		ev.events |= EPOLLOUT;
	ev.data.ptr = s;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -errno;
	}
	wm_cookie_maker_init(&s->maker, o.key);
	build_message(s, now);
	return 0;
}

static void take_cookie(struct source *s, const uint8_t *buf, size_t len,
			uint64_t now)
{
	size_t off = o.relay ? WM_RELAY_MAGIC_LEN : 0;

	if (len != off + sizeof(struct wm_msg_cookie) || buf[off] != WM_MSG_COOKIE)
		return;
	st.cookies++;
	if (!o.cookies)
		return;
	if (wm_cookie_consume_reply(&s->maker,
				    (const struct wm_msg_cookie *)(buf + off),
				    now)) {
		st.cookies_opened++;
		refresh_macs(s, now);
	}
}

static void on_readable(struct source *s, uint64_t now)
{
	uint8_t buf[2048];
	ssize_t n;

	if (!o.tcp) {
		while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0)
			take_cookie(s, buf, (size_t)n, now);
		return;
	}
	while ((n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len,
			 0)) > 0) {
		size_t off = 0;

		s->in_len += (size_t)n;
		while (s->in_len - off >= 2) {
			size_t rl = (size_t)s->in[off] << 8 | s->in[off + 1];
			if (s->in_len - off < 2 + rl)
				break;
			take_cookie(s, s->in + off + 2, rl, now);
			off += 2 + rl;
		}
		memmove(s->in, s->in + off, s->in_len - off);
		s->in_len -= off;
		if (s->in_len == sizeof(s->in))
			s->in_len = 0; /* out of step: start over */
	}
}

/* Writes buf, keeping what the socket did not take for later. */
static void stream_write(struct source *s, const uint8_t *buf, size_t len)
{
	ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			st.send_errors++;
		n = 0;
	}
	memmove(s->pending, buf + n, len - (size_t)n);
	s->pending_len = len - (size_t)n;
}

static void send_one(struct source *s)
{
	if (!s->connected) {
		st.skipped++;
		return;
	}
	if (!o.tcp) {
		if (send(s->fd, s->msg, s->len, 0) < 0)
			st.send_errors++;
		else
			st.sent++;
		return;
	}
	if (s->pending_len) {
		uint8_t tmp[MSG_MAX];
		size_t n = s->pending_len;

		memcpy(tmp, s->pending, n);
		stream_write(s, tmp, n);
		if (s->pending_len) {
			st.skipped++;
			return;
		}
	}
	stream_write(s, s->msg, s->len);
	st.sent++;
}

static void on_event(struct source *s, uint32_t events, int ep, uint64_t now)
{
	if (o.tcp && !s->connected && (events & (EPOLLOUT | EPOLLERR))) {
		int err = 0;
		socklen_t l = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };

		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (!err) {
			s->connected = true;
			st.connected++;
		}
		epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
	}
	if (events & EPOLLIN)
		on_readable(s, now);
}

int main(int argc, char **argv)
{
	static struct source src[MAX_SOURCES];
	struct epoll_event evs[64];
	uint64_t start, end, now, due, done = 0;
	unsigned next = 0;
	int ep;

	if (!parse_args(argc, argv))
		return usage();
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return 1;
	now = now_ns();
	for (unsigned i = 0; i < o.sources; i++) {
		int err = open_source(&src[i], i, ep, now);
		if (err < 0) {
			fprintf(stderr, "hs_flood: source %u: %s\n", i,
				strerror(-err));
			return 1;
		}
	}
	if (!o.tcp)
		st.connected = o.sources;
	start = now_ns();
	end = start + (uint64_t)(o.seconds * 1e9);
	for (now = start; now < end && !stop; now = now_ns()) {
		int n = epoll_wait(ep, evs, 64, 1);

		now = now_ns();
		for (int i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events, ep, now);
		/* The schedule, not the loop's speed, sets the rate; a late
		 * loop (a busy machine) catches up by at most 100 ms of
		 * sending. */
		due = (now - start) * o.rate / 1000000000ULL;
		if (due > done + o.rate / 10)
			done = due - o.rate / 10;
		for (; done < due; done++) {
			send_one(&src[next]);
			next = (next + 1) % o.sources;
		}
	}
	printf("hs_flood: sources=%u sent=%llu rate=%.0f/s cookies=%llu "
	       "cookies_opened=%llu send_errors=%llu skipped=%llu "
	       "connected=%u\n",
	       o.sources, (unsigned long long)st.sent,
	       (double)st.sent / ((double)(now - start) / 1e9),
	       (unsigned long long)st.cookies,
	       (unsigned long long)st.cookies_opened,
	       (unsigned long long)st.send_errors,
	       (unsigned long long)st.skipped, st.connected);
	for (unsigned i = 0; i < o.sources; i++)
		close(src[i].fd);
	close(ep);
	return st.sent ? 0 : 1;
}
