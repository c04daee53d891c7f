/**
 * Static checks of infra/ (issue #3). The Bicep compiler cannot run here, so every template is
 * parsed with tree-sitter-bicep and the declarations are asserted on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BicepExpression,
  BicepFile,
  BicepLoop,
  BicepValue,
  ModuleDeclaration,
  ResourceDeclaration,
  findBicepFiles,
  get,
  isBicepObject,
  loadBicepFile,
  textOf,
} from './bicepModel';
import {
  EVENT_HUBS_DATA_RECEIVER_ROLE_ID,
  EXPECTED_ROLE_IDS,
  RoleAssignment,
  appSettingProblems,
  contractSettingNames,
  hardcodedHostProblems,
  localAuthProblems,
  mergedObjectLiterals,
  parameterProblems,
  roleAssignmentProblems,
  roleAssignmentsIn,
  roleIdMap,
  secretOutputProblems,
  storageHardeningProblems,
} from './infraChecks';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const INFRA = path.join(REPO_ROOT, 'infra');

const bicepPaths = findBicepFiles(INFRA);
const files = new Map<string, BicepFile>(bicepPaths.map((file) => [path.relative(INFRA, file).split(path.sep).join('/'), loadBicepFile(file)]));

function bicepFile(relativePath: string): BicepFile {
  const file = files.get(relativePath);
  if (file === undefined) throw new Error(`infra/${relativePath} not found`);
  return file;
}

function resourcesOfType(type: string): Array<ResourceDeclaration & { file: string }> {
  return [...files.entries()].flatMap(([name, file]) => file.resources.filter((resource) => resource.type === type).map((resource) => ({ ...resource, file: name })));
}

/** The one resource of `type` the file declares (not an `existing` reference). */
function onlyResource(file: BicepFile, type: string): ResourceDeclaration {
  const matches = file.resources.filter((resource) => resource.type === type && !resource.existing);
  const [resource] = matches;
  if (resource === undefined || matches.length !== 1) throw new Error(`expected one ${type} in ${file.path}, found ${matches.length}`);
  return resource;
}

