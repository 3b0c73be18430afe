#!/usr/bin/env python3
"""A strict local fake of the X (Twitter) API v2 for vigil's end-to-end tests.

Speaks the wire protocol of ../shared/reference/x-api.md on 127.0.0.1 only
(HTTP/1.1, keep-alive, Content-Length, optional gzip) and rejects what the
real API rejects: every request is first checked against X's published
OpenAPI spec (paths, methods, query parameters, field enums, body schemas),
read from $VIGIL_SPECS or ../shared/reference/specs/ beside the clone; the
fake will not start without it.  Python 3.11 standard library only.

    fx = FakeX(brand_id="1500000000000000001", brand_username="AcmeSupport",
               bearer="AAAA-test-bearer",
               oauth1=dict(consumer_key="ck", consumer_secret="cs", token="tk", token_secret="ts"),
               oauth2=dict(client_id="cid", client_secret=None,
                           access_token="at-1", refresh_token="rt-1"))
    fx.start(); fx.api_url            # "http://127.0.0.1:PORT/2/"
    ...; fx.stop()                    # also closes kept-alive connections

World (thread-safe; ids are snowflake-like 19-digit strings, strictly increasing):
    add_mention(text=None, author=("42","ann","Ann Example"), conversation_id=None,
                in_reply_to=None, reply_to_brand=False, edit_of=None, retweet_of=None,
                quote_of=None, lang="en", created_at=None) -> id
    add_mentions(n, authors=10, seed=None) -> [ids]   bulk, with follow-ups in conversations
    add_brand_tweet(text, in_reply_to=None) -> id     in the timeline if it @-mentions the brand
    add_user(id, username, name) -> id;  delete_tweet(id)  (replies to it then get 403)
    posts_of(user_id=None) -> the user's (default: the brand's) live posts, oldest first
    expire_access_token()   the current OAuth 2.0 access token now gets 401
    access_token, refresh_token   the current OAuth 2.0 tokens (they rotate on refresh)

What the bot did (lists, append-only):
    requests  {"method","path","query","headers","body","status","t","auth","injected"}
    tweets    {"id","text","in_reply_to_tweet_id","auth","t"}
    dms       {"participant_id","text","dm_event_id","auth","t"}
    deleted   {"id","auth","t"}  (DELETE /2/tweets/:id: only the brand's own posts, 404
              for an unknown or deleted id, user-context auth, 50 per 15 min)
    refreshes {"old_refresh","new_access","new_refresh","t"}
    errors    protocol violations, as sentences; tests assert it stays empty
    wait_for(pred, timeout, what), wait_requests(n, path=, method=), wait_tweets(n),
    wait_dms(n): block until true, else AssertionError naming what was awaited.

Behaviour knobs (set any time):
    rate_limits = {"mentions": (450, 900), "tweets": (100, 900), "dm": (15, 900),
                   "users": (900, 900), "timeline": (900, 900), "delete": (50, 900)}
                              (limit, window s); assigning resets the buckets
    daily_limits = {"tweets": 10000, "dm": 1440}  x-app/x-user-limit-24hour-* on POSTs
    gzip = True               gzip bodies when the request accepts it, as X does
    no_dm_users = set()       DMs to these ids -> 403
    self_serve = True         X's 2026-02 rule for self-serve apps: a reply only to a post
                              that summoned the brand (@mention or quote), else 403
    max_reachable = 800       only the newest N mentions are reachable
    revoke_access_on_refresh = True   a refresh kills the previous access token too
    max_tweet_length = 280; too_long_status = 403   (twitter-text v3 weighting)
    ascii_json = False        True: escape every non-ASCII char, not only astral ones
    inject(endpoint, kind, times=1, **kw)
        endpoint: "mentions" | "tweets" | "dm" | "users" | "token" | "timeline" | "delete"
                  ("timeline": GET /2/users/:id/tweets, a user's own posts)
        kind: "429" (reset=N s from now, default 2; the bucket stays empty until then),
              "usage_capped", "500", "503", "401", "403_auth",
              "truncated" (close=False: Content-Length of the cut body; True: full
                           Content-Length, half the bytes, then the connection closes),
              "html" (502 text/html), "stall" (seconds=N, then answers normally),
              "reset" (TCP RST, no response), "close" (FIN, no response: on a
              kept-alive connection curl takes that for a stale connection and
              resends the very same request), "empty_page_after_token"
        paged=True: only a request with a pagination_token (a later page of a walk)
        takes it -- "a 429 in the middle of pagination".
        after=True on an error kind: the request takes effect (tweet posted, token
        rotated) and only its response is replaced -- the "lost response" case.
        Injections apply in order, after authentication and before rate limiting.

Run standalone (benchmarks):  python3 tests/fakes/fake_x.py --port 0 [--mentions N]
prints "READY http://127.0.0.1:PORT/2/" and serves until SIGTERM.
"""
import argparse
import base64
import bisect
import collections
import datetime
import gzip as gzip_mod
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import unicodedata
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import strict

# ---------------------------------------------------------------------------
# Bodies X sends, verbatim from the reference where it has them.

PROBLEMS = "https://api.twitter.com/2/problems/"
JSON_CT = "application/json; charset=utf-8"
PROBLEM_CT = "application/problem+json"

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401,
                "detail": "Unauthorized"}
TOO_MANY_REQUESTS = {"title": "Too Many Requests", "type": "about:blank", "status": 429,
                     "detail": "Too Many Requests"}
USAGE_CAPPED = {"title": "UsageCapExceeded", "period": "Monthly", "scope": "Product",
                "detail": "Usage cap exceeded: Monthly product cap",
                "type": PROBLEMS + "usage-capped"}
UNSUPPORTED_AUTH = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint."
              "  Supported authentication types are [OAuth 1.0a User Context,"
              " OAuth 2.0 User Context].",
    "type": PROBLEMS + "unsupported-authentication", "status": 403}
DUPLICATE = {"detail": "You are not allowed to create a Tweet with duplicate content.",
             "type": "about:blank", "title": "Forbidden", "status": 403}
NOT_VISIBLE = {"detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
               "title": "Forbidden", "status": 403}
# Guessed: shaped like the duplicate body; the detail is v1.1's error 349 text.
CANNOT_DM = {"detail": "You cannot send messages to this user.", "type": "about:blank",
             "title": "Forbidden", "status": 403}
# Guessed wording and status (the reference marks the status unconfirmed).
TOO_LONG = {"detail": "Your Tweet text is too long. For more information on how X determines"
                      " text length see https://github.com/twitter/twitter-text.",
            "type": "about:blank", "title": "Forbidden", "status": 403}
SERVER_ERROR = {"title": "Internal Server Error", "type": "about:blank", "status": 500,
                "detail": "Internal Server Error"}
UNAVAILABLE = {"title": "Service Unavailable", "type": "about:blank", "status": 503,
               "detail": "Service Unavailable"}
# Guessed wording (v1.1's error 183 was "You may not delete another user's status").
NOT_YOURS = {"detail": "You are not allowed to delete a Tweet you did not create.",
             "type": "about:blank", "title": "Forbidden", "status": 403}
NO_SUCH_ROUTE = {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}
BAD_GATEWAY_HTML = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
                    b"<body><h1>Bad Gateway</h1><p>The server returned an invalid or incomplete"
                    b" response.</p></body></html>\n")
REFRESH_INVALID = {"error": "invalid_request",
                   "error_description": "Value passed for the token was invalid."}
NO_CLIENT_AUTH = {"error": "unauthorized_client",
                  "error_description": "Missing valid authorization header"}


def invalid_request(errors):
    """X's 400 body: every bad parameter at once, each with its values."""
    return {"errors": errors, "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": PROBLEMS + "invalid-request"}


def param_error(name, values, message):
    return {"parameters": {name: list(values)}, "message": message}


def not_found(kind, param, value):
    """A resource-not-found entry; X puts these in `errors` of a 200."""
    return {"value": value, "detail": f"Could not find {kind} with {param}: [{value}].",
            "title": "Not Found Error", "resource_type": kind, "parameter": param,
            "resource_id": value, "type": PROBLEMS + "resource-not-found"}


# ---------------------------------------------------------------------------
# X's published OpenAPI spec (../shared/reference/specs/x_api_v2_openapi.json),
# loaded as data once per process: which paths and methods exist, which query
# parameters each operation declares, the `*.fields` / `expansions` enums and
# the request body schemas.  Nothing here is copied from it by hand.

SPEC_FILE = "x_api_v2_openapi.json"
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Absent from the spec (it describes the API, not the OAuth 2.0 server): the
# token endpoint keeps the fake's own checks in _post_token.
OAUTH_TOKEN_PATH = "/2/oauth2/token"

# X's answer to a method a path does not have, with an `allow` header
# (recorded from api.twitter.com/2, node-twitter-api-v2 issue #147).
METHOD_NOT_ALLOWED = {"title": "Method Not Allowed", "detail": "Method Not Allowed",
                      "type": "about:blank", "status": 405}

# The spec is generated for X's SDKs (xdevplatform/xdk), which rename "tweet" to
# "post" in the parameters shared between operations: PostFieldsParameter is
# `post.fields`, its expansions say `referenced_posts` and `edit_history_post_ids`,
# and the enums lose every value that is also an expansion (author_id,
# in_reply_to_user_id, pinned_tweet_id...).  X itself takes `tweet.fields` with
# those values (docs.x.com's own mentions example; xdk issue #13 reports fields
# asked for through the SDK not coming back).  The same spec declares
# these parameters inline, spelled as on the wire, on the filtered stream, so a
# shared parameter named here is read from there instead.  UserExpansionsParameter
# has no wire-spelled twin in the spec and stays as published (vigil asks for no
# user expansions).
WIRE_SPELLED_IN = ("/2/tweets/search/stream", "get")
WIRE_SPELLED = {"#/components/parameters/PostFieldsParameter": "tweet.fields",
                "#/components/parameters/PostExpansionsParameter": "expansions",
                "#/components/parameters/UserFieldsParameter": "user.fields"}


def template_regex(template):
    """The fake's route pattern for a spec path template: /2/users/{id} is
    /2/users/([^/]+)."""
    return re.sub(r"\{[^}]+\}", "([^/]+)", template)


