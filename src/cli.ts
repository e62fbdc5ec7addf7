#!/usr/bin/env node
/**
 * The `switchboard` bin (`npx switchboard`, or `switchboard` once installed): with no command, or `start`, it runs
 * the gateway exactly as `node dist/index.js` does (configured from the environment). Other subcommands are
 * entries in COMMANDS, each loaded only when asked for, so starting the gateway parses none of them.
 */

const USAGE = `Usage: switchboard [command]

Commands:
  start                  start the gateway (the default); configured by environment variables and the config file,
                         see README "Running in production" and "Configuration file"
  check-config [file]    validate the config file and the environment without starting (exit 0 ok, 1 not)
  help    print this message`;

type Command = (args: string[]) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  // The entry point runs main() when it is loaded: it installs the SIGTERM/SIGINT handlers that drain and exit.
  start: async () => {
    await import('./index.js');
  },
  // Validates the config file (or ./switchboard.yaml, or SWITCHBOARD_CONFIG) with the environment, without starting.
  'check-config': async ([path]) => {
    const { runCheckConfig } = await import('./cli/check-config.js');
    runCheckConfig(path);
  },
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
