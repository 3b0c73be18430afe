/* notify.h — telling systemd how the service is (sd_notify): READY=1,
 * STATUS=, WATCHDOG=1, STOPPING=1, RELOADING=1.  Every call is a no-op
 * when $NOTIFY_SOCKET is unset (not started by systemd, or Type= is not
 * notify).  Knows libsystemd; nothing of chat, tickets or the loop: main
 * decides when the service is ready or healthy. */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdint.h>

/* 1 when systemd listens ($NOTIFY_SOCKET set): work only it needs can be skipped. */
int notify_wanted(void);
void notify_ready(void);
void notify_stopping(void);
void notify_reloading(int done);
/* A one-line state for `systemctl status`; sent only when it changed. */
void notify_status(const char *line);
void notify_watchdog(void);
/* The watchdog period systemd asked for ($WATCHDOG_USEC for this pid), in
 * microseconds; 0 when no watchdog is wanted. */
uint64_t notify_watchdog_usec(void);

#endif
