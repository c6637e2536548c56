/* See server.h for the model (sockets, threads, limits). */
#include "api/server.h"
#include "api/browser.h"
#include "api/context.h"
#include "api/json.h"
#include "api/routes.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"
#include "netif/unix_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define API_GROUP "wiremesh"

/* Body bytes read (and dropped) past the limit before a 413: MHD 0.9 can
 * answer only once the upload ends, so a chunked body that is too large
 * is read to its end and then refused; one larger than this is cut off
 * (the connection closed) rather than read on. */
enum { WM_API_DRAIN_MAX = 16 << 20 };

/* A declared body over the limit: answered at once when the client waits
 * for "100 Continue" (it sends nothing more) or the body is past the
 * drain cap; else read and dropped first, since a client still sending
 * would have the answer lost under the connection's reset. */
static bool answer_413_now(struct MHD_Connection *c, unsigned long long len)
{
	const char *ex = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_EXPECT);

	return (ex && strcasecmp(ex, "100-continue") == 0) ||
	       len > WM_API_DRAIN_MAX;
}

/* How often a request waiting for something (a ping's PONGs) is looked
 * at: the resolution of the answer, not of the RTTs it reports. */
enum { WM_API_WAIT_POLL_MS = 10 };

struct wm_api_listener {
	struct wm_loop_handler h; /* MHD's epoll fd in our loop */
	struct MHD_Daemon *d;
	struct wm_api *api;
	bool tcp;                 /* the bearer token is required */
	bool in_loop;
};

/* All of it belongs to the control thread. */
struct wm_api {
	struct wm_api_ctx ctx; /* what the handlers see (routes.h) */
	struct wm_loop *loop;
	struct wm_api_listener unix_l, tcp_l;

	int timer_fd;
	struct wm_loop_handler timer_h;
	bool timer_in_loop;
	uint64_t next_keepalive_ns;

	char sock_path[WM_API_SOCKET_MAX];
	struct wm_unix_sock sock; /* to unlink only the socket we made */

	char token[WM_API_TOKEN_MAX];
	size_t token_len;

	bool started; /* wm_api_open succeeded */
};

/* ------------------------------------------------------------ unix socket */

static int unix_listen(struct wm_api *api, const char *path)
{
	struct group *gr = getgrnam(API_GROUP);
	int fd;

	fd = wm_unix_listen(path, gr ? 0660 : 0600, gr ? gr->gr_gid : (gid_t)-1,
			    64, &api->sock);
	if (fd < 0)
		return fd;
	snprintf(api->sock_path, sizeof(api->sock_path), "%s", path);
	if (api->sock.group_err)
		fprintf(stderr, "%s: group %s: %s; socket kept at 0600\n", path,
			API_GROUP, strerror(api->sock.group_err));
	return fd;
}

/* ------------------------------------------------------------- TCP + auth */

static bool loopback(const union wm_sockaddr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					    0xff, 0xff };
	const uint8_t *b;

	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->in.sin_addr.s_addr) >> 24) == 127;
	if (a->sa.sa_family != AF_INET6)
		return false;
	b = a->in6.sin6_addr.s6_addr;
	if (memcmp(b, mapped, 12) == 0)
		return b[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&a->in6.sin6_addr);
}

static int tcp_listen(const struct wm_config *cfg)
{
	union wm_sockaddr a;
	int fd, one = 1, r;

	if (!wm_sockaddr_parse(&a, cfg->api_listen)) {
		fprintf(stderr, "%s: APIListen: not a numeric ip:port: '%s'\n",
			cfg->path, cfg->api_listen);
		return -EINVAL;
	}
	if (!cfg->api_allow_remote && !loopback(&a)) {
		fprintf(stderr, "%s: APIListen: '%s' is not loopback (set "
				"APIAllowRemote = true)\n",
			cfg->path, cfg->api_listen);
		return -EINVAL;
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a.sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a.sa, wm_sockaddr_len(&a)) < 0 || listen(fd, 64) < 0) {
		r = -errno;
		fprintf(stderr, "%s: APIListen %s: %s\n", cfg->path,
			cfg->api_listen, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* Like a config holding a private key: the token grants the whole API,
 * so a file others may read is worth a warning (not a refusal: the
 * operator may have reasons, and the agent must still come up). */
static void warn_if_open(const struct wm_api *api, int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)))
		fprintf(stderr, "%s: warning: APITokenFile %s is readable by "
				"%s (mode %04o): it holds the API's bearer "
				"token; chmod 600 it\n",
			api->ctx.cfg->path, path,
			st.st_mode & S_IROTH ? "every user" : "its group",
			(unsigned)(st.st_mode & 07777));
}

