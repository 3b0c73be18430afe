#!/usr/bin/env python3
"""Self-test of the fake X API (tests/fakes/fake_x.py): proves it is as strict
as the reference says X is.  Standard library only; one line per test, then
`N passed, N failed`; exit 1 on any failure.

usage: python3 tests/fakes/test_fake_x.py [FILTER...]
"""
import base64
import gzip
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from fake_x import (FakeX, oauth1_header, oauth1_signature, schema_problems,  # noqa: E402
                    template_regex, weighted_length)

BRAND = "1500000000000000001"
MENTIONS = f"users/{BRAND}/mentions"
VECTOR = dict(  # X docs, "Creating a signature"
    params={"status": "Hello Ladies + Gentlemen, a signed OAuth request!",
            "include_entities": "true",
            "oauth_consumer_key": "xvz1evFS4wEEPTGEFPHBog",
            "oauth_nonce": "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
            "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "1318622958",
            "oauth_token": "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            "oauth_version": "1.0"},
    consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
    token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")


class Api:
    """A tiny keep-alive client speaking to the fake the way vigil does."""

    def __init__(self, fx):
        self.fx = fx
        self.conn = http.client.HTTPConnection("127.0.0.1", fx.port, timeout=10)

    def reconnect(self):
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.fx.port, timeout=10)

    def call(self, method, path, params=(), body=None, auth="bearer", headers=None,
             raw=None, nonce=None, timestamp=None, gz=False):
        """Returns (status, headers with lowercase names, parsed JSON or bytes)."""
        pairs = list(params.items()) if isinstance(params, dict) else list(params)
        url = self.fx.api_url + path
        qs = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote, safe="")
        h = {}
        if auth == "bearer":
            h["Authorization"] = "Bearer " + self.fx.bearer
        elif auth == "oauth2":
            h["Authorization"] = "Bearer " + self.fx.access_token
        elif auth == "oauth1":
            h["Authorization"] = oauth1_header(method, url, pairs, nonce=nonce,
                                               timestamp=timestamp, **self.fx.oauth1)
        elif auth:
            h["Authorization"] = auth
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if gz:
            h["Accept-Encoding"] = "gzip"
        h.update(headers or {})
        self.conn.request(method, urllib.parse.urlsplit(url).path + ("?" + qs if qs else ""),
                          body=data, headers=h)
        r = self.conn.getresponse()
        payload = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        if hdrs.get("content-encoding") == "gzip":
            payload = gzip.decompress(payload)
        try:
            payload = json.loads(payload)
        except ValueError:
            pass
        return r.status, hdrs, payload


class Fake:
    """with Fake() as (fx, api): a started fake and a client; stopped after."""

    def __init__(self, **kw):
        self.fx = FakeX(**kw)

    def __enter__(self):
        self.fx.start()
        self.api = Api(self.fx)
        return self.fx, self.api

    def __exit__(self, *exc):
        self.api.conn.close()
        self.fx.stop()


def expect_errors(fx, *fragments):
    """fx.errors must name each fragment, then it is cleared."""
    for frag in fragments:
        assert any(frag in e for e in fx.errors), f"no error mentioning {frag!r}: {fx.errors}"
    fx.errors.clear()


# -- OAuth 1.0a -------------------------------------------------------------

def test_oauth1_signature_matches_the_published_vectors():
    for host, want in (("api.twitter.com", "hCtSmYh+iHYCEqBWrE7C7hYmtUk="),
                       ("api.x.com", "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=")):
        got = oauth1_signature("POST", f"https://{host}/1.1/statuses/update.json", **VECTOR)
        assert got == want, (host, got)
    # the base URL is normalised: uppercase scheme/host and the default port change nothing
    got = oauth1_signature("post", "HTTPS://API.X.COM:443/1.1/statuses/update.json", **VECTOR)
    assert got == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=", got


def test_signed_request_is_accepted_and_a_tampered_one_rejected():
    with Fake() as (fx, api):
        fx.add_mentions(3)
        params = {"max_results": "5", "tweet.fields": "created_at,author_id"}
        status, _, body = api.call("GET", MENTIONS, params, auth="oauth1")
        assert status == 200 and body["meta"]["result_count"] == 3, (status, body)
        assert fx.requests[-1]["auth"] == "oauth1"
        assert not fx.errors, fx.errors
        # sign max_results=5, send max_results=6
        url = fx.api_url + MENTIONS
        header = oauth1_header("GET", url, params, **fx.oauth1)
        status, _, body = api.call("GET", MENTIONS, dict(params, max_results="6"), auth=header)
        assert status == 401 and body["title"] == "Unauthorized", (status, body)
        expect_errors(fx, "bad OAuth 1.0a signature")
        # a classic client bug: the comma left unencoded in the base string
        oauth = {"oauth_consumer_key": "ck", "oauth_nonce": "abc", "oauth_token": "tk",
                 "oauth_signature_method": "HMAC-SHA1", "oauth_version": "1.0",
                 "oauth_timestamp": str(int(time.time()))}
        pairs = sorted(list(oauth.items()) + [("tweet.fields", "created_at,author_id")])
        base = "GET&" + urllib.parse.quote(url, safe="") + "&" + urllib.parse.quote(
            "&".join(f"{k}={v}" for k, v in pairs), safe=",")
        sig = base64.b64encode(hmac.new(b"cs&ts", base.encode(), hashlib.sha1).digest()).decode()
        header = "OAuth " + ", ".join(f'{k}="{urllib.parse.quote(v, safe="")}"'
                                      for k, v in list(oauth.items()) + [("oauth_signature", sig)])
        status, _, _ = api.call("GET", MENTIONS, {"tweet.fields": "created_at,author_id"},
                                auth=header)
        assert status == 401
        expect_errors(fx, "bad OAuth 1.0a signature")
        # wrong secret
        creds = dict(fx.oauth1, token_secret="nope")
        header = oauth1_header("GET", url, {}, **creds)
        assert api.call("GET", MENTIONS, auth=header)[0] == 401
        expect_errors(fx, "bad OAuth 1.0a signature")


