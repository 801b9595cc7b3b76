"""What the console holds while the app runs (built in the app's lifespan, after the services)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from serving.console import people as people_mod
from serving.console.modelinfo import FactsCache, ModelFacts
from serving.console.sessions import SessionStore
from serving.registry import ModelNotLoaded

log = logging.getLogger("talentloop.serving")
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass
class Console:
    sessions: SessionStore
    people: people_mod.People
    facts: FactsCache
    templates: jinja2.Environment

    def model_facts(self, svc: Any) -> tuple[ModelFacts | None, str | None]:
        """Facts of the attrition champion in use, or (None, why it is not loaded)."""
        try:
            loaded = svc.registry.get("attrition")
        except ModelNotLoaded as exc:
            return None, str(exc)
        return self.facts.get(loaded), None


def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["dict_merge"] = lambda a, b: {**a, **b}
    return env


def build_or_report(svc: Any) -> Console | None:
    """:func:`build`, or None when the workspace cannot support the console yet (the API still serves; the
    console's pages answer 503 and the log names the reason)."""
    try:
        return build(svc)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        log.warning("the console is not available: %s", exc)
        return None


def build(svc: Any) -> Console:
    """Read the people lookup and the champion's facts (slow: a second or two on the demo company)."""
    console = Console(SessionStore(svc.db, svc.tree, svc.db_lock), people_mod.load(svc.settings),
                      FactsCache(svc.settings.tracking_uri), environment())
    console.model_facts(svc)  # warm: reads the champion's run and backtest units once
    return console
