/* instance.h — one vigil per store: an fcntl lock on "<store>.lock", taken
 * before the store is opened and held until the process exits.  Knows
 * files and pids, nothing of what the store holds. */
#ifndef VIGIL_INSTANCE_H
#define VIGIL_INSTANCE_H

#include <sys/types.h>

/* Takes the lock for the store at `store_path`.  Returns the lock's fd
 * (keep it open for the life of the process; closing it releases the
 * lock), or -1: then *holder is the pid holding it (0 when the lock file
 * could not be opened or locked for another reason, with errno set). */
int instance_lock(const char *store_path, pid_t *holder);

/* Creates the store file 0600 when it does not exist yet, so SQLite (which
 * gives its -wal and -shm files the database's mode) never creates it
 * with the umask's wider bits: the store holds rotated OAuth tokens.
 * Returns 0, or -1 with errno set. */
int instance_create_private(const char *path);

#endif
