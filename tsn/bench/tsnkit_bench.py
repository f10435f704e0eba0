"""tsnkit's methods against `tsn schedule` on instances from tsnkit's own generator.

Run through tsnkit.sh (it makes the virtualenv). For each instance: every tsnkit method in
its own process under a wall-clock limit, then `tsn import-tsnkit`, `tsn schedule` and
`tsn verify`. Times are wall-clock of the whole process (Python start-up and CSV loading for
tsnkit; start-up, YAML load and synthesis for us, median of RUNS_OURS runs). Prints a
Markdown table.
"""

import argparse
import json
import os
import subprocess
import sys
import time

# (streams, switches, topology): 0 line, 1 ring, 2 tree, 3 mesh (tsnkit's numbering).
DEFAULT_INSTANCES = [
    (8, 4, 0),
    (16, 6, 1),
    (24, 8, 3),
    (40, 8, 3),
    (80, 10, 3),
    (240, 12, 3),
]
TOPO_NAMES = ["line", "ring", "tree", "mesh"]
RUNS_OURS = 5


def generate(python, work, idx, streams, switches, topo, seed, period, size, deadline):
    """One instance with tsnkit's DatasetGenerator, numpy seeded for reproducibility."""
    out = os.path.join(work, f"i{idx}_")
    code = (
        "import numpy as np; np.random.seed(%d)\n"
        "from tsnkit.data.generator import DatasetGenerator\n"
        "DatasetGenerator(1, %d, %d, %d, %d, %d, %d).run(%r)\n"
        % (seed, streams, switches, period, size, deadline, topo, out)
    )
    subprocess.run([python, "-c", code], check=True, capture_output=True)
    return out + "1_task.csv", out + "1_topo.csv"


def run_tsnkit(python, method, task, topo, work, timeout):
    """(flag, seconds): flag is succ, fail, timeout or err."""
    out_dir = os.path.join(work, "out-" + method)
    os.makedirs(out_dir, exist_ok=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [python, "-m", "tsnkit.algorithms." + method, task, topo, out_dir + "/", "1", method],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", float(timeout)
    elapsed = time.perf_counter() - start
    flag = "err"
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[1] == method:
            flag = cells[2]
    return {"succ": "succ", "fail": "fail"}.get(flag, "err"), elapsed


def run_ours(tsn, task, topo, work, idx):
    """(placed, total, seconds, verified, note)."""
    plant = os.path.join(work, f"i{idx}.yaml")
    sched = os.path.join(work, f"i{idx}.json")
    imp = subprocess.run([tsn, "import-tsnkit", task, topo, "-o", plant], capture_output=True, text=True)
    if imp.returncode != 0:
        return 0, 0, 0.0, False, "import: " + imp.stderr.strip().splitlines()[-1]
    # Our run takes milliseconds, so one sample is mostly scheduler noise on a shared
    # machine: take the median of several.
    times = []
    for _ in range(RUNS_OURS):
        start = time.perf_counter()
        proc = subprocess.run([tsn, "schedule", plant, "-o", sched], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 65):
            break
    elapsed = sorted(times)[len(times) // 2]
    if proc.returncode not in (0, 65):
        return 0, 0, elapsed, False, "schedule: " + proc.stderr.strip()
    with open(sched) as f:
        schedule = json.load(f)
    placed = len(schedule["streams"])
    total = placed + len(schedule["unscheduled"])
    ver = subprocess.run([tsn, "verify", plant, sched], capture_output=True, text=True)
    return placed, total, elapsed, ver.returncode in (0, 65), ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tsn", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--methods", nargs="+", required=True)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--period", type=int, default=1, help="tsnkit period spec (1: 2 ms)")
    ap.add_argument("--size", type=int, default=2, help="tsnkit size spec (2: 100-500 B)")
    ap.add_argument("--deadline", type=int, default=3, help="tsnkit deadline spec")
    ap.add_argument(
        "--instance",
        action="append",
        help="STREAMS,SWITCHES,TOPO (0 line, 1 ring, 2 tree, 3 mesh); repeatable",
    )
    args = ap.parse_args()
    python = sys.executable
    instances = DEFAULT_INSTANCES
    if args.instance:
        instances = [tuple(int(x) for x in i.split(",")) for i in args.instance]

    head = ["instance", "streams", "sw", "topo"] + args.methods + [
        "tsn placed", "tsn s", "verified", "speed-up vs fastest tsnkit succ"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for idx, (streams, switches, topo) in enumerate(instances):
        task, net = generate(python, args.work, idx, streams, switches, topo,
                             args.seed + idx, args.period, args.size, args.deadline)
        cells = [str(idx), str(streams), str(switches), TOPO_NAMES[topo]]
        fastest = None
        for m in args.methods:
            flag, secs = run_tsnkit(python, m, task, net, args.work, args.timeout)
            cells.append(f"{flag} {secs:.2f}s")
            if flag == "succ" and (fastest is None or secs < fastest):
                fastest = secs
        placed, total, secs, verified, note = run_ours(args.tsn, task, net, args.work, idx)
        cells.append(f"{placed}/{total}" + (f" ({note})" if note else ""))
        cells.append(f"{secs:.3f}")
        cells.append("yes" if verified else "NO")
        cells.append(f"{fastest / secs:.0f}x" if fastest and secs > 0 else "-")
        print("| " + " | ".join(cells) + " |", flush=True)
    print(f"\ntsnkit time limit {args.timeout:.0f} s per method (one run each); tsn s: median "
          f"of {RUNS_OURS} runs; generator specs: period {args.period}, size {args.size}, "
          f"deadline {args.deadline}, seeds from {args.seed}.")


if __name__ == "__main__":
    main()
