"""One agent's turn: the prompt it is given, and how its reply is read.

An agent knows the mission (the task), its position and the team's size, and only what the
protocol lets it see. It is never handed a role unless the protocol imposes one: the
contrast between imposed and self-chosen roles is what the study measures.

Replies are asked for as JSON (`role`, `contribution`, `abstain`, and the optional
`builds_on` / `defers_to`) through `response_format`, which the embedded model's server
enforces with a grammar; any other text is parsed tolerantly (`ROLE: ...`, `ABSTAIN`). A reply
that cannot be read is kept as a parse failure with its raw text; it never crashes a trial.

Why `builds_on` and `defers_to` are optional properties: a grammar that *requires* them makes
a small model fill them with noise (every agent "defers to" agent 0), so hierarchy depth would
be an artefact of the schema. Left optional (not in `required`), the grammar lets a model omit
them, and a link exists only where an agent chose to write one: hierarchy can then emerge.

Why role hygiene (`clean_role`): unique roles are one of the study's emergence figures, and a
small model fills the `role` field with echoes of the prompt ("the role you choose for
yourself"), pronouns ("me"), names ("Alice") or a copy of the task. Counting those as
invented roles would measure the model's confusion, so they are dropped (the raw text stays).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The JSON an agent is asked for. Small on purpose: the embedded model is 135M parameters.
_LINKS: dict[str, Any] = {"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": 3}
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "role": {"type": "string"},
        "contribution": {"type": "string"},
        "abstain": {"type": "boolean"},
        "builds_on": _LINKS,
        "defers_to": _LINKS,
    },
    "required": ["role", "contribution", "abstain"],
}
REPLY_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "agent_reply", "schema": REPLY_SCHEMA},
}

SYSTEM = (
    "You are one member of a team of AI agents working together on a mission. "
    "Be concrete and brief. Write facts, numbers and lists, not talk about the team."
)
ASK_JSON = (
    'Answer in JSON. "role": the role you choose for yourself. "contribution": your part of '
    'the answer, with concrete items and numbers. "abstain": true only if nothing is left to add. '
    'Optional: "builds_on": numbers of agents whose work you extend; "defers_to": numbers of '
    'agents you follow. Leave them out if none.'
)
ASK_JSON_IMPOSED = (
    'Answer in JSON. "role": your assigned role. "contribution": your part of the answer, '
    'with concrete items and numbers. "abstain": false.'
)

_ARTICLES = {"a", "an", "the"}
_WORD = re.compile(r"[a-z0-9]+")


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate (about 4 characters a token for English).

    Used to keep prompts within a budget without loading a tokenizer; the real counts come
    back from the model in the completion's usage.
    """
    return len(text) // 4 + 1


def normalise_role(raw: str) -> str:
    """'The Budget Analysts!' -> 'budget analyst': case, punctuation, articles, plurals.

    Counting unique roles only means something once trivial variants collapse; the raw
    string is kept beside it in the record.
    """
    return " ".join(_norm_words(raw))[:60].strip()


def _norm_words(text: str) -> list[str]:
    """The words of `text`, lower-cased, articles dropped, plurals made singular."""
    words = [w for w in _WORD.findall((text or "").lower()) if w not in _ARTICLES]
    out = []
    for w in words:
        if len(w) > 4 and w.endswith("ies"):
            w = w[:-3] + "y"
        elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
        out.append(w)
    return out


_PRONOUNS = {
    "i", "me", "my", "mine", "myself", "you", "your", "yours", "yourself", "we", "us", "our",
    "he", "him", "she", "her", "they", "them", "it", "self", "none", "null", "no", "yes", "n a",
    "na", "nothing", "role", "my role", "your role", "agent", "member", "team member",
    "true", "false", "unknown", "tbd", "abstain", "skip",
}
#: First names small models put in the role field ("Alice", "Bob"): a name is not a role.
_NAMES = {
    "alice", "bob", "carol", "charlie", "dave", "david", "eve", "frank", "grace", "heidi",
    "john", "jane", "mary", "mike", "michael", "sarah", "emma", "james", "anna", "tom", "lisa",
    "alex", "sam", "chris", "max", "kate", "paul", "peter", "mark", "susan", "linda", "emily",
}
_PROMPT_ECHOES = ("role you choose", "choose for yourself", "your assigned role", "role the mission",
                  "your part of", "what you intend", "the role you", "assigned role")


def clean_role(raw: str, mission: str = "") -> str:
    """The normalised role, or "" where the text is not a role.

    Dropped: empty or one-character strings, strings with no letters, pronouns and
    placeholders ("me", "none"), personal names ("Alice", "Alice and Bob"), echoes of our own
    prompt ("the role you choose for yourself"), and copies of the mission (three or more
    words in a row that the mission also has in that order, after normalisation).
    """
    role = normalise_role(raw)
    if len(role) < 2 or not any(c.isalpha() for c in role):
        return ""
    if role in _PRONOUNS or role in _NAMES:
        return ""
    words = role.split()
    if all(w in _NAMES or w in _PRONOUNS or w in ("and", "or", "&") for w in words):
        return ""
    low = (raw or "").lower()
    if any(e in low for e in _PROMPT_ECHOES):
        return ""
    # normalise_role caps a role at 60 characters, which can cut its last word in half.
    whole = " ".join(words[:-1]) if len(role) >= 58 else role
    if mission and len(whole.split()) >= 3 and f" {whole} " in f" {' '.join(_norm_words(mission))} ":
        return ""
    return role


