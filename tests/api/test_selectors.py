"""Label and field selectors: upstream's grammar, errors, matching and canonical strings."""

import copy
import pickle

import pytest
from hypothesis import assume, given, settings, strategies as st

from fakekube.api.selectors import (
    EVERYTHING, FIELDS_EVERYTHING, NOTHING, FieldSelector, LabelSelector, SelectorError,
    escape_field_value, label_selector_from_dict, label_selector_from_set,
    parse_field_selector, parse_label_selector, unescape_field_value,
    unknown_field_selector_message, unsupported_field_label_message, validate_label_selector)
from fakekube.errors import BadRequest, FieldError

SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)

QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


# --------------------------------------------------------------------------------------------
# Label selector grammar


@pytest.mark.parametrize("text,canonical,requirements", [
    ("app=nginx", "app=nginx", (("app", "=", ("nginx",)),)),
    ("app==nginx", "app==nginx", (("app", "==", ("nginx",)),)),
    ("app!=nginx", "app!=nginx", (("app", "!=", ("nginx",)),)),
    ("  tier in (b, a) ,app ", "app,tier in (a,b)",
     (("app", "exists", ()), ("tier", "in", ("a", "b")))),
    ("env notin (prod)", "env notin (prod)", (("env", "notin", ("prod",)),)),
    ("!canary", "!canary", (("canary", "!", ()),)),
    ("replicas>5,replicas<10", "replicas>5,replicas<10",
     (("replicas", "gt", ("5",)), ("replicas", "lt", ("10",)))),
    ("a=", "a=", (("a", "=", ("",)),)),
    ("a=,b", "a=,b", (("a", "=", ("",)), ("b", "exists", ()))),
    ("x in ()", "x in ()", (("x", "in", ("",)),)),
    ("x in (,a)", "x in (,a)", (("x", "in", ("", "a")),)),
    ("x in (a,)", "x in (,a)", (("x", "in", ("", "a")),)),
    ("x in (a,,b)", "x in (,a,b)", (("x", "in", ("", "a", "b")),)),
    ("x in (b,a,b)", "x in (a,b)", (("x", "in", ("a", "b")),)),
    ("in in (in,notin)", "in in (in,notin)", (("in", "in", ("in", "notin")),)),
    ("notin=in", "notin=in", (("notin", "=", ("in",)),)),
    ("example.com/role=db", "example.com/role=db", (("example.com/role", "=", ("db",)),)),
    ("a\tin\n(b)", "a in (b)", (("a", "in", ("b",)),)),
])
def test_parse_label_selector(text, canonical, requirements):
    sel = parse_label_selector(text)
    assert sel.requirements == requirements
    assert str(sel) == canonical
    assert not sel.empty and not sel.nothing


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_label_selector_selects_everything(text):
    sel = parse_label_selector(text)
    assert sel is EVERYTHING and sel.empty and str(sel) == ""
    assert sel.matches({}) and sel.matches({"a": "b"}) and sel.matches(None)


