#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tables and a plot from the raw results of scripts/bench-swap-apps.

    swap-apps-report.py DIR [--plot FILE.png]

DIR holds what scripts/lib/bench-swap-apps-guest wrote (runs/, wset,
status, info) and run.env from scripts/bench-swap-apps. The tables go to
stdout; the plot (matplotlib) to FILE.png.
"""
import argparse
import glob
import math
import os
import re
import shlex
import sys

LABELS = {
    "none": "no limit",
    "dswap": "dswap (RDMA)",
    "dswap-tcp": "dswap (TCP)",
    "nvme-rdma": "nvme-rdma",
    "nvme-tcp": "nvme-tcp",
    "nbd": "nbd (TCP)",
    "zram": "zram (local)",
    "disk": "virtio disk",
}
APP_TITLES = {
    "memcheck": "memcheck",
    "memcached": "memcached",
    "redis": "Redis",
}


def read_kv(path, shell=False):
    """key=value lines; shell=True for files written with printf %q."""
    kv = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if "=" not in line:
                    continue
                if shell:
                    try:
                        words = shlex.split(line)
                    except ValueError:
                        continue
                    if len(words) != 1 or "=" not in words[0]:
                        continue
                    k, v = words[0].split("=", 1)
                else:
                    k, v = line.split("=", 1)
                kv.setdefault(k, v)
    except OSError:
        pass
    return kv


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def memaslap_get_p99(text):
    """p99 of memaslap's final get histogram: the upper edge, in us, of the
    log2 bucket holding it (bucket r counts latencies in (2^(r-1), 2^r])."""
    m = re.search(r"^Get Statistics \((\d+) events\)\n(.*?)\n\n", text, re.M | re.S)
    if not m:
        return None, 0
    counts = {}
    in_dist = False
    for line in m.group(2).splitlines():
        if "Log2 Dist:" in line:
            in_dist = True
            continue
        if not in_dist:
            continue
        mm = re.match(r"\s*(\d+):((?:\s+\d+)+)\s*$", line)
        if not mm:
            continue
        base = int(mm.group(1))
        for j, c in enumerate(mm.group(2).split()):
            counts[base + j] = counts.get(base + j, 0) + int(c)
    total = sum(counts.values())
    if not total:
        return None, 0
    acc = 0
    for r in sorted(counts):
        acc += counts[r]
        if acc >= 0.99 * total:
            return float(2 ** r), total
    return None, total


def parse_run(base, meta):
    """The figures of one run: dict with tput, secs, p99_us, ..."""
    r = {
        "ok": meta.get("result") == "ok",
        "why": meta.get("result", "no result")[len("FAILED: "):]
        if meta.get("result", "").startswith("FAILED: ") else meta.get("result", "not run"),
        "secs": num(meta.get("secs")),
        "pswpin": num(meta.get("pswpin")),
        "pswpout": num(meta.get("pswpout")),
        "peak_kb": num(meta.get("peak_kb")),
        "limit_kb": meta.get("limit_kb"),
        "fill_s": num(meta.get("fill_s")),
        "tput": None,
        "p99_us": None,
        "visits": None,
        "bad_pages": None,
        "events": None,
    }
    out = read_text(base + ".out")
    app = meta.get("app")
    if app == "memcheck":
        m = re.search(r"^memcheck: (\d+) MiB, (\d+) page visits, (\d+) bad pages", out, re.M)
        if m:
            r["visits"] = int(m.group(2))
            r["bad_pages"] = int(m.group(3))
            if r["secs"]:
                r["tput"] = r["visits"] / r["secs"]
    elif app == "memcached":
        m = re.search(r"^Run time: \S+ Ops: (\d+) TPS: (\d+)", out, re.M)
        if m:
            r["tput"] = float(m.group(2))
        r["p99_us"], r["events"] = memaslap_get_p99(out)
    elif app == "redis":
        for line in out.splitlines():
            f = [x.strip('"') for x in line.strip().split(",")]
            if len(f) >= 8 and f[0] == "GET":
                r["tput"] = num(f[1])
                p99 = num(f[6])
                r["p99_us"] = p99 * 1000 if p99 is not None else None
    return r


def load(d):
    env = read_kv(os.path.join(d, "run.env"), shell=True)
    info = read_kv(os.path.join(d, "info"))
    status = {}
    for line in read_text(os.path.join(d, "status")).splitlines():
        if " " in line:
            k, v = line.split(" ", 1)
            status[k] = v
    wset = {}
    for line in read_text(os.path.join(d, "wset")).splitlines():
        f = line.split()
        if len(f) == 2:
            wset[f[0]] = int(f[1])
    runs = {}
    for mp in glob.glob(os.path.join(d, "runs", "*.meta")):
        meta = read_kv(mp)
        key = (meta.get("device"), meta.get("app"), meta.get("pct"))
        runs[key] = parse_run(mp[: -len(".meta")], meta)
    return env, info, status, wset, runs


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return f"{v:.{nd}f}"


def host_line(d, cpus):
    rows = []
    for line in read_text(os.path.join(d, "host-load.txt")).splitlines():
        f = line.split()
        if len(f) == 3:
            try:
                rows.append((float(f[1]), int(f[2])))
            except ValueError:
                pass
    if not rows:
        return None, False
    busy = sum(1 for _, q in rows if q > 1)
    skew = " (NUMBERS SKEWED: rerun on a quiet machine)" if busy else ""
    return (f"host:    {cpus} CPUs, load average up to {max(l for l, _ in rows):.2f}; "
            f"other QEMU guests running in {busy} of {len(rows)} samples{skew}"), busy > 0


def report(d, plot):
    env, info, status, wset, runs = load(d)
    devices = env.get("devices", info.get("devices", "")).split()
    apps = env.get("apps", info.get("apps", "")).split()
    fractions = env.get("fractions", info.get("fractions", "")).split()
    swapdevs = [x for x in devices if x != "none"]
    w = 16
    print("disagg swap with applications, the Infiniswap way (scripts/bench-swap-apps)")
    print(f"date:    {env.get('date_run', '?')}")
    mem = int(info.get("mem_kb", "0") or 0) // 1024
    print(f"kernel:  {env.get('kver', '?')} (guest), {info.get('cpus', '?')} vCPUs, {mem} MiB RAM")
    print(f"build:   {env.get('build', '?')}, modules built {env.get('modules_built', '?')}")
    hl, skewed = host_line(d, env.get("host_cpus", "?"))
    if hl:
        print(hl)
    if env.get("elapsed_s"):
        print(f"time:    {int(env['elapsed_s']) // 60} min {int(env['elapsed_s']) % 60} s for the whole run")
    print("EMULATED: QEMU TCG guest, RDMA is Soft-RoCE (rdma_rxe) over veth, CPU-bound;")
    print("          absolute numbers mean nothing here, judge by ratios only.")
    size = env.get("size", info.get("size_mb", "?"))
    print(f"set-up:  each app alone in a cgroup v2 group, memory.max = {'/'.join(fractions)} % of its working")
    print("         set (its memory with no limit and no swap: the servers' once loaded and read,")
    print(f"         memcheck's peak); one {env.get('swap_mb', '?')} MiB swap device at a time; zswap off, THP")
    print("         madvise; the load generators run outside the group")
    ws = ", ".join(f"{a} {wset[a] / 1024:.1f} MiB" for a in apps if a in wset)
    print(f"working sets: {ws or 'n/a'}")
    keys = info.get("keys", "?")
    print(f"memcheck:  {size} MiB written, checked word for word in random order, rewritten (-p 1);")
    print("           figure: its runtime; every page is checked (bad pages must be 0)")
    print(f"memcached: {info.get('memcached', 'memcached')}, 2 threads; memaslap (memcaslap) -T 1 -c 4,")
    print(f"           {keys} keys x 4 KiB set once, then random gets for {env.get('runtime', '?')} s in all;")
    print("           ops/s over the whole run; p99 of the gets from memaslap's log2 histogram")
    print("           (the upper edge of the bucket: a power of two, 2x resolution)")
    print(f"redis:     redis-server {info.get('redis', '')}; {keys} keys x 4000 random bytes (redis-cli --pipe),")
    print(f"           then {keys} random GETs by redis-benchmark -c 4; GET/s and its p99")
    print("pswpin/pswpout: pages swapped in / out during the run (/proc/vmstat)")

    def cell(dev, app, pct, what):
        r = runs.get((dev, app, pct))
        if r is None:
            return "-"
        if not r["ok"]:
            return "FAILED"
        base = runs.get(("none", app, "nolimit"))
        if what == "perf":
            if app == "memcheck":
                v, b = r["secs"], base["secs"] if base and base["ok"] else None
                s = fmt(v, 1)
                if v and b:
                    s += f" ({v / b:.2f}x)"
                return s
            v, b = r["tput"], base["tput"] if base and base["ok"] else None
            s = fmt(v)
            if v and b:
                s += f" ({v / b:.2f}x)"
            return s
        if what == "p99":
            if r["p99_us"] is None:
                return "n/a"
            return ("<=" if app == "memcached" else "") + fmt(r["p99_us"])
        if what == "swap":
            return f"{fmt(r['pswpin'])}/{fmt(r['pswpout'])}"
        return "?"

    def table(app, what, title):
        print()
        print(title)
        hdr = f"{'device':<14}" + "".join(f"{p + ' %':>{w + 2}}" for p in fractions)
        print(hdr)
        if what != "swap":
            r = cell("none", app, "nolimit", what)
            print(f"{LABELS['none']:<14}{r:>{w + 2}}")
        for dev in swapdevs:
            print(f"{LABELS.get(dev, dev):<14}" + "".join(f"{cell(dev, app, p, what):>{w + 2}}" for p in fractions))

    for app in apps:
        print()
        print(f"==== {APP_TITLES.get(app, app)}")
        if app == "memcheck":
            table(app, "perf", "runtime, s (x no limit: lower is better)")
        elif app == "memcached":
            table(app, "perf", "throughput, ops/s (x no limit: higher is better)")
            table(app, "p99", "p99 get latency, us (upper edge of memaslap's log2 bucket)")
        else:
            table(app, "perf", "throughput, GET/s (x no limit: higher is better)")
            table(app, "p99", "p99 GET latency, us")
        table(app, "swap", "pages swapped in / out")
        if app == "memcheck":
            bad = [f"{k[0]} {k[2]}" for k, r in runs.items()
                   if k[1] == "memcheck" and r["bad_pages"] not in (None, 0)]
            checked = sum(r["visits"] or 0 for k, r in runs.items() if k[1] == "memcheck" and r["ok"])
            print(f"pages checked in all memcheck runs: {checked} visits; "
                  + ("bad pages in: " + ", ".join(bad) if bad else "0 bad pages"))

    # dswap against the others.
    pairs = [("dswap", "nvme-tcp"), ("dswap", "nvme-rdma"), ("dswap-tcp", "nvme-tcp")]
    pairs = [p for p in pairs if p[0] in swapdevs and p[1] in swapdevs]
    if pairs:
        print()
        print("dswap / other device, same app and limit (memcheck: runtime ratio, lower is")
        print("better for dswap; memcached, redis: throughput ratio, higher is better):")
        print(f"{'':<24}" + "".join(f"{APP_TITLES.get(a, a) + ' ' + p + '%':>18}"
                                   for a in apps for p in fractions if p != "100"))
        for a_dev, b_dev in pairs:
            line = f"{LABELS[a_dev] + ' / ' + b_dev:<24}"
            for app in apps:
                for p in fractions:
                    if p == "100":
                        continue
                    ra, rb = runs.get((a_dev, app, p)), runs.get((b_dev, app, p))
                    v = None
                    if ra and rb and ra["ok"] and rb["ok"]:
                        if app == "memcheck" and ra["secs"] and rb["secs"]:
                            v = ra["secs"] / rb["secs"]
                        elif app != "memcheck" and ra["tput"] and rb["tput"]:
                            v = ra["tput"] / rb["tput"]
                    line += f"{(f'{v:.2f}x' if v else 'n/a'):>18}"
            print(line)
        # pswpout, the second question.
        for p in fractions:
            if p == "100":
                continue
            outs = []
            for dev in swapdevs:
                r = runs.get((dev, "memcheck", p))
                if r and r["ok"] and r["pswpout"] is not None:
                    outs.append(f"{dev} {r['pswpout']:.0f}")
            if outs:
                print(f"memcheck at {p} %, pages swapped out: " + ", ".join(outs))

    for k in ("dswap", "dswap-tcp"):
        rs = info.get(f"{k}.remote_stat")
        if rs:
            f = rs.split()
            if len(f) >= 8:
                print(f"{k} remote_stat at the end: reads {f[0]} writes {f[1]} zero_reads {f[2]} "
                      f"failed {f[3]}/{f[4]} slabs {f[6]} pages {f[7]}")
    print(f"swappiness {info.get('swappiness', '?')}, page-cluster {info.get('page_cluster', '?')}, "
          f"THP {info.get('thp_now', info.get('thp', '?'))}")
    failed = [(k, r["why"]) for k, r in sorted(runs.items(), key=str) if not r["ok"]]
    for k, why in failed:
        print(f"FAILED: {k[0]} {k[1]} {k[2]}: {why}")
    for dev in devices:
        if dev not in status:
            print(f"NOT MEASURED: {dev} (the guest never got to it)")
        elif status[dev] != "ok":
            print(f"NOT COMPLETE: {dev}: {status[dev]}")
    if "setup" in status:
        print(f"guest set-up: {status['setup']}")
    vrc = env.get("vrc", "unfinished")
    if vrc == "unfinished":
        print(f"guest run did not finish (bench-swap-apps was interrupted); see {d}")
    elif vrc != "0":
        print(f"guest run ended with status {vrc} (see {d})")
    for k, what in (("kernel_warnings", "warning/BUG/oops"), ("oom_lines", "OOM")):
        if info.get(k, "0") not in ("0", ""):
            print(f"guest kernel log has {info[k]} {what} lines: {d}/dmesg.txt")
    if plot:
        draw(plot, env, info, apps, fractions, swapdevs, runs, skewed)


def draw(path, env, info, apps, fractions, swapdevs, runs, skewed):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    xs = [int(p) for p in fractions]
    fig, axes = plt.subplots(2, len(apps), figsize=(5 * len(apps), 8.5), squeeze=False)
    style = {
        "dswap": ("tab:red", "o", "-"),
        "dswap-tcp": ("tab:red", "s", "--"),
        "nvme-rdma": ("tab:blue", "o", "-"),
        "nvme-tcp": ("tab:blue", "s", "--"),
        "nbd": ("tab:purple", "^", "--"),
        "zram": ("tab:green", "D", ":"),
        "disk": ("tab:gray", "v", ":"),
    }
    for col, app in enumerate(apps):
        base = runs.get(("none", app, "nolimit"))
        top, bot = axes[0][col], axes[1][col]
        for dev in swapdevs:
            c, m, ls = style.get(dev, ("black", "x", "-"))
            perf, lat, outs = [], [], []
            for p in fractions:
                r = runs.get((dev, app, p))
                ok = r and r["ok"]
                if app == "memcheck":
                    perf.append(base["secs"] / r["secs"] if ok and base and base["ok"] and r["secs"] else math.nan)
                    outs.append(r["pswpout"] / 1000 if ok and r["pswpout"] is not None else math.nan)
                else:
                    perf.append(r["tput"] / base["tput"] if ok and base and base["ok"] and r["tput"] else math.nan)
                    lat.append(r["p99_us"] / 1000 if ok and r["p99_us"] else math.nan)
            top.plot(xs, perf, color=c, marker=m, linestyle=ls, label=LABELS.get(dev, dev))
            if app == "memcheck":
                bot.plot(xs, outs, color=c, marker=m, linestyle=ls, label=LABELS.get(dev, dev))
            else:
                bot.plot(xs, lat, color=c, marker=m, linestyle=ls, label=LABELS.get(dev, dev))
        top.axhline(1.0, color="black", linewidth=0.8, linestyle="-", label="no limit")
        if app != "memcheck" and base and base["ok"] and base["p99_us"]:
            bot.axhline(base["p99_us"] / 1000, color="black", linewidth=0.8, linestyle="-", label="no limit")
        for ax in (top, bot):
            ax.set_xticks(xs)
            ax.set_xlim(max(xs) + 5, min(xs) - 5)
            ax.grid(True, alpha=0.3)
            ax.set_xlabel("local memory, % of the working set")
        top.set_ylim(bottom=0)
        title = APP_TITLES.get(app, app)
        if app == "memcheck":
            top.set_title(f"{title}: speed (no-limit runtime / runtime)")
            bot.set_title(f"{title}: pages swapped out (pswpout), thousands")
            bot.set_ylim(bottom=0)
        else:
            top.set_title(f"{title}: throughput / no-limit throughput")
            bot.set_title(f"{title}: p99 latency, ms" + (" (log2 bucket edge)" if app == "memcached" else ""))
            bot.set_yscale("log")
            bot.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            bot.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[0][0].legend(fontsize=8, loc="lower left")
    note = ("EMULATED: QEMU TCG, Soft-RoCE; compare ratios only"
            + ("; LOADED MACHINE (other guests ran)" if skewed else ""))
    fig.suptitle(f"disagg swap with applications: {env.get('kver', '?')}, {env.get('date_run', '?')}, "
                 f"{env.get('size', '?')} MiB per app\n{note}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--plot")
    a = ap.parse_args()
    if not os.path.isdir(a.dir):
        print(f"swap-apps-report: no directory {a.dir}", file=sys.stderr)
        return 2
    report(a.dir, a.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
