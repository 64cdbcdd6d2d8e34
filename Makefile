# Thin front end over CMake/CTest. Every target installs what it needs first.
BUILD       ?= build
ASAN_BUILD  ?= build-asan
TSAN_BUILD  ?= build-tsan
CLANG_BUILD ?= build-clang
FUZZ_BUILD  ?= build-fuzz
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 20
# What the ThreadSanitizer pass runs: the tests that start the plot server's threads and
# `serve` (the broker's loop thread beside them), and the fuzz seeds.
TSAN_TESTS  ?= ^(unit_plot_|interop_plot_|fuzz_replay_)

.PHONY: all build test test-fast test-clang test-asan test-tsan size fuzz fuzz-smoke demo bench docs clean install deb

all: build

# The product alone: no test package (cmocka, mosquitto, clang, chromium...) is needed.
build:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The whole suite (gcc), the unit tests of a clang build, the suite again under ASan+UBSan,
# the threaded tests under TSan, the Cortex-M size check and a short fuzz run.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory test-fast
	@$(MAKE) --no-print-directory test-clang
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory size
	@$(MAKE) --no-print-directory fuzz-smoke

test-fast:
	@cmake -S . -B $(BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_TESTS=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 300

# The whole tree with clang's warnings as errors; its unit tests and fuzz seed replays.
test-clang:
	@CC=clang cmake -S . -B $(CLANG_BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_TESTS=ON >/dev/null
	@cmake --build $(CLANG_BUILD) -j$(JOBS)
	@ctest --test-dir $(CLANG_BUILD) --output-on-failure -j$(JOBS) --timeout 300 -L '^(unit|fuzz)$$'

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_SANITIZE=ON -DIOTPLOT_TESTS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) --timeout 600 -LE package

test-tsan:
	@cmake -S . -B $(TSAN_BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_SANITIZE=thread -DIOTPLOT_TESTS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(TSAN_BUILD) -j$(JOBS)
	@TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/tests/tsan.supp \
	  ctest --test-dir $(TSAN_BUILD) --output-on-failure -j$(JOBS) --timeout 600 -R '$(TSAN_TESTS)'

# The microcontroller build: codec + client core for Cortex-M4, and its size.
size:
	@scripts/size-cortex-m.sh

fuzz:
	@scripts/deps.sh test
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DIOTPLOT_FUZZ=ON -DIOTPLOT_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS)

fuzz-smoke: fuzz
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@$(BUILD)/src/cli/iotplot demo

bench: build
	@scripts/deps.sh bench
	@bench/run.sh $(BUILD)

# The generated tables of docs/broker.md (directives, $SYS topics), from the broker's tables.
docs: build
	@$(BUILD)/src/broker/gen_broker_doc docs/broker.md > docs/broker.md.new || { rm -f docs/broker.md.new; exit 1; }
	@mv docs/broker.md.new docs/broker.md

# The command, libiotplot, its headers and iotplot.pc under PREFIX (staged under DESTDIR);
# CMAKE_ARGS go to cmake (e.g. -DIOTPLOT_TESTS=OFF for a build folder of its own).
PREFIX ?= /usr/local
install:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DIOTPLOT_WERROR=ON -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian packages (iotplot, libiotplot1, libiotplot-dev) in DEB_OUT, built by debhelper.
DEB_OUT ?= build-deb
deb:
	@scripts/deb.sh $(DEB_OUT)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(CLANG_BUILD) $(FUZZ_BUILD)
