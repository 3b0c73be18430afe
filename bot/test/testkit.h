/* testkit.h — `vigil test`: runs Lua test files against vigil's real
 * script runtime with an in-memory store, a recording chat and source
 * (test/record.h) and a clock the test moves.  Sends nothing anywhere. */
#ifndef VIGIL_TESTKIT_H
#define VIGIL_TESTKIT_H

/* `vigil test [--scripts DIR] [--lib DIR] [-v] [PATH...]` (argv after
 * "test").  Prints one line per test and "N passed, N failed"; returns
 * the exit status: 0 when every test passed, 1 when one failed or none
 * ran, 2 on bad usage. */
int testkit_main(int argc, char **argv);

#endif
