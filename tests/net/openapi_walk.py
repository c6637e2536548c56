#!/usr/bin/env python3
"""Calls every operation api/openapi.yaml documents on a running agent and
checks each answer's status is one the document lists for that operation.

usage: openapi_walk.py OPENAPI.yaml UNIX_SOCKET TCP_HOST:PORT TOKEN PEER_KEY

PEER_KEY is a key that is not the agent's own: it is added, read, changed
and deleted. Each operation is called with a valid request and with bad
ones (bad key, malformed JSON, wrong content type, unknown fields), over
the unix socket; then without a token over TCP (401 must be documented),
and GET /v1/status with the token. An operation the walker has no recipe
for (a route added since) still gets a plain call with the peer's key and
an empty JSON object. Prints one line per call; exit status 1 on any
undocumented status or a failed call.
"""
import base64
import json
import socket
import sys

METHODS = ("get", "put", "post", "delete", "patch")


def read_doc(doc):
    """The operations under `paths:` from the document's fixed layout (the
    one tests/unit/test_api.c reads): paths at two spaces, methods at four,
    status codes at eight under a six-space `responses:`."""
    ops, cur, in_paths, in_resp, path = [], None, False, False, ""
    for raw in open(doc):
        line = raw.rstrip("\n")
        s = line.lstrip(" ")
        ind = len(line) - len(s)
        if not s or s.startswith("#"):
            continue
        if ind == 0:
            in_paths = s == "paths:"
            continue
        if not in_paths:
            continue
        if ind == 2 and s.startswith("/"):
            path = s.split(":")[0]
        elif ind == 4:
            in_resp = False
            m = s.rstrip(":")
            if m in METHODS and s.endswith(":"):
                cur = {"method": m.upper(), "path": path, "codes": set()}
                ops.append(cur)
        elif ind == 6:
            in_resp = s == "responses:"
        elif ind == 8 and in_resp and cur:
            code = s.split(":")[0].strip("'\"")
            if code.isdigit():
                cur["codes"].add(int(code))
    return ops


# The Host header each request carries: the TCP listener refuses any other
# than its own address (DNS rebinding); the unix socket takes any.
HOST = "wiremesh"


def call(connect, method, path, body=None, ctype="application/json",
         headers=None):
    """One request on a new connection; the answer's status. Written by
    hand (not http.client) so that an answer sent before the body was
    read (415 comes from the headers alone) is still seen."""
    data = (body or "").encode()
    head = ["%s %s HTTP/1.1" % (method, path), "Host: " + HOST,
            "Connection: close"]
    if body is not None:
        head += ["Content-Type: " + ctype, "Content-Length: %d" % len(data)]
    head += ["%s: %s" % kv for kv in (headers or {}).items()]
    s = connect()
    s.settimeout(20)
    try:
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    got = b""
    while b"\r\n" not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    return int(got.split(b" ", 2)[1])


def main():
    doc, sock, tcp, token, peer = sys.argv[1:6]
    host, port = tcp.rsplit(":", 1)
    global HOST
    HOST = tcp
    key = base64.urlsafe_b64encode(base64.b64decode(peer)).decode().rstrip("=")
    unknown = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
    peer_body = json.dumps({"allowed_ips": ["10.77.0.2/32"]})
    set_body = json.dumps({"peers": [{"public_key": peer,
                                      "allowed_ips": ["10.77.0.2/32"]}]})
    bad_json = [("{", "application/json"), ("{}", "text/plain"),
                ('{"bogus": 1}', "application/json")]

    # The recipes: (path as called, body) per documented operation; bad
    # bodies are added to every operation that takes one.
    recipes = {
        ("PUT", "/v1/peers"): [("/v1/peers", set_body)],
        ("GET", "/v1/peers/{key}"): [("/v1/peers/" + key, None),
                                     ("/v1/peers/" + unknown, None),
                                     ("/v1/peers/notakey", None)],
        ("PUT", "/v1/peers/{key}"): [("/v1/peers/" + key, peer_body),
                                     ("/v1/peers/notakey", peer_body)],
        ("PUT", "/v1/peers/{key}/path"): [
            ("/v1/peers/" + key + "/path", '{"mode": "relay"}'),
            ("/v1/peers/" + key + "/path", '{"mode": "auto"}'),
            ("/v1/peers/" + unknown + "/path", '{"mode": "auto"}')],
        ("DELETE", "/v1/peers/{key}"): [("/v1/peers/" + key, None),
                                        ("/v1/peers/" + key, None),
                                        ("/v1/peers/notakey", None)],
    }
    ops = read_doc(doc)
    # Deletes last, so the other calls find the peer.
    ops.sort(key=lambda o: (o["method"] == "DELETE", o["method"] != "PUT"
                            or o["path"] != "/v1/peers"))
    def unix():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        return s

    def tcp_conn():
        return socket.create_connection((host, int(port)), timeout=20)

    bad = 0
    called = 0

    def check(op, where, method, path, st):
        nonlocal bad
        ok = st in op["codes"]
        bad += not ok
        print("%-4s %s %s %s -> %d%s" % ("ok" if ok else "BAD", where, method,
              path, st, "" if ok else " (documented: %s)"
              % sorted(op["codes"])))

    for op in ops:
        m = op["method"]
        takes_body = m in ("PUT", "POST", "PATCH")
        calls = recipes.get((m, op["path"]))
        if calls is None:
            p = op["path"].replace("{key}", key)
            calls = [(p, "{}" if takes_body else None)]
        if takes_body:
            calls = calls + [(calls[0][0], b, t) for b, t in bad_json]
        for c in calls:
            path, body = c[0], c[1]
            ctype = c[2] if len(c) > 2 else "application/json"
            try:
                st = call(unix, m, path, body, ctype)
            except (OSError, IndexError, ValueError) as e:
                print("BAD  unix %s %s: %s" % (m, path, e))
                bad += 1
                continue
            check(op, "unix", m, path, st)
        called += 1
        try:
            st = call(tcp_conn, m, calls[0][0], calls[0][1])
            check(op, "tcp-no-token", m, calls[0][0], st)
        except (OSError, IndexError, ValueError) as e:
            print("BAD  tcp %s %s: %s" % (m, calls[0][0], e))
            bad += 1
    st = call(tcp_conn, "GET", "/v1/status",
              headers={"Authorization": "Bearer " + token})
    print("%-4s tcp-token GET /v1/status -> %d" % ("ok" if st == 200 else "BAD", st))
    bad += st != 200
    print("operations %d called, %d answers undocumented or failed" % (called, bad))
    return 1 if bad or not ops else 0


if __name__ == "__main__":
    sys.exit(main())