@pytest.mark.parametrize("text,message", [
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("key!", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
    ("a,", "found '', expected: identifier after ','"),
    ("a,,b", "found ',', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("=a", "found '=', expected: !, identifier, or 'end of string'"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
    ("a in", "unable to parse requirement: found '' expected: '('"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a in (", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("x in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'"),
    ("x in (a,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("x in (a))", "found ')', expected: ',' or 'end of string'"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
            "operators, the value must be an integer"),
    ("a>-1", "unable to parse requirement: values[0][a]: Invalid value: \"-1\": "
             + LABEL_VALUE_MSG),
    ("app:monolith", "unable to parse requirement: <nil>: Invalid value: \"app:monolith\": "
                     "name part " + QNAME_MSG),
    ("a/b/c=d", "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified "
                "name " + QNAME_MSG + " with an optional DNS subdomain prefix and '/' "
                "(e.g. 'example.com/MyName')"),
    ("/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be "
           "non-empty"),
    ("a=b;c", "unable to parse requirement: values[0][a]: Invalid value: \"b;c\": "
              + LABEL_VALUE_MSG),
    ("a=" + "v" * 64, "unable to parse requirement: values[0][a]: Invalid value: \""
                      + "v" * 64 + "\": must be no more than 63 characters"),
])
def test_label_selector_errors(text, message):
    with pytest.raises(SelectorError) as info:
        parse_label_selector(text)
    assert info.value.message == message
    assert str(info.value) == message


def test_several_value_errors_are_aggregated():
    with pytest.raises(SelectorError) as info:
        parse_label_selector("k in (-a,-b)")
    assert info.value.message == (
        f'unable to parse requirement: [values[0][k]: Invalid value: "-a": {LABEL_VALUE_MSG}, '
        f'values[1][k]: Invalid value: "-b": {LABEL_VALUE_MSG}]')


def test_selector_error_is_a_bad_request():
    with pytest.raises(SelectorError) as info:
        parse_label_selector("a b")
    api = info.value.as_api_error()
    assert isinstance(api, BadRequest)
    assert api.status == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": info.value.message,
                          "reason": "BadRequest", "code": 400}


def test_parsed_selectors_are_cached_and_immutable():
    a = parse_label_selector("app=web,tier in (x,y)")
    assert parse_label_selector("app=web,tier in (x,y)") is a
    assert a == parse_label_selector("tier in (y,x), app=web")
    assert hash(a) == hash(LabelSelector([("tier", "in", ("x", "y")), ("app", "=", ("web",))]))
    with pytest.raises(AttributeError):
        a.requirements = ()
    assert copy.deepcopy(a) is a
    assert pickle.loads(pickle.dumps(a)) == a
    assert pickle.loads(pickle.dumps(NOTHING)) is NOTHING


# --------------------------------------------------------------------------------------------
# Label selector matching


@pytest.mark.parametrize("text,labels,expected", [
    ("app=web", {"app": "web"}, True),
    ("app=web", {"app": "db"}, False),
    ("app=web", {}, False),
    ("app!=web", {}, True),                      # != matches objects without the key
    ("app!=web", {"app": "db"}, True),
    ("app!=web", {"app": "web"}, False),
    ("env notin (prod,staging)", {}, True),      # so does notin
    ("env notin (prod,staging)", {"env": "dev"}, True),
    ("env notin (prod,staging)", {"env": "prod"}, False),
    ("env in (prod,staging)", {}, False),
    ("env in (prod,staging)", {"env": "staging"}, True),
    ("canary", {"canary": ""}, True),
    ("canary", {}, False),
    ("!canary", {}, True),
    ("!canary", {"canary": "yes"}, False),
    ("a=", {"a": ""}, True),
    ("a=", {}, False),
    ("x in ()", {"x": ""}, True),
    ("n>5", {"n": "6"}, True),
    ("n>5", {"n": "5"}, False),
    ("n>5", {"n": "+6"}, True),
    ("n>5", {"n": "six"}, False),                # a non-integer label never matches
    ("n>5", {}, False),
    ("n<5", {"n": "-10"}, True),
    ("n<5", {"n": "9223372036854775808"}, False),  # out of int64
    ("n>5,n<10", {"n": "7"}, True),
    ("n>5,n<10", {"n": "10"}, False),
    ("app=web,!canary,tier in (a,b)", {"app": "web", "tier": "b"}, True),
    ("app=web,!canary,tier in (a,b)", {"app": "web", "tier": "b", "canary": "1"}, False),
])
def test_label_matching(text, labels, expected):
    assert parse_label_selector(text).matches(labels) is expected


def test_none_labels_are_no_labels():
    assert parse_label_selector("a!=b").matches(None)
    assert not parse_label_selector("a").matches(None)


def test_index_terms_and_exact_match():
    sel = parse_label_selector("app=web,tier in (a,b),env!=prod,x==y,canary")
    assert sorted(sel.index_terms(), key=lambda t: t[0]) == [
        ("app", frozenset({"web"})), ("tier", frozenset({"a", "b"})), ("x", frozenset({"y"}))]
    assert sel.requires_exact_match("app") == "web"
    assert sel.requires_exact_match("tier") is None
    assert sel.requires_exact_match("env") is None
    assert sel.requires_exact_match("nope") is None
    assert EVERYTHING.index_terms() == []


# --------------------------------------------------------------------------------------------
# metav1.LabelSelector dicts


def test_nil_selector_selects_nothing_and_empty_selects_everything():
    assert label_selector_from_dict(None) is NOTHING
    assert NOTHING.nothing and not NOTHING.empty and str(NOTHING) == ""
    assert not NOTHING.matches({}) and not NOTHING.matches({"a": "b"})
    assert label_selector_from_dict({}) is EVERYTHING
    assert label_selector_from_dict({"matchLabels": {}, "matchExpressions": []}) is EVERYTHING


def test_selector_from_dict():
    sel = label_selector_from_dict({
        "matchLabels": {"app": "nginx"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "env", "operator": "NotIn", "values": ["prod"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "zone", "operator": "Exists"},
        ]})
    assert str(sel) == "app=nginx,!canary,env notin (prod),tier in (api,web),zone"
    assert sel.matches({"app": "nginx", "tier": "api", "zone": "z"})
    assert not sel.matches({"app": "nginx", "tier": "api"})
    assert sel == parse_label_selector(str(sel))
    again = label_selector_from_dict({"matchLabels": {"app": "nginx"}})
    assert again is label_selector_from_dict({"matchLabels": {"app": "nginx"}})


@pytest.mark.parametrize("selector,message", [
    ({"matchExpressions": [{"key": "a", "operator": "Foo"}]},
     '"Foo" is not a valid pod selector operator'),
    ({"matchExpressions": [{"key": "a"}]}, '"" is not a valid pod selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
     "empty"),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
     "empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     'values: Invalid value: []string{"x"}: values set must be empty for exists and does not '
     "exist"),
    ({"matchLabels": {"a b": "c"}},
     'key: Invalid value: "a b": name part ' + QNAME_MSG),
    ({"matchLabels": {"a b": "c d"}},
     f'[key: Invalid value: "a b": name part {QNAME_MSG}, values[0][a b]: Invalid value: '
     f'"c d": {LABEL_VALUE_MSG}]'),
])
def test_selector_from_dict_errors(selector, message):
    with pytest.raises(SelectorError) as info:
        label_selector_from_dict(selector)
    assert info.value.message == message


def test_selector_from_set():
    assert label_selector_from_set(None) is EVERYTHING
    assert label_selector_from_set({}) is EVERYTHING
    sel = label_selector_from_set({"b": "2", "a": "1"})
    assert str(sel) == "a=1,b=2"
    assert sel.matches({"a": "1", "b": "2", "c": "3"}) and not sel.matches({"a": "1"})
    with pytest.raises(SelectorError):
        label_selector_from_set({"a": "-"}, validate=True)


# --------------------------------------------------------------------------------------------
# ValidateLabelSelector


def test_validate_label_selector():
    errs = validate_label_selector({
        "matchLabels": {"a/b/c": "ok", "good": "x y"},
        "matchExpressions": [
            {"key": "k", "operator": "In"},
            {"key": "k", "operator": "Exists", "values": ["v"]},
            {"key": "-k", "operator": "Bad", "values": ["-v"]},
        ]}, "spec.selector")
    assert errs == [
        FieldError.invalid("spec.selector.matchLabels", "a/b/c",
                           "a qualified name " + QNAME_MSG + " with an optional DNS subdomain "
                           "prefix and '/' (e.g. 'example.com/MyName')"),
        FieldError.invalid("spec.selector.matchLabels", "x y", LABEL_VALUE_MSG),
        FieldError.required("spec.selector.matchExpressions[0].values",
                            "must be specified when `operator` is 'In' or 'NotIn'"),
        FieldError.forbidden("spec.selector.matchExpressions[1].values",
                             "may not be specified when `operator` is 'Exists' or "
                             "'DoesNotExist'"),
        FieldError.invalid("spec.selector.matchExpressions[2].operator", "Bad",
                           "not a valid selector operator"),
        FieldError.invalid("spec.selector.matchExpressions[2].key", "-k", "name part " + QNAME_MSG),
        FieldError.invalid("spec.selector.matchExpressions[2].values[0]", "-v", LABEL_VALUE_MSG),
    ]
    assert errs[4].message() == ('spec.selector.matchExpressions[2].operator: Invalid value: '
                                 '"Bad": not a valid selector operator')


def test_validate_label_selector_accepts_valid_and_nil():
    assert validate_label_selector(None, "spec.selector") == []
    assert validate_label_selector({"matchLabels": {"app": "web"}}, "spec.selector") == []
    bad_value = {"matchExpressions": [{"key": "k", "operator": "In", "values": ["-v"]}]}
    assert len(validate_label_selector(bad_value, "s")) == 1
    assert validate_label_selector(bad_value, "s", allow_invalid_label_value=True) == []


# --------------------------------------------------------------------------------------------
# Field selectors


@pytest.mark.parametrize("text,requirements,canonical", [
    ("metadata.name=web", (("metadata.name", "=", "web"),), "metadata.name=web"),
    ("metadata.name==web", (("metadata.name", "=", "web"),), "metadata.name=web"),
    ("status.phase!=Running", (("status.phase", "!=", "Running"),), "status.phase!=Running"),
    # kr8s's by-name gets: trailing comma and duplicate terms are accepted, as upstream does.
    ("metadata.name=web,", (("metadata.name", "=", "web"),), "metadata.name=web"),
    ("metadata.name=web,metadata.name=web",
     (("metadata.name", "=", "web"), ("metadata.name", "=", "web")),
     "metadata.name=web,metadata.name=web"),
    (",,a=1,,", (("a", "=", "1"),), "a=1"),
    # terms are sorted as written
    ("spec.nodeName=n1,metadata.namespace=default",
     (("metadata.namespace", "=", "default"), ("spec.nodeName", "=", "n1")),
     "metadata.namespace=default,spec.nodeName=n1"),
    ("spec.nodeName=", (("spec.nodeName", "=", ""),), "spec.nodeName="),
    ("a=b\\,c\\=d\\\\e", (("a", "=", "b,c=d\\e"),), "a=b\\,c\\=d\\\\e"),
    ("a=!b", (("a", "=", "!b"),), "a=!b"),
    ("=", (), ""),              # a term with empty field and value is dropped
    (" a = b ", ((" a ", "=", " b "),), " a = b "),  # no whitespace trimming upstream
])
def test_parse_field_selector(text, requirements, canonical):
    sel = parse_field_selector(text)
    assert sel.requirements == requirements
    assert str(sel) == canonical


@pytest.mark.parametrize("text,message", [
    ("a", "invalid selector: 'a'; can't understand 'a'"),
    ("a=1,b", "invalid selector: 'a=1,b'; can't understand 'b'"),
    ("a=b=c", "invalid field selector: unescaped character in value: 61"),
    ("a=b\\x", "invalid field selector: invalid escape sequence: \\x"),
    ("a=b\\!", "invalid field selector: invalid escape sequence: \\!"),
    ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_field_selector_errors(text, message):
    with pytest.raises(SelectorError) as info:
        parse_field_selector(text)
    assert info.value.message == message


def test_field_selector_matching():
    sel = parse_field_selector("spec.nodeName=n1,status.phase!=Failed")
    assert sel.matches({"spec.nodeName": "n1", "status.phase": "Running"})
    assert sel.matches({"spec.nodeName": "n1"})  # an absent field reads as ""
    assert not sel.matches({"spec.nodeName": "n1", "status.phase": "Failed"})
    assert not sel.matches({"spec.nodeName": "n2"})
    assert parse_field_selector("spec.nodeName=").matches({})
    assert not parse_field_selector("spec.nodeName!=").matches({})
    assert parse_field_selector("") is FIELDS_EVERYTHING and FIELDS_EVERYTHING.empty
    assert parse_field_selector(None).matches({})


def test_field_selector_introspection():
    sel = parse_field_selector("metadata.name=b,metadata.name=a,spec.nodeName!=x")
    assert sel.fields() == {"metadata.name", "spec.nodeName"}
    assert sel.equality_value("metadata.name") == "a"  # first in upstream's sorted order
    assert sel.equality_value("spec.nodeName") is None
    assert not sel.matches({"metadata.name": "a"})
    assert parse_field_selector("metadata.name=b") is parse_field_selector("metadata.name=b")


def test_field_selector_transform():
    sel = parse_field_selector("spec.host=n1,metadata.name=web")

    def convert(field, value):
        if field == "spec.host":
            return "spec.nodeName", value
        if field == "metadata.name":
            return field, value
        raise SelectorError(unsupported_field_label_message(field))

    assert str(sel.transform(convert)) == "metadata.name=web,spec.nodeName=n1"
    with pytest.raises(SelectorError) as info:
        parse_field_selector("spec.foo=1,metadata.name=web").transform(convert)
    assert info.value.message == "field label not supported: spec.foo"
    assert parse_field_selector("a=1").transform(lambda f, v: ("", "")).empty


def test_unsupported_field_messages():
    assert unsupported_field_label_message("spec.foo") == "field label not supported: spec.foo"
    assert unknown_field_selector_message("spec.foo") == (
        '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"')


def test_escaping():
    assert escape_field_value("a\\b,c=d") == "a\\\\b\\,c\\=d"
    assert unescape_field_value("a\\\\b\\,c\\=d") == "a\\b,c=d"
    assert escape_field_value("plain") == "plain"


# --------------------------------------------------------------------------------------------
# Properties

KEYS = ["app", "tier", "in", "notin", "example.com/role", "a.b_c-d"]
VALUES = ["", "a", "b", "web", "in", "notin", "x.y_z-1", "0", "5", "007"]
NUMBERS = ["0", "5", "10", "007", "9223372036854775807"]
LABEL_VALUES = VALUES + ["-5", "12", "+7", "six"]


@st.composite
def requirements(draw):
    key = draw(st.sampled_from(KEYS))
    op = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"]))
    if op in ("=", "==", "!="):
        values = (draw(st.sampled_from(VALUES)),)
    elif op in ("in", "notin"):
        values = tuple(draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=4)))
    elif op in ("gt", "lt"):
        values = (draw(st.sampled_from(NUMBERS)),)
    else:
        values = ()
    return key, op, values


label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(LABEL_VALUES), max_size=5)


