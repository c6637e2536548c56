/* See portmap.h. */
#include "agent/nat/portmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <natpmp.h>
#include <poll.h>
#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* What deleting a UPnP mapping needs again. */
struct upnp_lease {
	char control_url[256], service[128], ext_port[8];
};

struct wm_portmap {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int wake_fd;
	bool stop;
	bool busy;       /* asking the gateway (the lock is not held) */
	bool orphaned;   /* freed while busy: the worker frees pm */
	uint16_t port;   /* wanted */
	unsigned gen;    /* bumps when port changes */
	struct wm_portmap_state st;
	int (*thread_setup)(void);
};

const char *wm_portmap_method_name(enum wm_portmap_method m)
{
	switch (m) {
	case WM_PORTMAP_NATPMP: return "nat-pmp";
	case WM_PORTMAP_UPNP: return "upnp";
	case WM_PORTMAP_NONE: break;
	}
	return "none";
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------- NAT-PMP */

/* Set by wm_portmap_free: the worker gives up what it is asking for at
 * its next look (a stop waits at most one UPnP discovery). */
static bool stopping(const bool *stop)
{
	return __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

/* One answer to the request in flight, retried as libnatpmp schedules,
 * for at most WM_PORTMAP_WAIT_MS. */
static bool natpmp_wait(natpmp_t *n, natpmpresp_t *resp, const bool *stop)
{
	uint64_t end = mono_ms() + WM_PORTMAP_WAIT_MS;

	for (;;) {
		/* poll, not select: birthday probing alone can hold hundreds
		 * of sockets, and an fd past FD_SETSIZE would overrun an
		 * fd_set. */
		struct pollfd pfd = { .fd = n->s, .events = POLLIN };
		struct timeval tv;
		uint64_t now = mono_ms(), left, wait;
		int r;

		if (now >= end || (stop && stopping(stop)))
			return false;
		left = end - now < 100 ? end - now : 100;
		if (getnatpmprequesttimeout(n, &tv) < 0)
			return false;
		wait = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
		if (wait > left)
			wait = left;
		if (poll(&pfd, 1, (int)wait) < 0 && errno != EINTR)
			return false;
		r = readnatpmpresponseorretry(n, resp);
		if (r == 0)
			return true;
		if (r != NATPMP_TRYAGAIN)
			return false;
	}
}

/* lifetime 0 deletes. stop NULL: not to be cut short. */
static bool natpmp_map(uint16_t port, unsigned lifetime,
		       struct wm_portmap_state *out, const bool *stop)
{
	natpmp_t n;
	natpmpresp_t resp;
	bool ok = false;

	if (initnatpmp(&n, 0, 0) < 0)
		return false;
	if (sendpublicaddressrequest(&n) >= 0 && natpmp_wait(&n, &resp, stop) &&
	    resp.type == NATPMP_RESPTYPE_PUBLICADDRESS) {
		memset(&out->external, 0, sizeof(out->external));
		out->external.in.sin_family = AF_INET;
		out->external.in.sin_addr = resp.pnu.publicaddress.addr;
		if (sendnewportmappingrequest(&n, NATPMP_PROTOCOL_UDP, port,
					      port, lifetime) >= 0 &&
		    natpmp_wait(&n, &resp, stop) &&
		    resp.type == NATPMP_RESPTYPE_UDPPORTMAPPING) {
			out->external.in.sin_port =
				htons(resp.pnu.newportmapping.mappedpublicport);
			out->lifetime_s = resp.pnu.newportmapping.lifetime;
			ok = lifetime == 0 ||
			     resp.pnu.newportmapping.mappedpublicport != 0;
		}
	}
	closenatpmp(&n);
	return ok;
}

/* ---------------------------------------------------------------- UPnP */

/* prefer: the external port to ask for first (on renewal the lease's:
 * adding the same mapping again renews it); 0: port. Then port, then one
 * other. lease is written only when a mapping was made. */
static bool upnp_map(uint16_t port, uint16_t prefer,
		     struct wm_portmap_state *out, struct upnp_lease *lease)
{
	struct UPNPDev *devs;
	struct UPNPUrls urls;
	struct IGDdatas data;
	struct upnp_lease l;
	char lan[64], ext_ip[40], in_port[8], life[16];
	unsigned ext[3];
	size_t n_ext = 0;
	struct in_addr ip;
	bool ok = false;
	int err = 0;

	ext[n_ext++] = prefer ? prefer : port;
	if (prefer && prefer != port)
		ext[n_ext++] = port;
	ext[n_ext++] = 1024 + (unsigned)(mono_ms() % 64000);
	devs = upnpDiscover(WM_PORTMAP_DISCOVER_MS, NULL, NULL,
			    UPNP_LOCAL_PORT_ANY, 0, 2, &err);
	if (!devs)
		return false;
	memset(&urls, 0, sizeof(urls));
	if (UPNP_GetValidIGD(devs, &urls, &data, lan, sizeof(lan)) == 1 &&
	    UPNP_GetExternalIPAddress(urls.controlURL, data.first.servicetype,
				      ext_ip) == UPNPCOMMAND_SUCCESS &&
	    inet_pton(AF_INET, ext_ip, &ip) == 1) {
		snprintf(in_port, sizeof(in_port), "%u", port);
		snprintf(life, sizeof(life), "%u", WM_PORTMAP_LIFETIME_S);
		for (size_t i = 0; i < n_ext && !ok; i++) {
			snprintf(l.ext_port, sizeof(l.ext_port), "%u", ext[i]);
			ok = UPNP_AddPortMapping(urls.controlURL,
						 data.first.servicetype,
						 l.ext_port, in_port, lan,
						 "wiremesh", "UDP", NULL,
						 life) == UPNPCOMMAND_SUCCESS;
			if (ok) {
				memset(&out->external, 0, sizeof(out->external));
				out->external.in.sin_family = AF_INET;
				out->external.in.sin_addr = ip;
				out->external.in.sin_port = htons((uint16_t)ext[i]);
				out->lifetime_s = WM_PORTMAP_LIFETIME_S;
			}
		}
		if (ok) {
			snprintf(l.control_url, sizeof(l.control_url), "%s",
				 urls.controlURL);
			snprintf(l.service, sizeof(l.service), "%s",
				 data.first.servicetype);
			*lease = l;
		}
	}
	FreeUPNPUrls(&urls);
	freeUPNPDevlist(devs);
	return ok;
}

static void upnp_unmap(const struct upnp_lease *lease)
{
	UPNP_DeletePortMapping(lease->control_url, lease->service,
			       lease->ext_port, "UDP", NULL);
}

/* ------------------------------------------------------------- worker */

static void destroy(struct wm_portmap *pm)
{
	close(pm->wake_fd);
	pthread_cond_destroy(&pm->cv);
	pthread_mutex_destroy(&pm->mu);
	free(pm);
}

static void publish(struct wm_portmap *pm, const struct wm_portmap_state *st)
{
	pm->st = *st;
	if (eventfd_write(pm->wake_fd, 1) < 0) {
		/* the loop still reads it on its candidate refresh */
	}
}

/* The mapping we hold on the gateway (granted, maybe since not renewed:
 * it lives until its lifetime ends), and what deleting it takes. */
struct held {
	struct wm_portmap_state st; /* method NONE: nothing held */
	uint16_t port;              /* our port it maps */
	uint64_t until_ms;          /* its lifetime's end */
	struct upnp_lease lease;
};

/* Asks once (NAT-PMP, then UPnP); returns the state to publish. A UPnP
 * mapping's lease goes to lease (only then). */
static struct wm_portmap_state ask(uint16_t port, unsigned attempts,
				   const struct held *h,
				   struct upnp_lease *lease, const bool *stop)
{
	struct wm_portmap_state st = { .attempts = attempts };
	uint16_t prefer = 0;

	if (h->st.method == WM_PORTMAP_UPNP && h->port == port)
		prefer = ntohs(h->st.external.in.sin_port);
	if (natpmp_map(port, WM_PORTMAP_LIFETIME_S, &st, stop))
		st.method = WM_PORTMAP_NATPMP;
	else if (!stopping(stop) && upnp_map(port, prefer, &st, lease))
		st.method = WM_PORTMAP_UPNP;
	else
		memset(&st.external, 0, sizeof(st.external));
	return st;
}

/* Deletes the held mapping, if it still lives. */
static void unmap(struct held *h)
{
	struct wm_portmap_state scratch;

	if (h->st.method && mono_ms() < h->until_ms) {
		if (h->st.method == WM_PORTMAP_NATPMP)
			natpmp_map(h->port, 0, &scratch, NULL);
		else
			upnp_unmap(&h->lease);
	}
	h->st.method = WM_PORTMAP_NONE;
}

/* Whether the held mapping is another entry on the gateway than the new
 * one st (of the same port), to be deleted. An external port is one
 * entry whatever the protocol that asked: the same one is the mapping
 * renewed (deleting it would delete the new). A NAT-PMP mapping is
 * never deleted for a UPnP one: NAT-PMP deletes by our port, which the
 * new one shares (miniupnpd keeps both in one table); it lapses. */
static bool replaced(const struct held *h, const struct wm_portmap_state *st)
{
	if (!h->st.method || h->st.method == WM_PORTMAP_NATPMP)
		return false;
	return h->st.external.in.sin_port != st->external.in.sin_port;
}

static void *worker(void *arg)
{
	struct wm_portmap *pm = arg;
	struct wm_portmap_state st = { 0 };
	struct held held = { .st = { 0 } };
	struct upnp_lease lease;
	unsigned attempts = 0;

	if (pm->thread_setup)
		(void)pm->thread_setup(); /* best effort, as the caller says */
	pthread_mutex_lock(&pm->mu);
	while (!pm->stop) {
		uint16_t port = pm->port;
		unsigned gen = pm->gen, wait_s;
		struct timespec until;

		pm->busy = true;
		pthread_mutex_unlock(&pm->mu);
		if (held.st.method && held.port != port)
			unmap(&held);
		st = ask(port, ++attempts, &held, &lease, &pm->stop);
		if (st.method) {
			/* A failed renewal keeps what we hold: the gateway
			 * does too, and it is deleted on the way out. */
			if (replaced(&held, &st))
				unmap(&held);
			held.st = st;
			held.port = port;
			held.until_ms = mono_ms() + (uint64_t)st.lifetime_s * 1000;
			if (st.method == WM_PORTMAP_UPNP)
				held.lease = lease;
		}
		pthread_mutex_lock(&pm->mu);
		pm->busy = false;
		if (pm->orphaned)
			break;
		publish(pm, &st);
		wait_s = st.method ? (st.lifetime_s ? st.lifetime_s / 2 : 60)
				   : WM_PORTMAP_RETRY_S;
		if (wait_s < 30)
			wait_s = 30;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_s;
		while (!pm->stop && gen == pm->gen &&
		       pthread_cond_timedwait(&pm->cv, &pm->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&pm->mu);
	unmap(&held);
	pthread_mutex_lock(&pm->mu);
	if (pm->orphaned) {
		pthread_mutex_unlock(&pm->mu);
		destroy(pm);
		return NULL;
	}
	pthread_mutex_unlock(&pm->mu);
	return NULL;
}

int wm_portmap_new(struct wm_portmap **out, uint16_t port,
		   int (*thread_setup)(void))
{
	struct wm_portmap *pm = calloc(1, sizeof(*pm));
	pthread_condattr_t ca;
	sigset_t all, old;
	int err;

	*out = NULL;
	if (!pm)
		return -ENOMEM;
	pm->port = port;
	pm->thread_setup = thread_setup;
	pm->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (pm->wake_fd < 0) {
		err = -errno;
		free(pm);
		return err;
	}
	pthread_mutex_init(&pm->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pm->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals are the loop's (its signalfd): the worker blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&pm->thread, NULL, worker, pm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(pm->wake_fd);
		pthread_cond_destroy(&pm->cv);
		pthread_mutex_destroy(&pm->mu);
		free(pm);
		return -err;
	}
	*out = pm;
	return 0;
}

void wm_portmap_free(struct wm_portmap *pm)
{
	bool busy;

	if (!pm)
		return;
	pthread_mutex_lock(&pm->mu);
	__atomic_store_n(&pm->stop, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&pm->cv);
	/* A worker in the middle of asking may take seconds more (a UPnP
	 * discovery cannot be cut short): the agent stops without it, and
	 * the worker deletes what it got and frees pm on its way out. */
	busy = pm->busy;
	if (busy)
		pm->orphaned = true;
	pthread_mutex_unlock(&pm->mu);
	if (busy) {
		pthread_detach(pm->thread);
		return;
	}
	pthread_join(pm->thread, NULL);
	destroy(pm);
}

void wm_portmap_set_port(struct wm_portmap *pm, uint16_t port)
{
	pthread_mutex_lock(&pm->mu);
	if (pm->port != port) {
		pm->port = port;
		pm->gen++;
		pthread_cond_signal(&pm->cv);
	}
	pthread_mutex_unlock(&pm->mu);
}

void wm_portmap_get(struct wm_portmap *pm, struct wm_portmap_state *out)
{
	pthread_mutex_lock(&pm->mu);
	*out = pm->st;
	pthread_mutex_unlock(&pm->mu);
}

int wm_portmap_fd(const struct wm_portmap *pm)
{
	return pm->wake_fd;
}

void wm_portmap_drain(struct wm_portmap *pm)
{
	eventfd_t v;

	if (eventfd_read(pm->wake_fd, &v) < 0) {
		/* nothing pending */
	}
}
