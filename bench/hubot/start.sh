#!/bin/sh
# Starts Hubot with the Slack adapter in Socket Mode against a local fake Slack
# (tests/fakes/fake_slack.py), for benchmarks.  Install first: npm ci (here).
#
# Environment (required):
#   BENCH_SLACK_API_URL    the fake's Web API base, http://127.0.0.1:PORT/api/
#                          (anything else is refused: no traffic leaves the host)
#   HUBOT_SLACK_APP_TOKEN  app-level token, xapp-...  (apps.connections.open)
#   HUBOT_SLACK_BOT_TOKEN  bot token, xoxb-...         (every other call)
# Optional:
#   HUBOT_LOG_LEVEL        pino level, default error (logging must not dominate)
#
# Prints READY on stdout once it can answer.  SIGTERM closes the websocket
# and exits 0.
set -eu
cd "$(dirname "$0")"   # Hubot loads ./scripts relative to the working dir
: "${BENCH_SLACK_API_URL:?set BENCH_SLACK_API_URL=http://127.0.0.1:PORT/api/}"
: "${HUBOT_SLACK_APP_TOKEN:?set HUBOT_SLACK_APP_TOKEN=xapp-...}"
: "${HUBOT_SLACK_BOT_TOKEN:?set HUBOT_SLACK_BOT_TOKEN=xoxb-...}"
export HUBOT_LOG_LEVEL="${HUBOT_LOG_LEVEL:-error}"
# No express web server: it would listen on 0.0.0.0:8080 by default.
export HUBOT_HTTPD=false
# exec: the benchmark's PID is node itself (for RSS and for SIGTERM).
# --disable-httpd last: Hubot's parser would take a following word as its value.
exec node node_modules/hubot/bin/hubot --name hubot --file ./fake-slack-adapter.mjs --disable-httpd