/** Walks parsed JSON by keys, narrowing at each step. */
function jsonAt(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function moduleOf(file: BicepFile, modulePath: string): ModuleDeclaration {
  const found = file.modules.find((module) => module.path === modulePath);
  if (found === undefined) throw new Error(`${file.path} does not use ${modulePath}`);
  return found;
}

function parameterDefault(file: BicepFile, name: string): BicepValue | undefined {
  const parameter = file.parameters.find((candidate) => candidate.name === name);
  if (parameter === undefined) throw new Error(`${file.path}: no param ${name}`);
  return parameter.defaultValue;
}

function variableValue(file: BicepFile, name: string): BicepValue {
  const variable = file.variables.find((candidate) => candidate.name === name);
  if (variable === undefined) throw new Error(`${file.path}: no var ${name}`);
  return variable.value;
}

function allowedValues(file: BicepFile, name: string): readonly BicepValue[] | undefined {
  const decorator = file.parameters.find((candidate) => candidate.name === name)?.decorators.find((candidate) => candidate.name === 'allowed');
  const first = decorator?.args[0];
  return Array.isArray(first) ? first : undefined;
}

const main = bicepFile('main.bicep');
const roleIds = roleIdMap(bicepFile('modules/roles.bicep'));
const allAssignments: RoleAssignment[] = [...files.values()].flatMap(roleAssignmentsIn);

function assignmentsOf(roleKey: keyof typeof EXPECTED_ROLE_IDS): RoleAssignment[] {
  return allAssignments.filter((assignment) => assignment.roleKey === roleKey);
}

describe('Bicep syntax', () => {
  it('finds main.bicep and its modules', () => {
    expect([...files.keys()]).toEqual(expect.arrayContaining(['main.bicep', 'modules/roles.bicep', 'modules/types.bicep', 'modules/functionApp.bicep']));
  });

  it.each(bicepPaths.map((file) => [path.relative(REPO_ROOT, file)]))('%s parses without syntax errors', (relativePath) => {
    const file = loadBicepFile(path.join(REPO_ROOT, relativePath));
    expect(file.syntaxProblems).toEqual([]);
  });

  it('every module and import of main.bicep points at an existing file', () => {
    for (const file of files.values()) {
      const targets = [...file.modules.map((module) => module.path), ...file.imports.map((declaration) => declaration.from)];
      for (const target of targets) expect(fs.existsSync(path.resolve(path.dirname(file.path), target))).toBe(true);
    }
  });
});

describe('parameters and outputs', () => {
  it('every parameter has a @description and object inputs have user-defined types', () => {
    expect([...files.values()].flatMap(parameterProblems)).toEqual([]);
  });

  it('no output is a secret', () => {
    expect([...files.values()].flatMap(secretOutputProblems)).toEqual([]);
  });

  it('no endpoint host name is hard-coded', () => {
    expect([...files.values()].flatMap(hardcodedHostProblems)).toEqual([]);
  });

  it('main.bicep targets a resource group and exposes the function app name to the deploy script', () => {
    expect(main.source).toMatch(/^targetScope = 'resourceGroup'$/m);
    expect(main.outputs.map((output) => output.name)).toContain('functionAppName');
  });

  it('restricts runtime, tier, output format and packing to the supported values', () => {
    expect(allowedValues(main, 'nodeVersion')).toEqual(['20', '22']);
    expect(allowedValues(main, 'eventHubSku')).toEqual(['Basic', 'Standard', 'Premium']);
    expect(allowedValues(main, 'outputFormat')).toEqual(['records', 'tuples']);
    expect(allowedValues(main, 'packing')).toEqual(['envelope', 'single']);
    expect(parameterDefault(main, 'nodeVersion')).toBe('22');
  });

  it('defaults the forwarder containers to the contract', () => {
    expect(parameterDefault(main, 'checkpointContainerName')).toBe('flowlog-checkpoints');
    expect(parameterDefault(main, 'deadLetterContainerName')).toBe('flowlog-deadletter');
    expect(parameterDefault(main, 'flowLogContainers')).toEqual(['insights-logs-flowlogflowevent', 'insights-logs-networksecuritygroupflowevent']);
    expect(parameterDefault(main, 'outputFormat')).toBe('records');
    expect(parameterDefault(main, 'packing')).toBe('envelope');
  });

  it('uses an existing flow-log account unless asked to create one', () => {
    expect(parameterDefault(main, 'createFlowLogAccount')).toBe(false);
    expect(moduleOf(main, 'modules/flowLogAccount.bicep').condition).toBe('createFlowLogAccount');
    const flowLogSource = bicepFile('modules/flowLogSource.bicep');
    const account = flowLogSource.resources.find((resource) => resource.type === 'Microsoft.Storage/storageAccounts');
    expect(account?.existing).toBe(true);
    // Deployed next to each account, which usually lives in another resource group.
    const sources = moduleOf(main, 'modules/flowLogSource.bicep');
    expect(sources.loop).toMatch(/in allFlowLogAccounts$/);
    expect(textOf(sources.body.scope)).toBe('resourceGroup(account.resourceGroup)');
  });
});

describe('role assignments', () => {
  it('the role id map holds exactly the documented built-in role ids, and never Receiver', () => {
    expect(roleIds).toEqual(EXPECTED_ROLE_IDS);
    expect(Object.values(roleIds)).not.toContain(EVENT_HUBS_DATA_RECEIVER_ROLE_ID);
  });

  it('every assignment has a guid() name, principalType ServicePrincipal and a role from the map', () => {
    expect(allAssignments.length).toBeGreaterThanOrEqual(7);
    expect([...files.values()].flatMap((file) => roleAssignmentProblems(file, roleIds))).toEqual([]);
  });

  it('no Bicep or parameter file mentions the Event Hubs Data Receiver role', () => {
    const texts = [...files.values()].map((file) => file.source).concat(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'));
    for (const text of texts) expect(text.toLowerCase()).not.toContain(EVENT_HUBS_DATA_RECEIVER_ROLE_ID);
  });

  it('grants Storage Blob Data Reader on the flow-log account to the app identity', () => {
    const [reader, ...others] = assignmentsOf('storageBlobDataReader');
    expect(others).toEqual([]);
    expect(reader?.file).toMatch(/flowLogSource\.bicep$/);
    expect(reader?.scopeType).toBe('Microsoft.Storage/storageAccounts');
    expect(reader?.principalIdText).toBe('appPrincipalId');
  });

  it('grants Azure Event Hubs Data Sender on the hub only, not the namespace', () => {
    const [sender, ...others] = assignmentsOf('eventHubsDataSender');
    expect(others).toEqual([]);
    expect(sender?.scopeType).toBe('Microsoft.EventHub/namespaces/eventhubs');
    expect(sender?.principalIdText).toBe('appPrincipalId');
  });

  it('grants the host what it needs on its own storage account', () => {
    for (const roleKey of ['storageBlobDataOwner', 'storageQueueDataContributor', 'storageTableDataContributor'] as const) {
      const [grant, ...others] = assignmentsOf(roleKey);
      expect(others).toEqual([]);
      expect(grant?.file).toMatch(/appStorage\.bicep$/);
      expect(grant?.scopeType).toBe('Microsoft.Storage/storageAccounts');
      expect(grant?.principalIdText).toBe('appPrincipalId');
    }
  });

  it('grants Monitoring Metrics Publisher on Application Insights', () => {
    const [publisher, ...others] = assignmentsOf('monitoringMetricsPublisher');
    expect(others).toEqual([]);
    expect(publisher?.scopeType).toBe('Microsoft.Insights/components');
  });

  it('lets each system topic identity write only into the Event Grid dead-letter container', () => {
    const [writer, ...others] = assignmentsOf('storageBlobDataContributor');
    expect(others).toEqual([]);
    expect(writer?.scopeType).toBe('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(writer?.principalIdText).toBe('topicPrincipalId');
    const writers = moduleOf(main, 'modules/deadLetterWriter.bicep');
    expect(textOf(get(writers.body, 'params', 'topicPrincipalId'))).toBe('flowLogSources[i].outputs.systemTopicPrincipalId');
    expect(textOf(get(writers.body, 'params', 'containerName'))).toBe('eventGridDeadLetterContainerName');
  });
});

describe('hardening', () => {
  it('storage accounts: no shared keys, no public blobs, TLS 1.2', () => {
    expect(resourcesOfType('Microsoft.Storage/storageAccounts').filter((resource) => !resource.existing)).toHaveLength(2);
    expect([...files.values()].flatMap(storageHardeningProblems)).toEqual([]);
  });

  it('Event Hubs and Application Insights: local auth disabled', () => {
    expect(resourcesOfType('Microsoft.EventHub/namespaces').filter((resource) => !resource.existing)).toHaveLength(1);
    expect(resourcesOfType('Microsoft.Insights/components').filter((resource) => !resource.existing)).toHaveLength(1);
    expect([...files.values()].flatMap(localAuthProblems)).toEqual([]);
  });

  it('Event Hubs tier and partition count are parameters', () => {
    const namespace = onlyResource(bicepFile('modules/eventHubNamespace.bicep'), 'Microsoft.EventHub/namespaces');
    expect(textOf(get(namespace.body, 'sku', 'name'))).toBe('sku');
    const hub = onlyResource(bicepFile('modules/eventHubNamespace.bicep'), 'Microsoft.EventHub/namespaces/eventhubs');
    expect(textOf(get(hub.body, 'properties', 'partitionCount'))).toBe('partitionCount');
    const namespaceModule = moduleOf(main, 'modules/eventHubNamespace.bicep');
    expect(namespaceModule.condition).toBe('createEventHubNamespace');
    expect(textOf(get(namespaceModule.body, 'params', 'sku'))).toBe('eventHubSku');
    expect(textOf(get(namespaceModule.body, 'params', 'partitionCount'))).toBe('eventHubPartitionCount');
  });

  it('the function app is a Flex Consumption Linux app on Node, HTTPS only, FTPS off, TLS 1.2', () => {
    const functionApp = bicepFile('modules/functionApp.bicep');
    const plan = onlyResource(functionApp, 'Microsoft.Web/serverfarms');
    expect(get(plan.body, 'sku')).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(get(plan.body, 'properties', 'reserved')).toBe(true);

    const site = onlyResource(functionApp, 'Microsoft.Web/sites');
    expect(get(site.body, 'kind')).toBe('functionapp,linux');
    expect(get(site.body, 'properties', 'httpsOnly')).toBe(true);
    expect(get(site.body, 'properties', 'siteConfig', 'minTlsVersion')).toBe('1.2');
    expect(get(site.body, 'properties', 'siteConfig', 'ftpsState')).toBe('Disabled');
    expect(get(site.body, 'identity', 'type')).toBe('UserAssigned');
    expect(get(site.body, 'properties', 'functionAppConfig', 'runtime', 'name')).toBe('node');
    expect(textOf(get(site.body, 'properties', 'functionAppConfig', 'runtime', 'version'))).toBe('nodeVersion');
    expect(get(site.body, 'properties', 'functionAppConfig', 'deployment', 'storage', 'type')).toBe('blobContainer');
    expect(get(site.body, 'properties', 'functionAppConfig', 'deployment', 'storage', 'authentication')).toEqual({
      type: 'UserAssignedIdentity',
      userAssignedIdentityResourceId: new BicepExpression('identityId'),
    });
    expect(isBicepObject(get(site.body, 'properties', 'functionAppConfig', 'scaleAndConcurrency'))).toBe(true);
  });

  it('a lifecycle rule deletes checkpoint documents after a configurable number of days', () => {
    const policy = onlyResource(bicepFile('modules/appStorage.bicep'), 'Microsoft.Storage/storageAccounts/managementPolicies');
    const rules = get(policy.body, 'properties', 'policy', 'rules');
    expect(Array.isArray(rules)).toBe(true);
    const [rule] = Array.isArray(rules) ? rules : [];
    expect(textOf(get(rule, 'definition', 'filters', 'prefixMatch'))).toContain('${checkpointContainerName}/');
    expect(textOf(get(rule, 'definition', 'actions', 'baseBlob', 'delete', 'daysAfterModificationGreaterThan'))).toBe('checkpointRetentionDays');
    expect(textOf(get(moduleOf(main, 'modules/appStorage.bicep').body, 'params', 'checkpointRetentionDays'))).toBe('checkpointRetentionDays');
  });
});

describe('Event Grid', () => {
  const source = bicepFile('modules/flowLogSource.bicep');
  const subscriptionFile = bicepFile('modules/flowLogSubscription.bicep');
  const subscription = subscriptionFile.resources.find((resource) => resource.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions');

  it('creates a system topic on each flow-log account, in its region, with an identity for dead-lettering', () => {
    const topic = onlyResource(bicepFile('modules/systemTopic.bicep'), 'Microsoft.EventGrid/systemTopics');
    expect(get(topic.body, 'properties', 'topicType')).toBe('Microsoft.Storage.StorageAccounts');
    expect(textOf(get(topic.body, 'properties', 'source'))).toBe('sourceId');
    expect(get(topic.body, 'identity', 'type')).toBe('SystemAssigned');
    const topicModule = moduleOf(source, 'systemTopic.bicep');
    expect(textOf(get(topicModule.body, 'params', 'sourceId'))).toBe('flowLogStorage.id');
    expect(textOf(get(topicModule.body, 'params', 'location'))).toBe('flowLogStorage.location');
  });

  it('creates the subscriptions only when createEventSubscription is true (default false)', () => {
    expect(parameterDefault(main, 'createEventSubscription')).toBe(false);
    const subscriptions = moduleOf(main, 'modules/flowLogSubscription.bicep');
    expect(subscriptions.condition).toBe('createEventSubscription');
    expect(subscriptions.loop).toMatch(/in allFlowLogAccounts$/);
    expect(textOf(get(subscriptions.body, 'params', 'functionName'))).toBe('functionName');
    expect(variableValue(main, 'functionName')).toBe('forwardFlowLogs');
    expect(textOf(get(subscriptions.body, 'params', 'deadLetterContainerName'))).toBe('eventGridDeadLetterContainerName');
  });

  it('delivers one event per invocation to the forwardFlowLogs function', () => {
    expect(get(subscription?.body, 'properties', 'eventDeliverySchema')).toBe('EventGridSchema');
    const destination = get(subscription?.body, 'properties', 'destination');
    expect(get(destination, 'endpointType')).toBe('AzureFunction');
    expect(textOf(get(destination, 'properties', 'resourceId'))).toBe("'${functionAppId}/functions/${functionName}'");
    expect(get(destination, 'properties', 'maxEventsPerBatch')).toBe(1);
  });

  it('filters BlobCreated PutBlockList commits of PT1H.json in the configured containers', () => {
    const filter = get(subscription?.body, 'properties', 'filter');
    expect(get(filter, 'includedEventTypes')).toEqual(['Microsoft.Storage.BlobCreated']);
    expect(get(filter, 'subjectEndsWith')).toBe('/PT1H.json');
    const advancedFilters = get(filter, 'advancedFilters');
    expect(Array.isArray(advancedFilters)).toBe(true);
    const filters = Array.isArray(advancedFilters) ? advancedFilters : [];
    expect(filters.find((candidate) => get(candidate, 'operatorType') === 'StringIn')).toEqual({ operatorType: 'StringIn', key: 'data.api', values: ['PutBlockList'] });

    const beginsWith = filters.find((candidate) => get(candidate, 'operatorType') === 'StringBeginsWith');
    expect(get(beginsWith, 'key')).toBe('subject');
    // One value per configured container: values = subjectPrefixes = [for c in flowLogContainers: '/blobServices/default/containers/${c}/']
    const prefixes = variableValue(subscriptionFile, textOf(get(beginsWith, 'values')));
    expect(prefixes).toBeInstanceOf(BicepLoop);
    if (!(prefixes instanceof BicepLoop)) return;
    expect(prefixes.header).toBe('container in flowLogContainers');
    expect(textOf(prefixes.body)).toBe("'/blobServices/default/containers/${container}/'");
    expect(textOf(get(moduleOf(main, 'modules/flowLogSubscription.bicep').body, 'params', 'flowLogContainers'))).toBe('flowLogContainers');
  });

  it('retries, then dead-letters with the system topic identity into the app storage', () => {
    const properties = get(subscription?.body, 'properties');
    expect(Object.keys(get(properties, 'retryPolicy') ?? {}).sort()).toEqual(['eventTimeToLiveInMinutes', 'maxDeliveryAttempts']);
    expect(get(properties, 'deadLetterDestination')).toBeUndefined();
    const deadLetter = get(properties, 'deadLetterWithResourceIdentity');
    expect(get(deadLetter, 'identity', 'type')).toBe('SystemAssigned');
    expect(get(deadLetter, 'deadLetterDestination', 'endpointType')).toBe('StorageBlob');
    expect(textOf(get(deadLetter, 'deadLetterDestination', 'properties', 'resourceId'))).toBe('deadLetterStorageAccountId');
    expect(textOf(get(deadLetter, 'deadLetterDestination', 'properties', 'blobContainerName'))).toBe('deadLetterContainerName');
    expect(textOf(get(moduleOf(main, 'modules/flowLogSubscription.bicep').body, 'params', 'deadLetterStorageAccountId'))).toBe('appStorage.outputs.id');
  });
});

describe('app settings', () => {
  const functionApp = bicepFile('modules/functionApp.bicep');
  const mainSettings = mergedObjectLiterals(variableValue(main, 'appSettings'));
  const settingsResource = functionApp.resources.find((resource) => resource.type === 'Microsoft.Web/sites/config' && get(resource.body, 'name') === 'appsettings');
  const settings = { ...mainSettings, ...mergedObjectLiterals(get(settingsResource?.body, 'properties')) };
  const contract = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'contract.md'), 'utf8');

  it('main passes its settings to the function app', () => {
    expect(textOf(get(moduleOf(main, 'modules/functionApp.bicep').body, 'params', 'appSettings'))).toBe('appSettings');
    expect(textOf(get(settingsResource?.body, 'properties'))).toMatch(/^union\(appSettings,/);
  });

  it('reads the settings table of docs/contract.md', () => {
    expect(contractSettingNames(contract)).toEqual(expect.arrayContaining(['FlowLogsStorage__blobServiceUri', 'MAX_EVENT_BYTES', 'EventHubConnection__fullyQualifiedNamespace']));
  });

  it('covers every contract setting in identity-based form, and nothing Flex Consumption rejects', () => {
    expect(appSettingProblems(settings, contractSettingNames(contract))).toEqual([]);
  });

  it('sets every identity-based connection the host and the code use', () => {
    expect(Object.keys(settings)).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__blobServiceUri',
        'AzureWebJobsStorage__queueServiceUri',
        'AzureWebJobsStorage__tableServiceUri',
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'FlowLogsStorage__blobServiceUri',
        'FlowLogsStorage__credential',
        'FlowLogsStorage__clientId',
        'EventHubConnection__fullyQualifiedNamespace',
        'EventHubConnection__credential',
        'EventHubConnection__clientId',
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      ]),
    );
    expect(textOf(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)).toBe("'ClientId=${appIdentity.properties.clientId};Authorization=AAD'");
    expect(textOf(settings.FlowLogsStorage__blobServiceUri)).toBe('flowLogSources[0].outputs.blobEndpoint');
    expect(textOf(bicepFile('modules/flowLogSource.bicep').outputs.find((output) => output.name === 'blobEndpoint')?.value)).toBe('flowLogStorage.properties.primaryEndpoints.blob');
  });

  it('derives the Event Hubs host name from the namespace serviceBusEndpoint', () => {
    expect(textOf(settings.EventHubConnection__fullyQualifiedNamespace)).toBe('eventHubAccess.outputs.fullyQualifiedNamespace');
    const output = bicepFile('modules/eventHubAccess.bicep').outputs.find((candidate) => candidate.name === 'fullyQualifiedNamespace');
    expect(output?.valueText).toContain('namespace.properties.serviceBusEndpoint');
  });

  it('matches MAX_EVENT_BYTES to the tier of the hub', () => {
    expect(textOf(settings.MAX_EVENT_BYTES)).toBe("string(eventHubAccess.outputs.skuName == 'Basic' ? basicTierMaxEventBytes : largeTierMaxEventBytes)");
    const basic = variableValue(main, 'basicTierMaxEventBytes');
    const large = variableValue(main, 'largeTierMaxEventBytes');
    expect(typeof basic === 'number' && basic < 262144).toBe(true);
    expect(typeof large === 'number' && large <= 1048576).toBe(true);
    expect(textOf(bicepFile('modules/eventHubAccess.bicep').outputs.find((output) => output.name === 'skuName')?.value)).toBe('namespace.sku.name');
  });

  it('passes the output format, packing, containers and allowed accounts from parameters', () => {
    expect(textOf(settings.FLOWLOG_OUTPUT)).toBe('outputFormat');
    expect(textOf(settings.FLOWLOG_PACKING)).toBe('packing');
    expect(textOf(settings.CHECKPOINT_CONTAINER)).toBe('checkpointContainerName');
    expect(textOf(settings.DEAD_LETTER_CONTAINER)).toBe('deadLetterContainerName');
    expect(textOf(settings.FLOWLOG_CONTAINERS)).toBe("join(flowLogContainers, ',')");
    expect(textOf(settings.FLOWLOG_ALLOWED_ACCOUNTS)).toBe("join(allowedAccountNames, ',')");
    expect(textOf(settings.EVENTHUB_NAME)).toBe('eventHubAccess.outputs.hubName');
  });
});

