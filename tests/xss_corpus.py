"""Generated cross-site-scripting payloads: tags, handlers, URLs, encodings, Markdown."""

from __future__ import annotations

import html
import itertools
import urllib.parse

CALL = "parleyPwned()"  # defined by the test page: any call means a script ran

SCHEMES = [
    "javascript:",
    "JaVaScRiPt:",
    " javascript:",
    "java\tscript:",
    "java\nscript:",
    "&#106;avascript:",
    "&#x6A;avascript:",
    "jav&#x09;ascript:",
    "vbscript:",
    "data:text/html,<script>" + CALL + "</script>",
    "data:text/html;base64,PHNjcmlwdD5wYXJsZXlQd25lZCgpPC9zY3JpcHQ+",
    "javascript&colon;",
    "\\x6Aavascript:",
    "%6Aavascript:",
]

TAG_TEMPLATES = [
    "<script>{c}</script>",
    "<ScRiPt>{c}</sCrIpT>",
    "<script src=data:,{c}></script>",
    "<img src=x onerror={c}>",
    '<img src=x onerror="{c}">',
    "<img/src/onerror={c}>",
    "<svg onload={c}>",
    "<svg><script>{c}</script></svg>",
    "<svg><animate onbegin={c} attributeName=x dur=1s>",
    "<body onload={c}>",
    '<iframe src="javascript:{c}"></iframe>',
    '<iframe srcdoc="<script>{c}</script>">',
    '<object data="javascript:{c}">',
    '<embed src="javascript:{c}">',
    '<a href="javascript:{c}">x</a>',
    "<a href=javascript:{c}>x</a>",
    "<a href='javascript:{c}'>x</a>",
    "<details open ontoggle={c}>",
    "<marquee onstart={c}>",
    "<video><source onerror={c}></video>",
    "<audio src=x onerror={c}>",
    "<input autofocus onfocus={c}>",
    "<select autofocus onfocus={c}>",
    "<textarea autofocus onfocus={c}>",
    "<keygen autofocus onfocus={c}>",
    "<form><button formaction=javascript:{c}>x</button></form>",
    "<math><mtext><script>{c}</script>",
    "<style>@import 'javascript:{c}';</style>",
    "<link rel=stylesheet href=javascript:{c}>",
    '<meta http-equiv=refresh content="0;url=javascript:{c}">',
    "<base href=javascript:{c}//>",
    '<div style="background:url(javascript:{c})">',
    "<div onmouseover={c}>hover</div>",
    "<p onclick={c}>click</p>",
    "<span onpointerenter={c}>x</span>",
    "<x onclick={c}>x</x>",
    "<table background=javascript:{c}>",
    "<isindex action=javascript:{c} type=image>",
    '<img src="x` `<script>{c}</script>"` `>',
    '<noscript><p title="</noscript><img src=x onerror={c}>">',
    "<!--<img src=x onerror={c}>-->",
    "<![CDATA[<script>{c}</script>]]>",
    "<scr<script>ipt>{c}</scr</script>ipt>",
    "<<script>{c}//<</script>",
    "<img src=x onerror=eval(atob('cGFybGV5UHduZWQoKQ=='))>",
    "<svg><a xlink:href=javascript:{c}><text>x</text></a></svg>",
    "<template><script>{c}</script></template>",
    '"><script>{c}</script>',
    "'><script>{c}</script>",
    "</textarea><script>{c}</script>",
    "</title><script>{c}</script>",
    "</style><script>{c}</script>",
    "<img src=x:x onerror={c}//",
    "<video poster=javascript:{c}>",
    '<a href="&#0000106&#0000097vascript:{c}">x</a>',
]

MARKDOWN_TEMPLATES = [
    "[click](javascript:{c})",
    "[click](JAVASCRIPT:{c})",
    "[click]( javascript:{c} )",
    "[click](javascript&#58;{c})",
    "[click](data:text/html,<script>{c}</script>)",
    "![img](javascript:{c})",
    '![img](x" onerror="{c})',
    '[x](https://a.example" onclick="{c})',
    "[x](<javascript:{c}>)",
    "<javascript:{c}>",
    "[a][ref]\n\n[ref]: javascript:{c}",
    "`<script>{c}</script>`",
    "```\n<script>{c}</script>\n```",
    "> <img src=x onerror={c}>",
    "* <svg onload={c}>",
    "**<img src=x onerror={c}>**",
    "_<a href=javascript:{c}>x</a>_",
    "[x](vbscript:{c})",
    "[x](file:///etc/passwd)",
    'https://example.com/"><script>{c}</script>',
]

WEBSITE_TEMPLATES = [
    'https://example.com/" onmouseover="{c}',
    "https://example.com/' onmouseover='{c}",
    'https://example.com/"><script>{c}</script>',
    "https://example.com/?q=<script>{c}</script>",
    'http://x" autofocus onfocus="{c}',
    'https://example.com/#"><img src=x onerror={c}>',
    "javascript:{c}",
    "data:text/html,<script>{c}</script>",
    "https://example.com/`{c}`",
]


def _encodings(payload: str) -> list[str]:
    return [
        payload,
        html.escape(payload),
        urllib.parse.quote(payload),
        payload.replace("<", "&lt;").replace(">", "&gt;"),
        payload.upper(),
    ]


def bodies() -> list[str]:
    out = [t.format(c=CALL) for t in TAG_TEMPLATES + MARKDOWN_TEMPLATES]
    out += [f'<a href="{s}{CALL}">x</a>' for s in SCHEMES]
    out += [f"[x]({s}{CALL})" for s in SCHEMES]
    for payload in TAG_TEMPLATES:
        out += _encodings(payload.format(c=CALL))[1:]
    out += [
        f"{a}{b}"
        for a, b in itertools.product(
            ["<p>", "<b>", "<svg>", "<math>"], [t.format(c=CALL) for t in TAG_TEMPLATES[:15]]
        )
    ]
    return list(dict.fromkeys(out))


def authors() -> list[str]:
    out = [t.format(c=CALL) for t in TAG_TEMPLATES if len(t.format(c=CALL)) <= 80]
    return list(dict.fromkeys(out))


def websites() -> list[str]:
    return [t.format(c=CALL) for t in WEBSITE_TEMPLATES]


def corpus_size() -> int:
    return len(bodies()) + len(authors()) + len(websites())
