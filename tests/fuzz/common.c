/* See common.h. */
#include "common.h"
#include "crypto/encoding.h"
#include "crypto/x25519.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * Linked with -Wl,--wrap=getaddrinfo: every lookup the agent code makes
 * lands here and is made numeric-only, so a fuzzed host name fails with
 * EAI_NONAME instead of sending a DNS query.
 */
int __real_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res);

int __wrap_getaddrinfo(const char *node, const char *service,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = { 0 };

	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	return __real_getaddrinfo(node, service, &h, res);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags,
		      const struct sockaddr *to, socklen_t tolen);

static struct fuzz_sent sent[FUZZ_SENT_MAX];
static size_t n_sent;

ssize_t __wrap_sendto(int fd, const void *buf, size_t len, int flags,
		      const struct sockaddr *to, socklen_t tolen)
{
	(void)flags;
	if (n_sent < FUZZ_SENT_MAX) {
		struct fuzz_sent *s = &sent[n_sent++];

		memset(&s->to, 0, sizeof(s->to));
		if (to && tolen > 0)
			memcpy(&s->to, to, tolen < sizeof(s->to) ? tolen
								 : sizeof(s->to));
		s->len = len;
		memcpy(s->buf, buf, len < FUZZ_SENT_LEN ? len : FUZZ_SENT_LEN);
	}
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	return (ssize_t)len;
}

void fuzz_sent_reset(void)
{
	n_sent = 0;
}

size_t fuzz_sent_count(void)
{
	return n_sent;
}

const struct fuzz_sent *fuzz_sent_get(size_t i)
{
	return i < n_sent ? &sent[i] : NULL;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void fuzz_key(uint8_t out[32], const char *hex)
{
	if (!wm_key_from_hex(out, hex))
		fuzz_fail("bad key in the harness: %s", hex);
}

/* Discards what is written, without a system call per message. */
static ssize_t discard(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	(void)buf;
	return (ssize_t)size;
}

FILE *fuzz_devnull(void)
{
	static FILE *f;
	static const cookie_io_functions_t io = { .write = discard };

	if (!f && !(f = fopencookie(NULL, "w", io)))
		abort();
	return f;
}

bool fuzz_verbose(void)
{
	static int v = -1;

	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL;
	return v;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz property failed: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* --- fopen: registered paths read from memory -------------------------- */

FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

static struct {
	char path[256];
	const void *data;
	size_t len;
} memfiles[FUZZ_MEMFILES];

void fuzz_memfile(const char *path, const void *data, size_t len)
{
	size_t i, free_slot = FUZZ_MEMFILES;

	if (strlen(path) >= sizeof(memfiles[0].path))
		fuzz_fail("memfile path too long: %s", path);
	for (i = 0; i < FUZZ_MEMFILES; i++) {
		if (memfiles[i].path[0] && strcmp(memfiles[i].path, path) == 0)
			break;
		if (!memfiles[i].path[0] && free_slot == FUZZ_MEMFILES)
			free_slot = i;
	}
	if (i == FUZZ_MEMFILES)
		i = free_slot;
	if (i == FUZZ_MEMFILES)
		fuzz_fail("more than %d memfiles", FUZZ_MEMFILES);
	if (!data) {
		memfiles[i].path[0] = '\0';
		return;
	}
	strcpy(memfiles[i].path, path);
	memfiles[i].data = data;
	memfiles[i].len = len;
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	for (size_t i = 0; path && i < FUZZ_MEMFILES; i++) {
		if (!memfiles[i].path[0] || strcmp(memfiles[i].path, path) != 0)
			continue;
		if (mode[0] != 'r' || strchr(mode, '+')) {
			errno = EACCES;
			return NULL;
		}
		/* fmemopen refuses a zero size: an empty file is /dev/null */
		if (!memfiles[i].len)
			return __real_fopen("/dev/null", "r");
		return fmemopen((void *)memfiles[i].data, memfiles[i].len, "r");
	}
	return __real_fopen(path, mode);
}

/* --- X25519: the same inputs, the same answer, computed once ------------ */

bool __real_wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
		      const uint8_t point[WM_KEY_LEN]);
bool __wrap_wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
		      const uint8_t point[WM_KEY_LEN]);

enum { X_CACHE = 16384 }; /* ~1.6 MB: a long input's handshakes fit */
static struct x_entry {
	uint8_t scalar[WM_KEY_LEN], point[WM_KEY_LEN], out[WM_KEY_LEN];
	bool ok, used;
} x_cache[X_CACHE];

/* (wm_x25519_public calls wm_x25519 from another object: wrapped too.) */
bool __wrap_wm_x25519(uint8_t out[WM_KEY_LEN], const uint8_t scalar[WM_KEY_LEN],
		      const uint8_t point[WM_KEY_LEN])
{
	uint8_t s[WM_KEY_LEN], p[WM_KEY_LEN], o[WM_KEY_LEN];
	uint32_t h = 2166136261u;
	struct x_entry *e;
	bool ok;

	memcpy(s, scalar, WM_KEY_LEN); /* out may alias either input */
	memcpy(p, point, WM_KEY_LEN);
	for (int i = 0; i < WM_KEY_LEN; i++)
		h = (h ^ s[i] ^ ((uint32_t)p[i] << 8)) * 16777619u;
	e = &x_cache[h % X_CACHE];
	if (e->used && memcmp(e->scalar, s, WM_KEY_LEN) == 0 &&
	    memcmp(e->point, p, WM_KEY_LEN) == 0) {
		memcpy(out, e->out, WM_KEY_LEN);
		return e->ok;
	}
	ok = __real_wm_x25519(o, s, p);
	memcpy(e->scalar, s, WM_KEY_LEN);
	memcpy(e->point, p, WM_KEY_LEN);
	memcpy(e->out, o, WM_KEY_LEN);
	e->ok = ok;
	e->used = true;
	memcpy(out, o, WM_KEY_LEN);
	return ok;
}
