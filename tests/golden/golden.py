# SPDX-License-Identifier: MIT
"""Golden tests of vxswitchd: configuration and pcaps in, pcaps and counters out, byte for byte.

For each case of cases.py and each burst size, this writes a YAML configuration whose ports
are net_pcap devices, one input pcap per port, runs `vxswitchd --check --burst N`, and then
compares every output pcap with the frames the case expects, and the state file with the
counters, drop reasons and MAC table the case implies (per port, and per VLAN for the cases
whose sends say which VLAN each frame is in).

    golden.py VXSWITCHD [--group G]... [--case NAME]... [--bursts 1,32] [--keep] [--list]

Exit status: 0 all passed, 1 something failed (each failure says which case, which burst
size and what differed), 77 a prerequisite is missing (meson counts that as skipped).

Why the pcaps are laid out as they are. In --check mode the switch polls every port once per
round, taking up to N frames from each, and applies what the round taught (new and moved
MACs) before the next round. A frame at position p of its pcap is therefore received in
round floor(p / N). Within a phase of a case nothing may depend on learning, so any
grouping is fine; a phase that depends on an earlier one starts, on every port, at least 32
positions after the last frame of that earlier phase on any port: with N <= 32, a position
q >= p + 32 is in round floor(q / N) >= floor(p / N) + 1, after the learning. The positions
in between are filled with runts that the switch drops as `truncated`, and the expected
counters include them.

Frames from two ingress ports that leave by the same egress port interleave by round, which
depends on N, so an output pcap is checked as an interleaving of per-ingress sequences: the
order of the frames from each ingress port must be exactly as expected.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # keep tests/golden free of __pycache__ when run by hand

try:
    import scapy  # noqa: F401  (frames.py needs it; fail here, where skipping is explicit)
except ImportError as e:
    print(f"golden: SKIP: scapy is missing ({e}); install python3-scapy (Debian) for /usr/bin/python3")
    sys.exit(77)

import cases as case_table
from frames import RawFrame, hexdiff, read_pcap, summary, write_pcap
from spec import Case, Port, Send, drop

MAX_BURST = 32  # vxswitchd --burst accepts 1..32; the phase spacing below relies on it
SPACER = RawFrame(bytes(10), "spacer runt")
# The net_pcap ports read their files inside the receive call, so once the files are drained
# nothing more can arrive: the quiet time only decides how long a run lingers at its end.
QUIET_MS = 50
RUN_TIMEOUT_S = 60


# ---- the case, laid out on the ports ----------------------------------------------------


def check_case_rules(case: Case) -> list[str]:
    """Mistakes in the case table itself, which would make a case pass or fail by chance."""
    errors = []
    names = {p.name for p in case.ports}
    for i, phase in enumerate(case.phases):
        taught = collections.defaultdict(set)  # source MAC -> ingress ports in this phase
        for s in phase:
            if not isinstance(s.frame, RawFrame):
                taught[s.frame.src].add(s.port)
        for s in phase:
            if s.port not in names or not set(s.out) <= names:
                errors.append(f"phase {i}: {s.frame.describe()}: unknown port")
            if not isinstance(s.frame, RawFrame) and is_unicast(s.frame.dst) and s.frame.dst in taught:
                errors.append(f"phase {i}: {s.frame.describe()} depends on learning in its own phase")
        errors += [f"phase {i}: {mac} sends on ports {sorted(ps)} in one phase" for mac, ps in taught.items() if len(ps) > 1]
    sent = [s.frame.to_bytes() for phase in case.phases for s in phase]
    if len(sent) != len(set(sent)):
        errors.append("two input frames have the same bytes: give each its own seq")
    return errors


def lay_out(case: Case) -> dict[str, list[Send]]:
    """Each port's sends in pcap order, with spacer runts between dependent phases."""
    queues: dict[str, list[Send]] = {p.name: [] for p in case.ports}
    start = 0
    for phase in case.phases:
        last = -1
        for s in phase:
            queue = queues[s.port]
            while len(queue) < start:
                queue.append(drop(s.port, SPACER, "truncated"))
            queue.append(s)
            last = max(last, len(queue) - 1)
        start = last + MAX_BURST
    return queues


