#!/usr/bin/env python3
"""Checks that the import graph of the library's source files has no cycles.

Each file of src/ (the library crate; the binaries are leaves above it) is a node. A file depends
on another when its code names an item defined there through a `crate::`, `super::` or `self::`
path, in a `use` or inline. A folder's mod.rs naming its own parts is containment and not counted;
a part naming its mod.rs is. Re-exports (`pub use`) are followed to the file that defines the item,
so a folder's mod.rs that only re-exports does not tie its children together. Comments and
`#[cfg(test)]` modules are left out: tests may reach anywhere.

Usage: scripts/import_graph.py [--layers] [SRC]
  exit 0 when acyclic; exit 1 listing every cycle with the lines that close it.
  --layers prints the files from the lowest layer (imports nothing) up.
  --self-test checks the reader on a small made-up crate.
"""

import re
import sys
from pathlib import Path

ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+|unsafe\s+|const\s+)*"
    r"(?:fn|struct|enum|trait|type|const|static|mod|union)\s+([A-Za-z_]\w*)",
    re.M,
)
MACRO = re.compile(r"macro_rules!\s*([A-Za-z_]\w*)")
USE = re.compile(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.S)
INLINE = re.compile(r"\b(?:crate|super|self)(?:::[A-Za-z_]\w*)+")
TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{")
TEST_FILE_MODULE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;")


def strip_comments(text: str) -> str:
    """Drops // and /* */ comments (keeping line breaks, so line numbers stay) and string bodies."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    out.append("\n" if text[i] == "\n" else "")
                    i += 1
        elif text[i] == '"' and not text[i - 1 : i] == "'":
            out.append('"')
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                if i < n and text[i] == "\n":
                    out.append("\n")
                i += 1
            out.append('"')
            i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def cut_test_modules(text: str) -> str:
    """Blanks `#[cfg(test)] mod … { … }` bodies, keeping line breaks."""
    while (m := TEST_MODULE.search(text)) is not None:
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[m.start() : i]
        text = text[: m.start()] + "\n" * body.count("\n") + text[i:]
    return text


def expand_use(tree: str) -> list[tuple[list[str], str | None]]:
    """`a::{b, c::{self, d as e}}` → [(path segments, alias)]."""
    tree = re.sub(r"\s*(::|[{},])\s*", r"\1", re.sub(r"\s+", " ", tree.strip()))
    results: list[tuple[list[str], str | None]] = []

    def walk(prefix: list[str], part: str) -> None:
        if "{" in part:
            head, body = part.split("{", 1)
            base = prefix + [s for s in head.split("::") if s]
            for piece in split_top(body[: body.rindex("}")]):
                walk(base, piece)
            return
        path, _, alias = part.partition(" as ")
        segs = prefix + [s for s in path.strip().split("::") if s]
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        results.append((segs, alias.strip() or None))

    walk([], tree)
    return results


def split_top(body: str) -> list[str]:
    """Splits on commas that are not inside braces."""
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    if cur:
        parts.append(cur)
    return [p for p in parts if p]


class Crate:
    """The library's files, their module paths, definitions and re-exports."""

    def __init__(self, src: Path):
        self.src = src
        self.files: dict[tuple[str, ...], Path] = {}
        self.text: dict[Path, str] = {}
        raw: dict[tuple[str, ...], tuple[Path, str]] = {}
        for path in sorted(src.rglob("*.rs")):
            rel = path.relative_to(src)
            if rel.parts[0] == "bin" or rel.as_posix() == "main.rs":
                continue
            raw[self.module_of(rel)] = (path, strip_comments(path.read_text()))
        # Modules declared `#[cfg(test)] mod name;` are test files, left out with all below them.
        tests = {m + (name,) for m, (_, text) in raw.items() for name in TEST_FILE_MODULE.findall(text)}
        for module, (path, text) in raw.items():
            if any(module[: len(t)] == t for t in tests):
                continue
            self.files[module] = path
            self.text[path] = cut_test_modules(text)
        self.defs = {p: set(ITEM.findall(t)) | set(MACRO.findall(t)) for p, t in self.text.items()}
        self.reexports = {p: self.pub_uses(p) for p in self.text}

    @staticmethod
    def module_of(rel: Path) -> tuple[str, ...]:
        parts = list(rel.with_suffix("").parts)
        if parts[-1] in ("mod", "lib"):
            parts.pop()
        return tuple(parts)

    def module_path(self, path: Path) -> tuple[str, ...]:
        return next(m for m, p in self.files.items() if p == path)

    def pub_uses(self, path: Path) -> dict[str, list[str]]:
        """Name → the path it re-exports (relative segments as written)."""
        found: dict[str, list[str]] = {}
        for m in USE.finditer(self.text[path]):
            if not m.group(1):
                continue
            for segs, alias in expand_use(m.group(2)):
                if segs:
                    found[alias or segs[-1]] = segs
        return found

    def resolve(self, here: Path, segs: list[str], seen: int = 0) -> Path | None:
        """The file that defines what `segs` (as written in `here`) names."""
        module = list(self.module_path(here))
        rest = list(segs)
        if rest and rest[0] == "crate":
            module, rest = [], rest[1:]
        elif rest and rest[0] in ("super", "self"):
            while rest and rest[0] in ("super", "self"):
                if rest.pop(0) == "super":
                    module = module[:-1]
        while rest and tuple(module + [rest[0]]) in self.files:
            module.append(rest.pop(0))
        file = self.files.get(tuple(module))
        if file is None:
            return None
        if not rest or rest[0] in self.defs[file] or seen > 8:
            return file
        target = self.reexports[file].get(rest[0])
        if target is None:
            return file
        found = self.resolve(file, target + rest[1:], seen + 1)
        return found or file

    def edges(self) -> dict[Path, dict[Path, int]]:
        """file → {file it depends on → first line that names it}."""
        graph: dict[Path, dict[Path, int]] = {p: {} for p in self.text}
        for path, text in self.text.items():
            for segs, line in self.references(text, self.children(path)):
                target = self.resolve(path, segs)
                if target and target != path and not self.contains(path, target):
                    graph[path].setdefault(target, line)
        return graph

    def contains(self, parent: Path, child: Path) -> bool:
        """Whether `child` is a module nested in `parent`'s: a folder's mod.rs that dispatches to
        its own parts is containment, not a dependency between peers."""
        outer, inner = self.module_path(parent), self.module_path(child)
        return parent.name in ("mod.rs", "lib.rs") and inner[: len(outer)] == outer

    def children(self, path: Path) -> set[str]:
        """Names of the modules declared under this file's module."""
        module = self.module_path(path)
        return {m[-1] for m in self.files if len(m) == len(module) + 1 and m[:-1] == module}

    @staticmethod
    def references(text: str, children: set[str]):
        """Every crate/super/self path, and every path through a child module, outside
        re-exports, with its line."""
        spans = []
        for m in USE.finditer(text):
            spans.append((m.start(), m.end()))
            if m.group(1):
                continue
            line = text.count("\n", 0, m.start()) + 1
            for segs, _ in expand_use(m.group(2)):
                if segs and segs[0] in ("crate", "super", "self"):
                    yield segs, line
        for m in INLINE.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            yield m.group(0).split("::"), text.count("\n", 0, m.start()) + 1
        if not children:
            return
        child = re.compile(r"(?<![\w:])(?:" + "|".join(sorted(children)) + r")(?:::[A-Za-z_]\w*)+")
        for m in child.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            yield ["self"] + m.group(0).split("::"), text.count("\n", 0, m.start()) + 1


def cycles(graph: dict[Path, dict[Path, int]]) -> list[list[Path]]:
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: Path) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def layers(graph: dict[Path, dict[Path, int]]) -> list[list[Path]]:
    """Files grouped by height: layer 0 imports nothing of the crate."""
    height: dict[Path, int] = {}

    def h(v: Path) -> int:
        if v not in height:
            height[v] = 0
            height[v] = 1 + max((h(w) for w in graph[v]), default=-1)
        return height[v]

    for v in graph:
        h(v)
    top = max(height.values(), default=0)
    return [sorted(v for v in graph if height[v] == k) for k in range(top + 1)]


