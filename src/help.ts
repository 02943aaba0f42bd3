/**
 * oclif's help, with topics told apart from commands correctly: oclif counts a topic as having children when another
 * topic's name merely contains `<name>:` (so `whitelist:add` made `list` a topic, shown under TOPICS as well as under
 * COMMANDS). Here a topic is one that another command or topic starts with `<name>:`.
 */
import {Help} from '@oclif/core'

export default class BastionHelp extends Help {
  protected override get sortedTopics() {
    const names = [...this.config.topics.map((t) => t.name), ...this.config.commandIDs]
    return super.sortedTopics.filter((t) => names.some((n) => n.startsWith(`${t.name}:`)))
  }
}
