/*
 * The agent's UDP socket helpers (agent/udp.h) for real, on the loopback
 * of a network namespace this test makes for itself (unshare, lo up):
 * a batch of datagrams (runs to one address, mixed sizes and addresses)
 * arrives whole and in order with UDP_SEGMENT on and off; a GSO run sent
 * to a UDP_GRO socket is read as one and split back into the very same
 * datagrams; IPv4 addresses go v4-mapped on the dual-stack socket; a
 * datagram leaves from the source address it names, or from any when
 * that one is not on the host.
 */
#include "check.h"
#include "agent/udp.h"
#include "netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A plain IPv4 receiver on 127.0.0.1; *to gets its address. */
static int receiver(union wm_sockaddr *to)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t l = sizeof(to->in);
	int size = 4 << 20;

	memset(to, 0, sizeof(*to));
	to->in.sin_family = AF_INET;
	to->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, &to->sa, sizeof(to->in)) < 0 ||
	    getsockname(fd, &to->sa, &l) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
}

static uint8_t payload[64][2048];

static void fill(size_t i, size_t len)
{
	for (size_t j = 0; j < len; j++)
		payload[i][j] = (uint8_t)(i * 31 + j);
}

/* Reads one datagram (non-blocking: everything was sent before). */
static ssize_t take(int fd, uint8_t *buf, size_t cap)
{
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

static void batch_arrives(bool gso)
{
	struct wm_udp u = { .fd = -1 };
	union wm_sockaddr r1, r2;
	int f1 = receiver(&r1), f2 = receiver(&r2);
	struct wm_udp_tx tx[40];
	size_t n = 0, want1[40], want2[40], n1 = 0, n2 = 0;
	uint16_t port;
	uint8_t buf[4096];

	u.fd = wm_udp_open(0, 0, &u.family, &port);
	CHECK(u.fd >= 0 && f1 >= 0 && f2 >= 0);
	if (u.fd < 0 || f1 < 0 || f2 < 0)
		return;
	u.gso = gso;
	/* A run of 20 equal datagrams to r1, a shorter one closing it, one
	 * to r2, a run of 5 to r2, then single ones alternating. */
	for (int i = 0; i < 20; i++) {
		fill(n, 1452);
		tx[n] = (struct wm_udp_tx){ .to = r1, .buf = payload[n], .len = 1452 };
		want1[n1++] = n++;
	}
	fill(n, 300);
	tx[n] = (struct wm_udp_tx){ .to = r1, .buf = payload[n], .len = 300 };
	want1[n1++] = n++;
	for (int i = 0; i < 6; i++) {
		fill(n, 700);
		tx[n] = (struct wm_udp_tx){ .to = r2, .buf = payload[n], .len = 700 };
		want2[n2++] = n++;
	}
	for (int i = 0; i < 6; i++) {
		fill(n, 100 + (size_t)i);
		tx[n] = (struct wm_udp_tx){ .to = i % 2 ? r1 : r2, .buf = payload[n], .len = 100 + (size_t)i };
		if (i % 2)
			want1[n1++] = n++;
		else
			want2[n2++] = n++;
	}
	CHECK(wm_udp_send_batch(&u, tx, n) == 0);
	CHECK(u.gso == gso); /* loopback segments: no fallback needed */
	for (size_t i = 0; i < n1; i++) {
		ssize_t got = take(f1, buf, sizeof(buf));
		CHECK(got == (ssize_t)tx[want1[i]].len &&
		      memcmp(buf, tx[want1[i]].buf, (size_t)got) == 0);
	}
	for (size_t i = 0; i < n2; i++) {
		ssize_t got = take(f2, buf, sizeof(buf));
		CHECK(got == (ssize_t)tx[want2[i]].len &&
		      memcmp(buf, tx[want2[i]].buf, (size_t)got) == 0);
	}
	CHECK(take(f1, buf, sizeof(buf)) < 0 && take(f2, buf, sizeof(buf)) < 0);
	close(u.fd);
	close(f1);
	close(f2);
}

TEST(batch_with_gso)
{
	batch_arrives(true);
}

TEST(batch_without_gso)
{
	batch_arrives(false);
}

/* A GSO run to a socket with UDP_GRO is read as one message whose
 * segment size splits it back into the datagrams that were sent. */
TEST(gro_read_splits_back)
{
	struct wm_udp s = { .fd = -1 }, r = { .fd = -1 };
	union wm_sockaddr to;
	struct sockaddr_in6 a6;
	socklen_t l = sizeof(a6);
	struct wm_udp_tx tx[8];
	uint16_t sport, rport;
	static uint8_t buf[65536];
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	size_t total = 0, seg, off, k = 0;
	ssize_t got;

	s.fd = wm_udp_open(0, 0, &s.family, &sport);
	r.fd = wm_udp_open(0, 0, &r.family, &rport);
	CHECK(s.fd >= 0 && r.fd >= 0);
	if (s.fd < 0 || r.fd < 0)
		return;
	wm_udp_offloads(&s);
	wm_udp_offloads(&r);
	CHECK(s.gso && r.gro);
	CHECK(getsockname(r.fd, (struct sockaddr *)&a6, &l) == 0);
	memset(&to, 0, sizeof(to));
	to.in.sin_family = AF_INET; /* v4-mapped on the dual-stack socket */
	to.in.sin_port = a6.sin6_port;
	to.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (size_t i = 0; i < 8; i++) {
		size_t len = i == 7 ? 333 : 1200;
		fill(i, len);
		tx[i] = (struct wm_udp_tx){ .to = to, .buf = payload[i], .len = len };
		total += len;
	}
	CHECK(wm_udp_send_batch(&s, tx, 8) == 0 && s.gso);
	got = recvmsg(r.fd, &m, MSG_DONTWAIT);
	seg = wm_udp_gro_size(&m);
	CHECK(got == (ssize_t)total && seg == 1200);
	for (off = 0; got > 0 && off < (size_t)got && k < 8; off += seg, k++) {
		size_t len = (size_t)got - off < seg ? (size_t)got - off : seg;
		CHECK(len == tx[k].len && memcmp(buf + off, tx[k].buf, len) == 0);
	}
	CHECK(k == 8);
	close(s.fd);
	close(r.fd);
}

/* A GSO run the kernel refuses (segments above lo's MTU, set to 1280
 * here; single datagrams still go, fragmented): sent
 * again one by one, everything arrives, in order, and GSO stays on for
 * runs that fit. Runs last: it changes lo. */
TEST(refused_gso_falls_back)
{
	struct wm_udp u = { .fd = -1 };
	union wm_sockaddr r1;
	int f1 = receiver(&r1);
	struct wm_udp_tx tx[10];
	uint16_t port;
	uint8_t buf[4096];

	CHECK(test_lo_set(false, 1280));
	u.fd = wm_udp_open(0, 0, &u.family, &port);
	CHECK(u.fd >= 0 && f1 >= 0);
	if (u.fd < 0 || f1 < 0)
		return;
	u.gso = true;
	for (size_t i = 0; i < 10; i++) {
		fill(i, 1300);
		tx[i] = (struct wm_udp_tx){ .to = r1, .buf = payload[i], .len = 1300 };
	}
	CHECK(wm_udp_send_batch(&u, tx, 10) == 0);
	CHECK(u.gso);
	for (size_t i = 0; i < 10; i++) {
		ssize_t got = take(f1, buf, sizeof(buf));
		CHECK(got == 1300 && memcmp(buf, payload[i], 1300) == 0);
	}
	close(u.fd);
	close(f1);
}

/* A datagram leaves from the source address its batch entry names (a
 * relay on a host with several), in a GSO run and alone; one whose
 * source is not on the host goes from any address instead. */
TEST(source_address)
{
	struct wm_udp u = { .fd = -1 };
	union wm_sockaddr r1, two, gone, seen;
	int f1 = receiver(&r1);
	struct wm_udp_tx tx[5];
	socklen_t sl;
	uint16_t port;
	uint8_t buf[4096];

	u.fd = wm_udp_open(0, 0, &u.family, &port);
	CHECK(u.fd >= 0 && f1 >= 0);
	if (u.fd < 0 || f1 < 0)
		return;
	u.gso = true;
	CHECK(wm_sockaddr_parse(&two, "127.0.0.2:0"));
	CHECK(wm_sockaddr_parse(&gone, "192.0.2.99:0"));
	/* A run of two and a short one from 127.0.0.2, then a run of two
	 * from an address the host does not have. */
	for (size_t i = 0; i < 5; i++) {
		fill(i, 500);
		tx[i] = (struct wm_udp_tx){ .to = r1, .buf = payload[i],
					    .len = i == 2 ? 100 : 500,
					    .from = i >= 3 ? gone : two };
	}
	CHECK(wm_udp_send_batch(&u, tx, 5) == 0);
	for (size_t i = 0; i < 5; i++) {
		memset(&seen, 0, sizeof(seen));
		sl = sizeof(seen);
		ssize_t got = recvfrom(f1, buf, sizeof(buf), MSG_DONTWAIT,
				       &seen.sa, &sl);
		CHECK(got == (ssize_t)tx[i].len);
		CHECK(seen.sa.sa_family == AF_INET &&
		      seen.in.sin_addr.s_addr ==
			      htonl(i >= 3 ? INADDR_LOOPBACK : 0x7f000002));
	}
	close(u.fd);
	close(f1);
}

/* The dual-stack socket reports IPv4 senders v4-mapped; unmapped they
 * compare equal to the plain IPv4 address. */
TEST(unmap)
{
	union wm_sockaddr a, b;

	CHECK(wm_sockaddr_parse(&a, "[::ffff:192.0.2.7]:51820"));
	CHECK(wm_sockaddr_parse(&b, "192.0.2.7:51820"));
	wm_udp_unmap(&a);
	CHECK(wm_sockaddr_equal(&a, &b));
	CHECK(wm_sockaddr_parse(&a, "[2001:db8::7]:51820"));
	wm_udp_unmap(&a);
	CHECK(a.sa.sa_family == AF_INET6);
}

int main(void)
{
	/* Our own network namespace: nothing here touches the host's. */
	if (!test_own_netns()) {
		fprintf(stderr, "cannot make a network namespace: %s\n",
			strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	RUN(batch_with_gso);
	RUN(batch_without_gso);
	RUN(gro_read_splits_back);
	RUN(unmap);
	RUN(refused_gso_falls_back);
	RUN(source_address);
	return check_summary();
}
