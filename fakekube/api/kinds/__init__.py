"""Per-kind API behaviour: defaulting, kind-specific create/update strategy, and validation.

Each group module (``core``, ``apps``, ``storage``, ``networking``...) declares a
``STRATEGIES`` dict mapping a Kind name to a :class:`Strategy`. The API layer runs, for every
write, in this order (upstream's registry flow, ``k8s.io/apiserver/pkg/registry/rest``):

    decode (typed copy) -> default -> prepare_for_create / prepare_for_update
    -> validate / validate_update (or validate_status_update for /status writes) -> store

The generic parts (system metadata, status/spec split of the status subresource, generation)
are the API layer's; a Strategy holds only what is particular to its kind. Every function
works on the private copy the API layer decoded, so it may change it in place; ``old`` objects
are stored state and must never be changed.
"""

from __future__ import annotations

from typing import Callable, Mapping

import attrs

from ...errors import FieldError

Gates = Mapping[str, bool]
Defaulter = Callable[[dict], None]
CreateHook = Callable[[dict, Gates], None]
UpdateHook = Callable[[dict, dict, Gates], None]
Validator = Callable[[dict, Gates], "list[FieldError]"]
UpdateValidator = Callable[[dict, dict, Gates], "list[FieldError]"]


def _no_errors(*_args) -> list:
    return []


@attrs.frozen
class Strategy:
    """What is particular to one kind.

    - ``default(obj)``: upstream's ``SetDefaults_<Kind>`` (and of everything it contains).
    - ``prepare_for_create(obj, gates)``: the kind's ``PrepareForCreate`` beyond the generic
      parts, e.g. a Pod's initial ``status.phase``/``qosClass``, dropping fields of disabled
      feature gates.
    - ``prepare_for_update(new, old, gates)``: the kind's ``PrepareForUpdate`` beyond the
      generic parts.
    - ``validate(obj, gates)``: ``Validate<Kind>`` on create, including ObjectMeta.
    - ``validate_update(new, old, gates)``: ``Validate<Kind>Update`` (immutable fields...),
      including ObjectMeta update rules.
    - ``validate_status_update(new, old, gates)``: ``Validate<Kind>StatusUpdate``.
    """

    default: Defaulter | None = None
    prepare_for_create: CreateHook | None = None
    prepare_for_update: UpdateHook | None = None
    validate: Validator = _no_errors
    validate_update: UpdateValidator = _no_errors
    validate_status_update: UpdateValidator = _no_errors


def strategies() -> dict[str, Strategy]:
    """Every kind's Strategy, by Kind name."""
    table: dict[str, Strategy] = {}
    from . import apps, core, other, storage  # noqa: PLC0415 - assembled on first use

    for module in (core, apps, storage, other):
        table.update(module.STRATEGIES)
    return table
