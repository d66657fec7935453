"""Benchmark ``fika plan`` end to end against a random shuffle on the same input.

    python benchmarks/plan_bench.py [--sizes 1000,2000,10000,50000] [--repeat 3]
                                    [--seed 1] [--optimum-at 2000] [--optimum-timeout 600]
                                    [--bound-at 10000] [--group-size 2]

Per size: a seeded organisation (benchmarks/orgs.py) with 10 earlier rounds planned
by Fika itself; then ``python -m pairing`` (parse, plan, print) runs in a subprocess,
timed, with its peak RSS from ``wait4``. Times and RSS are medians of ``--repeat``
runs. Quality is read from the printed plan and checked by ``pairing.check``.
At ``--optimum-at`` sizes the plan's matching weight is compared with the exact
optimum (``networkx.max_weight_matching(maxcardinality=True)`` on the full candidate
graph with the planner's weights), and with the LP upper bound on the same graph: the
whole weight, and the preference value alone (the weight above each pair's placement
base, which otherwise makes every plan that places everyone look near 100%).
At ``--bound-at`` sizes only the LP bound is computed (cached in the bench cache).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from orgs import make_org, with_history  # noqa: E402

from pairing import Group, Plan, Unmatched, parse_request  # noqa: E402
from pairing.check import violations  # noqa: E402

CACHE = Path(os.environ.get("FIKA_BENCH_CACHE", "/tmp/fika-bench"))


def org_file(size: int, seed: int, group_size: int = 2) -> Path:
    """The request JSON for ``size`` people with history, cached between runs."""
    CACHE.mkdir(parents=True, exist_ok=True)
    suffix = "" if group_size == 2 else f"-g{group_size}"
    path = CACHE / f"org-{size}-{seed}{suffix}.json"
    if not path.exists():
        started = time.perf_counter()
        org = make_org(size, seed)
        if group_size != 2:
            org["group_size"] = group_size
        request = with_history(org)
        path.write_text(json.dumps(request))
        print(
            f"  (built org of {size} with 10 rounds of history"
            f" in {time.perf_counter() - started:.0f} s)"
        )
    return path


def run_cli(path: Path) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MB) and stdout of one ``python -m pairing``.

    The command runs under ``/usr/bin/time`` so its peak RSS is its own: a child forked
    straight from this (large) process would report this process's memory as its peak.
    """
    timer = ["/usr/bin/time", "-f", "%M %U %S"] if Path("/usr/bin/time").exists() else []
    with path.open("rb") as stdin:
        started = time.perf_counter()
        done = subprocess.run(
            [*timer, sys.executable, "-m", "pairing"],
            stdin=stdin,
            capture_output=True,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"python -m pairing failed: {done.stderr.decode()[-500:]}")
    if timer:
        rss, user, system = done.stderr.decode().split()[-3:]
        return wall, float(user) + float(system), int(rss) / 1024, done.stdout.decode()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # cumulative; first run only
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, done.stdout.decode()


def plan_from_json(text: str) -> Plan:
    """A :class:`Plan` back from the printed JSON."""
    data = json.loads(text)
    groups = tuple(
        Group(
            tuple(g["members"]),
            g["mode"],
            g["site"],
            datetime.datetime.fromisoformat(g["start"]),
            datetime.datetime.fromisoformat(g["end"]),
            tuple(g["reasons"]),
        )
        for g in data["groups"]
    )
    unmatched = tuple(Unmatched(u["id"], u["reason"]) for u in data["unmatched"])
    return Plan(groups, unmatched, data["stats"])


def shuffle_plan(request, seed: int) -> Plan:
    """The baseline: shuffle, pair neighbours (a trio for an odd count), first shared slot.

    Groups without a shared slot still get a time (their first member's first free
    minute, or noon): the shuffle ignores working hours, and the checker counts it.
    """
    from pairing.roster import Roster
    from pairing.timeline import ceil_step, common_free, day_origin

    roster = Roster(request)
    order = list(range(roster.n))
    random.Random(seed).shuffle(order)
    chunks = [order[i : i + 2] for i in range(0, len(order) - len(order) % 2, 2)]
    if len(order) % 2 and chunks:
        chunks[-1].append(order[-1])
    origin = day_origin(request.date)
    minute = datetime.timedelta(minutes=1)
    people = request.participants
    groups = []
    for chunk in chunks:
        shared = common_free([roster.free[i] for i in chunk], roster.duration)
        first = roster.free[chunk[0]]
        start = ceil_step(shared[0][0]) if shared else (ceil_step(first[0][0]) if first else 720)
        sites = {people[i].site for i in chunk}
        meet = (
            len(sites) == 1
            and None not in sites
            and all(people[i].mode != "virtual" for i in chunk)
        )
        begin = origin + start * minute
        groups.append(
            Group(
                tuple(people[i].id for i in chunk),
                "in_person" if meet else "virtual",
                people[chunk[0]].site if meet else None,
                begin,
                begin + roster.duration * minute,
                (),
            )
        )
    return Plan(tuple(groups), (), {})


