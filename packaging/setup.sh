#!/usr/bin/env bash
# The project's entry points, used by README.md and CI:
#   packaging/setup.sh demo   install what is missing, build, prepare the demo, open the app
#   packaging/setup.sh test   install what is missing, build, run the whole test suite
#   packaging/setup.sh deb    install what is missing, build, make the Debian package
# Environment: BUILD_DIR (default build), JOBS (default 2: LibTorch files need ~1 GB each).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-2}
CMD=${1:-}

log() { printf '\n== %s\n' "$*"; }

install_deps() {
  log "Installing missing Debian packages"
  bash packaging/install-deps.sh
}

build() {
  log "Configuring and building ($BUILD_DIR)"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

cache_dir() { echo "${XDG_CACHE_HOME:-$HOME/.cache}/cam-explorer"; }

case "$CMD" in
  demo)
    install_deps
    build
    CACHE=$(cache_dir)
    CLI="$BUILD_DIR/app/cam-explorer-cli"
    if [ ! -f "$CACHE/demo/test_list.mat" ]; then
      log "Generating the demo dataset in $CACHE/demo"
      "$CLI" make-demo --out "$CACHE/demo" --overwrite
    fi
    if [ ! -f "$CACHE/demo-model/best.ckpt" ]; then
      log "Training the demo model (ResNet-18 from scratch at 224 px, about 7 minutes on 2 cores; done once)"
      "$CLI" train --data "$CACHE/demo" --out "$CACHE/demo-model" --preset demo
    fi
    log "Opening CAM Explorer on the demo"
    if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" = "" ]; then
      echo "No display found: running under xvfb-run. Set DISPLAY to see the window." >&2
      exec xvfb-run -a "$BUILD_DIR/app/cam-explorer" --demo
    fi
    exec "$BUILD_DIR/app/cam-explorer" --demo
    ;;
  test)
    install_deps
    build
    log "Running the test suite"
    (cd "$BUILD_DIR" && QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "$JOBS" --timeout 900)
    log "Core tests under AddressSanitizer and UndefinedBehaviorSanitizer"
    cmake -S . -B "$BUILD_DIR-asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAMX_SANITIZE=ON \
      -DCAMX_BUILD_UI=OFF -DCAMX_BUILD_BENCH=OFF
    cmake --build "$BUILD_DIR-asan" -j "$JOBS" --target camx_core_tests
    # LibTorch itself is not instrumented; leak checking is off because its allocator caches
    # memory on purpose until exit.
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:alloc_dealloc_mismatch=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$BUILD_DIR-asan/tests/camx_core_tests" --gtest_brief=1
    log "Fuzzing the XML, .mat, metadata table, TFRecord, torch.save, checkpoint, TorchScript and Keras readers briefly (libFuzzer)"
    CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCAMX_FUZZ=ON -DCAMX_BUILD_UI=OFF -DCAMX_BUILD_TESTS=OFF -DCAMX_BUILD_BENCH=OFF
    cmake --build "$BUILD_DIR-fuzz" -j "$JOBS" --target fuzz_annotation fuzz_matlist fuzz_table fuzz_tfrecord fuzz_pickle fuzz_checkpoint \
      fuzz_torchscript fuzz_keras
    # A fixed seed and run count keep CI reproducible; FUZZ_RUNS=0 fuzzes for FUZZ_SECONDS instead.
    for f in annotation matlist table tfrecord; do
      work=$(mktemp -d)
      cp -r "tests/fuzz/corpus/$f/." "$work/"
      # matio sizes some buffers from a file's claims before checking them (the reader rejects the
      # claims it can see first), and leaks on some of its own error paths: allocations that fail
      # are reported as read errors, which is what we test, and leak checking is off.
      ASAN_OPTIONS=allocator_may_return_null=1 \
        "$BUILD_DIR-fuzz/tests/fuzz/fuzz_$f" -seed=1 -runs="${FUZZ_RUNS:-50000}" \
        -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=0 \
        -artifact_prefix="$BUILD_DIR-fuzz/" "$work" 2>&1 | tail -n 2
      rm -rf "$work"
    done
    # The model readers link LibTorch, which is not instrumented: container-overflow checks give
    # false reports across that boundary, so they are off. Our readers must never allocate past
    # the limits, so allocator_may_return_null stays off here.
    for f in pickle checkpoint torchscript; do
      work=$(mktemp -d)
      if [ "$f" = torchscript ]; then
        # Its seeds are the small model fixtures the tests use.
        cp tests/fixtures/torchscript_scan/*.pt tests/fixtures/torchscript_odd/*.pt "$work/"
      else
        cp -r "tests/fuzz/corpus/$f/." "$work/"
      fi
      ASAN_OPTIONS=detect_container_overflow=0:alloc_dealloc_mismatch=0 \
        "$BUILD_DIR-fuzz/tests/fuzz/fuzz_$f" -seed=1 -runs="${FUZZ_RUNS:-50000}" \
        -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=0 \
        -artifact_prefix="$BUILD_DIR-fuzz/" "$work" 2>&1 | tail -n 2
      rm -rf "$work"
    done
    # The Keras reader, in this process (the application reads HDF5 in a child process): its seeds
    # are the small Keras fixtures. It links LibTorch (the importer) and libhdf5 1.10, neither
    # instrumented; libhdf5 keeps allocations until exit, so leak checking is off. libhdf5 hangs
    # and crashes on some damaged files (README "Keras models"; the application contains both):
    # fork mode writes each as an artifact and goes on. A crash whose top frame is not in libhdf5
    # is ours and fails the run, as does any other failure; exit status 70 is a timeout.
    work=$(mktemp -d)
    cp tests/fixtures/keras/*.h5 tests/fixtures/keras/*.keras "$work/"
    rm -f "$work/fuzz_hdf5_segv.h5" "$BUILD_DIR-fuzz"/keras-crash-*  # the known libhdf5 crash
    export ASAN_OPTIONS=detect_leaks=0:detect_container_overflow=0:alloc_dealloc_mismatch=0
    rc=0
    "$BUILD_DIR-fuzz/tests/fuzz/fuzz_keras" -fork=1 -ignore_timeouts=1 -ignore_crashes=1 -timeout=10 \
      -seed=1 -runs="${FUZZ_RUNS:-50000}" -max_total_time="${FUZZ_SECONDS:-60}" -rss_limit_mb=2048 \
      -malloc_limit_mb=1024 -detect_leaks=0 -artifact_prefix="$BUILD_DIR-fuzz/keras-" "$work" \
      >"$work.log" 2>&1 || rc=$?
    tail -n 2 "$work.log"
    rm -rf "$work" "$work.log"
    for crash in "$BUILD_DIR-fuzz"/keras-crash-*; do
      [ -e "$crash" ] || continue
      report=$("$BUILD_DIR-fuzz/tests/fuzz/fuzz_keras" "$crash" 2>&1 || true)
      top=$(printf '%s\n' "$report" | grep -E '^ +#0 ' | head -n 1 || true)
      case "$top" in
        *libhdf5*) ;;
        *)
          printf '%s\n' "$report" | tail -n 30 >&2
          echo "fuzz_keras: $crash crashes outside libhdf5" >&2
          exit 1
          ;;
      esac
      echo "fuzz_keras: $crash crashes inside libhdf5 (known, contained by the application)"
    done
    unset ASAN_OPTIONS
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 70 ] && ! ls "$BUILD_DIR-fuzz"/keras-crash-* >/dev/null 2>&1; then
      echo "fuzz_keras failed (exit status $rc)" >&2
      exit "$rc"
    fi
    log "All tests passed"
    ;;
  deb)
    install_deps
    build
    log "Building the Debian package"
    (cd "$BUILD_DIR" && cpack -G DEB)
    ls -l "$BUILD_DIR"/*.deb
    ;;
  *)
    echo "usage: packaging/setup.sh demo|test|deb" >&2
    exit 2
    ;;
esac
