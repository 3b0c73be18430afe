// Hubot adapter for the benchmark: @hubot-friends/hubot-slack, unchanged, with
// both of its Slack clients pointed at the local fake (BENCH_SLACK_API_URL).
//
// Why a wrapper: the adapter builds its bot WebClient without a slackApiUrl
// option (only the Socket Mode client is configurable, through
// HUBOT_SLACK_SOCKET_MODE_OPTS), so it would always call https://slack.com.
// But SlackBot's constructor takes ready-made `web` and `socket` clients
// (options.web / options.socket), so we build both here, the same way the
// adapter would, plus slackApiUrl, and leave every other line of it alone.
// Loaded with `hubot --file ./fake-slack-adapter.mjs` (see start.sh).
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import '@hubot-friends/hubot-slack' // for its side effect: it adds Robot extensions
import { SlackBot } from '@hubot-friends/hubot-slack/src/Bot.mjs'

// Resolve the Slack SDKs from the adapter's own location, so we get exactly
// the copies (and versions) it imports, whatever npm decided to hoist.
const fromAdapter = createRequire(import.meta.resolve('@hubot-friends/hubot-slack'))
const load = async (name) => import(pathToFileURL(fromAdapter.resolve(name)).href)
const { WebClient } = await load('@slack/web-api')
const { SocketModeClient } = await load('@slack/socket-mode')

// The benchmark must never leave the machine: refuse anything but the fake.
const API_URL_RE = /^http:\/\/127\.0\.0\.1:\d{1,5}\/api\/$/

export default {
  use (robot) {
    const apiUrl = process.env.BENCH_SLACK_API_URL ?? ''
    if (!API_URL_RE.test(apiUrl)) {
      throw new Error(`BENCH_SLACK_API_URL must look like http://127.0.0.1:PORT/api/ (got ${JSON.stringify(apiUrl)})`)
    }
    const appToken = process.env.HUBOT_SLACK_APP_TOKEN
    const botToken = process.env.HUBOT_SLACK_BOT_TOKEN
    let socketOpts = {}
    try { // the adapter's own knob, still honoured
      socketOpts = JSON.parse(process.env.HUBOT_SLACK_SOCKET_MODE_OPTS || '{}')
    } catch (e) {
      robot.logger.error(e, 'HUBOT_SLACK_SOCKET_MODE_OPTS is not JSON; ignored')
    }
    const socket = new SocketModeClient({
      appToken,
      logLevel: 'error', // its default is info: one line per (re)connect
      ...socketOpts,
      // apps.connections.open goes through this client's own WebClient
      clientOptions: { ...socketOpts.clientOptions, slackApiUrl: apiUrl }
    })
    // Same options the adapter uses for its own WebClient, plus the URL.
    const web = new WebClient(botToken, { maxRequestConcurrency: 1, logLevel: 'error', slackApiUrl: apiUrl })
    const bot = new SlackBot(robot, {
      // the same option set the adapter's index.mjs reads from the environment
      appToken,
      botToken,
      disableUserSync: process.env.DISABLE_USER_SYNC != null,
      apiPageSize: process.env.API_PAGE_SIZE,
      installedTeamOnly: process.env.INSTALLED_TEAM_ONLY != null,
      socketModeOptions: socketOpts,
      socket,
      web
    })
    announceReady(robot, bot)
    stopOnSigterm(robot, socket)
    return bot
  }
}

// Prints "READY" once scripts are loaded (Hubot loads them only after the
// socket's hello) and auth.test has answered (events that arrive before that
// are dropped by the adapter), so a driver knows when to start sending.
function announceReady (robot, bot) {
  robot.on('scripts have loaded', () => {
    const check = () => {
      if (bot.self) {
        process.stdout.write('READY\n')
      } else {
        setTimeout(check, 5)
      }
    }
    check()
  })
}

// Hubot itself installs no SIGTERM handler, so node would die without a
// websocket close frame.  Close the socket properly (bounded wait), then exit.
function stopOnSigterm (robot, socket) {
  process.once('SIGTERM', async () => {
    const timeout = new Promise((resolve) => setTimeout(resolve, 2000).unref())
    await Promise.race([socket.disconnect(), timeout])
    robot.shutdown()
    process.exit(0)
  })
}