def quality(request, plan: Plan) -> dict:
    """Placed, repeats within the cooldown, shares of groups, hard-rule violations."""
    people = {p.id: p for p in request.participants}
    recent: dict[frozenset, int] = {}
    past = sorted(
        (r for r in request.history if r.date < request.date), key=lambda r: r.date, reverse=True
    )
    for ago, past_round in enumerate(past, start=1):
        for group in past_round.groups:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    recent.setdefault(frozenset((a, b)), ago)
    repeats = cross = hybrid = meet = 0
    for group in plan.groups:
        members = [people[m] for m in group.members]
        for i, a in enumerate(group.members):
            for b in group.members[i + 1 :]:
                repeats += recent.get(frozenset((a, b)), 10**9) <= request.cooldown_rounds
        cross += len({p.department for p in members}) > 1
        remote = sum(p.site is None for p in members)
        hybrid += group.mode == "virtual" and 0 < remote < len(members)
        meet += group.mode == "in_person"
    count = max(1, len(plan.groups))
    placed = sum(len(g.members) for g in plan.groups)
    broken = violations(request, plan, check_rule_five=len(plan.unmatched) <= 5)
    return {
        "placed": placed,
        "repeats": repeats,
        "cross": cross / count,
        "hybrid": hybrid / count,
        "in_person": meet / count,
        "violations": len(broken),
    }


def matching_weight(roster, weights, plan: Plan) -> tuple[int, list[tuple[str, str]]]:
    """Weight of the best matching inside the plan's groups (a trio counts its best pair)
    and that matching's pairs."""
    import itertools

    total, pairs = 0, []
    for group in plan.groups:
        members = [roster.index[m] for m in group.members]
        best, chosen = 0, []
        for perm in itertools.permutations(members):
            value, valid = 0, True
            for i in range(0, len(perm) - 1, 2):
                w = weights(perm[i], perm[i + 1])
                valid = valid and w is not None
                value += w or 0
            if valid and value > best:
                best = value
                chosen = [
                    (roster.ids[perm[i]], roster.ids[perm[i + 1]])
                    for i in range(0, len(perm) - 1, 2)
                ]
        total += best
        pairs += chosen
    return total, pairs


def tiers(request, pairs: list[tuple[str, str]]) -> str:
    """A matching's totals on the top tiers of the order, from the request alone."""
    people = {p.id: p for p in request.participants}
    last: dict[frozenset, int] = {}
    past = sorted((r for r in request.history if r.date < request.date), key=lambda r: r.date)
    for ago, past_round in enumerate(reversed(past), start=1):
        for group in past_round.groups:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    last.setdefault(frozenset((a, b)), ago)
    inside = before = cross = hybrid = units = 0
    for a, b in pairs:
        p, q = people[a], people[b]
        ago = last.get(frozenset((a, b)))
        inside += ago is not None and ago <= request.cooldown_rounds
        before += ago is not None
        cross += p.department != q.department
        hybrid += (p.site is None) != (q.site is None)
        meet = p.site is not None and p.site == q.site and "virtual" not in (p.mode, q.mode)
        units += 5 * meet * ((p.mode == "in_person") + (q.mode == "in_person"))
        units += 2 * min(len(set(p.topics) & set(q.topics)), 3)
    return (
        f"pairs {len(pairs)}, met within the cooldown {inside}, met before {before}, "
        f"two departments {cross}, hybrid {hybrid}, wishes+topics units {units}"
    )


