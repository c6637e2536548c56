/* See relay/server_tcp.h. */
#include "agent/relay/server_tcp.h"
#include "agent/wg/clock.h"
#include "agent/relay/proto.h"
#include "agent/wg/ratelimit.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	/* the largest relay datagram: a data message with a full frame */
	MAX_RECORD = WM_RELAY_MAGIC_LEN + 16 + WM_RELAY_FRAME_HDR +
		     WM_RELAY_MAX_BODY + 16,
	IN_CAP = 2 * (2 + MAX_RECORD),
	OUT_CAP = 128 * 1024,
	/* socket bytes one readiness event may take before others get a
	 * turn (epoll is level-triggered, so the rest is read next round) */
	READ_BUDGET = 256 * 1024,
	ACCEPTS_PER_EVENT = 64,
	MAX_CONNS = 0xffff,
	/* the first byte of a TLS record: a handshake (ClientHello) */
	TLS_HANDSHAKE_RECORD = 0x16,
	/* New TLS sessions a second per source (IPv4 address, IPv6 /64),
	 * in bursts of TLS_BURST: each costs a private-key operation on the
	 * relay's one thread, and the connection cap bounds only how many
	 * are open at once, not how fast they come and go. The relay
	 * core's handshake budget (5 a second); bursts of 8, the default
	 * MaxConnsPerAddress, so that an office NAT full of clients can
	 * reconnect at once after a restart. */
	TLS_PER_SECOND = 5,
	TLS_BURST = 8,
};
#define NS 1000000000ULL

/* What a connection speaks; told from its first byte. */
enum kind { UNDECIDED, PLAIN, TLS };

struct conn {
	struct wm_loop_handler h;
	struct wm_relay_tcp *tcp;
	struct conn *next; /* in the free list, or the dead list */
	struct conn *next_pending; /* in the pending list, while queued */
	/* in the list of connections not yet known to be authenticated,
	 * oldest first, while young */
	struct conn *young_prev, *young_next;
	struct wm_relay_path path;
	struct wm_tls *tls;
	enum kind kind;
	uint32_t events;
	uint32_t next_same; /* 1 + slot of the next in its address bucket */
	uint16_t gen;
	bool used, dead, failed, queued, young;
	uint64_t accepted_ns;
	uint64_t auth_ns; /* the last authenticated record; 0: none yet */
	uint8_t *in, *out;
	size_t in_len, out_head, out_len;
};

struct wm_relay_tcp {
	struct wm_loop *loop;
	struct wm_relay *relay;
	struct wm_tls_creds *creds; /* for new TLS connections; NULL: none */
	struct wm_relay_tcp_limits lim;
	struct wm_ratelimit tls_rate; /* new TLS sessions, per source */
	int fd;
	struct wm_loop_handler h;
	struct conn *conns;
	unsigned cap;
	/* Open connections by source (for the per-address cap): each
	 * bucket holds 1 + the slot of its first connection, which links to
	 * the next by next_same. */
	uint32_t *buckets;
	unsigned n_buckets; /* a power of two */
	struct conn *free_list, *dead_list;
	/* Connections with no authenticated record seen yet, in the order
	 * they were accepted: when the table is full, the oldest of them
	 * makes room for a newcomer. */
	struct conn *young_head, *young_tail;
	/* TLS connections holding decrypted bytes that no socket event will
	 * announce (see defer), and the eventfd that makes the loop come
	 * back for them. */
	struct conn *pending, *serving;
	int wake_fd;
	struct wm_loop_handler wake_h;
	struct wm_relay_tcp_stats stats;
};

static uint32_t conn_id(const struct conn *c)
{
	return (uint32_t)c->gen << 16 | (uint32_t)(c - c->tcp->conns);
}

static void mark_dead(struct conn *c, bool failed)
{
	if (c->dead)
		return;
	c->dead = true;
	c->failed = failed;
	c->next = c->tcp->dead_list;
	c->tcp->dead_list = c;
}

static void unqueue(struct conn *c)
{
	struct conn **p = &c->tcp->pending;

	if (!c->queued)
		return;
	while (*p && *p != c)
		p = &(*p)->next_pending;
	if (*p)
		*p = c->next_pending;
	c->next_pending = NULL;
	c->queued = false;
}

