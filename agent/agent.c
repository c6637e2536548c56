/* See agent.h. */
#include "agent/agent.h"
#include "agent/cmd_args.h"
#include "agent/daemon.h"
#include "agent/hooks.h"
#include "agent/names.h"
#include "agent/peer_birthday.h"
#include "agent/peer_disco.h"
#include "agent/peer_path.h"
#include "agent/receive.h"
#include "agent/privileges.h"
#include "agent/sdnotify.h"
#include "agent/send.h"
#include "agent/tick.h"
#include "agent/uapi.h"
#include "agent/version.h"
#include "agent/udp.h"
#include "agent/wg/clock.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "api/saveconfig.h"
#include "crypto/ct.h"
#include "api/server.h"
#include "netif/gso.h"
#include "netif/tun.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

static void deliver_events(void *ctx);

static void log_home(struct wm_agent *a)
{
	const struct wm_relays *rs = &a->relays;

	if (rs->home < 0) {
		fprintf(stderr, "%s: no relay is up\n", a->dev.ifname);
		return;
	}
	if (rs->prev_home < 0) {
		fprintf(stderr, "%s: home relay %s (rtt %.2f ms)\n",
			a->dev.ifname, wm_relay_client_text(&rs->slot[rs->home].rc),
			(double)wm_relays_rtt(rs, rs->home) / 1e6);
		return;
	}
	fprintf(stderr, "%s: home relay %s (rtt %.2f ms), was %s (%s, rtt %.2f ms)\n",
		a->dev.ifname, wm_relay_client_text(&rs->slot[rs->home].rc),
		(double)wm_relays_rtt(rs, rs->home) / 1e6,
		wm_relay_client_text(&rs->slot[rs->prev_home].rc),
		wm_relay_health_name(rs->slot[rs->prev_home].health),
		(double)wm_relays_rtt(rs, rs->prev_home) / 1e6);
}

/* A relay went up or down, the home moved, or our identity changed: act
 * on it. */
static void relay_sync(struct wm_agent *a, uint64_t now)
{
	unsigned changed;

	if (!a->dev.relays)
		return;
	if (a->identity_changes != a->dev.identity_changes) {
		a->identity_changes = a->dev.identity_changes;
		for (size_t i = 0; i < a->relays.n; i++)
			wm_relay_client_identity_changed(
				wm_relays_client(&a->relays, (int)i), now);
	}
	changed = wm_relays_update(&a->relays, now);
	if (!changed)
		return;
	if (changed & WM_RELAYS_HOME_MOVED) {
		log_home(a);
		wm_peer_path_rehome(&a->dev, now);
	}
	wm_tick_relay_changed(&a->dev, now);
	for (size_t i = 0; i < a->relays.n; i++)
		if (changed & (1u << i))
			wm_agent_api_relay_event(a->api, &a->relays, (int)i);
}

/* The end of a receive batch: what it delivered goes into the TUN. */
static void flush_tun(struct wm_agent *a)
{
	a->dev.stats.tx_send_errors += wm_tun_writer_flush(&a->tun_out);
}

/* Frames relay i's client has read off its TCP connection. */
static void drain_one(struct wm_agent *a, int i, uint64_t now)
{
	struct wm_relay_client *rc = wm_relays_client(&a->relays, i);
	struct wm_relay_event ev;

	/* Writing pumps the TLS engine, which may read records off the
	 * socket; their plaintext then waits in the engine with no socket
	 * event left to announce it. So read until nothing is pending. */
	for (int round = 0; round < 8; round++) {
		while (wm_relay_client_next(rc, now, &ev))
			wm_receive_relay_event(&a->dev, i, &ev, now);
		if (!wm_relay_client_pending(rc))
			break;
		wm_relay_client_tcp_ready(rc, 0, now);
	}
}

static void drain_relays(struct wm_agent *a, uint64_t now)
{
	for (size_t i = 0; a->dev.relays && i < a->relays.n; i++)
		drain_one(a, (int)i, now);
	flush_tun(a);
	relay_sync(a, now);
}

/* The handler's ctx is the relay's slot (relays.h). */
static void on_relay_tcp(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_relay_slot *s = h->ctx;
	struct wm_agent *a = s->set->owner;
	uint64_t now = wm_now_ns();

	wm_relay_client_tcp_ready(&s->rc, events, now);
	drain_one(a, (int)s->index, now);
	flush_tun(a);
	relay_sync(a, now);
}

/* One read off the socket: a datagram, or with UDP_GRO several of
 * gro_size bytes each (the last may be shorter), split before the demux. */
static void receive_read(struct wm_agent *a, uint8_t *buf, size_t len,
			 size_t gro_size, const union wm_sockaddr *src,
			 uint64_t now)
{
	size_t step = gro_size ? gro_size : len;

	for (size_t off = 0; off < len; off += step)
		wm_receive_datagram(&a->dev, buf + off,
				    len - off < step ? len - off : step, src, now);
}

