/*
 * sdnotify.h - tells systemd (Type=notify) that we are ready or stopping,
 * through $NOTIFY_SOCKET, in the few lines the protocol needs.
 */
#ifndef WM_SDNOTIFY_H
#define WM_SDNOTIFY_H

/* Sends state (e.g. "READY=1") if $NOTIFY_SOCKET is set. 0 or -errno;
 * 0 too when not under systemd. */
int wm_sd_notify(const char *state);

#endif