def reference_matches(reqs, labels):
    """Upstream's ``Requirement.Matches``, written out plainly."""
    for key, op, values in reqs:
        present, value = key in labels, labels.get(key)
        if op in ("=", "==", "in"):
            ok = present and value in values
        elif op in ("!=", "notin"):
            ok = not present or value not in values
        elif op == "exists":
            ok = present
        elif op == "!":
            ok = not present
        else:
            try:
                n = int(value) if present and value.lstrip("+-").isdigit() else None
            except ValueError:
                n = None
            ok = n is not None and (n > int(values[0]) if op == "gt" else n < int(values[0]))
        if not ok:
            return False
    return True


@SETTINGS
@given(reqs=st.lists(requirements(), max_size=5), labels=st.lists(label_sets, max_size=8))
def test_label_selector_string_round_trips(reqs, labels):
    sel = LabelSelector(reqs)
    reparsed = parse_label_selector(str(sel))
    assert reparsed == sel  # values may come back sorted and deduplicated
    assert str(parse_label_selector(str(reparsed))) == str(reparsed)
    for ls in labels:
        expected = reference_matches(reqs, ls)
        assert sel.matches(ls) is expected
        assert reparsed.matches(ls) is expected


@SETTINGS
@given(text=st.text(alphabet="ab/.=!(),<> in\t5-", max_size=24))
def test_any_text_parses_or_raises_selector_error(text):
    try:
        sel = parse_label_selector(text)
    except SelectorError as e:
        assert e.message
        return
    assert parse_label_selector(str(sel)) == sel


