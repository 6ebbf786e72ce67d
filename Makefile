# klartext: the two commands of the quick start (make run, make test) plus bench, fuzz and format.
JOBS ?= $(shell nproc)
BUILD_RELEASE := build/release
BUILD_TEST := build/asan
BUILD_FUZZ := build/fuzz

.PHONY: run test bench fuzz format format-check deps deps-build build release clean

deps:
	@scripts/setup-deps

deps-build:
	@scripts/setup-deps --build-only

$(BUILD_RELEASE)/build.ninja $(BUILD_RELEASE)/Makefile:
	cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=Release -DKLARTEXT_TESTS=OFF -DKLARTEXT_BENCH=ON

release: deps-build
	cmake -S . -B $(BUILD_RELEASE) -DCMAKE_BUILD_TYPE=Release -DKLARTEXT_TESTS=OFF -DKLARTEXT_BENCH=ON
	cmake --build $(BUILD_RELEASE) -j $(JOBS)

# The main job on the bundled examples, with the embedded SQLite store.
run: release
	scripts/run-examples $(BUILD_RELEASE)/klartext

# Sanitizer build, every test, and the format check.
test: deps
	cmake -S . -B $(BUILD_TEST) -DCMAKE_BUILD_TYPE=Debug -DKLARTEXT_SANITIZE=ON -DKLARTEXT_TESTS=ON
	cmake --build $(BUILD_TEST) -j $(JOBS)
	cd $(BUILD_TEST) && TZ=UTC LC_ALL=C ctest --output-on-failure -j $(JOBS) --timeout 900
	$(MAKE) --no-print-directory format-check

bench: release deps
	scripts/run-bench $(BUILD_RELEASE)

fuzz: deps-build
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKLARTEXT_FUZZ=ON \
	  -DKLARTEXT_SANITIZE=ON -DKLARTEXT_TESTS=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS)

FORMAT_FILES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: ok"

clean:
	rm -rf build
