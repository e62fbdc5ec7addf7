#!/usr/bin/env node
/**
 * The `switchboard` bin (`npx switchboard`, or `switchboard` once installed): with no command, or `start`, it runs
 * the gateway exactly as `node dist/index.js` does (configured from the environment). Other subcommands are
 * entries in COMMANDS, each loaded only when asked for, so starting the gateway parses none of them.
 */

const USAGE = `Usage: switchboard [command]

Commands:
  start   start the gateway (the default); configured by environment variables, see README "Running in production"
  help    print this message`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  // The entry point runs main() when it is loaded: it installs the SIGTERM/SIGINT handlers that drain and exit.
  start: async () => {
    await import('./index.js');
  },
  // `check-config <file>` belongs here once src/cli/check-config.ts (the config file's validator) exists:
  //   'check-config': async ([path]) => { const { checkConfig } = await import('./cli/check-config.js'); ... },
};

const [name = 'start', ...args] = process.argv.slice(2);
if (name === 'help' || name === '--help' || name === '-h') {
  console.log(USAGE);
} else {
  const command = COMMANDS[name];
  if (command) {
    await command(args);
  } else {
    console.error(`switchboard: unknown command '${name}'\n\n${USAGE}`);
    process.exitCode = 2;
  }
}