def test_reused_nonce_and_stale_timestamp_are_rejected():
    with Fake() as (fx, api):
        assert api.call("GET", MENTIONS, auth="oauth1", nonce="n0nce1")[0] == 200
        status, _, body = api.call("GET", MENTIONS, auth="oauth1", nonce="n0nce1")
        assert status == 401 and body["detail"] == "Unauthorized", (status, body)
        expect_errors(fx, "oauth_nonce 'n0nce1' reused")
        status, _, _ = api.call("GET", MENTIONS, auth="oauth1", timestamp=time.time() - 400)
        assert status == 401
        expect_errors(fx, "not within 300 s")


# -- mentions ---------------------------------------------------------------

def walk(api, since_id, max_results=100, add_between=None):
    """Walks every page of one query; returns the pages' data and the requests' params."""
    pages, token, metas = [], None, []
    while True:
        params = {"since_id": since_id, "max_results": str(max_results)}
        if token:
            params["pagination_token"] = token
        status, _, body = api.call("GET", MENTIONS, params)
        assert status == 200, (status, body)
        metas.append(body["meta"])
        if body.get("data"):
            pages.append(body["data"])
        token = body["meta"].get("next_token")
        if add_between:
            add_between()
        if not token:
            return pages, metas


def test_pagination_with_since_id_returns_every_id_once_newest_first():
    with Fake() as (fx, api):
        since = fx.add_mentions(10, seed=1)[-1]
        new = fx.add_mentions(250, seed=2)
        late = []
        pages, metas = walk(api, since, add_between=lambda: late.append(fx.add_mention()))
        assert [len(p) for p in pages] == [100, 100, 50], [len(p) for p in pages]
        ids = [t["id"] for p in pages for t in p]
        assert ids == sorted(new, key=int, reverse=True), "not every id once, newest first"
        assert metas[0]["newest_id"] == new[-1] and metas[-1]["oldest_id"] == new[0]
        assert all(m["result_count"] == len(p) for m, p in zip(metas, pages))
        assert all(r["query"]["since_id"] == since for r in fx.requests)
        assert not set(late) & set(ids), "a mention posted mid-walk leaked into older pages"
        assert all(len(t["id"]) == 19 for t in pages[0])
        assert not fx.errors, fx.errors


def test_no_new_mentions_is_just_a_zero_count():
    with Fake() as (fx, api):
        newest = fx.add_mentions(5)[-1]
        status, hdrs, body = api.call("GET", MENTIONS, {"since_id": newest})
        assert status == 200 and body == {"meta": {"result_count": 0}}, body
        assert hdrs["content-type"] == "application/json; charset=utf-8"


def test_max_results_outside_5_to_100_is_the_reference_400():
    with Fake() as (fx, api):
        status, _, body = api.call("GET", MENTIONS, {"max_results": "4"})
        assert status == 400, status
        assert body == {"errors": [{"parameters": {"max_results": ["4"]},
                                    "message": "The `max_results` query parameter value [4]"
                                               " is not between 5 and 100"}],
                        "title": "Invalid Request",
                        "detail": "One or more parameters to your request was invalid.",
                        "type": "https://api.twitter.com/2/problems/invalid-request"}, body
        assert api.call("GET", MENTIONS, {"max_results": "101"})[0] == 400
        expect_errors(fx, "[4] is not between", "[101] is not between")


def test_unknown_duplicate_and_conflicting_params_are_400():
    with Fake() as (fx, api):
        status, _, body = api.call("GET", MENTIONS, {"count": "5"})
        assert status == 400 and "The query parameter [count] is not one of [id,max_results," \
            in body["errors"][0]["message"], body
        status, _, body = api.call("GET", MENTIONS, [("max_results", "5"), ("max_results", "9")])
        assert status == 400 and "Duplicate parameters" in body["errors"][0]["message"], body
        status, _, body = api.call("GET", MENTIONS, {"since_id": "1",
                                                     "start_time": "2026-01-01T00:00:00Z"})
        assert status == 400 and "in conjunction with" in body["errors"][0]["message"], body
        status, _, body = api.call("GET", MENTIONS, {"tweet.fields": "created_at, author_id"})
        assert status == 400 and "value [ author_id] is not one of" in \
            body["errors"][0]["message"], body
        status, _, body = api.call("GET", MENTIONS, {"since_id": "12ab"})
        assert status == 400 and "does not match ^[0-9]{1,19}$" in \
            body["errors"][0]["message"], body
        status, _, body = api.call("GET", MENTIONS, {"pagination_token": "bogus"})
        assert status == 400, status
        expect_errors(fx, "[count]", "Duplicate", "conjunction", "[ author_id]", "[12ab]",
                      "[bogus]")
        # an unknown user id is a partial error inside a 200, as X sends it
        status, _, body = api.call("GET", "users/999/mentions")
        assert status == 200 and body["errors"][0]["title"] == "Not Found Error", body


def test_fields_and_expansions_shape_the_page_like_x():
    with Fake() as (fx, api):
        first = fx.add_mention("@AcmeSupport order <1> & 2 \U0001F621 straße",
                               author=("871236540", "tombecker77", "Tom Becker"))
        fx.add_mention("@AcmeSupport still?", author=("871236540", "tombecker77", "Tom Becker"),
                       in_reply_to=first)
        status, _, body = api.call("GET", MENTIONS)
        assert set(body["data"][0]) == {"id", "text", "edit_history_tweet_ids"}, body["data"][0]
        assert "includes" not in body
        params = {"tweet.fields": "created_at,author_id,conversation_id,in_reply_to_user_id,"
                                  "referenced_tweets,lang,entities",
                  "expansions": "author_id,referenced_tweets.id", "user.fields": "verified"}
        status, _, body = api.call("GET", MENTIONS, params)
        reply, orig = body["data"]
        assert reply["conversation_id"] == first and reply["in_reply_to_user_id"] == "871236540"
        assert reply["referenced_tweets"] == [{"type": "replied_to", "id": first}]
        assert orig["text"] == "@AcmeSupport order &lt;1&gt; &amp; 2 \U0001F621 straße"
        assert "in_reply_to_user_id" not in orig and "referenced_tweets" not in orig
        assert orig["created_at"].endswith("Z") and len(orig["created_at"]) == 24
        assert body["includes"]["users"] == [{"id": "871236540", "name": "Tom Becker",
                                              "username": "tombecker77", "verified": False}]
        assert body["includes"]["tweets"][0]["id"] == first
        # on the wire: emoji as uppercase surrogate escapes, BMP text raw UTF-8
        fx.gzip = False
        api.conn.request("GET", "/2/" + MENTIONS, headers={"Authorization": "Bearer " + fx.bearer})
        raw = api.conn.getresponse().read()
        assert b"\\uD83D\\uDE21" in raw and "straße".encode() in raw, raw[:300]
        assert not fx.errors, fx.errors


