/* See routes.h. */
#include "agent/route_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool list_has(const struct wm_cidr_list *l, const struct wm_cidr *c)
{
	for (size_t i = 0; i < l->len; i++)
		if (wm_cidr_equal(&l->items[i], c))
			return true;
	return false;
}

static bool list_add(struct wm_cidr_list *l, const struct wm_cidr *c)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct wm_cidr *n = realloc(l->items, cap * sizeof(*n));
		if (!n)
			return false;
		l->items = n;
		l->cap = cap;
	}
	l->items[l->len++] = *c;
	return true;
}

static void collect(struct wm_cidr_list *want, const struct wm_device *dev)
{
	struct wm_cidr buf[64];

	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		size_t total = wm_allowedips_list(&dev->allowedips, p, NULL, 0);
		struct wm_cidr *items = total <= 64 ? buf : malloc(total * sizeof(*items));
		if (!items)
			continue;
		wm_allowedips_list(&dev->allowedips, p, items, total);
		for (size_t i = 0; i < total; i++)
			if (!list_has(want, &items[i]))
				list_add(want, &items[i]);
		if (items != buf)
			free(items);
	}
}

int wm_routes_sync(struct wm_routes *r, struct wm_netif *n, int ifindex,
		   const struct wm_device *dev)
{
	struct wm_cidr_list want = { 0 }, kept = { 0 };
	char text[WM_CIDR_STRLEN];
	int failed = 0, e;

	collect(&want, dev);
	for (size_t i = 0; i < r->installed.len; i++) {
		const struct wm_cidr *c = &r->installed.items[i];
		if (list_has(&want, c)) {
			list_add(&kept, c);
			continue;
		}
		e = wm_netif_del_route(n, ifindex, c);
		if (e < 0)
			fprintf(stderr, "route %s: remove: %s\n",
				wm_cidr_format(text, sizeof(text), c),
				wm_netif_last_error(n));
	}
	for (size_t i = 0; i < want.len; i++) {
		const struct wm_cidr *c = &want.items[i];
		if (list_has(&kept, c))
			continue;
		e = wm_netif_add_route(n, ifindex, c);
		if (e < 0) {
			failed++;
			fprintf(stderr, "route %s: add: %s\n",
				wm_cidr_format(text, sizeof(text), c),
				wm_netif_last_error(n));
			continue;
		}
		list_add(&kept, c);
	}
	free(want.items);
	free(r->installed.items);
	r->installed = kept;
	return failed;
}

void wm_routes_free(struct wm_routes *r)
{
	free(r->installed.items);
	memset(r, 0, sizeof(*r));
}
