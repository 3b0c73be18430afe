/* backoff.c — exponential backoff with equal jitter; see backoff.h. */
#include "core/backoff.h"

#include <stdlib.h>
#include <time.h>

static unsigned state;

static double uniform01(void)
{
    if (!state)
        state = (unsigned)time(NULL) ^ 0x9e3779b9u;
    state ^= state << 13;   /* xorshift32: jitter needs spread, not secrecy */
    state ^= state >> 17;
    state ^= state << 5;
    return (double)state / 4294967296.0;
}

double backoff_delay(int attempt, double base, double cap)
{
    double d = base;
    for (int i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    return d * (0.5 + 0.5 * uniform01());
}