def test_edits_retweets_quotes_and_reach():
    with Fake() as (fx, api):
        orig = fx.add_mention("@AcmeSupport charged twice in Novemer")
        edit = fx.add_mention("@AcmeSupport charged twice in November", edit_of=orig)
        rt = fx.add_mention(retweet_of=orig, author=("7", "fan", "Fan"))
        quote = fx.add_mention(quote_of=orig, author=("8", "q", "Q"))
        brand = fx.add_brand_tweet("@AcmeSupport note to self")
        params = {"tweet.fields": "referenced_tweets,author_id", "max_results": "10"}
        data = {t["id"]: t for t in api.call("GET", MENTIONS, params)[2]["data"]}
        assert data[edit]["edit_history_tweet_ids"] == [orig, edit]
        assert data[edit]["author_id"] == data[orig]["author_id"]
        assert data[rt]["referenced_tweets"] == [{"type": "retweeted", "id": orig}]
        assert data[rt]["text"].startswith("RT @ann: @AcmeSupport")
        assert data[quote]["referenced_tweets"] == [{"type": "quoted", "id": orig}]
        assert data[brand]["author_id"] == BRAND
        fx.max_reachable = 3
        body = api.call("GET", MENTIONS, {"since_id": "1"})[2]
        assert body["meta"]["result_count"] == 3 and orig not in [t["id"] for t in body["data"]]
        follow = fx.add_mention("@AcmeSupport thanks", reply_to_brand=True)
        t = fx.tweet(follow)
        assert t["in_reply_to_user_id"] == BRAND and t["referenced_tweets"][0]["type"] == "replied_to"


def test_media_and_quotes_come_as_the_expansions_ask():
    with Fake() as (fx, api):
        orig = fx.add_mention("@AcmeSupport is this you?", author=("9", "deals", "Deals"))
        tid = fx.add_mention("@AcmeSupport look", quote_of=orig, lang="es",
                             media=[{"type": "photo", "url": "https://pbs.twimg.com/media/a.jpg"},
                                    {"type": "video",
                                     "preview_image_url": "https://pbs.twimg.com/v.jpg"}])
        params = {"tweet.fields": "attachments,lang,referenced_tweets", "max_results": "10",
                  "expansions": "attachments.media_keys,referenced_tweets.id,"
                                "referenced_tweets.id.author_id",
                  "media.fields": "url,preview_image_url,type"}
        body = api.call("GET", MENTIONS, params)[2]
        t = {x["id"]: x for x in body["data"]}[tid]
        assert t["lang"] == "es" and len(t["attachments"]["media_keys"]) == 2
        media = {m["media_key"]: m for m in body["includes"]["media"]}
        photo, video = (media[k] for k in t["attachments"]["media_keys"])
        assert photo == {"media_key": photo["media_key"], "type": "photo",
                         "url": "https://pbs.twimg.com/media/a.jpg"}
        assert video["type"] == "video" and "url" not in video
        assert video["preview_image_url"] == "https://pbs.twimg.com/v.jpg"
        assert orig in [x["id"] for x in body["includes"]["tweets"]]
        assert "deals" in [u["username"] for u in body["includes"]["users"]]
        # without the expansion, no includes.media; an unknown media field is refused
        body = api.call("GET", MENTIONS, {"tweet.fields": "attachments"})[2]
        assert "media" not in body.get("includes", {})
        st = api.call("GET", MENTIONS, {"media.fields": "url,bogus"})[0]
        assert st == 400
        fx.errors.clear()


def test_a_token_reused_with_another_since_id_is_recorded():
    with Fake() as (fx, api):
        ids = fx.add_mentions(30)
        body = api.call("GET", MENTIONS, {"since_id": ids[0], "max_results": "10"})[2]
        api.call("GET", MENTIONS, {"since_id": ids[20], "max_results": "10",
                                   "pagination_token": body["meta"]["next_token"]})
        expect_errors(fx, "different query")


# -- transport ----------------------------------------------------------------

def test_gzip_when_accepted_and_keep_alive():
    with Fake() as (fx, api):
        fx.add_mentions(20)
        status, hdrs, body = api.call("GET", MENTIONS, gz=True)
        assert status == 200 and hdrs.get("content-encoding") == "gzip", hdrs
        assert body["meta"]["result_count"] == 10
        status, hdrs, _ = api.call("GET", MENTIONS)
        assert "content-encoding" not in hdrs
        fx.gzip = False
        assert "content-encoding" not in api.call("GET", MENTIONS, gz=True)[1]
        sock = api.conn.sock
        api.call("GET", MENTIONS)
        assert api.conn.sock is sock, "connection was not kept alive"


def test_rate_limit_headers_count_down_then_429():
    with Fake() as (fx, api):
        fx.rate_limits = {"mentions": (3, 60)}
        seen = []
        for _ in range(3):
            status, hdrs, _ = api.call("GET", MENTIONS)
            assert status == 200
            seen.append(int(hdrs["x-rate-limit-remaining"]))
            assert hdrs["x-rate-limit-limit"] == "3"
        assert seen == [2, 1, 0], seen
        status, hdrs, body = api.call("GET", MENTIONS)
        assert status == 429 and body == {"title": "Too Many Requests", "type": "about:blank",
                                          "status": 429, "detail": "Too Many Requests"}, body
        assert hdrs["content-type"] == "application/problem+json"
        assert 0 < int(hdrs["x-rate-limit-reset"]) - time.time() <= 61
        assert not fx.errors, fx.errors    # meeting the 429 is fine...
        assert api.call("GET", MENTIONS)[0] == 429
        expect_errors(fx, "before x-rate-limit-reset")   # ...retrying before reset is not
        # other buckets are separate; every response carries its bucket's headers
        assert "x-rate-limit-remaining" in api.call("GET", "users/me", auth="oauth1")[1]


