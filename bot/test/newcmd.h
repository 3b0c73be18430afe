/* newcmd.h — `vigil new-command NAME`: writes a new command script and a
 * passing test of it, from templates.  Knows file names; no runtime. */
#ifndef VIGIL_NEWCMD_H
#define VIGIL_NEWCMD_H

/* argv after "new-command": NAME [--dir DIR].  Returns the exit status:
 * 0 written, 1 refused (exists, cannot write), 2 bad usage or name. */
int newcmd_main(int argc, char **argv);

#endif
