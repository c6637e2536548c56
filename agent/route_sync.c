/* See route_sync.h. */
#include "agent/route_sync.h"

#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same(const struct wm_route *a, const struct wm_route *b)
{
	return a->table == b->table && wm_cidr_equal(&a->c, &b->c);
}

static bool list_has(const struct wm_route *l, size_t len,
		     const struct wm_route *x)
{
	for (size_t i = 0; i < len; i++)
		if (same(&l[i], x))
			return true;
	return false;
}

struct list {
	struct wm_route *items;
	size_t len, cap;
};

static bool list_add(struct list *l, const struct wm_route *x)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct wm_route *n = realloc(l->items, cap * sizeof(*n));
		if (!n)
			return false;
		l->items = n;
		l->cap = cap;
	}
	l->items[l->len++] = *x;
	return true;
}

uint32_t wm_route_table(const struct wm_route_policy *pol,
			const struct wm_cidr *c)
{
	switch (pol->mode) {
	case WM_TABLE_OFF:
		return 0;
	case WM_TABLE_ID:
		return pol->table;
	case WM_TABLE_AUTO:
	default:
		return c->cidr == 0 ? pol->full_table : RT_TABLE_MAIN;
	}
}

static void collect(struct list *want, const struct wm_device *dev,
		    const struct wm_route_policy *pol)
{
	struct wm_cidr buf[64];

	for (struct wm_peer *p = dev->peers; p; p = p->next) {
		size_t total = wm_allowedips_list(&dev->allowedips, p, NULL, 0);
		struct wm_cidr *items = total <= 64 ? buf : malloc(total * sizeof(*items));
		if (!items)
			continue;
		wm_allowedips_list(&dev->allowedips, p, items, total);
		for (size_t i = 0; i < total; i++) {
			struct wm_route x = { items[i],
					      wm_route_table(pol, &items[i]) };

			if (x.table && !list_has(want->items, want->len, &x))
				list_add(want, &x);
		}
		if (items != buf)
			free(items);
	}
}

static void report(const char *what, const struct wm_route *x,
		   struct wm_netif *n)
{
	char text[WM_CIDR_STRLEN];

	fprintf(stderr, "route %s table %u: %s: %s\n",
		wm_cidr_format(text, sizeof(text), &x->c), x->table, what,
		wm_netif_last_error(n));
}

int wm_routes_sync(struct wm_routes *r, struct wm_netif *n, int ifindex,
		   const struct wm_device *dev, const struct wm_route_policy *pol)
{
	struct list want = { 0 }, kept = { 0 };
	int failed = 0;

	collect(&want, dev, pol);
	for (size_t i = 0; i < r->len; i++) {
		const struct wm_route *x = &r->installed[i];
		if (list_has(want.items, want.len, x)) {
			list_add(&kept, x);
			continue;
		}
		if (wm_netif_del_route_table(n, ifindex, &x->c, x->table) < 0)
			report("remove", x, n);
	}
	for (size_t i = 0; i < want.len; i++) {
		const struct wm_route *x = &want.items[i];
		if (list_has(kept.items, kept.len, x))
			continue;
		if (wm_netif_add_route_table(n, ifindex, &x->c, x->table) < 0) {
			failed++;
			report("add", x, n);
			continue;
		}
		list_add(&kept, x);
	}
	free(want.items);
	free(r->installed);
	r->installed = kept.items;
	r->len = kept.len;
	r->cap = kept.cap;
	r->default4 = r->default6 = false;
	for (size_t i = 0; pol->mode == WM_TABLE_AUTO && i < r->len; i++) {
		const struct wm_route *x = &r->installed[i];
		if (x->c.cidr == 0 && x->c.family == AF_INET)
			r->default4 = true;
		else if (x->c.cidr == 0)
			r->default6 = true;
	}
	return failed;
}

void wm_routes_free(struct wm_routes *r)
{
	free(r->installed);
	memset(r, 0, sizeof(*r));
}
