/*
 * saveconfig.h - SaveConfig = true: the running peer set written back to
 * the config file, so changes made at run time survive a restart.
 *
 * The file keeps everything outside its [Peer] sections as it is on disk
 * (the [Interface] section with its comments and wg-quick keys), except
 * the keys `wg set` changes at run time: PrivateKey, ListenPort (when
 * pinned: by the file or by `wg set`, not a random pick) and FwMark are
 * written with their running values, in place of the file's lines or
 * after the [Interface] header. The [Peer] sections are regenerated from
 * the device. An endpoint still
 * equal to the configured one keeps the text it was written with (a host
 * name stays a host name). The write is atomic: a temporary file in the
 * same directory (mode 0600, owner and group of the old file), fsync,
 * rename over the real file (through a symlink to its target), fsync of
 * the directory.
 */
#ifndef WM_API_SAVECONFIG_H
#define WM_API_SAVECONFIG_H

#include "agent/config.h"
#include "agent/device.h"

#include <stddef.h>

/* The new file text from the current text orig; malloc'd, NULL on
 * ENOMEM. It holds secrets: wipe it before freeing. */
char *wm_saveconfig_render(const char *orig, const struct wm_config *cfg,
			   const struct wm_device *dev);
/* Rewrites cfg->path. Returns 0 or -errno (the old file is untouched on
 * failure). */
int wm_saveconfig_write(const struct wm_config *cfg,
			const struct wm_device *dev);

#endif
