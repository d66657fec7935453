"""Teams for more people than :func:`pairing.team_search.exact_teams` can weigh.

The team sizes are fixed first (the best shape for the head count), sharers seed one
team each, teams are filled block by block (blocks of similar free time, the biggest
departments first), weak teams trade members, and whoever is left joins a team with
room or a new one. Late joiners go through :func:`place_leftovers` alone.
"""

from __future__ import annotations

import numpy as np

from pairing.team_search import MAX_SIZE, MIN_SIZE, TeamSearch, exact_teams, size_plan
from pairing.timeline import Interval
from pairing.weights import conflicting, full_weights, preference_weights

EXHAUSTIVE_UP_TO = 10  # people; up to this many every partition is weighed
LEFTOVERS_EXHAUSTIVE_UP_TO = 10  # the same for people left over, who form new teams
BLOCK_TEAMS = 16  # teams per independently filled block
SWAP_PASSES = 3


def form(search: TeamSearch, people: list[int]) -> list[list[int]]:
    """Teams for ``people`` (all free for the meeting); whoever cannot be placed is left
    out of every team."""
    if len(people) <= EXHAUSTIVE_UP_TO:
        return exact_teams(search, people)
    teams, leftovers = fill_blocks(search, people)
    teams = place_leftovers(search, teams, leftovers)
    mend_across_blocks(search, teams)
    return teams


