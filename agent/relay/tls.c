/* See tls.h. */
#include "agent/relay/tls.h"
#include "crypto/ct.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PEM_FILE_MAX = 1 << 20, MAX_CHAIN = 8 };

struct wm_tls_creds {
	br_x509_certificate chain[MAX_CHAIN];
	size_t n_chain;
	unsigned issuer_key_type;
	br_skey_decoder_context skey; /* holds the decoded key */
	/* The loader's reference and one per server connection: BearSSL
	 * keeps pointers to the chain and key, so a reload (SIGHUP) frees
	 * the old ones only when their last connection is gone. */
	unsigned refs;
};

/* The client's certificate "validator": takes the end-entity key and
 * trusts it (tls.h says why that is sound here). */
struct anykey {
	const br_x509_class *vtable;
	br_x509_decoder_context dc;
	unsigned n_certs;
};

struct wm_tls {
	union {
		br_ssl_server_context s;
		struct {
			br_ssl_client_context cc;
			br_x509_minimal_context unused; /* init_full wants one */
			struct anykey ak;
		} c;
	} u;
	br_ssl_engine_context *eng;
	struct wm_tls_creds *creds; /* a server's, referenced */
	bool eof, established;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* ------------------------------------------------------------- PEM */

struct sink {
	uint8_t *buf;
	size_t len, cap;
	bool oom;
};

static void sink_append(void *ctx, const void *data, size_t len)
{
	struct sink *s = ctx;

	if (s->oom)
		return;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint8_t *p;
		while (cap < s->len + len)
			cap *= 2;
		p = realloc(s->buf, cap);
		if (!p) {
			s->oom = true;
			return;
		}
		s->buf = p;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
}

/* Called with each decoded object; the DER is the callee's to keep (and
 * free) when it returns true. False stops the walk with -EINVAL. */
typedef bool (*pem_fn)(void *ctx, const char *name, uint8_t *der,
		       size_t len);

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	/* st is only filled in when fstat succeeds */
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_size > PEM_FILE_MAX)
		r = -EFBIG;
	if (r < 0) {
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = got;
	return 0;
}

static int pem_walk(const uint8_t *text, size_t len, pem_fn fn, void *ctx)
{
	br_pem_decoder_context pc;
	struct sink s = { 0 };
	char name[128] = "";
	bool inobj = false, extra_nl = true;
	int r = 0;

	br_pem_decoder_init(&pc);
	while (len > 0) {
		size_t n = br_pem_decoder_push(&pc, text, len);

		text += n;
		len -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(name, sizeof(name), "%s", br_pem_decoder_name(&pc));
			br_pem_decoder_setdest(&pc, sink_append, &s);
			s.len = 0;
			inobj = true;
			break;
		case BR_PEM_END_OBJ:
			if (!inobj)
				break;
			inobj = false;
			if (s.oom) {
				r = -ENOMEM;
				goto out;
			}
			if (!fn(ctx, name, s.buf, s.len)) {
				r = -EINVAL;
				goto out;
			}
			s.buf = NULL;
			s.len = s.cap = 0;
			break;
		case BR_PEM_ERROR:
			r = -EINVAL;
			goto out;
		}
		/* A last line without its newline still ends the object. */
		if (len == 0 && extra_nl) {
			extra_nl = false;
			text = (const uint8_t *)"\n";
			len = 1;
		}
	}
	if (inobj)
		r = -EINVAL;
out:
	if (s.buf)
		wm_memzero(s.buf, s.cap);
	free(s.buf);
	return r;
}

static bool take_cert(void *ctx, const char *name, uint8_t *der, size_t len)
{
	struct wm_tls_creds *c = ctx;

	if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE")) {
		free(der);
		return true;
	}
	if (c->n_chain == MAX_CHAIN) {
		free(der);
		return false;
	}
	c->chain[c->n_chain].data = der;
	c->chain[c->n_chain].data_len = len;
	c->n_chain++;
	return true;
}

struct key_walk {
	struct wm_tls_creds *c;
	bool found, encrypted;
};