describe('bicepconfig.json and main.parameters.json', () => {
  it('bicepconfig.json is valid JSON and turns the important linter rules on', () => {
    const config: unknown = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'bicepconfig.json'), 'utf8'));
    const core = jsonAt(config, 'analyzers', 'core');
    expect(jsonAt(core, 'enabled')).toBe(true);
    const required = [
      'no-unused-params',
      'no-unused-vars',
      'outputs-should-not-contain-secrets',
      'no-hardcoded-env-urls',
      'secure-secrets-in-params',
      'use-resource-id-functions',
    ];
    for (const rule of required) expect(['error', 'warning']).toContain(jsonAt(core, 'rules', rule, 'level'));
    expect(jsonAt(core, 'rules', 'outputs-should-not-contain-secrets', 'level')).toBe('error');
  });

  it('main.parameters.json sets only declared parameters and every required one', () => {
    const parametersFile: unknown = JSON.parse(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8'));
    const values = jsonAt(parametersFile, 'parameters');
    const given = typeof values === 'object' && values !== null ? Object.keys(values) : [];
    const declared = main.parameters.map((parameter) => parameter.name);
    expect(given.filter((name) => !declared.includes(name))).toEqual([]);
    const required = main.parameters.filter((parameter) => parameter.defaultValue === undefined).map((parameter) => parameter.name);
    // namePrefix comes from the deploy script's --name; the file still carries an example.
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
    expect(jsonAt(values, 'createEventSubscription')).toBeUndefined();
  });
});
