/* See uapi.h. */
#include "agent/uapi.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"
#include "netif/unix_listen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	MAX_CONNS = 32,     /* wg opens one at a time; this only stops floods */
	IDLE_S = 30,        /* a connection silent this long is closed, so
			     * idle clients cannot hold every slot */
	IN_MIN = 4096,
};

struct conn {
	struct wm_loop_handler h;
	struct wm_uapi *u;
	struct conn *next;
	char *in;              /* unprocessed request bytes */
	size_t in_len, in_cap;
	char *out;             /* one response being written */
	size_t out_len, out_off;
	uint32_t events;       /* what the loop watches for us */
	uint64_t active_ns;    /* accepted, or last woken by the loop */
	bool eof, dead;
};

struct wm_uapi {
	struct wm_loop *loop;
	struct wm_device *dev;
	struct wm_uapi_ops ops;
	struct wm_loop_handler listen_h;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct wm_unix_sock sock; /* to unlink only our own socket file */
	struct conn *conns;
	/* Closed connections wait here for the next tick: the loop may still
	 * hold an event for them in the batch it is dispatching. */
	struct conn *dead;
	unsigned n_conns;
	/* accept failed for want of fds or memory: the listener is not
	 * watched until the next tick (it stays readable: a level-triggered
	 * loop would spin on it) */
	bool listen_paused;
};

static void wipe_free(char *p, size_t cap)
{
	if (p)
		wm_memzero(p, cap);
	free(p);
}

static void drop_out(struct conn *c)
{
	wipe_free(c->out, c->out_len);
	c->out = NULL;
	c->out_len = c->out_off = 0;
}

static void kill_conn(struct conn *c)
{
	struct wm_uapi *u = c->u;

	if (c->dead)
		return;
	wm_loop_del(u->loop, &c->h);
	close(c->h.fd);
	c->h.fd = -1;
	c->dead = true;
	wipe_free(c->in, c->in_cap);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	drop_out(c);
	for (struct conn **pp = &u->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	u->n_conns--;
	c->next = u->dead;
	u->dead = c;
}

static void reap(void *ctx, uint64_t now_ns)
{
	struct wm_uapi *u = ctx;

	while (u->dead) {
		struct conn *c = u->dead;
		u->dead = c->next;
		free(c);
	}
	if (!now_ns)
		return; /* closing */
	/* Killed now, freed at the next tick (see dead). */
	for (struct conn *c = u->conns, *next; c; c = next) {
		next = c->next;
		if (wm_since(now_ns, c->active_ns) >= IDLE_S * WM_NSEC_PER_SEC)
			kill_conn(c);
	}
	if (u->listen_paused &&
	    wm_loop_mod(u->loop, &u->listen_h, EPOLLIN) == 0)
		u->listen_paused = false;
}

/* Reads until EAGAIN, EOF, or the buffer holds WM_UAPI_REQUEST_MAX bytes
 * (the rest waits in the socket). 0 or -errno. */
static int fill(struct conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t ncap = c->in_cap ? c->in_cap * 2 : IN_MIN;
			char *b;

			if (c->in_cap >= WM_UAPI_REQUEST_MAX)
				return 0;
			if (ncap > WM_UAPI_REQUEST_MAX)
				ncap = WM_UAPI_REQUEST_MAX;
			b = malloc(ncap);
			if (!b)
				return -ENOMEM;
			if (c->in)
				memcpy(b, c->in, c->in_len);
			wipe_free(c->in, c->in_cap);
			c->in = b;
			c->in_cap = ncap;
		}
		n = recv(c->h.fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	}
}

static int respond_errno(struct conn *c, int err)
{
	char buf[32];
	/* Negative on the wire, as wireguard-go sends it: wg negates the
	 * value of a failed set before printing strerror(). */
	int n = snprintf(buf, sizeof(buf), "errno=%d\n\n", -err);

	c->out = malloc((size_t)n);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, buf, (size_t)n);
	c->out_len = (size_t)n;
	c->out_off = 0;
	return 0;
}

static int answer_get(struct conn *c, bool clean)
{
	if (!clean) /* wireguard-go: "trailing character in UAPI get" */
		return respond_errno(c, EINVAL);
	c->out_len = wm_uapi_get(c->u->dev, &c->out);
	c->out_off = 0;
	return c->out ? 0 : respond_errno(c, ENOMEM);
}

static int answer_set(struct conn *c, char *body, size_t len)
{
	int err;

	/* A NUL would end the text early and hide the lines after it. */
	if (memchr(body, '\0', len))
		return respond_errno(c, EINVAL);
	body[len] = '\0';
	err = wm_uapi_set(c->u->dev, body, &c->u->ops);
	return respond_errno(c, err);
}

/* The first "\n\n" at or after from: the end of a request. */
static char *find_blank(char *p, size_t len, size_t from)
{
	for (size_t i = from; i + 1 < len; i++)
		if (p[i] == '\n' && p[i + 1] == '\n')
			return p + i;
	return NULL;
}

/* Takes one complete request off the input and queues its answer.
 * 1 when it did, 0 when none is complete, -errno to close. */
