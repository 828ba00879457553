"""A step generator served over HTTP: any OpenAI-compatible completions server.

When one GPU is not enough, serve the generator with vLLM, TGI or SGLang
(``vllm serve Qwen/Qwen2.5-Math-1.5B-Instruct``) and point the same search at
it: `OpenAIGenerator` is a `StepGenerator` that asks the server's
``/v1/completions`` endpoint for one step per state, stopping at the step
separator. States are sent as concurrent requests (the server batches them
itself), each with its own seed, so that N samples of the same prompt differ
yet reproduce. Only the standard library is used (`urllib`).

When does a solution end? The server stops either at the separator or at the
model's end-of-sequence token, and says only ``finish_reason: "stop"`` for
both. vLLM adds ``stop_reason`` (None for EOS) and SGLang ``matched_stop``
(the EOS id); with either, a step that ended at EOS is `final`. A step cut
by ``max_tokens`` is `final` too (a runaway step, as in `HFGenerator`). For
models that write EOS right *after* a separator (the course's convention),
``peek_eos=True`` samples one more token after each step to see whether it
is EOS. Defined in notebook 07.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

from prm_edu.protocols import GeneratedStep, State, Usage


class ServerError(RuntimeError):
    """The server could not be reached or refused a request."""


def plain_prompt(problem: str, steps: Sequence[str], separator: str = "\n") -> str:
    """The course's text convention: problem and steps, each + separator."""
    return "".join(text + separator for text in [problem, *steps])


class OpenAIGenerator:
    """A `StepGenerator` backed by an OpenAI-compatible completions server.

    `base_url` is the API root (``http://localhost:8000/v1``) and `model` the
    served model's name. `prompt_format(problem, steps) -> str` writes each
    prompt; the default is the course's plain text, and for a chat model
    ``functools.partial(build_prompt, tokenizer, separator="\\n\\n")`` (from
    `prm_edu.adapters.generator`) uses its chat template. `extra_body` is
    merged into every request (e.g. ``{"top_p": 0.95}``). Requests time out
    after `timeout` seconds and are retried `retries` times on connection
    errors and 5xx answers. `usage.tokens` counts the tokens the server
    reports generating; `usage.forward_passes` counts decoding passes as if
    each call's requests ran as one batch (its longest step).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        separator: str = "\n",
        prompt_format: Callable[[str, Sequence[str]], str] | None = None,
        max_step_tokens: int = 256,
        peek_eos: bool = False,
        concurrency: int = 8,
        timeout: float = 60.0,
        retries: int = 2,
        extra_body: dict | None = None,
    ):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {base_url!r} "
                f"(e.g. 'http://localhost:8000/v1')."
            )
        if not separator:
            raise ValueError("separator must be non-empty, e.g. '\\n'.")
        self.url = base_url.rstrip("/") + "/completions"
        self.model = model
        self.api_key = (
            api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        )
        self.separator = separator
        self.prompt_format = prompt_format
        self.max_step_tokens = max_step_tokens
        self.peek_eos = peek_eos
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.extra_body = dict(extra_body or {})
        self.usage = Usage()

    def prompt(self, problem: str, steps: Sequence[str]) -> str:
        """The text the served model continues for this state."""
        if self.prompt_format is not None:
            return self.prompt_format(problem, steps)
        return plain_prompt(problem, steps, self.separator)

    def next_steps(
        self,
        states: Sequence[State],
        *,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> list[GeneratedStep]:
        """The next step for each (problem, steps so far) state."""
        if not (temperature >= 0):  # also refuses NaN
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        prompts = [self.prompt(p, s) for p, s in states]
        seeds = [
            None if seed is None else seed * 100_003 + i for i in range(len(states))
        ]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            steps = list(
                pool.map(lambda a: self._one(*a, temperature), zip(prompts, seeds))
            )
        if steps:
            self.usage.forward_passes += max(s.n_tokens for s in steps)
            self.usage.tokens += sum(s.n_tokens for s in steps)
        return steps

    # -- one state ---------------------------------------------------------

    def _one(self, prompt: str, seed: int | None, temperature: float):
        choice, n_tokens = self._complete(
            prompt, self.max_step_tokens, seed, temperature, stop=[self.separator]
        )
        text = choice.get("text") or ""
        reason = choice.get("finish_reason")
        if reason == "length":
            final = True  # a runaway step: cut here and end
        else:
            final = _ended_at_eos(choice)
            if final is None:  # the server does not say: assume it goes on
                final = False
            if self.peek_eos and not final and text.strip():
                peek, extra = self._complete(
                    prompt + text + self.separator,
                    1,
                    None if seed is None else seed + 1,
                    temperature,
                    stop=None,
                )
                n_tokens += extra
                # No stop strings and one token: "stop" can only mean EOS.
                final = peek.get("finish_reason") == "stop"
        return GeneratedStep(text=text.strip(), n_tokens=n_tokens, final=final)

    def _complete(self, prompt, max_tokens, seed, temperature, stop):
        body = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": max_tokens,
            "temperature": float(temperature),
            "n": 1,
            **self.extra_body,
        }
        if stop:
            body["stop"] = stop
        if seed is not None:
            body["seed"] = seed
        answer = self._post(body)
        choices = answer.get("choices") or []
        if not choices or not isinstance(choices[0], dict):
            raise ServerError(
                f"{self.url} answered without choices: {str(answer)[:200]}"
            )
        tokens = (answer.get("usage") or {}).get("completion_tokens")
        if not isinstance(tokens, int):
            # No usage reported: about one token per four characters.
            tokens = max(1, len(choices[0].get("text") or "") // 4)
        return choices[0], tokens

    def _post(self, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(2.0, 0.2 * 2 ** (attempt - 1)))
            request = urllib.request.Request(self.url, data, headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as reply:
                    return json.loads(reply.read().decode())
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")[:300]
                last = ServerError(
                    f"{self.url} answered HTTP {err.code}: {detail or err.reason}"
                )
                if err.code < 500:
                    raise last from None  # our request is wrong: retrying won't help
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                reason = getattr(err, "reason", err)
                last = ServerError(
                    f"could not reach {self.url} ({reason}): is the server "
                    f"running? e.g. `vllm serve {self.model} --port 8000`."
                )
            except json.JSONDecodeError as err:
                raise ServerError(
                    f"{self.url} did not answer JSON ({err}): is base_url the "
                    f"API root, ending in /v1?"
                ) from None
        raise last


def _ended_at_eos(choice: dict) -> bool | None:
    """True/False when the server says whether EOS stopped it, else None."""
    if choice.get("finish_reason") != "stop":
        return False
    if "stop_reason" in choice:  # vLLM: the matched stop string, None for EOS
        return choice["stop_reason"] is None
    if "matched_stop" in choice:  # SGLang: the EOS id, or the stop string
        return isinstance(choice["matched_stop"], int)
    return None
