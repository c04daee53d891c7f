#!/usr/bin/env node
'use strict';
/**
 * One-command deployment of flowlog-forwarder (plain CommonJS: runs without a build).
 *
 *   npm run deploy -- --resource-group RG --name PREFIX [--location REGION] [--parameters FILE] [--dry-run]
 *
 * Phase 1  az deployment group create  (infrastructure, createEventSubscription=false)
 * Phase 2  npm run build, func azure functionapp publish <app>, wait until the function is listed
 * Phase 3  az deployment group create  (same, createEventSubscription=true)
 *
 * Event Grid refuses to create a subscription to a function that does not exist yet, hence the
 * two passes. Every step is idempotent: ARM deployments are declarative (incremental mode, fixed
 * deployment name, deterministic resource names) and publishing the same build again changes
 * nothing, so a second run leaves everything as it was.
 *
 * Exit codes: 0 success, 1 failure (missing tool, not logged in, a command failed), 2 usage.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

const REPO_ROOT = path.resolve(__dirname, '..');
const TEMPLATE_FILE = path.join('infra', 'main.bicep');
const DEFAULT_PARAMETERS_FILE = path.join('infra', 'main.parameters.json');
const FUNCTION_NAME = 'forwardFlowLogs';
const FUNCTION_WAIT_ATTEMPTS = 12;
const FUNCTION_WAIT_SECONDS = 10;
const IS_WINDOWS = process.platform === 'win32';

const USAGE = `Usage: npm run deploy -- --resource-group <group> --name <prefix> [options]

  -g, --resource-group <group>  resource group to deploy into (created when --location is given)
  -n, --name <prefix>           name prefix: 2-12 lowercase letters, digits or hyphens
  -l, --location <region>       region of the app; also creates the resource group if needed
  -p, --parameters <file>       parameters file (default: ${DEFAULT_PARAMETERS_FILE})
      --dry-run                 print the commands of the three phases without running them
  -h, --help                    show this help

Requires the Azure CLI (az, logged in with az login) and Azure Functions Core Tools (func).`;

/** Bad command line: exit code 2. */
class UsageError extends Error {}
/** Anything that stops the deployment: exit code 1. */
class DeployError extends Error {}

function parseArguments(argv) {
  const options = {
    resourceGroup: undefined,
    name: undefined,
    location: undefined,
    parametersFile: path.join(REPO_ROOT, DEFAULT_PARAMETERS_FILE),
    dryRun: false,
    help: false,
  };
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    const equals = argument.startsWith('--') ? argument.indexOf('=') : -1;
    const flag = equals === -1 ? argument : argument.slice(0, equals);
    const inlineValue = equals === -1 ? undefined : argument.slice(equals + 1);
    const takeValue = () => {
      if (inlineValue !== undefined) return inlineValue;
      const next = argv[index + 1];
      if (next === undefined || next.startsWith('-')) throw new UsageError(`${flag} needs a value`);
      index += 1;
      return next;
    };
    switch (flag) {
      case '-g':
      case '--resource-group':
        options.resourceGroup = takeValue();
        break;
      case '-n':
      case '--name':
        options.name = takeValue();
        break;
      case '-l':
      case '--location':
        options.location = takeValue();
        break;
      case '-p':
      case '--parameters':
        options.parametersFile = path.resolve(takeValue());
        break;
      case '--dry-run':
        options.dryRun = true;
        break;
      case '-h':
      case '--help':
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown argument: ${argument}`);
    }
  }
  if (options.help) return options;
  if (!options.resourceGroup) throw new UsageError('--resource-group is required');
  if (!options.name) throw new UsageError('--name is required');
  // Mirrors main.bicep's namePrefix (2-12 characters) and keeps storage account names valid.
  if (!/^[a-z][a-z0-9-]{1,11}$/.test(options.name)) {
    throw new UsageError('--name must be 2-12 lowercase letters, digits or hyphens, starting with a letter');
  }
  if (!fs.existsSync(options.parametersFile)) {
    throw new UsageError(`parameters file not found: ${options.parametersFile}`);
  }
  return options;
}

function isExecutableFile(candidate) {
  try {
    if (!fs.statSync(candidate).isFile()) return false;
    if (!IS_WINDOWS) fs.accessSync(candidate, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Full path of `command` in `preferredDirectories` or on PATH, or undefined. */
function findExecutable(command, preferredDirectories = []) {
  const extensions = IS_WINDOWS ? (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';') : [''];
  const directories = [...preferredDirectories, ...(process.env.PATH || '').split(path.delimiter)].filter(Boolean);
  for (const directory of directories) {
    for (const extension of extensions) {
      const candidate = path.join(directory, command + extension);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** POSIX-style quoting, only for printing commands. */
function displayArgument(argument) {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, `'\\''`)}'`;
}

function display(command, args) {
  return [command, ...args].map(displayArgument).join(' ');
}

/** cmd.exe quoting: .cmd shims (az.cmd, func.cmd, npm.cmd) can only be started through a shell. */
function windowsShellArgument(argument) {
  return /^[\w@%+=:,./\\-]+$/.test(argument) ? argument : `"${argument.replace(/"/g, '""')}"`;
}

