# tlsflow - one non-recursive GNU Makefile (see ../shared/STYLE.md 8)
#
#   make                      build ./tlsflow
#   make WERROR=1             warnings are errors (CI)
#   make SANITIZE=address,undefined   ASan/UBSan build in build/san
#   make test                 the whole suite (README's test command)
#   make check                unit + golden + fuzz-corpus replay
#   make check-integration    tests against real PostgreSQL, MTAs, ...
#   make fuzz                 libFuzzer targets (clang)
#   make bench                benchmarks (bench/)
#   make install PREFIX=/usr DESTDIR=...

VERSION   = 0.1.0
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
UNITDIR  ?= /lib/systemd/system

CC       ?= cc
CSTD      = -std=c11 -D_GNU_SOURCE
WARN      = -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wmissing-declarations -Wold-style-definition \
	    -Wpointer-arith -Wcast-qual -Wcast-align -Wwrite-strings -Wundef \
	    -Wvla -Wimplicit-fallthrough -Wdeclaration-after-statement \
	    -Wconversion -Wno-sign-conversion
HARDEN    = -O2 -g -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	    -fstack-clash-protection -fPIE
LDHARDEN  = -pie -Wl,-z,relro,-z,now -Wl,--as-needed
BUILD     = build
ifeq ($(WERROR),1)
WARN     += -Werror
endif
ifneq ($(SANITIZE),)
HARDEN    = -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
	    -fno-sanitize-recover=all -fPIE
LDHARDEN += -fsanitize=$(SANITIZE)
BUILD     = build/san
endif

PKGS      = libpq jansson libidn2 libmicrohttpd libpcap libcurl openssl zlib libcares \
	    libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CPPFLAGS += -I. -I$(BUILD) -DTLSFLOW_VERSION='"$(VERSION)"' \
	    -DLOCALSTATEDIR='"$(LOCALSTATEDIR)"'
CFLAGS   ?=
ALL_CFLAGS = $(CSTD) $(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS  ?=

COMMON_SRC    = $(wildcard common/*.c)
PARSERS_SRC   = $(wildcard parsers/*.c)
CORE_SRC      = $(wildcard core/*.c)
COLLECTOR_SRC = $(wildcard collector/*.c)
REPORTER_SRC  = $(wildcard reporter/*.c)
WEB_SRC       = $(wildcard web/*.c)
WEB_STATIC    = $(sort $(wildcard web/static/*))
MIGRATIONS    = $(sort $(wildcard sql/migrations/*.sql))

COMMON_OBJ    = $(COMMON_SRC:%.c=$(BUILD)/%.o)
# event.o is the one core module the parsers need; it links jansson only.
PARSERS_OBJ   = $(PARSERS_SRC:%.c=$(BUILD)/%.o) $(BUILD)/core/event.o
CORE_OBJ      = $(filter-out $(BUILD)/core/event.o,$(CORE_SRC:%.c=$(BUILD)/%.o)) \
		$(BUILD)/gen/migrations.o
COLLECTOR_OBJ = $(COLLECTOR_SRC:%.c=$(BUILD)/%.o) \
		$(REPORTER_SRC:%.c=$(BUILD)/%.o) $(WEB_SRC:%.c=$(BUILD)/%.o) \
		$(BUILD)/gen/static.o

LIBCOMMON     = $(BUILD)/libcommon.a
LIBPARSERS    = $(BUILD)/libparsers.a
LIBTLSFLOW    = $(BUILD)/libtlsflow.a
LIBS_ALL      = $(LIBTLSFLOW) $(LIBPARSERS) $(LIBCOMMON)

UNIT_SRC      = $(wildcard tests/unit/test_*.c)
UNIT_BIN      = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC      = $(wildcard tests/tools/*.c)
TOOL_BIN      = $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/%)
FUZZ_SRC      = $(wildcard tests/fuzz/fuzz_*.c)
REPLAY_BIN    = $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/replay_%)

PROG = tlsflow
ifneq ($(SANITIZE),)
PROG = $(BUILD)/tlsflow
endif

.PHONY: all check check-integration check-headers test fuzz lint format \
	format-check install clean bench run tests-bin
all: $(PROG)

$(PROG): $(BUILD)/main.o $(LIBS_ALL)
	$(CC) $(LDHARDEN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/gen/migrations.c: tools/embed.sh $(MIGRATIONS)
	@mkdir -p $(dir $@)
	@for f in $(MIGRATIONS); do case $${f##*/} in \
	  [0-9][0-9][0-9][0-9]-*.sql) ;; *) echo "bad migration name $$f"; exit 1;; \
	esac; done
	sh tools/embed.sh migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# The dashboard's files, compiled in (web/static/*).
