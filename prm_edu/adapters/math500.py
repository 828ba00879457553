"""MATH-500-style problems and a final-answer grader, for real models.

Published PRMs are trained on competition math (MATH, GSM8K), so notebook 07
runs them on MATH-500 (HuggingFaceH4/MATH-500, 500 problems of the MATH test
set chosen in "Let's Verify Step by Step"). `load_math500(n)` fetches it when
there is internet; `SAMPLE` holds five problems of the same kind for when
there is not. Answers are compared as written in ``\\boxed{...}``, after a
light normalisation (``\\dfrac`` is ``\\frac``, spaces and ``\\left`` /
``\\right`` do not count, ``0.5`` equals ``.5``). Text is only ever compared,
never evaluated. Defined in notebook 07.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class MathProblem:
    """A competition problem and its reference final answer (LaTeX)."""

    problem: str
    answer: str


SAMPLE = (
    MathProblem(
        "Convert the point $(0,3)$ in rectangular coordinates to polar "
        "coordinates.  Enter your answer in the form $(r,\\theta),$ where "
        "$r > 0$ and $0 \\le \\theta < 2 \\pi.$",
        "\\left( 3, \\frac{\\pi}{2} \\right)",
    ),
    MathProblem(
        "If $f(x) = \\frac{3x-2}{x-2}$, what is the value of $f(-2) +f(-1)+f(0)$? "
        "Express your answer as a common fraction.",
        "\\frac{14}{3}",
    ),
    MathProblem("How many positive whole-number divisors does 196 have?", "9"),
    MathProblem("What is the value of $513^2 - 487^2$?", "26000"),
    MathProblem(
        "The sum of 27 consecutive positive integers is $3^7$. What is their median?",
        "81",
    ),
)


def load_math500(n: int | None = None) -> list[MathProblem]:
    """The first `n` MATH-500 problems from the Hugging Face Hub (internet)."""
    from datasets import load_dataset

    rows = load_dataset("HuggingFaceH4/MATH-500", split="test")
    if n is not None:
        rows = rows.select(range(min(n, len(rows))))
    return [MathProblem(r["problem"], r["answer"]) for r in rows]


def boxed_answer(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` in `text` (braces balanced)."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i = start + len("\\boxed{")
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j]
    return None  # unbalanced: the answer was cut off


def answer_of(problem: str, steps: Sequence[str]) -> str | None:
    """The boxed final answer of a solution (None when it has none)."""
    return boxed_answer("\n".join(steps))


_DROP = ("\\left", "\\right", "\\!", "\\,", "\\;", "$", " ", "^\\circ", "^{\\circ}")


def normalize(answer: str) -> str:
    """A canonical spelling of a LaTeX answer, for comparison only."""
    text = answer.strip().rstrip(".")
    text = re.sub(r"\\text\{\s*([^}]*)\}", r"\1", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    for piece in _DROP:
        text = text.replace(piece, "")
    text = re.sub(r"(?<![\d.])\.(\d)", r"0.\1", text)  # .5 -> 0.5
    if re.fullmatch(r"-?\d+\.\d*?0+", text):
        text = text.rstrip("0").rstrip(".")  # 2.50 -> 2.5, 3.0 -> 3
    return text


def same_answer(given: str | None, reference: str) -> bool:
    """True when `given` spells the same answer as `reference`."""
    return given is not None and normalize(given) == normalize(reference)