/* The token file's contents with surrounding whitespace trimmed; one
 * token of visible ASCII, as a header can carry it. */
static int read_token(struct wm_api *api, const char *path)
{
	char buf[WM_API_TOKEN_MAX + 64];
	size_t start = 0, end;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fprintf(stderr, "%s: APITokenFile %s: %s\n", api->ctx.cfg->path,
			path, strerror(-r));
		return r == -ENOENT ? -EACCES : r;
	}
	warn_if_open(api, fd, path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		r = -errno;
		fprintf(stderr, "%s: APITokenFile %s: %s\n", api->ctx.cfg->path,
			path, strerror(-r));
		return r;
	}
	end = (size_t)n;
	while (start < end && strchr(" \t\r\n", buf[start]))
		start++;
	while (end > start && strchr(" \t\r\n", buf[end - 1]))
		end--;
	for (size_t i = start; i < end && r == 0; i++)
		if (buf[i] < 0x21 || buf[i] > 0x7e)
			r = -EINVAL;
	if (r == 0 && (end == start || end - start >= WM_API_TOKEN_MAX))
		r = -EINVAL;
	if (r == 0) {
		api->token_len = end - start;
		memcpy(api->token, buf + start, api->token_len);
	} else {
		fprintf(stderr, "%s: APITokenFile %s: needs one token of 1..%d "
				"visible ASCII characters\n",
			api->ctx.cfg->path, path, WM_API_TOKEN_MAX - 1);
	}
	wm_memzero(buf, sizeof(buf));
	return r;
}

static bool authorized(const struct wm_api *api, struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    "Authorization");
	uint8_t got[WM_API_TOKEN_MAX] = { 0 }, want[WM_API_TOKEN_MAX] = { 0 };
	size_t n;
	bool ok;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	n = strlen(h);
	if (n >= WM_API_TOKEN_MAX)
		return false;
	/* Fixed-size compare: the time says nothing about the token. */
	memcpy(got, h, n);
	memcpy(want, api->token, api->token_len);
	ok = wm_ct_memeq(got, want, sizeof(got)) & (n == api->token_len);
	wm_memzero(got, sizeof(got));
	wm_memzero(want, sizeof(want));
	return ok;
}

enum tcp_verdict { TCP_OK, TCP_BAD_HOST, TCP_CROSS_ORIGIN, TCP_NO_TOKEN };

/* What a browser may do on the TCP listener (api/browser.h): the Host
 * names this listener, a change comes from no other origin, and the
 * token (or, for the event stream, a session cookie) is there unless the
 * route is the page. The router's own answers (404, 405, 400) come after
 * these. */
static enum tcp_verdict tcp_checks(struct wm_api *api,
				   struct MHD_Connection *c, const char *method,
				   const struct wm_api_route *route)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_HOST);
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 "Origin");
	bool safe = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (!wm_browser_host_ok(host, api->ctx.cfg->api_listen))
		return TCP_BAD_HOST;
	if (!safe && !wm_browser_origin_ok(origin, host))
		return TCP_CROSS_ORIGIN;
	if (wm_api_route_public(route) || authorized(api, c))
		return TCP_OK;
	if (safe && wm_api_route_cookie(route) &&
	    wm_browser_session_ok(&api->ctx.sessions,
				  MHD_lookup_connection_value(
					  c, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_COOKIE),
				  wm_now_ns()))
		return TCP_OK;
	return TCP_NO_TOKEN;
}

static wm_mhd_result refuse_tcp(struct MHD_Connection *c, enum tcp_verdict v)
{
	switch (v) {
	case TCP_BAD_HOST:
		return wm_json_respond_error(
			c, 403, "the Host header must name this listener "
				"(its address or localhost, with the port)");
	case TCP_CROSS_ORIGIN:
		return wm_json_respond_error(
			c, 403, "a change must come from this listener's own "
				"origin (Origin header)");
	case TCP_OK:
	case TCP_NO_TOKEN:
		break;
	}
	return wm_json_respond_error_hdr(
			c, 401, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			"Bearer realm=\"wiremesh\"",
			"a valid 'Authorization: Bearer' token is required");
}

/* ---------------------------------------------------------- MHD plumbing */

