/* notify.c — sd_notify(3) from libsystemd, one line per state change.
 * libsystemd rather than a hand-written datagram: it handles abstract
 * socket names, credentials and the protocol's future changes. */
#include "core/notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

int notify_wanted(void)
{
    const char *v = getenv("NOTIFY_SOCKET");
    return v && *v;
}

void notify_ready(void) { sd_notify(0, "READY=1"); }
void notify_stopping(void) { sd_notify(0, "STOPPING=1"); }
void notify_watchdog(void) { sd_notify(0, "WATCHDOG=1"); }

void notify_reloading(int done)
{
    sd_notify(0, done ? "READY=1" : "RELOADING=1");
}

void notify_status(const char *line)
{
    static char last[256];
    if (strncmp(last, line, sizeof last - 1) == 0)
        return;
    snprintf(last, sizeof last, "%s", line);
    sd_notifyf(0, "STATUS=%s", last);
}

uint64_t notify_watchdog_usec(void)
{
    uint64_t usec = 0;
    return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}
