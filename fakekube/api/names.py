"""Syntax checks for names, label keys and values, ports, IPs and other small strings.

This module owns the string-level validators every kind's validation is built from. Each
``is_*`` function returns a list of error strings in upstream's exact wording (an empty list
means valid); the caller wraps each string in a ``FieldError.invalid(path, value, msg)``, as
upstream's validation does. A few helpers that upstream defines over a field path
(``is_fully_qualified_domain_name``, ``is_domain_prefixed_path``) return ``FieldError`` lists.

Facts (patterns, limits, message texts) follow Kubernetes v1.31:

- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/util/validation/validation.go``
  (DNS labels and subdomains, qualified names, label values, ports, IPs, env var and
  ConfigMap keys, ``RegexError`` and friends);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/validation/path/name.go``
  (names that become URL path segments);
- ``kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/api/validation/generic.go``
  (the ``ValidateNameFunc`` family used for ``metadata.name`` / ``generateName``).

Lengths are counted in UTF-8 bytes, as Go's ``len`` does. Patterns are matched against the
whole string (Go's ``^...$`` does not accept a trailing newline, so ``fullmatch`` is used).
Every check starts with a fast path for the valid case, since these run on every write.
"""

from __future__ import annotations

import ipaddress
import re

from fakekube.errors import FieldError

__all__ = [
    "DNS1123_LABEL_MAX_LENGTH", "DNS1123_SUBDOMAIN_MAX_LENGTH", "DNS1035_LABEL_MAX_LENGTH",
    "LABEL_VALUE_MAX_LENGTH", "QUALIFIED_NAME_MAX_LENGTH",
    "regex_error", "max_len_error", "empty_error", "inclusive_range_error",
    "is_dns1123_label", "is_dns1123_subdomain", "is_dns1035_label",
    "is_wildcard_dns1123_subdomain", "is_qualified_name", "is_valid_label_value",
    "is_c_identifier", "is_valid_port_num", "is_in_range", "is_valid_user_id",
    "is_valid_group_id", "is_valid_port_name", "is_valid_ip", "is_valid_ipv4",
    "is_valid_ipv6", "is_valid_cidr", "ip_family", "is_valid_percent", "is_http_header_name",
    "is_env_var_name", "is_relaxed_env_var_name", "is_config_map_key",
    "is_fully_qualified_name", "is_fully_qualified_domain_name", "is_domain_prefixed_path",
    "is_valid_path_segment_name", "is_valid_path_segment_prefix", "validate_path_segment_name",
    "name_is_dns_subdomain", "name_is_dns_label", "name_is_dns1035_label",
    "KNOWN_QUALIFIED_NAMES", "KNOWN_LABEL_VALUES", "KNOWN_DNS1123_LABELS",
    "KNOWN_DNS1123_SUBDOMAINS", "KNOWN_DNS1035_LABELS", "KNOWN_PORT_NAMES", "KNOWN_ENV_VAR_NAMES",
]

# --------------------------------------------------------------------------------------------
# Message builders (validation.go: RegexError, MaxLenError, EmptyError, InclusiveRangeError)


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``RegexError``: the message, the examples and the pattern, in upstream's layout.

    Upstream puts ``', '`` after every example and ``' or '`` before all but the first, hence
    the double space in ``'my-name',  or '123-abc'``.
    """
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def empty_error() -> str:
    return "must be non-empty"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


def _blen(value: str) -> int:
    """Go's ``len(string)``: the length in UTF-8 bytes."""
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


# Strings already found valid, per check. The same label keys, values and names come back on
# every write, and a set lookup is much cheaper than a regex. Bounded: cleared when full.
# Hot validators elsewhere test membership in these sets directly before calling the check
# (see the ``KNOWN_*`` names below); only the checks here ever add to them.
_MEMO_LIMIT = 8192


def _remember(memo: set[str], value: str) -> list[str]:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo.add(value)
    return []


def _known(memo: set[str], value: str) -> bool:
    """``value in memo``, False for an unhashable value (which the check then rejects with
    the error it always raised)."""
    try:
        return value in memo
    except TypeError:
        return False


