#!/usr/bin/env python3
"""Keeps the docs and the code together (Python standard library only).

    python3 tests/docs/check_docs.py          # exit 1 and one line per problem

Checks, over README.md, the other top-level *.md files and docs/**/*.md:
  links      every relative link and #anchor between documents resolves (GitHub's heading slugs)
  sections   every section the code and the templates name ((README, "Path prefix")) exists
  variables  every ORIGINSIG_* variable the docs name exists in the code, and every one the code
             names is documented in README.md or docs/ (docs/reference/configuration.md is the list)
  paths      every repository path written as code (`infra/edge.yaml`) exists
  metrics    the EMF dimension sets the docs name are the ones the authorizer emits
             (hmac-authorizer/src/observability.rs)
  zip size   the docs state no size for the edge zip other than the one built (BENCHMARKS.md has
             the measured one)
  test URL   what the docs, templates and construct say a rotation test URL must answer is what
             hmac-authorizer/src/checks.rs expects
  timing     the timing model's table in the docs is infra/timing.json, entry for entry
  prices     a cost per million requests in the docs is one of BENCHMARKS.md's (generated) figures
  no AWS CLI no `aws <service> <operation>` command in the docs (no step may need the AWS CLI)
  bundle     every `edge-signer/bundle.py …` line in the docs is accepted by its argument parser
  front page README.md's two quickstarts (local; "protect your API" between its markers) have at
             most ten command lines each

The originsig command lines in the docs are checked against the real CLI by
hmac-authorizer/tests/docs_cli.rs. tests/docs/test_check_docs.py shows each check failing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shlex
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Never searched: build outputs, installed tools, VCS data.
SKIP_DIRS = {".git", "target", "node_modules", ".venv", ".venv-sam", "cdk.out", "dist", "__pycache__", "corpus", "artifacts"}
CODE_SUFFIXES = {".rs", ".mjs", ".js", ".ts", ".py", ".sh", ".yaml", ".yml", ".toml", ".json"}
# Paths under these top-level directories (and these files) are checked when the docs name them.
REPO_DIRS = ("shared/", "edge-signer/", "hmac-authorizer/", "infra/", "tests/", "docs/", ".ci/")
VARIABLE = re.compile(r"\bORIGINSIG_[A-Z0-9_]*[A-Z0-9]\b")


def walk(root: Path):
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv"))
        for name in sorted(files):
            yield Path(directory, name)


def code_files(root: Path):
    """Source, scripts, templates and configuration (not this checker and its tests)."""
    for path in walk(root):
        if path.suffix not in CODE_SUFFIXES or path.name in ("package-lock.json", "Cargo.lock"):
            continue
        if path.parent.name == "docs" and path.parent.parent.name == "tests":
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue


def doc_files(root: Path) -> list[Path]:
    """Top-level Markdown files and everything under docs/."""
    top = sorted(p for p in root.glob("*.md"))
    under = sorted(p for p in walk(root / "docs") if p.suffix == ".md") if (root / "docs").is_dir() else []
    return top + under


def user_doc_files(root: Path) -> list[Path]:
    """Where a user looks for a variable: the front page and the guides."""
    return [p for p in doc_files(root) if p.name == "README.md" and p.parent == root or "docs" in p.relative_to(root).parts]


def rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def prose_lines(text: str):
    """(line number, line) outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def without_code_spans(line: str) -> str:
    return re.sub(r"`[^`]*`", "", line)


def code_spans(line: str) -> list[str]:
    return re.findall(r"`([^`]+)`", line)


# ---- links and anchors -------------------------------------------------------------------------