field_values = st.text(alphabet="ab=,\\! ", max_size=6)


@SETTINGS
@given(reqs=st.lists(st.tuples(st.sampled_from(["metadata.name", "spec.nodeName", "x"]),
                               st.sampled_from(["=", "!="]), field_values), max_size=4),
       fields=st.lists(st.dictionaries(st.sampled_from(["metadata.name", "spec.nodeName", "x"]),
                                       field_values, max_size=3), max_size=6))
def test_field_selector_round_trips_and_matches_its_requirements(reqs, fields):
    sel = FieldSelector(reqs)
    reparsed = parse_field_selector(str(sel))
    assert sorted(reparsed.requirements) == sorted(sel.requirements)
    for fs in fields:
        expected = all((fs.get(f, "") == v) == (op == "=") for f, op, v in reqs)
        assert sel.matches(fs) is expected
        assert reparsed.matches(fs) is expected


@SETTINGS
@given(value=st.text(max_size=12))
def test_escape_round_trips(value):
    assert unescape_field_value(escape_field_value(value)) == value


@SETTINGS
@given(text=st.text(alphabet="ab.=!,\\ ", max_size=20))
def test_any_field_text_parses_or_raises_selector_error(text):
    try:
        sel = parse_field_selector(text)
    except SelectorError:
        return
    assume(sel.requirements)
    assert sorted(parse_field_selector(str(sel)).requirements) == sorted(sel.requirements)