# Fast-path patterns: the same languages as upstream's patterns, written with possessive
# quantifiers so that matching never backtracks. Messages always quote upstream's patterns.
_FAST_LABEL = "[a-z0-9]++(?:-++[a-z0-9]++)*+"
_FAST_DNS1123_LABEL_RE = re.compile(_FAST_LABEL)
_FAST_DNS1123_SUBDOMAIN_RE = re.compile(f"{_FAST_LABEL}(?:\\.{_FAST_LABEL})*+")
_FAST_QNAME_RE = re.compile("[A-Za-z0-9]++(?:[-_.]++[A-Za-z0-9]++)*+")


# --------------------------------------------------------------------------------------------
# Qualified names (label and annotation keys) and label values

_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_ERR = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
              "with an alphanumeric character")
QUALIFIED_NAME_MAX_LENGTH = 63
_QNAME_RE = re.compile(_QNAME_FMT)
_QNAME_REGEX_ERROR = regex_error(_QNAME_ERR, _QNAME_FMT, "MyName", "my.name", "123-abc")

_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_ERR = ("a valid label must be an empty string or consist of alphanumeric characters, "
                    "'-', '_' or '.', and must start and end with an alphanumeric character")
LABEL_VALUE_MAX_LENGTH = 63
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_LABEL_VALUE_REGEX_ERROR = regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT,
                                       "MyValue", "my_value", "12345")

_valid_qualified_names: set[str] = set()
_valid_label_values: set[str] = set()
KNOWN_QUALIFIED_NAMES = _valid_qualified_names
"""Strings :func:`is_qualified_name` has accepted (a cache: absence proves nothing)."""
KNOWN_LABEL_VALUES = _valid_label_values
"""Non-empty strings :func:`is_valid_label_value` has accepted (a cache)."""


