/* backoff.h — exponential backoff with jitter, shared by every retry loop
 * (outbox, reconnects, polling) so none of them can storm. */
#ifndef VIGIL_BACKOFF_H
#define VIGIL_BACKOFF_H

/* Delay in seconds before attempt `attempt` (1 = first retry): base * 2^(n-1)
 * capped at `cap`, then drawn uniformly from [50%, 100%] of that ("equal
 * jitter": spread out, yet never near zero). */
double backoff_delay(int attempt, double base, double cap);

#endif
