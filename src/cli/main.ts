#!/usr/bin/env node
import { ForwarderError, errorMessage } from '../lib/errors';
import { UsageError, helpText, type CommandSpec } from './args';
import { backfillCommand, runBackfill } from './backfill';
import { convertCommand, runConvert } from './convert';
import { demoCommand, runDemo } from './demo';
import { processIO, type CommandIO } from './io';
import { replayCommand, runReplay } from './replay';
import { runSimulate, simulateCommand } from './simulate';

/** `flowlog-forwarder <command>`: exit 0 when it worked, 1 when it failed, 2 for a bad command line or setting. */

const COMMANDS: [CommandSpec, (argv: readonly string[], io: CommandIO) => Promise<number>][] = [
  [convertCommand, runConvert],
  [backfillCommand, runBackfill],
  [replayCommand, runReplay],
  [simulateCommand, runSimulate],
  [demoCommand, runDemo],
];

function overview(): string {
  const width = Math.max(...COMMANDS.map(([spec]) => spec.name.length)) + 2;
  return [
    'Usage: flowlog-forwarder <command> [options]',
    '',
    'Forwards Azure VNet and NSG flow logs from Blob Storage to Event Hubs, each record once.',
    'Settings come from the same environment variables as the function (see README), flags override them.',
    '',
    'Commands:',
    ...COMMANDS.map(([spec]) => `  ${spec.name.padEnd(width)}${spec.summary.split('\n')[0] ?? ''}`),
    '',
    'Run "flowlog-forwarder <command> --help" for its options.',
  ].join('\n');
}

export async function main(argv: readonly string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find(([spec]) => spec.name === name);
  if (!command) {
    io.stderr.write(`flowlog-forwarder: unknown command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  const [spec, run] = command;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${helpText(spec)}\n`);
    return 0;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\nRun "flowlog-forwarder ${spec.name} --help" for its options.\n`);
      return 2;
    }
    if (error instanceof ForwarderError && error.code === 'CONFIG') {
      io.stderr.write(`${spec.name}: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`${spec.name} failed: ${errorMessage(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), processIO()).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`flowlog-forwarder: ${errorMessage(error)}\n`);
      process.exitCode = 1;
    },
  );
}
