# Convenience front-end over CMake. `make test` sets up a fresh Debian 12 machine, builds,
# and runs the whole suite (plain build, then sanitizers, then the linters).
BUILD      ?= build
ASAN_BUILD ?= build-asan
STATIC_BUILD ?= build-static
STATIC_SUITES ?= install bundle sections examples receipt
JOBS       ?= $(shell nproc)
# Seconds each fuzz target runs: the gate of `make test` (18 targets) and `make fuzz`.
FUZZ_GATE_SECONDS ?= 15
FUZZ_SECONDS ?= 20
CMAKE_ARGS ?=

.PHONY: all deps configure build test unit check check-asan lint fuzz fuzz-gate bench install clean \
	static check-static demo check-demo

all: build

deps:
	@scripts/deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# it_lab checks the lab's TiUP double and listeners against the real programs' behaviour and
# runs none of our binaries: the sanitizers have nothing to instrument there, and its nine
# minutes are better spent on suites that run tiferry (it runs in `check`).
check-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTF_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -E '^it_lab$$'

lint: build
	@scripts/lint.sh $(BUILD)

test: check check-asan lint static check-static check-demo fuzz-gate

# The README's first command: the whole change as a story on the lab (scripts/demo.sh). It sets
# the machine up itself (deps, build, static installer: the chapter that says when the static
# libraries are built the first time), then builds, approves, checks, installs and verifies a
# bundle, in about a minute. Everything it makes is under $(BUILD)/demo.
demo:
	@BUILD=$(BUILD) STATIC_BUILD=$(STATIC_BUILD) JOBS=$(JOBS) MAKE="$(MAKE)" scripts/demo.sh

# make test runs the demo too, and checks what it left (tests/integration/demo.sh).
check-demo: build static
	@TIFERRY_BIN=$(CURDIR)/$(STATIC_BUILD)/installer/tiferry TF_BUILD=$(CURDIR)/$(BUILD) \
		TF_SRC=$(CURDIR) bash tests/integration/demo.sh

# The fully static installer: musl-built libraries (cached, see scripts/static-deps.sh), then
# tiferry linked against them; check-static proves it runs alone in an empty chroot.
static: deps
	@out=$$(JOBS=$(JOBS) scripts/static-deps.sh) && prefix=$$(echo "$$out" | tail -n1) && \
		CC=musl-gcc cmake -S . -B $(STATIC_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTF_STATIC=ON \
		-DTF_STATIC_PREFIX="$$prefix" >/dev/null
	@cmake --build $(STATIC_BUILD) -j $(JOBS) --target tiferry

check-static: static
	@cmake --build $(STATIC_BUILD) -j $(JOBS) --target static_linkcheck static_resolve
	tests/static/check.sh $(STATIC_BUILD) $(BUILD)/builder/tiferry-build
	@# the static installer passes the installer's integration suites, not only the dynamic one
	@for t in $(STATIC_SUITES); do \
		TIFERRY_BIN=$(CURDIR)/$(STATIC_BUILD)/installer/tiferry TF_BUILD=$(CURDIR)/$(BUILD) \
		TF_SRC=$(CURDIR) bash tests/integration/$$t.sh || exit 1; done

# Every fuzz target under libFuzzer with ASan and UBSan (scripts/fuzz.sh); a finding fails and
# prints its input. fuzz-gate is the short campaign of `make test` (FUZZ_GATE_SECONDS each);
# `make fuzz FUZZ_SECONDS=600` a long one.
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

fuzz-gate: deps
	@FUZZ_SECONDS=$(FUZZ_GATE_SECONDS) scripts/fuzz.sh

bench: build
	@bench/run.sh $(BUILD)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(STATIC_BUILD)
