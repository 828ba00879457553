"""Exercise checkers, one module per notebook, and a way to read the package.

A learner works something out by hand, then a one-line check compares it with
the package's answer: `check_first_error(1)` says right, or what is off. Each
notebook imports its own module, e.g. `from prm_edu.exercises import orm_vs_prm`.
"""

from prm_edu.exercises.check import Verdict, compare, show_source

__all__ = ["Verdict", "compare", "show_source"]
