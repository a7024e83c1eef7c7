"""Name, label and small-string checks: upstream's verdicts and upstream's exact messages."""

import re

import pytest
from hypothesis import given, settings, strategies as st

from fakekube.api import names
from fakekube.errors import FieldError

SETTINGS = settings(derandomize=True, max_examples=300, deadline=None)

DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
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
# DNS names


@pytest.mark.parametrize("value", ["a", "0", "web-0", "a" * 63, "1-2-3", "x--y"])
def test_dns1123_label_accepts(value):
    assert names.is_dns1123_label(value) == []


def test_dns1123_label_messages():
    assert names.is_dns1123_label("Web") == [DNS1123_LABEL_MSG]
    assert names.is_dns1123_label("") == [DNS1123_LABEL_MSG]
    assert names.is_dns1123_label("-a") == [DNS1123_LABEL_MSG]
    assert names.is_dns1123_label("a.b") == ["must not contain dots"]
    assert names.is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]
    assert names.is_dns1123_label("A" * 64) == ["must be no more than 63 characters",
                                                DNS1123_LABEL_MSG]
    assert names.is_dns1123_label("a\n") == [DNS1123_LABEL_MSG]  # no "$ before newline"


def test_dns1123_subdomain():
    assert names.is_dns1123_subdomain("web-0.nginx.default.svc") == []
    assert names.is_dns1123_subdomain("a..b") == [DNS1123_SUBDOMAIN_MSG]
    assert names.is_dns1123_subdomain("a.") == [DNS1123_SUBDOMAIN_MSG]
    long = ".".join(["a" * 63] * 4)  # 255 characters
    assert names.is_dns1123_subdomain(long) == ["must be no more than 253 characters"]
    assert names.is_dns1123_subdomain(long[:253].rstrip(".")) == []


def test_dns1035_label():
    assert names.is_dns1035_label("nginx") == []
    assert names.is_dns1035_label("1abc") == [DNS1035_LABEL_MSG]
    assert names.is_dns1035_label("b" * 64) == ["must be no more than 63 characters"]