static wm_mhd_result handle(void *cls, struct MHD_Connection *c,
			    const char *url, const char *method,
			    const char *version, const char *upload,
			    size_t *upload_size, void **con_cls)
{
	struct wm_api_listener *l = cls;
	struct wm_api *api = l->api;
	struct wm_api_request *r = *con_cls;
	char allow[64];
	unsigned st;

	(void)version;
	if (!r) {
		const char *cl;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->done = true; /* unless it passes every check below */
		r->route = wm_api_route_match(method, url, r->key, &st, allow,
					      sizeof(allow));
		if (l->tcp) {
			enum tcp_verdict v = tcp_checks(api, c, method,
							r->route);
			if (v != TCP_OK)
				return refuse_tcp(c, v);
		}
		if (!r->route) {
			if (st == 405)
				return wm_json_respond_error_hdr(
					c, 405, MHD_HTTP_HEADER_ALLOW, allow,
					"%s is not allowed on %s (allowed: %s)",
					method, url, allow);
			if (st == 400)
				return wm_json_respond_error(
					c, 400, "the URL does not hold a peer "
						"key (base64url, or "
						"percent-encoded base64)");
			return wm_json_respond_error(c, 404, "no such resource: "
							     "%s", url);
		}
		if (r->route->has_body) {
			const char *ct = MHD_lookup_connection_value(
				c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_CONTENT_TYPE);
			if (!wm_json_media_type_ok(ct))
				return wm_json_respond_error(
					c, 415, "the body must be "
						"application/json, not '%s'",
					ct ? ct : "(none)");
			cl = MHD_lookup_connection_value(
				c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl && strtoull(cl, NULL, 10) > WM_JSON_BODY_MAX) {
				if (answer_413_now(c, strtoull(cl, NULL, 10)))
					return wm_json_respond_error(
						c, 413, "the body exceeds %d bytes",
						WM_JSON_BODY_MAX);
				r->too_large = true; /* drained, below */
			}
		}
		r->done = false;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (r->done || !r->route->has_body)
			return MHD_YES;
		if (r->too_large || r->len + n > WM_JSON_BODY_MAX) {
			/* A chunked or lying upload. MHD takes no answer
			 * mid-upload, so drain it and answer 413 at the end;
			 * past a hard cap, close instead of reading on. */
			r->too_large = true;
			r->drained += n;
			return r->drained > WM_API_DRAIN_MAX ? MHD_NO : MHD_YES;
		}
		if (r->len + n > r->cap) {
			size_t cap = r->cap ? r->cap : 1024;
			char *b;
			while (cap < r->len + n)
				cap *= 2;
			/* Not realloc: the old copy may hold a key, and
			 * must be wiped before it is freed. */
			b = malloc(cap);
			if (!b)
				return MHD_NO;
			if (r->body) {
				memcpy(b, r->body, r->len);
				wm_memzero(r->body, r->cap);
				free(r->body);
			}
			r->body = b;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, n);
		r->len += n;
		return MHD_YES;
	}
	if (r->resume) { /* resumed after waiting (context.h) */
		wm_mhd_result (*fn)(struct wm_api_ctx *, struct MHD_Connection *,
				    struct wm_api_request *) = r->resume;
		r->resume = NULL;
		return fn(&api->ctx, c, r);
	}
	if (r->done)
		return MHD_YES;
	r->done = true;
	if (r->too_large)
		return wm_json_respond_error(c, 413, "the body exceeds %d bytes",
					     WM_JSON_BODY_MAX);
	return r->route->fn(&api->ctx, c, r);
}