static bool take_key(void *ctx, const char *name, uint8_t *der, size_t len)
{
	struct key_walk *w = ctx;

	if (!w->found && (!strcmp(name, "PRIVATE KEY") ||
			  !strcmp(name, "RSA PRIVATE KEY") ||
			  !strcmp(name, "EC PRIVATE KEY"))) {
		br_skey_decoder_init(&w->c->skey);
		br_skey_decoder_push(&w->c->skey, der, len);
		w->found = true;
	}
	if (strstr(name, "ENCRYPTED"))
		w->encrypted = true;
	wm_memzero(der, len);
	free(der);
	return true;
}

/* The certificate's public key must be the private key's. */
static bool key_matches(struct wm_tls_creds *c, const br_x509_pkey *pk)
{
	const br_rsa_private_key *rsa = br_skey_decoder_get_rsa(&c->skey);
	const br_ec_private_key *ec = br_skey_decoder_get_ec(&c->skey);

	if (rsa && pk->key_type == BR_KEYTYPE_RSA) {
		uint8_t n[4096 / 8]; /* BearSSL keys are at most 4096 bits */
		const uint8_t *cn = pk->key.rsa.n;
		size_t cl = pk->key.rsa.nlen, nl;

		nl = br_rsa_compute_modulus_get_default()(n, rsa);
		while (cl > 0 && *cn == 0) {
			cn++;
			cl--;
		}
		return nl && nl == cl && memcmp(n, cn, nl) == 0;
	}
	if (ec && pk->key_type == BR_KEYTYPE_EC) {
		uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pub;

		return pk->key.ec.curve == ec->curve &&
		       br_ec_compute_pub(br_ec_get_default(), &pub, q, ec) &&
		       pub.qlen == pk->key.ec.qlen &&
		       memcmp(pub.q, pk->key.ec.q, pub.qlen) == 0;
	}
	return false;
}

int wm_tls_creds_load(struct wm_tls_creds **out, const char *cert_path,
		      const char *key_path, char *err, size_t errlen)
{
	struct wm_tls_creds *c = calloc(1, sizeof(*c));
	struct key_walk kw = { c, false, false };
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	uint8_t *text = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	r = read_file(cert_path, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", cert_path, strerror(-r));
		goto fail;
	}
	r = pem_walk(text, len, take_cert, c);
	free(text);
	text = NULL;
	if (r == 0 && c->n_chain == 0)
		r = -EINVAL;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", cert_path,
			 r == -ENOMEM ? strerror(ENOMEM)
				      : "no valid PEM CERTIFICATE (at most 8 in the chain)");
		goto fail;
	}
	r = read_file(key_path, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", key_path, strerror(-r));
		goto fail;
	}
	r = pem_walk(text, len, take_key, &kw);
	wm_memzero(text, len);
	free(text);
	text = NULL;
	if (r < 0 || !kw.found || br_skey_decoder_last_error(&c->skey)) {
		snprintf(err, errlen, "%s: %s", key_path,
			 kw.encrypted ? "encrypted keys are not supported"
				      : "no valid PEM private key (RSA or EC)");
		r = -EINVAL;
		goto fail;
	}
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk) {
		snprintf(err, errlen, "%s: the first certificate does not decode",
			 cert_path);
		r = -EINVAL;
		goto fail;
	}
	if (!key_matches(c, pk)) {
		snprintf(err, errlen, "%s does not hold the key of %s's first "
			 "certificate", key_path, cert_path);
		r = -EINVAL;
		goto fail;
	}
	c->issuer_key_type = br_x509_decoder_get_signer_key_type(&dc);
	if (!c->issuer_key_type)
		c->issuer_key_type = br_skey_decoder_key_type(&c->skey);
	c->refs = 1;
	*out = c;
	return 0;
fail:
	wm_tls_creds_free(c);
	return r;
}