@dataclass(frozen=True)
class Parsed:
    """What was read from one reply."""

    role_raw: str
    abstain: bool
    contribution: str
    builds_on: tuple[int, ...] = ()
    defers_to: tuple[int, ...] = ()
    parse_failed: bool = False

    @property
    def role(self) -> str:
        return normalise_role(self.role_raw)


def _indices(value: Any, n_agents: int, me: int) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    out = []
    for v in value:
        if isinstance(v, bool):
            continue
        try:
            i = int(v)
        except (TypeError, ValueError):
            continue
        if 0 <= i < n_agents and i != me and i not in out:
            out.append(i)
    return tuple(out)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def json_object(text: str) -> Mapping[str, Any] | None:
    """The first JSON object in `text` (whole text, a ```json fence, or the outer braces)."""
    candidates = [text.strip()]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for c in candidates:
        try:
            obj = json.loads(c, strict=False)  # grammar output may hold raw newlines in strings
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, dict):
            return obj
    return None


_ROLE_LINE = re.compile(r"^\s*\**role\**\s*[:\-]\s*(.+)$", re.I | re.M)
_ABSTAIN = re.compile(r"^\s*\**abstain(ed|ing)?\**\b", re.I | re.M)


def parse_reply(text: str, *, n_agents: int = 1, me: int = 0, structured: bool = True) -> Parsed:
    """Read an agent's reply; never raises.

    `structured=False` (a free-text turn such as a final assembly) takes the whole text as
    the contribution. Otherwise JSON first, then `ROLE:` / `ABSTAIN` lines; text with
    neither is a parse failure whose text still counts as the contribution.
    """
    text = text if isinstance(text, str) else str(text)
    if not structured:
        return Parsed(role_raw="", abstain=False, contribution=text.strip())
    obj = json_object(text)
    if obj is not None and ("contribution" in obj or "role" in obj or "abstain" in obj):
        contribution = obj.get("contribution", "")
        if not isinstance(contribution, str):
            contribution = json.dumps(contribution, ensure_ascii=False)
        role = obj.get("role", "")
        return Parsed(
            role_raw=role if isinstance(role, str) else str(role),
            abstain=_as_bool(obj.get("abstain", False)),
            contribution=contribution.strip(),
            builds_on=_indices(obj.get("builds_on"), n_agents, me),
            defers_to=_indices(obj.get("defers_to"), n_agents, me),
        )
    role_m = _ROLE_LINE.search(text)
    abstain = bool(_ABSTAIN.search(text))
    if role_m or abstain:
        body = _ROLE_LINE.sub("", text)
        body = _ABSTAIN.sub("", body).strip()
        return Parsed(role_raw=role_m.group(1).strip() if role_m else "", abstain=abstain,
                      contribution=body)
    return Parsed(role_raw="", abstain=False, contribution=text.strip(), parse_failed=True)


@dataclass(frozen=True)
class Seen:
    """A finished contribution another agent may be shown."""

    agent: int
    role: str
    text: str


def visible_context(seen: Sequence[Seen], budget_tokens: int, keep_whole: int = 3) -> str:
    """Earlier contributions as an agent sees them, within `budget_tokens`.

    The latest `keep_whole` are shown whole (newest last); earlier ones as a compact index
    (agent, role, first line); what does not fit is counted, not shown. So a 256-agent team
    never grows a prompt without bound.
    """
    if not seen:
        return ""
    whole = list(seen[-keep_whole:]) if keep_whole > 0 else []
    older = list(seen[: len(seen) - len(whole)])
    blocks: list[str] = []
    used = 0
    for s in reversed(whole):
        block = f"[agent {s.agent}{' - ' + s.role if s.role else ''}]\n{s.text.strip()}"
        cost = estimate_tokens(block)
        if used + cost > budget_tokens:
            block = block[: max(0, (budget_tokens - used) * 4 - 3)] + "..."
            cost = estimate_tokens(block)
        if used + cost > budget_tokens or len(block) < 20:
            older.extend([s])
            continue
        blocks.insert(0, block)
        used += cost
    index: list[str] = []
    hidden = 0
    for s in reversed(older):
        first = s.text.strip().splitlines()[0] if s.text.strip() else ""
        line = f"- agent {s.agent} ({s.role or 'no role'}): {first[:70]}"
        cost = estimate_tokens(line)
        if used + cost > budget_tokens:
            hidden += 1
            continue
        index.insert(0, line)
        used += cost
    parts = []
    if hidden:
        parts.append(f"({hidden} earlier contributions not shown)")
    if index:
        parts.append("Earlier contributions, in brief:\n" + "\n".join(index))
    if blocks:
        parts.append("Latest contributions:\n" + "\n\n".join(blocks))
    return "\n\n".join(parts)


def messages(mission: str, body: str) -> tuple[dict[str, str], ...]:
    """The chat messages of one turn: the shared system prompt, then mission and body."""
    return (
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Mission: {mission.strip()}\n\n{body.strip()}"},
    )
