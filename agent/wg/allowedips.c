/*
 * allowedips.c - see allowedips.h.
 *
 * Each node holds a prefix; a child's prefix always extends its parent's, and
 * the child slot is chosen by the first address bit after the parent's
 * length. Nodes without a peer only join two subtrees that diverge there, so
 * every such node has two children and the depth is at most one node per
 * prefix length. Addresses are kept as two host-order 64-bit words (bit 0 of
 * the address is the top bit of w[0]) so that a prefix test is two masked
 * XORs rather than a byte loop.
 */
#include "agent/wg/allowedips.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_BITS = 128, PATH_MAX_NODES = MAX_BITS + 1 };

struct wm_allowedips_node {
	struct wm_allowedips_node *child[2];
	void *peer; /* NULL for a join node */
	uint64_t w[2]; /* the prefix; bits past cidr are zero */
	uint8_t cidr;
};

struct key {
	uint64_t w[2];
};

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static struct key load(int family, const uint8_t *addr)
{
	struct key k = { { 0, 0 } };

	if (family == AF_INET) {
		k.w[0] = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 |
			 (uint64_t)addr[2] << 40 | (uint64_t)addr[3] << 32;
	} else {
		k.w[0] = be64(addr);
		k.w[1] = be64(addr + 8);
	}
	return k;
}

/* Mask of the first cidr bits that fall in word i. */
static uint64_t word_mask(unsigned cidr, unsigned i)
{
	unsigned n = cidr > 64 * i ? cidr - 64 * i : 0;

	if (n == 0)
		return 0;
	if (n >= 64)
		return ~(uint64_t)0;
	return ~(uint64_t)0 << (64 - n);
}

static void mask_key(struct key *k, unsigned cidr)
{
	k->w[0] &= word_mask(cidr, 0);
	k->w[1] &= word_mask(cidr, 1);
}

static unsigned bit_at(const uint64_t *w, unsigned i)
{
	return (unsigned)(w[i / 64] >> (63 - i % 64)) & 1;
}

static int matches(const struct wm_allowedips_node *n, const struct key *k)
{
	return ((k->w[0] ^ n->w[0]) & word_mask(n->cidr, 0)) == 0 &&
	       ((k->w[1] ^ n->w[1]) & word_mask(n->cidr, 1)) == 0;
}

/* Length of the common leading bits of a and b, at most limit. */
static unsigned common_bits(const uint64_t *a, const uint64_t *b,
			    unsigned limit)
{
	unsigned n;
	uint64_t x = a[0] ^ b[0];

	if (x)
		n = (unsigned)__builtin_clzll(x);
	else if ((x = a[1] ^ b[1]))
		n = 64 + (unsigned)__builtin_clzll(x);
	else
		n = MAX_BITS;
	return n < limit ? n : limit;
}

