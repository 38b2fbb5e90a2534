"""Urgent triage: rules from knowledge/danger.yaml plus a model learned from example messages.

Modules, one job each: `schema` (the danger file), `words` and `phrases` (matching), `cues`
(what cancels or qualifies a hit), `plan` (the danger file compiled), `rules` (the rule triage),
`safety_net` (unlisted wordings), `category` (which category answers), `model` (the learned
layer), `markers` (what the model reads), `tiers` (urgent / check / none, the API the
responder uses).
"""

from bot.core.triage.markers import ModelText
from bot.core.triage.model import (
    ExampleSet,
    Tier,
    TrainingData,
    TriageModel,
    trained_model,
    training_data,
)
from bot.core.triage.result import Speaker, UrgentMatch
from bot.core.triage.rules import Triage
from bot.core.triage.schema import Category, DangerFile, Examples, Precedence, SafetyNet
from bot.core.triage.tiers import Tiering
from bot.core.triage.words import expand_sets

__all__ = [
    "Category",
    "DangerFile",
    "ExampleSet",
    "Examples",
    "ModelText",
    "Precedence",
    "SafetyNet",
    "Speaker",
    "Tier",
    "Tiering",
    "TrainingData",
    "Triage",
    "TriageModel",
    "UrgentMatch",
    "expand_sets",
    "trained_model",
    "training_data",
]
