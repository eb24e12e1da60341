"""Reading IAM policy documents the way IAM does, for the risk rules (pure, no database).

Identity policies (:class:`PolicySet`)
    * ``Effect`` Allow / Deny; an explicit, *unconditional* Deny that covers the action on the
      resource wins over every Allow. A Deny with a ``Condition`` may not apply, so it never cancels
      anything; an Allow with a ``Condition`` is "restricted": it counts only when the caller asks
      with ``unconditional_only=False``.
    * ``Action`` / ``NotAction``: service and action names are case-insensitive; ``*`` matches any
      run of characters (including none) and ``?`` exactly one.
    * ``Resource`` / ``NotResource`` with the same wildcards (ARNs compared case-sensitively).
      Asking about ``resource="*"`` means "on every resource of the action's service": an Allow
      counts when its ``Resource`` covers all of them (``"*"``, ``"arn:aws:iam::*:*"`` for IAM...)
      or its ``NotResource`` excludes nothing of that service; a Deny cancels only when it covers
      all of them too (a Deny of part of the resources leaves the action granted elsewhere).
    * A document may be a dict, a JSON string or a URL-encoded JSON string; ``Statement`` may be one
      statement or a list; every field may be a string or a list. Anything malformed is skipped
      and counted in ``malformed``; nothing here raises on hostile input.

Trust policies (:func:`analyze_trust`)
    Allow statements granting ``sts:AssumeRole``, ``AssumeRoleWithWebIdentity``,
    ``AssumeRoleWithSAML`` or ``TagSession``: public principals and whether a condition restricts
    them, AWS accounts (own / organization / allow-listed / external) and whether ``sts:ExternalId``
    is required, federated providers and whether ``<provider>:sub`` / ``:aud`` are pinned.

Parsed documents and whole-identity analyses are cached in bounded module-level LRUs keyed on the
canonical JSON of the documents, so identities sharing policies are evaluated once. Results handed
out (evidence dicts, statements) are shared with the cache: treat them as read-only.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Final, Generic, TypeVar
from urllib.parse import unquote

from inventory.risk.escalation import ESCALATION_PATHS

Evidence = dict[str, Any]

# PRIV-002: service wildcards that make an identity privileged when allowed on every resource.
PRIV_SERVICES: Final[tuple[str, ...]] = ("iam", "sts", "kms", "secretsmanager")
# An Allow of NotAction with at most this many exclusions on every resource is admin-like
# (AWS's PowerUserAccess excludes three services).
NOT_ACTION_ADMIN_MAX: Final = 10
# Fields longer than this are cut in evidence, and patterns beyond MAX_PATTERNS are ignored
# (AWS caps a managed policy at 6,144 characters, so real documents never get near).
EVIDENCE_LIST_MAX: Final = 50
MAX_PATTERNS: Final = 5000

# Synthetic names used to ask "all actions of a service" / "all actions of every service".
_PROBE_SUFFIX: Final = "\x00nhigov-probe"
_PROBE_SERVICE: Final = "\x00nhigov"
_PROBE_ANY: Final = f"{_PROBE_SERVICE}:{_PROBE_SUFFIX}"
# The actions the PRIV rules ask about on "*": every escalation action, iam:PassRole, the
# service probes of PRIV-002 and the everything-probe of PRIV-001. Statements precompute them.
_INTERESTING: Final[tuple[str, ...]] = tuple(
    dict.fromkeys(
        [
            *(a.lower() for path in ESCALATION_PATHS for a in path.actions),
            "iam:passrole",
            *(f"{svc}:{_PROBE_SUFFIX}" for svc in PRIV_SERVICES),
            _PROBE_ANY,
        ]
    )
)
_INTERESTING_SET: Final = frozenset(_INTERESTING)
_INTERESTING_BY_SERVICE: Final[dict[str, tuple[str, ...]]] = {
    svc: tuple(a for a in _INTERESTING if a.partition(":")[0] == svc)
    for svc in {a.partition(":")[0] for a in _INTERESTING}
}
_SAMPLE_RESOURCE: Final = "\x00nhigov/\x00resource"
_SAMPLE_ACCOUNT: Final = "000000000000"
_SAMPLE_REGION: Final = "zz-nhigov-1"

# --------------------------------------------------------------------------------------------
# Wildcard matching
# --------------------------------------------------------------------------------------------


def wildcard_match(pattern: str, text: str) -> bool:
    """IAM wildcard match of ``text`` against ``pattern`` (``*`` any run, ``?`` one character).

    Case-sensitive; callers lowercase both sides for actions. Linear-ish greedy algorithm with
    single backtracking point, so hostile patterns such as ``*a*a*a*a*b`` cannot blow up.
    """
    p_len, t_len = len(pattern), len(text)
    pi = ti = 0
    star = -1
    mark = 0
    while ti < t_len:
        if pi < p_len and (pattern[pi] == "?" or pattern[pi] == text[ti]):
            pi += 1
            ti += 1
        elif pi < p_len and pattern[pi] == "*":
            star = pi
            mark = ti
            pi += 1
        elif star != -1:
            pi = star + 1
            mark += 1
            ti = mark
        else:
            return False
    while pi < p_len and pattern[pi] == "*":
        pi += 1
    return pi == p_len


@lru_cache(maxsize=16384)
def _matcher(pattern: str) -> Callable[[str], object]:
    """A fast predicate for one wildcard pattern: a regex when backtracking is bounded."""
    if pattern.count("*") <= 2 and len(pattern) <= 1024:
        regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
        return re.compile(regex, re.DOTALL).fullmatch
    return partial(wildcard_match, pattern)


class _Patterns:
    """A set of patterns: exact strings in a frozenset, wildcard ones compiled on first use."""

    __slots__ = ("_wild", "exact", "raw", "universal", "wild_raw")

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.raw = patterns
        exact: list[str] = []
        wild: list[str] = []
        universal = False
        for p in patterns:
            if "*" in p or "?" in p:
                wild.append(p)
                universal = universal or not p.strip("*")
            else:
                exact.append(p)
        self.universal = universal
        self.exact = frozenset(exact)
        self.wild_raw = tuple(wild)
        self._wild: tuple[Callable[[str], object], ...] | None = None

    def match(self, text: str) -> bool:
        if self.universal or text in self.exact:
            return True
        if not self.wild_raw:
            return False
        wild = self._wild
        if wild is None:
            wild = self._wild = tuple(_matcher(p) for p in self.wild_raw)
        return any(m(text) for m in wild)


def _touches_service(pattern: str, service: str) -> bool:
    """Could a (Not)Resource pattern match some resource of ``service``?"""
    if not pattern.startswith("arn:"):
        # Not an ARN: only a leading wildcard can reach real ARNs.
        return pattern[:1] in ("*", "?")
    parts = pattern.split(":", 3)
    if len(parts) < 3 or "*" in parts[1]:
        return True
    return wildcard_match(parts[2].lower(), service)


def _covers_service(pattern: str, service: str) -> bool:
    """Does a Resource pattern match every resource of ``service`` (all representative ARNs)?"""
    if not pattern.startswith(("arn:", "*", "?")):
        return False
    return any(wildcard_match(pattern, sample) for sample in _samples(service))


@lru_cache(maxsize=1024)
def _samples(service: str) -> tuple[str, ...]:
    """Representative ARNs "of any resource" of a service (global, account-scoped, regional)."""
    return (
        f"arn:aws:{service}:::{_SAMPLE_RESOURCE}",
        f"arn:aws:{service}::{_SAMPLE_ACCOUNT}:{_SAMPLE_RESOURCE}",
        f"arn:aws:{service}:{_SAMPLE_REGION}:{_SAMPLE_ACCOUNT}:{_SAMPLE_RESOURCE}",
    )


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_UNIVERSAL_ACTION = re.compile(r"\*+(?::\*+)?")


def _strings(value: Any) -> tuple[str, ...]:
    """A string or list of strings as a tuple; non-strings dropped; capped at MAX_PATTERNS."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        if len(value) > MAX_PATTERNS:
            value = value[:MAX_PATTERNS]
        return tuple([v for v in value if isinstance(v, str)])
    return ()


