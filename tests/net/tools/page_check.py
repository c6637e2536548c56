#!/usr/bin/env python3
"""tests/net/tools/page_check.py - drive the status page in headless
Chromium through chromedriver's WebDriver HTTP API (stdlib only), as a
person would: open the page, type the token into its form, see the
peers, watch a path forced through the API appear, click a button, and
keep a screenshot.

    page_check.py DRIVER_URL PAGE_URL TOKEN PEER_KEY_URL PNG

PEER_KEY_URL is the base64url key of the peer whose path is forced
(through PUT PAGE_URL/v1/peers/KEY/path with the token, as tooling would).
Prints one "PASS: ..." or "FAIL: ..." line per check and exits 1 when any
failed. Every wait is bounded.
"""
import base64
import json
import sys
import time
import urllib.error
import urllib.request

DRIVER, PAGE, TOKEN, PEER, PNG = sys.argv[1:6]
failed = 0


def check(ok, what):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failed += 1
    return ok


def wd(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(DRIVER + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["value"]


def wait(fn, secs, step=0.05):
    """fn() until truthy or secs pass; returns the last value."""
    end = time.monotonic() + secs
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


session = wd("POST", "/session", {"capabilities": {"alwaysMatch": {
    "browserName": "chrome",
    "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--window-size=1500,520",
                 "--no-first-run", "--disable-extensions"],
    }}}})
sid = session["sessionId"]
S = "/session/" + sid


def js(script, *args):
    return wd("POST", S + "/execute/sync", {"script": script, "args": list(args)})


def find(css):
    el = wd("POST", S + "/element", {"using": "css selector", "value": css})
    return next(iter(el.values()))


def click(css):
    """Clicks the element; the page redraws its table on every event, so
    an element found a moment ago may be gone: find it again."""
    for _ in range(20):
        try:
            wd("POST", S + "/element/" + find(css) + "/click", {})
            return True
        except urllib.error.HTTPError:
            time.sleep(0.1)
    return False


def row(attr):
    return js("var r = document.getElementById('peer-' + arguments[0]);"
              "return r ? r.getAttribute(arguments[1]) : null;", PEER, attr)


def force(mode):
    req = urllib.request.Request(
        PAGE + "v1/peers/" + PEER + "/path",
        data=json.dumps({"mode": mode}).encode(), method="PUT",
        headers={"Content-Type": "application/json",
                 "Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


try:
    wd("POST", S + "/url", {"url": PAGE})
    check(wait(lambda: js("return !document.getElementById('login').hidden;"), 10),
          "the page asks for the token")
    # Typed and submitted as a person would.
    wd("POST", S + "/element/" + find("#token") + "/value", {"text": TOKEN})
    click("#loginform button")
    check(wait(lambda: js("return document.body.getAttribute('data-ready');"), 10) == "1",
          "the page loads after the token")
    check(js("return sessionStorage.getItem('wm_token');") == TOKEN,
          "the token is kept for the tab (sessionStorage)")
    names_js = ("return Array.from(document.querySelectorAll('#peers .name'))"
                ".map(function (e) { return e.textContent; });")
    names = wait(lambda: (lambda n: n if len(n) >= 2 else None)(js(names_js)), 10) or []
    check("bee" in names and "carol" in names, "both peers shown by name: %s" % names)
    live = wait(lambda: js("return document.getElementById('live').textContent;") == "live", 10)
    check(live, "the event stream is open (session cookie)")
    check(wait(lambda: row("data-path") == "direct", 20), "bee is shown direct")
    # Forced through the API: the page must show it within a second.
    t0 = time.monotonic()
    status = force("relay")
    got = wait(lambda: row("data-path") == "relay", 1.0, 0.02)
    dt = time.monotonic() - t0
    check(status == 200 and got, "forced relay (HTTP %d) shown in %.0f ms (limit 1000 ms)"
          % (status, dt * 1000))
    check(js("var r = document.getElementById('peer-' + arguments[0]);"
             "return r.querySelectorAll('.timeline li').length;", PEER) >= 2,
          "the timeline shows the change")
    # A person's click on "auto" goes through the page's own PUT.
    check(click("#peer-%s button[data-mode=auto]" % PEER) and
          wait(lambda: row("data-mode") == "auto", 3), "the auto button sets the mode")
    wait(lambda: row("data-path") == "direct", 10)
    png = base64.b64decode(wd("GET", S + "/screenshot"))
    with open(PNG, "wb") as f:
        f.write(png)
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000,
          "screenshot kept: %s (%d bytes)" % (PNG, len(png)))
finally:
    try:
        wd("DELETE", S)
    except Exception:
        pass
sys.exit(1 if failed else 0)
