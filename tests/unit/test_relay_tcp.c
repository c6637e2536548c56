/* The relay's TCP listener (relay/server_tcp.c) on loopback, in a network
 * namespace of the test's own, around the real relay core: a TLS
 * ClientHello to a relay without a certificate is closed at once, plain
 * framing is served, a connection that sends only junk is closed at the
 * handshake deadline while an authenticated one stays, junk does not keep
 * a connection from its idle timeout, and the per-address cap refuses the
 * connection past it. Deadlines are checked by calling the tick with a
 * clock moved ahead, so nothing here waits for them. */
#include "agent/loop.h"
#include "agent/relay/proto.h"
#include "agent/relay/server.h"
#include "agent/relay/server_tcp.h"
#include "agent/wg/clock.h"
#include "agent/wg/cookie.h"
#include "agent/wg/noise.h"
#include "crypto/x25519.h"
#include "tests/unit/check.h"
#include "tests/unit/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS 1000000000ULL
#define LISTEN "127.0.0.1:4443"

static struct wm_loop loop;
static struct wm_relay *relay;
static struct wm_relay_tcp *tcp;
static struct wm_tls_creds *creds; /* for the relay start_at opens */
static uint8_t relay_priv[32], relay_pub[32], client_priv[32];

static int core_send(void *ctx, const struct wm_relay_path *to,
		     const uint8_t *buf, size_t len)
{
	(void)ctx;
	return wm_relay_tcp_send(tcp, to->conn, buf, len);
}

static int core_random(void *ctx, void *buf, size_t len)
{
	static uint8_t x = 5;
	uint8_t *p = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(x = (uint8_t)(x * 29 + 11));
	return 0;
}

static const struct wm_relay_ops ops = { core_send, core_random, NULL, NULL };

/* Dispatches loop events for about ms milliseconds. */
static void pump(int ms)
{
	struct epoll_event ev[16];
	uint64_t end = wm_now_ns() + (uint64_t)ms * 1000000ULL;

	while (wm_now_ns() < end) {
		int n = epoll_wait(loop.epfd, ev, 16, 10);

		for (int i = 0; i < n; i++) {
			struct wm_loop_handler *h = ev[i].data.ptr;
			h->fn(h, ev[i].events);
		}
	}
}

/* A relay with a table of max_conns connections, listening on listen. */
static void start_at(const char *listen, unsigned max_conns,
		     unsigned per_address)
{
	struct wm_relay_tcp_limits lim = { max_conns, per_address, 10 * NS,
					   20 * NS };
	uint8_t client_pub[32];
	struct wm_relay_params p = {
		.private_key = relay_priv,
		.allowed = (const uint8_t(*)[32])client_pub, .n_allowed = 1,
	};
	char err[256];

	wm_x25519_public(client_pub, client_priv);
	CHECK(wm_loop_init(&loop, 1000) == 0);
	CHECK(wm_relay_new(&relay, &p, &ops) == 0);
	CHECK(wm_relay_tcp_open(&tcp, &loop, relay, listen, creds, &lim, err,
				sizeof(err)) == 0);
}

static void start(unsigned per_address)
{
	start_at(LISTEN, 64, per_address);
}

static void stop(void)
{
	wm_relay_tcp_close(tcp);
	wm_relay_free(relay);
	wm_loop_close(&loop);
	tcp = NULL;
	relay = NULL;
}

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(4443) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	return fd;
}

/* A connection from the IPv4 address from to the relay on LISTEN. */
static int dial_from(const char *from)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons(4443) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(inet_pton(AF_INET, from, &src.sin_addr) == 1);
	inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0);
	CHECK(connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0);
	return fd;
}

