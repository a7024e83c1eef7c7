"""Label selectors and field selectors: parsing, matching, canonical strings and validation.

This module owns the two selector languages of the API:

- label selectors, from a ``labelSelector`` query string (``parse_label_selector``), from a
  ``metav1.LabelSelector`` dict (``label_selector_from_dict``) or from a plain label map
  (``label_selector_from_set``), plus the validation of a ``metav1.LabelSelector`` field
  (``validate_label_selector``);
- field selectors, from a ``fieldSelector`` query string (``parse_field_selector``).

Which field names a kind supports is the registry's business; this module only parses and
matches, and offers the two upstream texts for an unsupported field.

Behaviour and message texts follow Kubernetes v1.31:

- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/labels/selector.go``
  (lexer, parser, ``NewRequirement``, ``Requirement.Matches``, ``String``);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go``
  (``LabelSelectorAsSelector``: nil selects nothing, empty selects everything);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/``
  ``validation.go`` (``ValidateLabelSelector``);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/fields/selector.go``
  (``ParseSelector``, ``splitTerms``, ``UnescapeValue``, ``EscapeValue``);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/runtime/conversion.go`` and
  ``pkg/apis/core/v1/conversion.go`` (texts for unsupported field labels).

The API server answers a ``labelSelector`` or ``fieldSelector`` it cannot parse with a 400
BadRequest whose message is exactly the parse error (``SelectorError.message``), e.g.
``unable to parse requirement: <nil>: Invalid value: "a b": name part must consist of ...``.

Selectors are immutable and hashable, and parsed selectors are cached by their text, so the
same query string is parsed once. ``matches`` is compiled per selector into a few flat loops,
since it runs on every object of a list and every watch event.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping

from fakekube.api.names import is_qualified_name, is_valid_label_value
from fakekube.errors import BadRequest, FieldError, aggregate, go_value

__all__ = [
    "SelectorError", "LabelSelector", "FieldSelector", "EVERYTHING", "NOTHING",
    "FIELDS_EVERYTHING", "parse_label_selector", "label_selector_from_dict",
    "label_selector_from_set", "validate_label_selector", "parse_field_selector",
    "escape_field_value", "unescape_field_value", "UNSUPPORTED_FIELD_MESSAGE",
    "unsupported_field_label_message", "unknown_field_selector_message",
    "IN", "NOT_IN", "EQUALS", "DOUBLE_EQUALS", "NOT_EQUALS", "EXISTS", "DOES_NOT_EXIST",
    "GREATER_THAN", "LESS_THAN",
]


class SelectorError(ValueError):
    """A selector that cannot be parsed or built. ``message`` (also ``str(err)``) is the text
    the API server puts in its 400 BadRequest."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def as_api_error(self) -> BadRequest:
        """The ``metav1.Status`` error the API server answers with (``NewBadRequest``)."""
        return BadRequest(self.message)


# --------------------------------------------------------------------------------------------
# Label selector operators (k8s.io/apimachinery/pkg/selection)

IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_ALL_OPERATORS = _BINARY_OPERATORS + (EXISTS, DOES_NOT_EXIST)
_EXPECTED_OPERATOR = ", ".join(_BINARY_OPERATORS)

# metav1.LabelSelectorOperator -> selection.Operator
_LABEL_SELECTOR_OPS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}

_INT64 = re.compile(r"[+-]?[0-9]+", re.ASCII)


def _parse_int64(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 10, 64)``: an optional sign and decimal digits."""
    if not _INT64.fullmatch(text):
        return None
    n = int(text)
    return n if -(1 << 63) <= n < (1 << 63) else None


def _go_strings(values: tuple[str, ...], nil_if_empty: bool) -> str:
    """``%#v`` of a ``[]string``."""
    if not values and nil_if_empty:
        return "[]string(nil)"
    return go_value(list(values))


