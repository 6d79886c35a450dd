"""Regular expressions written by administrators (the procedures' field patterns), run with RE2.

Python's ``re`` backtracks: ``^(a+)+$`` against 26 typed characters took 7 s in the event loop. RE2 matches in
time linear in the input whatever the pattern, so an administrator's pattern cannot freeze the server. It has
no backreferences and no lookaround; such a pattern is refused when the definition is checked, with a message
that says so. Every administrator's pattern goes through ``admin_pattern``, which compiles it once.

RE2's ``\\d``, ``\\s`` and ``\\w`` are ASCII classes (Python's are Unicode): a full-width space is not
``\\s``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason is raised to the caller; nothing to print on stderr

# A replacement template names groups only: \1 … \99 or \g<name>. (Our own fixed pattern, not an
# administrator's.)
_GROUP_REFERENCE = re.compile(r"\\(?:([1-9][0-9]?)|g<(\w+)>)|\\")

RE2_LIMITS = (
    "正则表达式按 RE2 语法运行，不支持反向引用（如 \\1）和前后断言（如 (?=…)、(?<=…)、(?!…)、(?<!…)）"
)


class PatternError(ValueError):
    """The message is Chinese and names what is wrong with the pattern or template."""


@dataclass(frozen=True)
class AdminPattern:
    """A compiled administrator's pattern; equal to another with the same source."""

    source: str
    _compiled: Any = field(repr=False, compare=False)

    def fullmatch(self, text: str) -> AdminMatch | None:
        match = self._compiled.fullmatch(text)
        return None if match is None else AdminMatch(match)

    def check_template(self, template: str) -> None:
        """Refuses a replacement template that names a group the pattern lacks, or has another escape."""
        names = self._compiled.groupindex
        for reference in _GROUP_REFERENCE.finditer(template):
            number, name = reference.groups()
            if number is None and name is None:
                raise PatternError(f"“{template}” 中的反斜杠只能用于引用分组：\\1…\\99 或 \\g<名称>")
            group = int(number or name) if (number or name.isdigit()) else names.get(name)
            if group is None or not 0 <= group <= self._compiled.groups:
                raise PatternError(f"“{template}” 引用了 pattern 中没有的分组 {reference.group(0)}")


@dataclass(frozen=True)
class AdminMatch:
    _match: Any

    def expand(self, template: str) -> str:
        """The template with its group references replaced (an unmatched group gives empty text). re2's own
        ``expand`` mangles non-ASCII text, so this does it; ``check_template`` has vetted the template."""

        def group(reference: re.Match[str]) -> str:
            number, name = reference.groups()
            return self._match[int(number) if number else int(name) if name.isdigit() else name] or ""

        return _GROUP_REFERENCE.sub(group, template)


def admin_pattern(source: str) -> AdminPattern:
    """Compiles an administrator's pattern with RE2, or raises PatternError with the reason."""
    try:
        compiled = re2.compile(source, options=_OPTIONS)
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise PatternError(f"{text}。{RE2_LIMITS}") from None
    return AdminPattern(source, compiled)
