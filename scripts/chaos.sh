#!/usr/bin/env bash
# The fault campaign of issue 6 ("Orders whose fate is unknown"): the engine against nzeza-sim as
# separate processes, faults and SIGKILLs at random moments, a restart on the same journal, and
# exact checks of the engine's record against the venue's. See docs/reliability.md.
#
#   bash scripts/chaos.sh [--trials N] [--seed S] [--keep] [--bin-dir DIR] [--verbose]
#
# Builds nzeza, nzeza-sim and nzeza-decode into build/release when --bin-dir is not given and one
# of them is missing. Exit status: the driver's (tools/chaos/chaos.py): 0 when every trial
# passed, 1 on a mismatch or a trial that could not run (with the seed that replays it), 2 on
# usage errors.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bin_dir=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ "${args[i]}" == "--bin-dir" && $((i + 1)) -lt ${#args[@]} ]]; then
    bin_dir="${args[i + 1]}"
  elif [[ "${args[i]}" == --bin-dir=* ]]; then
    bin_dir="${args[i]#--bin-dir=}"
  fi
done

if ! command -v python3 > /dev/null || ! command -v openssl > /dev/null; then
  bash scripts/setup.sh
fi

if [[ -z "$bin_dir" ]]; then
  bin_dir="build/release"
  if [[ ! -x "$bin_dir/tools/nzeza/nzeza" || ! -x "$bin_dir/tools/sim/nzeza-sim" ||
    ! -x "$bin_dir/tools/decode/nzeza-decode" ]]; then
    [[ -f "$bin_dir/build.ninja" ]] ||
      cmake -S . -B "$bin_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++
    cmake --build "$bin_dir" --target nzeza nzeza-sim nzeza-decode
  fi
  args+=(--bin-dir "$bin_dir")
fi

exec python3 tools/chaos/chaos.py "${args[@]}"