def expected_outputs(laid_out: dict[str, list[Send]]) -> dict[str, dict[str, list[bytes]]]:
    """egress port -> ingress port -> the frames, in order, that must leave by it."""
    out: dict[str, dict[str, list[bytes]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for ingress, sends in laid_out.items():
        for s in sends:
            for egress, frame in s.out.items():
                out[egress][ingress].append(frame.to_bytes())
    return out


def is_unicast(mac: str) -> bool:
    return int(mac.split(":")[0], 16) & 1 == 0


def new_tally() -> dict[str, collections.Counter]:
    return {"counters": collections.Counter(), "drops": collections.Counter()}


def count_received(tally: dict[str, collections.Counter], s: Send) -> None:
    """What receiving `s` counts where it is received (its port, its VLAN)."""
    c, d = tally["counters"], tally["drops"]
    c["rx_packets"] += 1
    c["rx_bytes"] += len(s.frame.to_bytes())
    if s.kind == "drop":
        d[s.reason] += 1
    # A unicast destination that reached the flood decision was a table miss.
    missed = s.kind == "flood" or s.reason == "flood_empty"
    if missed and not isinstance(s.frame, RawFrame) and is_unicast(s.frame.dst):
        c["unknown_unicast"] += 1
    if s.kind == "flood":
        c["flooded"] += 1


def count_sent(tally: dict[str, collections.Counter], frame) -> None:
    tally["counters"]["tx_packets"] += 1
    tally["counters"]["tx_bytes"] += len(frame.to_bytes())


def expected_counters(case: Case, laid_out: dict[str, list[Send]]) -> dict[str, dict[str, collections.Counter]]:
    """Per port, the counters and drops the sends imply, plus the case's explicit ones."""
    exp = {p.name: new_tally() for p in case.ports}
    for ingress, sends in laid_out.items():
        for s in sends:
            count_received(exp[ingress], s)
            for egress, frame in s.out.items():
                count_sent(exp[egress], frame)
    for port, values in case.egress_drops.items():
        exp[port]["drops"].update(values)
    for port, values in case.counters.items():
        for counter, value in values.items():
            exp[port]["counters"][counter] = value  # stated, not added (Counter.update adds)
    return exp


def checks_vlans(case: Case) -> bool:
    return any(s.vlan is not None for phase in case.phases for s in phase)


def expected_vlan_counters(case: Case, laid_out: dict[str, list[Send]]) -> dict[int, dict[str, collections.Counter]]:
    """Per VLAN, what the sends that give their VLAN imply: received into it, flooded in it,
    dropped in it, each frame out counted as sent; plus the egress drops the case states."""
    exp = collections.defaultdict(new_tally)
    for sends in laid_out.values():
        for s in (s for s in sends if s.vlan is not None):
            count_received(exp[s.vlan], s)
            for frame in s.out.values():
                count_sent(exp[s.vlan], frame)
    for vlan, values in case.vlan_egress_drops.items():
        exp[vlan]["drops"].update(values)
    return exp


# ---- running the switch -----------------------------------------------------------------


def port_keys(p: Port) -> dict:
    """The configuration keys of one port beside its name, device and mode."""
    keys: dict = {}
    if p.mode == "access":
        keys["vlan"] = p.vlan
    elif p.mode == "customer":
        keys["s_vlan"] = p.s_vlan
        if p.c_vlans:
            keys["c_vlans"] = list(p.c_vlans)
    else:
        keys["vlans"] = list(p.vlans)
        if p.native is not None:
            keys["native_vlan"] = p.native
    if p.translate:
        keys["translate"] = [{"vlan": t.vlan, "domain": t.domain} | ({"c_vlan": t.c_vlan} if t.c_vlan else {})
                             for t in p.translate]
    if p.tpid is not None:
        keys["tpid"] = f"{p.tpid:#06x}"
    if p.mtu is not None:
        keys["mtu"] = p.mtu
    if p.foreign_tpid is not None:
        keys["foreign_tpid"] = p.foreign_tpid
    return keys


def write_config(case: Case, work: str) -> str:
    """The switch configuration, in JSON syntax (which is YAML), with one net_pcap per port."""
    ports = []
    for i, p in enumerate(case.ports):
        port = {"name": p.name, "device": f"net_pcap{i},rx_pcap={work}/in{i}.pcap,tx_pcap={work}/out{i}.pcap", "mode": p.mode}
        port.update(port_keys(p))
        ports.append(port)
    config = {
        # The smallest pool and table: the switch still sizes the pool for its queues, and a
        # run starts in half a second instead of one and a half (filling 16K mbufs is slow).
        "dataplane": {"memory_mb": 128, "mbufs": 1023, "eal_args": ["--log-level=pmd.net.pcap:error"]},
        "fdb": {
            "max_entries": 1024,
            "static": [{"mac": s.mac, "vlan": s.vlan, "port": s.port} for s in case.statics],
        },
        "ports": ports,
    }
    path = os.path.join(work, "switch.yaml")
    with open(path, "w") as f:
        json.dump(config, f, indent=1)
    return path


def run_switch(vxswitchd: str, case: Case, laid_out: dict[str, list[Send]], burst: int, work: str):
    """Runs the switch once; returns (output frames per port, state, log) or raises RuntimeError."""
    os.makedirs(work)
    for i, p in enumerate(case.ports):
        write_pcap(f"{work}/in{i}.pcap", [s.frame.to_bytes() for s in laid_out[p.name]])
    config = write_config(case, work)
    state_path = f"{work}/state.json"
    cmd = [vxswitchd, "-c", config, "--check", "--burst", str(burst), "--quiet-ms", str(QUIET_MS),
           "--state-file", state_path, "--log-level", "warn"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"vxswitchd did not exit within {RUN_TIMEOUT_S} s: {' '.join(cmd)}")
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"vxswitchd exited with status {done.returncode}: {' '.join(cmd)}\n{log}")
    with open(state_path) as f:
        state = json.load(f)
    outputs = {p.name: read_pcap(f"{work}/out{i}.pcap") for i, p in enumerate(case.ports)}
    return outputs, state, log


# ---- comparing --------------------------------------------------------------------------


def closest(got: bytes, candidates: list[bytes]) -> bytes:
    """The candidate most like `got` (same length first, then fewest differing bytes)."""
    return min(candidates, key=lambda c: (len(c) != len(got), sum(a != b for a, b in zip(c, got))))


def compare_port(egress: str, by_source: dict[str, list[bytes]], got: list[bytes]) -> list[str]:
    """Checks that `got` interleaves the per-ingress sequences exactly, and says where not.

    Frames are unique within a case, so at each step at most one source's next frame can
    match: the greedy walk below finds the first divergence, if any, and nothing else.
    """
    heads = {src: 0 for src in by_source}
    for i, frame in enumerate(got):
        src = next((s for s, seq in by_source.items() if heads[s] < len(seq) and seq[heads[s]] == frame), None)
        if src is None:
            return explain_unexpected(egress, i, got, by_source, heads)
        heads[src] += 1
    if any(heads[s] < len(seq) for s, seq in by_source.items()):
        return explain_missing(egress, got, by_source, heads)
    return []


def explain_unexpected(egress, i, got, by_source, heads) -> list[str]:
    frame = got[i]
    total = sum(len(v) for v in by_source.values())
    lines = [f"port {egress}: output frame {i} (of {len(got)}, {total} expected) is not the next expected one",
             f"  got:      {summary(frame)}"]
    later = [(s, seq.index(frame)) for s, seq in by_source.items() if frame in seq[heads[s]:]]
    if later:
        lines.append(f"  (it is frame {later[0][1]} from {later[0][0]}, expected later: frames left out of order)")
    elif any(frame in seq for seq in by_source.values()):
        lines.append("  (it was already sent once: a duplicate)")
    nexts = {s: seq[heads[s]] for s, seq in by_source.items() if heads[s] < len(seq)}
    if not nexts:
        return lines + ["  expected: nothing more on this port"]
    lines += [f"  expected: {summary(f)}   (next from {s}, its frame {heads[s]})" for s, f in nexts.items()]
    return lines + [hexdiff(closest(frame, list(nexts.values())), frame)]


def explain_missing(egress, got, by_source, heads) -> list[str]:
    total = sum(len(v) for v in by_source.values())
    lines = [f"port {egress}: {len(got)} frames out, {total} expected; never sent:"]
    for s, seq in by_source.items():
        left = seq[heads[s]:]
        lines += [f"  from {s}: {summary(f)}" for f in left[:8]]
        lines += [f"  from {s}: ... and {len(left) - 8} more"] if len(left) > 8 else []
    return lines


def compare_counters(expected: dict, state: dict) -> list[str]:
    errors = []
    ports = {p["name"]: p for p in state["ports"]}
    for name, exp in expected.items():
        got = ports[name]
        for reason in exp["drops"]:
            if reason not in got["drops"]:
                errors.append(f"port {name}: drop reason '{reason}' is not in the state file (renamed?)")
        for reason, value in got["drops"].items():
            if value != exp["drops"][reason]:
                errors.append(f"port {name}: drops.{reason} expected {exp['drops'][reason]}, got {value}")
        for counter, value in exp["counters"].items():
            if counter not in got["counters"]:
                errors.append(f"port {name}: counter '{counter}' is not in the state file (renamed?)")
            elif got["counters"][counter] != value:
                errors.append(f"port {name}: counters.{counter} expected {value}, got {got['counters'][counter]}")
        # Counters the case leaves unsaid must be zero (rx/tx, flooded, ... are always said),
        # except learn_events: a MAC that sends twice, not back to back, within one burst is
        # sent to the learner twice, so that count depends on the burst size unless the case
        # is built to avoid it (the learning cases are, and state it).
        for counter, value in got["counters"].items():
            if counter not in exp["counters"] and counter != "learn_events" and value != 0:
                errors.append(f"port {name}: counters.{counter} expected 0, got {value}")
    rx_total = sum(e["counters"]["rx_packets"] for e in expected.values())
    worker_rx = sum(w["counters"]["packets"] for w in state["workers"])
    if worker_rx != rx_total:
        errors.append(f"workers: packets expected {rx_total}, got {worker_rx}")
    return errors


def compare_vlan_counters(expected: dict, state: dict, vlans: list[int]) -> list[str]:
    """Every counter and drop reason of every VLAN the ports carry: what the case implies, or
    zero (a drop before the frame's VLAN is known must not count in any VLAN)."""
    errors = []
    got_vlans = {v["vlan"]: v for v in state.get("vlans", [])}
    if sorted(got_vlans) != sorted(vlans):
        errors.append(f"vlans: the state file lists {sorted(got_vlans)}, the ports carry {sorted(vlans)}")
    for vlan, got in sorted(got_vlans.items()):
        exp = expected.get(vlan, new_tally())
        for kind in ("counters", "drops"):
            for name in exp[kind]:
                if name not in got[kind]:
                    errors.append(f"vlan {vlan}: {kind}.{name} is not in the state file (renamed, or not per VLAN?)")
            for name, value in got[kind].items():
                if value != exp[kind][name]:
                    errors.append(f"vlan {vlan}: {kind}.{name} expected {exp[kind][name]}, got {value}")
    return errors


def carried_vlans(case: Case) -> list[int]:
    """The VLANs (bridge domains) some port of the case carries."""
    vlans = set()
    for p in case.ports:
        if p.mode == "access":
            vlans.add(p.vlan)
        elif p.mode == "customer":
            vlans.add(p.s_vlan)
        else:
            vlans.update(p.vlans)
            vlans.update(t.domain for t in p.translate)
            if p.native is not None:
                vlans.add(p.native)
    return sorted(vlans)


def compare_fdb(case: Case, state: dict) -> list[str]:
    errors = []
    fdb = state["fdb"]
    for key, value in case.fdb.items():
        if fdb.get(key) != value:
            errors.append(f"fdb.{key} expected {value}, got {fdb.get(key)}")
    if case.macs is not None:
        got = {(e["mac"], e["vlan"], e["port"], e["static"]) for e in fdb["entries"]}
        want = {(e.mac, e.vlan, e.port, e.static) for e in case.macs}
        errors += [f"MAC table: missing {m} vlan {v} port {p} static {s}" for m, v, p, s in sorted(want - got)]
        errors += [f"MAC table: unexpected {m} vlan {v} port {p} static {s}" for m, v, p, s in sorted(got - want)]
        if fdb["size"] != len(want):
            errors.append(f"fdb.size expected {len(want)}, got {fdb['size']}")
    return errors


# ---- driving ----------------------------------------------------------------------------


def run_case(vxswitchd: str, case: Case, bursts: list[int], work: str) -> list[str]:
    """Runs one case at each burst size; returns the failure reports (empty: it passed)."""
    rules = check_case_rules(case)
    if rules:
        return [f"case '{case.name}' is malformed:\n  " + "\n  ".join(rules)]
    laid_out = lay_out(case)
    want_out = expected_outputs(laid_out)
    want_counters = expected_counters(case, laid_out)
    want_vlans = expected_vlan_counters(case, laid_out) if checks_vlans(case) else None
    failures = []
    for burst in bursts:
        run_dir = os.path.join(work, f"{case.name}.burst{burst}")
        try:
            outputs, state, log = run_switch(vxswitchd, case, laid_out, burst, run_dir)
        except RuntimeError as e:
            failures.append(f"FAIL case '{case.name}' burst {burst}: {e}")
            continue
        errors = []
        for port in (p.name for p in case.ports):
            errors += compare_port(port, want_out.get(port, {}), outputs[port])
        errors += compare_counters(want_counters, state)
        if want_vlans is not None:
            errors += compare_vlan_counters(want_vlans, state, carried_vlans(case))
        errors += compare_fdb(case, state)
        if errors:
            detail = "\n".join("  " + line for e in errors for line in e.split("\n"))
            failures.append(f"FAIL case '{case.name}' burst {burst}: {case.why}\n{detail}\n"
                            f"  files (config, pcaps, state): {run_dir}")
    return failures


def parse_args():
    ap = argparse.ArgumentParser(description="vxswitchd golden pcap tests")
    ap.add_argument("vxswitchd")
    ap.add_argument("--group", action="append", help="run the cases of this group (repeatable)")
    ap.add_argument("--case", action="append", help="run this case (repeatable)")
    ap.add_argument("--bursts", help="comma-separated burst sizes instead of each case's own")
    ap.add_argument("--keep", action="store_true", help="keep the work directory even when all pass")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    return ap.parse_args()


def select(args) -> list[Case]:
    chosen = [c for c in case_table.CASES
              if (not args.group or c.group in args.group) and (not args.case or c.name in args.case)]
    unknown = set(args.case or []) - {c.name for c in chosen}
    if unknown or not chosen:
        sys.exit(f"golden: no such case or group: {sorted(unknown) or args.group}")
    return chosen


def main() -> int:
    args = parse_args()
    chosen = select(args)
    if args.list:
        for c in chosen:
            print(f"{c.group:<10} {c.name:<24} bursts {','.join(map(str, c.bursts))}  {c.why}")
        return 0
    if not os.access(args.vxswitchd, os.X_OK):
        print(f"golden: {args.vxswitchd} is not an executable: build vxswitchd first")
        return 1
    work = tempfile.mkdtemp(prefix="vx-golden-")
    failures = []
    for case in chosen:
        started = time.monotonic()
        bursts = [int(b) for b in args.bursts.split(",")] if args.bursts else list(case.bursts)
        if not all(1 <= b <= MAX_BURST for b in bursts):
            sys.exit(f"golden: burst sizes must be 1..{MAX_BURST} (the phase layout assumes it)")
        found = run_case(args.vxswitchd, case, bursts, work)
        failures += found
        verdict = "FAIL" if found else "ok"
        print(f"{verdict:<4} {case.name:<24} bursts {','.join(map(str, bursts)):<14} {time.monotonic() - started:5.1f} s")
    for f in failures:
        print("\n" + f)
    if failures or args.keep:
        print(f"\ngolden: work directory kept: {work}")
    else:
        shutil.rmtree(work)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
