"""The built-in learned difficulty estimator, ``lexical``: text features, a linear model, a calibration.

It answers the spec's question (6.2), the probability that the cheapest tier's answer would be
worse than the strongest tier's, from the newest text alone, in pure Python, in tens of
microseconds. The weights come from ``bench/train_estimator.py`` and live in
``data/lexical-v1.json`` with the sources and licences of the data they were learned from.

What it reads, in order:

1. the text's features (:mod:`.features`) through a linear ranker: the log-odds of the strong
   model doing better. A weights file may carry a second, structural-only ranker for open prompts
   (no lettered options), ``open_ranker``; the shipped file does not (``docs/difficulty.md`` says
   why), and then every prompt goes to the one ranker;
2. a calibration per question shape (multiple choice or open) that maps that score to a
   probability, fitted on held-out scores;
3. offsets in log-odds for the role and a pending tool result. These are *priors set by hand*, not
   learned: no public data labels requests with roles, so the file states them as such. A custom
   role gets no offset, and the text decides alone;
4. the agent cues of the turn (:mod:`rolemodel_router.engine.agent_cues`: failing tests, stack
   traces, errors, diffs, earlier failures), also hand-set, when the request carries its messages.

The text is the user's new words only (:mod:`rolemodel_router.engine.turn_signals`), never the
system prompt or the tool definitions. The task name is not used: there is no evidence to weigh it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rolemodel_router.engine.agent_cues import agent_offsets, logistic
from rolemodel_router.engine.difficulty import DifficultyQuery
from rolemodel_router.estimators.features import FEATURE_SET, STRUCTURAL_NAMES, TextFeatures, extract

WEIGHTS_FILE = "lexical-v1.json"
_MULTIPLE_CHOICE = STRUCTURAL_NAMES.index("multiple_choice")


class WeightsFileError(ValueError):
    """A weights file that does not match this code (another feature set, a missing field)."""


@dataclass(frozen=True)
class LexicalModel:
    """The parsed weights file; shared by every estimator instance, since it never changes."""

    name: str
    version: str
    bias: float
    structural: tuple[float, ...]  # aligned with STRUCTURAL_NAMES
    words: Mapping[str, float]
    #: The open prompts' ranker, (bias, weights aligned with STRUCTURAL_NAMES), if the file has one.
    open_ranker: tuple[float, tuple[float, ...]] | None
    choice_calibration: tuple[float, float]  # (slope, intercept)
    open_calibration: tuple[float, float]
    role_offsets: Mapping[str, float]
    tool_call_pending_offset: float


def _pair(table: Mapping[str, Any], key: str) -> tuple[float, float]:
    entry = table[key]
    return float(entry["slope"]), float(entry["intercept"])


def parse_model(document: Mapping[str, Any]) -> LexicalModel:
    """Check and convert a weights document; raises :class:`WeightsFileError` on any mismatch."""
    try:
        if document["feature_set"] != FEATURE_SET:
            raise WeightsFileError(
                f"weights were trained on feature set {document['feature_set']!r}, this code extracts {FEATURE_SET!r}"
            )
        structural = document["structural"]
        if set(structural) != set(STRUCTURAL_NAMES):
            raise WeightsFileError("the weights' structural features differ from the extractor's")
        if document["word_scale"] != "inverse_sqrt_distinct_words":
            raise WeightsFileError(f"unknown word scale {document['word_scale']!r}")
        priors = document["priors"]
        open_ranker = document.get("open_ranker")
        if open_ranker is not None and set(open_ranker["structural"]) != set(STRUCTURAL_NAMES):
            raise WeightsFileError("the open ranker's structural features differ from the extractor's")
        return LexicalModel(
            name=str(document["name"]),
            version=str(document["version"]),
            bias=float(document["bias"]),
            structural=tuple(float(structural[name]) for name in STRUCTURAL_NAMES),
            words={str(word): float(weight) for word, weight in document["words"].items()},
            open_ranker=None
            if open_ranker is None
            else (
                float(open_ranker["bias"]),
                tuple(float(open_ranker["structural"][name]) for name in STRUCTURAL_NAMES),
            ),
            choice_calibration=_pair(document["calibration"], "choice"),
            open_calibration=_pair(document["calibration"], "open"),
            role_offsets={str(role): float(offset) for role, offset in priors["role_offsets"].items()},
            tool_call_pending_offset=float(priors["tool_call_pending_offset"]),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise WeightsFileError(f"malformed weights document: {error!r}") from error


@cache
def packaged_model() -> LexicalModel:
    """The weights shipped in the package, read once per process."""
    text = resources.files("rolemodel_router.estimators").joinpath("data", WEIGHTS_FILE).read_text("utf-8")
    return parse_model(json.loads(text))


class LexicalEstimator:
    """The learned estimator. Deterministic: the same query always gets the same score."""

    def __init__(self, model: LexicalModel | None = None) -> None:
        self._model = model if model is not None else packaged_model()
        self.name = self._model.name
        self.version = self._model.version
        self._word_keys = self._model.words.keys()

    def score(self, text: str) -> float:
        """The raw score of ``text`` by the ranker of its shape: higher means the strong model gains more."""
        return self._raw(extract(text))

    def _raw(self, features: TextFeatures) -> float:
        model = self._model
        if model.open_ranker is not None and features.structural[_MULTIPLE_CHOICE] == 0:
            open_bias, open_weights = model.open_ranker
            return open_bias + sum(w * v for w, v in zip(open_weights, features.structural, strict=True))
        z = model.bias + sum(w * v for w, v in zip(model.structural, features.structural, strict=True))
        if features.words:
            weights = model.words
            z += sum(weights[word] for word in self._word_keys & features.words) / math.sqrt(len(features.words))
        return z

    def explain(self, query: DifficultyQuery) -> Sequence[tuple[str, float]]:
        """Each part of the estimate, by name, in log-odds: the calibrated text score, then the priors."""
        model = self._model
        features = extract(query.text)
        multiple_choice = features.structural[_MULTIPLE_CHOICE] > 0
        slope, intercept = model.choice_calibration if multiple_choice else model.open_calibration
        found = [("text", slope * self._raw(features) + intercept)]
        role_offset = model.role_offsets.get(query.role, 0.0)
        if role_offset:
            found.append(("role_prior", role_offset))
        if query.tool_call_pending:
            found.append(("tool_call_pending", model.tool_call_pending_offset))
        if query.turn is not None:
            found += agent_offsets(query.turn)
        return found

    def estimate(self, query: DifficultyQuery) -> float:
        return logistic(sum(value for _, value in self.explain(query)))
