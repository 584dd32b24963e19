"""A Griffe extension: the Sphinx roles in agentotel's docstrings as cross-references.

The docstrings are Google style with Sphinx roles in their prose (:func:`init`,
:class:`~agentotel.redaction.Redactor`, :mod:`._operation`). mkdocstrings renders Markdown,
where a role would show as written; this extension rewrites each role when the package
is loaded:

- a target inside the package is resolved the way Sphinx would (the docstring's own
  object, its parents, their imports; a leading ``.`` is relative to the module) and
  becomes an ``<autoref optional>`` to its full path: a link when the reference renders
  that object, plain code when it does not (a private helper);
- a target outside the package (``ipaddress``, ``time.time``) becomes plain code;
- a target that resolves to nothing is a mistake in the docstring: a warning, which
  fails ``mkdocs build --strict``.

``~`` shows the last component only, as in Sphinx. An RST hyperlink
(`` `text <url>`_ ``) becomes a Markdown link.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from typing import Any

import griffe

_logger = logging.getLogger("mkdocs.plugins.agentotel.sphinx_roles")

_ROLE = re.compile(r":(?P<role>func|class|meth|mod|attr|data|exc|obj):`(?P<target>[^`]+)`")
_RST_LINK = re.compile(r"`(?P<text>[^`<]+?) <(?P<url>https?://[^>]+)>`_")


def _exists(package: griffe.Module, path: str) -> bool:
    """``path`` (``agentotel.x.y``) names an object of ``package``."""
    if path == package.path:
        return True
    if not path.startswith(package.path + "."):
        return False
    try:
        package[path[len(package.path) + 1:]]
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _suffixed(package: griffe.Module, suffix: str, modules_only: bool) -> str | None:
    """The one object (module, for ``:mod:``) of ``package`` whose path ends with
    ``suffix`` (Sphinx's ``.name``)."""
    found: list[str] = []
    pending: list[griffe.Object] = [package]
    while pending:
        obj = pending.pop()
        if obj.path.endswith(suffix) and (obj.is_module or not modules_only):
            found.append(obj.path)
        pending.extend(m for m in obj.members.values() if not m.is_alias)
    return found[0] if len(found) == 1 else None


def _member(scope: griffe.Object, name: str) -> str | None:
    """The path of ``scope``'s member ``name``, inherited ones included."""
    members = scope.members
    if scope.is_class:
        try:
            members = scope.all_members  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - a base class that does not resolve
            pass
    member = members.get(name)
    if member is None:
        return None
    return member.target_path if member.is_alias else member.path  # type: ignore[union-attr]


def _resolve(
    obj: griffe.Object, target: str, package: griffe.Module, role: str
) -> str | None:
    """The full path ``target`` names from ``obj``'s docstring; ``None``: not found."""
    if target.startswith("."):  # relative to the module, else any path ending so
        module = obj if obj.is_module else obj.module
        candidate = module.path + target
        if _exists(package, candidate):
            return candidate
        return _suffixed(package, target, role == "mod")
    if _exists(package, target):
        return target
    first, _, rest = target.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        found = _member(scope, first)
        if found is None:
            try:
                found = scope.resolve(first)
            except griffe.NameResolutionError:
                scope = scope.parent
                continue
        return f"{found}.{rest}" if rest else found
    return None


def _external(target: str) -> bool:
    """``target`` starts with an importable module outside the package (``ipaddress``)."""
    try:
        return importlib.util.find_spec(target.lstrip("~").split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _rewrite(obj: griffe.Object, package: griffe.Module) -> None:
    docstring = obj.docstring
    if docstring is None:
        return

    def role(match: re.Match[str]) -> str:
        written = match.group("target")
        short = written.startswith("~")
        target = written.lstrip("~")
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        path = _resolve(obj, target, package, match.group("role"))
        if path is None and _external(target):
            return f"`{shown}`"
        if path is None:
            _logger.warning("%s: the docstring names %s, which is not found", obj.path, written)
            return f"`{shown}`"
        if path is not None and not path.startswith(package.path):  # an import from outside
            return f"`{shown}`"
        if path == package.path or path.startswith(package.path + "."):
            if _exists(package, path):
                return f'<autoref identifier="{path}" optional><code>{shown}</code></autoref>'
            _logger.warning("%s: the docstring names %s (%s), which is not found",
                            obj.path, written, path)
        return f"`{shown}`"  # outside the package: code

    text = _ROLE.sub(role, docstring.value)
    docstring.value = _RST_LINK.sub(r"[\g<text>](\g<url>)", text)


class SphinxRoles(griffe.Extension):
    """Rewrite the Sphinx roles of every docstring of the loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        seen: set[str] = set()
        pending: list[griffe.Object] = [pkg]
        while pending:
            obj = pending.pop()
            if obj.path in seen:
                continue
            seen.add(obj.path)
            _rewrite(obj, pkg)
            pending.extend(m for m in obj.members.values() if not m.is_alias)
