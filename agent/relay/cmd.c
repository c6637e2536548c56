/* `wiremesh relay` (relay/server.h): the relay core on a dual-stack UDP
 * socket and, when TCPListen is set, on TCP or TLS connections
 * (relay/server_tcp.c); signals through a signalfd; one tick a second for the
 * idle and timeout sweeps. */
#include "agent/wg/clock.h"
#include "agent/cmd_args.h"
#include "agent/relay/config.h"
#include "agent/loop.h"
#include "agent/relay/metrics.h"
#include "agent/relay/server.h"
#include "agent/relay/server_tcp.h"
#include "agent/sdnotify.h"
#include "agent/relay/tls.h"
#include "agent/udp.h"
#include "crypto/encoding.h"
#include "crypto/random.h"

#include <errno.h>
#include <netinet/in.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for one IPV6_PKTINFO or IP_PKTINFO control message, and UDP_GRO's
 * segment size. */
union pktinfo_buf {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		 CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(int))];
};

/* A TCP/TLS connection must complete a relay handshake this soon after
 * accept, and then send an authenticated record at least this often. */
#define TCP_HANDSHAKE_NS (10 * 1000000000ULL)
#define TCP_IDLE_NS (240 * 1000000000ULL)

enum {
	RX_BATCH = 32,
	RX_SLOT = 16384, /* above the largest relay datagram (relay/server_tcp.c) */
	RX_GRO_SLOT = 65536, /* a UDP_GRO read: datagrams of one size and source */
	TX_BATCH = 128,
	TX_ARENA = 256 * 1024,
	FD_RESERVE = 32, /* descriptors kept for everything but connections */
};

struct app {
	const char *config_path;
	struct wm_relay_config cfg;
	struct wm_tls_creds *creds;
	struct wm_relay *relay;
	struct wm_relay_tcp *tcp;
	struct wm_relay_metrics *metrics;
	struct wm_loop loop;
	int udp_fd, udp_family, sig_fd;
	int alt_fd; /* STUN's second port; -1: none */
	uint16_t udp_port, alt_port;
	struct wm_loop_handler udp_h, alt_h, sig_h;
	uint8_t *rx;
	size_t rx_slot; /* RX_GRO_SLOT with UDP_GRO, else RX_SLOT */
	/* UDP answers queued during a round of on_udp */
	struct wm_udp udp;
	struct wm_udp_tx tx[TX_BATCH];
	uint8_t *tx_arena;
	size_t tx_n, tx_used;
	bool in_round;
	uint64_t udp_failed; /* datagrams the kernel refused */
};

/* ------------------------------------------------------------ core ops */

/* Sends what on_udp's round queued (udp.h: runs to one client as one
 * UDP_SEGMENT send, the rest with sendmmsg). */
static void tx_flush(struct app *a)
{
	if (a->tx_n)
		a->udp_failed += wm_udp_send_batch(&a->udp, a->tx, a->tx_n);
	a->tx_n = a->tx_used = 0;
}

static int app_send(void *ctx, const struct wm_relay_path *to,
		    const uint8_t *buf, size_t len)
{
	struct app *a = ctx;
	struct wm_udp_tx *t;

	if (to->transport != WM_RELAY_UDP)
		return wm_relay_tcp_send(a->tcp, to->conn, buf, len);
	if (len > RX_SLOT)
		return -EMSGSIZE;
	if (to->alt_port) {
		/* STUN's second port: a rare answer, at once. */
		struct wm_udp alt = { .fd = a->alt_fd, .family = a->udp_family };
		struct wm_udp_tx one = { .to = to->addr, .buf = buf, .len = len,
					 .from = to->local };

		if (a->alt_fd < 0)
			return -ENOTCONN;
		return wm_udp_send_batch(&alt, &one, 1) ? -EIO : 0;
	}
	/* Answers to a round of datagrams leave together at its end, as
	 * the agent's do; the rest (a TCP client's frame for a UDP one, a
	 * tick) at once. */
	if (a->tx_n == TX_BATCH || TX_ARENA - a->tx_used < len)
		tx_flush(a);
	t = &a->tx[a->tx_n++];
	t->to = to->addr;
	t->from = to->local;
	t->buf = a->tx_arena + a->tx_used;
	t->len = len;
	memcpy(a->tx_arena + a->tx_used, buf, len);
	/* Keep datagrams 16-byte aligned; equal ones stay contiguous. */
	a->tx_used += (len + 15) & ~(size_t)15;
	if (!a->in_round)
		tx_flush(a);
	return 0;
}