/* What one source is, for the per-address cap: an IPv4 address, or an
 * IPv6 /64 (a host usually holds a whole /64, as wg/ratelimit.h counts
 * it); the port does not count. The bytes go to *b; their number is
 * returned. */
static size_t source_of(uint8_t b[8], const union wm_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET) {
		memcpy(b, &a->in.sin_addr, 4);
		return 4;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(b, &a->in6.sin6_addr, 8);
		return 8;
	}
	return 0;
}

static uint32_t *bucket_of(struct wm_relay_tcp *t, const union wm_sockaddr *a)
{
	uint8_t b[8];
	size_t n = source_of(b, a);
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return &t->buckets[h & (t->n_buckets - 1)];
}

static bool same_source(const union wm_sockaddr *a, const union wm_sockaddr *b)
{
	uint8_t x[8], y[8];
	size_t n = source_of(x, a);

	return a->sa.sa_family == b->sa.sa_family && n &&
	       source_of(y, b) == n && memcmp(x, y, n) == 0;
}

/* Open connections from a's source (address, or IPv6 /64). */
static unsigned count_from(struct wm_relay_tcp *t, const union wm_sockaddr *a)
{
	unsigned n = 0;

	for (uint32_t i = *bucket_of(t, a); i; i = t->conns[i - 1].next_same)
		n += same_source(&t->conns[i - 1].path.addr, a);
	return n;
}

static void young_add(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;

	c->young = true;
	c->young_next = NULL;
	c->young_prev = t->young_tail;
	if (t->young_tail)
		t->young_tail->young_next = c;
	else
		t->young_head = c;
	t->young_tail = c;
}

static void young_remove(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;

	if (!c->young)
		return;
	if (c->young_prev)
		c->young_prev->young_next = c->young_next;
	else
		t->young_head = c->young_next;
	if (c->young_next)
		c->young_next->young_prev = c->young_prev;
	else
		t->young_tail = c->young_prev;
	c->young_prev = c->young_next = NULL;
	c->young = false;
}

static void unlink_address(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;
	uint32_t *p = bucket_of(t, &c->path.addr), me = (uint32_t)(c - t->conns) + 1;

	while (*p && *p != me)
		p = &t->conns[*p - 1].next_same;
	if (*p)
		*p = c->next_same;
	c->next_same = 0;
}

static void conn_close(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;

	unqueue(c);
	young_remove(c);
	unlink_address(c);
	wm_relay_conn_closed(t->relay, conn_id(c));
	if (c->tls) {
		if (!c->failed)
			wm_tls_close(c->tls, c->h.fd);
		wm_tls_free(c->tls);
	}
	if (c->failed)
		t->stats.closed_errors++;
	wm_loop_del(t->loop, &c->h);
	close(c->h.fd);
	free(c->in);
	free(c->out);
	c->gen = (uint16_t)(c->gen + 1) ? (uint16_t)(c->gen + 1) : 1;
	c->used = false;
	c->tls = NULL;
	c->in = c->out = NULL;
	c->next = t->free_list;
	t->free_list = c;
	t->stats.open--;
}

/* Closes what failed; only ever called with no core code on the stack. */
static void reap(struct wm_relay_tcp *t)
{
	while (t->dead_list) {
		struct conn *c = t->dead_list;
		t->dead_list = c->next;
		conn_close(c);
	}
}

static void set_events(struct conn *c)
{
	uint32_t ev;

	if (c->dead)
		return;
	if (c->tls) {
		ev = wm_tls_events(c->tls);
		if (!ev)
			ev = EPOLLIN;
	} else {
		ev = EPOLLIN | (c->out_len > c->out_head ? EPOLLOUT : 0);
	}
	if (ev != c->events && wm_loop_mod(c->tcp->loop, &c->h, ev) == 0)
		c->events = ev;
}

static void flush(struct conn *c)
{
	while (!c->dead && c->out_len > c->out_head) {
		uint8_t *p = c->out + c->out_head;
		size_t len = c->out_len - c->out_head;
		ssize_t n;

		if (c->kind == UNDECIDED)
			break; /* nothing is sent before the client spoke */
		if (c->tls) {
			n = wm_tls_write(c->tls, c->h.fd, p, len);
			if (n < 0)
				mark_dead(c, n != -EPIPE);
			if (n <= 0)
				break;
		} else {
			n = send(c->h.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0) {
				if (errno != EAGAIN && errno != EINTR)
					mark_dead(c, errno != EPIPE);
				break;
			}
		}
		c->out_head += (size_t)n;
	}
	if (c->out_head == c->out_len)
		c->out_head = c->out_len = 0;
}

