"""Tiny random models in each published convention, built offline in seconds.

The real PRMs are 7B parameters and live on the Hugging Face Hub. To see how
each convention works, and to test the adapters, we build stand-ins: the
same kind of model (a causal LM, or a 2-label token classifier), the same
special tokens and chat template, a few thousand random parameters, saved
with `save_pretrained` and loaded back with `from_pretrained` exactly like
the real ones. Their scores are meaningless
(random weights); *where* and *how* the scores are read is what they show.

Every stand-in uses a character-level tokenizer (printable ASCII, one token
per character) plus the convention's own tokens, so every step of the way is
easy to print. Defined in notebook 07.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

# Chat templates in the style of each family (Qwen2.5's and Llama 3.1's).
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAMA3_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}"
    "<|end_header_id|>\n\n{{ m['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant"
    "<|end_header_id|>\n\n{% endif %}"
)

# For each convention: the family, the tokens its tokenizer needs, its
# chat template and the class of the head.
SPECS = {
    "math-shepherd": dict(
        family="mistral",
        head="causal-lm",
        words=["ки"],
        specials=dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"),
        add_bos=True,
        template=None,
    ),
    # A Llama body: transformers 5 loads any "qwen2" checkpoint with Qwen's
    # own byte-level tokenizer class, which a character tokenizer is not.
    "qwen-prm": dict(
        family="llama",
        head="token-classification",
        words=[],
        specials=dict(
            eos_token="<|im_end|>",
            pad_token="<|endoftext|>",
            unk_token="<unk>",
            additional_special_tokens=["<|im_start|>", "<extra_0>"],
        ),
        add_bos=False,
        template=QWEN_TEMPLATE,
    ),
    "rlhflow": dict(
        family="llama",
        head="causal-lm",
        words=[],
        specials=dict(
            bos_token="<|begin_of_text|>",
            eos_token="<|eot_id|>",
            unk_token="<unk>",
            additional_special_tokens=["<|start_header_id|>", "<|end_header_id|>"],
        ),
        add_bos=True,
        template=LLAMA3_TEMPLATE,
    ),
    "token-classification": dict(
        family="gpt2",
        head="token-classification",
        words=[],
        specials=dict(
            bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
        ),
        add_bos=False,
        template=None,
    ),
}


def char_tokenizer(
    specials: dict,
    *,
    words: list[str] = (),
    add_bos: bool = False,
    chat_template: str | None = None,
) -> PreTrainedTokenizerFast:
    """A character-level tokenizer over printable ASCII, plus `words` (each
    one token) and the `specials` (Hugging Face's names: ``bos_token``...)."""
    names = [v for k, v in specials.items() if k != "additional_special_tokens"]
    names += list(specials.get("additional_special_tokens", []))
    alphabet = sorted(set(string.printable) - set("\t\r\x0b\x0c"))
    vocab = {tok: i for i, tok in enumerate([*names, *alphabet, *words])}
    core = Tokenizer(models.WordLevel(vocab, unk_token=specials["unk_token"]))
    # One piece per character, so that every character is one token.
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    if add_bos:
        bos = specials["bos_token"]
        core.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, vocab[bos])]
        )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        clean_up_tokenization_spaces=False,
        chat_template=chat_template,
        **specials,
    )
    if words:
        tok.add_tokens(list(words))  # matched whole, before the char split
    return tok


def tiny_config(family: str, tokenizer, **extra):
    """A transformer config a few thousand parameters big, for `family`."""
    from transformers import GPT2Config, LlamaConfig, MistralConfig, Qwen2Config

    ids = dict(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    if family == "gpt2":
        return GPT2Config(
            n_embd=32, n_layer=2, n_head=4, n_positions=1024, **ids, **extra
        )
    shape = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
    )
    config_class = {
        "mistral": MistralConfig,
        "llama": LlamaConfig,
        "qwen2": Qwen2Config,
    }[family]
    return config_class(**shape, **ids, **extra)


def build_standin(convention: str, path, *, seed: int = 0) -> Path:
    """Save a tiny random model in `convention` at `path`; returns the path.

    Load it back with ``load_scorer(path, convention=convention)``.
    """
    from transformers import AutoModelForCausalLM, AutoModelForTokenClassification

    if convention not in SPECS:
        raise ValueError(
            f"no stand-in for convention {convention!r}: pick one of {sorted(SPECS)}."
        )
    spec = SPECS[convention]
    tok = char_tokenizer(
        spec["specials"],
        words=spec["words"],
        add_bos=spec["add_bos"],
        chat_template=spec["template"],
    )
    torch.manual_seed(seed)
    if spec["head"] == "causal-lm":
        config = tiny_config(spec["family"], tok, tie_word_embeddings=False)
        model = AutoModelForCausalLM.from_config(config)
    else:
        config = tiny_config(
            spec["family"],
            tok,
            num_labels=2,
            id2label={0: "bad", 1: "good"},
            label2id={"bad": 0, "good": 1},
        )
        model = AutoModelForTokenClassification.from_config(config)
    return _save(model, tok, path, convention)


def build_standin_generator(path, *, chat: bool = False, seed: int = 0) -> Path:
    """Save a tiny random GPT-2 causal LM at `path` (with a chat template when
    `chat`); load it with ``load_generator(path)``."""
    from transformers import GPT2LMHeadModel

    specials = dict(
        bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    if chat:
        specials["additional_special_tokens"] = ["<|im_start|>"]
        specials["eos_token"] = "<|im_end|>"
    tok = char_tokenizer(specials, chat_template=QWEN_TEMPLATE if chat else None)
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(tiny_config("gpt2", tok))
    return _save(model, tok, path, "generator")


def _save(model, tok, path, convention: str) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)  # safetensors
    tok.save_pretrained(path)
    card = {
        "convention": convention,
        "stand_in": True,
        "note": "random weights: its scores mean nothing; it shows the format.",
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    (path / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    return path