static int app_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	return wm_random_bytes(buf, len);
}

static void app_log(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "relay: %s\n", line);
}

/* ------------------------------------------------------------- events */

/* The dual-stack socket reports IPv4 sources as ::ffff:a.b.c.d: keep them
 * IPv4, as STUN answers and logs should show them. */
static void unmap(union wm_sockaddr *s)
{
	struct sockaddr_in in = { .sin_family = AF_INET };

	if (s->sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&s->in6.sin6_addr))
		return;
	in.sin_port = s->in6.sin6_port;
	memcpy(&in.sin_addr, &s->in6.sin6_addr.s6_addr[12], 4);
	memset(s, 0, sizeof(*s));
	s->in = in;
}

/* The address a datagram was sent to, from its IP(V6)_PKTINFO. */
static void local_address(union wm_sockaddr *out, struct msghdr *m)
{
	memset(out, 0, sizeof(*out));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			out->in6.sin6_family = AF_INET6;
			out->in6.sin6_addr = pi.ipi6_addr;
			unmap(out);
			return;
		}
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			out->in.sin_family = AF_INET;
			out->in.sin_addr = pi.ipi_addr;
			return;
		}
	}
}

static void on_udp(struct wm_loop_handler *h, uint32_t events)
{
	struct app *a = h->ctx;
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	union wm_sockaddr from[RX_BATCH];
	union pktinfo_buf cbuf[RX_BATCH];

	(void)events;
	/* Bounded, so TCP connections get their turn under a UDP flood. */
	for (int round = 0; round < 8; round++) {
		uint64_t now;
		int n;

		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = a->rx + (size_t)i * a->rx_slot;
			iov[i].iov_len = a->rx_slot;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_control = &cbuf[i];
			msgs[i].msg_hdr.msg_controllen = sizeof(cbuf[i]);
		}
		n = recvmmsg(h->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = wm_now_ns();
		a->in_round = true;
		for (int i = 0; i < n; i++) {
			struct wm_relay_path p = { .transport = WM_RELAY_UDP,
						   .alt_port = h == &a->alt_h };
			uint8_t *d = iov[i].iov_base;
			size_t len = msgs[i].msg_len;
			size_t seg = wm_udp_gro_size(&msgs[i].msg_hdr);

			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			p.addr = from[i];
			unmap(&p.addr);
			local_address(&p.local, &msgs[i].msg_hdr);
			/* One read may hold several datagrams of one size
			 * (UDP_GRO), each answered in place in its slice. */
			if (!seg || seg > len)
				seg = len;
			for (size_t off = 0; off < len; off += seg)
				wm_relay_input(a->relay, &p, d + off,
					       len - off < seg ? len - off : seg,
					       now);
		}
		a->in_round = false;
		tx_flush(a);
		if (n < RX_BATCH)
			return;
	}
}

