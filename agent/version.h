/* version.h - the one place the version is set; packaging reads it here. */
#ifndef WM_VERSION_H
#define WM_VERSION_H
#define WM_VERSION "0.1.0"
#endif
