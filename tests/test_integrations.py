"""docs/integrations.md: every partial it gives is checked as HTML, and built by the real
generator where one is installed (Hugo and Jekyll from Debian packages, Eleventy and Astro
from npm, installed once into .venv/integrations with the npm cache in .venv/npm-cache).
Gatsby is too heavy to build here (hundreds of packages): its component is checked as text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "integrations.md"
NODE_TOOLS = ROOT / ".venv" / "integrations"
#: What the guides are built with, kept in the repository (installed under .venv on first use).
TOOLS_PACKAGE = ROOT / "tests" / "integrations" / "package.json"
NPM_CACHE = ROOT / ".venv" / "npm-cache"
PARLEY = "https://comments.example.com"
BUILD_TIMEOUT = 60  # seconds; a slower build is not worth a test run

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])  # no database; runs with the others


def files(generator: str) -> dict[str, str]:
    """The guide's code blocks for `generator`, by the file name marked above each."""
    text = GUIDE.read_text(encoding="utf-8")
    found = re.findall(r"<!-- file: ([^ ]+) -->\n```[a-z]*\n(.*?)```", text, flags=re.S)
    return {name.split("/", 1)[1]: body for name, body in found if name.startswith(generator + "/")}


def write(folder: Path, content: dict[str, str]) -> None:
    for name, body in content.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def build(command: list[str], cwd: Path) -> None:
    env = {**os.environ, "ASTRO_TELEMETRY_DISABLED": "1", "ELEVENTY_VERBOSE": ""}
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"{command[0]} took over {BUILD_TIMEOUT} s (the partial test still ran)")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def assert_thread_snippet(html: str, key: str) -> None:
    """The guide's promise, in the built page: the thread, the script, the no-JS link."""
    assert f'<div id="parley" data-thread="{key}"></div>' in html, html
    assert re.search(rf'<script src="{re.escape(PARLEY)}/embed.js" data-site="?blog"? async', html)
    link = f"{PARLEY}/threads?site=blog&amp;thread={quote(key, safe='')}"
    assert link.lower() in html.lower(), html


def node_tool(name: str) -> Path:
    """A generator's command from .venv/integrations, installed from npm on first use."""
    binary = NODE_TOOLS / "node_modules" / ".bin" / name
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm absent")
        NODE_TOOLS.mkdir(parents=True, exist_ok=True)
        shutil.copy(TOOLS_PACKAGE, NODE_TOOLS / "package.json")
        done = subprocess.run(
            [npm, "install", "--prefer-offline", "--no-audit", "--no-fund", "--cache", NPM_CACHE],
            cwd=NODE_TOOLS,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0 or not binary.exists():
            pytest.skip(f"npm install failed: {done.stderr[-500:]}")
    return binary


# --- the partials as HTML (always) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("generator", "partial"),
    [
        ("hugo", "layouts/partials/parley.html"),
        ("jekyll", "_includes/parley.html"),
        ("eleventy", "_includes/parley.njk"),
        ("astro", "src/components/Parley.astro"),
    ],
)
def test_partial_html(backend: str, generator: str, partial: str) -> None:
    text = files(generator)[partial]
    assert 'id="parley"' in text and "data-thread=" in text
    assert "/embed.js" in text and "data-site=" in text and " async" in text
    assert "<noscript>" in text and "/threads?site=" in text
    assert 'type="module"' not in text  # embed.js finds itself as a classic script


def test_gatsby_component_mounts_and_destroys(backend: str) -> None:
    text = files("gatsby")["src/components/parley.js"]
    assert f'const PARLEY = "{PARLEY}"' in text and "`${PARLEY}/embed.js`" in text
    assert "script.dataset.site = SITE" in text
    assert "parley.mount(el.current, { thread })" in text and "handle.destroy()" in text
    assert 'id="parley"' not in text  # embed.js would mount it a second time
    assert "<noscript>" in text


def test_csp_lines(backend: str) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for directive in ("script-src", "connect-src", "img-src"):
        assert re.search(rf"^{directive} +'self' {re.escape(PARLEY)};$", text, flags=re.M)
    assert "style-src 'self' 'unsafe-inline'" in text and "constructable" in text


def test_every_guide_says_theme_and_counts(backend: str) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for title in ("## Hugo", "## Jekyll", "## Eleventy", "## Astro", "## Gatsby"):
        part = text.split(title, 1)[1].split("\n## ", 1)[0]
        assert "data-parley-count" in part, title
        assert "setTheme" in part, title


