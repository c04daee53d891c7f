/**
 * scripts/deploy.js without Azure: --dry-run, usage errors, missing tools, not logged in, and a
 * full run against stand-in az/func/npm executables that record how they were called.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const DEPLOY_SCRIPT = path.join(REPO_ROOT, 'scripts', 'deploy.js');
const POSIX_ONLY = process.platform === 'win32' ? it.skip : it;

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script with node's absolute path, so PATH can be anything. */
function runDeploy(args: readonly string[], env: NodeJS.ProcessEnv = process.env): RunResult {
  const childEnv = { ...env };
  // Under `npm test`, npm_execpath points at npm; the script would use it for the build step.
  delete childEnv.npm_execpath;
  const result = spawnSync(process.execPath, [DEPLOY_SCRIPT, ...args], { cwd: REPO_ROOT, env: childEnv, encoding: 'utf8', timeout: 30000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A directory holding only a link to node: a PATH without az, func or npm. */
function pathWithOnlyNode(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-path-'));
  fs.symlinkSync(process.execPath, path.join(directory, path.basename(process.execPath)));
  return directory;
}

/** Text of the phase sections: [before phase 1, phase 1, phase 2, phase 3]. */
function phaseSections(stdout: string): string[] {
  return stdout.split(/^==> Phase \d\/3: /m);
}

describe('deploy script', () => {
  it('--dry-run prints the three phases in order, with the subscription only in the third', () => {
    const result = runDeploy(['--resource-group', 'rg-flowlogs', '--name', 'flowfwd', '--location', 'westeurope', '--dry-run']);
    expect(result.status).toBe(0);
    const sections = phaseSections(result.stdout);
    expect(sections).toHaveLength(4);
    const [, provision, publish, subscribe] = sections;

    expect(provision).toMatch(/^\$ az group create --name rg-flowlogs --location westeurope/m);
    expect(provision).toMatch(/^\$ az deployment group create --resource-group rg-flowlogs .*--template-file infra\/main\.bicep .*namePrefix=flowfwd createEventSubscription=false/m);
    expect(provision).not.toContain('createEventSubscription=true');

    expect(publish).toMatch(/^\$ npm run build$/m);
    expect(publish).toMatch(/^\$ func azure functionapp publish /m);
    expect(publish).not.toContain('deployment group create');

    expect(subscribe).toMatch(/^\$ az deployment group create --resource-group rg-flowlogs .*createEventSubscription=true/m);
    expect(subscribe).not.toContain('createEventSubscription=false');
  });

  it('uses the same deployment name and parameters in both passes (reruns converge)', () => {
    const result = runDeploy(['-g', 'rg', '-n', 'ff', '--dry-run']);
    const deployments = result.stdout.split('\n').filter((line) => line.startsWith('$ az deployment group create'));
    expect(deployments).toHaveLength(2);
    expect(deployments[0]?.replace('createEventSubscription=false', 'X')).toBe(deployments[1]?.replace('createEventSubscription=true', 'X'));
    expect(deployments[0]).toContain('--parameters @infra/main.parameters.json');
  });

  it.each([
    [[], '--resource-group is required'],
    [['--resource-group', 'rg'], '--name is required'],
    [['-g', 'rg', '-n', 'Bad_Name'], '--name must be'],
    [['-g', 'rg', '-n', 'ff', '--bogus'], 'unknown argument: --bogus'],
    [['-g', 'rg', '-n', 'ff', '--location'], '--location needs a value'],
    [['-g', 'rg', '-n', 'ff', '--parameters', 'no/such/file.json'], 'parameters file not found'],
  ])('exits 2 with usage for %j', (args, message) => {
    const result = runDeploy(args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run deploy');
  });

  it('--help prints usage and exits 0', () => {
    const result = runDeploy(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: npm run deploy');
  });

  POSIX_ONLY('exits 1 naming az when the Azure CLI is not installed', () => {
    const result = runDeploy(['-g', 'rg', '-n', 'ff'], { ...process.env, PATH: pathWithOnlyNode() });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/\baz \(Azure CLI\) was not found/);
    expect(result.stdout).not.toContain('==> Phase');
  });

  describe('with stand-in tools', () => {
    let binDirectory: string;
    let callLog: string;

    /** Writes an executable shell script that appends "<tool> <args>" to the call log. */
    function standIn(tool: string, body: string): void {
      const script = `#!/bin/sh\necho "${tool} $*" >> "${callLog}"\n${body}\n`;
      fs.writeFileSync(path.join(binDirectory, tool), script, { mode: 0o755 });
    }

    beforeEach(() => {
      binDirectory = pathWithOnlyNode();
      callLog = path.join(binDirectory, 'calls.log');
      standIn(
        'az',
        [
          'case "$1 $2" in',
          '  "account show") echo \'{"name":"Test subscription","id":"00000000-0000-0000-0000-000000000000"}\' ;;',
          '  "deployment group") echo \'{"functionAppName":{"type":"String","value":"func-ff-abc"}}\' ;;',
          '  "functionapp function") echo forwardFlowLogs ;;',
          'esac',
        ].join('\n'),
      );
      standIn('func', 'exit 0');
      standIn('npm', 'exit 0');
    });

    afterEach(() => fs.rmSync(binDirectory, { recursive: true, force: true }));

    function calls(): string[] {
      return fs.readFileSync(callLog, 'utf8').trim().split('\n');
    }

    POSIX_ONLY('runs provision, build, publish, wait and provision-with-subscription in that order', () => {
      const result = runDeploy(['-g', 'rg', '-n', 'ff'], { ...process.env, PATH: binDirectory });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const sequence = calls().map((call) => call.split(' ').slice(0, 3).join(' '));
      expect(sequence).toEqual([
        'az account show',
        'func --version',
        'az deployment group',
        'npm run build',
        'func azure functionapp',
        'az functionapp function',
        'az deployment group',
      ]);
      const log = calls();
      expect(log[2]).toContain('createEventSubscription=false');
      expect(log[4]).toBe('func azure functionapp publish func-ff-abc');
      expect(log[5]).toContain('--name func-ff-abc --function-name forwardFlowLogs');
      expect(log[6]).toContain('createEventSubscription=true');
    });

    POSIX_ONLY('exits 1 with the az login hint when az is not logged in', () => {
      standIn('az', "echo \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1");
      const result = runDeploy(['-g', 'rg', '-n', 'ff'], { ...process.env, PATH: binDirectory });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('az is not logged in');
      expect(result.stderr).toContain('az login');
      expect(calls()).toEqual(['az account show --output json']);
    });

    POSIX_ONLY('stops with exit 1 when a phase fails, before publishing', () => {
      standIn('az', 'case "$1 $2" in\n  "account show") echo \'{"name":"s","id":"i"}\' ;;\n  *) exit 3 ;;\nesac');
      const result = runDeploy(['-g', 'rg', '-n', 'ff'], { ...process.env, PATH: binDirectory });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/az deployment group create .* failed with exit code 3/);
      expect(calls().some((call) => call.startsWith('func azure'))).toBe(false);
    });
  });
});
