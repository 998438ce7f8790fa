"""`GET /{version}/{waba_id}/message_templates` answered as the Graph API does: filters, fields, summary, paging.

Meta's reference of the edge (`graph-api/reference/whats-app-business-account/message_templates`) gives the
filters `name`, `status`, `category`, `language`, `content` and `name_or_content` (status, category and
language take several values: comma-separated, or a JSON array); `fields` (comma-separated) returns only
the fields named, plus `id`, which the Graph API returns on every node; `summary` names the fields of a
`summary` object among `total_count`, `message_template_count`, `message_template_limit` and
`are_translations_complete` (`summary=true` gives `total_count`, as on any Graph edge); paging is by `limit`
and the `after`/`before` cursors, and `paging.next`/`previous` repeat the whole query, so a client follows
them unchanged (the gateway's `cloudapi.graph.list_templates` does).

Where the reference says nothing the sandbox reads it so: `name` is an exact match, `content` and
`name_or_content` match a part of the text, all case-insensitively; `total_count` counts the language
versions that match the filters, `message_template_count` the template names of the account (the unit of
Meta's limit, 250 for an unverified business, WHATSAPP.md §5), `are_translations_complete` whether every name
exists in every language the account uses. Pure: the catalog's templates and the query in, the JSON out.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sandbox.catalog import Template
from sandbox.errors import GraphError, invalid

TEMPLATE_LIMIT = 250
DEFAULT_PAGE = 25
MAX_PAGE = 100
SUMMARY_FIELDS = ("total_count", "message_template_count", "message_template_limit", "are_translations_complete")
#: The fields of Meta's template node; those the sandbox holds no value for are left out, as Graph leaves out
#: a field without a value.
TEMPLATE_FIELDS = (
    "id",
    "name",
    "language",
    "status",
    "category",
    "sub_category",
    "previous_category",
    "correct_category",
    "quality_score",
    "rejected_reason",
    "parameter_format",
    "components",
    "message_send_ttl_seconds",
    "cta_url_link_tracking_opted_out",
    "library_template_name",
)
LIST_FILTERS = ("status", "category", "language")
TEXT_FILTERS = ("name", "content", "name_or_content")


@dataclass(frozen=True)
class TemplateQuery:
    """A template list request, checked: its filters, the fields and summary asked for, and the page."""

    filters: Mapping[str, tuple[str, ...]]
    fields: tuple[str, ...] | None
    summary: tuple[str, ...]
    limit: int
    after: int | None
    before: int | None


def template_query(args: Mapping[str, str]) -> TemplateQuery:
    """The query in `args` (each parameter's first value), or a code 100 naming what is wrong."""
    filters = {key: _values(args[key]) for key in LIST_FILTERS if args.get(key)}
    filters |= {key: (args[key],) for key in TEXT_FILTERS if args.get(key)}
    fields = _fields(args["fields"]) if args.get("fields") else None
    unknown = [f for f in fields or () if f not in TEMPLATE_FIELDS]
    if unknown:
        raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppBusinessHSM).")
    summary = _summary(args.get("summary", ""))
    try:
        limit = max(1, min(int(args.get("limit", DEFAULT_PAGE)), MAX_PAGE))
        after = _cursor(args.get("after"))
        before = _cursor(args.get("before"))
    except ValueError as error:
        raise invalid(f"Invalid paging parameter: {error}") from error
    return TemplateQuery(filters, fields, summary, limit, after, before)


