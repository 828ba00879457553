"""What a search did: every node it made, which it kept, which it cut and why.

Every search in `prm_edu.search` returns a `SearchResult` holding a `SearchTree`
and a `Cost`; `prm_edu.widgets.SearchTreeView` draws the tree. Defined in
notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

KEPT, PRUNED, FINISHED = "kept", "pruned", "finished"
STATUSES = (KEPT, PRUNED, FINISHED)


@dataclass
class Node:
    """One step in the tree. The root (id 0) is the problem and has no step."""

    id: int
    parent: int | None
    step: str
    score: float | None
    depth: int
    iteration: int
    status: str = KEPT
    reason: str = ""  # why it was pruned, or why the search stopped there
    final: bool = False  # the generator ended the solution at this step
    # The aggregated score of the path to here, the number a search ranked
    # this node by (`score` is this step's own PRM score).
    value: float | None = None
    tokens: int = 0  # tokens the generator spent writing this step

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"node status must be one of {STATUSES}, got {self.status!r}."
            )


@dataclass
class SearchTree:
    """A tree of steps grown from one problem."""

    problem: str
    nodes: list[Node] = field(default_factory=list)
    chosen: int | None = None  # id of the leaf whose path is the answer

    def __post_init__(self) -> None:
        if not self.nodes:
            self.nodes.append(
                Node(id=0, parent=None, step="", score=None, depth=0, iteration=0)
            )

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def add(
        self,
        parent: int,
        step: str,
        score: float | None,
        iteration: int,
        *,
        final: bool = False,
        value: float | None = None,
        tokens: int = 0,
    ) -> Node:
        """Add a child of `parent`; it starts as kept."""
        if not 0 <= parent < len(self.nodes):
            raise ValueError(
                f"no node {parent} in this tree of {len(self.nodes)} nodes."
            )
        node = Node(
            id=len(self.nodes),
            parent=parent,
            step=step,
            score=score,
            depth=self.nodes[parent].depth + 1,
            iteration=iteration,
            final=final,
            value=value,
            tokens=tokens,
        )
        self.nodes.append(node)
        return node

    def prune(self, node_id: int, reason: str) -> None:
        self.nodes[node_id].status = PRUNED
        self.nodes[node_id].reason = reason

    def finish(self, node_id: int, reason: str = "") -> None:
        self.nodes[node_id].status = FINISHED
        self.nodes[node_id].reason = reason

    def children(self, node_id: int) -> list[Node]:
        return [n for n in self.nodes if n.parent == node_id]

    def path(self, node_id: int) -> list[Node]:
        """The nodes from the first step down to `node_id` (root excluded)."""
        out = []
        node = self.nodes[node_id]
        while node.parent is not None:
            out.append(node)
            node = self.nodes[node.parent]
        return out[::-1]

    def steps(self, node_id: int) -> list[str]:
        return [n.step for n in self.path(node_id)]

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


@dataclass
class Cost:
    """Honest compute: what was generated and what was scored."""

    steps_generated: int = 0
    tokens_generated: int = 0
    tokens_scored: int = 0
    forward_passes: int = 0  # PRM forward passes

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(
            self.steps_generated + other.steps_generated,
            self.tokens_generated + other.tokens_generated,
            self.tokens_scored + other.tokens_scored,
            self.forward_passes + other.forward_passes,
        )


@dataclass
class SearchResult:
    """The chosen solution, the tree that led to it, and what it cost."""

    problem: str
    steps: list[str]
    answer: str | None
    tree: SearchTree
    cost: Cost
    stopped: str = ""  # e.g. "budget spent" when the search ran out
