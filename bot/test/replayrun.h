/* replayrun.h — `vigil replay`: runs a recorded journal (source/journal.h)
 * offline through a folder of scripts, on the journal's clock compressed,
 * and writes the transcript of what would have happened; compares it with
 * a saved one.  Sends nothing anywhere. */
#ifndef VIGIL_REPLAYRUN_H
#define VIGIL_REPLAYRUN_H

/* argv after "replay": JOURNAL... [--scripts DIR] [--lib DIR] [-c CONFIG]
 * [--out FILE] [--expect GOLDEN].  Returns the exit status: 0 done (and
 * the transcript matches GOLDEN), 1 differences or a journal that cannot
 * be read, 2 bad usage or config. */
int replayrun_main(int argc, char **argv);

#endif