def template_list(
    templates: Sequence[Template], query: TemplateQuery, url: str, args: Mapping[str, str]
) -> dict[str, Any]:
    """The answer: a page of `data[]`, its `paging`, and the `summary` when asked for. `url` is the edge's URL
    without query; `args` the query, repeated in the paging links."""
    matching = [t for t in templates if matches(t, query.filters)]
    if query.after is None and query.before is not None:
        start, end = max(0, query.before - query.limit), query.before
    else:
        start = query.after or 0
        end = start + query.limit
    data = [view(t, query.fields) for t in matching[start:end]]
    cursors = {"before": _encode(start), "after": _encode(start + len(data))}
    paging: dict[str, Any] = {"cursors": cursors}
    others = {k: v for k, v in args.items() if k not in ("after", "before")}
    if start + len(data) < len(matching):
        paging["next"] = f"{url}?{urlencode({**others, 'limit': query.limit, 'after': cursors['after']})}"
    if start > 0:
        paging["previous"] = f"{url}?{urlencode({**others, 'limit': query.limit, 'before': cursors['before']})}"
    answer: dict[str, Any] = {"data": data, "paging": paging}
    if query.summary:
        totals = summary_of(templates, len(matching))
        answer["summary"] = {key: totals[key] for key in query.summary}
    return answer


def matches(template: Template, filters: Mapping[str, tuple[str, ...]]) -> bool:
    """Whether `template` passes every filter: one of the values of a list filter, the text filters' text."""
    listed = {"status": template.status, "category": template.category, "language": template.language}
    texts = {
        "name": lambda v: template.name.lower() == v,
        "content": lambda v: v in template.body.lower(),
        "name_or_content": lambda v: v in template.name.lower() or v in template.body.lower(),
    }
    for key, values in filters.items():
        wanted = [value.lower() for value in values]
        if key in listed and listed[key].lower() not in wanted:
            return False
        if key in texts and not texts[key](wanted[0]):
            return False
    return True


def view(template: Template, fields: tuple[str, ...] | None) -> dict[str, Any]:
    """A template as the list gives it: every field the sandbox holds, or those asked for and `id`."""
    full = template.management_view()
    if fields is None:
        return full
    wanted = [f for f in dict.fromkeys((*fields, "id")) if f in full]
    return {f: full[f] for f in wanted}


def summary_of(templates: Sequence[Template], total: int) -> dict[str, Any]:
    """Every summary field for an account whose templates are `templates`, `total` of which matched."""
    names = {t.name for t in templates}
    languages = {t.language for t in templates}
    versions = {(t.name, t.language) for t in templates}
    return {
        "total_count": total,
        "message_template_count": len(names),
        "message_template_limit": TEMPLATE_LIMIT,
        "are_translations_complete": all((n, lang) in versions for n in names for lang in languages),
    }


def _values(raw: str) -> tuple[str, ...]:
    """A filter's values: `A,B` or `["A","B"]`, as the Graph API takes an array in a query."""
    if raw.startswith("["):
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as error:
            raise invalid(f"Invalid filter value {raw!r}: {error}") from error
        if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
            return tuple(parsed)
        raise invalid(f"Invalid filter value {raw!r}: an array of strings is expected.")
    return tuple(v.strip() for v in raw.split(",") if v.strip())


def _fields(raw: str) -> tuple[str, ...]:
    """The field names of `fields`; `components{type,text}` asks for part of a field, and the sandbox
    returns the whole field."""
    names, depth, current = [], 0, ""
    for char in f"{raw},":
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            names.append(current.split("{", 1)[0].strip())
            current = ""
        else:
            current += char
    return tuple(name for name in names if name)


def _summary(raw: str) -> tuple[str, ...]:
    if raw.lower() in ("", "false", "0"):
        return ()
    if raw.lower() in ("true", "1"):
        return ("total_count",)
    asked = tuple(v.strip() for v in raw.split(",") if v.strip())
    unknown = [v for v in asked if v not in SUMMARY_FIELDS]
    if unknown:
        raise GraphError(100, f"Unknown summary field ({unknown[0]}); the fields are {', '.join(SUMMARY_FIELDS)}.")
    return asked


def _cursor(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        return max(0, int(base64.b64decode(raw, validate=True).decode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"cursor {raw!r} is not one the sandbox gave") from error


def _encode(position: int) -> str:
    return base64.b64encode(str(position).encode()).decode()