def _bounded(raw: dict[str, Any]) -> dict[str, Any]:
    """The statement as written, with any list longer than EVIDENCE_LIST_MAX cut for evidence."""
    for v in raw.values():
        if isinstance(v, list) and len(v) > EVIDENCE_LIST_MAX:
            break
    else:
        return raw
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, list) and len(v) > EVIDENCE_LIST_MAX:
            out[k] = [*v[:EVIDENCE_LIST_MAX], f"... {len(v) - EVIDENCE_LIST_MAX} more"]
        else:
            out[k] = v
    return out


def _loads(text: str) -> Any:
    """A JSON document given as a string, plain or URL-encoded (as IAM's API returns it)."""
    for candidate in (text, unquote(text)):
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            continue
    return None


def _statement_items(document: Any) -> tuple[list[Any], int]:
    """The raw statements of a document, and 1 if the document itself is malformed."""
    if isinstance(document, str):
        document = _loads(document)
    if not isinstance(document, dict):
        return [], 1
    raw = document.get("Statement")
    if isinstance(raw, dict):
        return [raw], 0
    if isinstance(raw, list):
        return raw, 0
    return [], 1


class _Statement:
    """One identity-policy statement, compiled for matching."""

    __slots__ = (
        "_cover",
        "_interesting",
        "actions",
        "allow",
        "conditional",
        "not_action",
        "not_resource",
        "raw",
        "resources",
        "services",
        "universal_action",
    )

    def __init__(
        self,
        *,
        allow: bool,
        conditional: bool,
        actions: tuple[str, ...],
        not_action: bool,
        resources: tuple[str, ...],
        not_resource: bool,
        raw: dict[str, Any],
    ) -> None:
        self.allow = allow
        self.conditional = conditional
        self.not_action = not_action
        self.actions = _Patterns(actions)
        self.universal_action = not not_action and any(
            _UNIVERSAL_ACTION.fullmatch(a) for a in self.actions.wild_raw if a[0] == "*"
        )
        self.services = None if not_action else _action_services(actions)
        self.not_resource = not_resource
        self.resources = _Patterns(resources)
        self.raw = _bounded(raw)
        self._cover: dict[str, bool] = {}
        self._interesting: frozenset[str] | None = None

    def matches_action(self, action: str) -> bool:
        """``action`` must be lowercased."""
        return self.actions.match(action) is not self.not_action

    def applies_to_resource(self, service: str, resource: str) -> bool:
        if resource == "*":
            covered = self._cover.get(service)
            if covered is None:
                if self.not_resource:
                    covered = not any(_touches_service(p, service) for p in self.resources.raw)
                else:
                    covered = self.resources.universal or any(
                        _covers_service(p, service) for p in self.resources.wild_raw
                    )
                self._cover[service] = covered
            return covered
        return self.resources.match(resource) is not self.not_resource

    def interesting(self) -> frozenset[str]:
        """The INTERESTING actions this statement covers on every resource (computed once; the
        statement is shared by every identity whose policies contain its document)."""
        found = self._interesting
        if found is None:
            if self.services is None:
                candidates: Iterable[str] = _INTERESTING
            else:
                candidates = [
                    a for svc in self.services for a in _INTERESTING_BY_SERVICE.get(svc, ())
                ]
            found = frozenset(
                a
                for a in candidates
                if self.matches_action(a) and self.applies_to_resource(_service_of(a), "*")
            )
            self._interesting = found
        return found