static void on_udp(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_agent *a = h->ctx;
	struct mmsghdr msgs[WM_RX_BATCH];
	struct iovec iov[WM_RX_BATCH];
	union wm_sockaddr from[WM_RX_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl[WM_RX_BATCH];
	uint64_t now = 0;
	int n;

	(void)events;
	/* Bounded: at most 8 batches before the loop looks at other fds. */
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < WM_RX_BATCH; i++) {
			iov[i].iov_base = a->rx_bufs + (size_t)i * WM_RX_SLOT;
			iov[i].iov_len = WM_RX_SLOT;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(a->dev.udp.fd, msgs, WM_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		now = wm_now_ns();
		for (int i = 0; i < n; i++) {
			union wm_sockaddr *src = &from[i];
			wm_udp_unmap(src);
			receive_read(a, iov[i].iov_base, msgs[i].msg_len,
				     wm_udp_gro_size(&msgs[i].msg_hdr), src, now);
		}
		if (n < WM_RX_BATCH)
			break;
	}
	flush_tun(a);
	relay_sync(a, now ? now : wm_now_ns());
}

/* One read from a TUN with offloads: a super-packet is split and each
 * segment sent; a single packet gets its checksum if the kernel left it
 * to us, and is sent in place. */
static void send_offloaded(struct wm_agent *a, size_t n, uint64_t now)
{
	struct wm_gso_segs out = {
		.buf = a->tun_segs, .stride = WM_TUN_SEG_SLOT,
		.headroom = WM_HEADROOM, .tailroom = WM_TAILROOM,
		.max = WM_TUN_SEGS, .len = a->tun_seg_len,
	};
	uint8_t *pkt = a->tun_buf + WM_HEADROOM + WM_VNET_HDR_LEN;
	size_t len = n - WM_VNET_HDR_LEN, first = 0, total = 0;
	struct virtio_net_hdr vh;
	int k;

	memcpy(&vh, a->tun_buf + WM_HEADROOM, sizeof(vh));
	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (wm_gso_fill_csum(&vh, pkt, len) < 0)
			a->dev.stats.tx_bad_offload++;
		else
			wm_send_ip_packet(&a->dev, pkt, len, now);
		return;
	}
	do {
		k = wm_gso_split(&vh, pkt, len, first, &out, &total);
		if (k <= 0) {
			a->dev.stats.tx_bad_offload++;
			return;
		}
		for (int i = 0; i < k; i++)
			wm_send_ip_packet(&a->dev,
					  out.buf + (size_t)i * out.stride +
						  WM_HEADROOM,
					  out.len[i], now);
		first += (size_t)k;
	} while (first < total);
}

static void on_tun(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_agent *a = h->ctx;
	uint8_t *buf = a->tun_buf + WM_HEADROOM;
	size_t hdr = a->tun_offloads ? WM_VNET_HDR_LEN : 0;

	(void)events;
	for (int i = 0; i < 256; i++) {
		ssize_t n = read(a->dev.tun_fd, buf, hdr + WM_MAX_PACKET);
		/* `ip link delete`: the TUN reads EBADFD from then on (and
		 * polls as an error), so stop rather than spin, as
		 * wireguard-go exits when its interface goes. */
		if (n < 0 && errno == EBADFD) {
			fprintf(stderr, "%s: the interface was deleted, "
				"shutting down\n", a->dev.ifname);
			wm_loop_stop(&a->loop);
			return;
		}
		if (n <= (ssize_t)hdr)
			return;
		if (hdr)
			send_offloaded(a, (size_t)n, wm_now_ns());
		else
			wm_send_ip_packet(&a->dev, buf, (size_t)n, wm_now_ns());
	}
}

static int reload(struct wm_agent *a);

static void on_signal(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_agent *a = h->ctx;
	struct signalfd_siginfo si;

	(void)events;
	while (read(a->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(a);
			continue;
		}
		fprintf(stderr, "%s: signal %u, shutting down\n", a->dev.ifname,
			si.ssi_signo);
		wm_sd_notify("STOPPING=1");
		wm_loop_stop(&a->loop);
	}
}

/* Our candidates for peers: global addresses of this host with our port,
 * then what STUN saw. Re-read periodically: addresses come and go. */
static void refresh_candidates(struct wm_agent *a)
{
	union wm_sockaddr cands[WM_DISCO_MAX_CANDIDATES];
	struct wm_cidr addrs[WM_DISCO_MAX_CANDIDATES];
	size_t n = 0;
	int k;

	k = wm_netif_list_addresses(&a->netif, a->ifindex, addrs,
				    WM_DISCO_MAX_CANDIDATES);
	for (int i = 0; i < k && n < WM_DISCO_MAX_CANDIDATES; i++) {
		union wm_sockaddr *c = &cands[n++];
		memset(c, 0, sizeof(*c));
		if (addrs[i].family == AF_INET) {
			c->in.sin_family = AF_INET;
			c->in.sin_port = htons(a->dev.listen_port);
			memcpy(&c->in.sin_addr, addrs[i].addr, 4);
		} else {
			c->in6.sin6_family = AF_INET6;
			c->in6.sin6_port = htons(a->dev.listen_port);
			memcpy(&c->in6.sin6_addr, addrs[i].addr, 16);
		}
	}
	if (a->portmap && n < WM_DISCO_MAX_CANDIDATES) {
		struct wm_portmap_state st;

		wm_portmap_get(a->portmap, &st);
		if (st.method)
			cands[n++] = st.external;
	}
	if (a->dev.stun)
		n += wm_stun_client_reflexive(a->dev.stun, cands + n,
					      WM_DISCO_MAX_CANDIDATES - n,
					      wm_now_ns());
	wm_peer_disco_set_local(&a->dev, cands, n);
}

