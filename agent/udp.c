/* See udp.h. */
#include "agent/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

/* The address as the socket wants it: IPv4 v4-mapped on a dual-stack
 * socket. False when the socket cannot reach it. */
static bool socket_address(const struct wm_udp *u, const union wm_sockaddr *to,
			   union wm_sockaddr *out)
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
		return false;
	}
	*out = dst;
	return true;
}

int wm_udp_send(const struct wm_udp *u, const union wm_sockaddr *to,
		const void *buf, size_t len)
{
	union wm_sockaddr dst;

	if (!socket_address(u, to, &dst))
		return -EAFNOSUPPORT;
	if (sendto(u->fd, buf, len, 0, &dst.sa, wm_sockaddr_len(&dst)) < 0)
		return -errno;
	return 0;
}

void wm_udp_offloads(struct wm_udp *u)
{
	int one = 1;

	u->gso = true;
	u->gro = setsockopt(u->fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
}

size_t wm_udp_gro_size(const struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			int size;
			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	}
	return 0;
}

/* Room for UDP_SEGMENT and one IP(V6)_PKTINFO. */
union udp_ctl {
	char buf[CMSG_SPACE(sizeof(uint16_t)) +
		 CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

/* Appends the control message that makes a datagram leave from `from`
 * at c (room for it); returns its space, 0 when from is unset or does
 * not fit the socket. */
static size_t put_source(const struct wm_udp *u, const union wm_sockaddr *from,
			 struct cmsghdr *c)
{
	if (u->family == AF_INET6 && from->sa.sa_family != AF_UNSPEC) {
		struct in6_pktinfo pi = { .ipi6_ifindex = 0 };

		if (from->sa.sa_family == AF_INET) {
			pi.ipi6_addr.s6_addr[10] = 0xff;
			pi.ipi6_addr.s6_addr[11] = 0xff;
			memcpy(&pi.ipi6_addr.s6_addr[12], &from->in.sin_addr, 4);
		} else {
			pi.ipi6_addr = from->in6.sin6_addr;
		}
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	if (u->family == AF_INET && from->sa.sa_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = from->in.sin_addr };

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	return 0;
}

static bool same_source(const union wm_sockaddr *a, const union wm_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	return true;
}

/* How many datagrams from tx[0] form one GSO run: same addresses, equal
 * sizes (the last may be shorter), within the kernel's limits. */
static size_t run_length(const struct wm_udp_tx *tx, size_t n)
{
	size_t k = 1, total = tx[0].len;

	while (k < n && k < WM_UDP_GSO_SEGMENTS &&
	       total + tx[k].len <= WM_UDP_GSO_BYTES &&
	       tx[k].len <= tx[0].len && tx[k - 1].len == tx[0].len &&
	       wm_sockaddr_equal(&tx[k].to, &tx[0].to) &&
	       same_source(&tx[k].from, &tx[0].from))
		total += tx[k++].len;
	return k;
}

/* One UDP_SEGMENT send of tx[0..k). 0 or -errno. */
static int send_gso(const struct wm_udp *u, const struct wm_udp_tx *tx,
		    size_t k)
{
	struct iovec iov[WM_UDP_GSO_SEGMENTS];
	union udp_ctl ctl;
	union wm_sockaddr dst;
	struct msghdr m = { 0 };
	struct cmsghdr *c;
	uint16_t seg = (uint16_t)tx[0].len;

	if (!socket_address(u, &tx[0].to, &dst))
		return -EAFNOSUPPORT;
	for (size_t i = 0; i < k; i++)
		iov[i] = (struct iovec){ (void *)tx[i].buf, tx[i].len };
	memset(&ctl, 0, sizeof(ctl));
	m.msg_name = &dst;
	m.msg_namelen = wm_sockaddr_len(&dst);
	m.msg_iov = iov;
	m.msg_iovlen = k;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof(ctl.buf);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(c), &seg, sizeof(seg));
	m.msg_controllen = CMSG_SPACE(sizeof(seg)) +
			   put_source(u, &tx[0].from, CMSG_NXTHDR(&m, c));
	return sendmsg(u->fd, &m, 0) < 0 ? -errno : 0;
}

/* tx[0..n) one datagram each, with sendmmsg; returns how many failed. */
static size_t send_each(const struct wm_udp *u, const struct wm_udp_tx *tx,
			size_t n)
{
	struct mmsghdr mm[WM_UDP_GSO_SEGMENTS];
	struct iovec iov[WM_UDP_GSO_SEGMENTS];
	union wm_sockaddr dst[WM_UDP_GSO_SEGMENTS];
	union udp_ctl ctl[WM_UDP_GSO_SEGMENTS];
	size_t failed = 0, k = 0, done;

	while (n > 0) {
		k = 0;
		while (k < n && k < WM_UDP_GSO_SEGMENTS) {
			if (!socket_address(u, &tx[k].to, &dst[k]))
				break;
			iov[k] = (struct iovec){ (void *)tx[k].buf, tx[k].len };
			memset(&mm[k], 0, sizeof(mm[k]));
			mm[k].msg_hdr.msg_name = &dst[k];
			mm[k].msg_hdr.msg_namelen = wm_sockaddr_len(&dst[k]);
			mm[k].msg_hdr.msg_iov = &iov[k];
			mm[k].msg_hdr.msg_iovlen = 1;
			mm[k].msg_hdr.msg_controllen = put_source(
				u, &tx[k].from, (struct cmsghdr *)ctl[k].buf);
			if (mm[k].msg_hdr.msg_controllen)
				mm[k].msg_hdr.msg_control = ctl[k].buf;
			k++;
		}
		if (k == 0) { /* an address this socket cannot reach */
			failed++;
			tx++;
			n--;
			continue;
		}
		done = 0;
		while (done < k) {
			int r = sendmmsg(u->fd, mm + done, (unsigned)(k - done), 0);
			if (r <= 0) {
				struct msghdr *h = &mm[done].msg_hdr;

				/* Its source address may have left the host
				 * since (EINVAL, or no route from it): any
				 * will do. Else skip it, go on. */
				if (h->msg_controllen) {
					h->msg_control = NULL;
					h->msg_controllen = 0;
					if (sendmsg(u->fd, h, 0) >= 0) {
						done++;
						continue;
					}
				}
				failed++;
				done++;
				continue;
			}
			done += (size_t)r;
		}
		tx += k;
		n -= k;
	}
	return failed;
}

size_t wm_udp_send_batch(struct wm_udp *u, const struct wm_udp_tx *tx,
			 size_t n)
{
	size_t failed = 0, i = 0, single = 0;

	while (i < n) {
		size_t k = u->gso ? run_length(tx + i, n - i) : 1;
		int r;

		if (k < 2) {
			i++;
			continue;
		}
		/* Keep order: what went one by one before this run first. */
		failed += send_each(u, tx + single, i - single);
		r = send_gso(u, tx + i, k);
		if (r == -EIO || r == -ENOPROTOOPT) {
			/* The route cannot segment (no checksum offload),
			 * or the kernel has no UDP_SEGMENT: never again. */
			u->gso = false;
			failed += send_each(u, tx + i, k);
		} else if (r == -EMSGSIZE || r == -EINVAL) {
			/* Segments above the route's MTU (older kernels say
			 * EINVAL): one by one they may still go, fragmented,
			 * or fail each alone; GSO stays on for other runs. */
			failed += send_each(u, tx + i, k);
		} else if (r < 0 && tx[i].from.sa.sa_family != AF_UNSPEC) {
			/* Perhaps the source: each goes alone, from any. */
			failed += send_each(u, tx + i, k);
		} else if (r < 0) {
			failed += k;
		}
		i += k;
		single = i;
	}
	return failed + send_each(u, tx + single, n - single);
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