/* wm_tls_write() pumps the engine, which may take records off the socket
 * while it sends: their plaintext then waits in the engine, and with the
 * socket drained, epoll has nothing left to report. A send from outside
 * c's own handler (an answer to a UDP client, a frame from another
 * connection) would leave a PING or a handshake of c's client stuck until
 * its next bytes came. So c goes on the pending list, and the eventfd
 * brings the loop back to read it (on_wake) once the core is off the
 * stack. */
static void defer(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;
	uint64_t one = 1;

	if (c->queued || c->dead || c == t->serving || !c->tls ||
	    !wm_tls_pending(c->tls))
		return;
	c->queued = true;
	c->next_pending = t->pending;
	t->pending = c;
	if (c->next_pending)
		return; /* the first one on the list signalled */
	/* It cannot fail short of a counter overflow; if it did, the tick
	 * would serve the list within a second. */
	if (write(t->wake_fd, &one, sizeof(one)) < 0)
		return;
}

int wm_relay_tcp_send(struct wm_relay_tcp *t, uint32_t id,
		      const uint8_t *buf, size_t len)
{
	unsigned slot = id & 0xffff;
	struct conn *c;

	if (!t || slot >= t->cap)
		return -ENOTCONN;
	c = &t->conns[slot];
	if (!c->used || c->dead || conn_id(c) != id)
		return -ENOTCONN;
	if (len > 0xffff)
		return -EMSGSIZE;
	if (c->out_len + 2 + len > OUT_CAP && c->out_head) {
		memmove(c->out, c->out + c->out_head, c->out_len - c->out_head);
		c->out_len -= c->out_head;
		c->out_head = 0;
	}
	if (c->out_len + 2 + len > OUT_CAP)
		return -ENOBUFS;
	c->out[c->out_len] = (uint8_t)(len >> 8);
	c->out[c->out_len + 1] = (uint8_t)len;
	memcpy(c->out + c->out_len + 2, buf, len);
	c->out_len += 2 + len;
	flush(c);
	set_events(c);
	defer(c);
	return 0;
}

/* Hands every whole record in the input buffer to the core. False on a
 * length prefix no relay datagram can have: the stream is out of step. */
