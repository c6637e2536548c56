/*
 * keys_cmd.h - `genkey`, `pubkey`, `genpsk`: the same input, output and
 * errors as `wg genkey`, `wg pubkey`, `wg genpsk`.
 */
#ifndef WM_KEYS_CMD_H
#define WM_KEYS_CMD_H

int wm_cmd_genkey(int argc, char **argv);
int wm_cmd_pubkey(int argc, char **argv);
int wm_cmd_genpsk(int argc, char **argv);

#endif
