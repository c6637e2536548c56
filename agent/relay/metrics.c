/* See relay/metrics.h. */
#include "agent/relay/metrics.h"
#include "agent/wg/clock.h"
#include "netif/addr.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS 1000000000ULL
enum { BODY_MAX = 64 * 1024, HEAD_MAX = 256 };

struct mconn {
	struct wm_loop_handler h;
	struct wm_relay_metrics *m;
	bool used;
	bool draining; /* answered: reading what is left until the EOF */
	uint64_t opened_ns;
	char req[WM_RELAY_METRICS_REQ_MAX];
	size_t req_len;
	char *out; /* the whole answer, once the request is complete */
	size_t out_len, out_off;
};

struct wm_relay_metrics {
	struct wm_loop *loop;
	struct wm_loop_handler h;
	bool accepting;
	uint64_t started_ns;
	wm_relay_metrics_snapshot_fn *snapshot;
	void *ctx;
	struct mconn conns[WM_RELAY_METRICS_CONNS];
};

/* ------------------------------------------------------------ the text */

struct text {
	char *buf;
	size_t cap, len;
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->len < t->cap ? t->buf + t->len : NULL,
		      t->len < t->cap ? t->cap - t->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n;
}

static void family(struct text *t, const char *name, const char *type,
		   const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct text *t, const char *name, const char *type,
		const char *help, uint64_t v)
{
	family(t, name, type, help);
	put(t, "%s %llu\n", name, (unsigned long long)v);
}

size_t wm_relay_metrics_render(char *buf, size_t cap,
			       const struct wm_relay_counters *k,
			       const struct wm_relay_tcp_stats *ts,
			       uint64_t uptime_s)
{
	struct text t = { buf, cap, 0 };

	if (cap)
		buf[0] = '\0';
	one(&t, "wiremesh_relay_uptime_seconds", "gauge",
	    "Seconds since the relay started.", uptime_s);
	family(&t, "wiremesh_relay_clients", "gauge",
	       "Clients with a session now, by transport.");
	for (int i = 0; i < WM_RELAY_TRANSPORTS; i++)
		put(&t, "wiremesh_relay_clients{transport=\"%s\"} %llu\n",
		    wm_relay_transport_name((enum wm_relay_transport)i),
		    (unsigned long long)k->clients[i]);
	one(&t, "wiremesh_relay_handshakes_total", "counter",
	    "Initiations answered.", k->handshakes);
	one(&t, "wiremesh_relay_cookie_replies_total", "counter",
	    "Cookie replies sent under load.", k->cookie_replies);
	one(&t, "wiremesh_relay_stun_requests_total", "counter",
	    "STUN Binding requests answered.", k->stun_requests);
	one(&t, "wiremesh_relay_pings_total", "counter",
	    "Relay PINGs answered.", k->pings);
	one(&t, "wiremesh_relay_forwarded_frames_total", "counter",
	    "Frames forwarded between clients.", k->frames_forwarded);
	one(&t, "wiremesh_relay_forwarded_bytes_total", "counter",
	    "Bytes of frame bodies forwarded.", k->bytes_forwarded);
	one(&t, "wiremesh_relay_gone_sent_total", "counter",
	    "GONE answers for offline or unknown destinations.", k->gone_sent);
	one(&t, "wiremesh_relay_unknown_session_sent_total", "counter",
	    "Unknown-session answers sent.", k->unknown_session_sent);
	family(&t, "wiremesh_relay_dropped_total", "counter",
	       "Datagrams or frames dropped, by reason.");
	for (int i = 0; i < WM_RELAY_DROP_MAX; i++)
		put(&t, "wiremesh_relay_dropped_total{reason=\"%s\"} %llu\n",
		    wm_relay_drop_name((enum wm_relay_drop)i),
		    (unsigned long long)k->drops[i]);
	one(&t, "wiremesh_relay_tcp_connections", "gauge",
	    "TCP/TLS connections open now.", ts->open);
	one(&t, "wiremesh_relay_tcp_accepted_total", "counter",
	    "TCP/TLS connections accepted.", ts->accepted);
	family(&t, "wiremesh_relay_tcp_refused_total", "counter",
	       "TCP connections closed at once, by reason.");
	put(&t, "wiremesh_relay_tcp_refused_total{reason=\"full\"} %llu\n"
		"wiremesh_relay_tcp_refused_total{reason=\"per_address\"} %llu\n"
		"wiremesh_relay_tcp_refused_total{reason=\"tls_without_cert\"} %llu\n"
		"wiremesh_relay_tcp_refused_total{reason=\"tls_rate\"} %llu\n",
	    (unsigned long long)ts->refused_full,
	    (unsigned long long)ts->refused_per_address,
	    (unsigned long long)ts->tls_refused,
	    (unsigned long long)ts->tls_rate_limited);
	family(&t, "wiremesh_relay_tcp_closed_total", "counter",
	       "TCP/TLS connections closed by the relay, by reason.");
	put(&t, "wiremesh_relay_tcp_closed_total{reason=\"handshake_timeout\"} %llu\n"
		"wiremesh_relay_tcp_closed_total{reason=\"idle_timeout\"} %llu\n"
		"wiremesh_relay_tcp_closed_total{reason=\"evicted\"} %llu\n"
		"wiremesh_relay_tcp_closed_total{reason=\"error\"} %llu\n",
	    (unsigned long long)ts->handshake_timeouts,
	    (unsigned long long)ts->idle_timeouts,
	    (unsigned long long)ts->evicted,
	    (unsigned long long)ts->closed_errors);
	return t.len;
}

