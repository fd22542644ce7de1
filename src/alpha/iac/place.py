"""Placing a proposal in a repository: find every site of the principal's policies in every
template and .tf file, decide what each becomes, and edit each file once.

The new policy is written over the first inline policy the plan replaces (renamed to the
plan's name), or added to the principal's definition when the repository defines none of
them. Only then are the other replaced inline policies and the detached attachments removed:
a repository never loses a principal's policies without getting the new one. What the
repository does not define is reported.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping

from alpha.iac.cfn_json import edit_json_template, json_template_sites
from alpha.iac.cfn_yaml import edit_yaml_template, yaml_template_sites
from alpha.iac.errors import IacError
from alpha.iac.model import (
    Action,
    Add,
    FileEdit,
    Placement,
    PolicyChange,
    Remove,
    Rewrite,
    Site,
    SiteKind,
    Unplaced,
)
from alpha.iac.policy_files import rewrite_policy_file
from alpha.iac.terraform import edit_terraform, terraform_sites

__all__ = ["TEMPLATE_SUFFIXES", "decide", "find_sites", "place"]

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = (".json", ".yaml", ".yml", ".template", ".tf")
"""The files a repository is searched in."""


def place(
    change: PolicyChange, files: Mapping[str, str], mapped: Mapping[str, str] | None = None
) -> Placement:
    """Where the change goes in `files` (path -> text, paths relative to the repository),
    with `mapped` the policy files alpha.toml names (principal ARN or name -> path)."""
    mapped = mapped or {}
    path = mapped.get(change.principal) or mapped.get(change.name)
    if path is not None:
        return _mapped(change, files, path)
    sites = find_sites(change, files)
    principals = [s for s in sites if s.kind is SiteKind.PRINCIPAL]
    if len(principals) > 1:
        found = "; ".join(s.describe() for s in principals)
        raise IacError(
            f"{change.principal} is defined {len(principals)} times in the repository ({found}): "
            "map its policy file in alpha.toml ([github] files) or open the pull request by hand"
        )
    actions, unplaced = decide(change, sites)
    if not any(isinstance(a, Rewrite | Add) for a in actions):
        return Placement(change, (), (), tuple(unplaced))
    edits = _edit(change, files, actions)
    return Placement(change, edits, tuple(_describe(a) for a in actions), tuple(unplaced))


def _mapped(change: PolicyChange, files: Mapping[str, str], path: str) -> Placement:
    if path not in files:
        raise IacError(
            f"{path}: [github] files maps {change.name} to it, but the repository has no such file"
        )
    edit = _line_endings_kept(rewrite_policy_file(path, files[path], change.document))
    unplaced = [Unplaced(step, "not a policy file's business") for step in change.elsewhere]
    return Placement(
        change, (edit,), (f"{path}: the policy file of {change.name}",), tuple(unplaced)
    )


def find_sites(change: PolicyChange, files: Mapping[str, str]) -> list[Site]:
    sites: list[Site] = []
    for path, text in sorted(files.items()):
        try:
            if _is_json(path, text):
                sites.extend(json_template_sites(change, path, text))
            elif path.endswith((".yaml", ".yml", ".template")):
                sites.extend(yaml_template_sites(change, path, text))
        except IacError as exc:  # a file that is no template of ours is not the change's
            logger.warning("skipped %s", exc)
    sites.extend(terraform_sites(change, files))
    return sites


def _is_json(path: str, text: str) -> bool:
    return path.endswith(".json") or (path.endswith(".template") and text.lstrip().startswith("{"))


def decide(change: PolicyChange, sites: list[Site]) -> tuple[list[Action], list[Unplaced]]:
    inline = [s for s in sites if s.kind is SiteKind.INLINE and s.name in change.delete_inline]
    attached = [s for s in sites if s.kind is SiteKind.ATTACHMENT and _detached(change, s)]
    principal = next((s for s in sites if s.kind is SiteKind.PRINCIPAL), None)
    target = next((s for s in inline if not s.shared and s.problem is None), None)
    unplaced = list(_not_found(change, inline, attached))
    new: Action
    if target is not None and change.attach_inline:
        new = Rewrite(target, change.policy_name, change.document)
    elif principal is not None and change.attach_inline:
        new = Add(principal, change.policy_name, change.document)
    else:
        return [], [_new_policy_unplaced(change, sites, inline), *unplaced]
    removed = [Remove(s) for s in [*inline, *attached] if s is not getattr(new, "site", None)]
    return [new, *removed], unplaced


def _detached(change: PolicyChange, site: Site) -> bool:
    return any(
        site.name == d.name or (site.arn is not None and site.arn == d.arn) for d in change.detach
    )


def _not_found(
    change: PolicyChange, inline: list[Site], attached: list[Site]
) -> Iterator[Unplaced]:
    names = {s.name for s in inline}
    for name in change.delete_inline:
        if name not in names:
            yield Unplaced(f"delete inline policy {name}", "the repository does not define it")
    for detach in change.detach:
        if not any(s.name == detach.name or (s.arn and s.arn == detach.arn) for s in attached):
            yield Unplaced(
                f"detach {detach.arn or detach.name}", "the repository does not attach it"
            )
    for step in change.elsewhere:
        yield Unplaced(step, "not written in the repository; change it where it is managed")


def _new_policy_unplaced(change: PolicyChange, sites: list[Site], inline: list[Site]) -> Unplaced:
    what = f"attach {change.policy_name}"
    if not change.attach_inline:
        return Unplaced(
            what, "too large for an inline policy: create it as a customer-managed policy"
        )
    if not sites:
        return Unplaced(what, f"the repository does not define {change.principal}")
    problems = "; ".join(
        f"{s.describe()}: {s.problem or 'shared with other principals'}" for s in inline
    )
    return Unplaced(what, problems or f"no definition of {change.name} to add it to")


def _edit(
    change: PolicyChange, files: Mapping[str, str], actions: list[Action]
) -> tuple[FileEdit, ...]:
    by_path: dict[str, list[Action]] = defaultdict(list)
    for action in actions:
        by_path[action.site.path].append(action)
    edits: dict[str, FileEdit] = {}
    for path, mine in sorted(by_path.items()):
        text = files[path]
        if path.endswith(".tf"):
            for edit in edit_terraform(change, path, text, mine, files):
                edits[edit.path] = edit
        elif _is_json(path, text):
            edits[path] = FileEdit(path, text, edit_json_template(path, text, mine))
        else:
            edits[path] = FileEdit(path, text, edit_yaml_template(path, text, mine))
    kept = (_line_endings_kept(e) for _, e in sorted(edits.items()))
    return tuple(e for e in kept if e.before != e.after)


def _line_endings_kept(edit: FileEdit) -> FileEdit:
    """A file written with CRLF line endings gets CRLF in what was written into it too."""
    crlf = "\r\n" in edit.before and "\n" not in edit.before.replace("\r\n", "")
    if not crlf:
        return edit
    return FileEdit(edit.path, edit.before, edit.after.replace("\r\n", "\n").replace("\n", "\r\n"))


def _describe(action: Action) -> str:
    site = action.site.describe()
    if isinstance(action, Rewrite):
        return f"{site}: {action.site.name} rewritten as {action.name}"
    if isinstance(action, Add):
        return f"{site}: {action.name} added"
    if action.site.kind is SiteKind.ATTACHMENT:
        return f"{site}: {action.site.name} detached"
    if action.site.shared:
        return f"{site}: {action.site.name} no longer applied to this principal"
    return f"{site}: {action.site.name} removed"