/* A connection from the IPv6 address from to the relay on [to]:4443. */
static int dial6(const char *from, const char *to)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6,
				    .sin6_port = htons(4443) };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(inet_pton(AF_INET6, from, &src.sin6_addr) == 1);
	CHECK(inet_pton(AF_INET6, to, &dst.sin6_addr) == 1);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&src, sizeof(src)) == 0);
	CHECK(connect(fd, (struct sockaddr *)&dst, sizeof(dst)) == 0);
	return fd;
}

/* True once the relay closed fd (EOF or reset; anything it sent first is
 * read and thrown away). */
static bool closed_by_relay(int fd)
{
	uint8_t buf[512];

	for (int i = 0; i < 50; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN))
			return true;
		if (n < 0)
			pump(10);
	}
	return false;
}

/* One length-prefixed record. */
static void send_record(int fd, const uint8_t *buf, size_t len)
{
	uint8_t rec[2 + 512];

	rec[0] = (uint8_t)(len >> 8);
	rec[1] = (uint8_t)len;
	memcpy(rec + 2, buf, len);
	CHECK(send(fd, rec, 2 + len, MSG_NOSIGNAL) == (ssize_t)(2 + len));
}

static void send_junk(int fd)
{
	uint8_t junk[160];

	memcpy(junk, WM_RELAY_MAGIC, 4);
	memset(junk + 4, 0x42, sizeof(junk) - 4);
	junk[4] = WM_MSG_DATA;
	junk[5] = junk[6] = junk[7] = 0;
	send_record(fd, junk, sizeof(junk));
}

/* An initiation from the allowed client; the relay answers it. */
static void handshake(int fd)
{
	struct wm_noise_local me;
	struct wm_noise_peer peer;
	struct wm_cookie_maker maker;
	struct wm_handshake hs;
	struct wm_msg_initiation msg;
	uint8_t eph[32], ts[12], buf[4 + sizeof(msg)], in[512];
	struct timespec wall = wm_wall_now();
	ssize_t n = 0;

	wm_noise_local_init(&me, client_priv);
	wm_noise_peer_init(&peer, &me, relay_pub, NULL);
	wm_cookie_maker_init(&maker, relay_pub);
	memset(eph, 0x33, sizeof(eph));
	wm_noise_tai64n(ts, wall.tv_sec, wall.tv_nsec);
	CHECK(wm_noise_create_initiation(&msg, &hs, &me, &peer, 77, eph, ts) ==
	      WM_NOISE_OK);
	wm_cookie_add_macs(&maker, &msg, sizeof(msg), wm_now_ns());
	memcpy(buf, WM_RELAY_MAGIC, 4);
	memcpy(buf + 4, &msg, sizeof(msg));
	send_record(fd, buf, sizeof(buf));
	for (int i = 0; i < 50 && n <= 0; i++) {
		pump(10);
		n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
	}
	/* prefix + magic + a response */
	CHECK(n == (ssize_t)(2 + 4 + sizeof(struct wm_msg_response)));
}

static struct wm_relay_tcp_stats stats(void)
{
	struct wm_relay_tcp_stats s;

	wm_relay_tcp_get_stats(tcp, &s);
	return s;
}

TEST(client_hello_without_cert_closed_at_once)
{
	/* the start of a TLS 1.2 ClientHello record */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01 };
	int fd;

	start(8);
	fd = dial();
	CHECK(send(fd, hello, sizeof(hello), MSG_NOSIGNAL) == sizeof(hello));
	pump(50);
	CHECK(closed_by_relay(fd));
	CHECK(stats().tls_refused == 1);
	CHECK(stats().open == 0);
	close(fd);
	stop();
}