void wm_tls_creds_free(struct wm_tls_creds *c)
{
	if (!c || (c->refs > 1 && --c->refs))
		return;
	for (size_t i = 0; i < c->n_chain; i++)
		free(c->chain[i].data);
	wm_memzero(c, sizeof(*c));
	free(c);
}

const char *wm_tls_creds_key_type(const struct wm_tls_creds *c)
{
	return br_skey_decoder_key_type(&c->skey) == BR_KEYTYPE_RSA ? "RSA" : "EC";
}

/* ------------------------------------------------------ any-key X.509 */

static void ak_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	(void)server_name;
	ak->n_certs = 0;
}

static void ak_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	(void)length;
	if (ak->n_certs == 0)
		br_x509_decoder_init(&ak->dc, NULL, NULL);
}

static void ak_append(const br_x509_class **ctx, const unsigned char *buf,
		      size_t len)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	if (ak->n_certs == 0)
		br_x509_decoder_push(&ak->dc, buf, len);
}

static void ak_end_cert(const br_x509_class **ctx)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	ak->n_certs++;
}

static unsigned ak_end_chain(const br_x509_class **ctx)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	if (ak->n_certs == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	return br_x509_decoder_get_pkey(&ak->dc) ? 0 : BR_ERR_X509_BAD_SIGNATURE;
}

static const br_x509_pkey *ak_get_pkey(const br_x509_class *const *ctx,
				       unsigned *usages)
{
	struct anykey *ak = (struct anykey *)(void *)ctx;

	if (usages)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&ak->dc);
}

static const br_x509_class anykey_vtable = {
	sizeof(struct anykey), ak_start_chain, ak_start_cert, ak_append,
	ak_end_cert, ak_end_chain, ak_get_pkey,
};

/* ----------------------------------------------------------- sessions */