/**
 * Runs a command in the repository root. Output is shown as it happens, except stdout when
 * `capture` is set (then returned). Throws DeployError on failure.
 */
function run(tool, args, { capture = false, quiet = false } = {}) {
  const useShell = IS_WINDOWS && /\.(cmd|bat)$/i.test(tool.path);
  const result = spawnSync(
    useShell ? windowsShellArgument(tool.path) : tool.path,
    useShell ? args.map(windowsShellArgument) : args,
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      shell: useShell,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['inherit', capture ? 'pipe' : 'inherit', quiet ? 'pipe' : 'inherit'],
    },
  );
  if (result.error) throw new DeployError(`could not start ${tool.name}: ${result.error.message}`);
  if (result.status !== 0) {
    const detail = quiet && result.stderr ? `\n${result.stderr.trim()}` : '';
    throw new DeployError(`${display(tool.name, args)} failed with exit code ${result.status}${detail}`);
  }
  return result.stdout || '';
}

function sleep(seconds) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

/** Finds az, func and npm. Missing ones are an error, or only a note in a dry run. */
function locateTools(dryRun) {
  const localBin = path.join(REPO_ROOT, 'node_modules', '.bin');
  const tools = {
    az: { name: 'az', path: findExecutable('az') },
    func: { name: 'func', path: findExecutable('func', [localBin]) },
    npm: { name: 'npm', path: findExecutable('npm') },
  };
  const missing = [];
  if (!tools.az.path) {
    missing.push('az (Azure CLI) was not found on PATH: install it from https://learn.microsoft.com/cli/azure/install-azure-cli');
  }
  if (!tools.func.path) {
    missing.push(
      'func (Azure Functions Core Tools 4) was not found in node_modules/.bin or on PATH: `npm install` installs it as the ' +
        'optional dependency azure-functions-core-tools (its installer needs internet access), or see ' +
        'https://learn.microsoft.com/azure/azure-functions/functions-run-local',
    );
  }
  if (!tools.npm.path && !process.env.npm_execpath) missing.push('npm was not found on PATH (needed for npm run build)');
  if (missing.length > 0) {
    if (!dryRun) throw new DeployError(`missing required tools:\n  - ${missing.join('\n  - ')}`);
    for (const line of missing) console.error(`note: ${line}`);
  }
  for (const tool of Object.values(tools)) tool.path = tool.path || tool.name;
  return tools;
}

/** Fails early, with the fix, when az is not logged in or func does not start. */
function checkTools(tools) {
  let account;
  try {
    account = JSON.parse(run(tools.az, ['account', 'show', '--output', 'json'], { capture: true, quiet: true }));
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    throw new DeployError(`az is not logged in (az account show failed): run \`az login\`, then \`az account set --subscription <id>\`\n${error.message}`);
  }
  console.log(`Subscription: ${account.name} (${account.id})`);
  try {
    run(tools.func, ['--version'], { capture: true, quiet: true });
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    throw new DeployError(`func (Azure Functions Core Tools) is installed at ${tools.func.path} but does not run; reinstall it\n${error.message}`);
  }
}