def test_inject_429_holds_until_its_reset():
    with Fake() as (fx, api):
        fx.inject("mentions", "429", reset=1)
        status, hdrs, _ = api.call("GET", MENTIONS)
        reset = int(hdrs["x-rate-limit-reset"])
        assert status == 429 and hdrs["x-rate-limit-remaining"] == "0", hdrs
        assert api.call("GET", MENTIONS)[0] == 429
        expect_errors(fx, "before x-rate-limit-reset")
        time.sleep(max(0, reset - time.time()) + 0.05)
        status, hdrs, _ = api.call("GET", MENTIONS)
        assert status == 200 and hdrs["x-rate-limit-remaining"] == "449", (status, hdrs)
        assert not fx.errors, fx.errors


def test_inject_error_bodies():
    with Fake() as (fx, api):
        cases = [("usage_capped", 429, "UsageCapExceeded"), ("500", 500, "Internal Server Error"),
                 ("503", 503, "Service Unavailable"), ("401", 401, "Unauthorized"),
                 ("403_auth", 403, "Unsupported Authentication")]
        for kind, want, title in cases:
            fx.inject("mentions", kind)
            status, hdrs, body = api.call("GET", MENTIONS)
            assert status == want and body["title"] == title, (kind, status, body)
            assert "x-rate-limit-limit" in hdrs, kind
        fx.inject("mentions", "html")
        status, hdrs, body = api.call("GET", MENTIONS)
        assert status == 502 and hdrs["content-type"].startswith("text/html"), (status, hdrs)
        assert b"Bad Gateway" in body
        fx.inject("mentions", "500", times=2)
        assert [api.call("GET", MENTIONS)[0] for _ in range(3)] == [500, 500, 200]
        fx.inject("token", "503")
        assert api.call("POST", "oauth2/token", auth=None, raw=b"grant_type=refresh_token",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})[0] == 503
        assert not fx.errors, fx.errors


def test_inject_truncated_body():
    with Fake() as (fx, api):
        fx.add_mentions(10)
        fx.inject("mentions", "truncated")
        status, hdrs, body = api.call("GET", MENTIONS)
        assert status == 200 and isinstance(body, bytes) and body.startswith(b'{"data":['), body
        try:
            json.loads(body)
            raise AssertionError("truncated body parsed")
        except ValueError:
            pass
        fx.inject("mentions", "truncated", close=True)
        try:
            api.call("GET", MENTIONS)
            raise AssertionError("short read not noticed")
        except http.client.IncompleteRead:
            pass
        api.reconnect()
        assert api.call("GET", MENTIONS)[0] == 200


def test_inject_stall_and_reset():
    with Fake() as (fx, api):
        fx.inject("mentions", "stall", seconds=0.4)
        t0 = time.monotonic()
        assert api.call("GET", MENTIONS)[0] == 200
        assert time.monotonic() - t0 >= 0.4
        fx.inject("mentions", "reset")
        try:
            api.call("GET", MENTIONS)
            raise AssertionError("reset not noticed")
        except (ConnectionResetError, http.client.RemoteDisconnected):
            pass
        api.reconnect()
        assert api.call("GET", MENTIONS)[0] == 200
        fx.inject("mentions", "close")
        try:
            api.call("GET", MENTIONS)
            raise AssertionError("close not noticed")
        except (ConnectionResetError, http.client.RemoteDisconnected):
            pass   # a FIN before any byte of answer
        api.reconnect()
        assert api.call("GET", MENTIONS)[0] == 200
        assert [r["injected"] for r in fx.requests] == ["stall", "reset", None, "close", None]


def test_inject_empty_page_after_token():
    with Fake() as (fx, api):
        ids = fx.add_mentions(7)
        fx.inject("mentions", "empty_page_after_token")
        pages, metas = walk(api, "1", max_results=5)
        assert [len(p) for p in pages] == [5, 2] and len(metas) == 3, metas
        assert metas[-1] == {"result_count": 0}, metas
        assert sorted(t["id"] for p in pages for t in p) == sorted(ids)


