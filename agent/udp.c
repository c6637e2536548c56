/* See udp.h. */
#include "agent/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SOCKET_BUFFER = 4 << 20 };

static int bind_family(int family, uint16_t port, uint32_t fwmark)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int zero = 0, size = SOCKET_BUFFER;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int r;

	if (fd < 0)
		return -errno;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		goto fail;
	/* Best effort: the kernel caps these at rmem_max/wmem_max, and
	 * SO_*BUFFORCE needs privileges we may have dropped. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (fwmark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	r = family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
			       : bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	if (r < 0)
		goto fail;
	return fd;
fail:
	r = -errno;
	close(fd);
	return r;
}

int wm_udp_open(uint16_t port, uint32_t fwmark, int *family, uint16_t *bound)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in6 in6;
		struct sockaddr_in in;
	} a;
	socklen_t alen = sizeof(a);
	int fd = bind_family(AF_INET6, port, fwmark);

	*family = AF_INET6;
	if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
		fd = bind_family(AF_INET, port, fwmark);
		*family = AF_INET;
	}
	if (fd < 0)
		return fd;
	if (getsockname(fd, &a.sa, &alen) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	*bound = ntohs(*family == AF_INET6 ? a.in6.sin6_port : a.in.sin_port);
	return fd;
}

int wm_udp_send(const struct wm_udp *u, const union wm_sockaddr *to,
		const void *buf, size_t len)
{
	union wm_sockaddr dst = *to;

	if (u->family == AF_INET6 && to->sa.sa_family == AF_INET) {
		memset(&dst, 0, sizeof(dst));
		dst.in6.sin6_family = AF_INET6;
		dst.in6.sin6_port = to->in.sin_port;
		dst.in6.sin6_addr.s6_addr[10] = 0xff;
		dst.in6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&dst.in6.sin6_addr.s6_addr[12], &to->in.sin_addr, 4);
	} else if (u->family == AF_INET && to->sa.sa_family != AF_INET) {
		return -EAFNOSUPPORT;
	}
	if (sendto(u->fd, buf, len, 0, &dst.sa, wm_sockaddr_len(&dst)) < 0)
		return -errno;
	return 0;
}

void wm_udp_unmap(union wm_sockaddr *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (a->sa.sa_family != AF_INET6 ||
	    memcmp(a->in6.sin6_addr.s6_addr, prefix, 12) != 0)
		return;
	in.sin_port = a->in6.sin6_port;
	memcpy(&in.sin_addr, &a->in6.sin6_addr.s6_addr[12], 4);
	memset(a, 0, sizeof(*a));
	a->in = in;
}