def lp_bound(n, u, v, w) -> tuple[float, float]:
    """Upper bound on the maximum matching weight: the fractional (double cover) optimum,
    and its (fractional) number of pairs. The weights are whole numbers below 2**50.

    Lean enough for the full graph at 10,000 people (43 million edges): int32 indices,
    and the chosen entries' costs read back from the sparse matrix, not a dict of pairs.
    """
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    units = np.asarray(w, np.float64)
    top = float(units.max()) + 1
    cost = np.concatenate([top - units, top - units, np.full(n, top)])
    del units
    rows = np.concatenate([u, v, np.arange(n)]).astype(np.int32)
    cols = np.concatenate([v, u, np.arange(n)]).astype(np.int32)
    graph = csr_matrix((cost, (rows, cols)), shape=(n, n))
    del rows, cols, cost
    r, c = min_weight_full_bipartite_matching(graph)
    taken = r != c
    chosen = np.asarray(graph[r[taken], c[taken]]).ravel()
    return float(np.sum(top - chosen)) / 2, int(taken.sum()) / 2


def cached_bound(roster, key: str) -> tuple[float, float]:
    """:func:`lp_bound` of the full graph (``pairing.graph.full_edges``), cached in
    ``CACHE`` under ``key`` and a digest of the edges and weights: the same request
    and weights give the same bound, and any change to them computes it again."""
    import hashlib

    import numpy as np

    from pairing.graph import full_edges

    u, v, w = full_edges(roster)
    digest = hashlib.sha1()
    for part in (u, v, np.asarray(w, np.float64)):
        digest.update(np.ascontiguousarray(part).tobytes())
    path = CACHE / f"bound-{key}-{digest.hexdigest()[:16]}.json"
    if path.exists():
        return tuple(json.loads(path.read_text()))
    bound = lp_bound(roster.n, u, v, w)
    path.write_text(json.dumps(bound))
    return bound


def percent(got: tuple, best: tuple, above_base: bool = False, base: int = 0) -> str:
    """``got`` over ``best`` (each a weight and its pairs, or their number) in per cent;
    ``above_base``: of the preference value only, each pair's placement base taken off."""
    if above_base:
        mine, theirs = (x if isinstance(x, float | int) else len(x) for x in (got[1], best[1]))
        return f"{100 * (got[0] - base * mine) / (best[0] - base * theirs):.3f}"
    return f"{100 * got[0] / best[0]:.2f}"