def test_inject_after_means_the_request_took_effect():
    with Fake() as (fx, api):
        fx.inject("tweets", "500", after=True)
        assert api.call("POST", "tweets", body={"text": "hello"}, auth="oauth1")[0] == 500
        assert len(fx.tweets) == 1
        status, _, body = api.call("POST", "tweets", body={"text": "hello"}, auth="oauth1")
        assert status == 403 and "duplicate" in body["detail"], body
        fx.inject("token", "reset", after=True)
        form = f"grant_type=refresh_token&refresh_token=rt-1&client_id={fx.client_id}".encode()
        try:
            api.call("POST", "oauth2/token", auth=None, raw=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
            raise AssertionError("reset not noticed")
        except (ConnectionResetError, http.client.RemoteDisconnected):
            pass
        assert fx.refresh_token == "rt-2", "rotation should have happened"


# -- posting ------------------------------------------------------------------

def test_post_tweet_reply_with_oauth1_and_oauth2():
    with Fake() as (fx, api):
        mention = fx.add_mention("@AcmeSupport help")
        status, hdrs, body = api.call("POST", "tweets", auth="oauth1", body={
            "text": "Sorry & thanks ^JP", "reply": {"in_reply_to_tweet_id": mention}})
        assert status == 201, (status, body)
        assert body["data"]["edit_history_tweet_ids"] == [body["data"]["id"]]
        assert int(body["data"]["id"]) > int(mention)
        assert "x-app-limit-24hour-remaining" in hdrs and hdrs["x-rate-limit-remaining"] == "99"
        assert fx.tweets[0]["in_reply_to_tweet_id"] == mention and fx.tweets[0]["auth"] == "oauth1"
        status, _, body = api.call("POST", "tweets", auth="oauth2", body={
            "text": "Follow-up", "reply": {"in_reply_to_tweet_id": body["data"]["id"]}})
        assert status == 201 and fx.tweets[1]["auth"] == "oauth2", body
        assert fx.wait_tweets(2, timeout=1)[1]["text"] == "Follow-up"
        assert not fx.errors, fx.errors


def test_duplicate_tweet_is_403():
    with Fake() as (fx, api):
        fx.add_brand_tweet("We're on it!")
        status, hdrs, body = api.call("POST", "tweets", auth="oauth1", body={"text": "We're on it!"})
        assert status == 403 and body == {
            "detail": "You are not allowed to create a Tweet with duplicate content.",
            "type": "about:blank", "title": "Forbidden", "status": 403}, body
        assert not fx.tweets


def test_reply_to_unknown_or_deleted_tweet_is_403():
    with Fake() as (fx, api):
        status, _, body = api.call("POST", "tweets", auth="oauth1", body={
            "text": "hi", "reply": {"in_reply_to_tweet_id": "1234567890123456789"}})
        assert status == 403 and "deleted or not visible" in body["detail"], body
        gone = fx.add_mention()
        fx.delete_tweet(gone)
        status, _, _ = api.call("POST", "tweets", auth="oauth1", body={
            "text": "hi", "reply": {"in_reply_to_tweet_id": gone}})
        assert status == 403


def test_a_self_serve_app_may_reply_only_to_a_post_that_summoned_it():
    with Fake() as (fx, api):
        asked = fx.add_mention(text="@AcmeSupport where is my parcel?")
        brand = fx.add_brand_tweet("New blender out today")
        quote = fx.add_mention(text="look at this", quote_of=brand, author=("43", "bob", "Bob"))
        aside = fx.add_mention(text="still nothing", author=("42", "ann", "Ann Example"),
                               in_reply_to=asked, reply_to_brand=True)
        for ok in (asked, quote):
            status, _, _ = api.call("POST", "tweets", auth="oauth1", body={
                "text": f"on it {ok}", "reply": {"in_reply_to_tweet_id": ok}})
            assert status == 201, ok
        status, headers, body = api.call("POST", "tweets", auth="oauth1", body={
            "text": "on it", "reply": {"in_reply_to_tweet_id": aside}})
        assert status == 403, body
        assert body["type"] == "https://api.x.com/2/problems/disallowed-resource", body
        assert body["resource_id"] == aside and "mentioned" in body["detail"], body
        assert len(fx.tweets) == 2
        fx.self_serve = False      # a legacy (Basic/Pro) app may still reply anywhere
        status, _, _ = api.call("POST", "tweets", auth="oauth1", body={
            "text": "on it", "reply": {"in_reply_to_tweet_id": aside}})
        assert status == 201


def test_delete_tweet_only_the_accounts_own_with_user_auth_and_404_for_unknown():
    with Fake() as (fx, api):
        mention = fx.add_mention("@AcmeSupport help")
        status, _, body = api.call("POST", "tweets", auth="oauth1", body={
            "text": "On it ^JP", "reply": {"in_reply_to_tweet_id": mention}})
        ours = body["data"]["id"]
        status, hdrs, body = api.call("DELETE", f"tweets/{ours}", auth="oauth1")
        assert status == 200 and body == {"data": {"deleted": True}}, body
        assert hdrs["x-rate-limit-limit"] == "50", hdrs
        assert [d["id"] for d in fx.deleted] == [ours] and fx.tweet(ours)["deleted"]
        status, _, body = api.call("DELETE", f"tweets/{ours}", auth="oauth2")
        assert status == 404 and body["status"] == 404, body          # gone already
        assert api.call("DELETE", "tweets/1234567890123456789", auth="oauth1")[0] == 404
        status, _, body = api.call("DELETE", f"tweets/{mention}", auth="oauth1")
        assert status == 403 and "did not create" in body["detail"], body   # the customer's
        assert api.call("DELETE", f"tweets/{ours}", auth="bearer")[0] == 403
        expect_errors(fx, "app-only Bearer")
        # the text is free again: X refuses duplicates of live posts only
        status, _, _ = api.call("POST", "tweets", auth="oauth1", body={
            "text": "On it ^JP", "reply": {"in_reply_to_tweet_id": mention}})
        assert status == 201
        fx.rate_limits = dict(fx.rate_limits, delete=(1, 900))
        mine = fx.add_brand_tweet("one")
        assert api.call("DELETE", f"tweets/{mine}", auth="oauth1")[0] == 200
        assert api.call("DELETE", f"tweets/{fx.add_brand_tweet('two')}", auth="oauth1")[0] == 429


def test_app_only_bearer_cannot_post():
    with Fake() as (fx, api):
        for path, body in (("tweets", {"text": "x"}),
                           ("dm_conversations/with/42/messages", {"text": "x"})):
            status, _, got = api.call("POST", path, auth="bearer", body=body)
            assert status == 403 and got["title"] == "Unsupported Authentication", got
            assert got["type"] == "https://api.twitter.com/2/problems/unsupported-authentication"
        assert api.call("GET", "users/me", auth="bearer")[0] == 403
        expect_errors(fx, "app-only Bearer")


def test_tweet_bodies_are_checked_strictly():
    with Fake() as (fx, api):
        status, _, body = api.call("POST", "tweets", auth="oauth1", raw=b'{"text":"a"}',
                                   headers={"Content-Type": "text/plain"})
        assert status == 400 and "content-type of application/json" in \
            body["errors"][0]["message"], body
        m = fx.add_mention()
        status, _, body = api.call("POST", "tweets", auth="oauth1", body={
            "text": "a", "reply": {"in_reply_to_tweet_id": int(m)}})
        assert status == 400 and "integer found, string expected" in str(body), body
        status, _, body = api.call("POST", "tweets", auth="oauth1", body={"text": "a", "x": 1})
        assert status == 400 and "$.x: is not defined" in str(body), body
        status, _, body = api.call("POST", "tweets", auth="oauth1", body={"text": "é" * 281})
        assert status == 403 and "too long" in body["detail"], body
        status, _, _ = api.call("POST", "tweets", auth="oauth1", body={"text": "é" * 280})
        assert status == 201
        expect_errors(fx, "content-type", "integer found", "$.x", "weighs 281")


def test_dm_is_sent_unless_the_user_refuses_dms():
    with Fake() as (fx, api):
        fx.add_mention(author=("42", "ann", "Ann"))
        fx.add_mention(author=("43", "bob", "Bob"))
        fx.no_dm_users = {"43"}
        status, hdrs, body = api.call("POST", "dm_conversations/with/42/messages",
                                      auth="oauth2", body={"text": "Hi Ann"})
        assert status == 201 and body["data"]["dm_conversation_id"] == f"42-{BRAND}", body
        assert fx.dms[0]["participant_id"] == "42" and "x-user-limit-24hour-limit" in hdrs
        status, _, body = api.call("POST", "dm_conversations/with/43/messages",
                                   auth="oauth1", body={"text": "Hi Bob"})
        assert status == 403 and body["detail"] == "You cannot send messages to this user.", body
        status, _, _ = api.call("POST", "dm_conversations/with/42/messages",
                                auth="oauth1", body={"text": ""})
        assert status == 400 and len(fx.dms) == 1
        status, _, _ = api.call("POST", "dm_conversations/with/42/messages",
                                auth="oauth1", body={"text": "x" * 10001})
        assert status == 400 and len(fx.dms) == 1
        expect_errors(fx, "$.text: must be at least 1 characters", "between 1 and 10000")


# -- OAuth 2.0 ----------------------------------------------------------------

def refresh(api, token, client_id="cid", basic=None):
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": token,
                                   **({"client_id": client_id} if client_id else {})}).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return api.call("POST", "oauth2/token", auth=basic, raw=form, headers=headers)


