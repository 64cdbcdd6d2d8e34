# Thin front end over CMake/CTest. Every target installs what it needs first.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 20

.PHONY: all build test test-fast test-asan size fuzz fuzz-smoke demo bench docs clean install deb

all: build

build:
	@scripts/deps.sh build
	@cmake -S . -B $(BUILD) -DIOTPLOT_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

# The whole suite, then again under ASan+UBSan, the Cortex-M size check and a short fuzz run.
test:
	@scripts/deps.sh test
	@$(MAKE) --no-print-directory test-fast
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory size
	@$(MAKE) --no-print-directory fuzz-smoke

test-fast:
	@cmake -S . -B $(BUILD) -DIOTPLOT_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS) --timeout 300

test-asan:
	@cmake -S . -B $(ASAN_BUILD) -DIOTPLOT_WERROR=ON -DIOTPLOT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS) --timeout 600 -LE package

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
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
