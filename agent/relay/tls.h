/*
 * tls.h - TLS 1.2 over a non-blocking socket with BearSSL, for the relay's
 * TCP fallback: the relay is the server (certificate chain and RSA or EC
 * key from PEM files), the agent's relay client the client.
 *
 * The client accepts any certificate, on purpose. TLS here is camouflage,
 * not authentication: it lets relay traffic through networks that only
 * pass TLS on port 443. Inside it runs the Noise IK handshake with the
 * relay's static key, which the agent knows from its config
 * (RelayPublicKey): only the holder of that key can answer it, and every
 * relay frame is AEAD-sealed in the resulting session, itself carrying
 * WireGuard messages sealed end to end. A man in the middle of the TLS
 * layer sees ciphertext and can do no more than drop or delay it — what
 * anyone on the path of plain UDP could do anyway. Checking the chain
 * against a CA would add a dependency on the system's trust store and on
 * certificate renewals without adding any security, so the client takes
 * the end-entity certificate's public key (needed for the key exchange)
 * and nothing else from the chain.
 *
 * Driving a connection: after socket readiness call wm_tls_pump(), which
 * moves records between the socket and the engine until neither can
 * progress; wm_tls_events() names the epoll events to wait for next.
 * wm_tls_read() and wm_tls_write() move application bytes (and pump).
 * Every call is non-blocking. One wm_tls per connection; allocation
 * happens at wm_tls_new_*() only.
 */
#ifndef WM_TLS_H
#define WM_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct wm_tls_creds;
struct wm_tls;

/* Loads a PEM certificate chain (end-entity first) and its private key
 * (PKCS#8 "PRIVATE KEY", "RSA PRIVATE KEY" or "EC PRIVATE KEY"; not
 * encrypted) and checks they belong together. 0, or -errno / -EINVAL
 * with a message naming the file in err. */
int wm_tls_creds_load(struct wm_tls_creds **out, const char *cert_path,
		      const char *key_path, char *err, size_t errlen);
/* Drops the caller's reference: the key is wiped and freed once no
 * server connection made with it is left either; NULL is fine. */
void wm_tls_creds_free(struct wm_tls_creds *c);
/* "RSA" or "EC". */
const char *wm_tls_creds_key_type(const struct wm_tls_creds *c);

/* A server side for one accepted connection; it holds a reference to
 * creds until wm_tls_free (so the caller may drop its own, as a reload
 * does, while the connection lives). 0, -ENOMEM or -EIO (the engine
 * could not seed its PRNG). */
int wm_tls_new_server(struct wm_tls **out, struct wm_tls_creds *creds);
/* A client side; server_name goes into SNI (NULL: none). */
int wm_tls_new_client(struct wm_tls **out, const char *server_name);
/* Frees (wiping the engine's keys); NULL is fine. Does not close fd. */
void wm_tls_free(struct wm_tls *t);

/* Moves records between fd and the engine until neither side can
 * progress. 0 while the connection lives; -EPIPE once it has closed
 * (cleanly, or by EOF); -EPROTO on a TLS failure (see
 * wm_tls_last_error); another -errno on a socket error. */
int wm_tls_pump(struct wm_tls *t, int fd);
/* EPOLLIN and/or EPOLLOUT: what the engine waits for. */
uint32_t wm_tls_events(const struct wm_tls *t);
/* True once the handshake is done and application data flows. */
bool wm_tls_established(const struct wm_tls *t);
/* True when decrypted bytes wait to be read (no socket event will say). */
bool wm_tls_pending(const struct wm_tls *t);
/* Reads up to len application bytes: > 0 bytes, 0 nothing yet (wait for
 * wm_tls_events()), or < 0 as wm_tls_pump. */
ssize_t wm_tls_read(struct wm_tls *t, int fd, void *buf, size_t len);
/* Takes up to len application bytes and sends them as a record: the
 * count taken (0 while the handshake runs or the engine is full), or
 * < 0 as wm_tls_pump. */
ssize_t wm_tls_write(struct wm_tls *t, int fd, const void *buf, size_t len);
/* Starts a clean close (close_notify) and pumps it out, best effort. */
void wm_tls_close(struct wm_tls *t, int fd);
/* BearSSL's error code of a failed connection (BR_ERR_*), 0 if none. */
int wm_tls_last_error(const struct wm_tls *t);

#endif
