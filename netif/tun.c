/* See tun.h. */
#include "netif/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int wm_tun_open(const char *name, char actual[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, err;

	memset(&ifr, 0, sizeof(ifr));
	if (name) {
		size_t len = strlen(name);

		if (len >= IFNAMSIZ)
			return -EINVAL;
		memcpy(ifr.ifr_name, name, len);
	}
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/* The kernel fills in the name it chose for "" or a "%d" pattern. */
	memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = '\0';
	return fd;
}
