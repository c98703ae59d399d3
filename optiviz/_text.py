"""Text forms of runs and surfaces, shared by the command line and the shareable links (``share``).

A run is written ``optimizer:key=value,key=value`` (``adam:lr=0.01,betas=0.9/0.999``,
``sgd:lr=1e-4,momentum=0.9,nesterov=true``; ``none`` where the reference's default is None,
``ademamix:t_alpha_beta3=none``; ``inf`` for infinity, ``prodigy:growth_rate=inf``), with its schedule last as
torch writes the class (``adam:lr=0.1,schedule=CosineAnnealingLR(T_max=500)``;
``optiviz.schedules.parse_schedule``); a surface ``name`` or
``name:key=value`` (``quadratic:kappa=50,angle=30``).
"""

from __future__ import annotations

from typing import Any

from ._engine import RunSpec
from .schedules import format_schedule, parse_schedule

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _parse_value(key: str, text: str, default: Any) -> Any:
    text = text.strip()
    if default is None and text.lower() == "none":  # a number whose reference default is None
        return None
    if isinstance(default, bool):
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"{key} must be true or false, got {text!r}")
    if isinstance(default, tuple):
        parts = text.split("/")
        if len(parts) != len(default):
            raise ValueError(f"{key} must be {len(default)} numbers separated by '/', got {text!r}")
        return tuple(_parse_number(key, p) for p in parts)
    return _parse_number(key, text)


def _parse_number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {text.strip()!r}") from None


def split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets: ``"lr=0.1,schedule=StepLR(step_size=5,gamma=0.5)"`` is
    two items."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def parse_assignments(text: str, defaults: dict[str, Any], owner: str, what: str = "hyperparameter") -> dict[str, Any]:
    """``"a=1,b=2/3"`` -> typed values (types taken from ``defaults``); ``owner`` and ``what`` name them in
    messages ("adam got an unexpected hyperparameter 'foo'")."""
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"{owner}: expected key=value, got {item!r}")
        if key not in defaults:
            raise ValueError(f"{owner} got an unexpected {what} {key!r}; valid: {', '.join(defaults)}")
        values[key] = _parse_value(key, raw, defaults[key])
    return values


def parse_run(text: str) -> RunSpec:
    """``"adam:lr=0.01,betas=0.9/0.999"`` -> ``RunSpec("adam", lr=0.01, betas=(0.9, 0.999))``."""
    from .optimizers import get

    name, _, rest = text.strip().partition(":")
    spec = get(name.strip().lower())
    items = split_top_level(rest)
    schedule = None
    scheduled = [item for item in items if item.strip().startswith("schedule=")]
    if scheduled:
        schedule = parse_schedule(scheduled[-1].strip()[len("schedule="):])
        items = [item for item in items if item not in scheduled]
    return RunSpec(spec.name, schedule=schedule, **parse_assignments(",".join(items), dict(spec.defaults),
                                                                     spec.name))


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "/".join(_format_value(v) for v in value)
    return repr(value)


def format_run(spec: RunSpec, full: bool = False) -> str:
    """The text form of a run: only what differs from torch's defaults unless ``full``."""
    items = spec.hyper if full else spec.changed()
    body = ",".join(f"{k}={_format_value(v)}" for k, v in items.items())
    if spec.schedule is not None:
        body += ("," if body else "") + "schedule=" + format_schedule(spec.schedule)
    return f"{spec.optimizer}:{body}" if body else spec.optimizer


def parse_surface(text: str) -> tuple[str, dict[str, float]]:
    """``"quadratic:kappa=50"`` -> ``("quadratic", {"kappa": 50.0})``."""
    import surfaces

    name, _, rest = text.strip().partition(":")
    name = name.strip().lower()
    if name not in surfaces.names():
        raise ValueError(f"Unknown surface {name!r}; valid surfaces: {', '.join(surfaces.names())}")
    if not rest.strip():
        return name, {}
    if name != "quadratic":
        raise ValueError(f"{name} takes no parameters, got {rest.strip()[:40]!r}")
    return name, parse_assignments(rest, dict(surfaces.QUADRATIC_DEFAULTS), name, what="parameter")