TEST(plain_handshake_and_deadlines)
{
	int good, junk;
	uint64_t t0, t_hs;

	start(8);
	t0 = wm_now_ns();
	good = dial();
	junk = dial();
	pump(30);
	CHECK(stats().accepted == 2);
	handshake(good);
	t_hs = wm_now_ns();
	send_junk(junk);
	pump(30);
	/* junk of a valid length does not count as a handshake */
	wm_relay_tcp_tick(tcp, t0 + 5 * NS);
	CHECK(stats().open == 2);
	wm_relay_tcp_tick(tcp, t0 + 11 * NS);
	CHECK(stats().handshake_timeouts == 1);
	CHECK(stats().open == 1);
	CHECK(closed_by_relay(junk));
	/* the authenticated connection stays until its idle timeout (20 s
	 * here), and junk sent on it 300 ms later does not move that */
	usleep(300 * 1000);
	send_junk(good);
	pump(30);
	wm_relay_tcp_tick(tcp, t_hs + 15 * NS);
	CHECK(stats().open == 1);
	CHECK(!closed_by_relay(good));
	wm_relay_tcp_tick(tcp, t_hs + 20 * NS + 200 * 1000000ULL);
	CHECK(stats().idle_timeouts == 1);
	CHECK(stats().open == 0);
	CHECK(closed_by_relay(good));
	close(good);
	close(junk);
	stop();
}

/* The tick serves deferred connections before it sweeps, and what it
 * serves is stamped with a clock read after the tick's: a connection
 * authenticated "after" now_ns is busy, not idle for 2^64 ns. */
TEST(activity_newer_than_tick_is_not_idle)
{
	uint64_t before;
	int fd;

	start(8);
	before = wm_now_ns();
	fd = dial();
	pump(30);
	handshake(fd);
	wm_relay_tcp_tick(tcp, before);
	CHECK(stats().idle_timeouts == 0);
	CHECK(stats().handshake_timeouts == 0);
	CHECK(stats().open == 1);
	CHECK(!closed_by_relay(fd));
	close(fd);
	stop();
}

TEST(per_address_cap)
{
	int fds[4];

	start(3);
	for (int i = 0; i < 4; i++)
		fds[i] = dial();
	pump(50);
	CHECK(stats().accepted == 3);
	CHECK(stats().refused_per_address == 1);
	CHECK(stats().open == 3);
	CHECK(closed_by_relay(fds[3]));
	/* one closes: room for another */
	close(fds[0]);
	pump(50);
	CHECK(stats().open == 2);
	fds[0] = dial();
	pump(50);
	CHECK(stats().open == 3);
	CHECK(stats().refused_per_address == 1);
	/* a new cap applies to new connections */
	wm_relay_tcp_set_per_address(tcp, 0);
	close(fds[3]);
	fds[3] = dial();
	pump(50);
	CHECK(stats().open == 4);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	stop();
}

/* One host usually holds a whole IPv6 /64: the cap counts the /64, so
 * addresses of one prefix share it, and another prefix has its own. */
TEST(per_address_cap_counts_ipv6_by_64)
{
	static const char *const mine[] = { "2001:db8:1::a", "2001:db8:1::b",
					    "2001:db8:1::c" };
	int fds[4];

	/* an address of each prefix on the loopback (no DAD: usable now) */
	CHECK(system("ip -6 addr add 2001:db8:1::a/64 dev lo nodad && "
		     "ip -6 addr add 2001:db8:1::b/64 dev lo nodad && "
		     "ip -6 addr add 2001:db8:1::c/64 dev lo nodad && "
		     "ip -6 addr add 2001:db8:2::a/64 dev lo nodad") == 0);
	start_at("[::]:4443", 64, 2);
	for (int i = 0; i < 3; i++)
		fds[i] = dial6(mine[i], "2001:db8:1::a");
	pump(50);
	CHECK(stats().accepted == 2);
	CHECK(stats().refused_per_address == 1);
	CHECK(closed_by_relay(fds[2]));
	fds[3] = dial6("2001:db8:2::a", "2001:db8:1::a");
	pump(50);
	CHECK(stats().accepted == 3);
	CHECK(stats().open == 3);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	stop();
}

/* With the table full, a newcomer takes the place of the oldest
 * connection that has not authenticated (here the junk ones, and the
 * authenticated one is older than all); with only authenticated ones
 * left, it is refused. */
