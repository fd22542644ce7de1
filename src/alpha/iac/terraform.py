"""Where Terraform defines a principal's policies, and edits of the .tf text by spans.

The principal is an `aws_iam_role` (`aws_iam_user`) whose `name` is its name (a name built
with `${...}` matches any text there), or whose resource label is. Its policies are its
`inline_policy` blocks and `managed_policy_arns`, every `aws_iam_role_policy` whose `role`
refers to it, and every `aws_iam_role_policy_attachment` whose `role` does. A policy written
as `jsonencode({...})`, a heredoc, a JSON string or a `file()`d JSON file can be rewritten;
one from a data source, a variable or `templatefile()` is reported, never guessed.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from alpha.iac.hcl import Attribute, Block, hcl_string, hcl_value, heredoc_content, parse_hcl
from alpha.iac.json_spans import dump_relative
from alpha.iac.model import (
    Action,
    Add,
    FileEdit,
    PolicyChange,
    PrincipalKind,
    Remove,
    Rewrite,
    Site,
    SiteKind,
)
from alpha.iac.policy_files import rewrite_policy_file
from alpha.iac.spans import (
    Edit,
    Span,
    apply_edits,
    indent_unit,
    line_indent,
    reindent,
    remove_items,
)

__all__ = ["TfLocator", "edit_terraform", "terraform_sites"]

_PRINCIPAL = {PrincipalKind.ROLE: "aws_iam_role", PrincipalKind.USER: "aws_iam_user"}
_ATTRIBUTE = {PrincipalKind.ROLE: "role", PrincipalKind.USER: "user"}
_TEMPLATE = re.compile(r"\$\{[^}]*\}")
_FILE = re.compile(r'file\(\s*"([^"]*)"\s*\)')
_TEMPLATED_NAME = re.compile(r'\bname\s*=\s*"[^"\n]*\$\{')
_LIST_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|[^,\s\[\]]+')


@dataclass(frozen=True, slots=True)
class TfLocator:
    """`remove`: the text that removing the site deletes (or, with `items`, the index of an
    item of the list at `inside`); `policy`/`name`: attributes to rewrite; `block`: the
    principal's resource, where a new policy goes."""

    remove: Span | None = None
    items: tuple[Span, ...] = ()
    index: int = 0
    inside: Span | None = None
    policy: Attribute | None = None
    name: Attribute | None = None
    block: Block | None = None


def _resources(change: PolicyChange, files: Mapping[str, str]) -> Iterator[tuple[str, str, Block]]:
    """The resources of every module (folder) that may define the principal: one of its
    files names it, or has a templated `name` (the rest of a large repository is not read)."""
    terraform = {path: text for path, text in files.items() if path.endswith(".tf")}
    folders = {
        posixpath.dirname(path)
        for path, text in terraform.items()
        if change.name in text or _TEMPLATED_NAME.search(text)
    }
    for path, text in sorted(terraform.items()):
        if posixpath.dirname(path) in folders:
            for block in parse_hcl(text):
                if block.type == "resource" and len(block.labels) == 2:
                    yield path, text, block


def terraform_sites(change: PolicyChange, files: Mapping[str, str]) -> list[Site]:
    """Each folder is a module: a reference (`aws_iam_role.x`) means that folder's resource."""
    resources = list(_resources(change, files))
    kind = _PRINCIPAL[change.kind]
    principals = {
        (posixpath.dirname(path), b.labels[1])
        for path, text, b in resources
        if b.labels[0] == kind and _names(change.name, b, text)
    }
    policies: dict[str, dict[str, str]] = defaultdict(dict)
    for path, text, b in resources:
        if b.labels[0] == "aws_iam_policy":
            name = _literal(text, b.attributes.get("name")) or b.labels[1]
            policies[posixpath.dirname(path)][b.labels[1]] = name
    sites: list[Site] = []
    for path, text, block in resources:
        folder = posixpath.dirname(path)
        names = policies.get(folder, {})
        if block.labels[0] == kind and (folder, block.labels[1]) in principals:
            sites.extend(_own_sites(path, text, block, files, names))
            continue
        labels = {label for where, label in principals if where == folder}
        if _refers(text, block.attributes.get(_ATTRIBUTE[change.kind]), kind, labels, change):
            sites.extend(_attached(path, text, block, files, names))
    return sites


def _literal(text: str, attribute: Attribute | None) -> str | None:
    if attribute is None:
        return None
    value = text[attribute.value.start : attribute.value.end]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return None


