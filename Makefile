# Tally — plain GNU make. Variants build in their own folders:
#   make                  build/tally
#   make SANITIZE=address,undefined   build-address,undefined/tally
#   make test             installs test deps, builds with ASan+UBSan, runs every test
#   make fuzz             libFuzzer harnesses (clang) in build-fuzz/
#   make bench            prints the benchmark table
#   make run              installs deps, builds, seeds a demo site if empty, serves :8080

CC ?= cc
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD ?= build
OPT ?= -O2
else
BUILD ?= build-$(SANITIZE)
OPT ?= -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

PKGS := libmicrohttpd jansson libsodium libpcre2-8 yaml-0.1 libmaxminddb libzstd
WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Werror
CFLAGS ?= -g $(OPT)
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
	-DTALLY_ASSETS_DIR='"$(CURDIR)/node_modules"'
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
LDFLAGS += $(if $(SANITIZE),-fsanitize=$(SANITIZE))

LIB_SRC := $(sort $(wildcard src/*/*.c))
# The dashboard and the tracker, built and embedded as one generated C file.
WEB_OBJ := $(BUILD)/gen/web_assets.o
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(WEB_OBJ)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SUPPORT := $(BUILD)/tests/harness.o
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%-replay)

.PHONY: all test run bench fuzz clean deps
# Objects built through pattern chains are kept, so a second make rebuilds nothing.
.SECONDARY:
all: $(BUILD)/tally

$(BUILD)/%.o: %.c $(wildcard src/*.h src/*/*.h) tests/test.h tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/gen/web_assets.c: $(shell find web tracker -type f) scripts/build-web.sh scripts/embed.pl
	scripts/build-web.sh $(BUILD)/web $@
$(WEB_OBJ): $(BUILD)/gen/web_assets.c src/web/assets.h
	$(CC) $(ALL_CFLAGS) -I src/web -c $< -o $@

$(BUILD)/tally: $(BUILD)/src/main.o $(BUILD)/src/demo.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT) $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The differential test builds its SQLite reference in the test: SQLite is a
# test-only dependency, linked into that one program.
$(BUILD)/tests/test_differential: LDLIBS += $(shell pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)

# Fuzz corpora replayed as regression tests: the harness plus a main that
# feeds it every file of fuzz/corpus/NAME/.
$(BUILD)/fuzz/%-replay: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

deps:
	@scripts/deps.sh build

test:
	@scripts/deps.sh test
	@scripts/assets.sh test
	@$(MAKE) --no-print-directory SANITIZE=address,undefined test-binaries
	@scripts/run-tests.sh build-address,undefined

.PHONY: test-binaries
test-binaries: $(BUILD)/tally $(TEST_BIN) $(FUZZ_REPLAY)

fuzz:
	@scripts/deps.sh fuzz
	@scripts/assets.sh
	@$(MAKE) --no-print-directory CC=clang BUILD=build-fuzz OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
		LDFLAGS="-fsanitize=fuzzer,address,undefined" fuzz-binaries
	@echo "run e.g.: mkdir -p build-fuzz/new && build-fuzz/fuzz/fuzz_track_request build-fuzz/new fuzz/corpus/fuzz_track_request"
	@echo "(new inputs go to build-fuzz/new; copy the ones worth keeping into fuzz/corpus/)"

.PHONY: fuzz-binaries
fuzz-binaries: $(FUZZ_SRC:fuzz/%.c=build-fuzz/fuzz/%)
build-fuzz/fuzz/%: build-fuzz/fuzz/%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

bench:
	@scripts/deps.sh bench
	@scripts/assets.sh test
	@$(MAKE) --no-print-directory all $(BUILD)/bench/pipeline $(BUILD)/bench/reports_data
	@scripts/bench.sh $(BUILD)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@
# The reports benchmark's traffic is tally demo's.
$(BUILD)/bench/reports_data: $(BUILD)/src/demo.o

DATA ?= ./data
LISTEN ?= 127.0.0.1:8080
run:
	@scripts/deps.sh build
	@scripts/assets.sh
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(BUILD)/tally "$(DATA)" "$(LISTEN)"

clean:
	rm -rf build build-*
