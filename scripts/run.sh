#!/usr/bin/env bash
# The main job, the README's first command: builds the engine (Release) and runs it. With no
# configuration it starts the embedded simulated venue on loopback (TLS, a generated certificate
# trusted through the explicit CA option), trades against it with the market maker for 30 s,
# printing a status line every second and a summary at the end (messages, books, signals,
# orders, fills, rejects, breaker trips, positions next to the venue's, per-stage latency).
#
#   bash scripts/run.sh                                   # 30 s against the embedded venue
#   bash scripts/run.sh --duration 10 --summary-json s.json
#   bash scripts/run.sh --config nzeza.toml --duration 0  # until Ctrl-C (SIGINT: cancel, flush, exit 0)
#
# The journal goes to ./nzeza-journal (configurable). The benchmark suites: scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ >/dev/null
cmake --build build/release --target nzeza nzeza-sim -j"$(nproc)" >/dev/null
exec build/release/tools/nzeza/nzeza "$@"
