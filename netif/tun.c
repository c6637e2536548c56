/* See tun.h. */
#include "netif/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_tun(const char *name, char actual[IFNAMSIZ], short flags)
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
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | flags);

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

int wm_tun_open(const char *name, char actual[IFNAMSIZ])
{
	return open_tun(name, actual, 0);
}

/* The first set the kernel takes, or 0: USO came after TSO. */
static unsigned set_offloads(int fd)
{
	static const unsigned tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	};
	int hdr = sizeof(struct virtio_net_hdr);

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0)
			return tries[i];
	return 0;
}

int wm_tun_open_offload(const char *name, char actual[IFNAMSIZ],
			unsigned *offloads)
{
	const char *env = getenv("WIREMESH_TUN_OFFLOAD");
	unsigned features = 0;
	int fd, probe;

	*offloads = 0;
	if (env && strcmp(env, "0") == 0)
		return open_tun(name, actual, 0);
	/* Ask before creating: a device made with IFF_VNET_HDR cannot
	 * drop it, so a refusal would mean making it again. */
	probe = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (probe >= 0) {
		if (ioctl(probe, TUNGETFEATURES, &features) < 0)
			features = 0;
		close(probe);
	}
	if (!(features & IFF_VNET_HDR))
		return open_tun(name, actual, 0);
	fd = open_tun(name, actual, IFF_VNET_HDR);
	if (fd < 0)
		return fd;
	*offloads = set_offloads(fd);
	if (*offloads)
		return fd;
	/* Not persistent: closing removes it, so it can be made plain. */
	close(fd);
	return open_tun(name, actual, 0);
}
