/* See uapi.h. */
#include "agent/uapi.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	LINE_MAX_LEN = 512, /* longer than any valid line: hex keys, [v6]:port */
	MAX_CONNS = 32,     /* wg opens one at a time; this only stops floods */
	IN_MIN = 4096,
};

/* ---- get ---- */

/* A growing text buffer. It may hold the private key, so an outgrown
 * block is wiped before it is freed. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static bool reserve(struct text *t, size_t more)
{
	size_t ncap = t->cap ? t->cap : 1024;
	char *n;

	if (t->len + more < t->cap)
		return true;
	while (ncap <= t->len + more)
		ncap *= 2;
	n = malloc(ncap);
	if (!n)
		return false;
	if (t->buf) {
		memcpy(n, t->buf, t->len);
		wm_memzero(t->buf, t->cap);
		free(t->buf);
	}
	t->buf = n;
	t->cap = ncap;
	return true;
}

__attribute__((format(printf, 2, 3)))
static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(t, (size_t)n + 1)) {
		t->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static void put_key(struct text *t, const char *name, const uint8_t key[32])
{
	char hex[WM_KEY_HEX_LEN + 1];

	wm_key_to_hex(hex, key);
	put(t, "%s=%s\n", name, hex);
	wm_memzero(hex, sizeof(hex));
}

static void put_allowed_ips(struct text *t, struct wm_device *dev,
			    struct wm_peer *p)
{
	size_t n = wm_allowedips_list(&dev->allowedips, p, NULL, 0);
	struct wm_cidr *list;
	char buf[WM_CIDR_STRLEN];

	if (n == 0)
		return;
	list = calloc(n, sizeof(*list));
	if (!list) {
		t->failed = true;
		return;
	}
	n = wm_allowedips_list(&dev->allowedips, p, list, n);
	for (size_t i = 0; i < n; i++)
		put(t, "allowed_ip=%s\n", wm_cidr_format(buf, sizeof(buf), &list[i]));
	free(list);
}

static void put_peer(struct text *t, struct wm_device *dev, struct wm_peer *p)
{
	char buf[WM_SOCKADDR_STRLEN];

	put_key(t, "public_key", p->public_key);
	/* wg prints "(none)" for a missing key; an all-zero one means none. */
	if (!wm_ct_is_zero(p->noise.preshared_key, WM_KEY_SIZE))
		put_key(t, "preshared_key", p->noise.preshared_key);
	put(t, "protocol_version=1\n");
	if (p->endpoint.sa.sa_family != AF_UNSPEC)
		put(t, "endpoint=%s\n",
		    wm_sockaddr_format(buf, sizeof(buf), &p->endpoint));
	put(t, "last_handshake_time_sec=%" PRIu64 "\n", p->last_handshake_sec);
	put(t, "last_handshake_time_nsec=%" PRIu64 "\n", p->last_handshake_nsec);
	put(t, "tx_bytes=%" PRIu64 "\n", p->tx_bytes);
	put(t, "rx_bytes=%" PRIu64 "\n", p->rx_bytes);
	put(t, "persistent_keepalive_interval=%u\n",
	    (unsigned)p->persistent_keepalive);
	put_allowed_ips(t, dev, p);
}

size_t wm_uapi_get(struct wm_device *dev, char **out)
{
	struct text t = { 0 };

	if (dev->has_private_key)
		put_key(&t, "private_key", dev->local.private_key);
	put(&t, "listen_port=%u\n", (unsigned)dev->listen_port);
	if (dev->fwmark)
		put(&t, "fwmark=%" PRIu32 "\n", dev->fwmark);
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		put_peer(&t, dev, p);
	put(&t, "errno=0\n\n");
	if (t.failed) {
		if (t.buf)
			wm_memzero(t.buf, t.cap);
		free(t.buf);
		*out = NULL;
		return 0;
	}
	*out = t.buf;
	return t.len;
}

/* ---- set ---- */

struct set_state {
	struct wm_device *dev;
	const struct wm_uapi_ops *ops;
	bool in_peer;          /* a public_key line was seen */
	struct wm_peer *peer;  /* NULL in a section that is ignored */
	bool created;          /* this section's public_key added the peer */
	bool changed;
};

/* The device has no identity any more: sessions made with the old key
 * drop, and no handshake starts until a new key is set (handshake.c
 * checks has_private_key). wm_device_set_private_key cannot express this. */
/* Applied to the open socket at once; a later rebind reads dev->fwmark. */
static int set_fwmark(struct wm_device *dev, uint32_t mark)
{
	if (dev->udp.fd >= 0 &&
	    setsockopt(dev->udp.fd, SOL_SOCKET, SO_MARK, &mark,
		       sizeof(mark)) < 0)
		return errno;
	dev->fwmark = mark;
	return 0;
}