static void stun_tick(struct wm_agent *a, uint64_t now)
{
	struct wm_stun_request req[WM_STUN_MAX_SERVERS];
	size_t n = wm_stun_client_tick(a->dev.stun, now, wm_random_bytes, req,
				       WM_STUN_MAX_SERVERS);

	for (size_t i = 0; i < n; i++)
		wm_send_udp(&a->dev, &req[i].to, req[i].msg, sizeof(req[i].msg));
	if (a->stun.generation != a->stun_generation) {
		a->stun_generation = a->stun.generation;
		a->next_candidates_ns = 0;
	}
}

static void short_key(char out[12], const uint8_t key[32])
{
	char b64[WM_KEY_B64_LEN + 1];

	wm_key_to_base64(b64, key);
	snprintf(out, 12, "%.8s…", b64);
}

static void log_path(struct wm_agent *a, const struct wm_event *ev,
		     const struct wm_peer *p)
{
	char key[12], ep[WM_SOCKADDR_STRLEN] = "-";

	short_key(key, p->public_key);
	if (ev->via == WM_VIA_DIRECT)
		wm_sockaddr_format(ep, sizeof(ep), &p->endpoint);
	fprintf(stderr, "%s: peer %s path %s -> %s %s\n", a->dev.ifname, key,
		wm_via_name(ev->old_via), wm_via_name(ev->via), ep);
}

/* What happened to peers since the last delivery, to the log and the API. */
static void deliver_events(void *ctx)
{
	struct wm_agent *a = ctx;
	struct wm_event ev;
	struct wm_peer *p;

	while (wm_event_pop(&a->dev.events, &ev)) {
		p = wm_device_find_peer(&a->dev, ev.key);
		if (!p)
			continue;
		if (ev.type == WM_EVENT_PATH)
			log_path(a, &ev, p);
		wm_agent_api_event(a->api, &ev, p);
	}
}

/* The end of a round of the loop: what was sealed in it leaves now. */
static void on_round_end(void *ctx)
{
	struct wm_agent *a = ctx;

	a->dev.stats.tx_send_errors += wm_txq_flush(&a->dev.txq);
}

static void on_tick(void *ctx, uint64_t now)
{
	struct wm_agent *a = ctx;

	relay_sync(a, now);
	wm_names_apply_endpoints(a->resolver, &a->cfg, &a->dev, now);
	wm_tick_peers(&a->dev, now);
	wm_peer_birthday_tick(&a->bday, now);
	if (a->dev.relays) {
		wm_relays_tick(a->dev.relays, now);
		/* Also takes records a send pumped in off the sockets. */
		drain_relays(a, now);
	}
	if (a->dev.stun)
		stun_tick(a, now);
	if (now >= a->next_candidates_ns) {
		a->next_candidates_ns = now + 10ULL * 1000000000ULL;
		refresh_candidates(a);
	}
	deliver_events(a);
}

/* An answer landed: endpoints get it now, the relay and STUN at their
 * next attempt. */
static void on_resolved(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_agent *a = h->ctx;

	(void)events;
	wm_resolver_drain(a->resolver);
	wm_names_apply_endpoints(a->resolver, &a->cfg, &a->dev, wm_now_ns());
}

/* The gateway granted, renewed or lost a mapping: peers hear of it with
 * the next candidates. */
static void on_portmap(struct wm_loop_handler *h, uint32_t events)
{
	struct wm_agent *a = h->ctx;
	struct wm_portmap_state st;
	char buf[WM_SOCKADDR_STRLEN];

	(void)events;
	wm_portmap_drain(a->portmap);
	wm_portmap_get(a->portmap, &st);
	if (st.method)
		fprintf(stderr, "%s: port mapping (%s): %s for %u s\n",
			a->cfg.ifname, wm_portmap_method_name(st.method),
			wm_sockaddr_format(buf, sizeof(buf), &st.external),
			st.lifetime_s);
	else if (st.attempts == 1)
		fprintf(stderr, "%s: no port mapping (the gateway answers "
			"neither NAT-PMP nor UPnP); asking again every %d s\n",
			a->cfg.ifname, WM_PORTMAP_RETRY_S);
	a->next_candidates_ns = 0;
}

static int start_portmap(struct wm_agent *a)
{
	int r;

	if (a->cfg.port_mapping_off)
		return 0;
	r = wm_portmap_new(&a->portmap, a->dev.listen_port,
			   wm_privileges_drop_thread);
	if (r < 0) {
		fprintf(stderr, "%s: port mapping: %s\n", a->cfg.ifname,
			strerror(-r));
		return r;
	}
	a->portmap_h = (struct wm_loop_handler){ wm_portmap_fd(a->portmap),
						 on_portmap, a };
	return wm_loop_add(&a->loop, &a->portmap_h, EPOLLIN);
}