def _service_of(action: str) -> str:
    return action.partition(":")[0]


def _action_services(actions: tuple[str, ...]) -> frozenset[str] | None:
    """The services the action patterns can match, or None when a pattern may match any."""
    services: set[str] = set()
    for a in actions:
        service, colon, _ = a.partition(":")
        if not colon or "*" in service or "?" in service:
            return None
        services.add(service)
    return frozenset(services)


def _parse_statement(item: Any) -> _Statement | None:
    """A compiled statement, or None when it is malformed (IAM would have refused it)."""
    if not isinstance(item, dict):
        return None
    effect = item.get("Effect")
    if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
        return None
    has_action, has_not_action = "Action" in item, "NotAction" in item
    has_resource, has_not_resource = "Resource" in item, "NotResource" in item
    if has_action == has_not_action or has_resource == has_not_resource:
        return None
    actions = _strings(item["Action"] if has_action else item["NotAction"])
    resources = _strings(item["Resource"] if has_resource else item["NotResource"])
    if not actions or not resources:
        return None
    condition = item.get("Condition")
    if condition is not None and not isinstance(condition, dict):
        return None
    return _Statement(
        allow=effect.lower() == "allow",
        conditional=bool(condition),
        actions=tuple([a.lower() for a in actions]),
        not_action=has_not_action,
        resources=resources,
        not_resource=has_not_resource,
        raw=item,
    )


@dataclass(frozen=True, slots=True)
class _ParsedDocument:
    statements: tuple[_Statement, ...]
    malformed: int


def _parse_document(document: Any) -> _ParsedDocument:
    items, malformed = _statement_items(document)
    statements: list[_Statement] = []
    for item in items:
        parsed = _parse_statement(item)
        if parsed is None:
            malformed += 1
        else:
            statements.append(parsed)
    return _ParsedDocument(tuple(statements), malformed)


# --------------------------------------------------------------------------------------------
# Caches
# --------------------------------------------------------------------------------------------

K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small thread-safe LRU map (module-level caches shared by worker threads)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


_DOCUMENTS: _LRU[str, _ParsedDocument] = _LRU(8192)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(document: Any) -> str | None:
    """The document as canonical JSON (sorted keys), or None when it is not JSON-serialisable."""
    try:
        return _CANONICAL.encode(document)
    except (TypeError, ValueError, RecursionError):
        return None


def _parsed(document: Any, key: str | None) -> _ParsedDocument:
    if key is None:
        return _parse_document(document)
    hit = _DOCUMENTS.get(key)
    if hit is None:
        hit = _parse_document(document)
        _DOCUMENTS.put(key, hit)
    return hit


def clear_caches() -> None:
    """Forget every parsed document and analysis (tests, or after a code reload)."""
    _DOCUMENTS.clear()
    _ANALYSES.clear()
    _TRUSTS.clear()


# --------------------------------------------------------------------------------------------
# Policy sets
# --------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """Where a statement comes from: the attachment as the identity view lists it."""

    source: str
    name: str
    arn: str = ""
    group: str = ""
    role: str = ""

    @classmethod
    def of(cls, policy: Mapping[str, Any]) -> PolicyRef:
        return cls(
            source=_text(policy.get("source")),
            name=_text(policy.get("name")),
            arn=_text(policy.get("arn")),
            group=_text(policy.get("group")),
            role=_text(policy.get("role")),
        )

    def evidence(self) -> Evidence:
        out: Evidence = {"policy": self.name, "source": self.source}
        for field_name in ("arn", "group", "role"):
            value = getattr(self, field_name)
            if value:
                out[field_name] = value
        return out


_Entry = tuple[PolicyRef, _Statement]


