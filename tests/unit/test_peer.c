/*
 * A peer's own memory (agent/peer.h): the staged packets against a naive
 * queue (order, the oldest dropped past WM_STAGED_MAX, nothing held once
 * empty), and the session slots, which exist only from the first session
 * until the sessions are zeroed, with each role in its slot.
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

/* A keypair as a handshake of p's leaves it: its index already in the
 * table (owner p, no session yet). */
static struct wm_keypair keypair(struct wm_peer *p, bool initiator)
{
	struct wm_keypair kp;

	memset(&kp, 0, sizeof(kp));
	CHECK(wm_index_add(&index_table, p, NULL, &kp.local_index) == 0);
	kp.is_initiator = initiator;
	kp.birth_ns = 1;
	return kp;
}

static const struct wm_session *indexed(uint32_t i)
{
	const struct wm_index_entry *e = wm_index_lookup(&index_table, i);

	return e ? e->session : NULL;
}

TEST(session_slots_only_while_keyed)
{
	struct wm_peer *p = peer();
	struct wm_keypair kp[5];
	struct wm_session *s[5];

	if (!p) {
		CHECK(!"peer");
		return;
	}
	CHECK(p->sessions == NULL && !p->current && !p->previous && !p->next_session);
	kp[0] = keypair(p, true);
	s[0] = wm_peer_install_session(p, &kp[0]);
	CHECK(s[0] && p->sessions && p->current == s[0] && s[0]->valid);
	CHECK(indexed(kp[0].local_index) == s[0]);
	kp[1] = keypair(p, true);
	s[1] = wm_peer_install_session(p, &kp[1]);
	CHECK(p->current == s[1] && p->previous == s[0]);
	kp[2] = keypair(p, false);
	s[2] = wm_peer_install_session(p, &kp[2]);
	CHECK(p->next_session == s[2] && p->current == s[1] && p->previous == s[0]);
	wm_peer_confirm_next(p);
	CHECK(p->current == s[2] && p->previous == s[1] && !p->next_session);
	CHECK(!wm_index_lookup(&index_table, kp[0].local_index)); /* dropped */
	kp[3] = keypair(p, true);
	s[3] = wm_peer_install_session(p, &kp[3]);
	CHECK(s[3] == s[0] && p->current == s[3] && p->previous == s[2]);
	for (int i = 0; i < 4; i++)
		CHECK(s[i] >= p->sessions && s[i] < p->sessions + 3);

	wm_peer_zero_sessions(p);
	CHECK(p->sessions == NULL && !p->current && !p->previous && !p->next_session);
	for (int i = 0; i < 4; i++)
		CHECK(!wm_index_lookup(&index_table, kp[i].local_index));
	/* and again after zeroing */
	kp[4] = keypair(p, false);
	s[4] = wm_peer_install_session(p, &kp[4]);
	CHECK(s[4] && p->sessions && p->next_session == s[4]);
	CHECK(indexed(kp[4].local_index) == s[4]);
	wm_peer_free(p); /* ASan: the slots are freed with the peer */
	CHECK(!wm_index_lookup(&index_table, kp[4].local_index));
}

int main(void)
{
	uint8_t priv[WM_KEY_SIZE];

	if (wm_random_bytes(priv, sizeof(priv)) < 0 ||
	    wm_index_init(&index_table) < 0)
		return 1;
	wm_noise_local_init(&local, priv);
	RUN(staged_against_naive_queue);
	RUN(session_slots_only_while_keyed);
	wm_index_free(&index_table);
	return check_summary();
}
