/* See device.h. */
#include "agent/device.h"
#include "agent/wg/clock.h"
#include "crypto/ct.h"
#include "crypto/random.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wm_device_init(struct wm_device *dev, const char *ifname)
{
	uint8_t seed[WM_RATELIMIT_SEED_SIZE];
	int r;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	dev->udp.fd = dev->tun_fd = -1;
	dev->rx_bday_fd = -1;
	dev->rx_sock_fd = -1;
	dev->mtu = WM_MTU_DEFAULT;
	dev->random = wm_random_bytes;
	wm_allowedips_init(&dev->allowedips);
	r = wm_random_bytes(seed, sizeof(seed));
	if (r == 0)
		r = wm_ratelimit_init(&dev->ratelimit, 0,
				      WM_HANDSHAKES_PER_SOURCE, 0, seed);
	wm_memzero(seed, sizeof(seed));
	if (r == 0) {
		r = wm_index_init(&dev->index);
		if (r < 0)
			wm_ratelimit_free(&dev->ratelimit);
	}
	if (r < 0)
		wm_allowedips_free(&dev->allowedips);
	return r;
}

int wm_device_batch_sends(struct wm_device *dev)
{
	return wm_txq_init(&dev->txq, &dev->udp);
}

void wm_device_free(struct wm_device *dev)
{
	wm_txq_free(&dev->txq);
	wm_device_remove_all_peers(dev);
	wm_allowedips_free(&dev->allowedips);
	wm_index_free(&dev->index);
	wm_ratelimit_free(&dev->ratelimit);
	wm_memzero(&dev->local, sizeof(dev->local));
	wm_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
}

void wm_device_set_private_key(struct wm_device *dev, const uint8_t key[32])
{
	struct wm_peer *p, *next;

	if (dev->has_private_key &&
	    wm_ct_memeq(dev->local.private_key, key, WM_KEY_SIZE))
		return;
	wm_noise_local_init(&dev->local, key);
	dev->has_private_key = true;
	wm_cookie_checker_init(&dev->cookie_checker, dev->local.public_key);
	for (p = dev->peers; p; p = next) {
		next = p->next;
		if (memcmp(p->public_key, dev->local.public_key, WM_KEY_SIZE) == 0) {
			wm_device_remove_peer(dev, p);
			continue;
		}
		wm_noise_peer_rekey_local(&p->noise, &dev->local);
		p->disco.have_key = false;
		wm_peer_zero_sessions(p);
	}
	dev->identity_changes++;
}

void wm_device_clear_private_key(struct wm_device *dev)
{
	if (!dev->has_private_key)
		return;
	wm_memzero(&dev->local, sizeof(dev->local));
	dev->has_private_key = false;
	wm_cookie_checker_init(&dev->cookie_checker, dev->local.public_key);
	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		wm_memzero(p->noise.precomputed_ss, WM_KEY_SIZE);
		p->disco.have_key = false;
		wm_peer_zero_sessions(p);
	}
}

struct wm_peer *wm_device_find_peer(const struct wm_device *dev,
				    const uint8_t key[32])
{
	for (struct wm_peer *p = dev->peers; p; p = p->next)
		if (memcmp(p->public_key, key, WM_KEY_SIZE) == 0)
			return p;
	return NULL;
}