static int device_line(struct set_state *s, const char *key, const char *val)
{
	struct wm_device *dev = s->dev;
	uint8_t k[WM_KEY_SIZE];
	uint16_t port;
	uint32_t mark;
	int r;

	if (strcmp(key, "private_key") == 0) {
		/* Empty or all zeros removes the key, as in wireguard-go. */
		if (*val == '\0')
			memset(k, 0, sizeof(k));
		else if (!wm_key_from_hex(k, val))
			return EINVAL;
		if (wm_ct_is_zero(k, sizeof(k)))
			wm_device_clear_private_key(dev);
		else
			wm_device_set_private_key(dev, k);
		wm_memzero(k, sizeof(k));
		s->changed = true;
		return 0;
	}
	if (strcmp(key, "listen_port") == 0) {
		if (!wm_parse_port(&port, val))
			return EINVAL;
		s->changed = true;
		if (s->ops && s->ops->set_listen_port) {
			r = s->ops->set_listen_port(s->ops->ctx, port);
			return r < 0 ? -r : 0;
		}
		dev->listen_port = port;
		return 0;
	}
	if (strcmp(key, "fwmark") == 0) {
		if (!wm_parse_fwmark(&mark, val))
			return EINVAL;
		s->changed = true;
		return set_fwmark(dev, mark);
	}
	if (strcmp(key, "replace_peers") == 0) {
		if (strcmp(val, "true") != 0)
			return EINVAL;
		wm_device_remove_all_peers(dev);
		s->changed = true;
		return 0;
	}
	return EINVAL;
}

static int public_key_line(struct set_state *s, const char *val)
{
	struct wm_device *dev = s->dev;
	uint8_t k[WM_KEY_SIZE];
	bool own;

	if (!wm_key_from_hex(k, val))
		return EINVAL;
	s->in_peer = true;
	s->created = false;
	/* Our own key opens a section that is parsed but not applied; with
	 * no private key, "our" public key is all zeros (wireguard-go). */
	own = dev->has_private_key ?
		      memcmp(k, dev->local.public_key, WM_KEY_SIZE) == 0 :
		      wm_ct_is_zero(k, WM_KEY_SIZE);
	if (own) {
		s->peer = NULL;
		return 0;
	}
	s->peer = wm_device_find_peer(dev, k);
	if (!s->peer) {
		s->peer = wm_device_add_peer(dev, k);
		if (!s->peer)
			return errno ? errno : ENOMEM;
		s->created = true;
		s->changed = true;
	}
	return 0;
}

static int peer_line(struct set_state *s, const char *key, const char *val)
{
	struct wm_device *dev = s->dev;
	struct wm_peer *p = s->peer;
	uint8_t k[WM_KEY_SIZE];
	union wm_sockaddr ep;
	struct wm_cidr c;
	uint16_t secs;
	int r;

	if (strcmp(key, "update_only") == 0) {
		if (strcmp(val, "true") != 0)
			return EINVAL;
		if (p && s->created) {
			wm_device_remove_peer(dev, p);
			s->peer = NULL;
		}
		return 0;
	}
	if (strcmp(key, "remove") == 0) {
		if (strcmp(val, "true") != 0)
			return EINVAL;
		if (p) {
			wm_device_remove_peer(dev, p);
			s->peer = NULL;
			s->changed = true;
		}
		return 0;
	}
	if (strcmp(key, "preshared_key") == 0) {
		if (!wm_key_from_hex(k, val))
			return EINVAL;
		if (p) {
			wm_peer_set_psk(p, wm_ct_is_zero(k, sizeof(k)) ? NULL : k);
			s->changed = true;
		}
		wm_memzero(k, sizeof(k));
		return 0;
	}
	if (strcmp(key, "endpoint") == 0) {
		if (!wm_sockaddr_parse(&ep, val))
			return EINVAL;
		if (p) {
			wm_peer_set_endpoint(p, &ep, WM_EP_CONFIG);
			s->changed = true;
		}
		return 0;
	}
	if (strcmp(key, "persistent_keepalive_interval") == 0) {
		if (!wm_parse_port(&secs, val))
			return EINVAL;
		/* Turning it on only arms a timer for the next tick, which
		 * comes after this request (and its endpoint) is applied. */
		if (p) {
			wm_device_set_keepalive(dev, p, secs);
			s->changed = true;
		}
		return 0;
	}
	if (strcmp(key, "replace_allowed_ips") == 0) {
		if (strcmp(val, "true") != 0)
			return EINVAL;
		if (p) {
			r = wm_device_set_allowed_ips(dev, p, NULL, 0);
			s->changed = true;
			if (r < 0)
				return -r;
		}
		return 0;
	}
	if (strcmp(key, "allowed_ip") == 0) {
		/* A prefix length is required, as netip.ParsePrefix wants. */
		if (!strchr(val, '/') || !wm_cidr_parse(&c, val))
			return EINVAL;
		if (p) {
			r = wm_device_add_allowed_ip(dev, p, &c);
			s->changed = true;
			if (r < 0)
				return -r;
		}
		return 0;
	}
	if (strcmp(key, "protocol_version") == 0)
		return strcmp(val, "1") == 0 ? 0 : EINVAL;
	return EINVAL;
}

