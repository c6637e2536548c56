/* See uapi_proto.h. */
#include "agent/uapi_proto.h"
#include "crypto/ct.h"
#include "crypto/encoding.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { LINE_MAX_LEN = 512 }; /* longer than any valid line: hex keys, [v6]:port */

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
	/* the keys of the peers the request created, to announce at its
	 * end (malloc'd, grown by doubling) */
	uint8_t (*added)[WM_KEY_SIZE];
	size_t n_added, cap_added;
};

static void note_added(struct set_state *s, const uint8_t key[WM_KEY_SIZE])
{
	if (!s->ops || !s->ops->peer_added)
		return;
	if (s->n_added == s->cap_added) {
		size_t cap = s->cap_added ? s->cap_added * 2 : 16;
		void *n = realloc(s->added, cap * WM_KEY_SIZE);

		if (!n)
			return; /* an event lost, nothing else */
		s->added = n;
		s->cap_added = cap;
	}
	memcpy(s->added[s->n_added++], key, WM_KEY_SIZE);
}

static void remove_peer(struct set_state *s, struct wm_peer *p)
{
	if (s->ops && s->ops->peer_removing)
		s->ops->peer_removing(s->ops->ctx, p);
	wm_device_remove_peer(s->dev, p);
}

/* Announces the peers the request created that are still there. */
static void announce_added(struct set_state *s)
{
	struct wm_peer *p;

	for (size_t i = 0; i < s->n_added; i++)
		if ((p = wm_device_find_peer(s->dev, s->added[i])))
			s->ops->peer_added(s->ops->ctx, p);
	free(s->added);
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
		else if (!wm_key_from_hex(k, val)) {
			wm_memzero(k, sizeof(k)); /* a partial key */
			return EINVAL;
		}
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
		if (s->ops && s->ops->set_fwmark) {
			r = s->ops->set_fwmark(s->ops->ctx, mark);
			return r < 0 ? -r : 0;
		}
		dev->fwmark = mark;
		return 0;
	}
	if (strcmp(key, "replace_peers") == 0) {
		if (strcmp(val, "true") != 0)
			return EINVAL;
		if (s->ops && s->ops->peer_removing)
			for (struct wm_peer *p = dev->peers; p; p = p->next)
				s->ops->peer_removing(s->ops->ctx, p);
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
		note_added(s, k);
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
			remove_peer(s, p);
			s->peer = NULL;
			s->changed = true;
		}
		return 0;
	}
	if (strcmp(key, "preshared_key") == 0) {
		if (!wm_key_from_hex(k, val)) {
			wm_memzero(k, sizeof(k)); /* a partial key */
			return EINVAL;
		}
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
	announce_added(&s);
	/* Lines before a failing one stay applied, so report them too. */
	if (s.changed && ops && ops->changed)
		ops->changed(ops->ctx);
	return err;
}