static int start_resolver(struct wm_agent *a)
{
	int r = wm_resolver_new(&a->resolver, NULL);

	if (r < 0) {
		fprintf(stderr, "%s: resolver: %s\n", a->cfg.ifname, strerror(-r));
		return r;
	}
	a->resolver_h = (struct wm_loop_handler){ wm_resolver_fd(a->resolver),
						  on_resolved, a };
	return wm_loop_add(&a->loop, &a->resolver_h, EPOLLIN);
}

/* Sets the mark on the open sockets (birthday probing's too: a peer's
 * direct path may leave from one); a later rebind reads dev->fwmark. */
static int apply_fwmark(struct wm_agent *a, uint32_t mark)
{
	if (a->dev.udp.fd >= 0 &&
	    setsockopt(a->dev.udp.fd, SOL_SOCKET, SO_MARK, &mark,
		       sizeof(mark)) < 0)
		return -errno;
	a->dev.fwmark = mark;
	return wm_peer_birthday_set_mark(&a->bday, mark);
}

/* Routes follow the peers and Table (route_sync.h); a default route in
 * auto mode makes a full tunnel as wg-quick does: the socket is marked
 * (FwMark, else 51820), the route goes to the table of that number and
 * the rules send everything unmarked there (fulltunnel.h). */
/* Without a FwMark, a full tunnel's table is the first one from 51820 on
 * that holds no route, as wg-quick picks it (another tunnel may hold
 * 51820); the mark then follows it. */
static uint32_t free_table(struct wm_agent *a)
{
	uint32_t t = WM_FULLTUNNEL_TABLE;

	if (a->cfg.table_mode == WM_TABLE_AUTO &&
	    wm_netif_free_table(&a->netif, WM_FULLTUNNEL_TABLE, &t) < 0)
		t = WM_FULLTUNNEL_TABLE;
	return t;
}

static void peers_changed(struct wm_agent *a)
{
	struct wm_route_policy pol = { a->cfg.table_mode, a->cfg.table, 0 };
	bool full;
	int r;

	if (a->ifindex <= 0)
		return;
	pol.full_table = a->dev.fwmark ? a->dev.fwmark : free_table(a);
	wm_routes_sync(&a->routes, &a->netif, a->ifindex, &a->dev, &pol);
	full = a->routes.default4 || a->routes.default6;
	if (full && !a->dev.fwmark) {
		r = apply_fwmark(a, pol.full_table);
		if (r < 0)
			fprintf(stderr, "%s: full tunnel: fwmark %u on the UDP "
				"socket: %s\n", a->cfg.ifname, pol.full_table,
				strerror(-r));
	}
	wm_fulltunnel_sync(&a->fulltunnel, &a->netif, a->cfg.ifname,
			   a->routes.default4, a->routes.default6,
			   pol.full_table, pol.full_table);
}

static void api_peers_changed(void *ctx)
{
	peers_changed(ctx);
}

static int set_listen_port(struct wm_agent *a, uint16_t port)
{
	int fd, family;
	uint16_t bound;

	if (a->dev.udp.fd >= 0 && port == a->dev.listen_port && port)
		return 0;
	fd = wm_udp_open(port, a->dev.fwmark, &family, &bound);
	if (fd < 0)
		return fd;
	if (a->dev.udp.fd >= 0) {
		wm_loop_del(&a->loop, &a->udp_h);
		close(a->dev.udp.fd);
	}
	a->dev.udp.fd = fd;
	a->dev.udp.family = family;
	/* Offloads, unless turned off (for comparison and tests). */
	if (!getenv("WIREMESH_UDP_OFFLOAD") ||
	    strcmp(getenv("WIREMESH_UDP_OFFLOAD"), "0") != 0)
		wm_udp_offloads(&a->dev.udp);
	else
		a->dev.udp.gso = a->dev.udp.gro = false;
	fprintf(stderr, "%s: UDP offloads: GSO %s, GRO %s\n", a->cfg.ifname,
		a->dev.udp.gso ? "on" : "off", a->dev.udp.gro ? "on" : "off");
	a->dev.listen_port = bound;
	if (a->portmap)
		wm_portmap_set_port(a->portmap, bound);
	a->udp_h.fd = fd;
	return wm_loop_add(&a->loop, &a->udp_h, EPOLLIN);
}

static bool same_strings(const struct wm_strings *x, const struct wm_strings *y)
{
	if (x->len != y->len)
		return false;
	for (size_t i = 0; i < x->len; i++)
		if (strcmp(x->items[i], y->items[i]) != 0)
			return false;
	return true;
}

/* The same relays, in the same order (their line numbers aside). */
static bool relays_equal(const struct wm_config *x, const struct wm_config *y)
{
	if (x->n_relays != y->n_relays)
		return false;
	for (size_t i = 0; i < x->n_relays; i++) {
		const struct wm_config_relay *r = &x->relays[i], *s = &y->relays[i];

		if (strcmp(r->endpoint, s->endpoint) ||
		    strcmp(r->tcp, s->tcp) ||
		    memcmp(r->public_key, s->public_key, 32))
			return false;
	}
	return true;
}