static void print_counters(struct app *a)
{
	struct wm_relay_counters k;
	struct wm_relay_tcp_stats ts;
	char drops[512];
	size_t off = 0;

	wm_relay_get_counters(a->relay, &k);
	wm_relay_tcp_get_stats(a->tcp, &ts);
	for (int i = 0; i < WM_RELAY_DROP_MAX && off < sizeof(drops); i++)
		off += (size_t)snprintf(drops + off, sizeof(drops) - off, " %s=%llu",
					wm_relay_drop_name((enum wm_relay_drop)i),
					(unsigned long long)k.drops[i]);
	fprintf(stderr,
		"relay: clients udp=%llu tcp=%llu tls=%llu; handshakes=%llu "
		"cookie_replies=%llu stun_requests=%llu pings=%llu\n"
		"relay: forwarded frames=%llu bytes=%llu; gone_sent=%llu "
		"unknown_session_sent=%llu\n"
		"relay: drops%s\n"
		"relay: tcp open=%llu accepted=%llu refused_full=%llu "
		"refused_per_address=%llu tls_refused=%llu tls_rate_limited=%llu "
		"handshake_timeouts=%llu idle_timeouts=%llu evicted=%llu "
		"closed_errors=%llu; "
		"udp send_failed=%llu\n",
		(unsigned long long)k.clients[WM_RELAY_UDP],
		(unsigned long long)k.clients[WM_RELAY_TCP],
		(unsigned long long)k.clients[WM_RELAY_TLS],
		(unsigned long long)k.handshakes,
		(unsigned long long)k.cookie_replies,
		(unsigned long long)k.stun_requests,
		(unsigned long long)k.pings,
		(unsigned long long)k.frames_forwarded,
		(unsigned long long)k.bytes_forwarded,
		(unsigned long long)k.gone_sent,
		(unsigned long long)k.unknown_session_sent, drops,
		(unsigned long long)ts.open, (unsigned long long)ts.accepted,
		(unsigned long long)ts.refused_full,
		(unsigned long long)ts.refused_per_address,
		(unsigned long long)ts.tls_refused,
		(unsigned long long)ts.tls_rate_limited,
		(unsigned long long)ts.handshake_timeouts,
		(unsigned long long)ts.idle_timeouts,
		(unsigned long long)ts.evicted,
		(unsigned long long)ts.closed_errors,
		(unsigned long long)a->udp_failed);
}

static int load_tls(struct app *a, const struct wm_relay_config *cfg,
		    struct wm_tls_creds **out);

/* Keys a reload cannot apply: the sockets and the identity stay. */
static void warn_restart(const struct app *a, const struct wm_relay_config *n)
{
	const struct wm_relay_config *o = &a->cfg;

	if (n->listen_port != o->listen_port)
		fprintf(stderr, "relay: reload: ListenPort changed: restart to "
				"apply it\n");
	if (strcmp(n->tcp_listen, o->tcp_listen))
		fprintf(stderr, "relay: reload: TCPListen changed: restart to "
				"apply it\n");
	if (n->stun_alt_port != o->stun_alt_port)
		fprintf(stderr, "relay: reload: STUNAltPort changed: restart to "
				"apply it\n");
	if (strcmp(n->metrics_listen, o->metrics_listen))
		fprintf(stderr, "relay: reload: MetricsListen changed: restart "
				"to apply it\n");
}

/* SIGHUP: reads the file again and applies the allow-list, the limits
 * and the TLS certificate; sessions of clients still allowed stay up.
 * Any error leaves everything as it ran. */