def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces → '-'."""
    text = re.sub(r"<[^>]+>", "", heading)              # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in "-_ " or category[0] in "LN" or category == "Mn":
            kept.append("-" if char == " " else char)
    return "".join(kept)


def anchors(text: str) -> set[str]:
    found: dict[str, int] = {}
    out = set()
    for _, line in prose_lines(text):
        match = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(2))
            count = found.get(base, 0)
            found[base] = count + 1
            out.add(base if count == 0 else f"{base}-{count}")
        out.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', line))
    return out


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)")


def check_links(root: Path) -> list[str]:
    problems = []
    cache: dict[Path, set[str]] = {}

    def anchors_of(path: Path) -> set[str]:
        if path not in cache:
            cache[path] = anchors(path.read_text(encoding="utf-8"))
        return cache[path]

    for doc in doc_files(root):
        text = doc.read_text(encoding="utf-8")
        for number, line in prose_lines(text):
            plain = without_code_spans(line)
            targets = LINK.findall(plain) + REFERENCE.findall(plain)
            for target in targets:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, …
                    continue
                path_part, _, anchor = target.partition("#")
                resolved = (doc.parent / path_part).resolve() if path_part else doc
                where = f"{rel(root, doc)}:{number}"
                if not resolved.exists():
                    problems.append(f"{where}: link to {target}: {path_part} does not exist")
                    continue
                if anchor and resolved.suffix == ".md" and anchor not in anchors_of(resolved):
                    problems.append(f"{where}: link to {target}: no heading with anchor #{anchor} in {rel(root, resolved)}")
    return problems


# A section named from code or a template description: (README, "Path prefix"),
# (docs/operations.md, "Roll back"). The named document must have that heading.
SECTION_REFERENCE = re.compile(r"\b(README(?:\.md)?|(?:docs/[\w/.-]+|SPEC|ARCHITECTURE)\.md),?\s+\"([^\"]+)\"")


def check_section_references(root: Path) -> list[str]:
    problems = []
    for path, text in code_files(root):
        for number, line in enumerate(text.splitlines(), 1):
            for document, section in SECTION_REFERENCE.findall(line):
                target = root / ("README.md" if document.startswith("README") else document)
                where = f"{rel(root, path)}:{number}"
                if not target.exists():
                    problems.append(f"{where}: names {document}, which does not exist")
                elif slug(section) not in anchors(target.read_text(encoding="utf-8")):
                    problems.append(f"{where}: names the section \"{section}\" of {rel(root, target)}, which has no such heading")
    return problems


# ---- ORIGINSIG_* variables ---------------------------------------------------------------------

def code_variables(root: Path) -> dict[str, str]:
    """Every ORIGINSIG_* name in the code, with one file that names it."""
    found: dict[str, str] = {}
    for path, text in code_files(root):
        for name in VARIABLE.findall(text):
            found.setdefault(name, rel(root, path))
    return found


def check_variables(root: Path) -> list[str]:
    in_code = code_variables(root)
    problems = []
    documented: set[str] = set()
    for doc in user_doc_files(root):
        documented.update(VARIABLE.findall(doc.read_text(encoding="utf-8")))
    for doc in doc_files(root):
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for name in VARIABLE.findall(line):
                if name not in in_code:
                    problems.append(f"{rel(root, doc)}:{number}: {name} is not read by any code")
    for name, where in sorted(in_code.items()):
        if name not in documented:
            problems.append(f"{where}: {name} is not documented (add it to docs/reference/configuration.md)")
    return problems


# ---- paths named in the docs -------------------------------------------------------------------

def path_candidates(span: str) -> str | None:
    span = span.strip()
    if any(c in span for c in "<>*{}$…|") or " " in span:
        return None
    span = re.sub(r"[:#].*$", "", span).rstrip(",.;")
    if span.startswith("./"):
        span = span[2:]
    if span.startswith(REPO_DIRS):
        return span
    return None


def generated_outputs(root: Path) -> tuple[str, ...]:
    """Files a tool writes and git ignores (`/infra/edge.rendered.yaml` in .gitignore): naming one
    is naming an output, which need not exist in a checkout. Only anchored entries without
    wildcards count, so a typo in a doc cannot hide behind a pattern."""
    ignore = root / ".gitignore"
    if not ignore.exists():
        return ()
    return tuple(line.strip()[1:] for line in ignore.read_text(encoding="utf-8").splitlines()
                 if line.strip().startswith("/") and not any(c in line for c in "*?[!"))


def exists_or_generated(root: Path, path: str) -> bool:
    return (root / path).exists() or path.rstrip("/") in generated_outputs(root)


def check_paths(root: Path) -> list[str]:
    problems = []
    for doc in doc_files(root):
        base_dir = None  # ARCHITECTURE.md: tables under "### `edge-signer/` — …" name paths inside it
        for number, line in prose_lines(doc.read_text(encoding="utf-8")):
            heading = re.match(r"^#{1,6}\s+`([^`]+/)`", line)
            if heading:
                base_dir = heading.group(1)
            elif line.startswith("#"):
                base_dir = None
            for span in code_spans(line):
                path = path_candidates(span)
                if path is None and base_dir and "/" in span.strip("/") and not any(c in span for c in " <>*{}$…|"):
                    path = re.sub(r"[:#].*$", "", span.strip())  # `src/signer.rs` under `edge-signer/`
                    last = path.rstrip("/").rsplit("/", 1)[-1]
                    if re.match(r"^[a-z]+:", path) or not (path.endswith("/") or "." in last):
                        path = None
                if path is None:
                    continue
                bases = [root] + ([root / base_dir, root / base_dir / "src"] if base_dir else [])
                if any((base / path).exists() for base in bases) or exists_or_generated(root, path):
                    continue
                problems.append(f"{rel(root, doc)}:{number}: `{span}` does not exist")
    problems.extend(check_paths_in_code(root))
    return problems


# A repository path in a comment or message of the code: `infra/test_template.py`. Not part of a
# longer path (`../tests/common/mod.rs`, `hmac-authorizer/tests/…`).
CODE_PATH = re.compile(r"(?<![\w./-])(?:" + "|".join(re.escape(d) for d in REPO_DIRS)
                       + r")[A-Za-z0-9_./-]*\.(?:rs|py|mjs|js|ts|sh|yaml|json|toml|md|txt)\b")


def check_paths_in_code(root: Path) -> list[str]:
    problems = []
    for path, text in code_files(root):
        for number, line in enumerate(text.splitlines(), 1):
            for named in CODE_PATH.findall(line):
                if not exists_or_generated(root, named):
                    problems.append(f"{rel(root, path)}:{number}: names {named}, which does not exist")
    return problems


# ---- EMF dimensions ----------------------------------------------------------------------------

def emitted_dimension_sets(root: Path) -> list[list[str]]:
    source = (root / "hmac-authorizer" / "src" / "observability.rs").read_text(encoding="utf-8")
    match = re.search(r'"Dimensions":\s*(\[\[.*?\]\])', source)
    if not match:
        raise SystemExit("hmac-authorizer/src/observability.rs: no \"Dimensions\" found; update tests/docs/check_docs.py")
    return json.loads(match.group(1))


def check_metrics(root: Path) -> list[str]:
    emitted = [tuple(s) for s in emitted_dimension_sets(root)]
    problems = []
    for doc in doc_files(root):
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if "dimension" not in line.lower() and not re.search(r"`\[[A-Z]\w*(,\s*[A-Z]\w*)*\]`", line):
                continue
            for span in code_spans(line):
                match = re.fullmatch(r"\[([A-Z]\w*(?:,\s*[A-Z]\w*)*)\]", span.strip())
                if match:
                    documented = tuple(s.strip() for s in match.group(1).split(","))
                    if documented not in emitted:
                        problems.append(
                            f"{rel(root, doc)}:{number}: dimension set {span} is not emitted; the authorizer emits "
                            + ", ".join("[" + ", ".join(s) + "]" for s in emitted))
    return problems


# ---- the edge zip's size -----------------------------------------------------------------------

def check_zip_size(root: Path) -> list[str]:
    built = root / "target" / "lambda" / "edge-signer" / "edge-signer.zip"
    problems = []
    for doc in doc_files(root):
        if doc.name == "BENCHMARKS.md":  # written by tests/bench/run.sh from the built zip
            continue
        text = doc.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if "edge-signer.zip" not in line and "edge zip" not in line:
                continue
            for size in re.findall(r"(\d+(?:\.\d+)?)\s*KB", line):
                stated = float(size) * 1000
                actual = built.stat().st_size if built.exists() else None
                if actual is None or abs(stated - actual) > 0.1 * actual:
                    problems.append(f"{rel(root, doc)}:{number}: states the edge zip is {size} KB; the built zip is "
                                    + (f"{actual / 1000:.1f} KB" if actual else "not built")
                                    + " (state no size, or link BENCHMARKS.md)")
    return problems


# ---- what a rotation test URL must answer ------------------------------------------------------

TEST_URL_NAMES = re.compile(r"RotatorTestUrl|--test-url|ORIGINSIG_TEST_URL|testUrl")


def expected_test_url_classes(root: Path) -> set[str]:
    source = (root / "hmac-authorizer" / "src" / "checks.rs").read_text(encoding="utf-8")
    match = re.search(r"through CloudFront answered \{status\}, expected ([^\"]+)\"", source)
    if not match:
        raise SystemExit("hmac-authorizer/src/checks.rs: the through-CloudFront check's message moved; update tests/docs/check_docs.py")
    return set(re.findall(r"[1-5]xx", match.group(1)))


def check_test_url(root: Path) -> list[str]:
    expected = expected_test_url_classes(root)
    files = doc_files(root) + sorted((root / "infra").glob("*.yaml")) + sorted((root / "infra" / "cdk" / "lib").glob("*.ts"))
    problems = []
    for path in files:
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not TEST_URL_NAMES.search(line):
                continue
            stated = set(re.findall(r"\b[1-5]xx\b", line))
            if stated and stated != expected:
                problems.append(f"{rel(root, path)}:{number}: says a test URL must answer {'/'.join(sorted(stated))}; "
                                f"hmac-authorizer/src/checks.rs expects {'/'.join(sorted(expected))}")
    return problems


# ---- the timing model's numbers ---------------------------------------------------------------

def check_timing(root: Path) -> list[str]:
    """`| timing.json | default |` tables state exactly infra/timing.json, every entry of it."""
    model = json.loads((root / "infra" / "timing.json").read_text(encoding="utf-8"))
    problems, seen = [], set()
    for doc in doc_files(root):
        in_table = False
        for number, line in prose_lines(doc.read_text(encoding="utf-8")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.lstrip().startswith("|"):
                in_table = False
            elif cells[:2] == ["timing.json", "default"]:
                in_table = True
            elif in_table and cells[0].startswith("`"):
                key, stated = cells[0].strip("`"), cells[1].replace(",", "")
                seen.add(key)
                if key not in model:
                    problems.append(f"{rel(root, doc)}:{number}: {key} is not in infra/timing.json")
                elif stated != str(model[key]):
                    problems.append(f"{rel(root, doc)}:{number}: {key} is {model[key]} in infra/timing.json, not {stated}")
    for key in sorted(set(model) - seen):
        problems.append(f"infra/timing.json: {key} is in no `| timing.json | default |` table of the docs")
    # Elsewhere a default is named, not repeated: `maxAgeSecs` must be an entry of the model.
    for doc in doc_files(root):
        for number, line in prose_lines(doc.read_text(encoding="utf-8")):
            for key in re.findall(r"`([a-z][a-zA-Z]*Secs)`", line):
                if key not in model:
                    problems.append(f"{rel(root, doc)}:{number}: `{key}` is not an entry of infra/timing.json")
    return problems


# ---- prices --------------------------------------------------------------------------------------

def check_prices(root: Path) -> list[str]:
    """A "$0.81 per million" in the docs is a figure of BENCHMARKS.md's cost table (written by
    tests/bench/report.py from the list prices), not a second copy that drifts."""
    benchmarks = root / "BENCHMARKS.md"
    table = set(re.findall(r"\$[\d,]+(?:\.\d+)?", benchmarks.read_text(encoding="utf-8"))) if benchmarks.exists() else set()
    problems = []
    for doc in doc_files(root):
        if doc.name == "BENCHMARKS.md":
            continue
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for price in re.findall(r"(\$[\d,]+(?:\.\d+)?)\*{0,2}\s+per\s+(?:million|1M|billion|1B)", line):
                if price not in table:
                    problems.append(f"{rel(root, doc)}:{number}: {price} per million/billion is not in BENCHMARKS.md's cost table")
    return problems


# ---- no AWS CLI ----------------------------------------------------------------------------------

AWS_CLI = re.compile(r"(?:^|[`$;&|(]\s*)aws\s+[a-z0-9-]+\s+[a-z][a-z0-9-]+")


def check_no_aws_cli(root: Path) -> list[str]:
    """The docs promise that no step needs the AWS CLI: no `aws <service> <operation>` in them
    (originsig, SAM CLI or the console instead)."""
    problems = []
    for doc in doc_files(root):
        fenced = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            # In prose, an inline span may continue on the next line: look from its opening backtick.
            found = AWS_CLI.search(line.strip()) if fenced else re.search(r"`\s*aws\s+[a-z0-9-]+\s+[a-z][a-z0-9-]+", line)
            if found:
                problems.append(f"{rel(root, doc)}:{number}: `{found.group(0).strip('`')}…` needs the AWS CLI, which no step may need")
    return problems


# ---- the front page ------------------------------------------------------------------------------

BEGIN, END = "<!-- protect-your-api:begin -->", "<!-- protect-your-api:end -->"
MAX_QUICKSTART_LINES = 10


def command_lines_of_blocks(text: str) -> list[str]:
    """The command lines of the fenced code blocks in a piece of Markdown (no blanks, no comments)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif fenced and line.strip() and not line.strip().startswith("#"):
            lines.append(line)
    return lines


