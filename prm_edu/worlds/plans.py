"""The plans world: an agent's plan, one action per step, checked by a simulator.

A problem describes a small house and a goal, on one line::

    Doors: hall-kitchen, hall-study. Locked: study. Places: kitchen table,
    kitchen bin, hall shelf, study desk. Items: cup on table, key on shelf.
    Start: hall. Goal: cup on desk.

A step is one action, in four verbs::

    move ROOM        walk through a door into a room next to this one
    pick ITEM        take an item from a place in this room
    put ITEM PLACE   put a carried item on a place in this room
    unlock ROOM      unlock the locked room next to this one (carry the key)

The agent can carry any number of items. A place called `bin` destroys what
is put in it; the item called `key` opens the locked room. An action whose
precondition fails (no door, a locked door, an item that is not here, not
carried, no key) is **illegal**: the simulator refuses it and nothing
changes.

**How a step is judged.** After every legal action the simulator computes
the exact number of actions the goal is still away (the length of the
shortest plan from here, or infinity when no plan reaches it). A step is

- **+1** when it is legal and brings the goal closer than it has been so far
  (the plan makes progress);
- **0** when it is legal and the goal can still be reached, but it is no
  closer: a detour, an item picked for nothing, a door walked back through;
- **-1** when it is illegal or unreadable, or legal but a **dead end**: after
  it the goal can never be reached (the cup went in the bin; the key went in
  the bin while the study is still locked), and every step after a dead end.

The final answer is where the goal's items end up (`"cup on desk"`), and
`grade` says whether the goal holds when the plan ends. A plan with an
illegal action that the simulator refused can still reach the goal: the
outcome is right, one step was wrong. Levels: 1 one item to move, no lock;
2 one item, and the way passes a locked room; 3 two items and a locked room.
Defined in notebook 06.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

from prm_edu.parsing import ParseError, normalize
from prm_edu.worlds._common import (
    Move,
    Policy,
    bad,
    good,
    neutral,
    run_scripted,
    unreadable,
)
from prm_edu.worlds.base import ScriptedSample, StepLabel, World

__all__ = [
    "PlanProblem",
    "PlansWorld",
    "HouseState",
    "distances",
    "parse_action",
    "PLAN_ERROR_KINDS",
    "NO_DOOR",
    "LOCKED_DOOR",
    "NOT_HERE",
    "NOT_CARRIED",
    "NO_KEY",
    "DEAD_END",
    "VERBS",
]

# The mistakes the scripted agent makes, by what goes wrong.
NO_DOOR = "no door"  # move to a room with no door from here
LOCKED_DOOR = "locked door"  # walk into the locked room before unlocking it
NOT_HERE = "item not here"  # pick an item from another room
NOT_CARRIED = "not carried"  # put an item it never picked up
NO_KEY = "no key"  # unlock without carrying the key
DEAD_END = "dead end"  # throw an item the goal needs into the bin
PLAN_ERROR_KINDS = (NO_DOOR, LOCKED_DOOR, NOT_HERE, NOT_CARRIED, NO_KEY, DEAD_END)

VERBS = ("move", "pick", "put", "unlock")
KEY = "key"
BIN = "bin"
HELD = "(carried)"  # where a carried item is; never a place name
GONE = "(gone)"  # where an item put in the bin is
INF = 10**9
MAX_ROOMS, MAX_PLACES, MAX_ITEMS, MAX_GOALS = 6, 10, 8, 2
MAX_SCRIPTED_ACTIONS = 24  # the scripted agent's longest plan, errors included

_WORD = re.compile(r"[a-z]{1,20}")
_FILLER = {"to", "up", "the", "a", "on", "in", "into", "onto", "at", "door", "room"}
_SYNONYMS = {"go": "move", "walk": "move", "take": "pick", "place": "put"}
_EXAMPLE = "'move kitchen', 'pick cup', 'put cup table' or 'unlock study'"


# --------------------------------------------------------------------------- #
# The house: rooms, doors, places, and the distances between rooms
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class HouseState:
    """Where the agent is, where each item is (a place, HELD or GONE, in the
    problem's item order), and which rooms are still locked."""

    room: str
    where: tuple[str, ...]
    locked: tuple[str, ...]


@dataclass
class _House:
    rooms: tuple[str, ...]
    adjacent: dict[str, tuple[str, ...]]
    place_room: dict[str, str]
    items: tuple[str, ...]
    goal: tuple[tuple[str, str], ...]
    locked: tuple[str, ...]
    closed: dict  # (a, b) -> steps, with the locked rooms shut
    open: dict  # (a, b) -> steps, every door open
    cache: dict = field(default_factory=dict)  # state -> (distance, why)

    def places_in(self, room: str) -> list[str]:
        return [p for p, r in self.place_room.items() if r == room]


def _distances(rooms, adjacent, shut: set) -> dict:
    out = {}
    for start in rooms:
        if start in shut:
            continue
        seen = {start: 0}
        queue = deque([start])
        while queue:
            here = queue.popleft()
            for nxt in adjacent[here]:
                if nxt not in seen and nxt not in shut:
                    seen[nxt] = seen[here] + 1
                    queue.append(nxt)
        for room, d in seen.items():
            out[start, room] = d
    return out


def _path(house: _House, a: str, b: str, shut: set) -> list[str]:
    """The rooms after `a` on a shortest way to `b` (first in name order)."""
    prev = {a: None}
    queue = deque([a])
    while queue:
        here = queue.popleft()
        if here == b:
            break
        for nxt in sorted(house.adjacent[here]):
            if nxt not in prev and nxt not in shut:
                prev[nxt] = here
                queue.append(nxt)
    out = []
    while b != a:
        out.append(b)
        b = prev[b]
    return out[::-1]


# --------------------------------------------------------------------------- #
# The exact distance to the goal
# --------------------------------------------------------------------------- #


def _distance(house: _House, state: HouseState) -> tuple[int, str]:
    """(actions the goal is still away, why it cannot be reached when INF)."""
    hit = house.cache.get(state)
    if hit is None:
        if len(house.cache) > 50_000:
            house.cache.clear()
        hit = house.cache[state] = _plan_events(house, state)[:2]
    return hit


def _plan_events(house: _House, state: HouseState):
    """(distance, why unreachable, best events in order).

    Every plan must do some actions: pick each goal item that is not carried
    and not already in place, put it on its goal place, and (to enter the
    locked room) pick the key and unlock. Between two of them it walks, at
    best along a shortest way through the doors open at that time. So the
    exact distance is the number of those actions plus the shortest walk
    over every order of them that respects "pick before put" and "key
    before unlock": a small search over orders, not over all states.
    """
    where = dict(zip(house.items, state.where))
    # An event: (verb, item, rooms where it may happen, index it must follow).
    events: list[tuple[str, str, tuple[str, ...], int | None]] = []
    for item, place in house.goal:
        at = where[item]
        if at == place:
            continue
        if at == GONE:
            return INF, f"the {item} is in the bin", ()
        put_room = (house.place_room[place],)
        if at == HELD:
            events.append(("put", item, put_room, None))
        else:
            events.append(("pick", item, (house.place_room[at],), None))
            events.append(("put", item, put_room, len(events) - 1))
    if not events:
        return 0, "", ()
    locked = state.locked
    base = house.closed if locked else house.open
    best = _order(house, state.room, tuple(events), base, None)
    key_at = where.get(KEY, GONE)
    if locked and key_at != GONE:
        extra = list(events)
        after = None
        if key_at != HELD:
            extra.append(("pick", KEY, (house.place_room[key_at],), None))
            after = len(extra) - 1
        (room,) = locked
        extra.append(("unlock", room, house.adjacent[room], after))
        unlock = len(extra) - 1
        best = min(best, _order(house, state.room, tuple(extra), base, unlock))
    if best[0] >= INF:
        if locked and key_at == GONE:
            why = f"the key is in the bin and the {locked[0]} is still locked"
        else:
            why = "no plan reaches the goal from here"
        return INF, why, ()
    return best[0], "", best[1]


def _order(house: _House, start: str, events: tuple, base: dict, unlock: int | None):
    """(cost, events in order) of the cheapest order of `events` from `start`,
    walking with the distances `base` until the `unlock` event (if any)."""
    n = len(events)
    full = (1 << n) - 1

    @lru_cache(maxsize=None)
    def go(mask: int, room: str) -> tuple[int, tuple]:
        if mask == full:
            return 0, ()
        opened = unlock is not None and mask >> unlock & 1
        dist = house.open if opened else base
        best: tuple[int, tuple] = (INF, ())
        for i, (verb, name, rooms, after) in enumerate(events):
            if mask >> i & 1 or (after is not None and not mask >> after & 1):
                continue
            for r in rooms:
                walk = dist.get((room, r))
                if walk is None:
                    continue
                rest, order = go(mask | 1 << i, r)
                cost = walk + 1 + rest
                if cost < best[0]:
                    best = (cost, ((verb, name, r), *order))
        return best

    return go(0, start)


# --------------------------------------------------------------------------- #
# Reading and doing an action
# --------------------------------------------------------------------------- #


def parse_action(text: str) -> tuple[str, ...]:
    """`"put cup on table"` -> `("put", "cup", "table")`. Raises `ParseError`.

    Small words (`to`, `the`, `on`, `in`, `up`) are skipped, and `go`/`walk`,
    `take` and `place` mean move, pick and put.
    """
    body = normalize(text).strip().lower()
    if body.endswith("."):
        body = body[:-1].rstrip()
    if not body:
        raise ParseError(f"the step is empty: write one action like {_EXAMPLE}", text)
    words = body.split()
    for w in words:
        if _WORD.fullmatch(w) is None:
            raise ParseError(
                f"{w!r} is not a word of this world: an action is a verb and "
                f"names, like {_EXAMPLE}",
                text,
                body.find(w),
            )
    verb = _SYNONYMS.get(words[0], words[0])
    args = [w for w in words[1:] if w not in _FILLER]
    want = {"move": 1, "pick": 1, "put": 2, "unlock": 1}.get(verb)
    if want is None:
        raise ParseError(
            f"unknown action {words[0]!r}: the verbs are {', '.join(VERBS)}", text
        )
    if len(args) != want:
        shape = {
            "move": "move ROOM",
            "pick": "pick ITEM",
            "put": "put ITEM PLACE",
            "unlock": "unlock ROOM",
        }[verb]
        raise ParseError(
            f"{verb!r} takes {want} name{'s' if want > 1 else ''} ({shape}), "
            f"got {len(args)}",
            text,
        )
    return (verb, *args)


def _render(action: tuple[str, ...]) -> str:
    return " ".join(action)


def _do(
    house: _House, state: HouseState, action: tuple[str, ...]
) -> tuple[HouseState | None, str]:
    """(the state after `action`, "") or (None, why it is illegal)."""
    verb, *args = action
    here = state.room
    where = dict(zip(house.items, state.where))
    if verb == "move":
        (room,) = args
        if room not in house.adjacent:
            return None, f"there is no room called {room!r} ({_names(house.rooms)})"
        if room == here:
            return None, f"you are already in the {room}"
        if room not in house.adjacent[here]:
            doors = _names(house.adjacent[here]) or "none"
            return None, (
                f"there is no door from the {here} to the {room} (doors from the "
                f"{here}: {doors})"
            )
        if room in state.locked:
            return None, f"the {room} is locked: unlock it first (with the key)"
        return HouseState(room, state.where, state.locked), ""
    if verb == "unlock":
        (room,) = args
        if room not in house.adjacent:
            return None, f"there is no room called {room!r} ({_names(house.rooms)})"
        if room not in state.locked:
            return None, f"the {room} is not locked"
        if room not in house.adjacent[here]:
            return None, f"the {room} is not next to the {here}: go to its door first"
        if where.get(KEY) != HELD:
            return None, "you do not carry the key: pick it up first"
        locked = tuple(r for r in state.locked if r != room)
        return HouseState(here, state.where, locked), ""
    item = args[0]
    if item not in where:
        return None, f"there is no item called {item!r} ({_names(house.items)})"
    at = where[item]
    if verb == "pick":
        if at == HELD:
            return None, f"you already carry the {item}"
        if at == GONE:
            return None, f"the {item} is in the bin: it is gone"
        if house.place_room[at] != here:
            return None, (
                f"the {item} is not here: it is on the {at} in the "
                f"{house.place_room[at]}, and you are in the {here}"
            )
        return _moved(house, state, item, HELD), ""
    place = args[1]
    if place not in house.place_room:
        return None, (
            f"there is no place called {place!r} ({_names(house.place_room)})"
        )
    if at != HELD:
        return None, f"you do not carry the {item}: pick it up first"
    if house.place_room[place] != here:
        return None, (
            f"the {place} is in the {house.place_room[place]}, and you are in "
            f"the {here}"
        )
    return _moved(house, state, item, GONE if place == BIN else place), ""


def _moved(house: _House, state: HouseState, item: str, to: str) -> HouseState:
    where = tuple(to if i == item else w for i, w in zip(house.items, state.where))
    return HouseState(state.room, where, state.locked)


def _names(names) -> str:
    return ", ".join(names)


def _legal_actions(house: _House, state: HouseState) -> list[tuple[str, ...]]:
    here = state.room
    out: list[tuple[str, ...]] = []
    for room in house.adjacent[here]:
        if room not in state.locked:
            out.append(("move", room))
    places = house.places_in(here)
    for item, at in zip(house.items, state.where):
        if at in places:
            out.append(("pick", item))
        elif at == HELD:
            out += [("put", item, p) for p in places]
    if dict(zip(house.items, state.where)).get(KEY) == HELD:
        out += [("unlock", r) for r in state.locked if r in house.adjacent[here]]
    return out


# --------------------------------------------------------------------------- #
# Problems
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class PlanProblem:
    """A house, where things are, and a goal (see module doc for the text)."""

    text: str
    level: int
    doors: tuple[tuple[str, str], ...]
    locked: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (room, place)
    items: tuple[tuple[str, str], ...]  # (item, place)
    start: str
    goal: tuple[tuple[str, str], ...]  # (item, place)
    house: _House = field(compare=False, repr=False)

    @property
    def initial(self) -> HouseState:
        return HouseState(self.start, tuple(p for _, p in self.items), self.locked)

    @property
    def shortest(self) -> int:
        """How many actions the shortest plan takes."""
        return _distance(self.house, self.initial)[0]


_SECTION = re.compile(r"\s*(?P<key>[a-z]+)\s*:\s*(?P<body>[^.:]*?)\s*(?:\.|$)")
_SECTIONS = ("doors", "locked", "places", "items", "start", "goal")


def _words(body: str, text: str, what: str) -> list[list[str]]:
    out = []
    for chunk in body.split(","):
        words = chunk.split()
        for w in words:
            if _WORD.fullmatch(w) is None:
                raise ParseError(
                    f"{w!r} in {what} is not a name: names are lowercase words",
                    text,
                )
        if words:
            out.append(words)
    return out


def _render_problem(doors, locked, places, items, start, goal) -> str:
    parts = []
    if doors:
        parts.append("Doors: " + ", ".join(f"{a}-{b}" for a, b in doors) + ".")
    if locked:
        parts.append("Locked: " + ", ".join(locked) + ".")
    parts.append("Places: " + ", ".join(f"{r} {p}" for r, p in places) + ".")
    parts.append("Items: " + ", ".join(f"{i} on {p}" for i, p in items) + ".")
    parts.append(f"Start: {start}.")
    parts.append("Goal: " + ", ".join(f"{i} on {p}" for i, p in goal) + ".")
    return " ".join(parts)


def _parse(text: str) -> PlanProblem:
    body = normalize(text).strip()
    low = body.lower()
    sections: dict[str, str] = {}
    pos = 0
    while pos < len(low):
        m = _SECTION.match(low, pos)
        if m is None or m.end() == pos:
            raise ParseError(
                "could not read the problem: write sections like 'Doors: "
                "hall-kitchen. Places: kitchen table. Items: cup on table. "
                "Start: hall. Goal: cup on table.'",
                text,
                pos,
            )
        key = m.group("key")
        if key not in _SECTIONS:
            raise ParseError(
                f"unknown section {key!r}: the sections are {', '.join(_SECTIONS)}",
                text,
                pos,
            )
        if key in sections:
            raise ParseError(f"the section {key!r} is given twice", text, pos)
        sections[key] = m.group("body")
        pos = m.end()
    for key in ("places", "items", "start", "goal"):
        if key not in sections:
            raise ParseError(f"the problem has no {key.capitalize()}: section", text)

    doors: list[tuple[str, str]] = []
    for chunk in sections.get("doors", "").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        a, dash, b = chunk.partition("-")
        a, b = a.strip(), b.strip()
        if not dash or not _WORD.fullmatch(a) or not _WORD.fullmatch(b) or a == b:
            raise ParseError(
                f"could not read the door {chunk!r}: write 'hall-kitchen'", text
            )
        if (a, b) in doors or (b, a) in doors:
            raise ParseError(f"the door {a}-{b} is given twice", text)
        doors.append((a, b))
    places: list[tuple[str, str]] = []
    for words in _words(sections["places"], text, "Places"):
        if len(words) != 2:
            raise ParseError(
                f"could not read the place {' '.join(words)!r}: write "
                f"'ROOM PLACE', like 'kitchen table'",
                text,
            )
        if words[1] in {p for _, p in places}:
            raise ParseError(f"two places are called {words[1]!r}", text)
        places.append((words[0], words[1]))
    place_room = {p: r for r, p in places}
    items: list[tuple[str, str]] = []
    for words in _words(sections["items"], text, "Items"):
        if len(words) != 3 or words[1] != "on":
            raise ParseError(
                f"could not read the item {' '.join(words)!r}: write 'ITEM on "
                f"PLACE', like 'cup on table'",
                text,
            )
        item, place = words[0], words[2]
        if place not in place_room:
            raise ParseError(f"the {item} is on {place!r}, which is not a place", text)
        if place == BIN:
            raise ParseError(f"the {item} starts in the bin: it would be gone", text)
        if item in {i for i, _ in items}:
            raise ParseError(f"two items are called {item!r}", text)
        items.append((item, place))
    rooms = list(dict.fromkeys([r for d in doors for r in d] + [r for r, _ in places]))
    start = sections["start"].strip()
    if start not in rooms:
        raise ParseError(f"the start {start!r} is not a room ({_names(rooms)})", text)
    locked = [" ".join(w) for w in _words(sections.get("locked", ""), text, "Locked")]
    for room in locked:
        if room not in rooms:
            raise ParseError(f"the locked {room!r} is not a room", text)
    if len(locked) > 1:
        raise ParseError("this world has at most one locked room", text)
    if start in locked:
        raise ParseError(f"the start {start!r} is locked: start outside it", text)
    goal: list[tuple[str, str]] = []
    for words in _words(sections["goal"], text, "Goal"):
        if len(words) != 3 or words[1] != "on":
            raise ParseError(
                f"could not read the goal {' '.join(words)!r}: write 'ITEM on "
                f"PLACE', like 'cup on desk'",
                text,
            )
        item, place = words[0], words[2]
        if item not in {i for i, _ in items}:
            raise ParseError(f"the goal moves {item!r}, which is not an item", text)
        if item == KEY:
            raise ParseError("the key opens doors: make another item the goal", text)
        if place not in place_room or place == BIN:
            raise ParseError(f"the goal place {place!r} is not a place here", text)
        if item in {i for i, _ in goal}:
            raise ParseError(f"the goal names the {item} twice", text)
        goal.append((item, place))
    limits = (
        ("rooms", len(rooms), MAX_ROOMS),
        ("places", len(places), MAX_PLACES),
        ("items", len(items), MAX_ITEMS),
        ("goal items", len(goal), MAX_GOALS),
    )
    for what, n, most in limits:
        if n > most:
            raise ParseError(f"{n} {what}; at most {most} are accepted", text)
    if not goal:
        raise ParseError("the goal is empty: say where an item should go", text)
    adjacent = {r: () for r in rooms}
    for a, b in doors:
        adjacent[a] += (b,)
        adjacent[b] += (a,)
    adjacent = {r: tuple(sorted(v)) for r, v in adjacent.items()}
    house = _House(
        rooms=tuple(rooms),
        adjacent=adjacent,
        place_room=place_room,
        items=tuple(i for i, _ in items),
        goal=tuple(goal),
        locked=tuple(locked),
        closed=_distances(rooms, adjacent, set(locked)),
        open=_distances(rooms, adjacent, set()),
    )
    problem = PlanProblem(
        text=_render_problem(doors, locked, places, items, start, goal),
        level=3 if len(goal) > 1 else (2 if locked else 1),
        doors=tuple(doors),
        locked=tuple(locked),
        places=tuple(places),
        items=tuple(items),
        start=start,
        goal=tuple(goal),
        house=house,
    )
    d, why = _distance(house, problem.initial)
    if d == 0:
        raise ParseError("the goal already holds: there is nothing to plan", text)
    if d >= INF:
        raise ParseError(f"the goal cannot be reached: {why}", text)
    return problem


# --------------------------------------------------------------------------- #
# Judging a plan
# --------------------------------------------------------------------------- #


def _simulate(problem: PlanProblem, steps: Sequence[str]) -> HouseState:
    """The state after the steps (unreadable and illegal ones change nothing)."""
    state = problem.initial
    for text in steps:
        try:
            action = parse_action(text)
        except ParseError:
            continue
        after, _ = _do(problem.house, state, action)
        state = after or state
    return state


def distances(problem: PlanProblem, steps: Sequence[str]) -> list[int | None]:
    """How many actions the goal is away after each step, exactly: the length
    of the shortest plan from there, or None once no plan reaches it. An
    unreadable or illegal step changes nothing, so the distance stays."""
    state = problem.initial
    out: list[int | None] = []
    for text in steps:
        try:
            after, _ = _do(problem.house, state, parse_action(text))
        except ParseError:
            after = None
        state = after or state
        d, _ = _distance(problem.house, state)
        out.append(None if d >= INF else d)
    return out


def _step_label(
    problem: PlanProblem, state: HouseState, text: str, best: int
) -> tuple[StepLabel, HouseState]:
    """One action's label (progress judged against `best`) and the state after."""
    house = problem.house
    try:
        action = parse_action(text)
    except ParseError as err:
        return unreadable(err), state
    after, why = _do(house, state, action)
    if after is None:
        return bad(f"illegal: {why}"), state
    before, _ = _distance(house, state)
    d, lost = _distance(house, after)
    if d >= INF:
        if before >= INF:
            return (
                bad(f"legal, but the goal was already out of reach: {lost}"),
                after,
            )
        return bad(f"a dead end: {lost}, so the goal can never be reached"), after
    if d == 0:
        return good(f"goal reached: {_goal_text(problem)}"), after
    if d < best:
        return good(f"progress: the goal is now {_actions(d)} away"), after
    return (
        neutral(
            f"legal, but no progress: the goal is {_actions(d)} away, and the "
            f"plan was already {_actions(best)} away"
        ),
        after,
    )


def _actions(n: int) -> str:
    return f"{n} action{'s' if n != 1 else ''}"


def _goal_text(problem: PlanProblem) -> str:
    return ", ".join(f"{i} on {p}" for i, p in problem.goal)


# --------------------------------------------------------------------------- #
# The scripted agent
# --------------------------------------------------------------------------- #


def _move_of(problem: PlanProblem, state: HouseState, action) -> Move[HouseState]:
    after, _ = _do(problem.house, state, action)
    return Move(_render(action), after or state)


def _best_actions(problem: PlanProblem, state: HouseState) -> list[tuple[str, ...]]:
    """The legal actions that bring the goal one action closer."""
    house = problem.house
    d, _ = _distance(house, state)
    if d == 0 or d >= INF:
        return []
    out = []
    for action in _legal_actions(house, state):
        after, _ = _do(house, state, action)
        if _distance(house, after)[0] == d - 1:
            out.append(action)
    return out


class _PlanPolicy(Policy):
    def start(self, problem):
        return problem.initial

    def correct(self, problem, state, rng):
        best = _best_actions(problem, state)
        return _move_of(problem, state, rng.choice(best)) if best else None

    def is_wrong(self, problem, state, true_state) -> bool:
        # A refused action changes nothing and a dead end cannot be undone:
        # this world has no compensating errors.
        return False

    def compensate(self, problem, state, true_move, rng):
        return None

    def errors(self, problem, state, move, rng):
        house = problem.house
        here = state.room
        where = dict(zip(house.items, state.where))
        goal_items = [i for i, _ in house.goal]

        def pick_from(options):
            return _move_of(problem, state, rng.choice(options)) if options else None

        def no_door():
            near = house.adjacent[here]
            far = [r for r in house.rooms if r != here and r not in near]
            return pick_from([("move", r) for r in far])

        def locked_door():
            return pick_from(
                [("move", r) for r in state.locked if r in house.adjacent[here]]
            )

        def not_here():
            elsewhere = [
                i
                for i in house.items
                if where[i] not in (HELD, GONE) and house.place_room[where[i]] != here
            ]
            wanted = [i for i in elsewhere if i in goal_items or i == KEY]
            return pick_from([("pick", i) for i in wanted or elsewhere])

        def not_carried():
            places = house.places_in(here)
            if not places:
                return None
            # Most often the goal item on its goal place, before picking it.
            options = [
                ("put", i, p)
                for i, p in house.goal
                if where[i] not in (HELD, GONE, p) and p in places
            ]
            options = options or [
                ("put", i, rng.choice(places))
                for i in goal_items
                if where[i] not in (HELD, GONE)
            ]
            return pick_from(options)

        def no_key():
            if where.get(KEY) == HELD:
                return None
            return pick_from(
                [("unlock", r) for r in state.locked if r in house.adjacent[here]]
            )

        def dead_end():
            if BIN not in house.places_in(here):
                return None
            carried = [i for i in house.items if where[i] == HELD]
            return pick_from([("put", i, BIN) for i in carried])

        def mistake(maker):
            # Only a step the checker calls wrong counts as an injected error.
            def make():
                out = maker()
                if out is None:
                    return None
                label, _ = _step_label(problem, state, out.text, INF)
                return out if label.value < 0 else None

            return make

        return {
            NO_DOOR: mistake(no_door),
            LOCKED_DOOR: mistake(locked_door),
            NOT_HERE: mistake(not_here),
            NOT_CARRIED: mistake(not_carried),
            NO_KEY: mistake(no_key),
            DEAD_END: mistake(dead_end),
        }


# --------------------------------------------------------------------------- #
# The world
# --------------------------------------------------------------------------- #


class PlansWorld(World):
    """Plans of actions in a small house, checked by a simulator (see module
    doc)."""

    name = "plans"
    levels = (1, 2, 3)
    default_level = 2

    def __init__(self) -> None:
        # Parsed problems by text: a problem carries its house's distance
        # cache, which searches and the scripted agent reuse step after step.
        self._parsed: dict[str, PlanProblem] = {}

    def parse_problem(self, text: str) -> PlanProblem:
        """A problem from its one-line description (see module doc)."""
        if not isinstance(text, str):
            raise ParseError(f"expected the problem as text, got {type(text).__name__}")
        hit = self._parsed.get(text)
        if hit is None:
            if len(self._parsed) >= 4096:
                self._parsed.clear()
            hit = self._parsed[text] = _parse(text)
        return hit

    def _sample_one(self, rng: random.Random, level: int) -> PlanProblem:
        lo, hi = _LENGTHS[level]
        while True:
            try:
                problem = _parse(_draw(rng, level))
            except ParseError:  # already solved, or unsolvable: draw again
                continue
            if problem.level == level and lo <= problem.shortest <= hi:
                return problem

    def solve(self, problem: PlanProblem) -> list[str]:
        """A shortest plan."""
        house = problem.house
        state = problem.initial
        _, _, events = _plan_events(house, state)
        shut = set(state.locked)
        steps: list[str] = []
        for verb, name, room in events:
            for nxt in _path(house, state.room, room, shut):
                steps.append(_render(("move", nxt)))
                state = HouseState(nxt, state.where, state.locked)
            if verb == "pick":
                action: tuple[str, ...] = ("pick", name)
            elif verb == "unlock":
                action = ("unlock", name)
                shut = set()
            else:
                place = dict(house.goal)[name]
                action = ("put", name, place)
            after, why = _do(house, state, action)
            if after is None:  # pragma: no cover - the search only plans legal moves
                raise RuntimeError(f"the planner made an illegal step: {why}")
            steps.append(_render(action))
            state = after
        return steps

    def check(self, problem: PlanProblem, steps: Sequence[str]) -> list[StepLabel]:
        state = problem.initial
        best = _distance(problem.house, state)[0]
        labels = []
        for text in steps:
            label, state = _step_label(problem, state, text, best)
            labels.append(label)
            best = min(best, _distance(problem.house, state)[0])
        return labels

    def extract_answer(self, problem: PlanProblem, steps: Sequence[str]) -> str | None:
        """Where the goal's items are when the plan ends: `"cup on desk"`."""
        if not steps:
            return None
        state = _simulate(problem, steps)
        where = dict(zip(problem.house.items, state.where))
        out = []
        for item, _ in problem.goal:
            at = where[item]
            if at == HELD:
                out.append(f"{item} carried")
            elif at == GONE:
                out.append(f"{item} in the bin")
            else:
                out.append(f"{item} on {at}")
        return ", ".join(out)

    def answer(self, problem: PlanProblem) -> str:
        return _goal_text(problem)

    def _scripted_policy(self) -> Policy:
        return _PlanPolicy()

    def _written_state(self, problem: PlanProblem, steps: Sequence[str]):
        return _simulate(problem, steps)

    def scripted_sample(
        self,
        problem: PlanProblem,
        rng: random.Random,
        error_rate: float,
        *,
        compensate_rate: float = 0.25,
    ) -> ScriptedSample:
        """A plan by the scripted agent: a shortest plan (ties broken at
        random) with errors of `PLAN_ERROR_KINDS` at `error_rate` per step.
        `compensate_rate` is accepted for the common interface; this world
        has no compensating errors."""
        return run_scripted(
            _PlanPolicy(),
            problem,
            rng,
            error_rate,
            compensate_rate,
            max_steps=MAX_SCRIPTED_ACTIONS,
        )


# --------------------------------------------------------------------------- #
# Drawing problems
# --------------------------------------------------------------------------- #

_ROOMS = ("hall", "kitchen", "study", "bedroom", "garden", "cellar", "attic", "garage")
_PLACES = (
    "table", "shelf", "desk", "bed", "sofa", "bench", "counter", "chest", "rack",
    "stool", "cabinet", "dresser",
)  # fmt: skip
_ITEMS = ("cup", "book", "apple", "lamp", "pen", "plate", "sock", "vase", "coin", "hat")
_LENGTHS = {1: (2, 6), 2: (5, 10), 3: (8, 13)}
_SIZES = {1: (2, 3), 2: (3, 4), 3: (4, 4)}


def _draw(rng: random.Random, level: int) -> str:
    """Statement text of one candidate problem at `level` (may be re-drawn)."""
    lo, hi = _SIZES[level]
    rooms = rng.sample(_ROOMS, rng.randint(lo, hi))
    doors = []
    for i in range(1, len(rooms)):  # a random tree of doors
        doors.append((rooms[rng.randrange(i)], rooms[i]))
    degree = {r: sum(r in d for d in doors) for r in rooms}
    locked: list[str] = []
    if level > 1:
        leaves = [r for r in rooms if degree[r] == 1]
        locked = [rng.choice(leaves)]
    names = iter(rng.sample(_PLACES, len(_PLACES)))
    places = [(r, next(names)) for r in rooms]
    if level > 1 or rng.random() < 0.5:
        places.append((rng.choice(rooms), next(names)))
    # The bin sits where the agent often passes: the busiest room.
    busiest = max(rooms, key=lambda r: (degree[r], rng.random()))
    if rng.random() < 0.85:
        places.append((busiest if rng.random() < 0.7 else rng.choice(rooms), BIN))
    open_places = [p for r, p in places if r not in locked and p != BIN]
    all_places = [p for _, p in places if p != BIN]
    n_goal = 2 if level == 3 else 1
    goods = rng.sample(_ITEMS, n_goal + rng.randint(0, 1))
    items = [(g, rng.choice(all_places)) for g in goods]
    goal = [(g, rng.choice(all_places)) for g in goods[:n_goal]]
    if locked:
        items.append((KEY, rng.choice(open_places)))
        in_locked = [p for r, p in places if r in locked and p != BIN]
        # The lock must matter: the goal place or a goal item is behind it.
        if rng.random() < 0.5:
            goal[0] = (goal[0][0], rng.choice(in_locked))
        else:
            items[0] = (items[0][0], rng.choice(in_locked))
    rng.shuffle(items)
    start = rng.choice([r for r in rooms if r not in locked])
    return _render_problem(doors, locked, places, items, start, goal)