def fill_blocks(search: TeamSearch, people: list[int]) -> tuple[list[list[int]], list[int]]:
    """Teams of the best shape for ``people``, filled block by block; returns the teams
    and whoever fitted in none.

    People are ordered by the middle of their free time (seeded ties) and cut into
    blocks of ``BLOCK_TEAMS`` teams, so each block holds people of similar hours. The
    first sharers in that order (one per team, as far as they go) are spread over the
    blocks in proportion to their teams, so a block never has fewer sharers than teams
    while the whole request has enough.
    """
    sizes = size_plan(len(people), search.target)
    roster = search.roster
    middle = [(roster.first[p] + roster.last[p]) // 2 for p in people]
    ties = search.rng.random(len(people)).tolist()
    order = [p for _, _, p in sorted(zip(middle, ties, people, strict=True))]
    sharers = [p for p in order if search.sharer[p]]
    seeds = sharers[: len(sizes)]
    chosen = set(seeds)
    rest = [p for p in order if p not in chosen]
    blocks = max(1, -(-len(sizes) // BLOCK_TEAMS))
    team_blocks = np.array_split(np.arange(len(sizes)), blocks)
    seed_blocks = np.array_split(np.arange(len(seeds)), blocks)
    teams: list[list[int]] = []
    leftovers: list[int] = []
    taken = 0
    for b in range(blocks):
        block_sizes = [sizes[t] for t in team_blocks[b].tolist()]
        block_seeds = [seeds[s] for s in seed_blocks[b].tolist()]
        room = sum(block_sizes) - len(block_seeds)
        block_rest = rest[taken : taken + room]
        taken += room
        filled, left = fill_block(search, block_sizes, block_seeds, block_rest)
        teams.extend(filled)
        leftovers.extend(left)
    leftovers.extend(rest[taken:])
    return teams, leftovers


def _pair_table(search: TeamSearch, people: list[int]) -> list[list[int | None]]:
    """Weights less the base for every pair of ``people`` (None: a hard rule), at once."""
    roster = search.roster
    index = np.array(people, np.int64)
    u = np.repeat(index, len(index))
    v = np.tile(index, len(index))
    weights = full_weights(roster, u, v, preference_weights(roster, u, v, with_noise=False))
    bad = (u == v) | conflicting(roster, u, v)
    base = roster.ladder.base
    values = [
        None if out else int(w) - base
        for w, out in zip(weights.tolist(), bad.tolist(), strict=True)
    ]
    width = len(people)
    return [values[i * width : (i + 1) * width] for i in range(width)]


def fill_block(
    search: TeamSearch, sizes: list[int], seeds: list[int], rest: list[int]
) -> tuple[list[list[int]], list[int]]:
    """Fill teams of ``sizes`` (the first ``len(seeds)`` seeded with a sharer each) with
    ``rest``; returns the teams and whoever fitted nowhere."""
    people = seeds + rest
    local = {p: i for i, p in enumerate(people)}
    table = _pair_table(search, people)
    dept = search.dept
    teams: list[list[int]] = [[s] for s in seeds] + [[] for _ in sizes[len(seeds) :]]
    shared: list[list[Interval] | None] = [search.free[s] for s in seeds]
    shared += [None] * (len(sizes) - len(seeds))
    # The biggest departments go first, so they spread over every team and the small
    # ones close the gaps: that is what lets each team span departments.
    counts: dict[int, int] = {}
    for p in rest:
        counts[dept[p]] = counts.get(dept[p], 0) + 1
    ties = search.rng.random(len(rest)).tolist()
    queue = [
        p for _, _, p in sorted(zip([-counts[dept[p]] for p in rest], ties, rest, strict=True))
    ]
    cooldown = search.roster.cooldown
    history, n = search.roster.history, search.roster.n
    sharer = search.sharer
    departments = [{dept[m] for m in members} for members in teams]
    has_sharer = [bool(members) for members in teams]
    left = []
    for p in queue:
        row = table[local[p]]
        best = None
        for t, members in enumerate(teams):
            if len(members) >= sizes[t]:
                continue
            total = repeats = same = 0
            for m in members:
                w = row[local[m]]
                if w is None:
                    break
                total += w
                same += dept[m] == dept[p]
                ago = history.get(p * n + m if p < m else m * n + p)
                repeats += ago is not None and ago <= cooldown
            else:
                shares = sharer[p] and not has_sharer[t]
                spans = len(departments[t]) == 1 and dept[p] not in departments[t]
                key = (shares, spans, -repeats, -same, -len(members), total, -t)
                if best is not None and key <= best[0]:
                    continue
                joined = search.free[p] if shared[t] is None else search.join(shared[t], p)
                if joined:
                    best = (key, t, joined)
        if best is None:
            left.append(p)
            continue
        _, t, joined = best
        teams[t].append(p)
        shared[t] = joined
        departments[t].add(dept[p])
        has_sharer[t] = has_sharer[t] or sharer[p]
    teams = [members for members in teams if members]
    swap_weak(search, teams)
    small = [m for members in teams if len(members) < MIN_SIZE for m in members]
    return [members for members in teams if len(members) >= MIN_SIZE], left + small


def _weak(search: TeamSearch, members: list[int], sharers_spare: bool) -> bool:
    """A team a trade might lift: no sharer (while another team has two), one
    department, or a pair who met within the cooldown."""
    if sharers_spare and not any(search.sharer[m] for m in members):
        return True
    if len({search.dept[m] for m in members}) == 1:
        return True
    roster = search.roster
    for a in range(len(members)):
        for b in range(a + 1, len(members)):
            ago = roster.met(members[a], members[b])
            if ago is not None and ago <= roster.cooldown:
                return True
    return False


def swap_weak(search: TeamSearch, teams: list[list[int]]) -> None:
    """Trade single members between a weak team and any other where both teams stay
    valid and their value (tiers 2-4) rises; sizes never change."""
    values = [search.pairs(members) for members in teams]
    mixes = [
        search.mix(m, v) if v is not None else None for m, v in zip(teams, values, strict=True)
    ]
    for _ in range(SWAP_PASSES):
        spare = sum(search.sharer[m] for members in teams for m in members) > sum(
            any(search.sharer[m] for m in members) for members in teams
        )
        changed = False
        for a, team in enumerate(teams):
            if mixes[a] is None or not _weak(search, team, spare):
                continue
            for i in range(len(team)):
                best = None
                for b, other in enumerate(teams):
                    if b == a or mixes[b] is None:
                        continue
                    before = mixes[a] + mixes[b]
                    for j in range(len(other)):
                        mine = team[:i] + [other[j]] + team[i + 1 :]
                        theirs = other[:j] + [team[i]] + other[j + 1 :]
                        mine_pairs = search.pairs(mine)
                        if mine_pairs is None:
                            continue
                        their_pairs = search.pairs(theirs)
                        if their_pairs is None:
                            continue
                        gain = search.mix(mine, mine_pairs) + search.mix(theirs, their_pairs)
                        if gain <= before or (best is not None and gain - before <= best[0]):
                            continue
                        if search.common(mine) and search.common(theirs):
                            best = (gain - before, b, j, mine, theirs, mine_pairs, their_pairs)
                if best is None:
                    continue
                _, b, j, mine, theirs, mine_pairs, their_pairs = best
                teams[a][:] = mine
                teams[b][:] = theirs
                mixes[a] = search.mix(mine, mine_pairs)
                mixes[b] = search.mix(theirs, their_pairs)
                team = teams[a]
                changed = True
        if not changed:
            break


def place_leftovers(
    search: TeamSearch,
    teams: list[list[int]],
    waiting: list[int],
    most: int | None = None,
    shared: list[list[Interval]] | None = None,
    strict: bool = False,
) -> list[list[int]]:
    """Seat each waiting person in a valid team with room, else in new teams of their
    own. Teams below ``most`` members (``target + 1`` by default) take them first;
    unless ``strict``, then teams below ``MAX_SIZE``, when that is the only way.
    ``shared``: each team's meeting time, when it is set already. Returns all teams;
    whoever could not be placed is in none."""
    first = most or min(MAX_SIZE, search.target + 1)
    limits = [first] if strict else list(dict.fromkeys([first, MAX_SIZE]))
    # Each team's time and pair total, worked out when a waiting person first looks at
    # it: a few people left over among thousands of teams need only a few of them.
    times: list[list[Interval] | None] = list(shared) if shared is not None else []
    pair_totals: list[int | None] = []
    loose = search.weights.loose
    base = search.weights.ladder.base
    for limit in limits:
        times += [None] * (len(teams) - len(times))
        pair_totals += [None] * (len(teams) - len(pair_totals))
        still = []
        for p in waiting:
            best = None
            for t, members in enumerate(teams):
                if len(members) >= limit:
                    continue
                if times[t] is None:
                    times[t] = search.common(members)
                joined = search.join(times[t], p)
                if not joined:
                    continue
                added = 0
                for m in members:
                    w = loose(m, p)
                    if w is None:
                        break
                    added += w - base
                else:
                    if pair_totals[t] is None:
                        pair_totals[t] = search.pairs(members) or 0
                    before = pair_totals[t]
                    gain = search.mix(members + [p], before + added) - search.mix(members, before)
                    key = (gain >= search.cross_unit, -len(members), gain, -t)
                    if best is None or key > best[0]:
                        best = (key, t, joined, before + added)
            if best is None:
                still.append(p)
                continue
            _, t, joined, total = best
            teams[t].append(p)
            times[t] = joined
            pair_totals[t] = total
        waiting = still
        if len(waiting) >= MIN_SIZE:
            # New teams from those still waiting, before anyone takes an oversized seat.
            formed = (
                exact_teams(search, waiting)
                if len(waiting) <= LEFTOVERS_EXHAUSTIVE_UP_TO
                else _greedy_new(search, waiting)
            )
            teams.extend(formed)
            seated = {m for members in formed for m in members}
            waiting = [p for p in waiting if p not in seated]
    return teams


def _greedy_new(search: TeamSearch, waiting: list[int]) -> list[list[int]]:
    """New teams among many waiting people (those who fit in none stay waiting)."""
    teams, _ = fill_blocks(search, waiting)
    return teams


def mend_across_blocks(search: TeamSearch, teams: list[list[int]]) -> None:
    """Trades between any two teams for those still without a sharer (while another
    has two) or within one department.

    A block can hold fewer sharers or fewer people outside its biggest department than
    it has teams although the whole request has enough; the trades inside a block cannot
    fix that. Only members who bring what the team lacks are tried, and only from teams
    that keep it after the trade, so a trade never costs another team a rule.
    """
    sharer, dept = search.sharer, search.dept
    sharers_by_team = [sum(sharer[m] for m in members) for members in teams]
    spare = sum(sharers_by_team) > sum(count > 0 for count in sharers_by_team)
    for a, team in enumerate(teams):
        lacks_sharer = spare and not any(sharer[m] for m in team)
        one_department = len({dept[m] for m in team}) == 1
        if not (lacks_sharer or one_department):
            continue
        own = dept[team[0]]
        before_a = search.pairs(team)
        if before_a is None:
            continue
        done = False
        for b, other in enumerate(teams):
            if b == a or done:
                continue
            for j, incoming in enumerate(other):
                if lacks_sharer:
                    useful = sharer[incoming] and sum(sharer[m] for m in other) >= 2
                else:
                    useful = dept[incoming] != own and (sum(dept[m] != own for m in other) >= 2)
                if not useful:
                    continue
                before = search.mix(team, before_a) + search.mix(other, search.pairs(other) or 0)
                for i, outgoing in enumerate(team):
                    mine = team[:i] + [incoming] + team[i + 1 :]
                    theirs = other[:j] + [outgoing] + other[j + 1 :]
                    mine_pairs, their_pairs = search.pairs(mine), search.pairs(theirs)
                    if mine_pairs is None or their_pairs is None:
                        continue
                    after = search.mix(mine, mine_pairs) + search.mix(theirs, their_pairs)
                    if after > before and search.common(mine) and search.common(theirs):
                        teams[a][:], teams[b][:] = mine, theirs
                        done = True
                        break
                if done:
                    break