def test_oauth2_refresh_rotates_and_the_old_token_dies():
    with Fake() as (fx, api):
        assert api.call("GET", "users/me", auth="oauth2")[0] == 200
        fx.expire_access_token()
        assert api.call("GET", "users/me", auth="oauth2")[0] == 401
        status, _, body = refresh(api, "rt-1")
        assert status == 200 and body["token_type"] == "bearer" and body["expires_in"] == 7200
        assert body["access_token"] != "at-1" and body["refresh_token"] != "rt-1", body
        assert api.call("GET", "users/me", auth="oauth2")[2]["data"]["username"] == "AcmeSupport"
        assert api.call("GET", "users/me", auth="Bearer at-1")[0] == 401
        status, _, body = refresh(api, "rt-1")
        assert status == 400 and body == {"error": "invalid_request", "error_description":
                                          "Value passed for the token was invalid."}, body
        assert refresh(api, body and fx.refresh_token)[0] == 200
        assert len(fx.refreshes) == 2 and not fx.errors, fx.errors


def test_confidential_client_must_use_basic_auth():
    with Fake(oauth2=dict(client_id="cid", client_secret="sec", access_token="a",
                          refresh_token="r")) as (fx, api):
        assert refresh(api, "r")[0] == 401
        expect_errors(fx, "Basic")
        basic = "Basic " + base64.b64encode(b"cid:sec").decode()
        assert refresh(api, "r", client_id=None, basic=basic)[0] == 200


def test_user_lookups():
    with Fake() as (fx, api):
        status, _, body = api.call("GET", "users/by/username/acmesupport")
        assert body == {"data": {"id": BRAND, "name": "AcmeSupport", "username": "AcmeSupport"}}
        status, _, body = api.call("GET", "users/by/username/nobody_here")
        assert status == 200 and body["errors"][0]["detail"] == \
            "Could not find user with username: [nobody_here].", body
        assert api.call("GET", "users/by/username/bad-name!")[0] == 400
        expect_errors(fx, "bad-name!")
        assert api.call("GET", "users/me", auth=None)[0] == 401
        expect_errors(fx, "Authorization")
        assert api.call("GET", "nope")[0] == 404
        expect_errors(fx, "no such endpoint")


# -- checked against X's published OpenAPI spec --------------------------------

def bot_mentions_query():
    """The query vigil's source/x.c sends for mentions, read from its source so
    this test follows the bot: (name, value) pairs."""
    with open(os.path.join(ROOT, "bot", "source", "x.c")) as f:
        src = f.read()
    macro = re.search(r"#define FIELDS((?:.*\\\n)*.*)", src).group(1)
    fields = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', macro))
    return [("max_results", "100"), ("since_id", "1")] + \
        urllib.parse.parse_qsl(fields.lstrip("&"), keep_blank_values=True)


def test_spec_passes_every_request_vigil_makes():
    with Fake() as (fx, api):
        m = fx.add_mention(author=("42", "ann", "Ann"))
        status, _, body = api.call("GET", MENTIONS, bot_mentions_query())
        assert status == 200 and body["data"][0]["id"] == m, body
        assert "includes" in body and "author_id" in body["data"][0], body
        assert api.call("GET", "users/by/username/AcmeSupport")[0] == 200
        assert api.call("GET", "users/me", auth="oauth2")[0] == 200
        assert api.call("POST", "tweets", auth="oauth1", body={
            "text": "On it ^JP", "reply": {"in_reply_to_tweet_id": m}})[0] == 201
        assert api.call("POST", "dm_conversations/with/42/messages", auth="oauth2",
                        body={"text": "Hi Ann"})[0] == 201
        assert refresh(api, "rt-1")[0] == 200    # not in the spec: the fake's own checks
        assert not fx.errors, fx.errors


def bot_own_posts_query():
    """The query vigil's source/x.c sends to read its own posts (the check
    behind a duplicate refusal), read from its source: (name, value) pairs."""
    with open(os.path.join(ROOT, "bot", "source", "x.c")) as f:
        src = f.read()
    fmt = re.search(r'"%susers/%s/tweets\?((?:[^"]|"\s*")*)"', src).group(1)
    query = re.sub(r'"\s*"', "", fmt).replace("%lld", "1")
    return urllib.parse.parse_qsl(query, keep_blank_values=True)


def test_own_posts_list_replies_newest_first_in_pages_like_x():
    with Fake() as (fx, api):
        m1 = fx.add_mention(author=("42", "ann", "Ann"))
        m2 = fx.add_mention(author=("43", "bob", "Bob"))
        first = fx.add_brand_tweet("Our sale starts today!")
        replies = [fx.add_brand_tweet(f"Thanks, on it {i} ^AJ", in_reply_to=m1 if i % 2 else m2)
                   for i in range(12)]
        params = bot_own_posts_query()
        assert dict(params)["since_id"] == "1" and "referenced_tweets" in \
            dict(params)["tweet.fields"], params
        status, _, body = api.call("GET", f"users/{BRAND}/tweets", params)
        assert status == 200, body
        ids = [t["id"] for t in body["data"]]
        assert ids == list(reversed(replies)) + [first], ids
        assert body["data"][0]["referenced_tweets"] == [{"type": "replied_to", "id": m1}]
        assert body["meta"]["result_count"] == 13 and "next_token" not in body["meta"]
        # pages of 5, since_id excluding the older posts, and the token keeps the query
        got, token = [], None
        while True:
            q = {"max_results": "5", "since_id": first, "tweet.fields": "referenced_tweets"}
            if token:
                q["pagination_token"] = token
            status, _, body = api.call("GET", f"users/{BRAND}/tweets", q)
            assert status == 200, body
            got += [t["id"] for t in body.get("data", [])]
            token = body["meta"].get("next_token")
            if not token:
                break
        assert got == list(reversed(replies)), got
        status, _, body = api.call("GET", f"users/{BRAND}/tweets",
                                   {"exclude": "replies", "max_results": "100"})
        assert [t["id"] for t in body["data"]] == [first], body
        fx.delete_tweet(replies[-1])
        assert [t["id"] for t in fx.posts_of()][-1] == replies[-2]
        assert not fx.errors, fx.errors
        # like every X read: declared parameters only, and ids with times is a 400
        status, _, body = api.call("GET", f"users/{BRAND}/tweets",
                                   {"since_id": first, "start_time": "2026-01-01T00:00:00Z"})
        assert status == 400, body
        expect_errors(fx, "Invalid use of 'since_id'")
        assert api.call("GET", f"users/{BRAND}/tweets", {"post.fields": "id"})[0] == 400
        expect_errors(fx, "post.fields")