/* ------------------------------------------------------- the responder */

static void conn_close(struct mconn *c)
{
	struct wm_relay_metrics *m = c->m;

	wm_loop_del(m->loop, &c->h);
	close(c->h.fd);
	free(c->out);
	c->out = NULL;
	c->used = false;
	if (!m->accepting && wm_loop_mod(m->loop, &m->h, EPOLLIN) == 0)
		m->accepting = true;
}

/* An answer with a body (text/plain), then the connection closes. */
static void answer(struct mconn *c, const char *status, const char *body,
		   size_t body_len)
{
	const char *type = strncmp(status, "200", 3) == 0
				   ? "text/plain; version=0.0.4; charset=utf-8"
				   : "text/plain; charset=utf-8";

	c->out = malloc(HEAD_MAX + body_len);
	if (!c->out) {
		conn_close(c);
		return;
	}
	c->out_len = (size_t)snprintf(c->out, HEAD_MAX,
				      "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
				      "Content-Length: %zu\r\n"
				      "Connection: close\r\n\r\n",
				      status, type, body_len);
	memcpy(c->out + c->out_len, body, body_len);
	c->out_len += body_len;
	c->out_off = 0;
	wm_loop_mod(c->m->loop, &c->h, EPOLLOUT);
}

static void answer_metrics(struct mconn *c)
{
	struct wm_relay_metrics *m = c->m;
	struct wm_relay_counters k;
	struct wm_relay_tcp_stats ts;
	char *body = malloc(BODY_MAX);
	size_t n;

	if (!body) {
		conn_close(c);
		return;
	}
	memset(&k, 0, sizeof(k));
	memset(&ts, 0, sizeof(ts));
	m->snapshot(m->ctx, &k, &ts);
	n = wm_relay_metrics_render(body, BODY_MAX, &k, &ts,
				    (wm_now_ns() - m->started_ns) / NS);
	if (n >= BODY_MAX)
		answer(c, "500 Internal Server Error", "too long\n", 9);
	else
		answer(c, "200 OK", body, n);
	free(body);
}

/* The request line of a complete head: GET /metrics (a query is fine). */
static void route(struct mconn *c)
{
	const char *r = c->req;
	size_t sp = strcspn(r, " \r\n");

	if (sp != 3 || strncmp(r, "GET", 3) != 0) {
		answer(c, "405 Method Not Allowed", "only GET\n", 9);
		return;
	}
	r += 4;
	if (strncmp(r, "/metrics", 8) == 0 &&
	    (r[8] == ' ' || r[8] == '?'))
		answer_metrics(c);
	else
		answer(c, "404 Not Found", "not found: try /metrics\n", 24);
}

