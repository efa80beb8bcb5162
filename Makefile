# The two commands of the README:
#   make demo   build, start gpuvisord on a simulated node (or the real GPUs)
#               and show instances in all three modes
#   make check  install missing Debian packages, build, run every test, then
#               the same tests again under ASan+UBSan, then every fuzz target
#               with libFuzzer for $(FUZZ_CI_TIME) s in all
#   make fuzz   every fuzz target with libFuzzer for $(FUZZ_TIME) s each; what
#               the runs find that reaches new code is merged into
#               tests/fuzz/corpus/ (commit it)
#   make format        rewrite the C sources in the style of .clang-format
#   make format-check  list the files that style would change; fails if any
BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
FUZZ_TIME ?= 60
FUZZ_CI_TIME ?= 90

# make install [PREFIX=/usr/local] [DESTDIR=]: FHS paths under PREFIX (the
# prefix is compiled in: the daemon finds its shim, catalog and helper
# there), staged under DESTDIR when given (packaging).
PREFIX     ?= /usr/local
DESTDIR    ?=

# The C (and CUDA C) sources git tracks; clang-format-14 is what the style
# file is written for.
CLANG_FORMAT ?= clang-format-14
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' '*.cu')

.PHONY: all deps build build-asan test test-asan check demo fuzz fuzz-ci clean install \
	format format-check

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

$(BUILD_ASAN)/CMakeCache.txt:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DGV_SANITIZE=ON $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

build-asan: $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

check: deps
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) fuzz-ci

# clang + libFuzzer build in build-fuzz (scripts/fuzz.sh)
fuzz: deps
	JOBS=$(JOBS) scripts/fuzz.sh --time-per-target $(FUZZ_TIME) --merge

# bounded for CI: the whole set in FUZZ_CI_TIME seconds, the tree untouched
fuzz-ci:
	JOBS=$(JOBS) scripts/fuzz.sh --total-time $(FUZZ_CI_TIME)

install:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

demo: deps build
	scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-fuzz

format:
	@$(CLANG_FORMAT) -i --style=file $(FORMAT_FILES)

# clang-format --dry-run -Werror fails for a file it would change: their
# names are printed, and the target fails when there is any
format-check:
	@bad=0; for f in $(FORMAT_FILES); do \
	  if ! $(CLANG_FORMAT) --style=file --dry-run -Werror "$$f" >/dev/null 2>&1; then \
	    echo "$$f"; bad=1; fi; \
	done; \
	if [ $$bad -ne 0 ]; then echo "format-check: the files above differ from .clang-format (make format)" >&2; exit 1; fi