def exact_optimum(text: str, timeout: float, full: bool = True) -> tuple[int, list] | None:
    """networkx.max_weight_matching(maxcardinality=True), in a subprocess.

    ``full``: on every compatible pair; otherwise on Fika's sparse candidate graph.
    Returns the optimum's weight and its pairs.
    """
    code = (
        "import sys, json, networkx as nx\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(HERE)!r}]\n"
        "from pairing import parse_request\nfrom pairing.graph import candidate_graph\n"
        f"g = candidate_graph(parse_request(json.loads(sys.stdin.read())), full={full})\n"
        "m = nx.max_weight_matching(g, maxcardinality=True)\n"
        "print(json.dumps([sum(g[a][b]['weight'] for a, b in m), sorted(m)]))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=text.encode(),
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    weight, pairs = json.loads(done.stdout)
    return weight, [tuple(p) for p in pairs]


def main() -> None:
    """Print one table row per size for Fika and for the shuffle baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--optimum-at", default="2000", help="sizes to compare with the exact optimum"
    )
    parser.add_argument(
        "--bound-at",
        default="",
        help="sizes to compare with the LP bound of the full graph only (no exact optimum:"
        " networkx would need ~17 GB for the 43 million edges at 10,000)",
    )
    parser.add_argument("--optimum-timeout", type=float, default=900.0)
    parser.add_argument(
        "--group-size",
        type=int,
        default=2,
        help="3: groups of 3-4 (the optimum columns then weigh each group's best pairs)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    optimum_sizes = {int(s) for s in args.optimum_at.split(",") if s}
    bound_sizes = {int(s) for s in args.bound_at.split(",") if s} | optimum_sizes
    header = (
        f"{'size':>6} {'method':<8} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7} {'placed':>7} "
        f"{'repeats':>7} {'x-dept':>7} {'hybrid':>7} {'in-pers':>7} {'violat.':>7} "
        f"{'% opt':>7} {'% LP UB':>7} {'% cand':>7} {'pref UB':>7} {'pref cd':>7}"
    )
    print(header, flush=True)
    from pairing.roster import Roster
    from pairing.weights import ScalarWeights

    for size in sizes:
        path = org_file(size, args.seed, args.group_size)
        runs = [run_cli(path) for _ in range(args.repeat)]  # before this process grows
        text = path.read_text()
        request = parse_request(json.loads(text))
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = statistics.median(r[2] for r in runs)
        plans = [json.loads(r[3]) for r in runs]
        for p in plans:
            p["stats"].pop("seconds")
        deterministic = all(p == plans[0] for p in plans)
        plan = plan_from_json(runs[0][3])
        started, started_cpu = time.perf_counter(), time.process_time()
        baseline = shuffle_plan(request, args.seed)
        baseline_wall = time.perf_counter() - started
        baseline_cpu = time.process_time() - started_cpu
        ours, theirs = quality(request, plan), quality(request, baseline)
        opt = ub = base_opt = base_ub = cand = base_cand = ""
        pref_ub = base_pref_ub = pref_cand = base_pref_cand = ""
        notes = []  # (label, pairs) of matchings whose tiers are printed
        if size in bound_sizes:
            roster = Roster(request)
            weights = ScalarWeights(roster)
            ratio = functools.partial(percent, base=roster.ladder.base)
            bound = cached_bound(roster, f"{size}-{args.seed}-g{args.group_size}")
            mine = matching_weight(roster, weights, plan)
            shuffled = matching_weight(roster, weights, baseline)
            notes.append(("fika (best pair of a trio)", mine[1]))

            ub, base_ub = ratio(mine, bound), ratio(shuffled, bound)
            pref_ub, base_pref_ub = ratio(mine, bound, True), ratio(shuffled, bound, True)
        if size in optimum_sizes:
            exact = exact_optimum(text, args.optimum_timeout)
            if exact is not None:
                opt, base_opt = ratio(mine, exact), ratio(shuffled, exact)
                notes.append(("exact optimum", exact[1]))
            else:
                opt = base_opt = "timeout"
            sparse = exact_optimum(text, args.optimum_timeout, full=False)
            if sparse is not None:
                notes.append(("exact optimum on the candidate graph", sparse[1]))
                cand, base_cand = ratio(mine, sparse), ratio(shuffled, sparse)
                pref_cand = ratio(mine, sparse, True)
                base_pref_cand = ratio(shuffled, sparse, True)
            else:
                cand = base_cand = pref_cand = base_pref_cand = "timeout"
        for name, secs, cpu_s, mem, q, o, b, c, pb, pc in (
            ("fika", wall, cpu, rss, ours, opt, ub, cand, pref_ub, pref_cand),
            (
                "shuffle",
                baseline_wall,
                baseline_cpu,
                float("nan"),
                theirs,
                base_opt,
                base_ub,
                base_cand,
                base_pref_ub,
                base_pref_cand,
            ),
        ):
            row = (
                f"{size:>6} {name:<8} {secs:>7.2f} {cpu_s:>6.2f} {mem:>7.0f} {q['placed']:>7} "
                f"{q['repeats']:>7} {100 * q['cross']:>6.1f}% {100 * q['hybrid']:>6.1f}% "
                f"{100 * q['in_person']:>6.1f}% {q['violations']:>7} {o:>7} {b:>7} {c:>7} "
                f"{pb:>7} {pc:>7}"
            )
            print(row, flush=True)
        for label, found in notes:
            print(f"  {label}: {tiers(request, found)}")
        if not deterministic:
            print(f"  WARNING: the {args.repeat} runs at {size} printed different plans")
    print(
        f"\nfika: medians of {args.repeat} runs of `python -m pairing` (start, parse, plan, print)"
    )
    print(
        "shuffle: in-process shuffle + first shared slot; x-dept, hybrid, in-pers: shares of groups"
    )
    print("% opt: weight of the best matching inside the plan's groups / exact networkx optimum")
    print("% LP UB: the same over the fractional-matching upper bound (a floor on % opt).")
    print("% cand: the same over the exact networkx optimum on Fika's sparse candidate graph.")
    print(
        "pref UB, pref cd: the same for the preference value only (the weight above the"
        " placement base of each pair), over the LP bound and the candidate-graph optimum."
    )
    print(
        "Weights are the planner's exact integers (pairing.ladder): the base of a pair"
        " outweighs everything else, so % opt is near 100 for any plan placing everyone."
    )


if __name__ == "__main__":
    main()