class PolicySet:
    """Every statement of every policy of one identity, evaluated together.

    Build with :meth:`from_policies`. Queries are memoised per instance. ``malformed`` counts the
    documents and statements that were skipped.
    """

    __slots__ = (
        "_any",
        "_by_service",
        "_candidates",
        "_effective",
        "_evidence",
        "_memo",
        "entries",
        "malformed",
    )

    def __init__(self, entries: Iterable[_Entry], malformed: int = 0) -> None:
        self.entries: tuple[_Entry, ...] = tuple(entries)
        self.malformed = malformed
        self._any: list[int] = []
        self._by_service: dict[str, list[int]] = {}
        for index, (_ref, st) in enumerate(self.entries):
            if st.services is None:
                self._any.append(index)
            else:
                for service in st.services:
                    self._by_service.setdefault(service, []).append(index)
        self._candidates: dict[str, tuple[_Entry, ...]] = {}
        self._memo: dict[tuple[str, str, bool], tuple[_Entry, ...]] = {}
        self._evidence: dict[tuple[int, int], Evidence] = {}
        self._effective: dict[str, tuple[_Entry, ...]] | None = None

    @classmethod
    def from_policies(cls, policies: Any) -> PolicySet:
        """From an identity view's ``policies`` (each ``{"source", "name", "document", ...}``).

        Never raises: entries that are not dicts and documents or statements IAM would refuse are
        skipped and counted in ``malformed``.
        """
        return cls._build(_policy_entries(policies))

    @classmethod
    def _build(cls, prepared: list[tuple[PolicyRef, Any, str | None]]) -> PolicySet:
        entries: list[_Entry] = []
        malformed = 0
        for ref, document, key in prepared:
            if ref is _MALFORMED_REF:
                malformed += 1
                continue
            parsed = _parsed(document, key)
            malformed += parsed.malformed
            entries.extend((ref, st) for st in parsed.statements)
        return cls(entries, malformed)

    # --- the core question ------------------------------------------------------------------

    def _for_service(self, service: str) -> tuple[_Entry, ...]:
        found = self._candidates.get(service)
        if found is None:
            indexes = sorted([*self._any, *self._by_service.get(service, ())])
            found = tuple(self.entries[i] for i in indexes)
            self._candidates[service] = found
        return found

    def _grants(self, action: str, resource: str, unconditional_only: bool) -> tuple[_Entry, ...]:
        """The statements that grant ``action`` (lowercased) on ``resource``; () when denied."""
        memo_key = (action, resource, unconditional_only)
        found = self._memo.get(memo_key)
        if found is not None:
            return found
        service = action.partition(":")[0]
        granted: list[_Entry] = []
        denied = False
        for entry in self._for_service(service):
            st = entry[1]
            if st.conditional and (unconditional_only or not st.allow):
                continue
            if not st.matches_action(action) or not st.applies_to_resource(service, resource):
                continue
            if not st.allow:
                denied = True
                break
            granted.append(entry)
        result: tuple[_Entry, ...] = () if denied else tuple(granted)
        self._memo[memo_key] = result
        return result

    def _effective_interesting(self) -> dict[str, tuple[_Entry, ...]]:
        """INTERESTING action -> the unconditional Allows granting it on "*", Denies applied."""
        found = self._effective
        if found is None:
            allowed: dict[str, list[_Entry]] = {}
            denied: set[str] = set()
            for entry in self.entries:
                st = entry[1]
                if st.conditional:
                    continue
                if st.allow:
                    for action in st.interesting():
                        allowed.setdefault(action, []).append(entry)
                else:
                    denied.update(st.interesting())
            found = {a: tuple(v) for a, v in allowed.items() if a not in denied}
            self._effective = found
        return found

    def _grants_star(self, action: str) -> tuple[_Entry, ...]:
        """``_grants(action, "*", True)`` (``action`` lowercased), precomputed when interesting."""
        if action in _INTERESTING_SET:
            return self._effective_interesting().get(action, ())
        return self._grants(action, "*", True)

    def is_allowed(
        self, action: str, resource: str = "*", *, unconditional_only: bool = True
    ) -> bool:
        """Is ``action`` allowed on ``resource`` (``"*"``: on every resource of its service)?

        Explicit unconditional Deny wins. With ``unconditional_only`` (the default) an Allow that
        carries a Condition does not count; without it, it does. Conditional Denies never cancel.
        """
        if not isinstance(action, str) or not isinstance(resource, str):
            return False
        if resource == "*" and unconditional_only:
            return bool(self._grants_star(action.lower()))
        return bool(self._grants(action.lower(), resource, unconditional_only))

    def _statement_evidence(self, entry: _Entry, note: str = "") -> Evidence:
        ref, st = entry
        cache_key = (id(ref), id(st))
        base = self._evidence.get(cache_key)
        if base is None:
            effect = "Allow" if st.allow else "Deny"
            base = {**ref.evidence(), "effect": effect, "statement": st.raw}
            self._evidence[cache_key] = base
        return {**base, "note": note} if note else base

    def granting_statements(
        self, action: str, resource: str = "*", *, unconditional_only: bool = True
    ) -> list[Evidence]:
        """Evidence for :meth:`is_allowed`: the Allow statements that grant it (empty if not)."""
        if not isinstance(action, str) or not isinstance(resource, str):
            return []
        if resource == "*" and unconditional_only:
            entries = self._grants_star(action.lower())
        else:
            entries = self._grants(action.lower(), resource, unconditional_only)
        return [self._statement_evidence(e) for e in entries]

    def matching_statements(self, action: str) -> list[Evidence]:
        """Every statement (Allow or Deny, any resource, any condition) whose action part matches
        ``action``, as evidence: policy name, source, effect and the statement as written."""
        if not isinstance(action, str):
            return []
        action = action.lower()
        service = action.partition(":")[0]
        return [
            self._statement_evidence(e)
            for e in self._for_service(service)
            if e[1].matches_action(action)
        ]

    # --- the privilege questions --------------------------------------------------------------

    def allows_everything(self) -> tuple[bool, list[Evidence]]:
        """PRIV-001: ``"*"`` on ``"*"`` allowed, unconditionally, and not cancelled by a Deny.

        Admin-like too: an Allow of ``NotAction`` with at most NOT_ACTION_ADMIN_MAX exclusions, and
        an Allow of ``"*"`` with ``NotResource`` (everything but a few resources). The evidence
        lists the granting statements, each with a note saying why it counts.
        """
        evidence: list[Evidence] = []
        for entry in self._grants_star(_PROBE_ANY):
            st = entry[1]
            if st.universal_action:
                note = 'Action "*": every action'
            elif st.not_action and len(st.actions.raw) <= NOT_ACTION_ADMIN_MAX:
                note = "NotAction: every action except " + ", ".join(st.actions.raw)
            else:
                continue
            if st.not_resource:
                note += "; NotResource: every resource except " + ", ".join(st.resources.raw[:10])
            else:
                note += ", on every resource"
            evidence.append(self._statement_evidence(entry, note))
        return bool(evidence), evidence

    def service_wildcards(
        self, services: Iterable[str] = PRIV_SERVICES
    ) -> dict[str, list[Evidence]]:
        """PRIV-002: for each service whose every action is allowed on every resource (``svc:*``,
        ``*``, or a NotAction that leaves it whole) and not wholly denied, the granting statements.
        """
        out: dict[str, list[Evidence]] = {}
        for service in services:
            if not isinstance(service, str):
                continue
            svc = service.lower()
            grants = self._grants_star(f"{svc}:{_PROBE_SUFFIX}")
            if grants:
                out[svc] = [
                    self._statement_evidence(e, f"every {svc} action on every resource")
                    for e in grants
                ]
        return out


