/*
 * messages.h - every WireGuard wire format and protocol constant, in one
 * place (the WireGuard paper, section 5.4 and 6). All multi-byte integers
 * on the wire are little-endian.
 */
#ifndef WM_MESSAGES_H
#define WM_MESSAGES_H

#include <stdint.h>

#define WM_NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WM_NOISE_IDENTIFIER "WireGuard v1 zx2c4 Jason@zx2c4.com"
#define WM_LABEL_MAC1 "mac1----"
#define WM_LABEL_COOKIE "cookie--"

enum {
	WM_KEY_SIZE = 32,
	WM_HASH_SIZE = 32,
	WM_TAG_SIZE = 16,
	WM_TIMESTAMP_SIZE = 12,
	WM_COOKIE_SIZE = 16,
	WM_COOKIE_NONCE_SIZE = 24,
	WM_MESSAGE_PADDING = 16,
};

enum wm_message_type {
	WM_MSG_INITIATION = 1,
	WM_MSG_RESPONSE = 2,
	WM_MSG_COOKIE = 3,
	WM_MSG_DATA = 4,
};

/* The first four bytes of every message: type, then three zero bytes. */
struct wm_msg_header {
	uint8_t type;
	uint8_t reserved[3];
} __attribute__((packed));

struct wm_msg_macs {
	uint8_t mac1[WM_COOKIE_SIZE];
	uint8_t mac2[WM_COOKIE_SIZE];
} __attribute__((packed));

struct wm_msg_initiation {
	struct wm_msg_header header;
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[WM_KEY_SIZE];
	uint8_t encrypted_static[WM_KEY_SIZE + WM_TAG_SIZE];
	uint8_t encrypted_timestamp[WM_TIMESTAMP_SIZE + WM_TAG_SIZE];
	struct wm_msg_macs macs;
} __attribute__((packed));

struct wm_msg_response {
	struct wm_msg_header header;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[WM_KEY_SIZE];
	uint8_t encrypted_nothing[WM_TAG_SIZE];
	struct wm_msg_macs macs;
} __attribute__((packed));

struct wm_msg_cookie {
	struct wm_msg_header header;
	uint32_t receiver_index;
	uint8_t nonce[WM_COOKIE_NONCE_SIZE];
	uint8_t encrypted_cookie[WM_COOKIE_SIZE + WM_TAG_SIZE];
} __attribute__((packed));

struct wm_msg_data {
	struct wm_msg_header header;
	uint32_t receiver_index;
	uint64_t counter;
	uint8_t encrypted_data[];
} __attribute__((packed));

_Static_assert(sizeof(struct wm_msg_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct wm_msg_response) == 92, "response size");
_Static_assert(sizeof(struct wm_msg_cookie) == 64, "cookie size");
_Static_assert(sizeof(struct wm_msg_data) == 16, "data header size");

#define WM_DATA_OVERHEAD (sizeof(struct wm_msg_data) + WM_TAG_SIZE)
#define WM_MSG_MIN_DATA (sizeof(struct wm_msg_data) + WM_TAG_SIZE)

/* Protocol limits (whitepaper section 6.1). Times in seconds. */
#define WM_REKEY_AFTER_MESSAGES (1ULL << 60)
#define WM_MAX_TIMER_HANDSHAKES (90 / 5)
#define WM_COOKIE_SECRET_MAX_AGE 120
#define WM_COOKIE_SECRET_LATENCY 5
#define WM_INITIATIONS_PER_SECOND 50

#ifdef WM_TEST_FAST_TIMERS
/* Only for the rekey test build (./build.sh test builds it apart); the
 * ratios between the timers are kept. */
#define WM_REKEY_AFTER_TIME 6
#define WM_REJECT_AFTER_TIME 9
#define WM_REKEY_ATTEMPT_TIME 15
#define WM_REKEY_TIMEOUT 2
#define WM_KEEPALIVE_TIMEOUT 2
#else
#define WM_REKEY_AFTER_TIME 120
#define WM_REJECT_AFTER_TIME 180
#define WM_REKEY_ATTEMPT_TIME 90
#define WM_REKEY_TIMEOUT 5
#define WM_KEEPALIVE_TIMEOUT 10
#endif

#define WM_NSEC_PER_SEC 1000000000ULL

#endif