def test_wildcard_subdomain():
    assert names.is_wildcard_dns1123_subdomain("*.example.com") == []
    assert names.is_wildcard_dns1123_subdomain("*.*.example.com") == [
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
        "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
        "alphanumeric character (e.g. '*.example.com', regex used for validation is "
        "'\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]


# --------------------------------------------------------------------------------------------
# Qualified names and label values


@pytest.mark.parametrize("value", ["app", "App_1.x-y", "app.kubernetes.io/name",
                                   "example.com/" + "n" * 63, "a/b"])
def test_qualified_name_accepts(value):
    assert names.is_qualified_name(value) == []


def test_qualified_name_messages():
    assert names.is_qualified_name("a/b/c") == [
        "a qualified name " + QNAME_MSG
        + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    assert names.is_qualified_name("/a") == ["prefix part must be non-empty"]
    assert names.is_qualified_name("Example.com/a") == ["prefix part " + DNS1123_SUBDOMAIN_MSG]
    assert names.is_qualified_name("a/") == ["name part must be non-empty",
                                             "name part " + QNAME_MSG]
    assert names.is_qualified_name("") == ["name part must be non-empty", "name part " + QNAME_MSG]
    assert names.is_qualified_name("a" * 64) == ["name part must be no more than 63 characters"]
    assert names.is_qualified_name("app:x") == ["name part " + QNAME_MSG]
    assert names.is_qualified_name("x" * 254 + "/a") == [
        "prefix part must be no more than 253 characters"]


def test_label_value():
    assert names.is_valid_label_value("") == []
    assert names.is_valid_label_value("web_1.x-y") == []
    assert names.is_valid_label_value("-x") == [LABEL_VALUE_MSG]
    assert names.is_valid_label_value("v" * 64) == ["must be no more than 63 characters"]


def test_lengths_are_counted_in_bytes():
    # 40 characters but 80 UTF-8 bytes: Go's len() sees 80.
    assert names.is_valid_label_value("é" * 40) == ["must be no more than 63 characters",
                                                    LABEL_VALUE_MSG]
    assert names.is_valid_label_value("é" * 20) == [LABEL_VALUE_MSG]


# --------------------------------------------------------------------------------------------
# The fast paths accept exactly what upstream's patterns accept

UPSTREAM = {
    "label": (names.is_dns1123_label, re.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?"), 63),
    "subdomain": (names.is_dns1123_subdomain,
                  re.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"),
                  253),
    "value": (names.is_valid_label_value,
              re.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"), 63),
}


@SETTINGS
@given(kind=st.sampled_from(sorted(UPSTREAM)),
       value=st.text(alphabet="ab09A-._/", max_size=70) | st.text(max_size=5))
def test_fast_paths_agree_with_upstream_patterns(kind, value):
    check, pattern, limit = UPSTREAM[kind]
    expected_valid = bool(pattern.fullmatch(value)) and len(value.encode()) <= limit
    assert (check(value) == []) == expected_valid
    assert (check(value) == []) == expected_valid  # and again, once memoised


@SETTINGS
@given(prefix=st.none() | st.text(alphabet="ab0-.", max_size=12),
       name=st.text(alphabet="aB0-._/", max_size=12))
def test_qualified_name_agrees_with_its_definition(prefix, name):
    value = name if prefix is None else f"{prefix}/{name}"
    parts = value.split("/")
    if len(parts) == 1:
        expected = bool(UPSTREAM["value"][1].fullmatch(parts[0])) and 0 < len(parts[0]) <= 63
    elif len(parts) == 2:
        expected = (names.is_dns1123_subdomain(parts[0]) == [] and len(parts[1]) > 0
                    and bool(UPSTREAM["value"][1].fullmatch(parts[1])) and len(parts[1]) <= 63)
    else:
        expected = False
    assert (names.is_qualified_name(value) == []) == expected


# --------------------------------------------------------------------------------------------
# Ports, numbers, identifiers


def test_port_name():
    assert names.is_valid_port_name("http") == []
    assert names.is_valid_port_name("web-8080") == []
    assert names.is_valid_port_name("8080") == ["must contain at least one letter (a-z)"]
    assert names.is_valid_port_name("-Web--x-") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen"]
    assert names.is_valid_port_name("a" * 16) == ["must be no more than 15 characters"]
    assert names.is_valid_port_name("") == [
        "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
        "must contain at least one letter (a-z)"]


def test_port_numbers_and_ranges():
    assert names.is_valid_port_num(1) == names.is_valid_port_num(65535) == []
    assert names.is_valid_port_num(0) == ["must be between 1 and 65535, inclusive"]
    assert names.is_valid_port_num(65536) == ["must be between 1 and 65535, inclusive"]
    assert names.is_in_range(5, 0, 4) == ["must be between 0 and 4, inclusive"]
    assert names.is_valid_user_id(-1) == ["must be between 0 and 2147483647, inclusive"]
    assert names.is_valid_group_id(2147483647) == []


def test_identifiers_percent_and_headers():
    assert names.is_c_identifier("MY_VAR1") == []
    assert names.is_c_identifier("1x") == [
        "a valid C identifier must start with alphabetic character or '_', followed by a string "
        "of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex "
        "used for validation is '[A-Za-z_][A-Za-z0-9_]*')"]
    assert names.is_valid_percent("25%") == []
    assert names.is_valid_percent("25") == [
        "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  "
        "or '93%', regex used for validation is '[0-9]+%')"]
    assert names.is_http_header_name("X-Header") == []
    assert names.is_http_header_name("X Header") == [
        "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
        "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"]


ENV_MSG = ("a valid environment variable name must consist of alphabetic characters, digits, "
           "'_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or "
           "'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is "
           "'[-._a-zA-Z][-._a-zA-Z0-9]*')")


def test_env_var_names():
    assert names.is_env_var_name("MY_VAR.x-1") == []
    assert names.is_env_var_name("1VAR") == [ENV_MSG]
    assert names.is_env_var_name("..") == ["must not be '..'"]
    assert names.is_env_var_name("..x") == ["must not start with '..'"]
    assert names.is_relaxed_env_var_name("1 VAR!") == []
    assert names.is_relaxed_env_var_name("A=B") == [
        "a valid environment variable name must consist only of printable ASCII characters "
        "other than '='"]
    assert names.is_relaxed_env_var_name("") == ["environment variable name must be non-empty"]


def test_config_map_keys():
    assert names.is_config_map_key("app.properties") == []
    assert names.is_config_map_key(".hidden") == []
    assert names.is_config_map_key(".") == ["must not be '.'"]
    assert names.is_config_map_key("..data") == ["must not start with '..'"]
    assert names.is_config_map_key("a/b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
        "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')"]
    assert names.is_config_map_key("k" * 254) == ["must be no more than 253 characters"]


# --------------------------------------------------------------------------------------------
# IP addresses


@pytest.mark.parametrize("value,family", [
    ("10.0.0.1", 4), ("010.000.000.001", 4), ("::1", 6), ("2001:db8::ffff", 6),
    ("::ffff:1.2.3.4", 4), ("::ffff:01.2.3.4", 4), ("fe80::1%eth0", 0), ("1.2.3", 0),
    ("256.0.0.1", 0), ("", 0), ("abc", 0), ("1.2.3.4 ", 0)])
def test_ip_addresses(value, family):
    assert (names.is_valid_ip(value) == []) == (family != 0)
    assert (names.is_valid_ipv4(value) == []) == (family == 4)
    assert (names.is_valid_ipv6(value) == []) == (family == 6)


def test_ip_messages():
    assert names.is_valid_ip("x") == [
        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    assert names.is_valid_ipv4("::1") == ["must be a valid IPv4 address"]
    assert names.is_valid_ipv6("1.2.3.4") == ["must be a valid IPv6 address"]


def test_cidr():
    assert names.is_valid_cidr("10.0.0.0/8") == []
    assert names.is_valid_cidr("10.0.0.1/32") == []  # host bits may be set
    assert names.is_valid_cidr("2001:db8::/64") == []
    for bad in ("10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "::/129", "x/8"):
        assert names.is_valid_cidr(bad) == [
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"], bad


# --------------------------------------------------------------------------------------------
# Domain names with a field path


def test_fully_qualified_domain_name():
    assert names.is_fully_qualified_domain_name("spec.domain", "example.com.") == []
    assert names.is_fully_qualified_domain_name("spec.domain", "") == [
        FieldError.required("spec.domain", "")]
    assert names.is_fully_qualified_domain_name("spec.domain", "example") == [
        FieldError.invalid("spec.domain", "example",
                           "should be a domain with at least two segments separated by dots")]
    assert names.is_fully_qualified_name("f", "a.b") == [
        FieldError.invalid("f", "a.b",
                           "should be a domain with at least three segments separated by dots")]


def test_domain_prefixed_path():
    assert names.is_domain_prefixed_path("p", "acme.io/foo") == []
    assert names.is_domain_prefixed_path("p", "acme.io") == [
        FieldError.invalid("p", "acme.io",
                           'must be a domain-prefixed path (such as "acme.io/foo")')]
    assert names.is_domain_prefixed_path("p", "acme.io/a b") == [
        FieldError.invalid("p", "a b", "Invalid path (regex used for validation is "
                                       "'[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')")]


# --------------------------------------------------------------------------------------------
# Path segment names and generateName prefixes


def test_path_segment_names():
    assert names.validate_path_segment_name("system:controller:foo", False) == []
    assert names.validate_path_segment_name(".", False) == ["may not be '.'"]
    assert names.validate_path_segment_name("..", False) == ["may not be '..'"]
    assert names.validate_path_segment_name("a/b%c", False) == ["may not contain '/'",
                                                                "may not contain '%'"]
    assert names.validate_path_segment_name("..", True) == []
    assert names.validate_path_segment_name("a%", True) == ["may not contain '%'"]


def test_generate_name_prefixes_mask_the_trailing_dash():
    assert names.name_is_dns_subdomain("web-", True) == []
    assert names.name_is_dns_subdomain("web-", False) == [DNS1123_SUBDOMAIN_MSG]
    assert names.name_is_dns_label("web-", True) == []
    assert names.name_is_dns1035_label("svc-", True) == []
    # Upstream drops the character before the dash as well: "a.-" is checked as "a" + "a".
    assert names.name_is_dns_label("a.-", True) == []
