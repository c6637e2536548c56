/*
 * birthday.h - birthday probing: a direct path between an endpoint-
 * dependent ("hard", symmetric) NAT and an endpoint-independent or merely
 * filtering ("easy") one, which one socket per side cannot punch.
 *
 *   - Each side tells its mapping in CALL_ME_MAYBE (disco.h).
 *   - The hard side, when it is due (WM_BDAY_GRACE_S after it learnt the
 *     peer is easy, then with backoff), opens WM_BDAY_SOCKETS extra
 *     sockets and sends one PING from each to the easy side's candidates:
 *     its NAT now holds that many mappings, each open to the easy side's
 *     address. It then sends BIRTHDAY (its public address) through the
 *     relay.
 *   - The easy side, on BIRTHDAY, pings random ports of that IP (if it is
 *     public and one of the peer's candidates) from its one socket,
 *     WM_BDAY_PER_TICK a tick, WM_BDAY_PROBES in all, all with one txid. With 256 of 64,512 ports open and 1,024 probes, one
 *     lands on an open mapping about 98% of the time (1 - e^-4.06).
 *   - A probe that lands reaches one of the hard side's sockets: that
 *     socket becomes the peer's direct socket (the others close) and
 *     answers PONG, which the easy side's NAT lets through (its probe went
 *     out to that very port): the easy side has proven the path; the hard
 *     side proves it with its next ping from the winning socket.
 *   - An attempt lasts WM_BDAY_WINDOW_S; the next is due after
 *     WM_BDAY_BACKOFF_MIN_S, doubling to WM_BDAY_BACKOFF_MAX_S. Never
 *     when both sides are hard (no birthday can meet two moving
 *     targets), never in `relay` mode, never with BirthdayProbe = off.
 *
 * Pure: a state per peer, the time and the facts as arguments; it returns
 * what to do (open sockets, send probes to these addresses) and the agent
 * does it (agent/peer_birthday.c).
 */
#ifndef WM_BIRTHDAY_H
#define WM_BIRTHDAY_H

#include "agent/nat/disco.h"
#include "agent/nat/path.h"
#include "netif/addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	WM_BDAY_SOCKETS = 256,
	WM_BDAY_PROBES = 1024,
	WM_BDAY_PER_TICK = 32,       /* about 640 probes a second at 50 ms */
	WM_BDAY_WINDOW_S = 10,
	WM_BDAY_GRACE_S = 3,         /* let plain punching try first */
	WM_BDAY_BACKOFF_MIN_S = 30,
	WM_BDAY_BACKOFF_MAX_S = 480,
	WM_BDAY_EASY_GAP_S = 10,     /* the easy side's rest between attempts */
	WM_BDAY_PORT_MIN = 1024,     /* Linux's NAT picks 1024-65535 */
	WM_BDAY_TARGETS = 4,         /* easy-side addresses the hard side pings */
};

/* NAT mapping values as carried in disco (enum wm_nat_mapping). */
enum { WM_BDAY_MAP_UNKNOWN = 0, WM_BDAY_MAP_EASY = 1, WM_BDAY_MAP_HARD = 2 };

enum wm_bday_role { WM_BDAY_IDLE, WM_BDAY_HARD, WM_BDAY_EASY };

struct wm_birthday {
	uint8_t peer_mapping;     /* WM_BDAY_MAP_*, from its CALL_ME_MAYBE */
	uint64_t peer_easy_ns;    /* when we learnt it is easy; 0: not */
	enum wm_bday_role role;   /* the attempt under way, if any */
	uint64_t until_ns;        /* its end */
	uint64_t next_ns;         /* hard: no attempt before this */
	uint64_t easy_ok_ns;      /* easy: no attempt before this */
	unsigned backoff_s;
	union wm_sockaddr target; /* easy: the IP to probe (port ignored) */
	uint8_t txid[WM_DISCO_TXID]; /* easy: every probe's txid */
	uint64_t started_ns;
	unsigned sent;            /* easy: probes sent in this attempt */
	unsigned attempts;        /* attempts started, either role */
	bool won;                 /* this attempt found a path */
};

/* What the attempt decision needs to know. */
struct wm_bday_view {
	enum wm_path_mode mode;
	bool enabled;             /* BirthdayProbe */
	bool direct_proven;
	bool relay_up;
	uint8_t our_mapping;      /* WM_BDAY_MAP_* */
};

/* The peer said its mapping (CALL_ME_MAYBE). */
void wm_birthday_peer_mapping(struct wm_birthday *b, uint8_t mapping,
			      uint64_t now_ns);

/* True when the hard side should start an attempt now (we are hard, the
 * peer easy, no path, due); it is then under way (role HARD) and the
 * caller opens the sockets and sends BIRTHDAY. */
bool wm_birthday_hard_due(struct wm_birthday *b, const struct wm_bday_view *v,
			  uint64_t now_ns);

/* True for an address the internet can reach: none of private (RFC 1918),
 * shared (RFC 6598, carrier-grade NAT), unique local (fc00::/7),
 * loopback, link-local, unspecified or multicast. The documentation
 * ranges count as public (the lab's NATs use them). */
bool wm_birthday_public(const union wm_sockaddr *a);

/* The hard side's plan: of the peer's candidates cand[0..n_cand), the
 * public ones of one family, at most WM_BDAY_TARGETS into to, and in me
 * our public reflexive address (ours[0..n_ours), STUN's) of that family,
 * for the easy side to probe. The family is the first, in the peer's
 * order, that has both. The number of targets; 0: no attempt can be made. */
size_t wm_birthday_hard_targets(const union wm_sockaddr *cand, size_t n_cand,
				const union wm_sockaddr *ours, size_t n_ours,
				union wm_sockaddr to[WM_BDAY_TARGETS],
				union wm_sockaddr *me);

/* The peer sent BIRTHDAY naming target: true when we start probing it
 * (we are not hard ourselves, no attempt under way, not too soon after
 * the last one: a peer cannot make us a flood; target public: a peer
 * cannot point our probes at a host of our LAN or its gateway). random
 * fills the txid. */
bool wm_birthday_easy_start(struct wm_birthday *b, const struct wm_bday_view *v,
			    const union wm_sockaddr *target,
			    int (*random)(void *buf, size_t len), uint64_t now_ns);

/* The easy side's probes due now, at most cap into out (addresses with
 * random ports); the count. random: as above. */
size_t wm_birthday_easy_probes(struct wm_birthday *b, uint64_t now_ns,
			       int (*random)(void *buf, size_t len),
			       union wm_sockaddr *out, size_t cap);

/* True when txid is this easy attempt's (a PONG to one of its probes). */
bool wm_birthday_is_probe(const struct wm_birthday *b,
			  const uint8_t txid[WM_DISCO_TXID]);

/* The attempt found a path: it ends, and the next (should the path be
 * lost) waits WM_BDAY_BACKOFF_MIN_S. */
void wm_birthday_won(struct wm_birthday *b, uint64_t now_ns);

/* Ends an attempt whose window is over (or any attempt when stop);
 * schedules the next with backoff. True when an attempt ended here. */
bool wm_birthday_expire(struct wm_birthday *b, uint64_t now_ns, bool stop);

#endif