TEST(full_table_evicts_oldest_unauthenticated)
{
	int good, young[3], late[3];

	start_at(LISTEN, 4, 0);
	good = dial();
	pump(30);
	handshake(good);
	for (int i = 0; i < 3; i++) {
		young[i] = dial();
		pump(20);
	}
	send_junk(young[0]);
	pump(30);
	CHECK(stats().open == 4);
	late[0] = dial();
	pump(30);
	CHECK(stats().evicted == 1 && stats().refused_full == 0);
	CHECK(stats().open == 4);
	CHECK(closed_by_relay(young[0]));
	late[1] = dial();
	pump(30);
	CHECK(stats().evicted == 2 && closed_by_relay(young[1]));
	CHECK(!closed_by_relay(young[2]) && !closed_by_relay(good));
	stop();
	for (int i = 0; i < 3; i++)
		close(young[i]);
	close(late[0]);
	close(late[1]);
	close(good);

	start_at(LISTEN, 1, 0);
	good = dial();
	pump(30);
	handshake(good);
	late[2] = dial();
	pump(30);
	CHECK(stats().evicted == 0 && stats().refused_full == 1);
	CHECK(closed_by_relay(late[2]) && !closed_by_relay(good));
	close(late[2]);
	close(good);
	stop();
}

/* Credentials from a certificate openssl makes now. */
static struct wm_tls_creds *make_creds(void)
{
	char dir[] = "/tmp/wm-test-relay-tcp-XXXXXX", cmd[512], crt[64], key[64];
	char err[256];
	struct wm_tls_creds *c = NULL;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -keyout k.pem -out c.pem "
		 "-days 2 -subj /CN=relay >/dev/null 2>&1", dir);
	CHECK(system(cmd) == 0);
	snprintf(crt, sizeof(crt), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	CHECK(wm_tls_creds_load(&c, crt, key, err, sizeof(err)) == 0);
	unlink(crt);
	unlink(key);
	rmdir(dir);
	return c;
}

/* Each ClientHello costs a private-key operation: a source gets bursts
 * of 8 new TLS sessions (then 5 a second), and the one past it is closed
 * before any TLS work; another source has its own budget. */
TEST(tls_sessions_rate_limited_per_source)
{
	/* the start of a TLS 1.2 ClientHello record */
	static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01 };
	int fds[10];

	creds = make_creds();
	start_at(LISTEN, 64, 0);
	for (int i = 0; i < 10; i++) {
		fds[i] = dial_from(i < 9 ? "127.0.0.1" : "127.0.0.2");
		CHECK(send(fds[i], hello, sizeof(hello), MSG_NOSIGNAL) ==
		      sizeof(hello));
		pump(10);
	}
	pump(30);
	CHECK(stats().tls_rate_limited == 1);
	CHECK(stats().open == 9);
	CHECK(closed_by_relay(fds[8]));
	CHECK(!closed_by_relay(fds[9]));
	for (int i = 0; i < 10; i++)
		close(fds[i]);
	stop();
	wm_tls_creds_free(creds);
	creds = NULL;
}

int main(void)
{
	if (!test_own_netns()) {
		fprintf(stderr, "test_relay_tcp: needs root (a network namespace)\n");
		return 1;
	}
	memset(relay_priv, 0x21, sizeof(relay_priv));
	memset(client_priv, 0x43, sizeof(client_priv));
	relay_priv[0] &= 248;
	client_priv[0] &= 248;
	wm_x25519_public(relay_pub, relay_priv);
	RUN(client_hello_without_cert_closed_at_once);
	RUN(plain_handshake_and_deadlines);
	RUN(activity_newer_than_tick_is_not_idle);
	RUN(per_address_cap);
	RUN(per_address_cap_counts_ipv6_by_64);
	RUN(full_table_evicts_oldest_unauthenticated);
	RUN(tls_sessions_rate_limited_per_source);
	return check_summary();
}