def test_inject_on_own_posts():
    with Fake() as (fx, api):
        fx.inject("timeline", "503")
        assert api.call("GET", f"users/{BRAND}/tweets")[0] == 503
        assert api.call("GET", f"users/{BRAND}/tweets")[0] == 200


def test_spec_unknown_path_is_404_and_wrong_method_405_and_both_recorded():
    with Fake() as (fx, api):
        status, _, body = api.call("GET", "users/1500000000000000001/mentionz")
        assert status == 404 and body == {"errors": [{"message": "Sorry, that page does not"
                                                             " exist", "code": 34}]}, body
        expect_errors(fx, "mentionz: no such endpoint in X's API")
        status, hdrs, body = api.call("DELETE", MENTIONS)
        assert (status, hdrs["allow"], body["title"]) == (405, "GET", "Method Not Allowed"), body
        expect_errors(fx, "X's API has no DELETE /2/users/{id}/mentions, only GET")
        assert api.call("PUT", "tweets", auth="oauth1", body={"text": "a"})[0] == 405
        expect_errors(fx, "no PUT /2/tweets, only GET, POST")
        # in X's API, but not something this fake serves: a test would want to know
        assert api.call("GET", "tweets/search/recent", {"query": "a"})[0] == 404
        assert api.call("GET", "users/personalized_trends")[0] == 404   # not /2/users/{id}
        expect_errors(fx, "recent: X has this endpoint but the fake does not serve it",
                      "personalized_trends: X has this endpoint")


def test_spec_undeclared_query_parameter_is_400():
    with Fake() as (fx, api):
        status, _, body = api.call("GET", "users/me", {"count": "5"}, auth="oauth2")
        assert status == 400 and body["errors"][0]["message"].startswith(
            "The query parameter [count] is not one of [user.fields,expansions,tweet.fields]"), body
        # the spec's SDK spelling is not what X takes
        status, _, body = api.call("GET", MENTIONS, {"post.fields": "created_at"})
        assert status == 400 and "[post.fields] is not one of" in str(body), body
        status, _, body = api.call("POST", "tweets", {"dry_run": "true"}, auth="oauth2",
                                   body={"text": "a"})
        assert status == 400 and "[dry_run] is not one of []" in str(body) and not fx.tweets
        expect_errors(fx, "[count]", "[post.fields]", "[dry_run]")
        # X routes, then authenticates, then reads the parameters
        assert api.call("GET", MENTIONS, {"count": "5"}, auth=None)[0] == 401
        assert api.call("GET", "users/1/mentionz", auth=None)[0] == 404
        expect_errors(fx, "no usable Authorization header", "no such endpoint")


def test_spec_field_and_expansion_values_must_be_in_its_enums():
    with Fake() as (fx, api):
        fx.add_mention()
        status, _, body = api.call("GET", MENTIONS, {"tweet.fields": "created_at,likes"})
        message = body["errors"][0]["message"]
        assert status == 400 and len(body["errors"]) == 1, body
        assert message.startswith("The `tweet.fields` query parameter value [likes] is not one"
                                  " of [article,attachments,author_id,"), message
        assert "referenced_tweets" in message and "note_tweet" in message, message
        for name, value in (("expansions", "referenced_posts"), ("expansions", "pinned_tweet_id"),
                            ("user.fields", "email"), ("media.fields", "size"),
                            ("place.fields", "city"), ("poll.fields", "votes")):
            status, _, body = api.call("GET", MENTIONS, {name: value})
            assert status == 400 and f"`{name}` query parameter value [{value}] is not one of" \
                in body["errors"][0]["message"], (name, body)
        status, _, _ = api.call("GET", "users/by/username/ann", {"user.fields": "followers"})
        assert status == 400
        expect_errors(fx, "[likes]", "[referenced_posts]", "[pinned_tweet_id]", "[email]",
                      "[size]", "[city]", "[votes]", "[followers]")


def test_spec_values_meet_its_schema_constraints():
    with Fake() as (fx, api):
        cases = [({"max_results": "ten"}, "[ten] is not a valid integer"),
                 ({"max_results": "1000"}, "[1000] is not between 5 and 100"),
                 ({"until_id": "-5"}, "[-5] does not match ^[0-9]{1,19}$"),
                 ({"start_time": "yesterday"}, "[yesterday] is not a valid RFC3339 date-time"),
                 ({"tweet.fields": "lang,lang"}, "[lang,lang] has repeated items"),
                 ({"expansions": ""}, "The expansions query parameter can not be empty")]
        for params, complaint in cases:
            status, _, body = api.call("GET", MENTIONS, params)
            assert status == 400 and complaint in body["errors"][0]["message"], (params, body)
        assert api.call("GET", "users/12ab/mentions")[0] == 400
        assert api.call("POST", "dm_conversations/with/ann/messages", auth="oauth1",
                        body={"text": "hi"})[0] == 400 and not fx.dms
        expect_errors(fx, *[c for _, c in cases], "`id` query parameter value [12ab]",
                      "`participant_id` query parameter value [ann]")