static void reload(struct app *a)
{
	struct wm_relay_config n;
	struct wm_tls_creds *creds = NULL;
	struct wm_relay_params p;
	int r;

	fprintf(stderr, "relay: SIGHUP: reloading %s\n", a->config_path);
	if (!wm_relay_config_load(&n, a->config_path, stderr)) {
		fprintf(stderr, "relay: reload failed: the running config stays\n");
		return;
	}
	if (memcmp(n.private_key, a->cfg.private_key, sizeof(n.private_key))) {
		fprintf(stderr, "relay: reload: PrivateKey changed: restart to "
				"apply it; nothing reloaded\n");
		wm_relay_config_free(&n);
		return;
	}
	if (load_tls(a, &n, &creds) < 0) {
		fprintf(stderr, "relay: reload failed: the running config stays\n");
		wm_relay_config_free(&n);
		return;
	}
	/* (the STUN ports stay as opened; wm_relay_reload ignores them) */
	p = (struct wm_relay_params){
		n.private_key, (const uint8_t(*)[WM_KEY_SIZE])n.allowed_clients,
		n.n_allowed_clients, n.client_rate, n.max_clients,
		a->udp_port, a->alt_port,
	};
	r = wm_relay_reload(a->relay, &p);
	if (r < 0) {
		fprintf(stderr, "relay: reload failed (%s): the running config "
				"stays\n", strerror(-r));
		wm_tls_creds_free(creds);
		wm_relay_config_free(&n);
		return;
	}
	warn_restart(a, &n);
	/* What runs: the sockets as they were opened. */
	n.listen_port = a->cfg.listen_port;
	n.stun_alt_port = a->cfg.stun_alt_port;
	n.stun_alt_explicit = a->cfg.stun_alt_explicit;
	memcpy(n.tcp_listen, a->cfg.tcp_listen, sizeof(n.tcp_listen));
	memcpy(n.metrics_listen, a->cfg.metrics_listen, sizeof(n.metrics_listen));
	wm_relay_tcp_set_creds(a->tcp, creds);
	wm_relay_tcp_set_per_address(a->tcp, n.max_conns_per_address);
	wm_tls_creds_free(a->creds); /* open TLS connections keep theirs */
	a->creds = creds;
	wm_relay_config_free(&a->cfg);
	a->cfg = n;
	fprintf(stderr, "relay: reloaded: %zu allowed clients, at most %u, "
		"%llu bytes/s each, %u connections per address%s\n",
		a->cfg.n_allowed_clients, a->cfg.max_clients,
		(unsigned long long)a->cfg.client_rate,
		a->cfg.max_conns_per_address,
		a->tcp ? (a->creds ? "; TLS and plain" : "; plain only") : "");
}

static void on_signal(struct wm_loop_handler *h, uint32_t events)
{
	struct app *a = h->ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			print_counters(a);
		} else if (si.ssi_signo == SIGHUP) {
			reload(a);
		} else {
			fprintf(stderr, "relay: signal %u, shutting down\n",
				si.ssi_signo);
			wm_sd_notify("STOPPING=1");
			wm_loop_stop(&a->loop);
		}
	}
}

static void on_tick(void *ctx, uint64_t now)
{
	struct app *a = ctx;

	wm_relay_tick(a->relay, now);
	wm_relay_tcp_tick(a->tcp, now);
	wm_relay_metrics_tick(a->metrics, now);
}

static void metrics_snapshot(void *ctx, struct wm_relay_counters *k,
			     struct wm_relay_tcp_stats *ts)
{
	struct app *a = ctx;

	wm_relay_get_counters(a->relay, k);
	wm_relay_tcp_get_stats(a->tcp, ts);
}

/* ------------------------------------------------------------- set-up */

/* TLSCert and TLSKey, like AllowedClientsFile, are relative to the
 * config file's directory. */
static void resolve(char *out, size_t len, const char *config, const char *p)
{
	const char *slash = strrchr(config, '/');

	if (p[0] == '/' || !slash)
		snprintf(out, len, "%s", p);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - config), config, p);
}

static int load_tls(struct app *a, const struct wm_relay_config *cfg,
		    struct wm_tls_creds **out)
{
	char cert[PATH_MAX], key[PATH_MAX], err[PATH_MAX + 256];

	*out = NULL;
	if (!cfg->tls_cert[0])
		return 0;
	resolve(cert, sizeof(cert), a->config_path, cfg->tls_cert);
	resolve(key, sizeof(key), a->config_path, cfg->tls_key);
	if (wm_tls_creds_load(out, cert, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: TLSCert/TLSKey: %s\n", a->config_path, err);
		return -EINVAL;
	}
	return 0;
}

/* Connections may use what the descriptor limit allows, less a reserve. */
static unsigned tcp_cap(const struct app *a)
{
	struct rlimit rl;
	rlim_t fds = 1024;
	unsigned want = a->cfg.max_clients + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		fds = rl.rlim_cur;
	}
	if (fds < 2 * FD_RESERVE)
		fds = 2 * FD_RESERVE;
	if (want > fds - FD_RESERVE)
		want = (unsigned)(fds - FD_RESERVE);
	return want > 0xffff ? 0xffff : want;
}

