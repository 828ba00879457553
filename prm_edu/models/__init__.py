"""The course's small Hugging Face models: tokenizer, PRM / ORM and generator.

- `build_tokenizer`: a word- and number-aware tokenizer, "\\n" one token.
- `new_prm`, `prm_from_generator`, `PRMScorer`: a token-classification PRM
  (or ORM), new or started from a generator's weights, and the scorer that
  reads P(good) at each step's "\\n" (a `StepScorer`).
- `new_generator`, `Generator`: a tiny GPT-2 that writes one step at a time
  (a `StepGenerator`); `sharpen` folds a sampling temperature into it.
- `save_checkpoint`, `load_model`: safetensors folders, checked on load.
- `load_prm(world)`, `load_orm(world)`, `load_generator(world)`: the trained
  checkpoints that ship with the package.

Training lives in `prm_edu.training`.
"""

from prm_edu.models.checkpoints import (
    CheckpointError,
    check_checkpoint,
    load_generator,
    load_model,
    load_orm,
    load_prm,
    read_card,
    save_checkpoint,
    shipped_path,
)
from prm_edu.models.generator import (
    GENERATOR_SHAPE,
    Generator,
    new_generator,
    sharpen,
)
from prm_edu.models.prm import (
    PRM_SHAPE,
    ModelShape,
    PRMScorer,
    new_prm,
    prm_from_generator,
)
from prm_edu.models.surprise import SurprisePRM, surprise_prm_from_generator
from prm_edu.models.tokenizer import (
    STEP_SEPARATOR,
    UnknownCharacterError,
    build_tokenizer,
    model_text,
)

__all__ = [
    "CheckpointError",
    "GENERATOR_SHAPE",
    "Generator",
    "ModelShape",
    "PRMScorer",
    "PRM_SHAPE",
    "STEP_SEPARATOR",
    "SurprisePRM",
    "UnknownCharacterError",
    "build_tokenizer",
    "check_checkpoint",
    "load_generator",
    "load_model",
    "load_orm",
    "load_prm",
    "model_text",
    "new_generator",
    "new_prm",
    "prm_from_generator",
    "read_card",
    "save_checkpoint",
    "sharpen",
    "shipped_path",
    "surprise_prm_from_generator",
]
