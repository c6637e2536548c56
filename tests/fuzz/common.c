/* See common.h. */
#include "common.h"
#include "crypto/encoding.h"

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

FILE *fuzz_devnull(void)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w")))
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