def _names(name: str, block: Block, text: str) -> bool:
    given = _literal(text, block.attributes.get("name"))
    if given is None:
        return "name" not in block.attributes and block.labels[1] == name
    pattern = ".+".join(re.escape(part) for part in _TEMPLATE.split(given))
    return re.fullmatch(pattern, name) is not None


def _refers(
    text: str, attribute: Attribute | None, kind: str, labels: set[str], change: PolicyChange
) -> bool:
    if attribute is None:
        return False
    value = text[attribute.value.start : attribute.value.end]
    found = re.fullmatch(rf"{kind}\.([A-Za-z_][\w-]*)\.(?:name|id|arn)", value)
    return (found is not None and found.group(1) in labels) or value == f'"{change.name}"'


def _own_sites(
    path: str, text: str, block: Block, files: Mapping[str, str], names: Mapping[str, str]
) -> Iterator[Site]:
    label = f"{block.labels[0]}.{block.labels[1]}"
    yield Site(path, SiteKind.PRINCIPAL, label, label, TfLocator(block=block))
    for index, nested in enumerate(b for b in block.blocks if b.type == "inline_policy"):
        yield Site(
            path,
            SiteKind.INLINE,
            _literal(text, nested.attributes.get("name")) or "",
            f"{label} inline_policy #{index + 1}",
            TfLocator(
                remove=_lines(text, nested.span),
                policy=nested.attributes.get("policy"),
                name=nested.attributes.get("name"),
            ),
            problem=_policy_problem(path, text, nested.attributes.get("policy"), files),
        )
    arns = block.attributes.get("managed_policy_arns")
    if arns is not None and text[arns.value.start] == "[":
        inside = Span(arns.value.start + 1, arns.value.end - 1)
        items = [
            Span(m.start(), m.end()) for m in _LIST_ITEM.finditer(text, inside.start, inside.end)
        ]
        for index, item in enumerate(items):
            name, arn = _managed(text[item.start : item.end], names)
            yield Site(
                path,
                SiteKind.ATTACHMENT,
                name,
                f"{label} managed_policy_arns[{index}]",
                TfLocator(items=tuple(items), index=index, inside=inside),
                arn=arn,
            )


def _attached(
    path: str, text: str, block: Block, files: Mapping[str, str], names: Mapping[str, str]
) -> Iterator[Site]:
    kind, label = block.labels
    where = f"{kind}.{label}"
    if kind.endswith("_policy"):
        policy = block.attributes.get("policy")
        yield Site(
            path,
            SiteKind.INLINE,
            _literal(text, block.attributes.get("name")) or "",
            where,
            TfLocator(
                remove=_lines(text, block.span), policy=policy, name=block.attributes.get("name")
            ),
            problem=_policy_problem(path, text, policy, files),
        )
    elif kind.endswith("_policy_attachment"):
        arn_attribute = block.attributes.get("policy_arn")
        value = (
            ""
            if arn_attribute is None
            else text[arn_attribute.value.start : arn_attribute.value.end]
        )
        name, arn = _managed(value, names)
        yield Site(
            path,
            SiteKind.ATTACHMENT,
            name,
            where,
            TfLocator(remove=_lines(text, block.span)),
            arn=arn,
        )


def _managed(value: str, names: Mapping[str, str]) -> tuple[str, str | None]:
    if value.startswith('"'):
        literal = value.strip('"')
        return literal.rpartition("/")[2], literal if "${" not in literal else None
    found = re.fullmatch(r"aws_iam_policy\.([A-Za-z_][\w-]*)\.arn", value)
    if found is None:
        return value, None
    label = found.group(1)
    return names.get(label, label), None


def _lines(text: str, span: Span) -> Span:
    """A block's whole lines, with the comment lines just above it and one blank line after
    it (so removing it leaves no gap)."""
    start = text.rfind("\n", 0, span.start) + 1
    while start > 0:
        above = text.rfind("\n", 0, start - 1) + 1
        if not text[above:start].lstrip().startswith(("#", "//")):
            break
        start = above
    newline = text.find("\n", span.end)
    end = len(text) if newline < 0 else newline + 1
    before_blank = start == 0 or text[text.rfind("\n", 0, start - 1) + 1 : start].strip() == ""
    if before_blank and text.startswith(("\n", "\r\n"), end):
        end = text.index("\n", end) + 1
    return Span(start, end)


def _policy_problem(
    path: str, text: str, policy: Attribute | None, files: Mapping[str, str]
) -> str | None:
    if policy is None:
        return "it has no policy attribute"
    value = text[policy.value.start : policy.value.end]
    if value.startswith(("jsonencode(", "<<", '"{')):
        return None
    found = _FILE.fullmatch(value)
    if found is not None:
        target = _file_path(path, found.group(1))
        return None if target in files else f"file {target} is not in the repository"
    if value.startswith("data.aws_iam_policy_document."):
        return f"its policy is the data source {value}, not JSON"
    return f"its policy is {value.splitlines()[0]}, not JSON written here"