def _requirement_errors(key: str, op: str, values: tuple[str, ...],
                        nil_if_empty: bool = False) -> list[str]:
    """``labels.NewRequirement``'s checks, as rendered field errors (path relative to the
    requirement: ``key``, ``values``, ``values[i]``, ``values[i][<key>]``)."""
    errs: list[str] = []
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(FieldError.invalid("key", key, "; ".join(key_errs)).message())
    if op == IN or op == NOT_IN:
        if not values:
            errs.append(f"values: Invalid value: {_go_strings(values, nil_if_empty)}: "
                        "for 'in', 'notin' operators, values set can't be empty")
    elif op == EQUALS or op == DOUBLE_EQUALS or op == NOT_EQUALS:
        if len(values) != 1:
            errs.append(f"values: Invalid value: {_go_strings(values, nil_if_empty)}: "
                        "exact-match compatibility requires one single value")
    elif op == EXISTS or op == DOES_NOT_EXIST:
        if values:
            errs.append(f"values: Invalid value: {_go_strings(values, nil_if_empty)}: "
                        "values set must be empty for exists and does not exist")
    elif op == GREATER_THAN or op == LESS_THAN:
        if len(values) != 1:
            errs.append(f"values: Invalid value: {_go_strings(values, nil_if_empty)}: "
                        "for 'Gt', 'Lt' operators, exactly one value is required")
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(FieldError.invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, "
                                               "the value must be an integer").message())
    else:
        errs.append(FieldError.not_supported("operator", op, _ALL_OPERATORS).message())
    for i, v in enumerate(values):
        value_errs = is_valid_label_value(v)
        if value_errs:
            errs.append(FieldError.invalid(f"values[{i}][{key}]", v,
                                           "; ".join(value_errs)).message())
    return errs


def _requirement_text(key: str, op: str, values: tuple[str, ...]) -> str:
    """``Requirement.String``: values are printed sorted, set operators in parentheses."""
    if op == DOES_NOT_EXIST:
        return "!" + key
    if op == EXISTS:
        return key
    shown = values[0] if len(values) == 1 else ",".join(sorted(values))
    if op == IN:
        return f"{key} in ({shown})"
    if op == NOT_IN:
        return f"{key} notin ({shown})"
    symbol = {EQUALS: "=", DOUBLE_EQUALS: "==", NOT_EQUALS: "!=", GREATER_THAN: ">",
              LESS_THAN: "<"}.get(op, "")
    return f"{key}{symbol}{shown}"


# --------------------------------------------------------------------------------------------
# Matching


def _match_all(labels: Mapping[str, str]) -> bool:
    return True


def _match_none(labels: Mapping[str, str]) -> bool:
    return False


def _compile_matcher(requirements: tuple[tuple[str, str, tuple[str, ...]], ...]
                     ) -> Callable[[Mapping[str, str]], bool]:
    """One function that checks every requirement (``Requirement.Matches``), grouped by kind
    so that each group is a flat loop. A missing label fails ``=``/``in``/``exists``/``gt``/
    ``lt`` and passes ``!=``/``notin``/``!``."""
    equal: list[tuple[str, str]] = []
    member: list[tuple[str, frozenset[str]]] = []
    unequal: list[tuple[str, str]] = []
    nonmember: list[tuple[str, frozenset[str]]] = []
    present: list[str] = []
    absent: list[str] = []
    numeric: list[tuple[str, bool, int]] = []
    for key, op, values in requirements:
        if op == EQUALS or op == DOUBLE_EQUALS or op == IN:
            if len(values) == 1:
                equal.append((key, values[0]))
            else:
                member.append((key, frozenset(values)))
        elif op == NOT_EQUALS or op == NOT_IN:
            if len(values) == 1:
                unequal.append((key, values[0]))
            else:
                nonmember.append((key, frozenset(values)))
        elif op == EXISTS:
            present.append(key)
        elif op == DOES_NOT_EXIST:
            absent.append(key)
        elif op == GREATER_THAN or op == LESS_THAN:
            bound = _parse_int64(values[0]) if len(values) == 1 else None
            if bound is None:
                return _match_none
            numeric.append((key, op == GREATER_THAN, bound))
        else:
            return _match_none
    if not (member or unequal or nonmember or present or absent or numeric):
        if not equal:
            return _match_all
        if len(equal) == 1:
            (only_key, only_value), = equal

            def match_one(labels: Mapping[str, str]) -> bool:
                return labels.get(only_key) == only_value
            return match_one

        equal_t = tuple(equal)

        def match_equal(labels: Mapping[str, str]) -> bool:
            get = labels.get
            for k, v in equal_t:
                if get(k) != v:
                    return False
            return True
        return match_equal

    eq_t, in_t, ne_t, nin_t = tuple(equal), tuple(member), tuple(unequal), tuple(nonmember)
    has_t, hasnt_t, num_t = tuple(present), tuple(absent), tuple(numeric)

    def match(labels: Mapping[str, str]) -> bool:
        get = labels.get
        for k, v in eq_t:
            if get(k) != v:
                return False
        for k, s in in_t:
            if get(k) not in s:
                return False
        for k, v in ne_t:
            if get(k) == v:
                return False
        for k, s in nin_t:
            if get(k) in s:
                return False
        for k in has_t:
            if k not in labels:
                return False
        for k in hasnt_t:
            if k in labels:
                return False
        for k, greater, bound in num_t:
            raw = get(k)
            n = _parse_int64(raw) if isinstance(raw, str) else None
            if n is None or (n <= bound if greater else n >= bound):
                return False
        return True
    return match


