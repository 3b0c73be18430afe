/* repl.h — `vigil repl`: a readline client of a running bot's admin socket. */
#ifndef VIGIL_REPL_H
#define VIGIL_REPL_H

/* Runs the REPL against the socket named by `config_path`'s admin.socket.
 * `cmds` (may be empty) are run non-interactively, as is piped stdin.
 * Returns the process exit status: 0, or 1 if the bot is not running or a
 * command failed. */
int repl_main(const char *config_path, const char *socket_path, char **cmds, int ncmds);

#endif