def test_spec_bodies_must_match_its_schemas():
    with Fake() as (fx, api):
        m = fx.add_mention()
        cases = [({"text": "a", "reply": {}},
                  "$.reply.in_reply_to_tweet_id: is missing but it is required"),
                 ({"text": "a", "reply": {"in_reply_to_tweet_id": m, "user": "ann"}},
                  "$.reply.user: is not defined in the schema"),
                 ({"text": "a", "reply": {"in_reply_to_tweet_id": m[:-1] + "x"}},
                  "$.reply.in_reply_to_tweet_id: does not match ^[0-9]{1,19}$"),
                 ({"text": 5}, "$.text: integer found, string expected"),
                 ({"text": "a", "reply_settings": "everyone"}, "$.reply_settings: is not one of"),
                 ({"text": "a", "poll": {"options": ["yes"], "duration_minutes": 60}},
                  "$.poll.options: has 1 items, at least 2 expected"),
                 ({"text": "a", "nullcast": "yes"}, "$.nullcast: string found, boolean expected")]
        for payload, complaint in cases:
            status, _, body = api.call("POST", "tweets", auth="oauth1", body=payload)
            assert status == 400 and body["title"] == "Invalid Request" and \
                complaint in body["errors"][0]["message"], (payload, body)
        assert not fx.tweets
        status, _, body = api.call("POST", "dm_conversations/with/42/messages", auth="oauth1",
                                   body={"txt": "hi"})
        assert status == 400 and "matches 0 of the 2 schemas in its anyOf ($.text: is missing"\
            in str(body), body
        status, _, body = api.call("POST", "dm_conversations/with/42/messages", auth="oauth1",
                                   body=["hi"])
        assert status == 400 and "$: array found, object expected" in str(body), body
        status, _, body = api.call("POST", "tweets", auth="oauth1", raw=b'{"text": "a",}',
                                   headers={"Content-Type": "application/json"})
        assert status == 400 and "not valid JSON" in str(body), body
        expect_errors(fx, *[c for _, c in cases], "anyOf", "array found", "not valid JSON")


def test_spec_security_is_what_each_served_route_accepts():
    """The fake's own table of which credentials each route takes agrees with
    the spec's `security` (BearerToken, UserToken = OAuth 1.0a, OAuth2UserToken)."""
    fx = FakeX()
    kinds = {"BearerToken": "bearer", "UserToken": "oauth1", "OAuth2UserToken": "oauth2"}
    served = set()
    for template, item in fx.spec.doc["paths"].items():
        as_route = template_regex(template)
        for method, op in item.items():
            for route_method, pattern, _, _, auth in FakeX.ROUTES:
                if (route_method, pattern.pattern) == (method.upper(), as_route):
                    wanted = {kinds[k] for alt in op["security"] for k in alt}
                    assert set(auth) == wanted, (method, template, auth, wanted)
                    served.add(f"{route_method} {template}")
    # every route but the token endpoint (absent from the spec) was compared
    assert len(served) == len(FakeX.ROUTES) - 1, served


def test_schema_checker_handles_the_openapi_subset_x_uses():
    spec = FakeX().spec
    schema = {"type": "object", "required": ["id"], "additionalProperties": {"type": "integer"},
              "properties": {"id": {"$ref": "#/components/schemas/UserId"},
                             "note": {"type": "string", "nullable": True, "maxLength": 3},
                             "one": {"oneOf": [{"type": "string"}, {"minLength": 2}]},
                             "all": {"allOf": [{"type": "number", "minimum": 1},
                                               {"maximum": 2}]}}}
    assert schema_problems(spec, {"id": "1", "note": None, "n": 1, "one": 5, "all": 1.5},
                           schema, "$") == []
    got = {(w, c) for w, _, c in schema_problems(
        spec, {"note": "long", "n": "x", "one": "ab", "all": 3}, schema, "$")}
    assert got == {("$.id", "is missing but it is required"),
                   ("$.note", "may be at most 3 characters long"),
                   ("$.n", "string found, integer expected"),
                   ("$.one", "matches 2 of the 2 schemas in its oneOf"),
                   ("$.all", "is not at most 2")}, got


def test_spec_missing_fails_loudly():
    env = dict(os.environ, VIGIL_SPECS=os.path.join(ROOT, "no-such-folder"))
    p = subprocess.run([sys.executable, "-c", "import fake_x; fake_x.FakeX()"], cwd=HERE,
                       env=env, capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "VIGIL_SPECS" in p.stderr and "no-such-folder" in p.stderr, \
        p.stderr


def test_weighted_length_agrees_with_twitter_text_conformance():
    path = os.path.join(ROOT, "tests", "fixtures", "twitter-text", "weighted-cases.json")
    with open(path) as f:
        cases = json.load(f)["cases"]
    wrong = [c["description"] for c in cases
             if weighted_length(c["text"]) != (c["expected"]["weightedLength"],
                                               c["expected"]["valid"])]
    assert not wrong, wrong


def test_stop_drops_connections_and_restart_reuses_the_port():
    with Fake() as (fx, api):
        assert api.call("GET", MENTIONS)[0] == 200
        fx.stop()
        try:
            api.call("GET", MENTIONS)
            raise AssertionError("request served after stop()")
        except (ConnectionError, http.client.RemoteDisconnected, OSError):
            pass
        fx.start()
        api.reconnect()
        assert api.call("GET", MENTIONS)[0] == 200


def test_wait_helpers_time_out_with_a_clear_message():
    with Fake() as (fx, _):
        try:
            fx.wait_tweets(1, timeout=0.2)
            raise AssertionError("no timeout")
        except AssertionError as e:
            assert "waiting for 1 tweet(s)" in str(e), e


def test_command_line_serves_until_sigterm():
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_x.py"), "--port", "0",
                          "--mentions", "120"], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("READY http://127.0.0.1:") and line.endswith("/2/"), line
        port = int(line.split(":")[2].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", f"/2/{MENTIONS}?max_results=100",
                     headers={"Authorization": "Bearer AAAA-test-bearer"})
        body = json.loads(conn.getresponse().read())
        assert body["meta"]["result_count"] == 100 and "next_token" in body["meta"], body["meta"]
        conn.close()
        p.send_signal(signal.SIGTERM)
        assert p.wait(5) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    filters = sys.argv[1:]
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)
             and (not filters or any(x in n for x in filters))]
    passed = failed = 0
    for name, fn in tests:
        t0 = time.monotonic()
        try:
            fn()
        except Exception:  # noqa: BLE001 - every failure is reported
            failed += 1
            tb = traceback.format_exc().strip().splitlines()
            print(f"FAIL {name} ({time.monotonic() - t0:.1f}s): {tb[-1]}")
            print("   " + "\n   ".join(tb[-6:-1]))
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - t0:.1f}s)", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