_MALFORMED_REF = PolicyRef(source="\x00malformed", name="")


def _policy_entries(policies: Any) -> list[tuple[PolicyRef, Any, str | None]]:
    """Each policy's reference, document and cache key (canonical JSON)."""
    if not isinstance(policies, list | tuple):
        return []
    out: list[tuple[PolicyRef, Any, str | None]] = []
    for policy in policies:
        if not isinstance(policy, dict):
            out.append((_MALFORMED_REF, None, None))
            continue
        document = policy.get("document")
        out.append((PolicyRef.of(policy), document, canonical_json(document)))
    return out


# --------------------------------------------------------------------------------------------
# Escalation and the whole-identity analysis
# --------------------------------------------------------------------------------------------


_PATHS: Final = tuple(
    (
        path,
        tuple((a, a.lower()) for a in path.actions),
        frozenset(a.lower() for a in path.actions),
    )
    for path in ESCALATION_PATHS
)
_ESCALATION_ACTIONS: Final = frozenset(a.lower() for p in ESCALATION_PATHS for a in p.actions)


def escalation_paths(policy_set: PolicySet) -> list[dict[str, Any]]:
    """PRIV-003: the published escalation paths whose every action is effectively allowed.

    Actions are checked on ``Resource: "*"`` over ALL of the identity's statements together
    (``iam:PassRole`` in one policy and ``lambda:CreateFunction`` in another make a path), and an
    unconditional Deny on any one of them cancels the path. Each result: ``id``, ``name``,
    ``description``, ``actions`` and ``grants`` (action -> the statements that grant it).
    """
    found: list[dict[str, Any]] = []
    effective = policy_set._effective_interesting()
    if _ESCALATION_ACTIONS.isdisjoint(effective):
        return found
    for path, actions, needed in _PATHS:
        if not needed <= effective.keys():
            continue
        grants = {
            action: [policy_set._statement_evidence(e) for e in effective[lower]]
            for action, lower in actions
        }
        if grants:
            found.append(
                {
                    "id": path.id,
                    "name": path.name,
                    "description": path.description,
                    "actions": list(path.actions),
                    "grants": grants,
                }
            )
    return found


@dataclass(frozen=True, slots=True)
class PrivilegeAnalysis:
    """What an identity's policies allow that matters to the PRIV rules.

    ``admin``: PRIV-001 evidence (empty when not admin); ``service_wildcards``: PRIV-002, service
    -> evidence; ``escalations``: PRIV-003 paths (see :func:`escalation_paths`); ``pass_role``:
    PRIV-004 evidence (``iam:PassRole`` on ``*``); ``malformed``: skipped documents/statements.
    When ``admin`` is set the three others are left empty: they are implied by it.
    """

    admin: tuple[Evidence, ...]
    service_wildcards: dict[str, list[Evidence]]
    escalations: tuple[dict[str, Any], ...]
    pass_role: tuple[Evidence, ...]
    malformed: int

    @property
    def is_admin(self) -> bool:
        return bool(self.admin)

    @property
    def privileged(self) -> bool:
        """PRIV-001, PRIV-002 or PRIV-003 would fire."""
        return bool(self.admin or self.service_wildcards or self.escalations)