static bool deliver(struct conn *c, uint64_t now)
{
	size_t off = 0;

	while (!c->dead && c->in_len - off >= 2) {
		size_t len = (size_t)c->in[off] << 8 | c->in[off + 1];

		if (len == 0 || len > MAX_RECORD)
			return false;
		if (c->in_len - off < 2 + len)
			break;
		/* Whether it was authentic only the core knows: the tick
		 * asks it (wm_relay_conn_activity), so junk of a valid
		 * length keeps no connection open. */
		wm_relay_input(c->tcp->relay, &c->path, c->in + off + 2, len, now);
		off += 2 + len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return true;
}

static void read_records(struct conn *c)
{
	size_t budget = READ_BUDGET;
	uint64_t now = wm_now_ns();

	while (!c->dead && c->kind != UNDECIDED) {
		size_t room = IN_CAP - c->in_len;
		ssize_t n;

		/* Decrypted bytes raise no socket event: take them all. */
		if (!budget && !(c->tls && wm_tls_pending(c->tls)))
			break;
		if (c->tls) {
			n = wm_tls_read(c->tls, c->h.fd, c->in + c->in_len, room);
			if (n < 0)
				mark_dead(c, n != -EPIPE);
			if (n <= 0)
				break;
		} else {
			n = recv(c->h.fd, c->in + c->in_len, room, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				mark_dead(c, n < 0);
			if (n <= 0)
				break;
		}
		c->in_len += (size_t)n;
		budget -= (size_t)n < budget ? (size_t)n : budget;
		if (!deliver(c, now))
			mark_dead(c, true);
	}
}

/* Moves bytes both ways, then waits for what c needs next. Sends to c
 * from the core while it runs are read back by read_records itself; what
 * the last flush pumps in is deferred. */
static void serve(struct conn *c)
{
	c->tcp->serving = c;
	flush(c);
	read_records(c);
	flush(c); /* the handshake may just have finished */
	c->tcp->serving = NULL;
	set_events(c);
	defer(c);
}

/* True when a's source may start a TLS session now (and charges
 * its budget); before the engine exists, so a refusal costs no crypto. */
static bool tls_allowed(struct wm_relay_tcp *t, const union wm_sockaddr *a)
{
	const void *bytes = a->sa.sa_family == AF_INET
				    ? (const void *)&a->in.sin_addr
				    : (const void *)&a->in6.sin6_addr;

	return wm_ratelimit_allow(&t->tls_rate, a->sa.sa_family, bytes,
				  wm_now_ns());
}

/* TLS or plain framing, from the first byte without taking it: a TLS
 * record starts with 0x16 (a handshake), a plain stream with the high
 * byte of a relay datagram's length, which is far smaller. A ClientHello
 * to a relay without a certificate is closed at once, so that a client
 * trying TLS first falls back to plain without waiting. */
static void classify(struct conn *c)
{
	struct wm_relay_tcp *t = c->tcp;
	uint8_t first;
	ssize_t n = recv(c->h.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			mark_dead(c, true);
		return;
	}
	if (n == 0) {
		mark_dead(c, false);
		return;
	}
	if (first != TLS_HANDSHAKE_RECORD) {
		c->kind = PLAIN;
		c->path.transport = WM_RELAY_TCP;
		return;
	}
	if (!t->creds) {
		t->stats.tls_refused++;
		mark_dead(c, false);
		return;
	}
	if (!tls_allowed(t, &c->path.addr)) {
		t->stats.tls_rate_limited++;
		mark_dead(c, false);
		return;
	}
	if (wm_tls_new_server(&c->tls, t->creds) < 0) {
		mark_dead(c, true);
		return;
	}
	c->kind = TLS;
	c->path.transport = WM_RELAY_TLS;
}

static void on_conn(struct wm_loop_handler *h, uint32_t events)
{
	struct conn *c = (struct conn *)h;

	if (c->kind == UNDECIDED) {
		if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
			mark_dead(c, true);
		else
			classify(c);
	}
	if (c->dead) {
		reap(c->tcp);
		return;
	}
	if (c->tls) {
		int r = wm_tls_pump(c->tls, h->fd);
		if (r < 0 && !wm_tls_pending(c->tls))
			mark_dead(c, r != -EPIPE);
	} else if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) {
		mark_dead(c, true);
	}
	serve(c);
	reap(c->tcp);
}

/* Serves the connections deferred so far; those deferred meanwhile make
 * the next round, so a busy pair cannot hold the loop. */
static void serve_pending(struct wm_relay_tcp *t)
{
	struct conn *list = t->pending;

	t->pending = NULL;
	while (list) {
		struct conn *c = list;

		list = c->next_pending;
		c->next_pending = NULL;
		c->queued = false;
		if (c->used && !c->dead)
			serve(c);
	}
	reap(t);
}

static void on_wake(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_relay_tcp *t = h->ctx;
	uint64_t n;

	(void)events;
	/* Read first: a defer from here on signals again. */
	if (read(t->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	serve_pending(t);
}

/* Accepted IPv4 sources of a dual-stack listener come as ::ffff:a.b.c.d:
 * keep them IPv4, as the core and the logs show them. */
static void unmap(union wm_sockaddr *a)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (a->sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr))
		return;
	in.sin_port = a->in6.sin6_port;
	memcpy(&in.sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
	memset(a, 0, sizeof(*a));
	a->in = in;
}

/* The core vouches for an authenticated record on connection id. */
static void on_activity(void *ctx, uint32_t id, uint64_t at_ns)
{
	struct wm_relay_tcp *t = ctx;
	unsigned slot = id & 0xffff;
	struct conn *c;

	if (slot >= t->cap)
		return;
	c = &t->conns[slot];
	if (c->used && conn_id(c) == id && at_ns >= c->accepted_ns &&
	    at_ns > c->auth_ns) {
		c->auth_ns = at_ns;
		young_remove(c); /* never evicted from now on */
	}
}

/* A full table: closes the oldest connection with no authenticated
 * record, so that connections which never authenticate (a flood, or
 * clients stuck before their handshake) cannot keep new ones out for the
 * whole handshake timeout. Authenticated connections are never closed
 * here. *asked: the core was asked which connections its clients use
 * (once per round of accepts: it walks every client). True when a slot
 * is free now. */
static bool make_room(struct wm_relay_tcp *t, bool *asked)
{
	struct conn *c;

	reap(t);
	if (t->free_list)
		return true;
	if (!*asked) {
		wm_relay_conn_activity(t->relay, on_activity, t);
		*asked = true;
	}
	for (c = t->young_head; c && c->dead; c = c->young_next)
		;
	if (!c)
		return false;
	t->stats.evicted++;
	mark_dead(c, false);
	reap(t);
	return t->free_list != NULL;
}

/* Sets up the free slot c for the accepted fd from a. False (fd closed,
 * slot back on the free list) when it has no buffers or the loop
 * refused it. */
static bool conn_open(struct conn *c, int fd, const union wm_sockaddr *a,
		      uint64_t now)
{
	struct wm_relay_tcp *t = c->tcp;
	int one = 1;

	t->free_list = c->next;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&c->path, 0, sizeof(c->path));
	c->path.transport = WM_RELAY_TCP; /* until classify() knows */
	c->path.addr = *a;
	c->h = (struct wm_loop_handler){ fd, on_conn, t };
	c->in = malloc(IN_CAP);
	c->out = malloc(OUT_CAP);
	c->tls = NULL;
	c->kind = UNDECIDED;
	c->in_len = c->out_head = c->out_len = 0;
	c->dead = c->failed = c->queued = false;
	c->next_pending = NULL;
	c->accepted_ns = now;
	c->auth_ns = 0;
	c->events = EPOLLIN;
	c->path.conn = conn_id(c);
	if (!c->in || !c->out || wm_loop_add(t->loop, &c->h, EPOLLIN) < 0) {
		free(c->in);
		free(c->out);
		c->in = c->out = NULL;
		close(fd);
		c->next = t->free_list;
		t->free_list = c;
		return false;
	}
	c->used = true;
	{
		uint32_t *b = bucket_of(t, &c->path.addr);
		c->next_same = *b;
		*b = (uint32_t)(c - t->conns) + 1;
	}
	young_add(c);
	return true;
}

static void on_listen(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_relay_tcp *t = h->ctx;
	uint64_t now = wm_now_ns();
	bool asked = false;

	(void)events;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		union wm_sockaddr a;
		socklen_t alen = sizeof(a);
		int fd = accept4(t->fd, &a.sa, &alen, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		unmap(&a);
		/* The cap first: a newcomer it refuses evicts nobody. */
		if (t->lim.per_address && count_from(t, &a) >= t->lim.per_address) {
			t->stats.refused_per_address++;
			close(fd);
			continue;
		}
		if (!make_room(t, &asked)) {
			t->stats.refused_full++;
			close(fd);
			continue;
		}
		if (!conn_open(t->free_list, fd, &a, now)) {
			t->stats.refused_full++;
			continue;
		}
		t->stats.accepted++;
		t->stats.open++;
	}
}

static int listen_on(const char *text, char *err, size_t errlen)
{
	union wm_sockaddr a;
	int fd, one = 1, zero = 0;

	if (!wm_sockaddr_parse(&a, text)) {
		snprintf(err, errlen, "TCPListen '%s': not a numeric ip:port", text);
		return -EINVAL;
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, &a.sa, wm_sockaddr_len(&a)) < 0 || listen(fd, 512) < 0)
		goto fail;
	return fd;
fail:;
	int r = -errno;
	snprintf(err, errlen, "TCPListen %s: %s", text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int wm_relay_tcp_open(struct wm_relay_tcp **out, struct wm_loop *loop,
		      struct wm_relay *relay, const char *listen,
		      struct wm_tls_creds *creds,
		      const struct wm_relay_tcp_limits *lim,
		      char *err, size_t errlen)
{
	struct wm_relay_tcp *t = calloc(1, sizeof(*t));
	uint8_t seed[WM_RATELIMIT_SEED_SIZE];
	unsigned max_conns = lim->max_conns;
	int r;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	/* The seed keeps a sender from choosing addresses that share one
	 * chain of the limiter's table (wg/ratelimit.h). */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    wm_ratelimit_init(&t->tls_rate, 0, TLS_PER_SECOND, TLS_BURST,
			      seed) < 0) {
		snprintf(err, errlen, "TCPListen %s: no random seed", listen);
		free(t);
		return -EIO;
	}
	t->loop = loop;
	t->relay = relay;
	t->creds = creds;
	t->lim = *lim;
	t->fd = t->wake_fd = -1;
	t->cap = max_conns < 1 ? 1 : max_conns > MAX_CONNS ? MAX_CONNS : max_conns;
	t->n_buckets = 64;
	while (t->n_buckets < t->cap)
		t->n_buckets <<= 1;
	t->conns = calloc(t->cap, sizeof(*t->conns));
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	if (!t->conns || !t->buckets) {
		free(t->conns);
		free(t->buckets);
		wm_ratelimit_free(&t->tls_rate);
		free(t);
		return -ENOMEM;
	}
	for (unsigned i = t->cap; i-- > 0;) {
		t->conns[i].tcp = t;
		t->conns[i].gen = 1;
		t->conns[i].next = t->free_list;
		t->free_list = &t->conns[i];
	}
	t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->wake_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "TCPListen %s: eventfd: %s", listen,
			 strerror(errno));
		goto fail;
	}
	t->wake_h = (struct wm_loop_handler){ t->wake_fd, on_wake, t };
	r = wm_loop_add(loop, &t->wake_h, EPOLLIN);
	if (r < 0) {
		snprintf(err, errlen, "TCPListen %s: %s", listen, strerror(-r));
		close(t->wake_fd);
		t->wake_fd = -1;
		goto fail;
	}
	t->fd = listen_on(listen, err, errlen);
	if (t->fd < 0) {
		r = t->fd;
		goto fail;
	}
	t->h = (struct wm_loop_handler){ t->fd, on_listen, t };
	r = wm_loop_add(loop, &t->h, EPOLLIN);
	if (r < 0) {
		snprintf(err, errlen, "TCPListen %s: %s", listen, strerror(-r));
		close(t->fd);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	if (t->wake_fd >= 0) {
		wm_loop_del(loop, &t->wake_h);
		close(t->wake_fd);
	}
	free(t->conns);
	free(t->buckets);
	wm_ratelimit_free(&t->tls_rate);
	free(t);
	return r;
}

