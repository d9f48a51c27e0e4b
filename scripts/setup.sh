#!/usr/bin/env bash
# Installs nzeza's build and test dependencies from Debian 12 packages.
# Idempotent: when everything is present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  clang-14 libclang-rt-14-dev lld-14 clang-format
  libboost1.81-dev libssl-dev openssl libsimdjson-dev
  libconcurrentqueue-dev libreaderwriterqueue-dev libabsl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libtomlplusplus-dev libsecp256k1-dev rapidjson-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done" >&2