/* What a reload does not apply (the interface, the relay and STUN
 * clients and the API listeners are set up once) is named, and the
 * running values are kept, so the config the agent reports stays true. */
static void keep_unapplied(struct wm_agent *a, struct wm_config *cfg)
{
	struct wm_config *old = &a->cfg;
	bool addrs = cfg->addresses.len != old->addresses.len;

	for (size_t i = 0; !addrs && i < cfg->addresses.len; i++)
		addrs = !wm_cidr_equal(&cfg->addresses.items[i],
				       &old->addresses.items[i]);
#define KEEP(changed, key, field)                                               \
	do {                                                                    \
		if (changed) {                                                  \
			fprintf(stderr, "%s: %s changed: restart the agent to "  \
				"apply it\n", a->config_path, key);             \
			memcpy(&cfg->field, &old->field, sizeof(cfg->field));  \
		}                                                               \
	} while (0)
	KEEP(cfg->mtu != old->mtu, "MTU", mtu);
	KEEP(strcmp(cfg->relay, old->relay) != 0, "Relay", relay);
	KEEP(strcmp(cfg->relay_tcp, old->relay_tcp) != 0, "RelayTCP", relay_tcp);
	KEEP(memcmp(cfg->relay_public_key, old->relay_public_key, 32) != 0,
	     "RelayPublicKey", relay_public_key);
	KEEP(strcmp(cfg->api_socket, old->api_socket) != 0, "API", api_socket);
	KEEP(strcmp(cfg->api_listen, old->api_listen) != 0, "APIListen", api_listen);
	KEEP(cfg->fwmark != old->fwmark, "FwMark", fwmark);
#undef KEEP
	if (!relays_equal(cfg, old)) {
		fprintf(stderr, "%s: relays changed: restart the agent to apply "
			"them\n", a->config_path);
		memcpy(cfg->relays, old->relays, sizeof(cfg->relays));
		cfg->n_relays = old->n_relays;
	}
	if (addrs)
		fprintf(stderr, "%s: Address changed: restart the agent to apply it\n",
			a->config_path);
	if (cfg->n_stun != old->n_stun)
		fprintf(stderr, "%s: STUN changed: restart the agent to apply it\n",
			a->config_path);
	if (!same_strings(&cfg->dns, &old->dns))
		fprintf(stderr, "%s: DNS changed: restart the agent to apply it\n",
			a->config_path);
}

/* SIGHUP: read the file again; peers are synced in place so unchanged
 * ones keep their sessions. A bad file changes nothing. */
static int reload(struct wm_agent *a)
{
	struct wm_config cfg;
	int r;

	if (!wm_config_load(&cfg, a->config_path, stderr)) {
		fprintf(stderr, "%s: reload refused, keeping the running config\n",
			a->config_path);
		return -EINVAL;
	}
	keep_unapplied(a, &cfg);
	wm_device_set_private_key(&a->dev, cfg.private_key);
	r = wm_device_sync_peers(&a->dev, &cfg);
	if (r < 0)
		fprintf(stderr, "%s: reload: %s\n", a->config_path, strerror(-r));
	if (cfg.listen_port && cfg.listen_port != a->dev.listen_port)
		set_listen_port(a, cfg.listen_port);
	wm_config_free(&a->cfg);
	a->cfg = cfg;
	a->dev.birthday_off = a->cfg.birthday_off;
	/* The stack copy holds the private key and the peers' PSK pointers:
	 * a->cfg owns them now. */
	wm_memzero(&cfg, sizeof(cfg));
	peers_changed(a);
	fprintf(stderr, "%s: reloaded, %zu peers\n", a->config_path,
		a->dev.peer_count);
	return r;
}

/* The port is pinned from now on: SaveConfig writes it (saveconfig.h). */
static int uapi_set_port(void *ctx, uint16_t port)
{
	struct wm_agent *a = ctx;
	int r = set_listen_port(a, port);

	if (r == 0 && port)
		a->cfg.listen_port = port;
	return r;
}

/* Applied to the open socket at once; a later rebind reads dev->fwmark. */
static int uapi_set_fwmark(void *ctx, uint32_t mark)
{
	struct wm_agent *a = ctx;
	int r = apply_fwmark(a, mark);

	if (r < 0)
		return r;
	a->cfg.fwmark = mark; /* running: a reload of a saved file agrees */
	return 0;
}

static void uapi_changed(void *ctx)
{
	struct wm_agent *a = ctx;
	int r;

	peers_changed(a);
	/* `wg set` changes persist like API changes do. */
	if (a->cfg.save_config && (r = wm_saveconfig_write(&a->cfg, &a->dev)) < 0)
		fprintf(stderr, "%s: SaveConfig: %s\n", a->config_path,
			strerror(-r));
}

static void uapi_peer_added(void *ctx, const struct wm_peer *p)
{
	struct wm_agent *a = ctx;

	wm_agent_api_peer_added(a->api, p);
}