def is_qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: a label or annotation key, ``[prefix/]name``.

    The optional prefix is a DNS subdomain (at most 253 bytes); the name is at most 63
    bytes of alphanumerics, ``-``, ``_`` and ``.``, starting and ending alphanumeric.
    """
    if value in _valid_qualified_names:
        return []
    slash = value.find("/")  # -1 without a prefix
    name_ok = (len(value) - slash - 1 <= QUALIFIED_NAME_MAX_LENGTH
               and _FAST_QNAME_RE.fullmatch(value, slash + 1))
    if name_ok and (slash < 0 or (slash <= DNS1123_SUBDOMAIN_MAX_LENGTH
                                  and _FAST_DNS1123_SUBDOMAIN_RE.fullmatch(value, 0, slash))):
        return _remember(_valid_qualified_names, value)
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name " + _QNAME_REGEX_ERROR
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part " + empty_error())
    elif _blen(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QNAME_RE.fullmatch(name):
        errs.append("name part " + _QNAME_REGEX_ERROR)
    return errs


def is_valid_label_value(value: str) -> list[str]:
    """``IsValidLabelValue``: empty, or at most 63 bytes of a qualified-name-like string."""
    if value in _valid_label_values or not value:
        return []
    if len(value) <= LABEL_VALUE_MAX_LENGTH and _FAST_QNAME_RE.fullmatch(value):
        return _remember(_valid_label_values, value)
    errs: list[str] = []
    if _blen(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(_LABEL_VALUE_REGEX_ERROR)
    return errs


# --------------------------------------------------------------------------------------------
# DNS names

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric "
                      "characters or '-', and must start and end with an alphanumeric character")
DNS1123_LABEL_MAX_LENGTH = 63
_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_LABEL_REGEX_ERROR = regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT,
                                         "my-name", "123-abc")

_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = ("a lowercase RFC 1123 subdomain must consist of lower case "
                          "alphanumeric characters, '-' or '.', and must start and end with an "
                          "alphanumeric character")
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1123_SUBDOMAIN_REGEX_ERROR = regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT,
                                             "example.com")

_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_ERR = ("a DNS-1035 label must consist of lower case alphanumeric characters or "
                      "'-', start with an alphabetic character, and end with an alphanumeric "
                      "character")
DNS1035_LABEL_MAX_LENGTH = 63
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_DNS1035_LABEL_REGEX_ERROR = regex_error(_DNS1035_LABEL_ERR, _DNS1035_LABEL_FMT,
                                         "my-name", "abc-123")

_valid_dns1123_labels: set[str] = set()
_valid_dns1123_subdomains: set[str] = set()
_valid_dns1035_labels: set[str] = set()
KNOWN_DNS1123_LABELS = _valid_dns1123_labels
"""Strings :func:`is_dns1123_label` has accepted (a cache: absence proves nothing)."""
KNOWN_DNS1123_SUBDOMAINS = _valid_dns1123_subdomains
"""Strings :func:`is_dns1123_subdomain` has accepted (a cache)."""
KNOWN_DNS1035_LABELS = _valid_dns1035_labels
"""Strings :func:`is_dns1035_label` has accepted (a cache)."""

_WILDCARD_FMT = "\\*\\." + _DNS1123_SUBDOMAIN_FMT
_WILDCARD_ERR = ("a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS "
                 "subdomain, which must consist of lower case alphanumeric characters, '-' or '.' "
                 "and end with an alphanumeric character")
_WILDCARD_RE = re.compile(_WILDCARD_FMT)


def is_dns1123_label(value: str) -> list[str]:
    """``IsDNS1123Label``: at most 63 bytes of ``[a-z0-9-]``, alphanumeric at both ends.

    A value that would be a valid subdomain gets the short ``must not contain dots``.
    """
    if value in _valid_dns1123_labels:
        return []
    if len(value) <= DNS1123_LABEL_MAX_LENGTH and _FAST_DNS1123_LABEL_RE.fullmatch(value):
        return _remember(_valid_dns1123_labels, value)
    errs: list[str] = []
    if _blen(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value):
            errs.append("must not contain dots")
        else:
            errs.append(_DNS1123_LABEL_REGEX_ERROR)
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    """``IsDNS1123Subdomain``: dot-separated DNS-1123 labels, at most 253 bytes in all."""
    if value in _valid_dns1123_subdomains:
        return []
    if (len(value) <= DNS1123_SUBDOMAIN_MAX_LENGTH
            and _FAST_DNS1123_SUBDOMAIN_RE.fullmatch(value)):
        return _remember(_valid_dns1123_subdomains, value)
    errs: list[str] = []
    if _blen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(_DNS1123_SUBDOMAIN_REGEX_ERROR)
    return errs


def is_dns1035_label(value: str) -> list[str]:
    """``IsDNS1035Label``: like a DNS-1123 label but starting with a letter (Service names)."""
    if _known(_valid_dns1035_labels, value):
        return []
    if len(value) <= DNS1035_LABEL_MAX_LENGTH and _DNS1035_LABEL_RE.fullmatch(value):
        return _remember(_valid_dns1035_labels, value)
    errs: list[str] = []
    if _blen(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(_DNS1035_LABEL_REGEX_ERROR)
    return errs


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    """``IsWildcardDNS1123Subdomain``: ``*.`` followed by a DNS subdomain."""
    errs: list[str] = []
    if _blen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _WILDCARD_RE.fullmatch(value):
        errs.append(regex_error(_WILDCARD_ERR, _WILDCARD_FMT, "*.example.com"))
    return errs


def is_fully_qualified_name(path: str, name: str) -> list[FieldError]:
    """``IsFullyQualifiedName``: a DNS subdomain with at least three dot-separated segments."""
    if not name:
        return [FieldError.required(path, "")]
    errs = is_dns1123_subdomain(name)
    if errs:
        return [FieldError.invalid(path, name, ",".join(errs))]
    if len(name.split(".")) < 3:
        return [FieldError.invalid(path, name, "should be a domain with at least three segments "
                                               "separated by dots")]
    return []


def is_fully_qualified_domain_name(path: str, name: str) -> list[FieldError]:
    """``IsFullyQualifiedDomainName``: at least two segments, each a DNS-1123 label; one
    trailing dot is allowed."""
    if not name:
        return [FieldError.required(path, "")]
    if name.endswith("."):
        name = name[:-1]
    errs = is_dns1123_subdomain(name)
    if errs:
        return [FieldError.invalid(path, name, ",".join(errs))]
    labels = name.split(".")
    if len(labels) < 2:
        return [FieldError.invalid(path, name, "should be a domain with at least two segments "
                                               "separated by dots")]
    for label in labels:
        errs = is_dns1123_label(label)
        if errs:
            return [FieldError.invalid(path, label, ",".join(errs))]
    return []


_HTTP_PATH_FMT = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
_HTTP_PATH_RE = re.compile(_HTTP_PATH_FMT)


def is_domain_prefixed_path(path: str, dp_path: str) -> list[FieldError]:
    """``IsDomainPrefixedPath``: ``<dns subdomain>/<http path>``, e.g. ``acme.io/foo``."""
    if not dp_path:
        return [FieldError.required(path, "")]
    host, sep, rest = dp_path.partition("/")
    if not sep or not host or not rest:
        return [FieldError.invalid(path, dp_path,
                                   'must be a domain-prefixed path (such as "acme.io/foo")')]
    errs = [FieldError.invalid(path, host, m) for m in is_dns1123_subdomain(host)]
    if not _HTTP_PATH_RE.fullmatch(rest):
        errs.append(FieldError.invalid(path, rest, regex_error("Invalid path", _HTTP_PATH_FMT)))
    return errs


# --------------------------------------------------------------------------------------------
# Identifiers, numbers, ports

_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_RE = re.compile(_C_IDENTIFIER_FMT)
_C_IDENTIFIER_ERROR = regex_error(
    "a valid C identifier must start with alphabetic character or '_', followed by a string of "
    "alphanumeric characters or '_'", _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")


def is_c_identifier(value: str) -> list[str]:
    """``IsCIdentifier``: ``[A-Za-z_][A-Za-z0-9_]*`` (format only, no length limit)."""
    return [] if _C_IDENTIFIER_RE.fullmatch(value) else [_C_IDENTIFIER_ERROR]


def is_valid_port_num(port: int) -> list[str]:
    """``IsValidPortNum``: 1..65535."""
    return [] if 1 <= port <= 65535 else [inclusive_range_error(1, 65535)]


def is_in_range(value: int, lo: int, hi: int) -> list[str]:
    """``IsInRange``: ``lo <= value <= hi``."""
    return [] if lo <= value <= hi else [inclusive_range_error(lo, hi)]


_MAX_ID = 2**31 - 1  # v1.31: math.MaxInt32 for both UIDs and GIDs


def is_valid_user_id(uid: int) -> list[str]:
    """``IsValidUserID``: 0..2147483647."""
    return [] if 0 <= uid <= _MAX_ID else [inclusive_range_error(0, _MAX_ID)]


def is_valid_group_id(gid: int) -> list[str]:
    """``IsValidGroupID``: 0..2147483647."""
    return [] if 0 <= gid <= _MAX_ID else [inclusive_range_error(0, _MAX_ID)]


_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE = re.compile("[a-z]")
_PORT_NAME_FAST = re.compile("[a-z0-9]+(?:-[a-z0-9]+)*")
_valid_port_names: set[str] = set()
KNOWN_PORT_NAMES = _valid_port_names
"""Strings :func:`is_valid_port_name` has accepted (a cache)."""


def is_valid_port_name(port: str) -> list[str]:
    """``IsValidPortName`` (an IANA_SVC_NAME): at most 15 characters of ``[-a-z0-9]``, at
    least one letter, no ``--``, no hyphen at either end. Every failed rule is reported."""
    if _known(_valid_port_names, port):
        return []
    if len(port) <= 15 and _PORT_NAME_FAST.fullmatch(port) and _PORT_NAME_LETTER_RE.search(port):
        return _remember(_valid_port_names, port)
    errs: list[str] = []
    if _blen(port) > 15:
        errs.append(max_len_error(15))
    if not _PORT_NAME_CHARSET_RE.fullmatch(port):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.search(port):
        errs.append("must contain at least one letter (a-z)")
    if "--" in port:
        errs.append("must not contain consecutive hyphens")
    if port and (port[0] == "-" or port[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


_PERCENT_FMT = "[0-9]+%"
_PERCENT_RE = re.compile(_PERCENT_FMT)
_PERCENT_ERROR = regex_error("a valid percent string must be a numeric string followed by an "
                             "ending '%'", _PERCENT_FMT, "1%", "93%")


def is_valid_percent(percent: str) -> list[str]:
    """``IsValidPercent``: digits followed by ``%``."""
    return [] if _PERCENT_RE.fullmatch(percent) else [_PERCENT_ERROR]


_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"
_HTTP_HEADER_RE = re.compile(_HTTP_HEADER_FMT)
_HTTP_HEADER_ERROR = regex_error("a valid HTTP header must consist of alphanumeric characters "
                                 "or '-'", _HTTP_HEADER_FMT, "X-Header-Name")


def is_http_header_name(value: str) -> list[str]:
    """``IsHTTPHeaderName``: ``[-A-Za-z0-9]+``."""
    return [] if _HTTP_HEADER_RE.fullmatch(value) else [_HTTP_HEADER_ERROR]


def _chdir_prefix_errors(value: str) -> list[str]:
    """``hasChDirPrefix``: keys that would be unsafe as file names."""
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


_ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV_VAR_RE = re.compile(_ENV_VAR_FMT)
_ENV_VAR_ERROR = regex_error("a valid environment variable name must consist of alphabetic "
                             "characters, digits, '_', '-', or '.', and must not start with a "
                             "digit", _ENV_VAR_FMT, "my.env-name", "MY_ENV.NAME", "MyEnvName1")
_RELAXED_ENV_VAR_ERROR = ("a valid environment variable name must consist only of printable "
                          "ASCII characters other than '='")
_RELAXED_ENV_VAR_RE = re.compile("[ -<>-~]+")  # printable ASCII without '='


_valid_env_var_names: set[str] = set()
KNOWN_ENV_VAR_NAMES = _valid_env_var_names
"""Strings :func:`is_env_var_name` (the strict rule) has accepted (a cache)."""


def is_env_var_name(value: str) -> list[str]:
    """``IsEnvVarName``: the strict rule (v1.31's default; RelaxedEnvironmentVariableValidation
    is alpha and off)."""
    if _known(_valid_env_var_names, value):
        return []
    if _ENV_VAR_RE.fullmatch(value) and value[:1] != ".":
        return _remember(_valid_env_var_names, value)
    errs = [] if _ENV_VAR_RE.fullmatch(value) else [_ENV_VAR_ERROR]
    if value.startswith("."):
        errs.extend(_chdir_prefix_errors(value))
    return errs


def is_relaxed_env_var_name(value: str) -> list[str]:
    """``IsRelaxedEnvVarName``: any printable ASCII except ``=`` (feature-gated upstream)."""
    if not value:
        return ["environment variable name " + empty_error()]
    return [] if _RELAXED_ENV_VAR_RE.fullmatch(value) else [_RELAXED_ENV_VAR_ERROR]


_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_RE = re.compile(_CONFIG_MAP_KEY_FMT)
_CONFIG_MAP_KEY_ERROR = regex_error("a valid config key must consist of alphanumeric "
                                    "characters, '-', '_' or '.'", _CONFIG_MAP_KEY_FMT,
                                    "key.name", "KEY_NAME", "key-name")


_valid_config_map_keys: set[str] = set()


def is_config_map_key(value: str) -> list[str]:
    """``IsConfigMapKey``: a ConfigMap or Secret data key (also a file name in a volume)."""
    if _known(_valid_config_map_keys, value):
        return []
    if (len(value) <= DNS1123_SUBDOMAIN_MAX_LENGTH and _CONFIG_MAP_KEY_RE.fullmatch(value)
            and not value.startswith(".")):
        return _remember(_valid_config_map_keys, value)
    errs: list[str] = []
    if _blen(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_MAP_KEY_RE.fullmatch(value):
        errs.append(_CONFIG_MAP_KEY_ERROR)
    errs.extend(_chdir_prefix_errors(value))
    return errs


# --------------------------------------------------------------------------------------------
# IP addresses (k8s.io/utils/net ParseIPSloppy: Go 1.16's net.ParseIP, which accepts IPv4
# octets with leading zeros and rejects IPv6 zones)

_IPV4_SLOPPY = re.compile(r"(\d+)\.(\d+)\.(\d+)\.(\d+)", re.ASCII)
_IP_ERROR = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
_CIDR_ERROR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _parse_ipv4_sloppy(s: str) -> bool:
    m = _IPV4_SLOPPY.fullmatch(s)
    return m is not None and all(int(octet) <= 255 for octet in m.groups())


def _parse_ipv6_sloppy(s: str) -> ipaddress.IPv6Address | None:
    if "%" in s or not s.isascii():
        return None
    head, _, tail = s.rpartition(":")
    if "." in tail:  # embedded IPv4: normalise leading zeros, as Go's parser allows them
        if not _parse_ipv4_sloppy(tail):
            return None
        s = head + ":" + ".".join(str(int(o)) for o in tail.split("."))
    try:
        return ipaddress.IPv6Address(s)
    except ValueError:
        return None


# Families of addresses already parsed (the same node, pod and service IPs recur on every
# status write). Bounded like the memo sets: cleared when full.
_ip_families: dict[str, int] = {}


def ip_family(value: str) -> int:
    """4 for an address ``ParseIPSloppy`` accepts as IPv4 (an IPv4-mapped IPv6 address too,
    matching Go's ``To4() != nil``), 6 for any other address it accepts, 0 for text it
    rejects. Cached: a dict lookup for an address seen before."""
    try:
        family = _ip_families.get(value)
    except TypeError:  # unhashable: not an address (the parser says so, or raises as before)
        return _parse_ip_family(value)
    if family is None:
        family = _parse_ip_family(value)
        if len(_ip_families) >= _MEMO_LIMIT:
            _ip_families.clear()
        _ip_families[value] = family
    return family


_ip_family = ip_family


def _parse_ip_family(value: str) -> int:
    """:func:`ip_family` without the cache. The first ``.`` or ``:`` decides the syntax."""
    for ch in value:
        if ch == ".":
            return 4 if _parse_ipv4_sloppy(value) else 0
        if ch == ":":
            ip = _parse_ipv6_sloppy(value)
            if ip is None:
                return 0
            return 4 if ip.ipv4_mapped is not None else 6
    return 0


def is_valid_ip(value: str) -> list[str]:
    """``IsValidIP`` (v1.31, ``ParseIPSloppy``): any IPv4 or IPv6 address."""
    return [] if _ip_family(value) else [_IP_ERROR]


def is_valid_ipv4(value: str) -> list[str]:
    """``IsValidIPv4Address``: an IPv4 address (an IPv4-mapped IPv6 address passes, as in Go)."""
    return [] if _ip_family(value) == 4 else ["must be a valid IPv4 address"]


def is_valid_ipv6(value: str) -> list[str]:
    """``IsValidIPv6Address``: an IPv6 address that is not IPv4-mapped."""
    return [] if _ip_family(value) == 6 else ["must be a valid IPv6 address"]


def is_valid_cidr(value: str) -> list[str]:
    """``IsValidCIDR`` (``ParseCIDRSloppy``): ``<ip>/<prefix length>``; host bits may be set."""
    addr, slash, mask = value.partition("/")
    if not slash or not mask.isascii() or not mask.isdigit():
        return [_CIDR_ERROR]
    if _parse_ipv4_sloppy(addr):
        bits = 32
    elif _parse_ipv6_sloppy(addr) is not None:
        bits = 128
    else:
        return [_CIDR_ERROR]
    return [] if int(mask) <= bits else [_CIDR_ERROR]


# --------------------------------------------------------------------------------------------
# Names used as URL path segments (api/validation/path/name.go)

_PATH_SEGMENT_FORBIDDEN = ("/", "%")


def is_valid_path_segment_name(name: str) -> list[str]:
    """``IsValidPathSegmentName``: not ``.`` or ``..``, and no ``/`` or ``%``."""
    if name == "." or name == "..":
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in _PATH_SEGMENT_FORBIDDEN if c in name]


def is_valid_path_segment_prefix(name: str) -> list[str]:
    """``IsValidPathSegmentPrefix``: no ``/`` or ``%`` (a suffix will follow, so ``.`` is fine)."""
    return [f"may not contain '{c}'" for c in _PATH_SEGMENT_FORBIDDEN if c in name]


def validate_path_segment_name(name: str, prefix: bool) -> list[str]:
    """``ValidatePathSegmentName``: the name check of kinds whose names are only required to
    be safe in a URL path (e.g. RBAC roles and bindings)."""
    return is_valid_path_segment_prefix(name) if prefix else is_valid_path_segment_name(name)


# --------------------------------------------------------------------------------------------
# ValidateNameFunc (api/validation/generic.go): ``prefix`` is true for a generateName


def _mask_trailing_dash(name: str) -> str:
    """``maskTrailingDash``: a generateName may end in ``-``. Upstream replaces the last TWO
    characters with ``a`` (``name[:len(name)-2] + "a"``), and so does this. (For the name
    ``-`` alone upstream's slice panics; here it becomes ``a``.)"""
    if name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSSubdomain``: most kinds' ``metadata.name`` rule."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNSLabel``: e.g. Namespace names."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool) -> list[str]:
    """``NameIsDNS1035Label``: e.g. Service names."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)
