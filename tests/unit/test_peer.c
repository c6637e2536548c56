/*
 * A peer's own memory (agent/peer.h): the staged packets against a naive
 * queue (order, the oldest dropped past WM_STAGED_MAX, nothing held once
 * empty).
 */
#include "check.h"
#include "agent/peer.h"
#include "crypto/random.h"

static struct wm_noise_local local;
static struct wm_index index_table;

static struct wm_peer *peer(void)
{
	uint8_t key[WM_KEY_SIZE];

	CHECK(wm_random_bytes(key, sizeof(key)) == 0);
	return wm_peer_new(&local, &index_table, key, 1);
}

/* Packet i is 1 + i % 70 bytes of the value i. */
static size_t fill(uint8_t *buf, unsigned i)
{
	size_t len = i % 70 == 69 ? 0 : 1 + i % 70;

	memset(buf, (int)(i & 0xff), len);
	return len;
}

TEST(staged_against_naive_queue)
{
	unsigned model[WM_STAGED_MAX], head = 0, n = 0, next = 0;
	uint32_t seed = 99;
	uint8_t buf[80], want[80];
	struct wm_peer *p = peer();

	CHECK(p && p->staged_first == NULL && p->staged_len == 0);
	for (unsigned step = 0; p && step < 5000; step++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 8) % 3) {
			bool full = n == WM_STAGED_MAX;

			CHECK(wm_peer_stage(p, buf, fill(buf, next)) == !full);
			if (full) {
				head = (head + 1) % WM_STAGED_MAX;
				n--;
			}
			model[(head + n++) % WM_STAGED_MAX] = next++;
		} else {
			struct wm_staged *s = wm_peer_unstage(p);

			CHECK((s != NULL) == (n != 0));
			if (s) {
				size_t len = fill(want, model[head]);

				CHECK(s->len == len && memcmp(s->data, want, len) == 0);
				head = (head + 1) % WM_STAGED_MAX;
				n--;
				free(s);
			}
		}
		CHECK(p->staged_len == n);
		CHECK((p->staged_first == NULL) == (n == 0));
		CHECK((p->staged_last == NULL) == (n == 0));
	}
	wm_peer_clear_staged(p);
	CHECK(p && p->staged_len == 0 && !p->staged_first && !p->staged_last);
	CHECK(p && wm_peer_unstage(p) == NULL);
	wm_peer_free(p); /* ASan: every staged copy was freed */
}

int main(void)
{
	uint8_t priv[WM_KEY_SIZE];

	if (wm_random_bytes(priv, sizeof(priv)) < 0 ||
	    wm_index_init(&index_table) < 0)
		return 1;
	wm_noise_local_init(&local, priv);
	RUN(staged_against_naive_queue);
	wm_index_free(&index_table);
	return check_summary();
}
