/**
 * The rules the infrastructure must follow, as functions that return human-readable problems
 * (empty = fine). Kept apart from the tests so a test can also feed them broken Bicep and
 * prove that each rule really fires.
 */
import { BicepCall, BicepExpression, BicepFile, BicepValue, get, isBicepObject, textOf } from './bicepModel';

/** Built-in role ids as documented by Microsoft (docs/azure-facts.md section 8). */
export const EXPECTED_ROLE_IDS = {
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;

/** Azure Event Hubs Data Receiver: the forwarder only sends, so this must never be granted. */
export const EVENT_HUBS_DATA_RECEIVER_ROLE_ID = 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde';

const ROLE_ASSIGNMENT_TYPE = 'Microsoft.Authorization/roleAssignments';
const GUID_PATTERN = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export interface RoleAssignment {
  readonly file: string;
  readonly symbol: string;
  /** Key of the role id map the assignment uses (`roleIds.<key>`), if any. */
  readonly roleKey: string | undefined;
  readonly roleDefinitionText: string;
  readonly nameText: string;
  readonly scopeText: string;
  /** Resource type of the scope when it is a resource declared in the same file. */
  readonly scopeType: string | undefined;
  readonly principalIdText: string;
  readonly principalType: BicepValue | undefined;
}

export function roleAssignmentsIn(file: BicepFile): RoleAssignment[] {
  return file.resources
    .filter((resource) => resource.type === ROLE_ASSIGNMENT_TYPE)
    .map((resource) => {
      const roleDefinitionText = textOf(get(resource.body, 'properties', 'roleDefinitionId'));
      const scopeText = textOf(get(resource.body, 'scope'));
      return {
        file: file.path,
        symbol: resource.symbol,
        roleKey: /\broleIds\.(\w+)/.exec(roleDefinitionText)?.[1],
        roleDefinitionText,
        nameText: textOf(get(resource.body, 'name')),
        scopeText,
        scopeType: file.resources.find((candidate) => candidate.symbol === scopeText)?.type,
        principalIdText: textOf(get(resource.body, 'properties', 'principalId')),
        principalType: get(resource.body, 'properties', 'principalType'),
      };
    });
}

/** The `roleIds` map exported by a file, as key → GUID. */
export function roleIdMap(file: BicepFile): Record<string, string> {
  const declaration = file.variables.find((variable) => variable.name === 'roleIds');
  const map: Record<string, string> = {};
  if (declaration !== undefined && isBicepObject(declaration.value)) {
    for (const [key, value] of Object.entries(declaration.value)) {
      if (typeof value === 'string') map[key] = value;
    }
  }
  return map;
}

/** guid() names, explicit ServicePrincipal type, role ids only from the shared map, never Receiver. */
export function roleAssignmentProblems(file: BicepFile, roleIds: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  if (file.source.toLowerCase().includes(EVENT_HUBS_DATA_RECEIVER_ROLE_ID)) {
    problems.push(`${file.path}: mentions the Event Hubs Data Receiver role id`);
  }
  for (const assignment of roleAssignmentsIn(file)) {
    const where = `${file.path}: role assignment ${assignment.symbol}`;
    if (!/^guid\(/.test(assignment.nameText)) problems.push(`${where}: name is not a guid(...)`);
    if (assignment.principalType !== 'ServicePrincipal') problems.push(`${where}: principalType is not 'ServicePrincipal'`);
    if (GUID_PATTERN.test(assignment.roleDefinitionText)) problems.push(`${where}: literal role id instead of the roleIds map`);
    if (assignment.roleKey === undefined) {
      problems.push(`${where}: roleDefinitionId does not use roleIds.<role>`);
    } else if (roleIds[assignment.roleKey] === undefined) {
      problems.push(`${where}: roleIds.${assignment.roleKey} is not in the role id map`);
    } else if (roleIds[assignment.roleKey] === EVENT_HUBS_DATA_RECEIVER_ROLE_ID) {
      problems.push(`${where}: grants Event Hubs Data Receiver`);
    }
  }
  return problems;
}

/** New storage accounts: no shared keys, no public blobs, TLS 1.2. */
export function storageHardeningProblems(file: BicepFile): string[] {
  return file.resources
    .filter((resource) => resource.type === 'Microsoft.Storage/storageAccounts' && !resource.existing)
    .flatMap((resource) => {
      const where = `${file.path}: storage account ${resource.symbol}`;
      const problems: string[] = [];
      if (get(resource.body, 'properties', 'allowSharedKeyAccess') !== false) problems.push(`${where}: allowSharedKeyAccess is not false`);
      if (get(resource.body, 'properties', 'allowBlobPublicAccess') !== false) problems.push(`${where}: allowBlobPublicAccess is not false`);
      if (get(resource.body, 'properties', 'minimumTlsVersion') !== 'TLS1_2') problems.push(`${where}: minimumTlsVersion is not 'TLS1_2'`);
      return problems;
    });
}

/** Local (key) authentication disabled on Event Hubs namespaces and Application Insights. */
export function localAuthProblems(file: BicepFile): string[] {
  return file.resources
    .filter((resource) => !resource.existing)
    .flatMap((resource) => {
      if (resource.type === 'Microsoft.EventHub/namespaces' && get(resource.body, 'properties', 'disableLocalAuth') !== true) {
        return [`${file.path}: Event Hubs namespace ${resource.symbol}: disableLocalAuth is not true`];
      }
      if (resource.type === 'Microsoft.Insights/components' && get(resource.body, 'properties', 'DisableLocalAuth') !== true) {
        return [`${file.path}: Application Insights ${resource.symbol}: DisableLocalAuth is not true`];
      }
      return [];
    });
}

const SECRET_OUTPUT_NAME = /key|secret|password|connectionstring|sas|token|credential/i;
const SECRET_OUTPUT_VALUE = /\blist\w*\(|connectionstring|primarykey|secondarykey|accountkey|sharedaccesskey/i;

/** Outputs are stored in the deployment history in clear text: nothing secret may go there. */
export function secretOutputProblems(file: BicepFile): string[] {
  return file.outputs.flatMap((output) => {
    const where = `${file.path}: output ${output.name}`;
    const problems: string[] = [];
    if (SECRET_OUTPUT_NAME.test(output.name)) problems.push(`${where}: name looks like a secret`);
    if (SECRET_OUTPUT_VALUE.test(output.valueText)) problems.push(`${where}: value reads keys or a connection string`);
    if (output.decorators.some((decorator) => decorator.name === 'secure')) problems.push(`${where}: is @secure()`);
    return problems;
  });
}

// Endpoint suffixes differ between clouds; they must come from environment() or resource properties.
const HARDCODED_HOST = /(windows\.net|azure\.com|azure\.net|azurewebsites\.net|chinacloudapi\.cn|usgovcloudapi\.net|microsoftonline\.com|azure-api\.net)/i;

export function hardcodedHostProblems(file: BicepFile): string[] {
  return file.stringLiterals
    .filter((literal) => HARDCODED_HOST.test(literal))
    .map((literal) => `${file.path}: hard-coded host name in ${literal}`);
}

/** Parameters need @description; object and array inputs need a user-defined type. */
export function parameterProblems(file: BicepFile): string[] {
  return file.parameters.flatMap((parameter) => {
    const where = `${file.path}: param ${parameter.name}`;
    const problems: string[] = [];
    if (!parameter.decorators.some((decorator) => decorator.name === 'description')) problems.push(`${where}: no @description`);
    if (parameter.typeText === 'object' || parameter.typeText === 'array') problems.push(`${where}: untyped ${parameter.typeText}`);
    if (/secret|password|key$/i.test(parameter.name) && !parameter.decorators.some((decorator) => decorator.name === 'secure')) {
      problems.push(`${where}: looks like a secret but is not @secure()`);
    }
    return problems;
  });
}

/** The names in the first column of the settings table of docs/contract.md. */
export function contractSettingNames(contractMarkdown: string): string[] {
  const section = /^## Settings[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(contractMarkdown)?.[1] ?? '';
  const names = section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1) // header row
    .flatMap((line) => {
      const firstCell = line.split('|')[1] ?? '';
      return [...firstCell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((match) => match[1] ?? '');
    });
  return [...new Set(names)].filter((name) => name !== '');
}

/** Settings Flex Consumption rejects or that would undo identity-based access. */
const FORBIDDEN_SETTINGS = ['FUNCTIONS_WORKER_RUNTIME', 'WEBSITE_RUN_FROM_PACKAGE', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_NODE_DEFAULT_VERSION'];

/**
 * Every contract setting is present, connection settings are in identity form only
 * (`<Connection>__...` with credential=managedidentity and a clientId, never the bare
 * connection-string name), and nothing Flex Consumption rejects is set.
 */
export function appSettingProblems(settings: Readonly<Record<string, BicepValue>>, contractNames: readonly string[]): string[] {
  const names = Object.keys(settings);
  const problems: string[] = [];
  for (const name of contractNames) {
    if (!names.includes(name) && !names.some((candidate) => candidate.startsWith(`${name}__`))) {
      problems.push(`app setting ${name} (or its identity-based form ${name}__...) is missing`);
    }
  }
  const connectionPrefixes = new Set(names.filter((name) => name.includes('__')).map((name) => name.split('__')[0] ?? ''));
  for (const prefix of connectionPrefixes) {
    if (names.includes(prefix)) problems.push(`app setting ${prefix} is a connection string next to its identity-based form`);
    if (settings[`${prefix}__credential`] !== 'managedidentity') problems.push(`app setting ${prefix}__credential is not 'managedidentity'`);
    if (settings[`${prefix}__clientId`] === undefined) problems.push(`app setting ${prefix}__clientId is missing (the app has only a user-assigned identity)`);
  }
  for (const name of FORBIDDEN_SETTINGS) {
    if (names.includes(name)) problems.push(`app setting ${name} must not be set on Flex Consumption`);
  }
  return problems;
}

/** Object literals merged by `union(a, {...}, ...)`, or the object itself. */
export function mergedObjectLiterals(value: BicepValue | undefined): Record<string, BicepValue> {
  if (isBicepObject(value)) return { ...value };
  if (value instanceof BicepCall && value.functionName === 'union') {
    return Object.assign({}, ...value.args.map(mergedObjectLiterals)) as Record<string, BicepValue>;
  }
  return {};
}

/** Whether a value is a reference expression (not a literal). */
export function isExpression(value: BicepValue | undefined): value is BicepExpression {
  return value instanceof BicepExpression;
}