void wm_relay_tcp_close(struct wm_relay_tcp *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->cap; i++)
		if (t->conns[i].used && !t->conns[i].dead)
			mark_dead(&t->conns[i], false);
	reap(t);
	wm_loop_del(t->loop, &t->h);
	close(t->fd);
	wm_loop_del(t->loop, &t->wake_h);
	close(t->wake_fd);
	free(t->conns);
	free(t->buckets);
	wm_ratelimit_free(&t->tls_rate);
	free(t);
}

void wm_relay_tcp_set_creds(struct wm_relay_tcp *t, struct wm_tls_creds *creds)
{
	if (t)
		t->creds = creds;
}

void wm_relay_tcp_set_per_address(struct wm_relay_tcp *t, unsigned n)
{
	if (t)
		t->lim.per_address = n;
}

void wm_relay_tcp_tick(struct wm_relay_tcp *t, uint64_t now_ns)
{
	if (!t)
		return;
	/* In case the eventfd could not be written. What it serves is
	 * stamped with a clock read after now_ns, so the times below may be
	 * later than now_ns: wm_since, or a working client would look idle
	 * for centuries. */
	serve_pending(t);
	wm_ratelimit_gc(&t->tls_rate, now_ns);
	if (t->stats.open)
		wm_relay_conn_activity(t->relay, on_activity, t);
	for (unsigned i = 0; i < t->cap && t->stats.open; i++) {
		struct conn *c = &t->conns[i];

		if (!c->used || c->dead)
			continue;
		if (!c->auth_ns &&
		    wm_since(now_ns, c->accepted_ns) >= t->lim.handshake_ns) {
			t->stats.handshake_timeouts++;
			mark_dead(c, false);
		} else if (c->auth_ns &&
			   wm_since(now_ns, c->auth_ns) >= t->lim.idle_ns) {
			t->stats.idle_timeouts++;
			mark_dead(c, false);
		}
	}
	reap(t);
}

void wm_relay_tcp_get_stats(const struct wm_relay_tcp *t,
			    struct wm_relay_tcp_stats *out)
{
	if (t)
		*out = t->stats;
	else
		memset(out, 0, sizeof(*out));
}
