/* doctor.h — `vigil doctor`: checks a config against the live Slack and X
 * and prints a checklist with the fix for each failure.  A one-shot CLI:
 * blocking libcurl easy handles, no event loop. */
#ifndef VIGIL_DOCTOR_H
#define VIGIL_DOCTOR_H

struct config;

/* Runs every check that applies to `cfg` (borrowed), printing to stdout.
 * Returns the exit status: 0 when all passed, 1 when one failed. */
int doctor_run(const struct config *cfg);

#endif
