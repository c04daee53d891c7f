/**
 * Proves the infra checks fail on broken Bicep: a check that never fires would let
 * bicep.test.ts pass on anything.
 */
import { BicepCall, BicepLoop, parseBicep } from './bicepModel';
import {
  EXPECTED_ROLE_IDS,
  appSettingProblems,
  contractSettingNames,
  hardcodedHostProblems,
  localAuthProblems,
  mergedObjectLiterals,
  parameterProblems,
  roleAssignmentProblems,
  secretOutputProblems,
  storageHardeningProblems,
} from './infraChecks';

describe('syntax errors', () => {
  it('reports a missing closing brace with its position', () => {
    const file = parseBicep("resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n", 'broken.bicep');
    expect(file.syntaxProblems.length).toBeGreaterThan(0);
    expect(file.syntaxProblems[0]?.line).toBeGreaterThanOrEqual(1);
  });

  it('reports garbage between declarations', () => {
    const file = parseBicep("param a string\n)))\nvar b = 'c'\n");
    expect(file.syntaxProblems).not.toEqual([]);
  });

  it('accepts valid Bicep', () => {
    expect(parseBicep("param a string = 'x'\nvar b = '${a}-y'\n").syntaxProblems).toEqual([]);
  });
});

describe('the model', () => {
  it('turns literals into values and keeps expressions as text', () => {
    const file = parseBicep(
      [
        "@description('It\\'s a name.')",
        "param name string = 'demo'",
        "var settings = union(base, { A: 'x', B: 2, C: true, D: null, E: [1, 'two'], F: name })",
        "var loop = [for c in containers: '/containers/${c}/']",
      ].join('\n'),
    );
    expect(file.parameters[0]?.decorators[0]).toEqual({ name: 'description', args: ["It's a name."] });
    const settings = file.variables.find((variable) => variable.name === 'settings')?.value;
    expect(settings).toBeInstanceOf(BicepCall);
    expect(mergedObjectLiterals(settings)).toEqual(expect.objectContaining({ A: 'x', B: 2, C: true, D: null, E: [1, 'two'] }));
    const loop = file.variables.find((variable) => variable.name === 'loop')?.value;
    expect(loop).toBeInstanceOf(BicepLoop);
  });

  it('expands nested resource types and records existing and conditional resources', () => {
    const file = parseBicep(
      [
        "resource ns 'Microsoft.EventHub/namespaces@2024-01-01' existing = {",
        "  name: 'n'",
        "  resource hub 'eventhubs' existing = {",
        "    name: 'h'",
        '  }',
        '}',
        "resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (create) {",
        "  name: 't'",
        '}',
      ].join('\n'),
    );
    expect(file.resources.map((resource) => [resource.symbol, resource.type, resource.apiVersion, resource.existing, resource.condition])).toEqual([
      ['ns', 'Microsoft.EventHub/namespaces', '2024-01-01', true, undefined],
      ['ns::hub', 'Microsoft.EventHub/namespaces/eventhubs', '2024-01-01', true, undefined],
      ['topic', 'Microsoft.EventGrid/systemTopics', '2025-02-15', false, 'create'],
    ]);
  });
});

describe('hardening checks', () => {
  const storage = (properties: string): string =>
    `resource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: 'x'\n  properties: {\n${properties}\n  }\n}\n`;

  it('flags shared key access, public blobs and old TLS', () => {
    const problems = storageHardeningProblems(parseBicep(storage("    allowSharedKeyAccess: true\n    allowBlobPublicAccess: true\n    minimumTlsVersion: 'TLS1_0'"), 'bad.bicep'));
    expect(problems).toEqual([
      'bad.bicep: storage account sa: allowSharedKeyAccess is not false',
      'bad.bicep: storage account sa: allowBlobPublicAccess is not false',
      "bad.bicep: storage account sa: minimumTlsVersion is not 'TLS1_2'",
    ]);
  });

  it('flags a storage account that only omits allowSharedKeyAccess (the default allows keys)', () => {
    const problems = storageHardeningProblems(parseBicep(storage("    allowBlobPublicAccess: false\n    minimumTlsVersion: 'TLS1_2'")));
    expect(problems).toEqual([expect.stringContaining('allowSharedKeyAccess is not false')]);
  });

  it('accepts a hardened storage account', () => {
    expect(storageHardeningProblems(parseBicep(storage("    allowSharedKeyAccess: false\n    allowBlobPublicAccess: false\n    minimumTlsVersion: 'TLS1_2'")))).toEqual([]);
  });

  it('flags Event Hubs and Application Insights with local auth left on', () => {
    const file = parseBicep(
      [
        "resource ns 'Microsoft.EventHub/namespaces@2024-01-01' = {",
        "  name: 'n'",
        '  properties: {',
        '    disableLocalAuth: false',
        '  }',
        '}',
        "resource ai 'Microsoft.Insights/components@2020-02-02' = {",
        "  name: 'a'",
        '}',
      ].join('\n'),
    );
    expect(localAuthProblems(file)).toHaveLength(2);
  });
});