static void unwait(struct wm_api_ctx *ctx, struct wm_api_request *r)
{
	for (struct wm_api_request **pp = &ctx->waiting; *pp;
	     pp = &(*pp)->next_waiting) {
		if (*pp == r) {
			*pp = r->next_waiting;
			break;
		}
	}
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct wm_api_listener *l = cls;
	struct wm_api_request *r = *con_cls;

	(void)c;
	(void)toe;
	if (!r)
		return;
	unwait(&l->api->ctx, r);
	if (r->cleanup)
		r->cleanup(&l->api->ctx, r);
	if (r->body)
		wm_memzero(r->body, r->cap); /* it may hold a preshared key */
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* Keep the URL as it came: MHD would turn %2F into '/' and so split a
 * percent-encoded base64 key into two path segments. The router decodes
 * the key segment itself. */
static size_t raw_url(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* Only while starting: later messages are about single client
 * connections (a client that left mid-stream, a broken request), which
 * are the client's business and would flood the agent's log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct wm_api *api = cls;

	if (api->started)
		return;
	fprintf(stderr, "%s: api: ", api->ctx.dev->ifname);
	vfprintf(stderr, fmt, ap);
}

/* Re-arms the timerfd to MHD's next deadline (0 = at once) or the next
 * event-stream keepalive, whichever comes first. */
static void arm(struct wm_api *api)
{
	struct wm_api_listener *ls[2] = { &api->unix_l, &api->tcp_l };
	struct itimerspec its = { 0 };
	uint64_t ms = UINT64_MAX;

	for (int i = 0; i < 2; i++) {
		MHD_UNSIGNED_LONG_LONG t;
		if (ls[i]->d && MHD_get_timeout(ls[i]->d, &t) == MHD_YES &&
		    t < ms)
			ms = t;
	}
	/* Waiting requests are looked at every WM_API_WAIT_POLL_MS. */
	if (api->ctx.waiting && ms > WM_API_WAIT_POLL_MS)
		ms = WM_API_WAIT_POLL_MS;
	if (api->ctx.wake) { /* a handler queued events for a stream */
		api->ctx.wake = false;
		ms = 0;
	}
	if (api->ctx.events.n_clients) {
		uint64_t now = wm_now_ns(), k;
		if (!api->next_keepalive_ns)
			api->next_keepalive_ns =
				now + WM_EVENTS_KEEPALIVE_S * 1000000000ULL;
		k = api->next_keepalive_ns > now
			    ? (api->next_keepalive_ns - now) / 1000000 + 1
			    : 0;
		if (k < ms)
			ms = k;
	} else {
		api->next_keepalive_ns = 0;
	}
	if (ms == 0) {
		its.it_value.tv_nsec = 1;
	} else if (ms != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	}
	timerfd_settime(api->timer_fd, 0, &its, NULL);
}

/* Runs MHD at the loop's next turn. An event published outside MHD_run()
 * resumes a parked stream, and MHD then has work its epoll fd may never
 * signal. */
static void kick(struct wm_api *api)
{
	struct itimerspec its = { .it_value.tv_nsec = 1 };

	timerfd_settime(api->timer_fd, 0, &its, NULL);
}

static void run_all(struct wm_api *api)
{
	if (api->unix_l.d)
		MHD_run(api->unix_l.d);
	if (api->tcp_l.d)
		MHD_run(api->tcp_l.d);
}

static void on_mhd(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_api_listener *l = h->ctx;

	(void)events;
	MHD_run(l->d);
	arm(l->api);
}

/* Resumes the waiting requests that are ready or out of time (all of
 * them when closing); MHD then calls their resume(). */
static void resume_waiting(struct wm_api *api, bool all)
{
	uint64_t now = wm_now_ns();
	struct wm_api_request **pp = &api->ctx.waiting;

	while (*pp) {
		struct wm_api_request *r = *pp;

		if (all || now >= r->deadline_ns ||
		    (r->ready && r->ready(&api->ctx, r))) {
			*pp = r->next_waiting;
			r->next_waiting = NULL;
			MHD_resume_connection(r->conn);
		} else {
			pp = &r->next_waiting;
		}
	}
}

static void on_timer(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_api *api = h->ctx;
	uint64_t expirations, now = wm_now_ns();

	(void)events;
	if (read(api->timer_fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		return;
	if (api->next_keepalive_ns && now >= api->next_keepalive_ns) {
		wm_events_keepalive(&api->ctx.events);
		api->next_keepalive_ns =
			now + WM_EVENTS_KEEPALIVE_S * 1000000000ULL;
	}
	resume_waiting(api, false);
	run_all(api);
	arm(api);
}

static int start_daemon(struct wm_api *api, struct wm_api_listener *l, int fd,
			bool tcp)
{
	const union MHD_DaemonInfo *info;
	int r;

	l->api = api;
	l->tcp = tcp;
	/* No internal thread: MHD_USE_EPOLL alone is the external epoll
	 * mode. Suspend/resume parks idle event streams. */
	l->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
		NULL, NULL, handle, l,
		/* First, so that MHD's own option errors come through it. */
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, api,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)WM_API_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WM_API_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, completed, l,
		MHD_OPTION_UNESCAPE_CALLBACK, raw_url, NULL,
		MHD_OPTION_END);
	if (!l->d) {
		close(fd);
		return -EIO;
	}
	info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0)
		return -EIO;
	l->h = (struct wm_loop_handler){ info->epoll_fd, on_mhd, l };
	r = wm_loop_add(api->loop, &l->h, EPOLLIN);
	l->in_loop = r == 0;
	return r;
}