/** Commands run in the repository root: shorter paths there, absolute ones elsewhere. */
function repoRelative(file) {
  const relative = path.relative(REPO_ROOT, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function deploymentArguments(options, createEventSubscription) {
  const args = [
    'deployment', 'group', 'create',
    '--resource-group', options.resourceGroup,
    // A fixed deployment name: reruns replace the same history entry.
    '--name', `flowlog-forwarder-${options.name}`,
    '--template-file', TEMPLATE_FILE,
    '--parameters', `@${repoRelative(options.parametersFile)}`,
    '--parameters', `namePrefix=${options.name}`, `createEventSubscription=${createEventSubscription}`,
  ];
  if (options.location) args.push(`location=${options.location}`);
  args.push('--query', 'properties.outputs', '--output', 'json');
  return args;
}

function npmBuild(tools) {
  // Under `npm run`, npm_execpath is npm's own CLI script: the same npm, on every platform.
  if (process.env.npm_execpath && /\.c?js$/.test(process.env.npm_execpath)) {
    return { tool: { name: 'npm', path: process.execPath }, args: [process.env.npm_execpath, 'run', 'build'], shown: ['run', 'build'] };
  }
  return { tool: tools.npm, args: ['run', 'build'], shown: ['run', 'build'] };
}

function phase(number, title) {
  console.log(`\n==> Phase ${number}/3: ${title}`);
}

function step(tool, args, options, runOptions = {}) {
  console.log(`$ ${display(tool.name, args)}`);
  return options.dryRun ? '' : run(tool, args, runOptions);
}

function functionAppNameFrom(outputsJson) {
  let outputs;
  try {
    outputs = JSON.parse(outputsJson);
  } catch {
    throw new DeployError('could not read the deployment outputs (expected JSON from az deployment group create)');
  }
  const name = outputs && outputs.functionAppName && outputs.functionAppName.value;
  if (typeof name !== 'string' || name === '') throw new DeployError('the deployment did not output functionAppName');
  return name;
}

/** The function must be listed before Event Grid accepts it as a subscription endpoint. */
function waitForFunction(tools, options, functionAppName) {
  const args = [
    'functionapp', 'function', 'show',
    '--resource-group', options.resourceGroup,
    '--name', functionAppName,
    '--function-name', FUNCTION_NAME,
    '--query', 'name', '--output', 'tsv',
  ];
  console.log(`$ ${display('az', args)}   (until ${FUNCTION_NAME} is listed)`);
  if (options.dryRun) return;
  for (let attempt = 1; attempt <= FUNCTION_WAIT_ATTEMPTS; attempt += 1) {
    try {
      run(tools.az, args, { capture: true, quiet: true });
      return;
    } catch (error) {
      if (!(error instanceof DeployError)) throw error;
      if (attempt === FUNCTION_WAIT_ATTEMPTS) {
        // Not fatal: the listing can lag behind the host; phase 3 is the real test.
        console.log(`  ${FUNCTION_NAME} is still not listed; continuing (phase 3 fails clearly if Event Grid cannot find it)`);
        return;
      }
      console.log(`  not listed yet, retrying in ${FUNCTION_WAIT_SECONDS} s (${attempt}/${FUNCTION_WAIT_ATTEMPTS})`);
      sleep(FUNCTION_WAIT_SECONDS);
    }
  }
}

function deploy(options) {
  const tools = locateTools(options.dryRun);
  if (options.dryRun) console.log('Dry run: printing the commands without running them.');
  else checkTools(tools);

  phase(1, 'provision the infrastructure (without the Event Grid subscription)');
  if (options.location) {
    step(tools.az, ['group', 'create', '--name', options.resourceGroup, '--location', options.location, '--output', 'none'], options);
  }
  const outputs = step(tools.az, deploymentArguments(options, false), options, { capture: true });
  const functionAppName = options.dryRun ? '<functionAppName output of phase 1>' : functionAppNameFrom(outputs);
  console.log(`Function app: ${functionAppName}`);

  phase(2, 'build and publish the function code');
  const build = npmBuild(tools);
  console.log(`$ ${display('npm', build.shown)}`);
  if (!options.dryRun) run(build.tool, build.args);
  step(tools.func, ['azure', 'functionapp', 'publish', functionAppName], options);
  waitForFunction(tools, options, functionAppName);

  phase(3, 'provision again with the Event Grid subscription (createEventSubscription=true)');
  try {
    step(tools.az, deploymentArguments(options, true), options, { capture: true });
  } catch (error) {
    if (!(error instanceof DeployError)) throw error;
    throw new DeployError(
      `${error.message}\nIf Event Grid reported "Destination endpoint not found", ${FUNCTION_NAME} is not registered on ` +
        `${functionAppName} yet: wait a minute and run the same command again (every phase is idempotent).`,
    );
  }

  console.log(options.dryRun ? '\nDry run complete.' : `\nDeployed: ${functionAppName} receives flow-log events.`);
}

function main(argv) {
  let options;
  try {
    options = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`deploy: ${error.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (options.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  try {
    deploy(options);
    return EXIT_OK;
  } catch (error) {
    console.error(`deploy: ${error instanceof DeployError ? error.message : error && error.stack ? error.stack : String(error)}`);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { parseArguments, deploymentArguments, main };
