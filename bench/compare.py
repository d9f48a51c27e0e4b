#!/usr/bin/env python3
"""Prints nzeza's benchmark comparison table from Google Benchmark JSON.

Usage: bench/compare.py build/bench-core.json [build/bench-book.json ...]

Uses the median aggregate of each benchmark (run with --benchmark_repetitions >= 3), or the single
run when there is no aggregate. Every ratio compares two benchmarks of the same run. Exit status is
0 whatever the verdicts: the table reports, it does not gate (machines are noisy).
"""
import json
import sys


def load(path):
    with open(path) as f:
        doc = json.load(f)
    by_name = {}
    cv = {}
    for b in doc.get("benchmarks", []):
        if b.get("aggregate_name") == "cv":
            cv[b.get("run_name", b["name"])] = b
        if b.get("error_occurred"):
            by_name[b.get("run_name", b["name"])] = {"error": b.get("error_message", "error")}
            continue
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        name = b.get("run_name", b["name"])
        if agg is None and name in by_name:
            continue  # keep the median when both exist
        by_name[name] = b
    for name, b in by_name.items():
        if name in cv and "error" not in b:
            b["_cv"] = cv[name]
    return doc.get("context", {}), by_name


def find(by_name, needle):
    """The benchmark named BM_<needle> (optionally with /real_time, /iterations:N...), else the first containing it."""
    for suffix in ("", "/real_time", "/manual_time"):
        name = "BM_" + needle + suffix
        if name in by_name:
            return name, by_name[name]
    for name, b in by_name.items():  # BM_<needle>/iterations:N/manual_time and the like
        if name.startswith("BM_" + needle + "/"):
            return name, b
    for name, b in by_name.items():
        if needle in name:
            return name, b
    return None, None