static void uapi_peer_removing(void *ctx, const struct wm_peer *p)
{
	struct wm_agent *a = ctx;

	wm_agent_api_peer_removing(a->api, p);
}

static int setup_interface(struct wm_agent *a)
{
	char name[IFNAMSIZ];
	int r;

	r = wm_tun_open_offload(a->cfg.ifname, name, &a->tun_offloads);
	if (r < 0) {
		fprintf(stderr, "%s: open TUN: %s\n", a->cfg.ifname, strerror(-r));
		return r;
	}
	a->dev.tun_fd = r;
	fprintf(stderr, "%s: TUN offloads %s (0x%x)\n", name,
		a->tun_offloads ? "on" : "off", a->tun_offloads);
	if (a->tun_offloads) {
		a->tun_segs = malloc((size_t)WM_TUN_SEGS * WM_TUN_SEG_SLOT);
		if (!a->tun_segs)
			return -ENOMEM;
	}
	r = wm_tun_writer_init(&a->tun_out, a->dev.tun_fd, a->tun_offloads != 0);
	if (r < 0)
		return r;
	a->dev.tun_out = &a->tun_out;
	r = wm_netif_open(&a->netif);
	if (r < 0)
		goto fail;
	a->ifindex = wm_netif_ifindex(&a->netif, name);
	if (a->ifindex < 0) {
		r = a->ifindex;
		goto fail;
	}
	r = wm_netif_set_mtu(&a->netif, a->ifindex, a->dev.mtu);
	for (size_t i = 0; r == 0 && i < a->cfg.addresses.len; i++)
		r = wm_netif_add_address(&a->netif, a->ifindex,
					 &a->cfg.addresses.items[i]);
	if (r == 0)
		r = wm_netif_set_up(&a->netif, a->ifindex, true);
	if (r < 0)
		goto fail;
	peers_changed(a);
	return 0;
fail:
	fprintf(stderr, "%s: configure interface: %s\n", a->cfg.ifname,
		a->netif.error[0] ? a->netif.error : strerror(-r));
	return r;
}

static int setup_signals(struct wm_agent *a)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	int r;

	a->sig_h = (struct wm_loop_handler){ -1, on_signal, a };
	r = wm_loop_add_signals(&a->loop, &a->sig_h, sigs, 3);
	a->sig_fd = a->sig_h.fd;
	return r;
}

/* A session with each relay (relays.h); none without relays. */
static int start_relays(struct wm_agent *a)
{
	int r;

	wm_relays_init(&a->relays, a);
	for (size_t i = 0; i < a->cfg.n_relays; i++) {
		const struct wm_config_relay *c = &a->cfg.relays[i];
		const struct wm_relay_client_setup su = {
			.name = a->cfg.ifname,
			.udp = c->endpoint,
			.tcp = c->tcp,
			.public_key = c->public_key,
			.local = &a->dev.local,
			.udp_socket = &a->dev.udp,
			.loop = &a->loop,
			.on_tcp = on_relay_tcp,
			.resolve = wm_names_resolve,
			.resolve_ctx = a->resolver,
		};

		r = wm_relays_add(&a->relays, &su);
		if (r < 0)
			return r;
	}
	if (a->cfg.n_relays)
		a->dev.relays = &a->relays;
	return 0;
}