# --- real builds ---------------------------------------------------------------------------


def test_hugo_build(backend: str, tmp_path: Path) -> None:
    hugo = shutil.which("hugo")
    if hugo is None:
        pytest.skip("hugo not installed (apt-get install hugo)")
    write(tmp_path, files("hugo"))
    write(
        tmp_path,
        {
            "layouts/_default/single.html": "<html><body><h1>{{ .Title }}</h1>"
            '{{ partial "parley.html" . }}{{ partial "parley-theme.html" . }}</body></html>',
            "layouts/_default/list.html": "<html><body>{{ range .Pages }}"
            '{{ partial "parley-count.html" . }}{{ end }}'
            '{{ partial "parley-script.html" . }}</body></html>',
            "content/posts/hello.md": '---\ntitle: "Hello"\n---\nHi.\n',
        },
    )
    build([hugo, "--quiet", "--destination", "public"], tmp_path)
    assert_thread_snippet((tmp_path / "public/posts/hello/index.html").read_text(), "/posts/hello/")
    listing = (tmp_path / "public/posts/index.html").read_text()
    assert '<span data-parley-count="/posts/hello/">0</span>' in listing
    assert f'<script src="{PARLEY}/embed.js" data-site="blog" async></script>' in listing


def test_jekyll_build(backend: str, tmp_path: Path) -> None:
    jekyll = shutil.which("jekyll")
    if jekyll is None:
        pytest.skip("jekyll not installed (apt-get install jekyll)")
    write(tmp_path, files("jekyll"))
    write(
        tmp_path,
        {
            "_layouts/post.html": "<html><body>{{ content }}"
            "{% include parley.html %}</body></html>",
            "_posts/2024-01-02-hello.md": "---\nlayout: post\ntitle: Hello\n---\nHi.\n",
            "index.html": "---\n---\n{% include parley-counts.html %}\n",
        },
    )
    build([jekyll, "build", "--quiet", "--destination", "_site"], tmp_path)
    page = (tmp_path / "_site/2024/01/02/hello.html").read_text()
    assert_thread_snippet(page, "/2024/01/02/hello.html")
    assert (
        '<span data-parley-count="/2024/01/02/hello.html">0</span>'
        in (tmp_path / "_site/index.html").read_text()
    )


def test_eleventy_build(backend: str, tmp_path: Path) -> None:
    eleventy = node_tool("eleventy")
    write(tmp_path, files("eleventy"))
    write(
        tmp_path,
        {
            "posts/hello.njk": "---\ntitle: Hello\ntags: post\n---\n"
            '<h1>{{ title }}</h1>{% include "parley.njk" %}\n',
            "index.njk": '---\n---\n{% include "parley-counts.njk" %}\n',
        },
    )
    build([str(eleventy), "--input=.", "--output=_site", "--quiet"], tmp_path)
    assert_thread_snippet((tmp_path / "_site/posts/hello/index.html").read_text(), "/posts/hello/")
    listing = (tmp_path / "_site/index.html").read_text()
    assert '<span data-parley-count="/posts/hello/">0</span>' in listing


def test_astro_build(backend: str, tmp_path: Path) -> None:
    astro = node_tool("astro")
    (tmp_path / "node_modules").symlink_to(NODE_TOOLS / "node_modules")
    write(tmp_path, files("astro"))
    write(
        tmp_path,
        {
            "package.json": '{"name": "blog", "type": "module"}\n',
            "src/pages/posts/hello.astro": "---\nimport Parley from "
            '"../../components/Parley.astro";\n'
            'import ParleyTransitions from "../../components/ParleyTransitions.astro";\n---\n'
            "<html><body><h1>Hello</h1><Parley /><ParleyTransitions /></body></html>\n",
        },
    )
    build([str(astro), "build", "--silent"], tmp_path)
    page = (tmp_path / "dist/posts/hello/index.html").read_text()
    assert '<div id="parley" data-thread="/posts/hello/">' in page or (
        '<div id="parley" data-thread="/posts/hello">' in page
    ), page
    assert f'<script src="{PARLEY}/embed.js" data-site="blog" async' in page
    # Astro leaves a bare "&" in the attribute (valid HTML: it starts no character reference).
    assert re.search(rf"{PARLEY}/threads\?site=blog&(amp;)?thread=%2Fposts%2Fhello%2F", page)
    assert "astro:page-load" in page and "window.Parley.mount(el" in page
