# vigil — build, run, test.  `make run` and `make test` do all set-up on a
# fresh Debian 12 machine (they depend on `make deps`).
SHELL := /bin/bash

PKGS    := libwebsockets libuv libcurl jansson lua5.4 sqlite3 readline libutf8proc libsystemd
CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wno-unused-parameter -Wno-format-zero-length \
           -Wno-format-truncation
# _GNU_SOURCE first: readline's flags add _XOPEN_SOURCE=600.
CPPFLAGS_ALL = -D_GNU_SOURCE -Ibot $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lssl -lcrypto -lm

BUILD   ?= build
SRCS    := $(sort $(wildcard bot/*/*.c))
OBJS    := $(SRCS:bot/%.c=$(BUILD)/obj/%.o)
UNIT    := $(sort $(wildcard tests/unit/*.c))
UNITOBJ := $(UNIT:tests/unit/%.c=$(BUILD)/obj/unit/%.o)
# Header dependencies come from the compiler (-MMD -MP): each object's .d
# lists the headers it includes.  An object without its .d is rebuilt.
DEPFLAGS = -MMD -MP
DEPS    := $(OBJS:.o=.d) $(UNITOBJ:.o=.d) $(BUILD)/obj/main.d $(BUILD)/obj/doctor.d \
           $(BUILD)/obj/bench/bench_core.d

ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

.PHONY: all deps check lint-scripts run test unit e2e asan test-asan test-valgrind clean demo-reset fuzz \
        fuzz-build fuzz-regress soak bench bench-deps

all: $(BUILD)/vigil $(BUILD)/unit-tests

deps:
	@sh tools/deps.sh

# bot/main.c and bot/doctor.c too: $(BUILD)/obj/main.o, $(BUILD)/obj/doctor.o
$(BUILD)/obj/%.o: bot/%.c $(BUILD)/obj/%.d
	@mkdir -p $(dir $@)
	@echo "  CC   $<"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(WARN) $(CPPFLAGS) $(CPPFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/obj/unit/%.o: tests/unit/%.c $(BUILD)/obj/unit/%.d
	@mkdir -p $(dir $@)
	@echo "  CC   $<"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(WARN) $(CPPFLAGS) $(CPPFLAGS_ALL) $(DEPFLAGS) -Itests/unit -c $< -o $@

# vigil test's Lua half (bot/test/testkit.lua) is compiled in as a C string.
$(BUILD)/gen/testkit_lua.h: bot/test/testkit.lua
	@mkdir -p $(dir $@)
	@echo "  GEN  $@"
	@{ echo 'static const char testkit_lua[] ='; \
	   sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $<; echo ';'; } > $@
$(BUILD)/obj/test/testkit.o: $(BUILD)/gen/testkit_lua.h
$(BUILD)/obj/test/testkit.o: CPPFLAGS_ALL += -I$(BUILD)/gen

# A missing .d is no error: its object is simply out of date.
$(DEPS): ;
-include $(DEPS)

# Banned functions and assignments inside conditions (tools/checksrc.py).
check:
	@python3 tools/checksrc.py bot && echo "check: bot/ is clean"

# bot/doctor.c: the one-shot `vigil doctor`, linked into the binary only
$(BUILD)/vigil: $(OBJS) $(BUILD)/obj/main.o $(BUILD)/obj/doctor.o
	@echo "  LD   $@"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/unit-tests: $(OBJS) $(UNITOBJ)
	@echo "  LD   $@"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

# --- install (issue 20) ---------------------------------------------------
# `make install` honours PREFIX, DESTDIR and the environment's CFLAGS,
# CPPFLAGS and LDFLAGS, so a package build's hardening applies:
#   CFLAGS="$$(dpkg-buildflags --get CFLAGS)" CPPFLAGS="$$(dpkg-buildflags --get CPPFLAGS)" \
#   LDFLAGS="$$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now" make BUILD=build/dist install
# The configuration goes to $(SYSCONFDIR)/vigil (never over an existing one),
# the unit to $(PREFIX)/lib/systemd/system (systemd reads /usr/local/lib too).
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
DATADIR    := $(PREFIX)/share/vigil
MANDIR     := $(PREFIX)/share/man/man1
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SUBST      := sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
                  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

.PHONY: install uninstall
install: $(BUILD)/vigil
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR) \
	  $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/vigil
	install -m 0755 $(BUILD)/vigil $(DESTDIR)$(BINDIR)/vigil
	@set -e; for f in $$(find scripts lua -type f -name '*.lua' | sort); do \
	  install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/$$f; done
	@echo "  installed scripts/ and lua/ under $(DESTDIR)$(DATADIR)"
	install -m 0644 dist/vigil.1 $(DESTDIR)$(MANDIR)/vigil.1
	$(SUBST) dist/vigil.service.in > $(DESTDIR)$(UNITDIR)/vigil.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vigil.service
	$(SUBST) dist/vigil.lua.in > $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua.example
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua ]; then \
	  echo "  kept $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua (the new example is vigil.lua.example)"; \
	else install -m 0644 $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua.example \
	  $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vigil $(DESTDIR)$(MANDIR)/vigil.1 $(DESTDIR)$(UNITDIR)/vigil.service \
	  $(DESTDIR)$(SYSCONFDIR)/vigil/vigil.lua.example
	rm -rf $(DESTDIR)$(DATADIR)

# The offline demo: console chat + replay source + var/vigil.db.
run: deps $(BUILD)/vigil
	@mkdir -p var
	$(BUILD)/vigil run -c config/vigil.lua

# Forget the demo's state (tickets, cursor) so `make run` replays from the start.
demo-reset:
	rm -f var/vigil.db var/vigil.db-wal var/vigil.db-shm var/vigil.db.lock

# The shipped scripts and lua/ against the sandbox's globals (.luacheckrc):
# a global the sandbox lacks (io, os.exit, a typo) fails here, not in chat.
lint-scripts: deps
	@luacheck --quiet --no-color scripts lua && echo "lint-scripts: scripts/ and lua/ are clean"

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory lint-scripts
	@python3 tests/run.py --build $(BUILD)

# AddressSanitizer + UBSan build in build/asan/, and the whole suite against it.
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="$(ASAN_FLAGS)" all

test-asan: asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	 python3 tests/run.py --build build/asan

# The end-to-end suite with the bot under valgrind: 0 errors and nothing
# definitely lost, or the bot's exit status (99) fails the test.  The
# timing-bound tests (3 s acks, storms, chaos) stay in make test.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite
VALGRIND_TESTS ?= test_foundation test_scripts_live test_admin test_x.test_restart \
                  test_x.test_replies test_x.test_dm test_x.test_own test_slack.test_each \
                  test_slack.test_a_tweet test_slack.test_non_staff test_slack.test_events
test-valgrind: deps
	@$(MAKE) --no-print-directory all
	@VIGIL_WRAPPER="$(VALGRIND)" python3 tests/run.py --only e2e $(VALGRIND_TESTS)

# libFuzzer targets (clang) for every parser of outside data; `make fuzz`
# runs each for FUZZ_SECONDS, `make fuzz-regress` replays found crashes.
FUZZ_TARGETS := slack xpage text config admin journal
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link

fuzz-build: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
	  WARN="-std=c11 -Wall -Wno-unused-parameter -Wno-unknown-warning-option" \
	  $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(OBJS)
	@echo "  FUZZ $@"
	@$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined $(CPPFLAGS_ALL) $< $(OBJS) $(LIBS) -o $@

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus/$$t tests/fuzz/regress/$$t; \
	  cp -n tests/fuzz/corpus/$$t/* build/fuzz/corpus/$$t/ 2>/dev/null; \
	  if [ $$t = config ]; then cp -n config/*.lua build/fuzz/corpus/config/; fi; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 \
	    -artifact_prefix=build/fuzz/crash-$$t- -print_final_stats=1 \
	    build/fuzz/corpus/$$t tests/fuzz/regress/$$t > build/fuzz/$$t.log 2>&1; \
	  rc=$$?; grep -E "^stat::number_of_executed_units|ERROR|SUMMARY" build/fuzz/$$t.log; \
	  test $$rc -eq 0 || { tail -20 build/fuzz/$$t.log; \
	    echo "fuzz $$t failed (exit $$rc): build/fuzz/crash-$$t-*"; exit 1; }; \
	done

# A crash the fuzzer found goes into tests/fuzz/regress/<target>/ and stays there.
fuzz-regress: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  files=$$(ls tests/fuzz/regress/$$t/* 2>/dev/null | grep -v README); \
	  if [ -n "$$files" ]; then build/fuzz/fuzz_$$t $$files >/dev/null 2>&1 || \
	    { echo "fuzz-regress: $$t crashes again"; exit 1; }; fi; \
	done; echo "fuzz-regress: every saved input passes"

# Benchmarks (not part of make test): vigil built optimised in build/bench/,
# Hubot installed from bench/hubot/package-lock.json, both run against the
# fakes of tests/fakes/; results in bench/results/ and BENCHMARKS.md.
# BENCH_RUNS runs of each bot per scenario, alternated (A B A B ...).
BENCH_RUNS ?= 5
BENCH_CFLAGS := -O2 -g -DNDEBUG
bench: bench-deps
	@$(MAKE) --no-print-directory BUILD=build/bench CFLAGS="$(BENCH_CFLAGS)" \
	  build/bench/vigil build/bench/bench_core
	@python3 bench/run.py --build build/bench --runs $(BENCH_RUNS) $(BENCH_ARGS)
	@python3 bench/report.py

bench-deps: deps
	@sh tools/deps.sh bench
	@if ! cmp -s bench/hubot/package-lock.json bench/hubot/node_modules/.vigil-installed; then \
	  echo "make bench: installing Hubot (npm ci in bench/hubot)"; \
	  (cd bench/hubot && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	  cp bench/hubot/package-lock.json bench/hubot/node_modules/.vigil-installed; fi

$(BUILD)/obj/bench/%.o: bench/%.c $(BUILD)/obj/bench/%.d
	@mkdir -p $(dir $@)
	@echo "  CC   $<"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) $(WARN) $(CPPFLAGS_ALL) $(DEPFLAGS) -c $< -o $@

$(BUILD)/bench_core: $(OBJS) $(BUILD)/obj/bench/bench_core.o
	@echo "  LD   $@"
	@$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $^ $(LIBS)

# Steady load and faults for SOAK_SECONDS (default 600); fails if RSS or
# open fds keep growing.  Not part of make test.
SOAK_SECONDS ?= 600
soak: deps
	@$(MAKE) --no-print-directory all
	@python3 tests/soak.py --seconds $(SOAK_SECONDS)

clean:
	rm -rf build
