# virtkit: the thin front end to meson. A newcomer types only `make ...`:
#   make          build into build/
#   make deps     install the Debian packages listed in deps/debian.txt
#   make check    deps + build + every test, ending with "N passed, N failed"
#   make run      deps + build + boot the default guest
#   make bench    deps + build + the benchmarks against their peers
#   make fuzz     deps + the libFuzzer harnesses for FUZZ_SECONDS each
#   make web      the web console (virtkit ui) into build/web; needs npm
#   SANITIZE=1    any of the above with ASan + UBSan (in build-san/)
#   TSAN=1        any of the above with ThreadSanitizer (in build-tsan/)
#   TESTS=...     `make check` runs only these meson tests (names or --suite X)

BUILD ?= build
MESON_OPTS ?=
FUZZ_SECONDS ?= 120
ifeq ($(SANITIZE),1)
BUILD := build-san
MESON_OPTS += -Db_sanitize=address,undefined -Db_lundef=false
endif
ifeq ($(TSAN),1)
BUILD := build-tsan
# -Wno-tsan: the fences that order guest RAM (virtqueues) are none of TSan's business
MESON_OPTS += -Db_sanitize=thread -Db_lundef=false -Dc_args=-Wno-tsan
endif
TESTS ?=

.PHONY: all build deps check run bench fuzz format clean web

all: build

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_OPTS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh

check: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-tests.sh $(BUILD) $(TESTS)

run: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-default-guest.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-bench.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

web: build
	@scripts/build-web.sh $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf build build-san build-tsan build-fuzz
