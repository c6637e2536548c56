/*
 * stun_probe - asks one STUN server for our reflexive address with the
 * agent's own codec (agent/nat/stun.c), for interop tests against real
 * servers (coturn) and against `wiremesh relay`.
 *
 *   stun_probe [--bind IP:PORT] [--timeout MS] [--tries N] SERVER_IP:PORT
 *
 * Prints "MAPPED <ip:port>" and exits 0 on an answer; exits 1 when no
 * valid answer came (every datagram that is not the answer is reported on
 * stderr), 2 on bad usage.
 */
#include "agent/nat/stun.h"
#include "crypto/random.h"
#include "netif/addr.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: stun_probe [--bind IP:PORT] [--timeout MS] [--tries N] "
	      "SERVER_IP:PORT\n", stderr);
	return 2;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits up to ms for the answer to txid; 1 found, 0 timeout, -1 error. */
static int await(int fd, const uint8_t *txid, long ms, union wm_sockaddr *mapped)
{
	long end = now_ms() + ms;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint8_t buf[1500];
		long left = end - now_ms();
		ssize_t n;

		if (left <= 0)
			return 0;
		if (poll(&p, 1, (int)left) < 0)
			return errno == EINTR ? 0 : -1;
		if (!(p.revents & POLLIN))
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			continue;
		if (wm_stun_parse_response(buf, (size_t)n, txid, mapped))
			return 1;
		fprintf(stderr, "stun_probe: ignored a %zd-byte datagram%s\n", n,
			wm_stun_is_stun(buf, (size_t)n) ? " (STUN, not our answer)" : "");
	}
}

int main(int argc, char **argv)
{
	union wm_sockaddr server, bind_to, mapped;
	char text[WM_SOCKADDR_STRLEN];
	long timeout = 1000;
	int tries = 3, fd, i;
	bool have_bind = false;

	for (i = 1; i < argc - 1; i += 2) {
		if (strcmp(argv[i], "--bind") == 0) {
			if (!wm_sockaddr_parse(&bind_to, argv[i + 1]))
				return usage();
			have_bind = true;
		} else if (strcmp(argv[i], "--timeout") == 0) {
			timeout = atol(argv[i + 1]);
		} else if (strcmp(argv[i], "--tries") == 0) {
			tries = atoi(argv[i + 1]);
		} else {
			return usage();
		}
	}
	if (i != argc - 1 || !wm_sockaddr_parse(&server, argv[i]) ||
	    timeout <= 0 || tries <= 0)
		return usage();
	fd = socket(server.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    (have_bind && bind(fd, &bind_to.sa, wm_sockaddr_len(&bind_to)) < 0) ||
	    connect(fd, &server.sa, wm_sockaddr_len(&server)) < 0) {
		perror("stun_probe: socket");
		return 1;
	}
	for (int t = 0; t < tries; t++) {
		uint8_t txid[WM_STUN_TXID_LEN], req[WM_STUN_REQUEST_LEN];
		int r;

		if (wm_random_bytes(txid, sizeof(txid)) < 0)
			return 1;
		wm_stun_build_request(req, txid);
		if (send(fd, req, sizeof(req), 0) < 0)
			perror("stun_probe: send");
		r = await(fd, txid, timeout, &mapped);
		if (r < 0)
			break;
		if (r == 1) {
			printf("MAPPED %s\n",
			       wm_sockaddr_format(text, sizeof(text), &mapped));
			close(fd);
			return 0;
		}
	}
	fprintf(stderr, "stun_probe: no answer from %s\n", argv[argc - 1]);
	close(fd);
	return 1;
}