_ANALYSES: _LRU[tuple[Any, ...], PrivilegeAnalysis] = _LRU(4096)
_NO_PRIVILEGES: Final = PrivilegeAnalysis((), {}, (), (), 0)


def analyze_policies(policies: Any) -> PrivilegeAnalysis:
    """The PRIV analysis of an identity's policies, cached on the policies' canonical form."""
    prepared = _policy_entries(policies)
    if not prepared:
        return _NO_PRIVILEGES
    cache_key: tuple[Any, ...] | None = tuple(
        (ref.source, ref.name, ref.arn, ref.group, ref.role, key) for ref, _doc, key in prepared
    )
    if any(key is None and ref is not _MALFORMED_REF for ref, _doc, key in prepared):
        cache_key = None
    if cache_key is not None:
        hit = _ANALYSES.get(cache_key)
        if hit is not None:
            return hit
    ps = PolicySet._build(prepared)
    admin, admin_evidence = ps.allows_everything()
    if admin:
        # Everything else is implied; the rules report PRIV-001 alone.
        analysis = PrivilegeAnalysis(tuple(admin_evidence), {}, (), (), ps.malformed)
    else:
        analysis = PrivilegeAnalysis(
            admin=(),
            service_wildcards=ps.service_wildcards(),
            escalations=tuple(escalation_paths(ps)),
            pass_role=tuple(ps.granting_statements("iam:PassRole")),
            malformed=ps.malformed,
        )
    if cache_key is not None:
        _ANALYSES.put(cache_key, analysis)
    return analysis


# --------------------------------------------------------------------------------------------
# Trust policies
# --------------------------------------------------------------------------------------------

ASSUME_ACTIONS: Final[tuple[str, ...]] = (
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
)
# Condition keys that confine a public principal to known callers.
PUBLIC_RESTRICTING_KEYS: Final[frozenset[str]] = frozenset(
    {
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourceowner",
        "aws:userid",
        "sts:externalid",
    }
)
_ARN_KEYS: Final = frozenset({"aws:principalarn", "aws:sourcearn"})
_POSITIVE_OPERATORS: Final = frozenset(
    {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}
)
_NEGATED_OPERATORS: Final = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)
# Web identity providers whose ``aud`` names the application (a pinned aud is enough); for the
# others (GitHub Actions, EKS, GitLab...) ``aud`` is the STS default and ``sub`` must be pinned.
APP_AUDIENCE_PROVIDERS: Final[frozenset[str]] = frozenset(
    {
        "cognito-identity.amazonaws.com",
        "accounts.google.com",
        "graph.facebook.com",
        "www.amazon.com",
    }
)

_ACCOUNT_ID = re.compile(r"\d{12}")
_PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:(?:iam|sts)::([^:]*):(.*)", re.DOTALL)
_FEDERATED_ARN = re.compile(
    r"arn:aws[a-z-]*:iam::[^:]*:(oidc-provider|saml-provider)/(.+)", re.DOTALL | re.IGNORECASE
)

_Condition = tuple[str, str, tuple[str, ...]]  # (operator, key, values), lowercased op and key


def _operator(op: str) -> tuple[str, bool]:
    """The base operator and whether it may pass when the key is absent (IfExists/ForAllValues)."""
    lax = op.endswith("ifexists") or op.startswith("forallvalues:")
    base = op.removesuffix("ifexists").removeprefix("forallvalues:").removeprefix("foranyvalue:")
    return base, lax


def _condition_values(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:MAX_PATTERNS]:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
    return tuple(out)