$(BUILD)/gen/static.c: tools/embed.sh $(WEB_STATIC)
	@mkdir -p $(dir $@)
	sh tools/embed.sh web_static $(WEB_STATIC) > $@.tmp && mv $@.tmp $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(CPPFLAGS) $(CSTD) $(HARDEN) -I. -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	$(AR) rcs $@ $^
$(LIBPARSERS): $(PARSERS_OBJ)
	$(AR) rcs $@ $^
$(LIBTLSFLOW): $(CORE_OBJ) $(COLLECTOR_OBJ)
	$(AR) rcs $@ $^

# Unit tests: one binary per module, linked from the static libraries so
# that each pulls in only what it uses.
$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/t.h $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)
$(BUILD)/tests/%: tests/tools/%.c $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< $(LIBS_ALL) $(PKG_LIBS)
# Fuzz corpus replay: the fuzz target with a plain main (tests/fuzz/replay.c).
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDHARDEN) -o $@ $< tests/fuzz/replay.c $(LIBS_ALL) $(PKG_LIBS)

tests-bin: $(PROG) $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)

check: tests-bin
	BUILD=$(BUILD) PROG=$(PROG) sh tests/run.sh unit

check-integration: tests-bin
	BUILD=$(BUILD) PROG=$(PROG) sh tests/run.sh integration

# The README's test command: warnings as errors, unit + integration, then
# the unit tests again under ASan/UBSan.
test:
	BUILD=$(BUILD) sh tests/run.sh all

check-headers:
	@for h in common/*.h core/*.h parsers/*.h collector/*.h reporter/*.h web/*.h; do \
	  [ -f "$$h" ] || continue; \
	  echo "#include \"$$h\"" | $(CC) $(CPPFLAGS) $(CSTD) $(WARN) \
	    $(PKG_CFLAGS) -fsyntax-only -x c - || exit 1; \
	done; echo "headers ok"

FUZZ_CC ?= clang
fuzz: $(FUZZ_SRC:tests/fuzz/fuzz_%.c=build/fuzz/fuzz_%)
# A fuzz target links the library code it needs: each fuzz_X.c names its
# extra sources in a line "FUZZ_SOURCES: a.c b.c" (parsers and common are
# always linked).
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PARSERS_SRC) $(COMMON_SRC) core/event.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined \
	  $(PKG_CFLAGS) -o $@ $< $$(for f in $(PARSERS_SRC) $(COMMON_SRC) \
	  core/event.c $$(sed -n 's/.*FUZZ_SOURCES: *//p' $<); do echo $$f; \
	  done | sort -u) $(PKG_LIBS)

lint:
	sh tools/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

bench: $(PROG) $(TOOL_BIN)
	sh bench/run.sh

run: $(PROG)
	sh scripts/run.sh

install: $(PROG)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/tlsflow \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROG) $(DESTDIR)$(BINDIR)/tlsflow
	install -m 0644 etc/tlsflow.conf.sample \
	    $(DESTDIR)$(SYSCONFDIR)/tlsflow/tlsflow.conf.sample
	install -m 0644 man/tlsflow.8 $(DESTDIR)$(MANDIR)/man8/tlsflow.8
	install -m 0644 man/tlsflow.conf.5 $(DESTDIR)$(MANDIR)/man5/tlsflow.conf.5
	for u in etc/systemd/*.service etc/systemd/*.timer; do \
	  [ -f "$$u" ] && sed 's|@BINDIR@|$(BINDIR)|g' "$$u" > \
	    $(DESTDIR)$(UNITDIR)/$${u##*/}; done; true

clean:
	rm -rf build tlsflow

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