static int one_line(struct set_state *s, const char *text, size_t len,
		    char line[LINE_MAX_LEN])
{
	const char *eq = memchr(text, '=', len);
	size_t klen;

	if (!eq)
		return EPROTO;
	if (len >= LINE_MAX_LEN)
		return EINVAL;
	klen = (size_t)(eq - text);
	memcpy(line, text, len);
	line[len] = '\0';
	line[klen] = '\0';
	if (strcmp(line, "public_key") == 0)
		return public_key_line(s, line + klen + 1);
	if (s->in_peer)
		return peer_line(s, line, line + klen + 1);
	return device_line(s, line, line + klen + 1);
}

int wm_uapi_set(struct wm_device *dev, const char *request,
		const struct wm_uapi_ops *ops)
{
	struct set_state s = { .dev = dev, .ops = ops };
	char line[LINE_MAX_LEN];
	const char *p = request;
	int err = 0;

	while (*p && !err) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len == 0)
			break;
		err = one_line(&s, p, len, line);
		p += len + (eol ? 1 : 0);
	}
	wm_memzero(line, sizeof(line));
	/* Lines before a failing one stay applied, so report them too. */
	if (s.changed && ops && ops->changed)
		ops->changed(ops->ctx);
	return err;
}

/* ---- the socket ---- */

struct conn {
	struct wm_loop_handler h;
	struct wm_uapi *u;
	struct conn *next;
	char *in;              /* unprocessed request bytes */
	size_t in_len, in_cap;
	char *out;             /* one response being written */
	size_t out_len, out_off;
	uint32_t events;       /* what the loop watches for us */
	bool eof, dead;
};

struct wm_uapi {
	struct wm_loop *loop;
	struct wm_device *dev;
	struct wm_uapi_ops ops;
	struct wm_loop_handler listen_h;
	struct sockaddr_un addr;
	dev_t sock_dev;        /* identify our socket file at unlink time */
	ino_t sock_ino;
	struct conn *conns;
	/* Closed connections wait here for the next tick: the loop may still
	 * hold an event for them in the batch it is dispatching. */
	struct conn *dead;
	unsigned n_conns;
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

	(void)now_ns;
	while (u->dead) {
		struct conn *c = u->dead;
		u->dead = c->next;
		free(c);
	}
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

/* 1 when something accepts connections on addr, 0 when nobody does. */
static int probe(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int r, e;

	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED || e == ENOENT)
		return 0;
	return -e;
}

/* Makes the path free for bind: absent, or a stale socket removed. */
static int clear_path(const struct sockaddr_un *addr)
{
	struct stat st;
	int r;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* never a symlink or a file someone put there */
	r = probe(addr);
	if (r != 0)
		return r > 0 ? -EADDRINUSE : r;
	if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int make_dir(void)
{
	struct stat st;

	if (mkdir(WM_UAPI_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(WM_UAPI_DIR, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int listen_on(struct wm_uapi *u)
{
	struct stat st;
	int fd, r;

	r = clear_path(&u->addr);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The socket inode's mode becomes the file's at bind (less the
	 * umask), so the file is never reachable by others, and the
	 * process-wide umask is left alone. */
	if (fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0)
		goto fail;
	if (lstat(u->addr.sun_path, &st) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		unlink(u->addr.sun_path);
		close(fd);
		return r;
	}
	u->sock_dev = st.st_dev;
	u->sock_ino = st.st_ino;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

/* loop.h has no way to remove a tick; ours must not outlive u. */
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
	r = make_dir();
	if (r < 0)
		return r;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->loop = loop;
	u->dev = dev;
	if (ops)
		u->ops = *ops;
	u->addr.sun_family = AF_UNIX;
	snprintf(u->addr.sun_path, sizeof(u->addr.sun_path), "%s/%s.sock",
		 WM_UAPI_DIR, ifname);
	fd = listen_on(u);
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
		unlink(u->addr.sun_path);
		close(fd);
		free(u);
		return r;
	}
	*out = u;
	return 0;
}

void wm_uapi_close(struct wm_uapi *u)
{
	struct stat st;

	if (!u)
		return;
	wm_loop_del_tick(u->loop, reap, u);
	while (u->conns)
		kill_conn(u->conns);
	reap(u, 0);
	wm_loop_del(u->loop, &u->listen_h);
	close(u->listen_h.fd);
	/* Another agent may have replaced a socket we thought stale. */
	if (lstat(u->addr.sun_path, &st) == 0 && st.st_dev == u->sock_dev &&
	    st.st_ino == u->sock_ino)
		unlink(u->addr.sun_path);
	free(u);
}