def _file_path(path: str, given: str) -> str:
    folder = posixpath.dirname(path)
    named = given.replace("${path.module}", folder or ".").replace("${path.root}", ".")
    return posixpath.normpath(named if named.startswith(folder) else posixpath.join(folder, named))


def edit_terraform(
    change: PolicyChange, path: str, text: str, actions: Sequence[Action], files: Mapping[str, str]
) -> list[FileEdit]:
    """The edits of `path` (and of any JSON file its `file()` names) that make the actions."""
    edits: list[Edit] = []
    others: list[FileEdit] = []
    lists: dict[Span, set[int]] = defaultdict(set)
    items: dict[Span, tuple[Span, ...]] = {}
    for action in actions:
        locator: TfLocator = action.site.locator
        if isinstance(action, Rewrite):
            edits.extend(_rewrite(path, text, locator, action, files=files, others=others))
        elif isinstance(action, Remove) and locator.inside is not None:
            lists[locator.inside].add(locator.index)
            items[locator.inside] = locator.items
        elif isinstance(action, Remove) and locator.remove is not None:
            edits.append(Edit(locator.remove.start, locator.remove.end, ""))
        elif isinstance(action, Add) and locator.block is not None:
            edits.append(_add(change, text, locator.block, action))
    for inside, indices in lists.items():
        edits.extend(remove_items(list(items[inside]), indices, inside))
    after = apply_edits(text, edits, path)
    return [FileEdit(path, text, after), *others]


def _rewrite(
    path: str,
    text: str,
    locator: TfLocator,
    action: Rewrite,
    *,
    files: Mapping[str, str],
    others: list[FileEdit],
) -> list[Edit]:
    assert locator.policy is not None
    value = locator.policy.value
    edits = []
    if locator.name is not None and _literal(text, locator.name) != action.name:
        edits.append(
            Edit(locator.name.value.start, locator.name.value.end, hcl_string(action.name))
        )
    written = text[value.start : value.end]
    content = heredoc_content(text, value)
    found = _FILE.fullmatch(written)
    if content is not None:
        indent = line_indent(text, content.start) if content.end > content.start else ""
        body = reindent(dump_relative(text, action.document), indent)
        edits.append(Edit(content.start, content.end, indent + _escaped(body) + "\n"))
    elif found is not None:
        target = _file_path(path, found.group(1))
        others.append(rewrite_policy_file(target, files[target], action.document))
    else:
        unit, indent = indent_unit(text), line_indent(text, locator.policy.span.start)
        encoded = f"jsonencode({hcl_value(action.document, indent, unit)})"
        edits.append(Edit(value.start, value.end, encoded))
    return edits


def _escaped(heredoc: str) -> str:
    return heredoc.replace("${", "$${").replace("%{", "%%{")


def _add(change: PolicyChange, text: str, block: Block, action: Add) -> Edit:
    unit = indent_unit(text)
    inline = [b for b in block.blocks if b.type == "inline_policy"]
    if inline:
        # A role with inline_policy blocks owns all its inline policies: add one more block.
        indent = line_indent(text, inline[-1].span.start)
        body = _attributes({"name": hcl_string(action.name)}, action.document, indent + unit, unit)
        end = _lines(text, inline[-1].span).end
        return Edit(end, end, f"{indent}inline_policy {{\n{body}{indent}}}\n")
    kind, label = block.labels
    resource = f"{kind}_policy"
    reference = f"{kind}.{label}.{'id' if change.kind is PrincipalKind.ROLE else 'name'}"
    fields = {"name": hcl_string(action.name), _ATTRIBUTE[change.kind]: reference}
    body = _attributes(fields, action.document, unit, unit)
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"{label}_{action.name}")
    end = _lines(text, block.span).end
    new = f'\nresource "{resource}" "{name}" {{\n{body}}}\n'
    return Edit(end, end, new if text[end - 2 : end] != "\n\n" else new.lstrip("\n") + "\n")


def _attributes(fields: dict[str, str], document: dict[str, object], indent: str, unit: str) -> str:
    width = max(len(k) for k in [*fields, "policy"])
    lines = [f"{indent}{k.ljust(width)} = {v}\n" for k, v in fields.items()]
    policy = f"jsonencode({hcl_value(document, indent, unit)})"
    return "".join(lines) + f"{indent}{'policy'.ljust(width)} = {policy}\n"