def self_test() -> int:
    """A cycle through a `use` and an inline path is found; a folder's mod.rs dispatching to its
    parts, re-exports and test modules are not cycles."""
    import tempfile

    files = {
        "lib.rs": "pub mod a;\npub mod b;\npub mod eng;\n",
        "a.rs": "use crate::b::Bee;\npub struct Ay;\n",
        "b.rs": "pub struct Bee;\nfn f() { let _ = crate::a::Ay; }\n",
        "eng/mod.rs": "mod part;\npub use part::Part;\npub struct Req;\n"
        "pub fn make() -> Part { part::Part::new() }\n",
        "eng/part.rs": "use super::Req;\n// use crate::a::Ay;\npub struct Part;\n"
        "#[cfg(test)]\nmod tests {\n    use crate::b::Bee;\n}\n#[cfg(test)]\nmod checks;\n",
        "eng/part/checks.rs": "use crate::c::Sea;\n",
        "c.rs": "use crate::eng::{self, Part};\npub struct Sea;\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        for name, text in files.items():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_text(text)
        graph = Crate(src).edges()
        names = {p.relative_to(src).as_posix(): {q.relative_to(src).as_posix() for q in graph[p]} for p in graph}
        found = [[p.relative_to(src).as_posix() for p in c] for c in cycles(graph)]
    expected = {
        "a.rs": {"b.rs"},
        "b.rs": {"a.rs"},
        "c.rs": {"eng/mod.rs", "eng/part.rs"},
        "eng/mod.rs": set(),
        "eng/part.rs": {"eng/mod.rs"},
        "lib.rs": set(),
    }
    ok = names == expected and found == [["a.rs", "b.rs"]]
    print("import graph self-test:", "ok" if ok else f"FAILED: {names} {found}")
    return 0 if ok else 1


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = Path(args[0] if args else Path(__file__).resolve().parent.parent / "src")
    crate = Crate(src)
    graph = crate.edges()
    rel = lambda p: p.relative_to(src.parent).as_posix()  # noqa: E731
    found = cycles(graph)
    for n, comp in enumerate(found, 1):
        print(f"cycle {n}: {len(comp)} files")
        members = set(comp)
        for v in comp:
            for w, line in sorted(graph[v].items()):
                if w in members:
                    print(f"  {rel(v)}:{line} -> {rel(w)}")
    if "--layers" in sys.argv and not found:
        for k, files in enumerate(layers(graph)):
            print(f"layer {k}: " + " ".join(rel(f) for f in files))
    if found:
        print(f"import graph of {rel(src)}: {len(found)} cycle(s)")
        return 1
    print(f"import graph of {rel(src)}: {len(graph)} files, no cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