static int start(struct wm_agent *a)
{
	static const struct wm_uapi_ops base_ops = {
		.set_listen_port = uapi_set_port,
		.set_fwmark = uapi_set_fwmark,
		.changed = uapi_changed,
		.peer_added = uapi_peer_added,
		.peer_removing = uapi_peer_removing,
	};
	struct wm_uapi_ops ops = base_ops;
	int r;

	r = wm_device_init(&a->dev, a->cfg.ifname);
	if (r < 0)
		return r;
	/* Behave as agents before disco version 2 did (interop tests). */
	a->dev.disco_v1_only = getenv("WIREMESH_DISCO_V1") &&
			       strcmp(getenv("WIREMESH_DISCO_V1"), "1") == 0;
	/* With a relay, leave room for its framing (relay/proto.h); plain
	 * WireGuard setups keep wg-quick's 1420. */
	if (a->cfg.mtu)
		a->dev.mtu = a->cfg.mtu;
	else if (a->cfg.n_relays)
		a->dev.mtu = WM_RELAY_PATH_MTU;
	a->dev.fwmark = a->cfg.fwmark;
	a->dev.birthday_off = a->cfg.birthday_off;
	/* wiremesh-wg has no key until `wg setconf` gives one. */
	if (!a->wg_mode)
		wm_device_set_private_key(&a->dev, a->cfg.private_key);
	a->identity_changes = a->dev.identity_changes;
	r = wm_device_sync_peers(&a->dev, &a->cfg);
	if (r < 0)
		return r;
	a->rx_bufs = malloc((size_t)WM_RX_BATCH * WM_RX_SLOT);
	a->tun_buf = malloc(WM_BUF_SIZE + WM_VNET_HDR_LEN);
	if (!a->rx_bufs || !a->tun_buf)
		return -ENOMEM;
	r = wm_loop_init(&a->loop, WM_TIMERS_TICK_MS);
	if (r < 0)
		return r;
	a->udp_h = (struct wm_loop_handler){ -1, on_udp, a };
	r = wm_peer_birthday_init(&a->bday, &a->dev, &a->loop);
	if (r < 0)
		return r;
	r = set_listen_port(a, a->cfg.listen_port);
	if (r < 0) {
		fprintf(stderr, "%s: UDP port %u: %s\n", a->config_path,
			a->cfg.listen_port, strerror(-r));
		return r;
	}
	r = start_resolver(a);
	if (r == 0)
		r = start_portmap(a);
	if (r < 0)
		return r;
	r = start_relays(a);
	if (r < 0)
		return r;
	if (a->cfg.n_stun || a->cfg.n_relays) {
		wm_stun_client_init(&a->stun);
		wm_stun_client_set_resolver(&a->stun, wm_names_resolve,
					    a->resolver);
		for (size_t i = 0; i < a->cfg.n_stun; i++)
			wm_stun_client_add(&a->stun, a->cfg.stun[i]);
		/* Every relay answers STUN too (while there is room). */
		for (size_t i = 0; i < a->cfg.n_relays; i++)
			if (a->cfg.relays[i].endpoint[0])
				wm_stun_client_add(&a->stun,
						   a->cfg.relays[i].endpoint);
		a->dev.stun = &a->stun;
	}
	/* wg-quick's order: PreUp before the interface exists, DNS once it
	 * is up with its routes (hooks.h). */
	if (wm_hooks_run(WM_HOOK_PRE_UP, &a->cfg.hooks[WM_HOOK_PRE_UP],
			 a->cfg.ifname) < 0) {
		fprintf(stderr, "%s: startup aborted: PreUp failed\n",
			a->cfg.ifname);
		return -ECANCELED;
	}
	r = setup_interface(a);
	if (r < 0)
		return r;
	r = wm_dns_set(&a->cfg.dns, a->cfg.ifname);
	if (r < 0) {
		fprintf(stderr, "%s: startup aborted: DNS (resolvconf) failed\n",
			a->cfg.ifname);
		return -ECANCELED;
	}
	a->dns_set = r > 0;
	a->tun_h = (struct wm_loop_handler){ a->dev.tun_fd, on_tun, a };
	r = wm_loop_add(&a->loop, &a->tun_h, EPOLLIN);
	if (r == 0)
		r = wm_loop_add_tick(&a->loop, on_tick, a);
	if (r == 0)
		r = wm_device_batch_sends(&a->dev);
	if (r == 0)
		wm_loop_set_round_end(&a->loop, on_round_end, a);
	if (r == 0)
		r = setup_signals(a);
	if (r < 0)
		return r;
	ops.ctx = a;
	r = wm_uapi_open(&a->uapi, &a->loop, &a->dev, a->cfg.ifname, &ops);
	if (r < 0) {
		fprintf(stderr, "%s: wg UAPI socket: %s\n", a->cfg.ifname,
			strerror(-r));
		return r;
	}
	if (a->wg_mode)
		return 0; /* wireguard-go has the UAPI only */
	a->view = (struct wm_agent_view){
		.dev = &a->dev,
		.cfg = &a->cfg,
		.relays = a->dev.relays,
		.stun = a->dev.stun,
		.portmap = a->portmap,
		.peers_changed = api_peers_changed,
		.deliver_events = deliver_events,
		.ctx = a,
	};
	r = wm_agent_api_open(&a->api, &a->loop, &a->view);
	if (r < 0)
		fprintf(stderr, "%s: REST API: %s\n", a->cfg.ifname, strerror(-r));
	return r;
}

static void stop(struct wm_agent *a)
{
	/* First: deleting the mapping takes a round trip to the gateway. */
	wm_portmap_free(a->portmap);
	if (a->api)
		wm_api_close(a->api);
	if (a->uapi)
		wm_uapi_close(a->uapi);
	wm_relays_free(&a->relays); /* also a set start() left half made */
	for (struct wm_peer *p = a->dev.peers; p; p = p->next)
		wm_timers_stop(&p->timers);
	if (a->up_done)
		wm_hooks_run(WM_HOOK_PRE_DOWN, &a->cfg.hooks[WM_HOOK_PRE_DOWN],
			     a->cfg.ifname);
	if (a->dns_set)
		wm_dns_unset(a->cfg.ifname);
	/* Rules name no interface: they outlive it unless removed. */
	if (a->netif.sk)
		wm_fulltunnel_stop(&a->fulltunnel, &a->netif, a->cfg.ifname);
	/* Closing the TUN removes the link, and with it its addresses and
	 * routes. */
	wm_peer_birthday_free(&a->bday);
	if (a->dev.tun_fd >= 0)
		close(a->dev.tun_fd);
	if (a->dev.udp.fd >= 0)
		close(a->dev.udp.fd);
	if (a->up_done)
		wm_hooks_run(WM_HOOK_POST_DOWN, &a->cfg.hooks[WM_HOOK_POST_DOWN],
			     a->cfg.ifname);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	wm_netif_close(&a->netif);
	wm_routes_free(&a->routes);
	wm_resolver_free(a->resolver);
	wm_loop_close(&a->loop);
	wm_device_free(&a->dev);
	wm_config_free(&a->cfg);
	free(a->rx_bufs);
	free(a->tun_buf);
	free(a->tun_segs);
	wm_tun_writer_free(&a->tun_out);
}

