// Description:
//   whoami for the Hubot-vs-vigil benchmark: answers like vigil's whoami
//   (scripts/whoami.lua), with a fixed role and initials, since Hubot has
//   neither.
//
// Commands:
//   whoami - Your name and chat id
//
// Notes:
//   The benchmark posts a plain channel message "whoami" that does not address
//   the bot, so this is `hear` (every message), anchored so that only the exact
//   text matches.
module.exports = (robot) => {
  robot.hear(/^whoami$/, (res) => {
    const user = res.message.user
    // the name Hubot resolved (users.list / users.info), else the bare id
    const name = user.name || user.id
    res.send(`You are ${name} (${user.id}), agent. Your replies are signed ^??.`)
  })
}