static void on_readable(struct mconn *c)
{
	ssize_t n = recv(c->h.fd, c->req + c->req_len,
			 sizeof(c->req) - 1 - c->req_len, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n < 0)
		return;
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		route(c);
	else if (c->req_len == sizeof(c->req) - 1)
		answer(c, "431 Request Header Fields Too Large", "too large\n", 10);
}

static void on_writable(struct mconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->h.fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off < c->out_len) {
		conn_close(c);
		return;
	}
	/* A close with unread bytes would reset the connection and could
	 * destroy the answer before the client reads it: half-close, and
	 * read until the client closes (or the tick's timeout). */
	shutdown(c->h.fd, SHUT_WR);
	free(c->out);
	c->out = NULL;
	c->draining = true;
	wm_loop_mod(c->m->loop, &c->h, EPOLLIN);
}

static void drain(struct mconn *c)
{
	char buf[512];
	ssize_t n = recv(c->h.fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

static void on_conn(struct wm_loop_handler *h, uint32_t events)
{
	struct mconn *c = (struct mconn *)h;

	if (c->out)
		on_writable(c);
	else if (c->draining)
		drain(c);
	else if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
}

static void on_listen(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_relay_metrics *m = h->ctx;

	(void)events;
	for (;;) {
		struct mconn *c = NULL;
		int fd;

		for (size_t i = 0; i < WM_RELAY_METRICS_CONNS && !c; i++)
			if (!m->conns[i].used)
				c = &m->conns[i];
		if (!c) {
			/* Full: the rest wait in the backlog until one closes. */
			if (wm_loop_mod(m->loop, &m->h, 0) == 0)
				m->accepting = false;
			return;
		}
		fd = accept4(m->h.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c->h = (struct wm_loop_handler){ fd, on_conn, m };
		c->m = m;
		c->req_len = 0;
		c->out = NULL;
		c->draining = false;
		c->opened_ns = wm_now_ns();
		if (wm_loop_add(m->loop, &c->h, EPOLLIN) < 0) {
			close(fd);
			continue;
		}
		c->used = true;
	}
}

int wm_relay_metrics_open(struct wm_relay_metrics **out, struct wm_loop *loop,
			  const char *listen_text,
			  wm_relay_metrics_snapshot_fn *snapshot, void *ctx,
			  char *err, size_t errlen)
{
	struct wm_relay_metrics *m;
	union wm_sockaddr a;
	int fd, r, one = 1;

	*out = NULL;
	if (!wm_sockaddr_parse(&a, listen_text)) {
		snprintf(err, errlen, "MetricsListen '%s': not a numeric ip:port",
			 listen_text);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.sa, wm_sockaddr_len(&a)) < 0 || listen(fd, 16) < 0)
		goto fail;
	m->loop = loop;
	m->snapshot = snapshot;
	m->ctx = ctx;
	m->started_ns = wm_now_ns();
	m->h = (struct wm_loop_handler){ fd, on_listen, m };
	r = wm_loop_add(loop, &m->h, EPOLLIN);
	if (r < 0) {
		errno = -r;
		goto fail;
	}
	m->accepting = true;
	*out = m;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "MetricsListen %s: %s", listen_text, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(m);
	return r;
}

void wm_relay_metrics_close(struct wm_relay_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < WM_RELAY_METRICS_CONNS; i++)
		if (m->conns[i].used)
			conn_close(&m->conns[i]);
	wm_loop_del(m->loop, &m->h);
	close(m->h.fd);
	free(m);
}

void wm_relay_metrics_tick(struct wm_relay_metrics *m, uint64_t now_ns)
{
	if (!m)
		return;
	for (size_t i = 0; i < WM_RELAY_METRICS_CONNS; i++)
		if (m->conns[i].used &&
		    now_ns - m->conns[i].opened_ns >=
			    WM_RELAY_METRICS_TIMEOUT_S * NS)
			conn_close(&m->conns[i]);
}