def check_front_page(root: Path) -> list[str]:
    """README.md stays a front page: each quickstart (the local one, and the "protect your API"
    block between its markers) is at most ten command lines."""
    text = (root / "README.md").read_text(encoding="utf-8")
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        return [f"README.md: needs exactly one {BEGIN} … {END} block (the protect-your-api quickstart)"]
    problems = []
    protect = text[text.index(BEGIN):text.index(END)]
    local = text.split("## ", 2)[1] if "## " in text else ""
    for name, part in (("the local quickstart (first section)", local), ("the protect-your-api block", protect)):
        count = len(command_lines_of_blocks(part))
        if count > MAX_QUICKSTART_LINES:
            problems.append(f"README.md: {name} has {count} command lines; at most {MAX_QUICKSTART_LINES} (move the rest to docs/)")
    return problems


# ---- edge-signer/bundle.py command lines ---------------------------------------------------------

BUNDLE_COMMAND = re.compile(r"(?:^|\s)(?:python3\s+)?(?:\./)?edge-signer/bundle\.py(\s[^`#|&;]*)?")


def bundle_parser(root: Path):
    """bundle.py's own argument parsing (`parse_args(argv)`), loaded from the repository."""
    spec = importlib.util.spec_from_file_location("originsig_bundle", root / "edge-signer" / "bundle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.parse_args


def bundle_options(parse_args) -> set[str]:
    """The options bundle.py's --help lists."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        parse_args(["--help"])
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", out.getvalue()))


def check_bundle_commands(root: Path) -> list[str]:
    """Every `edge-signer/bundle.py …` line in the docs is accepted by bundle.py's parser."""
    if not (root / "edge-signer" / "bundle.py").exists():
        return []
    parse_args = bundle_parser(root)
    options = bundle_options(parse_args)
    problems = []
    for doc in doc_files(root):
        # `| field | option | …` tables (the edge bundle's config.json) name bundle.py's options.
        in_table = False
        for number, line in prose_lines(doc.read_text(encoding="utf-8")):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.lstrip().startswith("|"):
                in_table = False
            elif cells[:2] == ["field", "option"]:
                in_table = True
            elif in_table:
                for option in re.findall(r"`(--[a-z][a-z0-9-]*)`", cells[1] if len(cells) > 1 else ""):
                    if option not in options:
                        problems.append(f"{rel(root, doc)}:{number}: {option} is not an option of edge-signer/bundle.py")
        fenced = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
                continue
            texts = [line] if fenced else code_spans(line)
            for text in texts:
                found = BUNDLE_COMMAND.search(text)
                if not found or "<" in text or "…" in text:
                    continue
                if not fenced and "-" not in (found.group(1) or ""):
                    continue  # prose naming the script, not a command line
                try:
                    argv = shlex.split((found.group(1) or "").replace("[", " ").replace("]", " "))
                except ValueError as error:
                    problems.append(f"{rel(root, doc)}:{number}: `{text.strip()}`: {error}")
                    continue
                stderr = io.StringIO()
                try:
                    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
                        parse_args(argv)
                except SystemExit as exit:
                    if exit.code not in (0, None):
                        why = stderr.getvalue().strip().splitlines()[-1:] or ["refused"]
                        problems.append(f"{rel(root, doc)}:{number}: `{text.strip()}`: {why[0]}")
    return problems


CHECKS = {
    "links": check_links,
    "sections": check_section_references,
    "variables": check_variables,
    "paths": check_paths,
    "metrics": check_metrics,
    "zip size": check_zip_size,
    "test URL": check_test_url,
    "timing": check_timing,
    "prices": check_prices,
    "no AWS CLI": check_no_aws_cli,
    "front page": check_front_page,
    "bundle commands": check_bundle_commands,
}


def run(root: Path) -> list[str]:
    problems = []
    for name, check in CHECKS.items():
        problems.extend(f"{name}: {p}" for p in check(root))
    return problems


def main() -> int:
    problems = run(ROOT)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s): the docs and the code disagree", file=sys.stderr)
        return 1
    print(f"docs checked against the code: {', '.join(CHECKS)} ({len(doc_files(ROOT))} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
