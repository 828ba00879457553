"""Search with a PRM: best-of-N, beam search, Tree-of-Thoughts, DFS, DVTS.

One module per method, each with one config dataclass holding every knob:

| method | module | config | functions |
|---|---|---|---|
| best-of-N, votes, oracle | `rerank` | `BestOfNConfig` | `best_of_n(_many)` |
| step-level beam search | `beam` | `BeamConfig` | `beam_search(_many)` |
| Tree-of-Thoughts BFS | `tot` | `ToTConfig` | `tot_bfs(_many)` |
| backtracking DFS | `dfs` | `DFSConfig` | `dfs(_many)` |
| DVTS | `dvts` | `DVTSConfig` | `dvts(_many)` |

Every search takes the problem's statement (`problem.text`), a
`StepGenerator` and a `StepScorer`, and returns a `SearchResult`: the chosen
steps and answer, the `SearchTree` of every node it made (kept, pruned or
finished, and why), and its `Cost`. Pass ``answer_of=answer_fn(world)`` to get
answers. `sample_pool` samples and scores N solutions once so every reranking
method can share them; `prm_edu.evaluation` turns pools and searches into
accuracy-vs-compute tables and plots. Defined in notebooks 04 and 05.
"""

from prm_edu.search.aggregate import AGGREGATIONS, aggregate
from prm_edu.search.answers import answer_fn, grade_fn
from prm_edu.search.beam import BeamConfig, beam_search, beam_search_many
from prm_edu.search.dfs import DFSConfig, dfs, dfs_many
from prm_edu.search.dvts import DVTSConfig, dvts, dvts_many
from prm_edu.search.lockstep import EmptyStepError
from prm_edu.search.pool import Pool, PoolConfig, Sample, sample_pool
from prm_edu.search.rerank import (
    RERANKERS,
    BestOfNConfig,
    best_of_n,
    best_of_n_many,
    pick,
    pick_in_pool,
    pool_result,
)
from prm_edu.search.scripted import ScriptedScorer, TreeGenerator
from prm_edu.search.tot import ToTConfig, tot_bfs, tot_bfs_many
from prm_edu.search.tree import (
    FINISHED,
    KEPT,
    PRUNED,
    Cost,
    Node,
    SearchResult,
    SearchTree,
)

__all__ = [
    "AGGREGATIONS",
    "FINISHED",
    "KEPT",
    "PRUNED",
    "RERANKERS",
    "BeamConfig",
    "BestOfNConfig",
    "Cost",
    "DFSConfig",
    "DVTSConfig",
    "EmptyStepError",
    "Node",
    "Pool",
    "PoolConfig",
    "Sample",
    "ScriptedScorer",
    "SearchResult",
    "SearchTree",
    "ToTConfig",
    "TreeGenerator",
    "aggregate",
    "answer_fn",
    "beam_search",
    "beam_search_many",
    "best_of_n",
    "best_of_n_many",
    "dfs",
    "dfs_many",
    "dvts",
    "dvts_many",
    "grade_fn",
    "pick",
    "pick_in_pool",
    "pool_result",
    "sample_pool",
    "tot_bfs",
    "tot_bfs_many",
]
