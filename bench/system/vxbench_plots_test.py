#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""vxbench's results as JSON and plots: a short run over two frame sizes writes its JSON and a
PNG of Mpps against frame size; --plots-from draws the same plot again from that JSON, and
refuses a file that is not one (or no --plots folder) with a message.

    vxbench_plots_test.py VXBENCH VXSWITCHD
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def vxbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/bin/python3", VXBENCH, *args], capture_output=True, text=True, timeout=240)


def pngs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.png") if p.read_bytes().startswith(PNG_MAGIC))


def main() -> int:
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        r = vxbench("--no-install", "--quiet", "--contenders", "vxswitch", "--workloads", "l2-unicast",
                    "--sizes", "64,512", "--repeat", "1", "--warmup", "0.5", "--duration", "0.5",
                    "--vxswitchd", VXSWITCHD, "--json", str(t / "run.json"), "--plots", str(t / "plots"))
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            return 1
        run = json.loads((t / "run.json").read_text())
        sizes = sorted(res["point"]["size"] for res in run["results"])
        if sizes != [64, 512] or not all("median" in res["contenders"]["vxswitch"] for res in run["results"]):
            failures.append(f"the JSON does not hold a vxswitch median at 64 and 512 bytes: {run['results']}")
        first = pngs(t / "plots")
        if "mpps-vs-size-l2-unicast-1mac-1wk-pcap.png" not in first:
            failures.append(f"no Mpps-vs-size PNG from the run: {first}")
        r = vxbench("--plots-from", str(t / "run.json"), "--plots", str(t / "again"), "--no-install")
        again = pngs(t / "again") if (t / "again").exists() else []
        if r.returncode != 0 or again != first:
            failures.append(f"--plots-from drew {again} (rc {r.returncode}), the run {first}: {r.stderr}")
        (t / "junk.json").write_text("not json")
        for args, says in [(["--plots-from", str(t / "junk.json"), "--plots", str(t / "x")], "not a run saved"),
                           (["--plots-from", str(t / "run.json")], "needs --plots")]:
            r = vxbench(*args, "--no-install")
            if r.returncode != 2 or says not in r.stderr:
                failures.append(f"vxbench {' '.join(args)}: rc {r.returncode}, said {r.stderr.strip()!r}")
    for f in failures:
        print("FAIL:", f)
    print(f"plots {first}, {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    VXBENCH, VXSWITCHD = sys.argv[1], sys.argv[2]
    sys.exit(main())