int wm_tls_new_server(struct wm_tls **out, struct wm_tls_creds *creds)
{
	struct wm_tls *t = calloc(1, sizeof(*t));
	const br_rsa_private_key *rsa = br_skey_decoder_get_rsa(&creds->skey);

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if (rsa)
		br_ssl_server_init_full_rsa(&t->u.s, creds->chain, creds->n_chain,
					    rsa);
	else
		br_ssl_server_init_full_ec(&t->u.s, creds->chain, creds->n_chain,
					   creds->issuer_key_type,
					   br_skey_decoder_get_ec(&creds->skey));
	t->eng = &t->u.s.eng;
	br_ssl_engine_set_versions(t->eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffers_bidi(t->eng, t->iobuf, BR_SSL_BUFSIZE_INPUT,
				       t->iobuf + BR_SSL_BUFSIZE_INPUT,
				       BR_SSL_BUFSIZE_OUTPUT);
	t->creds = creds;
	creds->refs++;
	if (!br_ssl_server_reset(&t->u.s)) {
		wm_tls_free(t);
		return -EIO;
	}
	*out = t;
	return 0;
}

int wm_tls_new_client(struct wm_tls **out, const char *server_name)
{
	struct wm_tls *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return -ENOMEM;
	br_ssl_client_init_full(&t->u.c.cc, &t->u.c.unused, NULL, 0);
	t->u.c.ak.vtable = &anykey_vtable;
	t->eng = &t->u.c.cc.eng;
	br_ssl_engine_set_x509(t->eng, &t->u.c.ak.vtable);
	br_ssl_engine_set_versions(t->eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffers_bidi(t->eng, t->iobuf, BR_SSL_BUFSIZE_INPUT,
				       t->iobuf + BR_SSL_BUFSIZE_INPUT,
				       BR_SSL_BUFSIZE_OUTPUT);
	if (!br_ssl_client_reset(&t->u.c.cc, server_name, 0)) {
		wm_tls_free(t);
		return -EIO;
	}
	*out = t;
	return 0;
}

void wm_tls_free(struct wm_tls *t)
{
	if (!t)
		return;
	wm_tls_creds_free(t->creds);
	wm_memzero(t, sizeof(*t));
	free(t);
}

static int closed_error(const struct wm_tls *t)
{
	return br_ssl_engine_last_error(t->eng) == BR_ERR_OK ? -EPIPE : -EPROTO;
}

/* One pass over the socket; *moved says whether any byte went either
 * way. */
static int pump_once(struct wm_tls *t, int fd, bool *moved)
{
	unsigned st = br_ssl_engine_current_state(t->eng);
	unsigned char *buf;
	size_t len;
	ssize_t n;

	*moved = false;
	if (st & BR_SSL_CLOSED)
		return closed_error(t);
	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		t->established = true;
	if (st & BR_SSL_SENDREC) {
		buf = br_ssl_engine_sendrec_buf(t->eng, &len);
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			br_ssl_engine_sendrec_ack(t->eng, (size_t)n);
			*moved = true;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
	}
	if ((st & BR_SSL_RECVREC) && !t->eof) {
		buf = br_ssl_engine_recvrec_buf(t->eng, &len);
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			br_ssl_engine_recvrec_ack(t->eng, (size_t)n);
			*moved = true;
		} else if (n == 0) {
			t->eof = true;
			return -EPIPE;
		} else if (errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
	}
	return 0;
}

int wm_tls_pump(struct wm_tls *t, int fd)
{
	bool moved = true;
	int r = 0;

	while (moved && r == 0)
		r = pump_once(t, fd, &moved);
	if (br_ssl_engine_current_state(t->eng) & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))
		t->established = true;
	return r;
}

uint32_t wm_tls_events(const struct wm_tls *t)
{
	unsigned st = br_ssl_engine_current_state(t->eng);
	uint32_t ev = 0;

	if (st & BR_SSL_RECVREC)
		ev |= EPOLLIN;
	if (st & BR_SSL_SENDREC)
		ev |= EPOLLOUT;
	return ev;
}

bool wm_tls_established(const struct wm_tls *t)
{
	return t->established;
}

bool wm_tls_pending(const struct wm_tls *t)
{
	return (br_ssl_engine_current_state(t->eng) & BR_SSL_RECVAPP) != 0;
}

static size_t take_app(struct wm_tls *t, void *buf, size_t len)
{
	size_t alen;
	unsigned char *app = br_ssl_engine_recvapp_buf(t->eng, &alen);

	if (alen > len)
		alen = len;
	memcpy(buf, app, alen);
	br_ssl_engine_recvapp_ack(t->eng, alen);
	return alen;
}

ssize_t wm_tls_read(struct wm_tls *t, int fd, void *buf, size_t len)
{
	int r;

	if (!len)
		return 0;
	if (wm_tls_pending(t))
		return (ssize_t)take_app(t, buf, len);
	r = wm_tls_pump(t, fd);
	/* Records that came with the EOF are still the peer's data. */
	if (wm_tls_pending(t))
		return (ssize_t)take_app(t, buf, len);
	return r;
}

ssize_t wm_tls_write(struct wm_tls *t, int fd, const void *buf, size_t len)
{
	unsigned char *app;
	size_t alen;
	int r;

	if (br_ssl_engine_current_state(t->eng) & BR_SSL_CLOSED)
		return closed_error(t);
	if (!(br_ssl_engine_current_state(t->eng) & BR_SSL_SENDAPP)) {
		r = wm_tls_pump(t, fd);
		if (r < 0)
			return r;
		if (!(br_ssl_engine_current_state(t->eng) & BR_SSL_SENDAPP))
			return 0;
	}
	app = br_ssl_engine_sendapp_buf(t->eng, &alen);
	if (alen > len)
		alen = len;
	memcpy(app, buf, alen);
	br_ssl_engine_sendapp_ack(t->eng, alen);
	br_ssl_engine_flush(t->eng, 0);
	r = wm_tls_pump(t, fd);
	return r < 0 ? r : (ssize_t)alen;
}

void wm_tls_close(struct wm_tls *t, int fd)
{
	br_ssl_engine_close(t->eng);
	wm_tls_pump(t, fd);
}

int wm_tls_last_error(const struct wm_tls *t)
{
	return br_ssl_engine_last_error(t->eng);
}
