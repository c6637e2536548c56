/*
 * agent.h - `wiremesh agent`: the composition of one running interface:
 * config, device, TUN, netlink, sockets, the loop and the management
 * surfaces (wg UAPI, REST API). main() owns the one struct wm_agent.
 */
#ifndef WM_AGENT_H
#define WM_AGENT_H

#include "agent/agent_api.h"
#include "agent/config.h"
#include "agent/device.h"
#include "agent/fulltunnel.h"
#include "agent/loop.h"
#include "agent/peer_birthday.h"
#include "agent/relays.h"
#include "agent/resolver.h"
#include "agent/nat/portmap.h"
#include "agent/nat/stun_client.h"
#include "agent/route_sync.h"
#include "agent/send.h"
#include "agent/tun_writer.h"
#include "netif/link.h"

struct wm_uapi;
struct wm_api;

/* recvmmsg batch (with UDP_GRO a slot may hold up to 64 KB of
 * datagrams); segments of one TUN super-packet sent at a time, each in a
 * slot of WM_TUN_SEG_SLOT bytes (headroom, the largest MTU, tailroom). */
enum { WM_RX_BATCH = 8, WM_RX_SLOT = 65536, WM_TUN_SEGS = 64,
       WM_TUN_SEG_SLOT = (WM_HEADROOM + WM_MTU_MAX + WM_TAILROOM + 63) & ~63 };

struct wm_agent {
	char config_path[WM_CONFIG_PATH_MAX];
	struct wm_config cfg;
	struct wm_device dev;
	struct wm_loop loop;
	struct wm_netif netif;
	int ifindex;
	struct wm_routes routes;
	struct wm_fulltunnel fulltunnel;
	bool dns_set;  /* resolvconf -a ran: -d at stop */
	bool up_done;  /* PostUp succeeded: PreDown and PostDown at stop */
	bool wg_mode;  /* `wiremesh-wg IFNAME`: no file, no key until `wg
			* setconf`, no REST API; wg-quick does the routes */
	struct wm_uapi *uapi;
	struct wm_api *api;
	struct wm_agent_view view; /* what the API adapter sees */
	struct wm_relays relays;   /* dev.relays, when there are any */
	unsigned identity_changes; /* dev.identity_changes acted upon */
	struct wm_stun_client stun;
	unsigned stun_generation;
	struct wm_resolver *resolver; /* host names, off the loop */
	struct wm_loop_handler resolver_h;
	struct wm_portmap *portmap;   /* NULL: PortMapping = off */
	struct wm_loop_handler portmap_h;

	struct wm_peer_birthday bday; /* birthday probing's sockets */

	struct wm_loop_handler udp_h, tun_h, sig_h;
	int sig_fd;
	uint64_t next_candidates_ns;

	uint8_t *rx_bufs;  /* WM_RX_BATCH slots of WM_RX_SLOT bytes */
	uint8_t *tun_buf;  /* WM_BUF_SIZE + WM_VNET_HDR_LEN: one read with
			    * its virtio header (offloads on), head/tailroom */
	unsigned tun_offloads;          /* TUN_F_* the kernel took; 0: plain */
	uint8_t *tun_segs;              /* WM_TUN_SEGS slots (offloads on) */
	size_t tun_seg_len[WM_TUN_SEGS];
	struct wm_tun_writer tun_out;   /* dev.tun_out */
};

/* The `agent` subcommand. */
int wm_cmd_agent(int argc, char **argv);
/* `wiremesh-wg [-f] IFNAME` (the binary called by that name), a drop-in
 * for `wireguard-go IFNAME` under wg-quick: the TUN and the UAPI socket,
 * configured through `wg setconf`; in the background unless -f or
 * WG_PROCESS_FOREGROUND=1; exits when the interface is deleted. */
int wm_cmd_wg(int argc, char **argv);


#endif
