/* instance.c — the single-instance lock of a store and the store file's
 * private mode.  Why a lock file of our own and not SQLite's locks: in WAL
 * mode SQLite's `locking_mode=EXCLUSIVE` takes its lock only at the first
 * read or write, after sources and chat may already have started, and a
 * busy database says "locked", not who holds it.  An fcntl write lock on a
 * separate file is released by the kernel when the holder dies (no stale
 * pid files), and F_GETLK names the holder.  A separate file, because
 * fcntl locks are per process and per file: a lock on the database file
 * itself would be dropped whenever SQLite closes one of its descriptors. */
#include "core/instance.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int instance_lock(const char *store_path, pid_t *holder)
{
    char path[4096], pid[32];
    struct flock fl;
    int fd, n;

    *holder = 0;
    if (snprintf(path, sizeof path, "%s.lock", store_path) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0) {
        /* for people reading the file; the lock, not this, is the truth */
        n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
            errno = 0;   /* the lock holds even when the note cannot be written */
        return fd;
    }
    if (errno == EACCES || errno == EAGAIN) {
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
            *holder = fl.l_pid;
        errno = EAGAIN;
    }
    n = errno;
    close(fd);
    errno = n;
    return -1;
}

int instance_create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        return close(fd);
    return errno == EEXIST ? 0 : -1;
}
