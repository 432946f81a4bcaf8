"""What the workload prints: throughput, latency per operation kind, the faults and the checks."""

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from common import percentile

from workload.checks import SHOWN, Check
from workload.client import FAILED, INDETERMINATE, OK, Op
from workload.faults import Fault


def operations(ops: list[Op], seconds: float) -> None:
    outcomes = Counter(op.outcome for op in ops)
    # Distinct payments acknowledged: a replay answered with the first payment is not another one.
    payments = len(
        {
            op.payment_id
            for op in ops
            if op.kind in ("pay", "replay", "race", "reuse", "accept_request") and op.outcome == OK
        }
    )
    print(
        f"Operations: {len(ops)} in {seconds:.1f} s, {outcomes[OK]} ok, {outcomes[FAILED]} failed, "
        f"{outcomes[INDETERMINATE]} indeterminate; {sum(len(op.attempts) for op in ops)} requests"
    )
    print(
        f"  throughput: {outcomes[OK] / seconds:.1f} acknowledged ops/s, {payments / seconds:.1f} payments/s "
        f"(user/payment and paid requests)"
    )
    by_kind: dict[str, list[Op]] = defaultdict(list)
    for op in ops:
        by_kind[op.kind].append(op)
    print(f"  {'kind':<16}{'ops':>6}{'ok':>6}{'failed':>8}{'indet.':>8}{'p50 ms':>9}{'p99 ms':>9}  refusals")
    for kind, mine in sorted(by_kind.items(), key=lambda item: -len(item[1])):
        tally = Counter(op.outcome for op in mine)
        latencies = [op.latency for op in mine if op.outcome != INDETERMINATE] or [0.0]
        codes = Counter(f"{op.status} {op.code}".strip() for op in mine if op.outcome == FAILED)
        refusals = ", ".join(f"{code} x{count}" for code, count in codes.most_common(3))
        print(
            f"  {kind:<16}{len(mine):>6}{tally[OK]:>6}{tally[FAILED]:>8}{tally[INDETERMINATE]:>8}"
            f"{percentile(latencies, 50) * 1000:>9.1f}{percentile(latencies, 99) * 1000:>9.1f}  {refusals}"
        )


def faults(windows: list[Fault]) -> None:
    print(f"Faults: {len(windows)}")
    for fault in windows:
        end = f"{fault.end:6.2f}" if fault.end is not None else "   ..."
        length = f"{fault.end - fault.start:5.2f} s" if fault.end is not None else "never recovered"
        print(f"  {fault.start:6.2f} - {end} s  ({length})  {fault.kind:<17} {fault.detail}")


def checks(results: list[Check]) -> None:
    print("Checks:")
    for check in results:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.figures}")
        for problem in check.problems[:SHOWN]:
            print(f"          {problem}")
        if len(check.problems) > SHOWN:
            print(f"          ... and {len(check.problems) - SHOWN} more")
    failed = sum(not check.passed for check in results)
    print(f"{len(results) - failed} of {len(results)} checks passed" + (f", {failed} FAILED" if failed else ""))


def history(path: Path, ops: list[Op], windows: list[Fault]) -> None:
    """Every operation with its attempts and outcome, then every fault, one JSON object a line."""
    with path.open("w") as out:
        for op in ops:
            out.write(json.dumps({**asdict(op), "outcome": op.outcome}) + "\n")
        for fault in windows:
            out.write(json.dumps({"fault": asdict(fault)}) + "\n")