describe('role assignment checks', () => {
  const assignment = (name: string, roleDefinitionId: string, principalType: string): string =>
    [
      "resource grant 'Microsoft.Authorization/roleAssignments@2022-04-01' = {",
      `  name: ${name}`,
      '  properties: {',
      `    roleDefinitionId: ${roleDefinitionId}`,
      '    principalId: principalId',
      `    principalType: ${principalType}`,
      '  }',
      '}',
    ].join('\n');

  it('flags a literal Receiver role id, a non-guid name and a missing principal type', () => {
    const file = parseBicep(
      assignment("'fixed'", "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde')", "''"),
      'bad.bicep',
    );
    const problems = roleAssignmentProblems(file, EXPECTED_ROLE_IDS);
    expect(problems).toEqual(
      expect.arrayContaining([
        'bad.bicep: mentions the Event Hubs Data Receiver role id',
        'bad.bicep: role assignment grant: name is not a guid(...)',
        "bad.bicep: role assignment grant: principalType is not 'ServicePrincipal'",
        'bad.bicep: role assignment grant: literal role id instead of the roleIds map',
      ]),
    );
  });

  it('flags a role key missing from the map, and a map entry that is the Receiver role', () => {
    const file = parseBicep(assignment('guid(x)', "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataReceiver)", "'ServicePrincipal'"));
    expect(roleAssignmentProblems(file, EXPECTED_ROLE_IDS)).toEqual([expect.stringContaining('roleIds.eventHubsDataReceiver is not in the role id map')]);
    const swapped = { ...EXPECTED_ROLE_IDS, eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde' };
    expect(roleAssignmentProblems(file, swapped)).toEqual([expect.stringContaining('grants Event Hubs Data Receiver')]);
  });

  it('accepts a well-formed assignment', () => {
    const file = parseBicep(assignment('guid(hub.id, principalId, roleIds.eventHubsDataSender)', "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataSender)", "'ServicePrincipal'"));
    expect(roleAssignmentProblems(file, EXPECTED_ROLE_IDS)).toEqual([]);
  });
});

describe('output, host name and parameter checks', () => {
  it('flags outputs that expose keys or connection strings', () => {
    const file = parseBicep(
      [
        "output storageKey string = sa.listKeys().keys[0].value",
        "output eventHubConnectionString string = 'Endpoint=${x}'",
        "output blobEndpoint string = sa.properties.primaryEndpoints.blob",
      ].join('\n'),
      'bad.bicep',
    );
    const problems = secretOutputProblems(file);
    expect(problems).toEqual(
      expect.arrayContaining([
        'bad.bicep: output storageKey: name looks like a secret',
        'bad.bicep: output storageKey: value reads keys or a connection string',
        'bad.bicep: output eventHubConnectionString: name looks like a secret',
      ]),
    );
    expect(problems.some((problem) => problem.includes('blobEndpoint'))).toBe(false);
  });

  it('flags hard-coded endpoint host names', () => {
    const file = parseBicep("var blob = 'https://${name}.blob.core.windows.net/'\nvar hub = '${ns}.servicebus.windows.net'\n");
    expect(hardcodedHostProblems(file)).toHaveLength(2);
  });

  it('flags parameters without @description and untyped objects', () => {
    const file = parseBicep("param settings object\n@description('ok')\nparam name string\n", 'bad.bicep');
    expect(parameterProblems(file)).toEqual(['bad.bicep: param settings: no @description', 'bad.bicep: param settings: untyped object']);
  });
});

describe('app setting checks', () => {
  const contract = [
    '## Settings',
    '| name | meaning | default |',
    '|---|---|---|',
    '| `FlowLogsStorage` | connection string | — |',
    '| `EVENTHUB_NAME`, `EventHubConnection` / `EventHubConnection__fullyQualifiedNamespace` | output binding | — |',
    '| `FLOWLOG_OUTPUT` | records or tuples | `records` |',
    '',
    '## Delivery semantics',
    '| `NOT_A_SETTING` | | |',
  ].join('\n');

  it('reads only the first column of the settings table', () => {
    expect(contractSettingNames(contract)).toEqual(['FlowLogsStorage', 'EVENTHUB_NAME', 'EventHubConnection', 'EventHubConnection__fullyQualifiedNamespace', 'FLOWLOG_OUTPUT']);
  });

  it('flags missing settings, connection strings and settings Flex Consumption rejects', () => {
    const problems = appSettingProblems(
      {
        EventHubConnection: 'Endpoint=sb://...',
        EventHubConnection__fullyQualifiedNamespace: 'x',
        EVENTHUB_NAME: 'hub',
        FlowLogsStorage__blobServiceUri: 'x',
        FlowLogsStorage__credential: 'managedidentity',
        FlowLogsStorage__clientId: 'id',
        FUNCTIONS_WORKER_RUNTIME: 'node',
      },
      contractSettingNames(contract),
    );
    expect(problems).toEqual([
      'app setting FLOWLOG_OUTPUT (or its identity-based form FLOWLOG_OUTPUT__...) is missing',
      'app setting EventHubConnection is a connection string next to its identity-based form',
      "app setting EventHubConnection__credential is not 'managedidentity'",
      'app setting EventHubConnection__clientId is missing (the app has only a user-assigned identity)',
      'app setting FUNCTIONS_WORKER_RUNTIME must not be set on Flex Consumption',
    ]);
  });
});
