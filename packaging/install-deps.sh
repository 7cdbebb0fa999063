#!/usr/bin/env bash
# Installs the Debian 12 packages CAM Explorer builds, tests and runs with.
# Idempotent: packages already present are not fetched again. Needs root (or sudo).
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev qt6-svg-dev libxkbcommon-dev libgl-dev
  libtorch-dev libopencv-dev libmatio-dev libgtest-dev libgmock-dev
  libpugixml-dev nlohmann-json3-dev libcli11-dev libcsv-dev libxtensor-dev libeigen3-dev libarchive-dev
  libxxhash-dev libturbojpeg0-dev
  # TensorFlow Datasets shards: tf.train.Example (protoc at build time) and CRC-32C (Boost.CRC).
  libprotobuf-dev protobuf-compiler libboost-dev
  # Keras model files (.h5, and the weights inside .keras archives).
  libhdf5-dev
  # ProcessGroupGloo.hpp (multi-process training and evaluation) includes Gloo's headers,
  # which libtorch-dev does not pull in.
  libgloo-dev
)
runtime_pkgs=(
  # Without it Debian's LibTorch falls back to the reference BLAS (~35x slower).
  libopenblas0-pthread
  fonts-dejavu-core
)
test_pkgs=(
  ccache clang libclang-rt-14-dev xvfb xauth help2man lintian desktop-file-utils appstream fakeroot
  # The TFDS reader's tests write their shards with an independent Python writer
  # (tests/fixtures/tfds/stanford_dogs_to_tfds.py).
  python3-protobuf python3-scipy
  # The full-size Keras import test writes its reference file with tests/fixtures/keras's script.
  python3-numpy python3-h5py
)

want=("${build_pkgs[@]}" "${runtime_pkgs[@]}" "${test_pkgs[@]}")
if [ "${1:-}" = "--runtime-only" ]; then want=("${runtime_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
