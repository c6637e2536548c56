/* See stun_server.h. */
#include "agent/nat/stun_server.h"

#include <string.h>

/* OTHER-ADDRESS: the local address with the port we do not answer on
 * now; false when either is unknown. */
static bool other_address(union wm_sockaddr *out,
			  const struct wm_stun_server_ports *ports, bool on_alt,
			  const union wm_sockaddr *local)
{
	uint16_t port = on_alt ? ports->port : ports->alt_port;

	if (!ports->alt_port || !port)
		return false;
	*out = *local;
	if (local->sa.sa_family == AF_INET)
		out->in.sin_port = htons(port);
	else if (local->sa.sa_family == AF_INET6)
		out->in6.sin6_port = htons(port);
	else
		return false;
	return true;
}

enum wm_stun_reply wm_stun_server_answer(const struct wm_stun_server_ports *ports,
					 bool on_alt, const uint8_t *buf,
					 size_t len, const union wm_sockaddr *src,
					 const union wm_sockaddr *local,
					 uint8_t *out, size_t *out_len,
					 bool *malformed)
{
	enum { CAP = WM_STUN_ANSWER_MAX > WM_STUN_ERROR_MAX ? WM_STUN_ANSWER_MAX
							     : WM_STUN_ERROR_MAX };
	struct wm_stun_msg m;
	union wm_sockaddr other;
	bool has_other;

	*malformed = false;
	*out_len = 0;
	if (!wm_stun_parse(&m, buf, len)) {
		*malformed = true;
		return WM_STUN_REPLY_NONE;
	}
	if (m.type != WM_STUN_BINDING_REQUEST)
		return WM_STUN_REPLY_NONE; /* indications, stray responses */
	if (m.n_unknown) {
		*out_len = wm_stun_build_unknown_error(out, CAP, &m);
		return *out_len ? WM_STUN_REPLY_SAME : WM_STUN_REPLY_NONE;
	}
	if (m.change & WM_STUN_CHANGE_IP)
		return WM_STUN_REPLY_NONE;
	if ((m.change & WM_STUN_CHANGE_PORT) && !ports->alt_port)
		return WM_STUN_REPLY_NONE;
	has_other = other_address(&other, ports, on_alt, local);
	*out_len = wm_stun_build_answer(out, CAP, &m, src,
					has_other ? &other : NULL);
	if (!*out_len)
		return WM_STUN_REPLY_NONE;
	return (m.change & WM_STUN_CHANGE_PORT) ? WM_STUN_REPLY_OTHER
						: WM_STUN_REPLY_SAME;
}