_NO_LABELS: Mapping[str, str] = {}


class LabelSelector:
    """A parsed label selector (``labels.Selector``). Immutable and hashable.

    ``requirements`` is a tuple of ``(key, operator, values)`` sorted by key, with operators
    spelled as upstream's ``selection.Operator`` (``=``, ``==``, ``!=``, ``in``, ``notin``,
    ``exists``, ``!``, ``gt``, ``lt``) and ``values`` a tuple of strings. ``nothing`` marks
    the selector of a nil ``metav1.LabelSelector``, which matches no object at all.

    Two selectors are equal when they have the same requirements up to the order and
    repetition of each requirement's values. The constructor does not validate; use the
    module's parse and build functions.
    """

    __slots__ = ("requirements", "nothing", "_match", "_index", "_text", "_key", "_hash")

    requirements: tuple[tuple[str, str, tuple[str, ...]], ...]
    nothing: bool

    def __init__(self, requirements: Iterable[tuple[str, str, Iterable[str]]] = (), *,
                 nothing: bool = False) -> None:
        reqs = tuple(sorted(((k, op, tuple(vs)) for k, op, vs in requirements),
                            key=itemgetter(0)))
        if nothing:
            reqs = ()
        init = object.__setattr__
        init(self, "requirements", reqs)
        init(self, "nothing", nothing)
        init(self, "_match", _match_none if nothing else _compile_matcher(reqs))
        init(self, "_index", tuple(
            (k, frozenset(vs)) for k, op, vs in reqs if op in (EQUALS, DOUBLE_EQUALS, IN)))
        init(self, "_text", ",".join(_requirement_text(*r) for r in reqs))
        key = (nothing, tuple((k, op, tuple(sorted(set(vs)))) for k, op, vs in reqs))
        init(self, "_key", key)
        init(self, "_hash", hash(key))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("LabelSelector is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("LabelSelector is immutable")

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with these labels is selected (``None`` = no labels)."""
        return self._match(labels if labels is not None else _NO_LABELS)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (matches every object)."""
        return not self.requirements and not self.nothing

    def index_terms(self) -> list[tuple[str, frozenset[str]]]:
        """The requirements a label index can answer: ``(key, values)`` for every ``=``,
        ``==`` and ``in`` requirement. An object can match only if, for each term, its label
        ``key`` has one of ``values``; the caller still runs ``matches`` on the candidates."""
        return list(self._index)

    def requires_exact_match(self, key: str) -> str | None:
        """``RequiresExactMatch``: the single value the first requirement on ``key`` demands
        (``=``, ``==``, or ``in`` with one value), else None."""
        for k, op, values in self.requirements:
            if k == key:
                if op in (EQUALS, DOUBLE_EQUALS, IN) and len(values) == 1:
                    return values[0]
                return None
        return None

    def __str__(self) -> str:
        """``Selector.String()``: the canonical form, e.g. ``app=nginx,tier in (a,b)``."""
        return self._text

    def __repr__(self) -> str:
        if self.nothing:
            return "LabelSelector(<nothing>)"
        return f"LabelSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelSelector):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __copy__(self) -> LabelSelector:
        return self

    def __deepcopy__(self, memo: dict) -> LabelSelector:
        return self

    def __reduce__(self) -> tuple:
        if self.nothing:
            return (_nothing, ())
        return (LabelSelector, (self.requirements,))


def _nothing() -> LabelSelector:
    return NOTHING


EVERYTHING = LabelSelector()
NOTHING = LabelSelector(nothing=True)


# --------------------------------------------------------------------------------------------
# The label selector language (labels.Parse)

(_EOS, _CLOSE_PAREN, _COMMA, _NOT, _DOUBLE_EQUALS, _EQUALS, _GREATER, _IDENT, _IN, _LESS,
 _NOT_EQUALS, _NOT_IN, _OPEN_PAREN) = range(13)

_SYMBOL_TOKENS = {")": _CLOSE_PAREN, ",": _COMMA, "!": _NOT, "==": _DOUBLE_EQUALS, "=": _EQUALS,
                  ">": _GREATER, "<": _LESS, "!=": _NOT_EQUALS, "(": _OPEN_PAREN}
_KEYWORDS = {"in": _IN, "notin": _NOT_IN}
_SPECIAL = frozenset("=!(),<>")
_WHITESPACE = frozenset(" \t\r\n")
_IDENTIFIER = re.compile(r"[^=!(),<> \t\r\n\x00]+")
_OPERATOR_TOKENS = {_IN: IN, _NOT_IN: NOT_IN, _EQUALS: EQUALS, _DOUBLE_EQUALS: DOUBLE_EQUALS,
                    _NOT_EQUALS: NOT_EQUALS, _GREATER: GREATER_THAN, _LESS: LESS_THAN}


def _lex(text: str) -> list[tuple[int, str]]:
    """Upstream's ``Lexer``: identifiers run up to whitespace or a special character; the
    specials are ``= ! ( ) , > <`` with ``!=`` and ``==`` as two-character tokens; ``in`` and
    ``notin`` are keywords. A NUL character ends the input where a token would start and is
    otherwise swallowed after a token, as Go's byte reader treats it as end of string."""
    tokens: list[tuple[int, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n or text[i] == "\x00":
            tokens.append((_EOS, ""))
            return tokens
        if text[i] in _SPECIAL:
            pair = text[i:i + 2]
            literal = pair if pair == "!=" or pair == "==" else text[i]
            tokens.append((_SYMBOL_TOKENS[literal], literal))
            i += len(literal)
        else:
            m = _IDENTIFIER.match(text, i)
            literal = m.group()
            tokens.append((_KEYWORDS.get(literal, _IDENT), literal))
            i = m.end()
        if i < n and text[i] == "\x00":
            i += 1


class _RequirementSyntaxError(Exception):
    """A problem inside one requirement; reported as ``unable to parse requirement: ...``."""


class _Parser:
    """Upstream's recursive-descent ``Parser``, with the same error texts. In a value
    position the keywords ``in``/``notin`` count as identifiers (``x in (in)`` is valid)."""

    __slots__ = ("tokens", "pos")

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, value_context: bool = True) -> tuple[int, str]:
        tok, lit = self.tokens[self.pos]
        if value_context and (tok == _IN or tok == _NOT_IN):
            tok = _IDENT
        return tok, lit

    def take(self, value_context: bool = True) -> tuple[int, str]:
        token = self.peek(value_context)
        self.pos += 1
        return token

    def parse(self) -> list[tuple[str, str, tuple[str, ...]]]:
        requirements = []
        while True:
            tok, lit = self.peek()
            if tok == _IDENT or tok == _NOT:
                try:
                    requirements.append(self.requirement())
                except _RequirementSyntaxError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                tok, lit = self.take()
                if tok == _EOS:
                    return requirements
                if tok != _COMMA:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
                tok, lit = self.peek()
                if tok != _IDENT and tok != _NOT:
                    raise SelectorError(f"found '{lit}', expected: identifier after ','")
            elif tok == _EOS:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> tuple[str, str, tuple[str, ...]]:
        op = ""
        tok, key = self.take()
        if tok == _NOT:
            op = DOES_NOT_EXIST
            tok, key = self.take()
        if tok != _IDENT:
            raise _RequirementSyntaxError(f"found '{key}', expected: identifier")
        key_errs = is_qualified_name(key)
        if key_errs:
            raise _RequirementSyntaxError(
                FieldError.invalid("<nil>", key, "; ".join(key_errs)).message())
        tok, _ = self.peek()
        if (tok == _EOS or tok == _COMMA) and op != DOES_NOT_EXIST:
            op = EXISTS
        if op == EXISTS or op == DOES_NOT_EXIST:
            return key, op, ()
        tok, lit = self.take(value_context=False)
        op = _OPERATOR_TOKENS.get(tok, "")
        if not op:
            raise _RequirementSyntaxError(f"found '{lit}', expected: {_EXPECTED_OPERATOR}")
        values = tuple(sorted(self.value_set() if op == IN or op == NOT_IN
                              else self.exact_value()))
        errs = _requirement_errors(key, op, values)
        if errs:
            raise _RequirementSyntaxError(aggregate(errs))
        return key, op, values

    def value_set(self) -> set[str]:
        tok, lit = self.take()
        if tok != _OPEN_PAREN:
            raise _RequirementSyntaxError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == _IDENT or tok == _COMMA:
            values = self.identifier_list()
            self.take()  # the ')' that identifier_list saw
            return values
        if tok == _CLOSE_PAREN:
            self.take()
            return {""}
        raise _RequirementSyntaxError(f"found '{lit}', expected: ',', ')' or identifier")

    def identifier_list(self) -> set[str]:
        """Comma-separated, possibly empty values: ``(a,,b)`` and ``(,a)`` include ``""``."""
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == _IDENT:
                values.add(lit)
                tok, lit = self.peek()
                if tok == _CLOSE_PAREN:
                    return values
                if tok != _COMMA:
                    raise _RequirementSyntaxError(f"found '{lit}', expected: ',' or ')'")
            elif tok == _COMMA:
                if not values:
                    values.add("")
                tok, _ = self.peek()
                if tok == _CLOSE_PAREN:
                    values.add("")
                    return values
                if tok == _COMMA:
                    values.add("")
            else:
                raise _RequirementSyntaxError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        tok, _ = self.peek()
        if tok == _EOS or tok == _COMMA:
            return {""}
        tok, lit = self.take()
        if tok == _IDENT:
            return {lit}
        raise _RequirementSyntaxError(f"found '{lit}', expected: identifier")


@lru_cache(maxsize=4096)
def _parse_label_selector(text: str) -> LabelSelector:
    requirements = _Parser(text).parse()
    return LabelSelector(requirements) if requirements else EVERYTHING


def parse_label_selector(text: str | None) -> LabelSelector:
    """``labels.Parse``: the ``labelSelector`` query parameter language.

    ``key``, ``!key``, ``key=value``, ``key==value``, ``key!=value``, ``key in (a,b)``,
    ``key notin (a,b)``, ``key>5``, ``key<5``, joined by commas; whitespace between tokens is
    ignored. An empty (or None) text selects everything. Raises ``SelectorError`` with the
    API server's 400 message on bad syntax or an invalid key or value.
    """
    if not text:
        return EVERYTHING
    return _parse_label_selector(text)


_FROM_DICT_CACHE: dict[tuple, LabelSelector] = {}
_FROM_DICT_CACHE_SIZE = 1024


def label_selector_from_dict(selector: Mapping[str, Any] | None) -> LabelSelector:
    """``metav1.LabelSelectorAsSelector``: a ``{matchLabels, matchExpressions}`` dict.

    ``None`` selects nothing (``NOTHING``); a selector with neither part selects everything.
    ``matchLabels`` become ``=`` requirements; expression operators ``In``, ``NotIn``,
    ``Exists``, ``DoesNotExist`` become ``in``, ``notin``, ``exists``, ``!``. The first bad
    requirement raises ``SelectorError`` with upstream's message, e.g.
    ``"Foo" is not a valid pod selector operator`` or
    ``values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be
    empty``.
    """
    if selector is None:
        return NOTHING
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or ()
    if not match_labels and not expressions:
        return EVERYTHING
    try:
        cache_key = (tuple(match_labels.items()) if match_labels else (),
                     tuple([(e.get("key"), e.get("operator"), tuple(e.get("values") or ()))
                            for e in expressions]) if expressions else ())
        cached = _FROM_DICT_CACHE.get(cache_key)
    except (TypeError, AttributeError):
        cache_key, cached = None, None
    if cached is not None:
        return cached
    built = _build_from_dict(match_labels, expressions)
    if cache_key is not None:
        if len(_FROM_DICT_CACHE) >= _FROM_DICT_CACHE_SIZE:
            try:  # drop the oldest entry; another thread may have done it already
                del _FROM_DICT_CACHE[next(iter(_FROM_DICT_CACHE))]
            except (KeyError, RuntimeError, StopIteration):
                pass
        _FROM_DICT_CACHE[cache_key] = built
    return built


def _build_from_dict(match_labels: Mapping[str, Any], expressions: Iterable[Any]) -> LabelSelector:
    requirements: list[tuple[str, str, tuple[str, ...]]] = []
    for key, value in match_labels.items():
        values = (value,)
        errs = _requirement_errors(key, EQUALS, values)
        if errs:
            raise SelectorError(aggregate(errs))
        requirements.append((key, EQUALS, values))
    for expr in expressions:
        if not isinstance(expr, Mapping):
            raise SelectorError('"" is not a valid pod selector operator')
        operator = expr.get("operator") or ""
        op = _LABEL_SELECTOR_OPS.get(operator)
        if op is None:
            shown = go_value(operator) if isinstance(operator, str) else '""'
            raise SelectorError(f"{shown} is not a valid pod selector operator")
        key = expr.get("key") or ""
        values = tuple(expr.get("values") or ())
        errs = _requirement_errors(key, op, values, nil_if_empty=True)
        if errs:
            raise SelectorError(aggregate(errs))
        requirements.append((key, op, values))
    return LabelSelector(requirements)


def label_selector_from_set(labels: Mapping[str, str] | None, *,
                            validate: bool = False) -> LabelSelector:
    """``labels.SelectorFromSet`` (or ``ValidatedSelectorFromSet`` with ``validate=True``): a
    plain label map such as a Service's ``spec.selector``; empty or None selects everything."""
    if not labels:
        return EVERYTHING
    if validate:
        for key, value in labels.items():
            errs = _requirement_errors(key, EQUALS, (value,))
            if errs:
                raise SelectorError(aggregate(errs))
    return LabelSelector((k, EQUALS, (v,)) for k, v in labels.items())


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate_label_selector(selector: Mapping[str, Any] | None, path: str, *,
                            allow_invalid_label_value: bool = False) -> list[FieldError]:
    """``ValidateLabelSelector`` for a ``metav1.LabelSelector`` field at ``path`` (e.g.
    ``spec.selector``). ``allow_invalid_label_value`` is upstream's
    ``AllowInvalidLabelValueInSelector`` (set on update when the old object already had one).
    """
    if not isinstance(selector, Mapping):
        return []
    errs: list[FieldError] = []
    labels_path = _child(path, "matchLabels")
    for key, value in (selector.get("matchLabels") or {}).items():
        errs.extend(FieldError.invalid(labels_path, key, m) for m in is_qualified_name(key))
        errs.extend(FieldError.invalid(labels_path, value, m) for m in is_valid_label_value(value))
    for i, expr in enumerate(selector.get("matchExpressions") or ()):
        expr_path = f"{_child(path, 'matchExpressions')}[{i}]"
        if not isinstance(expr, Mapping):
            expr = {}
        operator = expr.get("operator") or ""
        values = expr.get("values") or ()
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(FieldError.required(
                    expr_path + ".values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(FieldError.forbidden(
                    expr_path + ".values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(FieldError.invalid(expr_path + ".operator", operator,
                                           "not a valid selector operator"))
        key = expr.get("key") or ""
        errs.extend(FieldError.invalid(expr_path + ".key", key, m) for m in is_qualified_name(key))
        if not allow_invalid_label_value:
            for j, value in enumerate(values):
                errs.extend(FieldError.invalid(f"{expr_path}.values[{j}]", value, m)
                            for m in is_valid_label_value(value))
    return errs


# --------------------------------------------------------------------------------------------
# Field selectors (fields.ParseSelector)

UNSUPPORTED_FIELD_MESSAGE = "field label not supported: {}"


def unsupported_field_label_message(field: str) -> str:
    """The text of a kind with its own field label conversion (e.g. core/v1 Pod, Node,
    ReplicationController, Event, Namespace, Secret, Service):
    ``field label not supported: <field>`` (unquoted)."""
    return UNSUPPORTED_FIELD_MESSAGE.format(field)


def unknown_field_selector_message(field: str) -> str:
    """The text of a kind without one (``runtime.DefaultMetaV1FieldSelectorConversion``)."""
    return f'{go_value(field)} is not a known field selector: only "metadata.name", ' \
           '"metadata.namespace"'


_NEEDS_ESCAPING = re.compile(r"[\\,=]")


def escape_field_value(value: str) -> str:
    """``fields.EscapeValue``: prefix ``\\``, ``,`` and ``=`` with a backslash."""
    if not _NEEDS_ESCAPING.search(value):
        return value
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_field_value(value: str) -> str:
    """``fields.UnescapeValue``: undo ``\\\\``, ``\\,`` and ``\\=``; any other escape, a
    trailing backslash, or a bare ``,`` or ``=`` raises ``SelectorError``."""
    if not _NEEDS_ESCAPING.search(value):
        return value
    out: list[str] = []
    escaped = False
    for c in value:
        if escaped:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "," or c == "=":
            # Go prints the rune with %v: its code point in decimal.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    """``splitTerms``: split on commas not escaped by a backslash (the backslash is kept)."""
    if "\\" not in text:
        return text.split(",")
    terms: list[str] = []
    start = 0
    escaped = False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    """``splitTerm``: split at the first operator; at one position ``!=`` is tried before
    ``==`` before ``=``. The field itself is never unescaped."""
    eq = term.find("=")
    if eq < 0:
        return None
    if eq > 0 and term[eq - 1] == "!":
        return term[:eq - 1], "!=", term[eq + 1:]
    if term.startswith("==", eq):
        return term[:eq], "=", term[eq + 2:]
    return term[:eq], "=", term[eq + 1:]


class FieldSelector:
    """A parsed field selector (``fields.Selector``). Immutable and hashable.

    ``requirements`` is a tuple of ``(field, op, value)`` with ``op`` ``=`` (also for ``==``)
    or ``!=``, in upstream's order (terms sorted as written). ``matches`` takes the object's
    selectable fields as strings; a field that is absent counts as ``""``, as upstream's
    ``fields.Set.Get`` does, so ``spec.nodeName=`` selects unscheduled pods.
    """

    __slots__ = ("requirements", "_equal", "_unequal", "_fields", "_text", "_hash")

    requirements: tuple[tuple[str, str, str], ...]

    def __init__(self, requirements: Iterable[tuple[str, str, str]] = ()) -> None:
        reqs = tuple((f, "!=" if op == "!=" else "=", v) for f, op, v in requirements)
        init = object.__setattr__
        init(self, "requirements", reqs)
        init(self, "_equal", tuple((f, v) for f, op, v in reqs if op == "="))
        init(self, "_unequal", tuple((f, v) for f, op, v in reqs if op == "!="))
        init(self, "_fields", frozenset(f for f, _, _ in reqs))
        init(self, "_text", ",".join(f"{f}{op}{escape_field_value(v)}" for f, op, v in reqs))
        init(self, "_hash", hash(reqs))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FieldSelector is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("FieldSelector is immutable")

    def matches(self, fields: Mapping[str, str]) -> bool:
        """Whether an object whose selectable fields are ``fields`` is selected."""
        get = fields.get
        for f, v in self._equal:
            if get(f, "") != v:
                return False
        for f, v in self._unequal:
            if get(f, "") == v:
                return False
        return True

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything."""
        return not self.requirements

    def fields(self) -> frozenset[str]:
        """The field names the selector uses (for the registry's supported-field check)."""
        return self._fields

    def equality_value(self, field: str) -> str | None:
        """``RequiresExactMatch``: the value of the first ``=`` term on ``field`` (for an
        index lookup such as ``spec.nodeName=...``), else None. Callers still run
        ``matches``: ``f=a,f=b`` answers ``a`` and matches nothing."""
        for f, v in self._equal:
            if f == field:
                return v
        return None

    def transform(self, fn: Callable[[str, str], tuple[str, str]]) -> FieldSelector:
        """``Selector.Transform``: map every term's ``(field, value)`` through ``fn`` in
        requirement order (the registry's field label conversion, e.g. ``spec.host`` ->
        ``spec.nodeName``); ``fn`` raises ``SelectorError`` to reject a field, and the first
        such error is the one upstream reports. A term mapped to ``("", "")`` is dropped."""
        out = []
        for f, op, v in self.requirements:
            nf, nv = fn(f, v)
            if nf or nv:
                out.append((nf, op, nv))
        return FieldSelector(out)

    def __str__(self) -> str:
        """``Selector.String()``: ``f=v`` / ``f!=v`` terms, values escaped, comma-joined."""
        return self._text

    def __repr__(self) -> str:
        return f"FieldSelector({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self.requirements == other.requirements

    def __hash__(self) -> int:
        return self._hash

    def __copy__(self) -> FieldSelector:
        return self

    def __deepcopy__(self, memo: dict) -> FieldSelector:
        return self

    def __reduce__(self) -> tuple:
        return (FieldSelector, (self.requirements,))


FIELDS_EVERYTHING = FieldSelector()


@lru_cache(maxsize=4096)
def _parse_field_selector(text: str) -> FieldSelector:
    terms = _split_terms(text)
    terms.sort()
    requirements: list[tuple[str, str, str]] = []
    for term in terms:
        if not term:
            continue  # "a=b," and "a=b,,c=d" are accepted
        split = _split_term(term)
        if split is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        field, op, raw = split
        value = unescape_field_value(raw)
        if field or value:  # Transform drops a term whose field and value are both empty
            requirements.append((field, op, value))
    return FieldSelector(requirements) if requirements else FIELDS_EVERYTHING


def parse_field_selector(text: str | None) -> FieldSelector:
    """``fields.ParseSelector``: the ``fieldSelector`` query parameter language.

    Terms ``field=value``, ``field==value``, ``field!=value`` joined by commas. Empty terms
    are skipped (kr8s sends ``metadata.name=web,``) and duplicates are kept (kr8s sends
    ``metadata.name=web,metadata.name=web``), as upstream does. In a value, ``\\\\``, ``\\,``
    and ``\\=`` stand for ``\\``, ``,`` and ``=``. An empty (or None) text selects
    everything. Raises ``SelectorError`` with the API server's 400 message.
    """
    if not text:
        return FIELDS_EVERYTHING
    return _parse_field_selector(text)