/* Everything is open: keep CAP_NET_ADMIN only (privileges.h). A process
 * that cannot lower its own capabilities does not run with them. */
static int drop_privileges(struct wm_agent *a)
{
	int r = wm_privileges_drop();

	if (r == 0)
		fprintf(stderr, "%s: capabilities dropped: CAP_NET_ADMIN only\n",
			a->dev.ifname);
	else if (r < 0)
		fprintf(stderr, "%s: cannot drop capabilities: %s\n",
			a->dev.ifname, strerror(-r));
	return r < 0 ? r : 0;
}

static int run_agent(struct wm_agent *a, int ready_fd);

int wm_cmd_agent(int argc, char **argv)
{
	struct wm_agent *a;
	const char *path = NULL;
	bool check = false;
	int r;

	r = wm_cmd_args(argc, argv, "agent", &path, &check);
	if (r)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	a->sig_fd = -1;
	a->dev.udp.fd = a->dev.tun_fd = -1;
	snprintf(a->config_path, sizeof(a->config_path), "%s", path);
	/* Names are looked up in the background once running; a check has
	 * no loop to keep going, so it looks them up now. */
	if (!wm_config_load(&a->cfg, path, stderr) ||
	    (check && !wm_config_resolve(&a->cfg, stderr))) {
		free(a);
		return 2;
	}
	if (check) {
		printf("%s: ok (%s, %zu peers)\n", path, a->cfg.ifname,
		       a->cfg.n_peers);
		wm_config_free(&a->cfg);
		free(a);
		return 0;
	}
	return run_agent(a, -1);
}

/* Up, then the loop until a signal (or the interface goes), then down.
 * ready_fd >= 0: a waiting parent (daemon.h) to tell once up. */
static int run_agent(struct wm_agent *a, int ready_fd)
{
	int c, r = start(a);

	/* PostUp with the privileges the agent was started with; a failure
	 * aborts, as in wg-quick (hooks.h). */
	if (r == 0 && wm_hooks_run(WM_HOOK_POST_UP,
				   &a->cfg.hooks[WM_HOOK_POST_UP],
				   a->cfg.ifname) < 0) {
		fprintf(stderr, "%s: startup aborted: PostUp failed\n",
			a->cfg.ifname);
		r = -ECANCELED;
	}
	a->up_done = r == 0;
	if (r == 0)
		r = drop_privileges(a);
	if (r == 0) {
		fprintf(stderr, "%s: up, listening on UDP %u, %zu peers\n",
			a->dev.ifname, a->dev.listen_port, a->dev.peer_count);
		wm_sd_notify("READY=1");
		if (ready_fd >= 0)
			wm_daemon_ready(ready_fd);
		r = wm_loop_run(&a->loop);
	}
	c = r < 0 ? 1 : 0;
	stop(a);
	free(a);
	return c;
}

static int wg_usage(void)
{
	fprintf(stderr, "usage: wiremesh-wg [-f|--foreground] IFNAME\n"
		"  a userspace WireGuard interface configured with wg(8), as "
		"wireguard-go;\n  for wg-quick: "
		"WG_QUICK_USERSPACE_IMPLEMENTATION=wiremesh-wg wg-quick up IF\n");
	return 2;
}

int wm_cmd_wg(int argc, char **argv)
{
	const char *fg = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = fg && strcmp(fg, "1") == 0;
	char file[WM_IFNAME_MAX + 8];
	const char *ifname = NULL;
	struct wm_agent *a;
	int ready = -1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--foreground"))
			foreground = true;
		else if (!strcmp(argv[i], "--version"))
			return printf("wiremesh-wg %s\n", WM_VERSION) < 0;
		else if (argv[i][0] == '-' || ifname)
			return wg_usage();
		else
			ifname = argv[i];
	}
	snprintf(file, sizeof(file), "%s.conf", ifname ? ifname : "");
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	if (!ifname || strlen(ifname) >= WM_IFNAME_MAX ||
	    !wm_parse_ifname(a->cfg.ifname, file)) {
		free(a);
		return wg_usage();
	}
	a->wg_mode = true;
	a->sig_fd = -1;
	a->dev.udp.fd = a->dev.tun_fd = -1;
	snprintf(a->config_path, sizeof(a->config_path), "%s", ifname);
	snprintf(a->cfg.path, sizeof(a->cfg.path), "%s", ifname);
	/* wg-quick sets addresses, routes, rules and DNS itself; a plain
	 * WireGuard interface asks no gateway for a port. */
	a->cfg.table_mode = WM_TABLE_OFF;
	a->cfg.port_mapping_off = true;
	if (!foreground) {
		ready = wm_daemon_begin(); /* the parent exits in there */
		if (ready < 0) {
			fprintf(stderr, "%s: fork: %s\n", ifname, strerror(-ready));
			free(a);
			return 1;
		}
	}
	return run_agent(a, ready);
}