static int serve_one(struct conn *c)
{
	static const char get_op[] = "get=1\n", set_op[] = "set=1\n";
	const size_t op_len = sizeof(get_op) - 1;
	char *end, *nl;
	size_t used;
	int r;

	if (c->in_len == 0)
		return 0;
	nl = memchr(c->in, '\n', c->in_len);
	if (!nl)
		return c->in_len >= WM_UAPI_REQUEST_MAX ? -EMSGSIZE : 0;
	if ((size_t)(nl - c->in) + 1 != op_len ||
	    (memcmp(c->in, get_op, op_len) != 0 &&
	     memcmp(c->in, set_op, op_len) != 0))
		return -EPROTO; /* not an operation: wireguard-go hangs up */
	end = find_blank(c->in, c->in_len, op_len - 1);
	if (!end)
		return c->in_len >= WM_UAPI_REQUEST_MAX ? -EMSGSIZE : 0;
	used = (size_t)(end - c->in) + 2;
	if (c->in[0] == 'g')
		r = answer_get(c, used == op_len + 1);
	else
		r = answer_set(c, c->in + op_len, (size_t)(end + 1 - c->in) - op_len);
	if (r < 0)
		return r;
	memmove(c->in, c->in + used, c->in_len - used);
	wm_memzero(c->in + c->in_len - used, used);
	c->in_len -= used;
	return 1;
}

/* 0 when all is written or the rest must wait for EPOLLOUT, -errno. */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->h.fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
		}
		c->out_off += (size_t)n;
	}
	drop_out(c);
	return 0;
}

/* Answers requests one at a time: the next is read only once the last
 * answer is out, which bounds what a client that never reads can cost. */
static int work(struct conn *c)
{
	int r;

	for (;;) {
		if (c->out) {
			r = flush(c);
			if (r < 0 || c->out)
				return r;
		}
		r = serve_one(c);
		if (r <= 0)
			return r;
	}
}

static void on_conn(struct wm_loop_handler *h, uint32_t events)
{
	struct conn *c = h->ctx;
	uint32_t want;

	if (c->dead)
		return;
	c->active_ns = wm_now_ns();
	if (events & EPOLLERR)
		goto kill;
	if ((events & (EPOLLIN | EPOLLHUP)) && !c->out && !c->eof &&
	    fill(c) < 0)
		goto kill;
	if (work(c) < 0)
		goto kill;
	if (c->out)
		want = EPOLLOUT;
	else if (!c->eof)
		want = EPOLLIN;
	else
		goto kill; /* the client is done and has every answer */
	if (want != c->events) {
		if (wm_loop_mod(c->u->loop, &c->h, want) < 0)
			goto kill;
		c->events = want;
	}
	return;
kill:
	kill_conn(c);
}

static void on_listen(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_uapi *u = h->ctx;

	(void)events;
	for (;;) {
		struct conn *c;
		int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE ||
			     errno == ENOBUFS || errno == ENOMEM) &&
			    wm_loop_mod(u->loop, h, 0) == 0)
				u->listen_paused = true;
			return;
		}
		c = u->n_conns < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd);
			continue;
		}
		c->h = (struct wm_loop_handler){ fd, on_conn, c };
		c->u = u;
		c->events = EPOLLIN;
		c->active_ns = wm_now_ns();
		if (wm_loop_add(u->loop, &c->h, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = u->conns;
		u->conns = c;
		u->n_conns++;
	}
}

/* Our reap tick is removed by wm_uapi_close: it must not outlive u. */
int wm_uapi_open(struct wm_uapi **out, struct wm_loop *loop,
		 struct wm_device *dev, const char *ifname,
		 const struct wm_uapi_ops *ops)
{
	size_t len = strnlen(ifname, IFNAMSIZ);
	struct wm_uapi *u;
	int fd, r;

	*out = NULL;
	if (len == 0 || len >= IFNAMSIZ || strchr(ifname, '/'))
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->loop = loop;
	u->dev = dev;
	if (ops)
		u->ops = *ops;
	snprintf(u->path, sizeof(u->path), "%s/%s.sock", WM_UAPI_DIR, ifname);
	fd = wm_unix_listen(u->path, 0600, (gid_t)-1, 16, &u->sock);
	if (fd < 0) {
		free(u);
		return fd;
	}
	u->listen_h = (struct wm_loop_handler){ fd, on_listen, u };
	r = wm_loop_add(loop, &u->listen_h, EPOLLIN);
	if (r == 0) {
		r = wm_loop_add_tick(loop, reap, u);
		if (r < 0)
			wm_loop_del(loop, &u->listen_h);
	}
	if (r < 0) {
		wm_unix_unlink(u->path, &u->sock);
		close(fd);
		free(u);
		return r;
	}
	*out = u;
	return 0;
}

void wm_uapi_close(struct wm_uapi *u)
{
	if (!u)
		return;
	wm_loop_del_tick(u->loop, reap, u);
	while (u->conns)
		kill_conn(u->conns);
	reap(u, 0);
	wm_loop_del(u->loop, &u->listen_h);
	close(u->listen_h.fd);
	/* Another agent may have replaced a socket we thought stale. */
	wm_unix_unlink(u->path, &u->sock);
	free(u);
}
