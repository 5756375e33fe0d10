// A step's stdout as a person reads it in GitHub's log viewer, for the demo: masks registered with
// `::add-mask::` hide their values (***) and are not shown, `::debug::` lines are hidden (as without step
// debugging), groups are headed with ▸ and their lines indented, annotations read "Warning: …" with their
// title, and `::stop-commands::` turns command parsing off until its token comes back, as the runner does
// (actions/runner ActionCommandManager). Also reads a GITHUB_OUTPUT file (name<<delimiter … delimiter).

const COMMAND = /^\s*::([^\s:]+)(?: ([^:]*))?::(.*)$/

/** The runner's escaping of command data (%25, %0D, %0A) and of property values (also %3A, %2C). */
function unescapeData(text) {
  return text.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%25', '%')
}
function unescapeProperty(text) {
  return unescapeData(text.replaceAll('%3A', ':').replaceAll('%2C', ','))
}

function propertiesOf(text) {
  const properties = {}
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at > 0) properties[pair.slice(0, at).trim()] = unescapeProperty(pair.slice(at + 1))
  }
  return properties
}

const ANNOTATIONS = { notice: 'Notice', warning: 'Warning', error: 'Error' }

/** A renderer that calls `write` with each line a person would see. */
export function createRunnerLog(write) {
  const masks = []
  let stopToken
  let inGroup = false
  const mask = (text) => masks.reduce((shown, secret) => shown.split(secret).join('***'), text)
  const say = (text) => {
    for (const line of mask(text).split('\n')) write(inGroup ? `  ${line}` : line)
  }
  return {
    line(raw) {
      const match = COMMAND.exec(raw)
      if (stopToken !== undefined) {
        if (match && match[1] === stopToken) stopToken = undefined
        else say(raw)
        return
      }
      if (!match) return say(raw)
      const [, name, props, data] = match
      const command = name.toLowerCase()
      if (command === 'add-mask') {
        const secret = unescapeData(data)
        if (secret !== '' && !masks.includes(secret)) {
          masks.push(secret)
          // Longer secrets first, so that one containing another is hidden whole.
          masks.sort((a, b) => b.length - a.length)
        }
      } else if (command === 'debug') {
        return
      } else if (command === 'stop-commands') {
        stopToken = data
      } else if (command === 'group') {
        inGroup = false
        say(`▸ ${unescapeData(data)}`)
        inGroup = true
      } else if (command === 'endgroup') {
        inGroup = false
      } else if (command in ANNOTATIONS) {
        const { title } = propertiesOf(props)
        say(`${ANNOTATIONS[command]}${title ? ` (${title})` : ''}: ${unescapeData(data)}`)
      } else {
        say(raw)
      }
    },
    /** Masks a text the same way (the summary and outputs the demo prints after the step). */
    mask
  }
}

/** The outputs a GITHUB_OUTPUT file sets, by name, in the order set. */
export function readOutputs(text) {
  const outputs = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const end = lines.indexOf(delimiter, i + 1)
      if (end < 0) break
      outputs[name] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i].includes('=')) {
      outputs[lines[i].slice(0, lines[i].indexOf('='))] = lines[i].slice(lines[i].indexOf('=') + 1)
    }
  }
  return outputs
}