def fmt_rate(v):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= div:
            return f"{v / div:.2f}{unit}/s"
    return f"{v:.0f}/s"


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    context, by_name = load(sys.argv[1])
    for extra in sys.argv[2:]:
        by_name.update(load(extra)[1])
    print()
    print(f"nzeza benchmarks  (host: {context.get('host_name', '?')}, "
          f"{context.get('num_cpus', '?')} cpus, {context.get('mhz_per_cpu', '?')} MHz; "
          f"medians of the repetitions, ±coefficient of variation)")
    rows = []

    def ratio_row(title, ours, base, metric, target, higher_is_better=True):
        n1, b1 = find(by_name, ours)
        n2, b2 = find(by_name, base)
        if b1 is None or b2 is None:
            rows.append((title, "missing", "", "", "", ""))
            return
        if "error" in b1 or "error" in b2:
            rows.append((title, b1.get("error", "ok"), b2.get("error", "ok"), "", "", "ERROR"))
            return
        v1, v2 = b1.get(metric), b2.get(metric)
        if not v1 or not v2:
            rows.append((title, "no " + metric, "", "", "", ""))
            return
        ratio = v1 / v2
        if metric.endswith("per_second"):
            s1, s2 = fmt_rate(v1), fmt_rate(v2)
        elif metric == "real_time":
            u1, u2 = b1.get("time_unit", "ns"), b2.get("time_unit", "ns")
            scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
            v1, v2 = v1 * scale[u1], v2 * scale[u2]
            ratio = v1 / v2
            if max(v1, v2) < 1e4:
                s1, s2 = f"{v1:.1f} ns", f"{v2:.1f} ns"
            else:
                s1, s2 = f"{v1 / 1e3:.1f} us", f"{v2 / 1e3:.1f} us"
        else:
            s1, s2 = f"{v1:.1f} ns", f"{v2:.1f} ns"
        if target is None:
            verdict = ""
        elif higher_is_better:
            verdict = "MET" if ratio >= target else "MISSED"
        else:
            verdict = "MET" if ratio <= target else "MISSED"
        def spread(b, m):
            c = b.get("_cv", {}).get(m if m != "real_time" else "real_time")
            return f" ±{c * 100:.0f}%" if isinstance(c, (int, float)) else ""
        s1 += spread(b1, metric)
        s2 += spread(b2, metric)
        tgt = "" if target is None else (f">= {target}x" if higher_is_better else f"<= {target}x")
        shown = f"{ratio:.2f}x" if ratio >= 0.1 else f"1/{1 / ratio:.0f}x"
        rows.append((title, s1, s2, shown, tgt, verdict))

    ips = "items_per_second"
    for size in ("8B", "64B"):
        ratio_row(f"ring throughput {size}: nzeza vs boost::lockfree",
                  f"RingThroughputNzeza_{size}", f"RingThroughputBoostLockfree_{size}", ips, 2.0)
        ratio_row(f"ring throughput {size}: nzeza vs moodycamel RWQ",
                  f"RingThroughputNzeza_{size}", f"RingThroughputMoodycamelRwq_{size}", ips, 3.0)
        ratio_row(f"ring throughput {size}: nzeza batch(32) vs boost::lockfree",
                  f"RingThroughputNzezaBatch_{size}", f"RingThroughputBoostLockfree_{size}", ips, None)
    ratio_row("ring round trip p50: nzeza vs cache-line floor", "RingRoundTripNzeza",
              "RingRoundTripCacheLineFloor", "p50_ns", 1.3, higher_is_better=False)
    ratio_row("ring round trip p99: nzeza vs cache-line floor", "RingRoundTripNzeza",
              "RingRoundTripCacheLineFloor", "p99_ns", None, higher_is_better=False)
    ratio_row("ring round trip p50: boost::lockfree vs floor", "RingRoundTripBoostLockfree",
              "RingRoundTripCacheLineFloor", "p50_ns", None, higher_is_better=False)
    ratio_row("ring round trip p50: moodycamel RWQ vs floor", "RingRoundTripMoodycamelRwq",
              "RingRoundTripCacheLineFloor", "p50_ns", None, higher_is_better=False)
    ratio_row("decimal parse: nzeza vs from_chars(double)", "ParsePriceNzeza",
              "ParsePriceFromChars", ips, 2.0)
    ratio_row("decimal parse: nzeza vs strtod", "ParsePriceNzeza", "ParsePriceStrtod", ips, None)
    ratio_row("histogram record: nzeza HDR vs naive 64-bucket log2", "HistogramRecord",
              "HistogramRecordBaselineLog2", ips, None)
    ratio_row("histogram p99 of 1M samples: nzeza vs nth_element", "HistogramQueryP99",
              "HistogramQueryBaselineNthElement", "real_time", None, higher_is_better=False)
    ratio_row("clock read: TscClock::NowNanos vs clock_gettime", "ClockTscNowNanos",
              "ClockGettimeMonotonic", ips, None)

    def absolute_row(title, name, target_ns, per_item=False):
        n, b = find(by_name, name)
        if b is None or "error" in b:
            rows.append((title, "missing" if b is None else b["error"], "", "", "", ""))
            return
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
        v = b["real_time"] * scale
        if per_item:
            if not b.get("items_per_second"):
                rows.append((title, "no items_per_second", "", "", "", ""))
                return
            v = 1e9 / b["items_per_second"]
        verdict = "MET" if v <= target_ns else "MISSED"
        rows.append((title, f"{v:.1f} ns" + spread(b, "real_time"), "", "",
                     f"<= {target_ns:g} ns", verdict))

    def spread(b, m):
        c = b.get("_cv", {}).get(m)
        return f" ±{c * 100:.0f}%" if isinstance(c, (int, float)) else ""

    ratio_row("book apply (levels/s): nzeza vs std::map book", "BookApplyNzeza",
              "BookApplyStdMap", ips, None)
    ratio_row("risk, all checks: nzeza vs map-based baseline", "RiskCheckAllAccept",
              "RiskCheckAllAcceptNaiveMaps", "real_time", None, higher_is_better=False)
    absolute_row("risk, all checks, accepting intent", "RiskCheckAllAccept", 50)
    absolute_row("oms: new+ack+fill+fill (4 updates)", "OmsNewAckFillFill", 4 * 100)
    absolute_row("journal append (one exec record, idle upkeep)", "JournalAppendExec", 100)
    absolute_row("journal append without upkeep (page faults inline)",
                 "JournalAppendExecNoUpkeep", 100)

    # Feeds: decode + book apply per message, ours (simdjson on-demand) vs RapidJSON and DOM.
    feeds = [
        ("binance depthUpdate", "BinanceDepth", 2.0),
        ("binance bookTicker", "BinanceBookTicker", None),
        ("binance aggTrade", "BinanceAggTrade", None),
        ("coinbase exchange l2update", "CoinbaseL2Update", 2.0),
        ("coinbase advanced l2_data", "CoinbaseAdvancedL2", 2.0),
        ("coinbase exchange snapshot", "CoinbaseSnapshot", 2.0),
        ("coinbase exchange ticker", "CoinbaseTicker", None),
        ("coinbase exchange match", "CoinbaseMatch", None),
        ("dydx v4_orderbook update", "DydxOrderbook", 2.0),
        ("dydx v4_orderbook snapshot", "DydxSnapshot", None),
        ("dydx v4_trades", "DydxTrades", None),
    ]
    for title, stem, target in feeds:
        ratio_row(f"{title} (msgs/s): nzeza vs RapidJSON", f"{stem}_Nzeza", f"{stem}_RapidJson",
                  ips, target)
        ratio_row(f"{title} (msgs/s): nzeza vs simdjson DOM", f"{stem}_Nzeza",
                  f"{stem}_SimdjsonDom", ips, None)
    absolute_row("binance depthUpdate decode + apply, per message", "BinanceDepth_Nzeza", 300,
                 per_item=True)

    widths = [max(len(r[i]) for r in rows + [("comparison", "ours", "baseline", "ratio",
                                                 "target", "verdict")]) for i in range(6)]
    header = ("comparison", "ours", "baseline", "ratio", "target", "verdict")
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))

    inexact = [(n, b["inexact"]) for n, b in by_name.items() if "inexact" in b]
    if inexact:
        print()
        for n, v in inexact:
            print(f"{n}: {v:.0f} strings parsed to a different value than the exact decimal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
