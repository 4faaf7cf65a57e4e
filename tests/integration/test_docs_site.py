"""The documentation site: built by scripts/docs.sh, opened in a real headless browser.

scripts/docs.sh builds the site (antsibull-docs + Sphinx, warnings as errors) into a temporary
folder, once per test run (shared by the xdist workers under a lock). Each page is then loaded by
Debian's Chromium (`chromium --headless --dump-dom`) and the assertions read the DOM the browser
built: the index lists every module, filter and lookup file of plugins/ and the stack role; the
voice_compose page has its options table with the descriptions ansible-doc reports; the role page has
its entry points; the guide's links land on pages that exist. A missing browser is a failure, never
a skip (scripts/provision.sh installs it).
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "voiceops.avr"
#: plugins/<dir> -> the page suffix antsibull-docs gives that plugin type
KINDS = {"modules": "module", "filter": "filter", "lookup": "lookup"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- a small DOM from the browser's serialisation ---------------------------------------------

class Node:
    def __init__(self, tag: str, attrs: Dict[str, str], parent: Optional["Node"]) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: List[object] = []   # Node or str

    def iter(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: Optional[str] = None, **attrs: str) -> List["Node"]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def ancestor(self, tag: str) -> Optional["Node"]:
        node = self.parent
        while node is not None and node.tag != tag:
            node = node.parent
        return node

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return "".join(parts)


class DomBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def normalize(text: str) -> str:
    """Text as a reader compares it: typographic quotes and ellipses plain, whitespace collapsed."""
    for fancy, plain in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'),
                         ("\u2026", "..."), ("\u00a0", " ")):
        text = text.replace(fancy, plain)
    return " ".join(text.split())


def plain(markup: str) -> str:
    """An ansible-doc description with its markup as the page shows it (O(x) -> x, L(t,u) -> t, ...)."""
    text = re.sub(r"\bP\(([^#)]+)#[^)]*\)", r"\1", markup)
    text = re.sub(r"\bL\(([^,)]+),[^)]*\)", r"\1", text)
    text = re.sub(r"\b(?:RV|[OVCIBMEU])\(([^)]*)\)", r"\1", text)
    return normalize(text)


# --- the site and the browser ---------------------------------------------------------------

@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """scripts/docs.sh's site, built once for all workers (the first one builds, under a lock)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent   # the run's folder, above each worker's own
    out = shared / "docs-site"
    with open(shared / "docs-site.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        failed = shared / "docs-site.failed"
        if failed.exists():
            pytest.fail(failed.read_text(encoding="utf-8"))
        if not (out / "index.html").is_file():
            env = dict(os.environ, VOICEOPS_VENV=sys.prefix)
            proc = subprocess.run([str(ROOT / "scripts" / "docs.sh"), str(out)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=900, check=False)
            if proc.returncode != 0:
                report = "scripts/docs.sh exited %d\n--- stdout\n%s\n--- stderr\n%s" % (
                    proc.returncode, proc.stdout[-6000:], proc.stderr[-12000:])
                failed.write_text(report, encoding="utf-8")
                pytest.fail(report)
    return out


@pytest.fixture(scope="session")
def browser() -> str:
    path = shutil.which("chromium")
    assert path, "Chromium is required: scripts/provision.sh installs it (apt-get install chromium)"
    return path


@pytest.fixture()
def dom(browser, tmp_path):
    def load(page: Path) -> Node:
        assert page.is_file(), "%s was not built" % page
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--user-data-dir=%s" % (tmp_path / "chromium"), "--dump-dom", page.as_uri()],
            capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, "chromium exited %d: %s" % (proc.returncode, proc.stderr[-3000:])
        assert "<body" in proc.stdout, "chromium gave no document for %s: %s" % (page, proc.stderr[-3000:])
        builder = DomBuilder()
        builder.feed(proc.stdout)
        return builder.root
    return load


def links(root: Node) -> Dict[str, str]:
    """href (without fragment) -> link text, of every link in the page's main content."""
    main = root.find_all("div", role="main") or [root]
    return {a.attrs["href"].split("#")[0]: normalize(a.text()) for a in main[0].find_all("a")
            if a.attrs.get("href") and not a.attrs["href"].startswith("#")}


def run(args: List[str], collections_path: Path) -> subprocess.CompletedProcess:
    """A tool of the venv running pytest, with this checkout's collection visible."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1")
    cmd = [str(Path(sys.executable).parent / args[0])] + args[1:]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, check=False)


def report(proc: subprocess.CompletedProcess) -> str:
    return "$ %s  (exit %d)\n--- stdout\n%s\n--- stderr\n%s" % (
        " ".join(proc.args), proc.returncode, proc.stdout[-8000:], proc.stderr[-8000:])


def plugin_pages() -> Dict[str, str]:
    """FQCN -> page of every module, filter and lookup file under plugins/."""
    pages = {}
    for folder, kind in KINDS.items():
        for path in sorted((ROOT / "plugins" / folder).glob("*.py")):
            if path.stem != "__init__":
                pages["%s.%s" % (NAMESPACE, path.stem)] = "%s_%s.html" % (path.stem, kind)
    return pages


# --- tests ----------------------------------------------------------------------------------

def test_index_lists_every_plugin_the_role_and_the_guide(site, dom) -> None:
    index = links(dom(site / "index.html"))
    pages = plugin_pages()
    for name in ("voice_compose_module.html", "voice_env_module.html", "release_module.html",
                 "images_filter.html", "survey_spec_filter.html", "credential_lookup.html"):
        assert name in pages.values(), "plugins/ lost %s: update this test" % name
    expected = dict(pages, **{"%s.stack" % NAMESPACE: "stack_role.html"})
    missing = {fqcn: page for fqcn, page in expected.items() if page not in index}
    assert not missing, "the index does not link %s; it links %s" % (missing, sorted(index))
    for fqcn, page in expected.items():
        short = fqcn.rsplit(".", 1)[1]
        assert short in index[page], "the index links %s as %r, not naming %s" % (page, index[page], short)
    assert "docsite/guide_stack.html" in index, "the index does not list the guide: %s" % sorted(index)
    internal = [href for href in index if not re.match(r"[a-z]+:", href)]
    broken = sorted(href for href in internal if not (site / html.unescape(href)).is_file())
    assert not broken, "the index links pages that were not built: %s" % broken


def test_module_page_has_its_options_table(site, dom, collections_path) -> None:
    proc = run(["ansible-doc", "--json", "%s.voice_compose" % NAMESPACE], collections_path)
    assert proc.returncode == 0, report(proc)
    options = json.loads(proc.stdout)["%s.voice_compose" % NAMESPACE]["doc"]["options"]
    page = dom(site / "voice_compose_module.html")
    headings = [normalize(h.text()) for h in page.find_all("h1")]
    assert any("voiceops.avr.voice_compose module" in h for h in headings), headings
    for name in ("project_dir", "template", "provider_keys"):
        anchors = page.find_all(id="parameter-%s" % name)
        assert anchors, "no option %s on the voice_compose page" % name
        row = anchors[0].ancestor("tr")
        assert row is not None and row.ancestor("table") is not None, "option %s is not in a table row" % name
        cells = row.find_all("td")
        assert len(cells) >= 2, "option %s: row without a description cell" % name
        assert normalize(cells[0].text()).startswith(name), normalize(cells[0].text())
        shown = normalize(cells[1].text())
        for paragraph in options[name]["description"]:
            assert plain(paragraph) in shown, "option %s: description %r not shown; the page shows %r" % (
                name, plain(paragraph), shown)


def test_role_page_shows_its_entry_points(site, dom) -> None:
    page = dom(site / "stack_role.html")
    specs = yaml.safe_load((ROOT / "roles/stack/meta/argument_specs.yml").read_text(encoding="utf-8"))
    entry_points = specs["argument_specs"]
    assert set(entry_points) >= {"main", "rollback"}, sorted(entry_points)
    headings = [normalize(h.text()) for h in page.find_all("h2")]
    for entry, spec in entry_points.items():
        wanted = "Entry point %s - %s" % (entry, normalize(spec["short_description"]))
        assert any(h.replace("\u2013", "-").startswith(wanted) for h in headings), (
            "no heading %r on the role page: %s" % (wanted, headings))
        for option in spec["options"]:
            assert page.find_all(id="parameter-%s--%s" % (entry, option)), (
                "entry point %s: option %s missing from the role page" % (entry, option))


def test_guide_links_land_on_pages_that_exist(site, dom) -> None:
    guide = site / "docsite" / "guide_stack.html"
    page = dom(guide)
    targets = links(page)
    internal = {href for href in targets if not re.match(r"[a-z]+:", href)}
    for wanted in ("../stack_role.html", "../voice_compose_module.html", "../release_module.html", "glossary.html"):
        assert wanted in internal, "the guide does not link %s: %s" % (wanted, sorted(internal))
    broken = sorted(href for href in internal if not (guide.parent / html.unescape(href)).resolve().is_file())
    assert not broken, "the guide links pages that were not built: %s" % broken

    # the guide's words link the glossary (docs/glossary.md, rendered) at their own entries
    glossary = dom(site / "docsite" / "glossary.html")
    anchors = {n.attrs["id"] for n in glossary.iter() if n.attrs.get("id", "").startswith("term-")}
    words = {a.attrs["href"].split("#", 1)[1] for a in page.find_all("a")
             if a.attrs.get("href", "").startswith("glossary.html#term-")}
    assert {"term-release", "term-rollback", "term-deployment", "term-template", "term-health-gate"} <= words, (
        "the guide does not link these glossary words: %s" % sorted(words))
    assert words <= anchors, "glossary entries missing for %s (it has %s)" % (sorted(words - anchors), sorted(anchors))
    rows = [line.split("|")[1] for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|")]
    source_words = {word for cell in rows for word in re.findall(r"\*\*([^*]+)\*\*", cell)}
    assert len(source_words) > 20, "docs/glossary.md has lost its table? %s" % sorted(source_words)
    shown = {normalize(re.sub(r"[^\w ()-]", "", n.text())) for n in glossary.find_all("dt")}
    assert source_words <= shown, "docs/glossary.md words not on the page: %s" % sorted(source_words - shown)


def test_lint_collection_docs_passes(collections_path) -> None:
    proc = run(["antsibull-docs", "lint-collection-docs", "--plugin-docs",
                str(collections_path / "ansible_collections" / "voiceops" / "avr")], collections_path)
    assert proc.returncode == 0, report(proc)