def spec_path():
    """$VIGIL_SPECS, else shared/ beside the clone (as in CI)."""
    folder = os.environ.get("VIGIL_SPECS") or \
        os.path.join(os.path.dirname(_REPO), "shared", "reference", "specs")
    return os.path.join(folder, SPEC_FILE)


class XSpec:
    """X's OpenAPI 3 document and what the fake derives from it: the path
    templates as regular expressions (literal segments before templated ones,
    so /2/users/me is not /2/users/{id}) and each operation's parameters with
    every $ref resolved.  One instance per process (load())."""
    _instance = None
    _lock = threading.Lock()

    @classmethod
    def load(cls):
        with cls._lock:
            if cls._instance is None:
                path = spec_path()
                try:
                    with open(path, encoding="utf-8") as f:
                        doc = json.load(f)
                except (OSError, ValueError) as e:
                    raise RuntimeError(f"fake X cannot check requests without X's OpenAPI spec:"
                                       f" {path}: {e}.  Set VIGIL_SPECS to the folder holding"
                                       f" {SPEC_FILE} (CI keeps shared/ beside the clone).") \
                        from None
                cls._instance = cls(doc)
            return cls._instance

    def __init__(self, doc):
        self.doc = doc
        method = doc["paths"][WIRE_SPELLED_IN[0]][WIRE_SPELLED_IN[1]]
        inline = {p["name"]: p for p in method["parameters"] if "name" in p}
        self._wire = {ref: inline[name] for ref, name in WIRE_SPELLED.items()}
        self._routes = []
        for template, item in doc["paths"].items():
            segments = template.split("/")
            names = [s[1:-1] for s in segments if s.startswith("{")]
            regex = "/".join("([^/]+)" if s.startswith("{") else re.escape(s) for s in segments)
            self._routes.append(([s.startswith("{") for s in segments], template,
                                 re.compile(regex), names, item))
        self._routes.sort(key=lambda r: r[0])
        self._params = {}

    def resolve(self, node):
        """Follows a local $ref ("#/components/...") until a node without one."""
        while isinstance(node, dict) and "$ref" in node:
            node = self._wire.get(node["$ref"]) or self._pointer(node["$ref"])
        return node

    def _pointer(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def operation(self, method, path):
        """(template, operation or None, {path parameter: value}) for the first
        template matching `path`; the operation is None when the path exists
        without this method.  None when no template matches."""
        found = None
        for _, template, regex, names, item in self._routes:
            m = regex.fullmatch(path)
            if not m:
                continue
            op = item.get(method.lower())
            if op is not None:
                return template, op, dict(zip(names, m.groups()))
            found = found or (template, None, {})
        return found

    def methods(self, template):
        return sorted(m.upper() for m in self.doc["paths"][template]
                      if m in ("get", "put", "post", "delete", "patch", "head", "options"))

    def parameters(self, template, op):
        """The operation's parameters (path-level ones included), resolved."""
        key = id(op)
        if key not in self._params:
            merged = {}
            for p in self.doc["paths"][template].get("parameters", []) + op.get("parameters", []):
                p = self.resolve(p)
                merged[(p["name"], p["in"])] = p
            self._params[key] = list(merged.values())
        return self._params[key]


def schema_problems(spec, value, schema, where):
    """What is wrong with `value` under an OpenAPI 3 schema, as (where, value,
    complaint) triples; [] when it conforms.  Covers what X's spec uses: $ref,
    type (and nullable), enum, properties / required / additionalProperties,
    items / minItems / maxItems / uniqueItems, allOf / anyOf / oneOf,
    minLength / maxLength / pattern, minimum / maximum, format date-time."""
    schema = spec.resolve(schema)
    if value is None and schema.get("nullable"):
        return []
    out = []
    for sub in schema.get("allOf", ()):
        out += schema_problems(spec, value, sub, where)
    for word in ("anyOf", "oneOf"):
        if word in schema:
            found = [schema_problems(spec, value, sub, where) for sub in schema[word]]
            fits = sum(1 for f in found if not f)
            if fits == 0 or (word == "oneOf" and fits > 1):
                why = "; ".join(f"{w}: {c}" for f in found for w, _, c in f)
                out.append((where, value, f"matches {fits} of the {len(found)} schemas in its"
                                          f" {word}" + (f" ({why})" if why else "")))
    kind = schema.get("type")
    found_kind = json_type(value)
    if kind and not (found_kind == kind or (kind == "number" and found_kind == "integer")):
        return out + [(where, value, f"{found_kind} found, {kind} expected")]
    if "enum" in schema and value not in schema["enum"]:
        out.append((where, value, f"is not one of [{','.join(map(str, schema['enum']))}]"))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                out.append((f"{where}.{name}", None, "is missing but it is required"))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                out += schema_problems(spec, item, props[name], f"{where}.{name}")
            elif extra is False:
                out.append((f"{where}.{name}", item, "is not defined in the schema and the"
                                                     " schema does not allow additional"
                                                     " properties"))
            elif isinstance(extra, dict):
                out += schema_problems(spec, item, extra, f"{where}.{name}")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append((where, value, f"has {len(value)} items, at least"
                                      f" {schema['minItems']} expected"))
        if len(value) > schema.get("maxItems", len(value)):
            out.append((where, value, f"has {len(value)} items, at most"
                                      f" {schema['maxItems']} allowed"))
        if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) \
                < len(value):
            out.append((where, value, "has repeated items"))
        if "items" in schema:
            for i, item in enumerate(value):
                out += schema_problems(spec, item, schema["items"], f"{where}[{i}]")
    elif isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append((where, value, f"must be at least {schema['minLength']} characters long"))
        if len(value) > schema.get("maxLength", len(value)):
            out.append((where, value, f"may be at most {schema['maxLength']} characters long"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append((where, value, f"does not match {schema['pattern']}"))
        if schema.get("format") == "date-time" and parse_rfc3339(value) is None:
            out.append((where, value, "is not a valid RFC3339 date-time"))
    elif found_kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if low is not None and high is not None else \
                f"at least {low}" if low is not None else f"at most {high}"
            out.append((where, value, f"is not {bounds}"))
    return out


def json_type(value):
    """The JSON Schema type name of a decoded JSON value."""
    if isinstance(value, bool):
        return "boolean"
    return {dict: "object", list: "array", str: "string", int: "integer", float: "number",
            type(None): "null"}.get(type(value), type(value).__name__)


def query_value(raw, schema):
    """A query string value as its schema types it: arrays are comma-separated
    (style form, explode false, as X declares them); None when it cannot be."""
    kind = schema.get("type")
    if kind == "array":
        return raw.split(",")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?[0-9]{1,18}", raw) else None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw)
    return raw


def request_problems(spec, template, op, path_args, req):
    """The `errors` of X's 400 for a request to a known operation: undeclared,
    repeated, empty or missing parameters, values outside their schemas, and
    a body that is not the operation's JSON or breaks its schema."""
    params = spec.parameters(template, op)
    errors, values = [], collections.defaultdict(list)
    for k, v in req.query_pairs:
        values[k].append(v)
    declared = {p["name"]: p for p in params if p["in"] == "query"}
    paths = {p["name"]: p for p in params if p["in"] == "path"}
    listing = ",".join(p["name"] for p in params if p["in"] in ("path", "query"))
    for name, vals in values.items():
        if name in paths or (name in declared and len(vals) > 1):
            errors.append(param_error(name, vals, "Duplicate parameters are not allowed:"
                                                  f" the `{name}` query parameter"))
        elif name not in declared:
            errors.append(param_error(name, vals, f"The query parameter [{name}] is not one of"
                                                  f" [{listing}]"))
        elif vals[0] == "":
            errors.append(param_error(name, vals, f"The {name} query parameter can not be"
                                                  " empty"))
        else:
            errors += _param_problems(spec, declared[name], vals[0])
    for name, p in declared.items():
        if p.get("required") and name not in values:
            errors.append(param_error(name, [], f"The `{name}` query parameter is missing"))
    for name, p in paths.items():
        errors += _param_problems(spec, p, path_args.get(name, ""))
    body = op.get("requestBody")
    if body is not None:
        errors += _body_problems(spec, spec.resolve(body), req)
    return errors


def _param_problems(spec, param, raw):
    name, schema = param["name"], spec.resolve(param["schema"])
    value = query_value(raw, schema)
    if value is None:
        return [param_error(name, [raw], f"The `{name}` query parameter value [{raw}] is not"
                                         f" a valid {schema.get('type')}")]
    out = []
    for _, v, complaint in schema_problems(spec, value, schema, name):
        v = ",".join(v) if isinstance(v, list) else str(v)
        out.append(param_error(name, [v], f"The `{name}` query parameter value [{v}] {complaint}"))
    return out


def _body_problems(spec, body, req):
    ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
    content = body.get("content", {})
    if not req.body and not body.get("required"):
        return []
    if ctype not in content:
        return [{"parameters": {}, "message": "Requests with bodies must have content-type of"
                                              f" {' or '.join(content)}."}]
    if ctype != "application/json":
        return []      # X's spec has JSON bodies only on what vigil calls
    try:
        value = json.loads(req.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return [{"message": f"Request body is not valid JSON: {e}"}]
    return [{"message": f"{where}: {complaint}"}
            for where, _, complaint in schema_problems(spec, value, content[ctype]["schema"], "$")]


MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]{1,15})")
HASHTAG_RE = re.compile(r"(?<![\w&])#(\w+)")
TCO_RE = re.compile(r"https?://\S+")

# ---------------------------------------------------------------------------
# OAuth 1.0a (RFC 5849 as X applies it).


def pct(value):
    """RFC 3986 percent-encoding: only A-Z a-z 0-9 - . _ ~ stay, hex is uppercase."""
    return urllib.parse.quote(str(value).encode("utf-8"), safe="~")


def oauth1_base_url(url):
    """scheme://host[:port]/path: lowercase scheme and host, default port dropped,
    no query or fragment."""
    parts = urllib.parse.urlsplit(url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def oauth1_base_string(method, url, params):
    """METHOD&enc(base url)&enc(sorted encoded k=v pairs).  `params` is a dict or
    a list of (key, value) pairs; a query string in `url` is included too."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    pairs += urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    encoded = sorted((pct(k), pct(v)) for k, v in pairs if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join((method.upper(), pct(oauth1_base_url(url)), pct(normalized)))


def oauth1_signature(method, url, params, consumer_secret, token_secret):
    """The HMAC-SHA1 signature, base64 (not yet percent-encoded for the header)."""
    key = f"{pct(consumer_secret)}&{pct(token_secret or '')}".encode()
    base = oauth1_base_string(method, url, params).encode()
    return base64.b64encode(hmac.new(key, base, hashlib.sha1).digest()).decode()


OAUTH_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_.\-]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


def parse_oauth_header(rest):
    """Parses the part after "OAuth ".  Returns (params, problem); values are
    percent-decoded.  Unquoted values and repeated names are problems."""
    params, pos = {}, 0
    rest = rest.strip()
    while pos < len(rest):
        m = OAUTH_PARAM_RE.match(rest, pos)
        if not m:
            return None, f"unparseable OAuth header near {rest[pos:pos + 30]!r}"
        name, value = m.group(1), urllib.parse.unquote(m.group(2))
        if name in params:
            return None, f"OAuth parameter {name} given twice"
        params[name] = value
        pos = m.end()
    return params, None


def oauth1_header(method, url, params, consumer_key, consumer_secret, token, token_secret,
                  nonce=None, timestamp=None):
    """A client-side helper for tests: the Authorization header for a request."""
    oauth = {"oauth_consumer_key": consumer_key,
             "oauth_nonce": nonce or base64.b16encode(random.randbytes(16)).decode().lower(),
             "oauth_signature_method": "HMAC-SHA1",
             "oauth_timestamp": str(int(timestamp if timestamp is not None else time.time())),
             "oauth_token": token, "oauth_version": "1.0"}
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    oauth["oauth_signature"] = oauth1_signature(method, url, pairs + list(oauth.items()),
                                                consumer_secret, token_secret)
    return "OAuth " + ", ".join(f'{pct(k)}="{pct(v)}"' for k, v in sorted(oauth.items()))


# ---------------------------------------------------------------------------
# twitter-text v3 weighted length, enough to refuse what X refuses.

WEIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
INVALID_CHARS = {0xFFFE, 0xFEFF, 0xFFFF}   # conformance: U+202A..E are valid
# Generic TLDs a bare domain may end in; any two ASCII letters counts as a ccTLD.
GTLDS = ("com net org edu gov mil int info biz name pro aero coop museum mobi asia tel travel"
         " jobs cat xxx app dev io ai shop store online site tech blog news cloud").split()
URL_STOP = "\\s\u202a-\u202e\u2066-\u2069"
SCHEME_URL_RE = re.compile(rf"https?://([^{URL_STOP}/?#]+)([/?#][^{URL_STOP}]*)?", re.I)
BARE_URL_RE = re.compile(
    r"(?<![\w@$#.\-/])((?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:"
    + "|".join(sorted(GTLDS, key=len, reverse=True)) + r"|[a-z]{2}))(?![\w\-])(/[^\s]*)?", re.I)


def _valid_host(host):
    labels = host.split(".")
    if len(labels) < 2 or not labels[-1]:
        return False
    for label in labels:
        if not label:
            return False
        if label.isascii():
            if len(label) > 63 or not re.fullmatch(r"[A-Za-z0-9\-_]+", label):
                return False
        elif len("xn--" + label.encode("punycode").decode("ascii")) > 63:
            return False
    return True


def _url_spans(text):
    spans = []
    for m in SCHEME_URL_RE.finditer(text):
        if _valid_host(m.group(1)):
            end = m.end()
            while end > m.end(1) and text[end - 1] in ".,:;!?'\")]":
                end -= 1
            spans.append((m.start(), end))
    masked = list(text)
    for a, b in spans:
        masked[a:b] = " " * (b - a)
    spans += [(m.start(), m.end()) for m in BARE_URL_RE.finditer("".join(masked))]
    return sorted(spans)


def _emoji_start(cp, nxt):
    if 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2300 <= cp <= 0x23FF \
            or 0x2B00 <= cp <= 0x2BFF or 0x2190 <= cp <= 0x21FF or 0x2900 <= cp <= 0x297F \
            or 0x25A0 <= cp <= 0x25FF or cp in (0x203C, 0x2049, 0x2122, 0x2139, 0x24C2,
                                                0x3030, 0x303D, 0x3297, 0x3299):
        return True
    # keycaps and (c)/(r) are emoji only in their emoji presentation
    return chr(cp) in "#*0123456789\u00a9\u00ae" and nxt in (0xFE0F, 0x20E3)


def _emoji_end(cps, i):
    """End index of the emoji sequence starting at i (ZWJ, modifiers, tags, flags)."""
    n = len(cps)
    if 0x1F1E6 <= cps[i] <= 0x1F1FF:
        return i + 2 if i + 1 < n and 0x1F1E6 <= cps[i + 1] <= 0x1F1FF else i + 1
    j = i + 1
    while j < n:
        cp = cps[j]
        if cp in (0xFE0F, 0xFE0E, 0x20E3) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
            j += 1
        elif cp == 0x200D and j + 1 < n and _emoji_start(cps[j + 1], cps[j + 2] if j + 2 < n else 0):
            j += 2
        else:
            break
    return j


def weighted_length(text):
    """(weighted length, valid) per twitter-text config v3: URLs count 23, emoji
    sequences 2, code points 1 inside the light ranges and 2 outside."""
    text = unicodedata.normalize("NFC", text)
    cps = [ord(c) for c in text]
    units, i, spans = 0, 0, iter(_url_spans(text))
    span = next(spans, None)
    while i < len(cps):
        if span and i == span[0]:
            units += 2300
            i = span[1]
            span = next(spans, None)
            continue
        if _emoji_start(cps[i], cps[i + 1] if i + 1 < len(cps) else 0):
            units += 200
            i = _emoji_end(cps, i)
            continue
        units += 100 if any(a <= cps[i] <= b for a, b in WEIGHT_RANGES) else 200
        i += 1
    length = units // 100
    return length, 0 < length <= 280 and not INVALID_CHARS.intersection(cps)


# ---------------------------------------------------------------------------
# Small helpers.

TWITTER_EPOCH_MS = 1288834974657
ASTRAL_RE = re.compile("[\U00010000-\U0010FFFF]")
NON_ASCII_RE = re.compile("[^\x00-\x7f]")


def _escape_char(m):
    """A character as X writes it: \\uXXXX, surrogate pairs for astral ones, uppercase."""
    cp = ord(m.group(0))
    if cp < 0x10000:
        return f"\\u{cp:04X}"
    cp -= 0x10000
    return f"\\u{0xD800 + (cp >> 10):04X}\\u{0xDC00 + (cp & 0x3FF):04X}"


def x_json(obj, ascii_only=False):
    """JSON the way X's recorded responses look: compact, BMP text raw UTF-8,
    astral characters (emoji) as uppercase surrogate-pair escapes."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return (NON_ASCII_RE if ascii_only else ASTRAL_RE).sub(_escape_char, text).encode("utf-8")


def html_escape(text):
    """X escapes exactly these three in tweet text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def id_time_ms(tweet_id):
    return (int(tweet_id) >> 22) + TWITTER_EPOCH_MS


def iso_ms(ms):
    dt = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ms) % 1000:03d}Z"


def parse_rfc3339(value):
    """Epoch ms, or None.  X wants YYYY-MM-DDTHH:mm:ss[.sss](Z|±hh:mm)."""
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", value):
        return None
    try:
        dt = datetime.datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", value))
    except ValueError:
        return None
    return int(dt.timestamp() * 1000)


def _to_ms(created_at):
    if created_at is None:
        return None
    if isinstance(created_at, (int, float)):
        return int(created_at * 1000)
    if isinstance(created_at, datetime.datetime):
        return int(created_at.timestamp() * 1000)
    ms = parse_rfc3339(created_at)
    if ms is None:
        raise ValueError(f"created_at {created_at!r} is not RFC 3339")
    return ms


def accepts_gzip(header):
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = re.search(r"q\s*=\s*([0-9.]+)", params)
            return not q or float(q.group(1)) > 0
    return False


class Injection:
    KINDS = {"429", "usage_capped", "500", "503", "401", "403_auth", "truncated", "html",
             "stall", "reset", "close", "empty_page_after_token"}

    def __init__(self, kind, times, kw):
        self.kind, self.times, self.kw = kind, times, kw
        self.after = bool(kw.get("after"))


class Bucket:
    """A fixed-window rate limit: the window starts with its first request."""

    def __init__(self, limit, window):
        self.limit, self.window = limit, window
        self.remaining, self.reset = limit, None
        self.sent_429 = False   # a 429 went out in this window

    def roll(self, now):
        if self.reset is None or now >= self.reset:
            self.remaining, self.reset = self.limit, int(now) + self.window
            self.sent_429 = False

    def take(self, now):
        self.roll(now)
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def exhaust_until(self, reset_at):
        self.remaining, self.reset = 0, int(reset_at)

    def headers(self, now, prefix="x-rate-limit"):
        self.roll(now)
        return [(f"{prefix}-limit", str(self.limit)), (f"{prefix}-remaining", str(self.remaining)),
                (f"{prefix}-reset", str(self.reset))]


class Request:
    """One parsed HTTP request."""

    def __init__(self, method, target, headers, body):
        self.method, self.target, self.headers, self.body = method, target, headers, body
        # split by hand: urlsplit would read "//2/users" as a host named "2"
        self.raw_path, _, self.query_string = target.partition("#")[0].partition("?")
        self.path = urllib.parse.unquote(self.raw_path)
        self.query_pairs = urllib.parse.parse_qsl(self.query_string, keep_blank_values=True)
        self.query = dict(self.query_pairs)
        self.auth = None
        self.injected = None
        self.template = self.operation = self.path_args = None   # the spec's, once checked


class Response:
    def __init__(self, status, body=None, ctype=JSON_CT, raw=None, headers=None):
        self.status, self.body, self.ctype, self.raw = status, body, ctype, raw
        self.headers = list(headers or [])
        self.action = None          # "reset" | "truncate" | "truncate_close"


def problem(status, body):
    return Response(status, body, PROBLEM_CT)


# ---------------------------------------------------------------------------
# Realistic bulk content for add_mentions.

DEFAULT_AUTHOR = ("42", "ann", "Ann Example")
BULK_NAMES = [("mettek_dk", "Mette Kristensen"), ("yuki_tnk", "田中ゆき"),
              ("tombecker77", "Tom Becker"), ("priyanair", "Priya Nair"),
              ("jose_alv", "José Álvarez"), ("zoe_bloom", "Zoë 🌸"),
              ("kwame_o", "Kwame Owusu"), ("lena_k", "Лена К."),
              ("omar_h", "عمر حسن"), ("bjorn_s", "Björn Svensson"),
              ("ana_paula", "Ana Paula 🇧🇷"), ("dev_null", "dev <null> & co")]
BULK_TEXTS = [
    "@{brand} my order #{n} still hasn't shipped, it's been 9 days 😡",
    "@{brand} charged twice for the same subscription ($14.99 x2) — please refund",
    "@{brand} the app crashes on launch after the update. iPhone 15 / iOS 26.1 🙏",
    "@{brand} Min pakke skulle være leveret i tirsdags. Ordre #{n}",
    "@{brand} アプリが起動しません。どうすればいいですか？🙏",
    "@{brand} can't log in: \"invalid token\" <again> & again",
    "@{brand} tracking says delivered but nothing here https://t.co/Ab{n}",
    "@{brand} ¿pueden ayudarme con el pedido {n}? 😕",
    "@{brand} love the new blender <3 but the lid cracked on day 2",
    "@{brand} 👋👨‍👩‍👧 the family plan shows only 2 of 4 seats",
]
BULK_FOLLOW_UPS = ["@{brand} any update?", "@{brand} still waiting 😤",
                   "@{brand} DM sent, order #{n}", "@{brand} thanks, that fixed it!"]


# ---------------------------------------------------------------------------

class FakeX:
    ENDPOINTS = ("mentions", "tweets", "dm", "users", "token", "timeline", "delete")

    def __init__(self, brand_id="1500000000000000001", brand_username="AcmeSupport",
                 bearer="AAAA-test-bearer", oauth1=None, oauth2=None, brand_name=None,
                 host="127.0.0.1", port=0, max_records=None, seed=0):
        self.brand_id, self.brand_username = str(brand_id), brand_username
        self.bearer = bearer
        self.oauth1 = dict(oauth1 or dict(consumer_key="ck", consumer_secret="cs",
                                          token="tk", token_secret="ts"))
        o2 = dict(oauth2 or dict(client_id="cid", client_secret=None,
                                 access_token="at-1", refresh_token="rt-1"))
        self.client_id, self.client_secret = o2.get("client_id"), o2.get("client_secret")
        self.host, self.port, self.max_records = host, port, max_records
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._rng = random.Random(seed)
        self.spec = XSpec.load()

        self.requests, self.tweets, self.dms, self.errors, self.refreshes = [], [], [], [], []
        self.deleted = []              # DELETE /2/tweets/:id that deleted: {"id","auth","t"}
        self.gzip = True
        self.no_dm_users = set()
        self.self_serve = True
        self.max_reachable = 800
        self.revoke_access_on_refresh = True
        self.access_token_ttl = 7200
        self.max_tweet_length = 280
        self.too_long_status = 403
        self.ascii_json = False
        self.daily_limits = {"tweets": 10000, "dm": 1440}
        self._rate_config = {"mentions": (450, 900), "tweets": (100, 900), "dm": (15, 900),
                             "users": (900, 900), "timeline": (900, 900),
                             "delete": (50, 900)}   # DELETE /2/tweets/:id, per user
        self._buckets = {}
        self._daily = {}
        self.rate_limits = dict(self._rate_config)

        self._users, self._tweets = {}, {}
        self._media = {}   # media_key -> media object (issue 17 §6: add_mention(media=...))
        self._by_name = {}             # lowercase username -> user id
        self._live = []                # int ids of the brand's live mentions, ascending
        self._brand_texts = set()      # for duplicate detection
        self._by_author = collections.defaultdict(list)   # author id -> int ids, ascending
        self._tokens = {}              # pagination tokens -> cursor
        self._nonces = {}              # oauth nonce -> timestamp
        self._injections = collections.defaultdict(list)
        self._access = {o2["access_token"]: {"issued": time.time(), "expired": False}}
        self._access_token, self._refresh_token = o2["access_token"], o2["refresh_token"]
        self._old_refresh = set()
        self._token_serial = itertools.count(2)
        self._last_ms, self._seq = 0, 0
        self._worker = self._rng.randrange(1, 1024)
        self._server = self._thread = None
        self._stopping = False
        self._conns = set()
        self.add_user(self.brand_id, brand_username, brand_name or brand_username)

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        """Serves on host:port (port 0 picks one; after stop(), start() reuses it)."""
        self._stopping = False
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        strict.register(self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="fake-x")
        self._thread.start()
        return self

    @property
    def api_url(self):
        return f"http://{self.host}:{self.port}/2/"

    def stop(self):
        """Stops serving and drops kept-alive connections, so the bot sees X go away."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                conns = list(self._conns)
            for conn in conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- knobs -------------------------------------------------------------

    @property
    def rate_limits(self):
        return dict(self._rate_config)

    @rate_limits.setter
    def rate_limits(self, config):
        """Merges `config` into the limits and starts every bucket afresh."""
        with self._lock:
            self._rate_config.update(config)
            self._buckets = {name: Bucket(*lw) for name, lw in self._rate_config.items()}
            self._daily = {}

    def inject(self, endpoint, kind, times=1, **kw):
        if endpoint not in self.ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {self.ENDPOINTS}")
        if kind not in Injection.KINDS:
            raise ValueError(f"unknown injection {kind!r}; one of {sorted(Injection.KINDS)}")
        if kind == "empty_page_after_token" and endpoint != "mentions":
            raise ValueError("empty_page_after_token applies to mentions only")
        with self._lock:
            self._injections[endpoint].append(Injection(kind, times, kw))

    def pending_injections(self, endpoint):
        with self._lock:
            return [(i.kind, i.times) for i in self._injections[endpoint]]

    @property
    def access_token(self):
        return self._access_token

    @property
    def refresh_token(self):
        return self._refresh_token

    def expire_access_token(self, token=None):
        with self._lock:
            self._access[token or self._access_token]["expired"] = True

    # -- the world ---------------------------------------------------------

    def _next_id(self, want_ms=None):
        """A snowflake: ms since X's epoch, worker, sequence; never goes backwards."""
        ms = max(int(want_ms if want_ms is not None else time.time() * 1000), self._last_ms)
        if ms == self._last_ms:
            self._seq += 1
            if self._seq >= 4096:
                ms, self._seq = ms + 1, 0
        else:
            self._seq = 0
        self._last_ms = ms
        return str(((ms - TWITTER_EPOCH_MS) << 22) | (self._worker << 12) | self._seq)

    def add_user(self, user_id, username, name, **fields):
        user_id = str(user_id)
        with self._lock:
            ms = int(time.time() * 1000) - 86400000 * (1 + int(user_id) % 3000)
            user = {"id": user_id, "name": name, "username": username,
                    "created_at": iso_ms(ms - ms % 1000), "description": "", "protected": False,
                    "verified": False, "verified_type": "none",
                    "profile_image_url": "https://pbs.twimg.com/profile_images/"
                                         f"17000000000{user_id[-8:]:0>8}/a_normal.jpg",
                    "public_metrics": {"followers_count": 12, "following_count": 40,
                                       "tweet_count": 321, "listed_count": 0, "like_count": 9}}
            user.update(fields)
            self._users.setdefault(user_id, user).update(user)
            self._by_name[username.lower()] = user_id
        return user_id

    def _user_by_name(self, username):
        return self._users.get(self._by_name.get(username.lower()))

    def _entities(self, text):
        ents = {}
        mentions = []
        for m in MENTION_RE.finditer(text):
            item = {"start": m.start(), "end": m.end(), "username": m.group(1)}
            user = self._user_by_name(m.group(1))
            if user:
                item["id"] = user["id"]
            mentions.append(item)
        if mentions:
            ents["mentions"] = mentions
        urls = [{"start": m.start(), "end": m.end(), "url": m.group(0),
                 "expanded_url": "https://example.com/" + m.group(0)[-10:],
                 "display_url": "example.com/" + m.group(0)[-10:]}
                for m in TCO_RE.finditer(text)]
        if urls:
            ents["urls"] = urls
        tags = [{"start": m.start(), "end": m.end(), "tag": m.group(1)}
                for m in HASHTAG_RE.finditer(text)]
        if tags:
            ents["hashtags"] = tags
        return ents

    def _mentions_brand(self, text):
        return any(m.group(1).lower() == self.brand_username.lower()
                   for m in MENTION_RE.finditer(text))

    def _store_tweet(self, text, author_id, created_ms=None, lang="en", conversation_id=None,
                     in_reply_to=None, in_reply_to_user_id=None, referenced=(), history=(),
                     in_timeline=None):
        tid = self._next_id(created_ms)
        if in_reply_to is not None:
            parent = self._tweets.get(str(in_reply_to))
            referenced = [{"type": "replied_to", "id": str(in_reply_to)}] + list(referenced)
            if parent and in_reply_to_user_id is None:
                in_reply_to_user_id = parent["author_id"]
            if conversation_id is None:
                conversation_id = parent["conversation_id"] if parent else str(in_reply_to)
        tweet = {"id": tid, "text": text, "author_id": str(author_id),
                 "created_ms": created_ms if created_ms is not None else id_time_ms(tid),
                 "conversation_id": str(conversation_id or tid), "lang": lang,
                 "in_reply_to_user_id": in_reply_to_user_id,
                 "referenced_tweets": list(referenced),
                 "edit_history_tweet_ids": list(history) + [tid],
                 "entities": self._entities(text), "deleted": False}
        self._tweets[tid] = tweet
        self._by_author[str(author_id)].append(int(tid))
        if in_timeline is None:
            in_timeline = self._mentions_brand(text)
        if in_timeline:
            self._live.append(int(tid))    # ids only grow, so this stays sorted
        if str(author_id) == self.brand_id:
            self._brand_texts.add(text)
        self._cond.notify_all()
        return tweet

    def add_mention(self, text=None, author=None, conversation_id=None,
                    in_reply_to=None, reply_to_brand=False, edit_of=None, retweet_of=None,
                    quote_of=None, lang="en", created_at=None, media=None):
        """A customer's tweet in the brand's mentions timeline.  Returns its id.
        in_reply_to: the tweet answered (its author becomes in_reply_to_user_id);
        reply_to_brand: answer the brand's latest tweet (one is made if none exists);
        edit_of: an edit of that tweet (edit_history_tweet_ids [orig..., new]), by
        its author unless `author` is given;
        retweet_of / quote_of: a retweet / quote of that tweet;
        media: a list of {"type": "photo", "url": ...} or {"type": "video",
        "preview_image_url": ...}, served as attachments.media_keys + includes.media.
        author: (id, username, name); default ("42", "ann", "Ann Example")."""
        with self._lock:
            if author is None and edit_of is not None:
                author_id = self._tweets[str(edit_of)]["author_id"]
            else:
                author_id = self.add_user(*(author or DEFAULT_AUTHOR))
            ms = _to_ms(created_at)
            referenced, history, reply_user = [], [], None
            if edit_of is not None:
                orig = self._tweets[str(edit_of)]
                history = orig["edit_history_tweet_ids"]
                conversation_id = conversation_id or orig["conversation_id"]
                referenced = list(orig["referenced_tweets"])
                reply_user = orig["in_reply_to_user_id"]
                if text is None:
                    text = orig["text"] + " (edited)"
            if reply_to_brand:
                if in_reply_to is None:
                    in_reply_to = self._latest_brand_tweet(conversation_id)
                reply_user = self.brand_id
                if text is None:
                    text = f"@{self.brand_username} any news?"
            if retweet_of is not None:
                orig = self._tweets[str(retweet_of)]
                referenced.append({"type": "retweeted", "id": orig["id"]})
                if text is None:
                    who = self._users[orig["author_id"]]["username"]
                    text = f"RT @{who}: {orig['text']}"
            if quote_of is not None:
                referenced.append({"type": "quoted", "id": str(quote_of)})
                if text is None:
                    text = f"@{self.brand_username} look at this https://t.co/q{quote_of[-6:]}"
            if text is None:
                text = f"@{self.brand_username} help"
            tweet = self._store_tweet(text, author_id, ms, lang, conversation_id, in_reply_to,
                                      reply_user, referenced, history,
                                      in_timeline=self._mentions_brand(text) or reply_to_brand)
            if media:
                keys = []
                for k, m in enumerate(media):
                    key = f"{3 if m.get('type', 'photo') == 'photo' else 7}_{tweet['id']}{k}"
                    self._media[key] = dict(m, media_key=key, type=m.get("type", "photo"))
                    keys.append(key)
                tweet["attachments"] = {"media_keys": keys}
            return tweet["id"]

    def _latest_brand_tweet(self, conversation_id):
        for tweet in sorted(self._tweets.values(), key=lambda t: -int(t["id"])):
            if tweet["author_id"] == self.brand_id and not tweet["deleted"] and \
                    (conversation_id is None or tweet["conversation_id"] == str(conversation_id)):
                return tweet["id"]
        return self.add_brand_tweet(f"Hi! How can we help? ({len(self._tweets)})")

    def add_brand_tweet(self, text, in_reply_to=None):
        """A tweet by the brand; in the mentions timeline if it @-mentions the brand."""
        with self._lock:
            return self._store_tweet(text, self.brand_id, in_reply_to=in_reply_to)["id"]

    def add_mentions(self, n, authors=10, seed=None):
        """n realistic mentions from `authors` customers, ending about now: varied
        languages, emoji, & < >, links; about a quarter are follow-ups in the
        author's earlier conversation."""
        rng = random.Random(seed if seed is not None else self._rng.random())
        people = []
        for k in range(authors):
            handle, name = BULK_NAMES[k % len(BULK_NAMES)]
            suffix = "" if k < len(BULK_NAMES) else str(k)
            people.append((str(rng.randrange(10**8, 10**19)), handle[:15 - len(suffix)] + suffix,
                           name))
        ids, last_by_author = [], {}
        now_ms = int(time.time() * 1000)
        with self._lock:
            for i in range(n):
                who = rng.choice(people)
                order = rng.randrange(10000, 99999)
                ms = now_ms - (n - i) * 3000
                earlier = last_by_author.get(who[0])
                if earlier and rng.random() < 0.3:
                    text = rng.choice(BULK_FOLLOW_UPS).format(brand=self.brand_username, n=order)
                    tid = self.add_mention(text, who, in_reply_to=earlier, created_at=ms / 1000)
                else:
                    text = rng.choice(BULK_TEXTS).format(brand=self.brand_username, n=order)
                    lang = "ja" if "ア" in text else "da" if "pakke" in text else \
                        "es" if "pueden" in text else "en"
                    tid = self.add_mention(text, who, lang=lang, created_at=ms / 1000)
                last_by_author[who[0]] = tid
                ids.append(tid)
        return ids

    def delete_tweet(self, tweet_id):
        with self._lock:
            self._tweets[str(tweet_id)]["deleted"] = True
            if int(tweet_id) in self._live:
                self._live.remove(int(tweet_id))

    def tweet(self, tweet_id):
        """A copy of the stored tweet (raw text, internal fields)."""
        with self._lock:
            return dict(self._tweets[str(tweet_id)])

    @property
    def mention_ids(self):
        """Every mention id in the timeline, oldest first (before max_reachable)."""
        with self._lock:
            return [str(i) for i in self._live]

    # -- waiting -----------------------------------------------------------

    def wait_for(self, pred, timeout=10, what="condition"):
        """Blocks until pred() is true (checked whenever the fake changes)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "; ".join(f"{r['method']} {r['path']} -> {r['status']}"
                                     for r in self.requests[-5:]) or "none"
                    raise AssertionError(f"fake X: timed out after {timeout}s waiting for {what}"
                                         f" (last requests: {tail}; errors: {self.errors[-3:]})")
                self._cond.wait(min(left, 0.1))

    def wait_requests(self, n=1, path=None, method=None, timeout=10):
        def matching():
            return [r for r in self.requests if (path is None or path in r["path"])
                    and (method is None or r["method"] == method)]
        self.wait_for(lambda: len(matching()) >= n, timeout,
                      f"{n} {method or ''} request(s) to {path or 'any path'}")
        return matching()

    def wait_tweets(self, n=1, timeout=10):
        self.wait_for(lambda: len(self.tweets) >= n, timeout,
                      f"{n} tweet(s) (have {len(self.tweets)})")
        return list(self.tweets)

    def wait_dms(self, n=1, timeout=10):
        self.wait_for(lambda: len(self.dms) >= n, timeout, f"{n} DM(s) (have {len(self.dms)})")
        return list(self.dms)

    # -- request pipeline --------------------------------------------------

    ROUTES = [
        ("GET", re.compile(r"/2/users/([^/]+)/mentions"), "mentions", "_get_mentions",
         ("bearer", "oauth1", "oauth2")),
        ("GET", re.compile(r"/2/users/([^/]+)/tweets"), "timeline", "_get_posts",
         ("bearer", "oauth1", "oauth2")),
        ("GET", re.compile(r"/2/users/me"), "users", "_get_me", ("oauth1", "oauth2")),
        ("GET", re.compile(r"/2/users/by/username/([^/]+)"), "users", "_get_by_username",
         ("bearer", "oauth1", "oauth2")),
        ("GET", re.compile(r"/2/users/([^/]+)"), "users", "_get_user",
         ("bearer", "oauth1", "oauth2")),
        ("POST", re.compile(r"/2/tweets"), "tweets", "_post_tweet", ("oauth1", "oauth2")),
        ("DELETE", re.compile(r"/2/tweets/([^/]+)"), "delete", "_delete_tweet",
         ("oauth1", "oauth2")),
        ("POST", re.compile(r"/2/dm_conversations/with/([^/]+)/messages"), "dm", "_post_dm",
         ("oauth1", "oauth2")),
        ("POST", re.compile(r"/2/oauth2/token"), "token", "_post_token", None),
    ]

    def _error(self, req, message):
        """Records a protocol violation: something the real X would refuse or that
        shows the bot misusing the API."""
        self.errors.append(f"{req.method} {req.path}: {message}")

    def _route(self, req):
        """The route serving the spec operation _check_spec found (a route for
        /2/users/{id} does not serve /2/users/personalized_trends)."""
        for method, pattern, endpoint, handler, auth in self.ROUTES:
            m = pattern.fullmatch(req.path)
            if m and req.template is not None and template_regex(req.template) != pattern.pattern:
                continue
            if m:
                if req.method != method:
                    continue
                return endpoint, getattr(self, handler), auth, m.groups()
        return None

    def handle(self, req):
        """The whole answer to one request (called by the HTTP handler)."""
        now = time.time()
        with self._cond:
            refused = self._check_spec(req)
            if refused is not None:
                return refused
            route = self._route(req)
            if route is None:
                self._error(req, "X has this endpoint but the fake does not serve it")
                return Response(404, NO_SUCH_ROUTE)
            endpoint, handler, allowed, args = route
            bucket = self._buckets.get(endpoint)
            if allowed is not None:
                denied = self._authenticate(req, allowed, now)
                if denied:
                    return self._with_rate_headers(denied, endpoint, now)
            invalid = self._check_request(req)
            if invalid is not None:
                return self._with_rate_headers(invalid, endpoint, now)
            inj = self._take_injection(endpoint, ("empty_page_after_token",), req)
            if inj and inj.kind == "stall":
                req.injected = "stall"
                self._cond.wait_for(lambda: self._stopping, timeout=inj.kw.get("seconds", 5))
                now = time.time()
                inj = self._take_injection(endpoint, ("empty_page_after_token", "stall"), req)
            if inj and not inj.after and inj.kind != "truncated":
                req.injected = inj.kind
                return self._with_rate_headers(self._injected(inj, endpoint, now), endpoint, now)
            if bucket is not None:
                limited = self._rate_limit(req, endpoint, bucket, now)
                if limited:
                    return self._with_rate_headers(limited, endpoint, now)
            resp = handler(req, *args)
            if inj:
                req.injected = inj.kind
                if inj.kind == "truncated":
                    resp.action = "truncate_close" if inj.kw.get("close") else "truncate"
                else:
                    resp = self._injected(inj, endpoint, now)
            return self._with_rate_headers(resp, endpoint, now)

    def _take_injection(self, endpoint, skip, req=None):
        """Consumes one use of the first pending injection unless its kind is in `skip`
        (or it was injected with paged=True and this is not a later page of a walk)."""
        queue = self._injections[endpoint]
        if not queue or queue[0].kind in skip:
            return None
        if queue[0].kw.get("paged") and not (req is not None and
                                              "pagination_token" in (req.query or {})):
            return None
        inj = queue[0]
        inj.times -= 1
        if inj.times <= 0:
            queue.pop(0)
        return inj

    def _injected(self, inj, endpoint, now):
        kind = inj.kind
        if kind == "429":
            bucket = self._buckets.get(endpoint)
            reset_at = int(now + inj.kw.get("reset", 2))
            if bucket:
                bucket.exhaust_until(reset_at)
                bucket.sent_429 = True
            resp = problem(429, TOO_MANY_REQUESTS)
            if not bucket:
                resp.headers += [("x-rate-limit-limit", "0"), ("x-rate-limit-remaining", "0"),
                                 ("x-rate-limit-reset", str(reset_at))]
            return resp
        if kind in ("reset", "close"):
            resp = Response(0)
            resp.action = kind
            return resp
        if kind == "html":
            return Response(502, raw=BAD_GATEWAY_HTML, ctype="text/html; charset=utf-8")
        if endpoint == "token" and kind in ("401", "403_auth"):
            return Response(401, NO_CLIENT_AUTH)
        return {"usage_capped": lambda: problem(429, USAGE_CAPPED),
                "500": lambda: problem(500, SERVER_ERROR),
                "503": lambda: problem(503, UNAVAILABLE),
                "401": lambda: problem(401, UNAUTHORIZED),
                "403_auth": lambda: problem(403, UNSUPPORTED_AUTH)}[kind]()

    def _with_rate_headers(self, resp, endpoint, now):
        bucket = self._buckets.get(endpoint)
        if bucket is not None and resp.raw is None and resp.action != "reset" \
                and not any(k == "x-rate-limit-limit" for k, _ in resp.headers):
            resp.headers += bucket.headers(now)
        return resp

    def _rate_limit(self, req, endpoint, bucket, now):
        if bucket.sent_429 and now < bucket.reset:
            self._error(req, f"retried {bucket.reset - now:.1f}s before x-rate-limit-reset"
                             f" after a 429")
        if not bucket.take(now):
            bucket.sent_429 = True
            return problem(429, TOO_MANY_REQUESTS)
        limit = self.daily_limits.get(endpoint)
        if limit is not None:
            daily = self._daily.setdefault(endpoint, Bucket(limit, 86400))
            ok = daily.take(now)
            prefix = "x-app-limit-24hour" if endpoint == "tweets" else "x-user-limit-24hour"
            req.daily_headers = daily.headers(now, prefix)
            if not ok:
                bucket.remaining += 1     # a refused request does not use the window
                resp = problem(429, TOO_MANY_REQUESTS)
                resp.headers += req.daily_headers
                return resp
        return None

    # -- authentication ----------------------------------------------------

    def _authenticate(self, req, allowed, now):
        """Sets req.auth or returns the refusal (401 / 403) as a Response."""
        header = req.headers.get("authorization", "")
        scheme, _, rest = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "oauth":
            problem_text = self._verify_oauth1(req, rest, now)
            if problem_text:
                self._error(req, problem_text)
                return problem(401, UNAUTHORIZED)
            kind = "oauth1"
        elif scheme == "bearer":
            token = rest.strip()
            if token == self.bearer:
                kind = "bearer"
            elif token in self._access:
                state = self._access[token]
                if state["expired"] or now - state["issued"] > self.access_token_ttl:
                    return problem(401, UNAUTHORIZED)   # expected: the bot refreshes
                kind = "oauth2"
            else:
                self._error(req, f"unknown bearer token {token[:12]!r}")
                return problem(401, UNAUTHORIZED)
        else:
            self._error(req, "no usable Authorization header"
                        + (f" (scheme {scheme!r})" if scheme else ""))
            return problem(401, UNAUTHORIZED)
        if kind not in allowed:
            self._error(req, "app-only Bearer token on a user-context endpoint")
            return problem(403, UNSUPPORTED_AUTH)
        req.auth = kind
        return None

    def _verify_oauth1(self, req, rest, now):
        """None when the OAuth 1.0a header is right, else what is wrong."""
        params, bad = parse_oauth_header(rest)
        if bad:
            return bad
        for name in ("oauth_consumer_key", "oauth_nonce", "oauth_signature",
                     "oauth_signature_method", "oauth_timestamp", "oauth_token"):
            if name not in params:
                return f"OAuth header lacks {name}"
        if params.get("oauth_version", "1.0") != "1.0":
            return f"oauth_version {params['oauth_version']!r} (must be 1.0)"
        if params["oauth_signature_method"] != "HMAC-SHA1":
            return f"oauth_signature_method {params['oauth_signature_method']!r}"
        if params["oauth_consumer_key"] != self.oauth1["consumer_key"]:
            return "unknown oauth_consumer_key"
        if params["oauth_token"] != self.oauth1["token"]:
            return "unknown oauth_token"
        if not params["oauth_timestamp"].isdigit() or \
                abs(now - int(params["oauth_timestamp"])) > 300:
            return f"oauth_timestamp {params['oauth_timestamp']} is not within 300 s of now"
        host = req.headers.get("host", "").lower()
        url = f"http://{host}{req.raw_path}"
        signed = [(k, v) for k, v in params.items() if k not in ("oauth_signature", "realm")]
        signed += req.query_pairs
        if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            signed += urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"),
                                             keep_blank_values=True)
        expected = oauth1_signature(req.method, url, signed, self.oauth1["consumer_secret"],
                                    self.oauth1["token_secret"])
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            return ("bad OAuth 1.0a signature; expected base string "
                    + oauth1_base_string(req.method, url, signed))
        nonce = params["oauth_nonce"]
        if nonce in self._nonces:
            return f"oauth_nonce {nonce!r} reused"
        if len(self._nonces) > 20000:   # a nonce older than the timestamp window is moot
            self._nonces = {k: t for k, t in self._nonces.items() if t > now - 600}
        self._nonces[nonce] = int(params["oauth_timestamp"])
        return None

    # -- query validation --------------------------------------------------

    def _check_spec(self, req):
        """None when X's spec has the request's path and method (noted in req
        for _check_request); else X's answer, recorded: 404 for a path X does
        not have, 405 for a method.  Before authentication, as X routes first."""
        if req.path == OAUTH_TOKEN_PATH:
            return None
        found = self.spec.operation(req.method, req.path)
        if found is None:
            self._error(req, "no such endpoint in X's API (X answers 404)")
            return Response(404, NO_SUCH_ROUTE)
        req.template, req.operation, req.path_args = found
        if req.operation is None:
            allow = ", ".join(self.spec.methods(req.template))
            self._error(req, f"X's API has no {req.method} {req.template}, only {allow}"
                             " (X answers 405)")
            return Response(405, METHOD_NOT_ALLOWED, headers=[("allow", allow)])
        return None

    def _check_request(self, req):
        """None when the parameters and body meet the operation's declarations
        in the spec; else X's 400 listing every problem, recorded."""
        if req.operation is None:
            return None
        errors = request_problems(self.spec, req.template, req.operation, req.path_args, req)
        return self._bad(req, errors) if errors else None

    @staticmethod
    def _fields(req, name):
        return [f for f in req.query.get(name, "").split(",") if f]

    def _bad(self, req, errors):
        """A 400 the bot caused: recorded, since a correct bot never sends one."""
        for e in errors:
            self._error(req, "400: " + e["message"])
        return Response(400, invalid_request(errors))

    def _window_and_cursor(self, q):
        """What the spec cannot say about a timeline query: ids and times are
        not mixed, and a pagination token is one this fake handed out.
        Returns ([400 errors], the token's cursor or None)."""
        errors, cursor = [], None
        ids_used = [n for n in ("since_id", "until_id") if q.get(n)]
        times_used = [n for n in ("start_time", "end_time") if q.get(n)]
        if ids_used and times_used:
            errors.append({"parameters": {n: [q[n]] for n in ids_used + times_used},
                           "message": "Invalid use of 'since_id' or 'until_id' in conjunction"
                                      " with 'start_time' or 'end_time'."})
        if q.get("pagination_token"):
            cursor = self._tokens.get(q["pagination_token"])
            if cursor is None:
                errors.append(param_error("pagination_token", [q["pagination_token"]],
                                          "The `pagination_token` query parameter value"
                                          f" [{q['pagination_token']}] is not valid"))
        return errors, cursor

    # -- GET /2/users/:id/mentions -----------------------------------------

    def _get_mentions(self, req, user_id):
        # names, patterns, ranges and field values were checked against the spec
        q = req.query
        max_results = int(q.get("max_results") or 10)
        times = {name: parse_rfc3339(q[name]) for name in ("start_time", "end_time")
                 if q.get(name)}
        errors, cursor = self._window_and_cursor(q)
        if errors:
            return self._bad(req, errors)
        if user_id not in self._users:
            return Response(200, {"errors": [not_found("user", "id", user_id)]})
        query_key = self._query_key(req, user_id)
        if cursor is not None and cursor["query"] != query_key:
            self._error(req, "pagination_token from a different query (since_id/until_id/"
                             f"start_time/end_time changed mid-walk): token was for"
                             f" {cursor['query']}, request is {query_key}")
        return self._mentions_page(req, user_id, max_results, cursor, query_key, times)

    @staticmethod
    def _query_key(req, user_id):
        return (user_id,) + tuple(req.query.get(n) for n in ("since_id", "until_id",
                                                             "start_time", "end_time"))

    def _new_token(self, cursor):
        token = "7140dibdnow9c7btw4" + "".join(self._rng.choice("0123456789abcdefghijklmnopqrstuvwxyz")
                                              for _ in range(27))
        self._tokens[token] = cursor
        return token

    def _window(self, user_id, req, times, cursor):
        """The query's matching mention ids, ascending.  Bisects the live list,
        so a poll costs the page, not the whole timeline."""
        if user_id != self.brand_id:
            return []
        live, q = self._live, req.query
        lo, hi = max(0, len(live) - self.max_reachable), len(live)
        if q.get("since_id"):
            lo = max(lo, bisect.bisect_right(live, int(q["since_id"])))
        if q.get("until_id"):
            hi = min(hi, bisect.bisect_left(live, int(q["until_id"])))
        if cursor and "below" in cursor:
            hi = min(hi, bisect.bisect_left(live, cursor["below"]))
        if cursor and "above" in cursor:
            lo = max(lo, bisect.bisect_right(live, cursor["above"]))
        ids = live[lo:hi]
        if times:
            start, end = times.get("start_time", 0), times.get("end_time", float("inf"))
            ids = [i for i in ids if start <= self._tweets[str(i)]["created_ms"] < end]
        return ids

    def _mentions_page(self, req, user_id, max_results, cursor, query_key, times):
        if cursor and cursor.get("empty"):
            return Response(200, {"meta": {"result_count": 0}})
        ids = self._window(user_id, req, times, cursor)
        if cursor and "above" in cursor:     # previous_token: the page just newer
            page, more_after = ids[:max_results][::-1], True
        else:
            page, more_after = ids[-max_results:][::-1], len(ids) > max_results
        if not page:
            return Response(200, {"meta": {"result_count": 0}})
        meta = {"result_count": len(page), "newest_id": str(page[0]), "oldest_id": str(page[-1])}
        if more_after:
            meta["next_token"] = self._new_token({"below": page[-1], "query": query_key})
        elif self._take_injection("mentions", ("stall", "reset", "html", "truncated", "429",
                                               "usage_capped", "500", "503", "401", "403_auth")):
            req.injected = "empty_page_after_token"
            meta["next_token"] = self._new_token({"empty": True, "query": query_key})
        if cursor:
            meta["previous_token"] = self._new_token({"above": page[0], "query": query_key})
        body = self._expand(req, [self._tweets[str(i)] for i in page])
        body["meta"] = meta
        return Response(200, body)

    # -- GET /2/users/:id/tweets: a user's own posts --------------------------

    TIMELINE_REACH = 3200   # X serves a user's 3,200 most recent posts

    def _get_posts(self, req, user_id):
        """The user's posts (replies included unless excluded), newest first,
        paged like mentions; deleted posts are gone."""
        q = req.query
        max_results = int(q.get("max_results") or 10)
        errors, cursor = self._window_and_cursor(q)
        if errors:
            return self._bad(req, errors)
        if user_id not in self._users:
            return Response(200, {"errors": [not_found("user", "id", user_id)]})
        query_key = ("posts",) + self._query_key(req, user_id) + (q.get("exclude"),)
        if cursor is not None and cursor["query"] != query_key:
            self._error(req, "pagination_token from a different query: token was for"
                             f" {cursor['query']}, request is {query_key}")
        exclude = set(self._fields(req, "exclude"))
        times = {n: parse_rfc3339(q[n]) for n in ("start_time", "end_time") if q.get(n)}
        live = [i for i in self._by_author[user_id] if not self._tweets[str(i)]["deleted"]]
        ids = []
        for i in live[-self.TIMELINE_REACH:]:
            t = self._tweets[str(i)]
            kinds = {r["type"] for r in t["referenced_tweets"]}
            if ("replies" in exclude and "replied_to" in kinds) or \
                    ("retweets" in exclude and "retweeted" in kinds):
                continue
            if q.get("since_id") and i <= int(q["since_id"]):
                continue
            if q.get("until_id") and i >= int(q["until_id"]):
                continue
            if not times.get("start_time", 0) <= t["created_ms"] < times.get("end_time",
                                                                             float("inf")):
                continue
            if cursor and "below" in cursor and i >= cursor["below"]:
                continue
            ids.append(i)
        page, more = ids[-max_results:][::-1], len(ids) > max_results
        if not page:
            return Response(200, {"meta": {"result_count": 0}})
        meta = {"result_count": len(page), "newest_id": str(page[0]), "oldest_id": str(page[-1])}
        if more:
            meta["next_token"] = self._new_token({"below": page[-1], "query": query_key})
        body = self._expand(req, [self._tweets[str(i)] for i in page])
        body["meta"] = meta
        return Response(200, body)

    def posts_of(self, user_id=None):
        """The live posts of a user (default: the brand), oldest first, as copies."""
        with self._lock:
            return [dict(self._tweets[str(i)]) for i in self._by_author[str(user_id or
                                                                            self.brand_id)]
                    if not self._tweets[str(i)]["deleted"]]

    # -- rendering tweets and users ----------------------------------------

    def _tweet_json(self, tweet, fields):
        out = {"id": tweet["id"], "text": html_escape(tweet["text"]),
               "edit_history_tweet_ids": list(tweet["edit_history_tweet_ids"])}
        created = tweet["created_ms"]
        first = self._tweets.get(tweet["edit_history_tweet_ids"][0], tweet)
        available = {
            "author_id": tweet["author_id"],
            "created_at": iso_ms(created),
            "conversation_id": tweet["conversation_id"],
            "lang": tweet["lang"],
            "in_reply_to_user_id": tweet["in_reply_to_user_id"],
            "referenced_tweets": tweet["referenced_tweets"] or None,
            "entities": tweet["entities"] or None,
            "attachments": tweet.get("attachments"),
            "possibly_sensitive": False,
            "reply_settings": "everyone",
            "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                               "quote_count": 0, "bookmark_count": 0, "impression_count": 0},
            "edit_controls": {"edits_remaining": max(0, 6 - len(tweet["edit_history_tweet_ids"])),
                              "is_edit_eligible": True,
                              "editable_until": iso_ms(first["created_ms"] + 3600000)},
        }
        for f in fields:
            if available.get(f) is not None:
                out[f] = available[f]
        return out

    def _user_json(self, user, fields):
        out = {"id": user["id"], "name": user["name"], "username": user["username"]}
        for f in fields:
            if f in user and f not in out:
                out[f] = user[f]
        return out

    def _expand(self, req, tweets):
        """data + includes + partial errors for tweet.fields / expansions / user.fields."""
        tfields, ufields = self._fields(req, "tweet.fields"), self._fields(req, "user.fields")
        expansions = set(self._fields(req, "expansions"))
        body = {"data": [self._tweet_json(t, tfields) for t in tweets]}
        user_ids, ref_tweets, errors = [], [], []

        def want_user(uid):
            if uid and uid not in user_ids:
                user_ids.append(uid)
        for t in tweets:
            if "author_id" in expansions:
                want_user(t["author_id"])
            if "in_reply_to_user_id" in expansions:
                want_user(t["in_reply_to_user_id"])
            if "entities.mentions.username" in expansions:
                for m in t["entities"].get("mentions", []):
                    want_user(m.get("id"))
            refs = [r["id"] for r in t["referenced_tweets"]] \
                if expansions & {"referenced_tweets.id", "referenced_tweets.id.author_id"} else []
            if "edit_history_tweet_ids" in expansions:
                refs += [i for i in t["edit_history_tweet_ids"] if i != t["id"]]
            for rid in refs:
                ref = self._tweets.get(rid)
                if ref is None or ref["deleted"]:
                    err = not_found("tweet", "referenced_tweets.id", rid)
                    if err not in errors:
                        errors.append(err)
                    continue
                if "referenced_tweets.id.author_id" in expansions:
                    want_user(ref["author_id"])
                if "referenced_tweets.id" in expansions or "edit_history_tweet_ids" in expansions:
                    if ref not in ref_tweets:
                        ref_tweets.append(ref)
        media_keys = []
        if "attachments.media_keys" in expansions:
            for t in tweets:
                media_keys += (t.get("attachments") or {}).get("media_keys", [])
        includes = {}
        if media_keys:
            # media_key and type always come, as on X; the rest when media.fields asks
            mfields = self._fields(req, "media.fields")
            includes["media"] = [{k: v for k, v in self._media[key].items()
                                  if k in ("media_key", "type") or k in mfields}
                                 for key in media_keys if key in self._media]
        if user_ids:
            includes["users"] = [self._user_json(self._users[u], ufields) for u in user_ids
                                 if u in self._users]
        if ref_tweets:
            includes["tweets"] = [self._tweet_json(t, tfields) for t in ref_tweets]
        if includes:
            body["includes"] = includes
        if errors:
            body["errors"] = errors
        return body

    # -- users -------------------------------------------------------------

    def _user_answer(self, req, user, missing):
        if user is None:
            return Response(200, {"errors": [missing]})
        return Response(200, {"data": self._user_json(user, self._fields(req, "user.fields"))})

    def _get_me(self, req):
        return self._user_answer(req, self._users[self.brand_id], None)

    def _get_by_username(self, req, username):
        return self._user_answer(req, self._user_by_name(username),
                                 not_found("user", "username", username))

    def _get_user(self, req, user_id):
        return self._user_answer(req, self._users.get(user_id), not_found("user", "id", user_id))

    # -- POST bodies -------------------------------------------------------

    def _json_body(self, req):
        """The parsed body of a request _check_spec let through (so JSON with
        the operation's content type, conforming to its schema)."""
        return json.loads(req.body.decode("utf-8"))

    # The spec's closest Problem for "you may not reply to this post" is
    # DisallowedResourceProblem; X has not published the 2026-02 refusal's
    # wording, so the title and detail below are our guess in X's voice.
    NOT_SUMMONED = {"type": "https://api.x.com/2/problems/disallowed-resource",
                    "title": "Disallowed Resource", "status": 403, "resource_type": "tweet",
                    "section": "data",
                    "detail": "Reply to this conversation is not allowed because you have not"
                              " been mentioned or otherwise engaged by the author of the post"
                              " you are replying to."}

    def _summoned(self, tweet):
        """Did this post summon the brand: @mention it, or quote one of its posts?
        (Its own posts are fair game: threading them was never restricted.)"""
        if tweet["author_id"] == self.brand_id or self._mentions_brand(tweet["text"]):
            return True
        return any(r["type"] == "quoted" and
                   (self._tweets.get(r["id"]) or {}).get("author_id") == self.brand_id
                   for r in tweet["referenced_tweets"])

    def _post_tweet(self, req):
        body = self._json_body(req)
        text = body.get("text")
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if not text and not body.get("media") and not body.get("quote_tweet_id"):
            return self._bad(req, [{"message": "$.text: a Tweet needs text, media or a quote"}])
        if text:
            length, valid = weighted_length(text)
            if length > self.max_tweet_length or not valid:
                self._error(req, f"tweet text weighs {length} (> {self.max_tweet_length})"
                                 " or has invalid characters")
                return Response(self.too_long_status, TOO_LONG,
                                PROBLEM_CT if self.too_long_status == 403 else JSON_CT)
        if reply_to is not None:
            parent = self._tweets.get(reply_to)
            if parent is None or parent["deleted"]:
                return problem(403, NOT_VISIBLE)
            if self.self_serve and not self._summoned(parent):
                body = dict(self.NOT_SUMMONED, resource_id=reply_to)
                return problem(403, body)
        if text in self._brand_texts:
            return problem(403, DUPLICATE)
        tweet = self._store_tweet(text or "", self.brand_id, in_reply_to=reply_to)
        self.tweets.append({"id": tweet["id"], "text": text, "in_reply_to_tweet_id": reply_to,
                            "auth": req.auth, "t": time.time()})
        self._cond.notify_all()
        return Response(201, {"data": {"id": tweet["id"], "text": html_escape(text or ""),
                                       "edit_history_tweet_ids": [tweet["id"]]}},
                        headers=getattr(req, "daily_headers", ()))

    # -- DELETE /2/tweets/:id (issue 18: unsend) ---------------------------

    def _delete_tweet(self, req, tweet_id):
        """Only the account's own posts; an unknown or deleted id is a 404."""
        tweet = self._tweets.get(tweet_id)
        if tweet is None or tweet["deleted"]:
            return problem(404, dict(not_found("post", "id", tweet_id), status=404,
                                     title="Not Found Error"))
        if tweet["author_id"] != self.brand_id:
            return problem(403, NOT_YOURS)
        self.delete_tweet(tweet_id)
        self._brand_texts.discard(tweet["text"])
        self.deleted.append({"id": tweet_id, "auth": req.auth, "t": time.time()})
        self._cond.notify_all()
        return Response(200, {"data": {"deleted": True}})

    def _post_dm(self, req, participant_id):
        body = self._json_body(req)
        text = body.get("text")
        if text is not None and len(text) > 10000:   # the reference's limit; not in the spec
            return self._bad(req, [{"message": f"$.text: length {len(text)} is not"
                                               " between 1 and 10000"}])
        if participant_id == self.brand_id:
            return self._bad(req, [{"message": "You cannot send a Direct Message to yourself"}])
        if participant_id in self.no_dm_users or participant_id not in self._users:
            return problem(403, CANNOT_DM)
        event_id = self._next_id()
        low, high = sorted((self.brand_id, participant_id), key=int)
        self.dms.append({"participant_id": participant_id, "text": text,
                         "dm_event_id": event_id, "auth": req.auth, "t": time.time()})
        self._cond.notify_all()
        return Response(201, {"data": {"dm_conversation_id": f"{low}-{high}",
                                       "dm_event_id": event_id}},
                        headers=getattr(req, "daily_headers", ()))

    # -- POST /2/oauth2/token ----------------------------------------------

    def _post_token(self, req):
        ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            self._error(req, f"token request with Content-Type {ctype!r}")
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Missing required parameter [grant_type]."})
        pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        form = dict(pairs)
        if len(form) != len(pairs):
            self._error(req, "token request repeats a form field")
        if form.get("grant_type") != "refresh_token":
            self._error(req, f"grant_type {form.get('grant_type')!r}")
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Missing required parameter [grant_type]."})
        refused = self._client_auth(req, form)
        if refused:
            return refused
        token = form.get("refresh_token", "")
        if token != self._refresh_token:
            if token not in self._old_refresh:
                self._error(req, f"unknown refresh token {token[:12]!r}")
            return Response(400, REFRESH_INVALID)
        return self._rotate(req)

    def _client_auth(self, req, form):
        """Confidential clients authenticate with Basic; public ones send client_id."""
        if self.client_secret:
            header = req.headers.get("authorization", "")
            try:
                user, _, secret = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
                ok = header.lower().startswith("basic ") and \
                    urllib.parse.unquote_plus(user) == self.client_id and \
                    urllib.parse.unquote_plus(secret) == self.client_secret
            except (IndexError, ValueError):
                ok = False
            if not ok:
                self._error(req, "confidential client without valid Basic authorization")
                return Response(401, NO_CLIENT_AUTH)
            return None
        if form.get("client_id") != self.client_id:
            self._error(req, f"client_id {form.get('client_id')!r} (expected the app's)")
            return Response(400, {"error": "invalid_request",
                                  "error_description": "Missing required parameter [client_id]."})
        return None

    def _rotate(self, req):
        n = next(self._token_serial)
        old_access, old_refresh = self._access_token, self._refresh_token
        self._access_token, self._refresh_token = f"at-{n}", f"rt-{n}"
        self._old_refresh.add(old_refresh)
        if self.revoke_access_on_refresh:
            self._access[old_access]["expired"] = True
        self._access[self._access_token] = {"issued": time.time(), "expired": False}
        self.refreshes.append({"old_refresh": old_refresh, "new_access": self._access_token,
                               "new_refresh": self._refresh_token, "t": time.time()})
        self._cond.notify_all()
        return Response(200, {"token_type": "bearer", "expires_in": self.access_token_ttl,
                              "access_token": self._access_token,
                              "scope": "tweet.read users.read tweet.write dm.read dm.write"
                                       " offline.access",
                              "refresh_token": self._refresh_token})

    # -- bookkeeping -------------------------------------------------------

    def record(self, req, resp, t):
        with self._cond:
            self.requests.append({
                "method": req.method, "path": req.path, "query": dict(req.query),
                "headers": dict(req.headers), "body": req.body.decode("utf-8", "replace"),
                "status": resp.status or None, "t": t, "auth": req.auth,
                "injected": req.injected})
            if self.max_records and len(self.requests) > self.max_records:
                del self.requests[:len(self.requests) - self.max_records]
            self._cond.notify_all()


# ---------------------------------------------------------------------------
# HTTP plumbing.

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        """A client dropping its connection is the client's business; anything
        else is a bug in the fake and is recorded where tests look."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            self.fake.errors.append(f"fake X crashed: {exc!r}")
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tsa_b"
    timeout = 300   # an idle kept-alive connection is closed after this

    def setup(self):
        super().setup()
        with self.server.fake._lock:
            self.server.fake._conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.fake._lock:
                self.server.fake._conns.discard(self.connection)

    def log_message(self, fmt, *args):   # the request list is the log
        pass

    def version_string(self):
        return self.server_version

    def do_GET(self):
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length else None

    def _serve(self):
        fake, t = self.server.fake, time.time()
        body = self._read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, self.path, headers, body or b"")
        if body is None and self.command in ("POST", "PUT", "PATCH"):
            with fake._lock:
                fake._error(req, "POST without Content-Length (411)")
            resp = Response(411, raw=b"Length Required", ctype="text/plain")
        elif "host" not in headers:
            with fake._lock:
                fake._error(req, "HTTP/1.1 request without Host")
            resp = Response(400, raw=b"Bad Request", ctype="text/plain")
        else:
            try:
                resp = fake.handle(req)
            except Exception as e:  # noqa: BLE001 - a bug here must not look like X
                fake.errors.append(f"fake X crashed on {req.method} {req.path}: {e!r}")
                traceback.print_exc()
                resp = Response(500, SERVER_ERROR, PROBLEM_CT)
        fake.record(req, resp, t)
        self._send(fake, req, resp)

    def _send(self, fake, req, resp):
        if resp.action == "reset":   # RST: SO_LINGER 0 then close
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if resp.action == "close":   # FIN without a byte of answer
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = resp.raw if resp.raw is not None else x_json(resp.body, fake.ascii_json)
        headers = [("content-type", resp.ctype), ("cache-control", "no-cache, no-store, max-age=0"),
                   ("x-transaction-id", "%016x" % random.getrandbits(64)),
                   ("x-response-time", str(random.randint(8, 90)))] + resp.headers
        if resp.raw is None and fake.gzip and accepts_gzip(req.headers.get("accept-encoding")):
            body = gzip_mod.compress(body, mtime=0)
            headers.append(("content-encoding", "gzip"))
        full_length = len(body)
        if resp.action in ("truncate", "truncate_close"):
            body = body[:len(body) // 2]
        length = full_length if resp.action == "truncate_close" else len(body)
        self.send_response(resp.status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("content-length", str(length))
        if resp.action == "truncate_close":
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Serve a fake X API v2 on 127.0.0.1.")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mentions", type=int, default=0, help="pre-load N realistic mentions")
    ap.add_argument("--authors", type=int, default=50)
    ap.add_argument("--no-limits", action="store_true", help="effectively no rate limits")
    ap.add_argument("--no-gzip", action="store_true")
    ap.add_argument("--max-records", type=int, default=10000,
                    help="keep only the newest N request records (memory bound)")
    a = ap.parse_args(argv)
    fx = FakeX(port=a.port, max_records=a.max_records)
    if a.no_limits:
        fx.rate_limits = {k: (10**9, 900) for k in fx.rate_limits}
        fx.daily_limits = {}
    fx.gzip = not a.no_gzip
    fx.max_reachable = max(fx.max_reachable, a.mentions)
    if a.mentions:
        fx.add_mentions(a.mentions, authors=a.authors, seed=1)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    fx.start()
    print(f"READY {fx.api_url}", flush=True)
    while not done.wait(0.5):
        pass
    fx.stop()
    if fx.errors:
        print(f"{len(fx.errors)} protocol errors; first: {fx.errors[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