struct wm_peer *wm_device_add_peer(struct wm_device *dev,
				   const uint8_t key[32])
{
	struct wm_peer *p, **tail;
	uint64_t seed = 0;

	if (dev->has_private_key &&
	    memcmp(key, dev->local.public_key, WM_KEY_SIZE) == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (wm_device_find_peer(dev, key)) {
		errno = EEXIST;
		return NULL;
	}
	/* Only timer jitter comes from it; a failed read leaves it 0. */
	(void)wm_random_bytes(&seed, sizeof(seed));
	p = wm_peer_new(&dev->local, &dev->index, key, seed);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->dev = dev;
	/* Append, so listings keep the order peers were configured in. */
	for (tail = &dev->peers; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	dev->peer_count++;
	return p;
}

void wm_device_remove_peer(struct wm_device *dev, struct wm_peer *p)
{
	for (struct wm_peer **pp = &dev->peers; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			dev->peer_count--;
			break;
		}
	}
	wm_allowedips_remove_peer(&dev->allowedips, p);
	wm_peer_free(p);
}

void wm_device_remove_all_peers(struct wm_device *dev)
{
	while (dev->peers)
		wm_device_remove_peer(dev, dev->peers);
}

int wm_device_add_allowed_ip(struct wm_device *dev, struct wm_peer *p,
			     const struct wm_cidr *c)
{
	return wm_allowedips_insert(&dev->allowedips, c, p);
}

/* Whether the prefix c (masked here) is one of list's (masked). */
static bool has_prefix(const struct wm_cidr *list, size_t n,
		       const struct wm_cidr *c)
{
	struct wm_cidr m = *c;

	wm_cidr_mask(&m);
	for (size_t i = 0; i < n; i++) {
		struct wm_cidr l = list[i];

		wm_cidr_mask(&l);
		if (wm_cidr_equal(&m, &l))
			return true;
	}
	return false;
}

/* The same set of prefixes, whatever the order and repeats. */
static bool same_prefixes(const struct wm_cidr *a, size_t na,
			  const struct wm_cidr *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		if (!has_prefix(b, nb, &a[i]))
			return false;
	for (size_t i = 0; i < nb; i++)
		if (!has_prefix(a, na, &b[i]))
			return false;
	return true;
}

int wm_device_set_allowed_ips(struct wm_device *dev, struct wm_peer *p,
			      const struct wm_cidr *c, size_t n)
{
	struct wm_cidr old[256];
	size_t nold = wm_allowedips_list(&dev->allowedips, p, old, 256);
	int r = 0;

	/* Unchanged lists are common (reloads): leave the trie alone. A
	 * full listing may be cut short: no shortcut then. */
	if (nold < 256 && same_prefixes(c, n, old, nold))
		return 0;
	wm_allowedips_remove_peer(&dev->allowedips, p);
	for (size_t i = 0; i < n && r == 0; i++)
		r = wm_allowedips_insert(&dev->allowedips, &c[i], p);
	return r;
}

void wm_device_set_keepalive(struct wm_device *dev, struct wm_peer *p,
			     uint16_t secs)
{
	(void)dev;
	wm_peer_set_keepalive(p, secs, wm_now_ns());
}

int wm_device_apply_peer(struct wm_device *dev,
			 const struct wm_peer_config *pc, struct wm_peer **out)
{
	struct wm_peer *p = wm_device_find_peer(dev, pc->public_key);
	bool created = !p;
	int r;

	if (!p) {
		p = wm_device_add_peer(dev, pc->public_key);
		if (!p)
			return -errno;
	}
	if (!wm_ct_memeq(p->noise.preshared_key, pc->psk, WM_KEY_SIZE))
		wm_peer_set_psk(p, pc->has_psk ? pc->psk : NULL);
	r = wm_device_set_allowed_ips(dev, p, pc->allowed_ips.items,
				      pc->allowed_ips.len);
	if (r < 0) {
		/* No half-added peer: it was never announced nor saved. */
		if (created)
			wm_device_remove_peer(dev, p);
		return r;
	}
	/* A roamed endpoint that works beats a configured one that did not
	 * change; a changed one is the operator's word and wins. */
	if (pc->has_endpoint &&
	    (!wm_peer_has_endpoint(p) || !p->path.direct_rx_ns ||
	     !wm_sockaddr_equal(&pc->endpoint, &p->config_endpoint)))
		wm_peer_set_endpoint(p, &pc->endpoint, WM_EP_CONFIG);
	p->path_mode = pc->path_mode;
	memcpy(p->name, pc->name, sizeof(p->name));
	wm_device_set_keepalive(dev, p, pc->persistent_keepalive);
	if (out)
		*out = p;
	return 0;
}

int wm_device_sync_peers(struct wm_device *dev, const struct wm_config *cfg)
{
	struct wm_peer *p, *next;
	int r;

	for (p = dev->peers; p; p = next) {
		bool keep = false;
		next = p->next;
		for (size_t i = 0; i < cfg->n_peers && !keep; i++)
			keep = memcmp(cfg->peers[i].public_key, p->public_key,
				      WM_KEY_SIZE) == 0;
		if (!keep)
			wm_device_remove_peer(dev, p);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		r = wm_device_apply_peer(dev, &cfg->peers[i], NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