static struct wm_allowedips_node *new_node(const struct key *k, unsigned cidr,
					   void *peer)
{
	struct wm_allowedips_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->w[0] = k->w[0] & word_mask(cidr, 0);
	n->w[1] = k->w[1] & word_mask(cidr, 1);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

static struct wm_allowedips_node **root_of(struct wm_allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static int check_cidr(const struct wm_cidr *c, struct key *k)
{
	unsigned bits = family_bits(c->family);

	if (!bits || c->cidr > bits)
		return -EINVAL;
	*k = load(c->family, c->addr);
	mask_key(k, c->cidr);
	return 0;
}

/* A join node that lost a child, or an empty leaf, has no reason to exist:
 * returns what should take n's place, freeing n if it goes. */
static struct wm_allowedips_node *collapse(struct wm_allowedips_node *n)
{
	struct wm_allowedips_node *c;

	if (!n || n->peer || (n->child[0] && n->child[1]))
		return n;
	c = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return c;
}

static void free_tree(struct wm_allowedips_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void wm_allowedips_init(struct wm_allowedips *t)
{
	t->root4 = NULL;
	t->root6 = NULL;
	t->count = 0;
}

void wm_allowedips_free(struct wm_allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	wm_allowedips_init(t);
}

int wm_allowedips_insert(struct wm_allowedips *t, const struct wm_cidr *c,
			 void *peer)
{
	struct wm_allowedips_node **slot, *n, *leaf, *join;
	unsigned cidr = c->cidr, common = 0;
	struct key k;
	int err = check_cidr(c, &k);

	if (err)
		return err;
	if (!peer)
		return -EINVAL;

	slot = root_of(t, c->family);
	while ((n = *slot)) {
		common = common_bits(n->w, k.w, cidr < n->cidr ? cidr : n->cidr);
		if (common == n->cidr && common == cidr) {
			if (!n->peer)
				t->count++;
			n->peer = peer;
			return 0;
		}
		if (common < n->cidr)
			break;
		slot = &n->child[bit_at(k.w, n->cidr)];
	}

	leaf = new_node(&k, cidr, peer);
	if (!leaf)
		return -ENOMEM;
	if (!n) {
		*slot = leaf;
	} else if (common == cidr) {
		/* The new prefix contains n: it goes above n. */
		leaf->child[bit_at(n->w, cidr)] = n;
		*slot = leaf;
	} else {
		/* They part at bit `common`: join them under a new node. */
		join = new_node(&k, common, NULL);
		if (!join) {
			free(leaf);
			return -ENOMEM;
		}
		join->child[bit_at(k.w, common)] = leaf;
		join->child[bit_at(n->w, common)] = n;
		*slot = join;
	}
	t->count++;
	return 0;
}

int wm_allowedips_remove(struct wm_allowedips *t, const struct wm_cidr *c,
			 const void *peer)
{
	struct wm_allowedips_node **path[PATH_MAX_NODES], **slot, *n;
	unsigned cidr = c->cidr, depth = 0;
	struct key k;
	int err = check_cidr(c, &k);

	if (err)
		return err;

	slot = root_of(t, c->family);
	while ((n = *slot) && n->cidr <= cidr && matches(n, &k)) {
		path[depth++] = slot;
		if (n->cidr == cidr)
			break;
		slot = &n->child[bit_at(k.w, n->cidr)];
	}
	if (!n || n->cidr != cidr || !matches(n, &k) || !peer || n->peer != peer)
		return -ENOENT;

	n->peer = NULL;
	t->count--;
	while (depth--)
		*path[depth] = collapse(*path[depth]);
	return 0;
}

static struct wm_allowedips_node *prune(struct wm_allowedips_node *n,
					const void *peer, size_t *removed)
{
	if (!n)
		return NULL;
	n->child[0] = prune(n->child[0], peer, removed);
	n->child[1] = prune(n->child[1], peer, removed);
	if (n->peer == peer) {
		n->peer = NULL;
		(*removed)++;
	}
	return collapse(n);
}

void wm_allowedips_remove_peer(struct wm_allowedips *t, const void *peer)
{
	size_t removed = 0;

	if (!peer)
		return;
	t->root4 = prune(t->root4, peer, &removed);
	t->root6 = prune(t->root6, peer, &removed);
	t->count -= removed;
}

void *wm_allowedips_lookup(const struct wm_allowedips *t, int family,
			   const uint8_t *addr)
{
	const struct wm_allowedips_node *n;
	unsigned bits = family_bits(family);
	void *best = NULL;
	struct key k;

	if (!bits)
		return NULL;
	k = load(family, addr);
	n = family == AF_INET ? t->root4 : t->root6;
	while (n && matches(n, &k)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr == bits)
			break;
		n = n->child[bit_at(k.w, n->cidr)];
	}
	return best;
}

/* Header offsets of the source address; the destination follows it. */
static void *lookup_packet(const struct wm_allowedips *t, const uint8_t *pkt,
			   size_t len, int dst)
{
	if (len >= 20 && pkt[0] >> 4 == 4)
		return wm_allowedips_lookup(t, AF_INET, pkt + 12 + 4 * dst);
	if (len >= 40 && pkt[0] >> 4 == 6)
		return wm_allowedips_lookup(t, AF_INET6, pkt + 8 + 16 * dst);
	return NULL;
}

void *wm_allowedips_lookup_dst(const struct wm_allowedips *t,
			       const uint8_t *ip_packet, size_t len)
{
	return lookup_packet(t, ip_packet, len, 1);
}

void *wm_allowedips_lookup_src(const struct wm_allowedips *t,
			       const uint8_t *ip_packet, size_t len)
{
	return lookup_packet(t, ip_packet, len, 0);
}

static size_t list_family(const struct wm_allowedips_node *root, int family,
			  const void *peer, struct wm_cidr *out, size_t cap,
			  size_t total)
{
	/* Pre-order gives address order, shorter prefix first on ties. The
	 * stack holds at most one pending sibling per level plus two. */
	const struct wm_allowedips_node *stack[PATH_MAX_NODES + 1], *n;
	size_t sp = 0;
	uint8_t buf[16];

	if (root)
		stack[sp++] = root;
	while (sp) {
		n = stack[--sp];
		if (n->peer && n->peer == peer) {
			if (total < cap) {
				struct wm_cidr *c = &out[total];

				put_be64(buf, n->w[0]);
				put_be64(buf + 8, n->w[1]);
				memset(c, 0, sizeof(*c));
				c->family = (uint8_t)family;
				c->cidr = n->cidr;
				memcpy(c->addr, buf, family == AF_INET ? 4 : 16);
			}
			total++;
		}
		if (n->child[1])
			stack[sp++] = n->child[1];
		if (n->child[0])
			stack[sp++] = n->child[0];
	}
	return total;
}

size_t wm_allowedips_list(const struct wm_allowedips *t, const void *peer,
			  struct wm_cidr *out, size_t cap)
{
	size_t total;

	if (!peer)
		return 0;
	total = list_family(t->root4, AF_INET, peer, out, cap, 0);
	return list_family(t->root6, AF_INET6, peer, out, cap, total);
}