def _conditions(raw: Any) -> tuple[_Condition, ...] | None:
    """A Condition block as (operator, key, values); None when it is not a dict at all."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        return None
    out: list[_Condition] = []
    for op, body in raw.items():
        if not isinstance(op, str) or not isinstance(body, dict):
            continue
        for key, value in body.items():
            if isinstance(key, str):
                out.append((op.lower(), key.lower(), _condition_values(value)))
    return tuple(out)


def _wild_only(text: str, extra: str = "") -> bool:
    """True when ``text`` has nothing but wildcards (and ``extra`` separator characters)."""
    return not text.strip().strip("*?" + extra)


def _restricting_value(key: str, value: str) -> bool:
    """Does a condition value pin something (not ``*``, not ``repo:*``, not any account)?"""
    if _wild_only(value):
        return False
    if key.endswith(":sub"):
        rest = value.strip()
        if rest.lower().startswith("repo:"):
            rest = rest[5:]
        return bool(re.sub(r"[*?:/]", "", rest))
    if key in _ARN_KEYS:
        parts = value.split(":")
        if len(parts) < 6:
            return False
        return bool(_ACCOUNT_ID.fullmatch(parts[4]))
    return True


def _restricted_keys(conditions: Iterable[_Condition]) -> dict[str, tuple[str, ...]]:
    """Keys pinned by a positive operator (no IfExists) whose every value restricts."""
    out: dict[str, tuple[str, ...]] = {}
    for op, key, values in conditions:
        base, lax = _operator(op)
        if lax or base not in _POSITIVE_OPERATORS or not values:
            continue
        if all(_restricting_value(key, v) for v in values):
            out[key] = values
    return out


def _principal_items(value: Any) -> list[tuple[str, str]]:
    """(type, value) pairs of a Principal element: ``"*"`` becomes ("AWS", "*")."""
    if value == "*":
        return [("AWS", "*")]
    if not isinstance(value, dict):
        return []
    out: list[tuple[str, str]] = []
    for kind, entries in value.items():
        if not isinstance(kind, str):
            continue
        normal = {"aws": "AWS", "federated": "Federated", "service": "Service"}.get(
            kind.lower(), kind
        )
        out.extend((normal, v.strip()) for v in _strings(entries))
    return out


def _aws_principal(value: str) -> tuple[str, str]:
    """("public", value) | ("account", account id) | ("unresolved", value)."""
    if value == "*":
        return "public", value
    if _ACCOUNT_ID.fullmatch(value):
        return "account", value
    m = _PRINCIPAL_ARN.fullmatch(value)
    if m:
        account = m.group(1)
        if "*" in account or "?" in account:
            return "public", value
        if _ACCOUNT_ID.fullmatch(account):
            return "account", account
    return "unresolved", value


@dataclass(frozen=True, slots=True)
class PublicGrant:
    """Anyone (``"*"``, ``AWS: "*"``, an account wildcard, or Allow+NotPrincipal) may assume."""

    principal: str
    restricting_conditions: tuple[dict[str, Any], ...]
    statement: Evidence

    @property
    def restricted(self) -> bool:
        return bool(self.restricting_conditions)


@dataclass(frozen=True, slots=True)
class AccountGrant:
    """An AWS account (or one of its users/roles) may assume; ``relation`` is own /
    organization / allow-listed / external."""

    account_id: str
    principal: str
    relation: str
    external_id_required: bool
    statement: Evidence


@dataclass(frozen=True, slots=True)
class FederatedGrant:
    """A web-identity (``oidc``) or SAML provider may assume, and how its tokens are pinned."""

    provider: str
    kind: str  # "oidc" | "saml"
    principal: str
    sub_restricted: bool
    aud_restricted: bool
    sub_values: tuple[str, ...]
    aud_values: tuple[str, ...]
    statement: Evidence

    @property
    def restricted(self) -> bool:
        """SAML is pinned by the IdP itself; OIDC needs ``sub`` (or ``aud`` for app audiences)."""
        if self.kind != "oidc":
            return True
        if self.sub_restricted:
            return True
        return self.provider.lower() in APP_AUDIENCE_PROVIDERS and self.aud_restricted


@dataclass(frozen=True, slots=True)
class TrustAnalysis:
    """Who may assume a role, per Allow statement of its trust policy (Deny honoured)."""

    public: tuple[PublicGrant, ...] = ()
    accounts: tuple[AccountGrant, ...] = ()
    federated: tuple[FederatedGrant, ...] = ()
    services: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    malformed: int = 0

    @property
    def unrestricted_public(self) -> tuple[PublicGrant, ...]:
        """ROLE-002."""
        return tuple(g for g in self.public if not g.restricted)

    @property
    def outside_accounts(self) -> tuple[AccountGrant, ...]:
        """ROLE-003: accounts outside own account, organization and allow-list."""
        return tuple(g for g in self.accounts if g.relation == "external")

    @property
    def third_party_without_external_id(self) -> tuple[AccountGrant, ...]:
        """ROLE-004: accounts outside own account and organization (allow-listed or not) that
        may assume without ``sts:ExternalId``."""
        return tuple(
            g
            for g in self.accounts
            if g.relation in ("external", "allow-listed") and not g.external_id_required
        )

    @property
    def unrestricted_oidc(self) -> tuple[FederatedGrant, ...]:
        """ROLE-005."""
        return tuple(g for g in self.federated if not g.restricted)


@dataclass(frozen=True, slots=True)
class _RawAccount:
    account_id: str
    principal: str
    external_id_required: bool
    statement: Evidence


@dataclass(frozen=True, slots=True)
class _ParsedTrust:
    public: tuple[PublicGrant, ...]
    accounts: tuple[_RawAccount, ...]
    federated: tuple[FederatedGrant, ...]
    services: tuple[str, ...]
    unresolved: tuple[str, ...]
    malformed: int


def _grants_assume(item: dict[str, Any]) -> bool | None:
    """Does the statement cover one of the assume actions? None when its action part is bad."""
    has_action, has_not_action = "Action" in item, "NotAction" in item
    if has_action == has_not_action:
        return None
    actions = _strings(item["Action"] if has_action else item["NotAction"])
    if not actions:
        return None
    patterns = _Patterns(tuple(a.lower() for a in actions))
    hits = [patterns.match(a) for a in ASSUME_ACTIONS]
    return not all(hits) if has_not_action else any(hits)


def _parse_trust(document: Any) -> _ParsedTrust:
    items, malformed = _statement_items(document)
    allows: list[tuple[int, dict[str, Any], tuple[_Condition, ...]]] = []
    denied: set[tuple[str, str]] = set()
    deny_everyone = False
    pinned_by_deny: dict[str, tuple[str, ...]] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            malformed += 1
            continue
        effect = item.get("Effect")
        covers = _grants_assume(item)
        conditions = _conditions(item.get("Condition"))
        if not isinstance(effect, str) or effect.lower() not in ("allow", "deny"):
            malformed += 1
            continue
        if covers is None or conditions is None:
            malformed += 1
            continue
        if not covers:
            continue
        if effect.lower() == "allow":
            allows.append((index, item, conditions))
            continue
        # A Deny: unconditional ones cancel their principals; a Deny with one negated condition
        # ("deny unless sub is X") pins that key for every Allow.
        principals = _principal_items(item.get("Principal"))
        everyone = ("AWS", "*") in principals
        if not conditions:
            if everyone:
                deny_everyone = True
            denied.update((t, v.lower()) for t, v in principals)
        elif everyone and len(conditions) == 1:
            op, key, values = conditions[0]
            base, _lax = _operator(op)
            if (
                base in _NEGATED_OPERATORS
                and values
                and all(_restricting_value(key, v) for v in values)
            ):
                pinned_by_deny[key] = values
    if deny_everyone:
        return _ParsedTrust((), (), (), (), (), malformed)

    public: list[PublicGrant] = []
    accounts: list[_RawAccount] = []
    federated: list[FederatedGrant] = []
    services: list[str] = []
    unresolved: list[str] = []
    for index, item, conditions in allows:
        pinned = {**pinned_by_deny, **_restricted_keys(conditions)}
        evidence: Evidence = {"index": index, "statement": _bounded(item)}
        restricting = tuple(
            {"key": k, "values": list(v)}
            for k, v in pinned.items()
            if k in PUBLIC_RESTRICTING_KEYS or k.endswith(":sub")
        )
        if "NotPrincipal" in item:
            public.append(PublicGrant("NotPrincipal", restricting, evidence))
            continue
        principals = _principal_items(item.get("Principal"))
        if not principals:
            malformed += 1
            continue
        for kind, value in principals:
            if (kind, value.lower()) in denied:
                continue
            if kind == "AWS":
                category, account = _aws_principal(value)
                if category == "public":
                    public.append(PublicGrant(value, restricting, evidence))
                elif category == "account":
                    accounts.append(
                        _RawAccount(account, value, "sts:externalid" in pinned, evidence)
                    )
                else:
                    unresolved.append(value)
            elif kind == "Federated":
                m = _FEDERATED_ARN.fullmatch(value)
                if m:
                    fed_kind = "oidc" if m.group(1).lower() == "oidc-provider" else "saml"
                    provider = m.group(2)
                else:
                    fed_kind, provider = "oidc", value
                sub_key, aud_key = f"{provider.lower()}:sub", f"{provider.lower()}:aud"
                federated.append(
                    FederatedGrant(
                        provider=provider,
                        kind=fed_kind,
                        principal=value,
                        sub_restricted=sub_key in pinned,
                        aud_restricted=aud_key in pinned,
                        sub_values=pinned.get(sub_key, ()),
                        aud_values=pinned.get(aud_key, ()),
                        statement=evidence,
                    )
                )
            elif kind == "Service":
                services.append(value)
            else:
                unresolved.append(f"{kind}:{value}")
    return _ParsedTrust(
        tuple(public),
        tuple(accounts),
        tuple(federated),
        tuple(dict.fromkeys(services)),
        tuple(dict.fromkeys(unresolved)),
        malformed,
    )


_TRUSTS: _LRU[str, _ParsedTrust] = _LRU(4096)


def analyze_trust(
    trust_policy: Any,
    *,
    own_account_id: str = "",
    organization_account_ids: frozenset[str] | Iterable[str] = frozenset(),
    trusted_account_ids: frozenset[str] | Iterable[str] = frozenset(),
) -> TrustAnalysis:
    """Who may assume a role under ``trust_policy`` (any JSON; never raises).

    Account relation: ``own`` (``own_account_id``), ``organization`` (in
    ``organization_account_ids``), ``allow-listed`` (in ``trusted_account_ids``), else
    ``external``. Condition keys are case-insensitive; values may be strings or lists; a condition
    restricts only with a positive operator (StringEquals/Like, ArnEquals/Like, not IfExists or
    ForAllValues) and values that pin something (not ``*``, not ``repo:*``).
    """
    if trust_policy is None:
        return TrustAnalysis()
    key = canonical_json(trust_policy)
    parsed = _TRUSTS.get(key) if key is not None else None
    if parsed is None:
        parsed = _parse_trust(trust_policy)
        if key is not None:
            _TRUSTS.put(key, parsed)
    org = (
        organization_account_ids
        if isinstance(organization_account_ids, frozenset)
        else frozenset(organization_account_ids)
    )
    trusted = (
        trusted_account_ids
        if isinstance(trusted_account_ids, frozenset)
        else frozenset(trusted_account_ids)
    )
    accounts: list[AccountGrant] = []
    for raw in parsed.accounts:
        if own_account_id and raw.account_id == own_account_id:
            relation = "own"
        elif raw.account_id in org:
            relation = "organization"
        elif raw.account_id in trusted:
            relation = "allow-listed"
        else:
            relation = "external"
        accounts.append(
            AccountGrant(
                raw.account_id, raw.principal, relation, raw.external_id_required, raw.statement
            )
        )
    return TrustAnalysis(
        public=parsed.public,
        accounts=tuple(accounts),
        federated=parsed.federated,
        services=parsed.services,
        unresolved=parsed.unresolved,
        malformed=parsed.malformed,
    )