/* ---------------------------------------------------------------- public */

int wm_api_open(struct wm_api **out, struct wm_loop *loop,
		struct wm_device *dev, const struct wm_config *cfg,
		const struct wm_api_ops *ops)
{
	struct wm_api *api;
	const char *where;
	int r, fd;

	*out = NULL;
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->loop = loop;
	api->ctx.dev = dev;
	api->ctx.cfg = cfg;
	if (ops)
		api->ctx.ops = *ops;
	api->timer_fd = -1;
	wm_events_init(&api->ctx.events);

	if (cfg->api_listen[0]) {
		if (!cfg->api_token_file[0]) {
			fprintf(stderr, "%s: APIListen needs APITokenFile\n",
				cfg->path);
			r = -EACCES;
			goto fail;
		}
		r = read_token(api, cfg->api_token_file);
		if (r < 0)
			goto fail;
	}
	api->timer_fd = timerfd_create(CLOCK_MONOTONIC,
				       TFD_NONBLOCK | TFD_CLOEXEC);
	if (api->timer_fd < 0) {
		r = -errno;
		goto fail;
	}
	api->timer_h = (struct wm_loop_handler){ api->timer_fd, on_timer, api };
	r = wm_loop_add(loop, &api->timer_h, EPOLLIN);
	if (r < 0)
		goto fail;
	api->timer_in_loop = true;

	where = cfg->api_socket[0] ? cfg->api_socket : NULL;
	if (!where) {
		fprintf(stderr, "%s: no API socket path\n", cfg->path);
		r = -EINVAL;
		goto fail;
	}
	fd = unix_listen(api, where);
	if (fd < 0) {
		r = fd;
		fprintf(stderr, "%s: API socket %s: %s\n", cfg->path, where,
			r == -EADDRINUSE ? "in use by a running agent"
			: r == -EEXIST	 ? "something that is not a socket is "
					   "there (not replacing it)"
					 : strerror(-r));
		goto fail;
	}
	r = start_daemon(api, &api->unix_l, fd, false);
	if (r < 0) {
		fprintf(stderr, "%s: API on %s: cannot start the HTTP server\n",
			cfg->path, where);
		goto fail;
	}
	if (cfg->api_listen[0]) {
		fd = tcp_listen(cfg);
		if (fd < 0) {
			r = fd;
			goto fail;
		}
		r = start_daemon(api, &api->tcp_l, fd, true);
		if (r < 0) {
			fprintf(stderr, "%s: API on %s: cannot start the HTTP "
					"server\n",
				cfg->path, cfg->api_listen);
			goto fail;
		}
	}
	arm(api);
	api->started = true;
	*out = api;
	return 0;
fail:
	wm_api_close(api);
	return r;
}

static void stop_listener(struct wm_api *api, struct wm_api_listener *l)
{
	if (!l->d)
		return;
	if (l->in_loop)
		wm_loop_del(api->loop, &l->h);
	MHD_stop_daemon(l->d);
	l->d = NULL;
}

void wm_api_close(struct wm_api *api)
{
	if (!api)
		return;
	/* Let open event streams end cleanly before the daemons go; MHD
	 * cannot stop with a connection still suspended. */
	wm_events_close_all(&api->ctx.events);
	resume_waiting(api, true);
	for (int i = 0; i < 3 && api->ctx.events.n_clients; i++)
		run_all(api);
	stop_listener(api, &api->unix_l);
	stop_listener(api, &api->tcp_l);
	if (api->timer_in_loop)
		wm_loop_del(api->loop, &api->timer_h);
	if (api->timer_fd >= 0)
		close(api->timer_fd);
	/* Only our own socket: a newer agent may have replaced it. */
	if (api->sock_path[0])
		wm_unix_unlink(api->sock_path, &api->sock);
	wm_memzero(api->token, sizeof(api->token));
	free(api);
}

void wm_api_event(struct wm_api *api, const char *type, json_t *data)
{
	if (!api) {
		json_decref(data);
		return;
	}
	wm_api_ctx_event(&api->ctx, type, data);
	if (api->ctx.wake)
		kick(api);
}

void wm_api_peer_event(struct wm_api *api, const char *type,
		       const struct wm_peer *p)
{
	if (!api)
		return;
	wm_api_ctx_peer_event(&api->ctx, type, p);
	if (api->ctx.wake)
		kick(api);
}
