/* newcmd.c — see newcmd.h.  The templates are the smallest command that
 * shows every part a script author needs (usage, help, roles, a ticket,
 * an action, an answer) and a test that passes as written, so the first
 * `vigil test` is green and every later change starts from a green test. */
#include "test/newcmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* %1$s is the command's name throughout. */
static const char script_tpl[] =
    "-- %1$s <ticket>: say in one line what it does (the help below is what\n"
    "-- people read in `/tw help %1$s`).\n"
    "local text = require \"vigil.text\"\n"
    "\n"
    "return command {\n"
    "  usage = \"%1$s <ticket>\",\n"
    "  help  = \"Adds a note saying you looked at the ticket (replace with what %1$s does).\",\n"
    "  roles = \"agent\",   -- who may run it: \"agent\" (all staff), \"lead\", \"admin\", or \"none\"\n"
    "  run = function(ctx, args)\n"
    "    if not args[1] then ctx:fail(text.usage(\"%1$s <ticket>\")) end\n"
    "    local t = ctx:ticket(args[1])   -- \"12\" or \"#12\"; an unknown one answers for you\n"
    "    t:note((\"%%s looked at this\"):format(ctx.user.name))\n"
    "    return (\"#%%d: noted.\"):format(t.id)   -- what the user reads (only they see it)\n"
    "  end,\n"
    "}\n";

static const char test_tpl[] =
    "-- Tests of %2$s/%1$s.lua.  Run: vigil test %2$s/tests/%1$s_test.lua\n"
    "-- The test bot's staff: U01ALICE (Alice Jensen, lead), U02BOB (Bob Okafor,\n"
    "-- agent), U03CARMEN (Carmen Ruiz, admin); SCRIPTING.md has the whole API.\n"
    "\n"
    "test(\"%1$s notes the ticket and answers\", function()\n"
    "  local bot = test.bot{}\n"
    "  local id = bot:mention{ from = \"@ann\", text = \"@AcmeSupport my order is late\" }\n"
    "  expect(bot:say(\"U02BOB\", \"/tw %1$s \" .. id)):equals(\"#1: noted.\")\n"
    "  expect(bot:thread(id)[1]):contains(\"Bob Okafor looked at this\")\n"
    "end)\n"
    "\n"
    "test(\"%1$s without a ticket shows the usage\", function()\n"
    "  local bot = test.bot{}\n"
    "  expect(bot:say(\"U02BOB\", \"/tw %1$s\")):equals(\"Usage: /tw %1$s <ticket>\")\n"
    "end)\n"
    "\n"
    "test(\"someone off the staff may not run %1$s\", function()\n"
    "  local bot = test.bot{}\n"
    "  bot:mention{ from = \"@ann\", text = \"@AcmeSupport hello\" }\n"
    "  expect(bot:say(\"U99NOBODY\", \"/tw %1$s 1\")):contains(\"Only support staff\")\n"
    "  expect(bot:thread(1)):equals({})\n"
    "end)\n";

/* The verbs a script file may stand for (loader.c's file names), starting
 * with a letter; not the folders scripts/ holds. */
static const char *bad_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32)
        return "be 1 to 32 characters long";
    if (name[0] < 'a' || name[0] > 'z')
        return "start with a lower-case letter";
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_' || name[i] == '-'))
            return "have only lower-case letters, digits, - and _";
    if (!strcmp(name, "hooks") || !strcmp(name, "tests"))
        return "not be hooks or tests (folders of scripts/)";
    return NULL;
}

/* Writes `body` to a new file `path`; never replaces one.  Returns 0, or
 * -1 with the reason printed. */
static int write_new(const char *path, const char *body)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    FILE *f;
    if (fd < 0) {
        fprintf(stderr, "vigil new-command: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    f = fdopen(fd, "w");
    if (!f || fputs(body, f) < 0 || fclose(f)) {
        fprintf(stderr, "vigil new-command: cannot write %s: %s\n", path, strerror(errno));
        if (!f)
            close(fd);
        unlink(path);
        return -1;
    }
    return 0;
}

int newcmd_main(int argc, char **argv)
{
    const char *name = NULL, *dir = "scripts", *why;
    char script[1024], tests[1024], test[1200];
    char body[sizeof script_tpl + sizeof test_tpl + 1200];
    struct stat sb;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else
            name = NULL, i = argc;
    }
    if (!name) {
        fprintf(stderr, "usage: vigil new-command NAME [--dir DIR]\n"
                        "  writes DIR/NAME.lua and DIR/tests/NAME_test.lua (DIR: scripts)\n");
        return 2;
    }
    why = bad_name(name);
    if (why) {
        fprintf(stderr, "vigil new-command: \"%s\" cannot be a command: a command's name must %s.\n", name, why);
        return 2;
    }
    snprintf(script, sizeof script, "%s/%s.lua", dir, name);
    snprintf(tests, sizeof tests, "%s/tests", dir);
    snprintf(test, sizeof test, "%s/%s_test.lua", tests, name);
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "vigil new-command: %s is not a folder (run it where scripts/ is, "
                        "or name it with --dir)\n", dir);
        return 1;
    }
    if (!stat(script, &sb) || !stat(test, &sb)) {
        fprintf(stderr, "vigil new-command: %s already exists; nothing was written\n",
                !stat(script, &sb) ? script : test);
        return 1;
    }
    if (mkdir(tests, 0755) && errno != EEXIST) {
        fprintf(stderr, "vigil new-command: cannot create %s: %s\n", tests, strerror(errno));
        return 1;
    }
    snprintf(body, sizeof body, script_tpl, name);
    if (write_new(script, body))
        return 1;
    snprintf(body, sizeof body, test_tpl, name, dir);
    if (write_new(test, body)) {
        unlink(script);
        return 1;
    }
    printf("Wrote %s and %s.\n"
           "Next:\n"
           "  1. vigil test %s       # passes as written\n"
           "  2. edit %s (usage, help, roles, run) and its test; run vigil test again\n"
           "  3. the running bot loads %s when it is saved: try /tw %s\n"
           "SCRIPTING.md documents the script API and the test API.\n",
           script, test, test, script, script, name);
    return 0;
}