static int setup_signals(struct app *a)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	int r;

	a->sig_h = (struct wm_loop_handler){ -1, on_signal, a };
	r = wm_loop_add_signals(&a->loop, &a->sig_h, sigs, 4);
	a->sig_fd = a->sig_h.fd;
	return r;
}

/* A UDP socket on port that reports the address each datagram was sent
 * to (on a host with several, answers must leave from the one the client
 * talks to, or its NAT and socket drop them), read by on_udp through h. */
static int open_port(struct app *a, uint16_t port, int *family,
		     uint16_t *bound, struct wm_loop_handler *h)
{
	int fd = wm_udp_open(port, 0, family, bound);

	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &(int){ 1 }, sizeof(int));
	if (*family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &(int){ 1 },
			   sizeof(int));
	*h = (struct wm_loop_handler){ fd, on_udp, a };
	if (wm_loop_add(&a->loop, h, EPOLLIN) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* The relay's port, then STUN's second one: a second port that cannot be
 * had is fatal only when the file asked for it. */
static int open_udp(struct app *a)
{
	int fd, family = 0;

	fd = open_port(a, a->cfg.listen_port, &a->udp_family, &a->udp_port,
		       &a->udp_h);
	if (fd < 0) {
		fprintf(stderr, "%s: ListenPort %u: %s\n", a->config_path,
			a->cfg.listen_port, strerror(-fd));
		return fd;
	}
	a->udp_fd = fd;
	if (!a->cfg.stun_alt_port)
		return 0;
	fd = open_port(a, a->cfg.stun_alt_port, &family, &a->alt_port,
		       &a->alt_h);
	if (fd >= 0 && family == a->udp_family) {
		a->alt_fd = fd;
		return 0;
	}
	if (fd >= 0) {
		wm_loop_del(&a->loop, &a->alt_h);
		close(fd);
		fd = -EAFNOSUPPORT;
	}
	a->alt_port = 0;
	fprintf(stderr, "%s: STUNAltPort %u: %s%s\n", a->config_path,
		a->cfg.stun_alt_port, strerror(-fd),
		a->cfg.stun_alt_explicit ? "" : " (STUN goes on without a second "
		"port: clients of this relay alone cannot tell their NAT's "
		"mapping)");
	return a->cfg.stun_alt_explicit ? fd : 0;
}

static int start(struct app *a)
{
	const struct wm_relay_ops ops = { app_send, app_random, app_log, a };
	struct wm_relay_params p = {
		.private_key = a->cfg.private_key,
		.allowed = (const uint8_t(*)[WM_KEY_SIZE])a->cfg.allowed_clients,
		.n_allowed = a->cfg.n_allowed_clients,
		.client_rate = a->cfg.client_rate,
		.max_clients = a->cfg.max_clients,
	};
	char err[512], pub[WM_KEY_B64_LEN + 1], port_text[8];
	uint8_t key[WM_KEY_SIZE];
	int r;

	r = wm_loop_init(&a->loop, 1000);
	if (r < 0) {
		fprintf(stderr, "relay: %s\n", strerror(-r));
		return r;
	}
	r = open_udp(a);
	if (r < 0)
		return r;
	/* As the agent's socket: GSO for runs to one client, GRO reads. */
	a->udp = (struct wm_udp){ .fd = a->udp_fd, .family = a->udp_family };
	if (!getenv("WIREMESH_UDP_OFFLOAD") ||
	    strcmp(getenv("WIREMESH_UDP_OFFLOAD"), "0") != 0)
		wm_udp_offloads(&a->udp);
	a->rx_slot = a->udp.gro ? RX_GRO_SLOT : RX_SLOT;
	a->rx = malloc((size_t)RX_BATCH * a->rx_slot);
	a->tx_arena = malloc(TX_ARENA);
	if (!a->rx || !a->tx_arena) {
		fprintf(stderr, "relay: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	p.stun_port = a->udp_port;
	p.stun_alt_port = a->alt_port;
	r = wm_relay_new(&a->relay, &p, &ops);
	if (r < 0) {
		fprintf(stderr, "relay: %s\n", strerror(-r));
		return r;
	}
	if (r == 0 && a->cfg.tcp_listen[0]) {
		struct wm_relay_tcp_limits lim = {
			tcp_cap(a), a->cfg.max_conns_per_address,
			TCP_HANDSHAKE_NS, TCP_IDLE_NS,
		};
		r = wm_relay_tcp_open(&a->tcp, &a->loop, a->relay, a->cfg.tcp_listen,
				      a->creds, &lim, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "%s: %s\n", a->config_path, err);
	}
	if (r == 0 && a->cfg.metrics_listen[0]) {
		r = wm_relay_metrics_open(&a->metrics, &a->loop,
					  a->cfg.metrics_listen, metrics_snapshot,
					  a, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "%s: %s\n", a->config_path, err);
	}
	if (r == 0)
		r = wm_loop_add_tick(&a->loop, on_tick, a);
	if (r == 0)
		r = setup_signals(a);
	if (r < 0)
		return r;
	wm_relay_public_key(a->relay, key);
	wm_key_to_base64(pub, key);
	snprintf(port_text, sizeof(port_text), "%u", a->alt_port);
	fprintf(stderr, "relay: public key %s; udp port %u (relay + STUN)%s%s%s%s%s; "
		"%zu allowed clients, at most %u, %llu bytes/s each\n",
		pub, a->udp_port, a->alt_port ? "; STUN also on udp port " : "",
		a->alt_port ? port_text : "", a->tcp ? "; tcp " : "",
		a->tcp ? a->cfg.tcp_listen : "",
		a->tcp ? (a->creds ? " (TLS and plain)" : " (plain)") : "",
		a->cfg.n_allowed_clients, a->cfg.max_clients,
		(unsigned long long)a->cfg.client_rate);
	if (a->metrics)
		fprintf(stderr, "relay: metrics on http://%s/metrics\n",
			a->cfg.metrics_listen);
	wm_sd_notify("READY=1");
	return 0;
}

static void stop(struct app *a)
{
	wm_relay_metrics_close(a->metrics);
	wm_relay_tcp_close(a->tcp);
	if (a->udp_fd >= 0)
		close(a->udp_fd);
	if (a->alt_fd >= 0)
		close(a->alt_fd);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	wm_loop_close(&a->loop);
	wm_relay_free(a->relay);
	wm_tls_creds_free(a->creds);
	wm_relay_config_free(&a->cfg);
	free(a->rx);
	free(a->tx_arena);
}

int wm_cmd_relay(int argc, char **argv)
{
	struct app a = { .udp_fd = -1, .alt_fd = -1, .sig_fd = -1, .loop = { .epfd = -1 } };
	bool check = false;
	int r;

	r = wm_cmd_args(argc, argv, "relay", &a.config_path, &check);
	if (r)
		return r;
	if (!wm_relay_config_load(&a.cfg, a.config_path, stderr))
		return 2;
	if (load_tls(&a, &a.cfg, &a.creds) < 0) {
		wm_relay_config_free(&a.cfg);
		return 2;
	}
	if (check) {
		printf("%s: ok (%zu allowed clients%s)\n", a.config_path,
		       a.cfg.n_allowed_clients,
		       a.creds ? (strcmp(wm_tls_creds_key_type(a.creds), "RSA")
					  ? ", TLS with an EC key"
					  : ", TLS with an RSA key")
			       : "");
		stop(&a);
		return 0;
	}
	r = start(&a);
	if (r == 0)
		r = wm_loop_run(&a.loop);
	if (r < 0)
		fprintf(stderr, "relay: %s\n", strerror(-r));
	else
		print_counters(&a);
	stop(&a);
	return r < 0 ? 1 : 0;
}
