/*
 * netns.h - for unit tests that need real sockets: the test process moves
 * into a network namespace of its own with its loopback up, so nothing it
 * sends ever reaches the host's interfaces. Needs root (as the suite runs).
 */
#ifndef WM_TEST_NETNS_H
#define WM_TEST_NETNS_H

#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sets the loopback's flags (up) or MTU (mtu > 0). */
static inline bool test_lo_set(bool up, int mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (mtu > 0) {
		ifr.ifr_mtu = mtu;
		ok = ioctl(fd, SIOCSIFMTU, &ifr) == 0;
	} else {
		ok = ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
		if (up)
			ifr.ifr_flags |= IFF_UP;
		ok = ok && ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
	}
	close(fd);
	return ok;
}

/* Enters a new network namespace and brings its loopback up. */
static inline bool test_own_netns(void)
{
	return unshare(CLONE_NEWNET) == 0 && test_lo_set(true, 0);
}

#endif
