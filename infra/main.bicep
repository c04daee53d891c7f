// flowlog-forwarder: Blob Storage (flow logs) -> Event Grid -> Azure Function -> Event Hubs,
// with one user-assigned managed identity and no keys or connection strings anywhere.
//
// Deploy in two passes (scripts/deploy.js does this): first with createEventSubscription=false,
// then publish the code, then again with createEventSubscription=true. Event Grid refuses an
// AzureFunction endpoint whose function does not exist yet.

targetScope = 'resourceGroup'

import { deliveryRetry, flowLogAccountRef, tagMap } from 'modules/types.bicep'

// ---------------------------------------------------------------------------------------------
// General
// ---------------------------------------------------------------------------------------------

@description('Short lowercase prefix for resource names (letters, digits, hyphens).')
@minLength(2)
@maxLength(12)
param namePrefix string

@description('Region of the app, its storage, monitoring and (new) Event Hubs namespace.')
param location string = resourceGroup().location

@description('Tags for every resource this deployment creates.')
param tags tagMap = {}

// ---------------------------------------------------------------------------------------------
// Flow-log sources
// ---------------------------------------------------------------------------------------------

@description('The flow-log storage account. Existing by default; it usually lives in the VNet\'s region and another resource group.')
param flowLogAccount flowLogAccountRef

@description('More existing flow-log accounts (one per region). Each gets a Reader grant, a system topic and a subscription.')
param additionalFlowLogAccounts flowLogAccountRef[] = []

@description('Create flowLogAccount instead of using an existing one (its resource group must exist).')
param createFlowLogAccount bool = false

@description('Region of a created flow-log account: the region of the VNets that log into it.')
param flowLogAccountLocation string = location

@description('Containers whose PT1H.json blobs are forwarded (FLOWLOG_CONTAINERS). Event Grid allows 24 besides the data.api filter.')
@minLength(1)
@maxLength(24)
param flowLogContainers string[] = [
  'insights-logs-flowlogflowevent'
  'insights-logs-networksecuritygroupflowevent'
]

// ---------------------------------------------------------------------------------------------
// Event Hubs
// ---------------------------------------------------------------------------------------------

@description('Create the Event Hubs namespace and hub (true) or use existing ones (false).')
param createEventHubNamespace bool = true

@description('Event Hubs namespace name. Empty: generated from namePrefix (required when using an existing one).')
param eventHubNamespaceName string = ''

@description('Resource group of the Event Hubs namespace (must exist).')
param eventHubResourceGroup string = resourceGroup().name

@description('Event hub the records are sent to (EVENTHUB_NAME).')
@minLength(1)
@maxLength(256)
param eventHubName string = 'flowlogs'

@description('Tier of a new namespace. Basic accepts events up to 256 KB, Standard and Premium up to 1 MB.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param eventHubSku string = 'Standard'

@description('Throughput units (Basic, Standard) or processing units (Premium) of a new namespace.')
@minValue(1)
@maxValue(40)
param eventHubCapacity int = 1

@description('Partitions of a new hub (fixed after creation on Basic and Standard).')
@minValue(1)
@maxValue(32)
param eventHubPartitionCount int = 4

@description('Days a new hub keeps events (Basic: always 1).')
@minValue(1)
@maxValue(7)
param eventHubRetentionDays int = 1

// ---------------------------------------------------------------------------------------------
// Forwarder behaviour (docs/contract.md)
// ---------------------------------------------------------------------------------------------

@description('FLOWLOG_OUTPUT: records (as Network Watcher wrote them) or tuples (one flat object per flow tuple).')
@allowed([
  'records'
  'tuples'
])
param outputFormat string = 'records'

@description('FLOWLOG_PACKING: envelope ({"records":[...]} filled up to the size limit) or single (one item per event).')
@allowed([
  'envelope'
  'single'
])
param packing string = 'envelope'

@description('CHECKPOINT_CONTAINER in the app\'s storage account.')
@minLength(3)
@maxLength(63)
param checkpointContainerName string = 'flowlog-checkpoints'

@description('DEAD_LETTER_CONTAINER in the app\'s storage account: input the forwarder could not forward.')
@minLength(3)
@maxLength(63)
param deadLetterContainerName string = 'flowlog-deadletter'

@description('Container in the app\'s storage account for events Event Grid could not deliver.')
@minLength(3)
@maxLength(63)
param eventGridDeadLetterContainerName string = 'eventgrid-deadletter'

@description('Days after its last update that a checkpoint document is deleted. Keep it above one day (Event Grid retries for up to 24 hours).')
@minValue(2)
@maxValue(3650)
param checkpointRetentionDays int = 7

// ---------------------------------------------------------------------------------------------
// Function app, monitoring, Event Grid
// ---------------------------------------------------------------------------------------------

@description('Node.js major version of the function app. 22: the current Azure SDK packages (storage, identity) declare Node 22 or later.')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '22'

@description('Upper bound of Flex Consumption instances.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Create the Event Grid subscriptions to forwardFlowLogs. Only after the code is published.')
param createEventSubscription bool = false

@description('Event Grid retry policy before an event is dead-lettered.')
param eventDeliveryRetry deliveryRetry = {
  maxDeliveryAttempts: 30
  eventTimeToLiveInMinutes: 1440
}

// ---------------------------------------------------------------------------------------------
// Names and derived values
// ---------------------------------------------------------------------------------------------

var prefix = toLower(namePrefix)
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, prefix))
var names = {
  identity: 'id-${prefix}-${resourceToken}'
  appStorage: take('st${replace(prefix, '-', '')}${resourceToken}', 24)
  workspace: 'log-${prefix}-${resourceToken}'
  appInsights: 'appi-${prefix}-${resourceToken}'
  plan: 'plan-${prefix}-${resourceToken}'
  functionApp: 'func-${prefix}-${resourceToken}'
  eventHubNamespace: empty(eventHubNamespaceName) ? 'evhns-${prefix}-${resourceToken}' : eventHubNamespaceName
  deploymentContainer: 'app-package'
}

// The function the Event Grid subscriptions deliver to (src/functions/forwardFlowLogs.ts).
var functionName = 'forwardFlowLogs'

var allFlowLogAccounts = concat([flowLogAccount], additionalFlowLogAccounts)
var allowedAccountNames = [for account in allFlowLogAccounts: account.name]
// Names known before deployment, so what-if can show the resources that use them.
var systemTopicNames = [for account in allFlowLogAccounts: 'evgt-${account.name}']

// Largest event body the hub accepts, minus headroom for AMQP framing and properties:
// Basic 256 KB (262144 bytes), Standard and Premium 1 MB.
var basicTierMaxEventBytes = 250000
var largeTierMaxEventBytes = 1000000

// ---------------------------------------------------------------------------------------------
// Identity, app storage, monitoring
// ---------------------------------------------------------------------------------------------

// One user-assigned identity for the host, the forwarder and the deployment package: it exists
// before the app, so every grant is in place when the app first starts.
resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module appStorage 'modules/appStorage.bicep' = {
  name: '${prefix}-app-storage'
  params: {
    name: names.appStorage
    location: location
    tags: tags
    appPrincipalId: appIdentity.properties.principalId
    deploymentContainerName: names.deploymentContainer
    checkpointContainerName: checkpointContainerName
    deadLetterContainerName: deadLetterContainerName
    eventGridDeadLetterContainerName: eventGridDeadLetterContainerName
    checkpointRetentionDays: checkpointRetentionDays
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: '${prefix}-monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
    retentionDays: logRetentionDays
    appPrincipalId: appIdentity.properties.principalId
  }
}

// ---------------------------------------------------------------------------------------------
// Event Hubs
// ---------------------------------------------------------------------------------------------

module eventHubNamespace 'modules/eventHubNamespace.bicep' = if (createEventHubNamespace) {
  name: '${prefix}-eventhub-namespace'
  scope: resourceGroup(eventHubResourceGroup)
  params: {
    namespaceName: names.eventHubNamespace
    hubName: eventHubName
    location: location
    tags: tags
    sku: eventHubSku
    capacity: eventHubCapacity
    partitionCount: eventHubPartitionCount
    retentionDays: eventHubRetentionDays
  }
}

module eventHubAccess 'modules/eventHubAccess.bicep' = {
  name: '${prefix}-eventhub-access'
  scope: resourceGroup(eventHubResourceGroup)
  params: {
    namespaceName: names.eventHubNamespace
    hubName: eventHubName
    appPrincipalId: appIdentity.properties.principalId
  }
  dependsOn: [
    eventHubNamespace
  ]
}

// ---------------------------------------------------------------------------------------------
// Flow-log accounts: Reader grant and system topic next to each account
// ---------------------------------------------------------------------------------------------

module newFlowLogAccount 'modules/flowLogAccount.bicep' = if (createFlowLogAccount) {
  name: '${prefix}-flowlog-account'
  scope: resourceGroup(flowLogAccount.resourceGroup)
  params: {
    name: flowLogAccount.name
    location: flowLogAccountLocation
    tags: tags
  }
}

module flowLogSources 'modules/flowLogSource.bicep' = [
  for (account, i) in allFlowLogAccounts: {
    name: '${prefix}-flowlog-source-${i}'
    scope: resourceGroup(account.resourceGroup)
    params: {
      storageAccountName: account.name
      systemTopicName: systemTopicNames[i]
      appPrincipalId: appIdentity.properties.principalId
      tags: tags
    }
    dependsOn: [
      newFlowLogAccount
    ]
  }
]

module eventGridDeadLetterWriters 'modules/deadLetterWriter.bicep' = [
  for i in range(0, length(allFlowLogAccounts)): {
    name: '${prefix}-eventgrid-deadletter-${i}'
    params: {
      storageAccountName: names.appStorage
      containerName: eventGridDeadLetterContainerName
      topicPrincipalId: flowLogSources[i].outputs.systemTopicPrincipalId
    }
    dependsOn: [
      appStorage
    ]
  }
]

// ---------------------------------------------------------------------------------------------
// Function app
// ---------------------------------------------------------------------------------------------

// Every setting of docs/contract.md, in identity-based form (no connection strings).
var appSettings = {
  // Host storage.
  AzureWebJobsStorage__blobServiceUri: appStorage.outputs.blobEndpoint
  AzureWebJobsStorage__queueServiceUri: appStorage.outputs.queueEndpoint
  AzureWebJobsStorage__tableServiceUri: appStorage.outputs.tableEndpoint
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: appIdentity.properties.clientId
  // Flow-log input. Other accounts' endpoints are this one with the account name replaced.
  FlowLogsStorage__blobServiceUri: flowLogSources[0].outputs.blobEndpoint
  FlowLogsStorage__credential: 'managedidentity'
  FlowLogsStorage__clientId: appIdentity.properties.clientId
  FLOWLOG_ALLOWED_ACCOUNTS: join(allowedAccountNames, ',')
  FLOWLOG_CONTAINERS: join(flowLogContainers, ',')
  // Event Hubs output binding (connection 'EventHubConnection', hub '%EVENTHUB_NAME%').
  EventHubConnection__fullyQualifiedNamespace: eventHubAccess.outputs.fullyQualifiedNamespace
  EventHubConnection__credential: 'managedidentity'
  EventHubConnection__clientId: appIdentity.properties.clientId
  EVENTHUB_NAME: eventHubAccess.outputs.hubName
  MAX_EVENT_BYTES: string(eventHubAccess.outputs.skuName == 'Basic' ? basicTierMaxEventBytes : largeTierMaxEventBytes)
  // Forwarder state in the app's storage.
  CHECKPOINT_CONTAINER: checkpointContainerName
  DEAD_LETTER_CONTAINER: deadLetterContainerName
  // Output format.
  FLOWLOG_OUTPUT: outputFormat
  FLOWLOG_PACKING: packing
  // Telemetry with the managed identity (Application Insights has local auth disabled).
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
  // The app has no system-assigned identity: lets DefaultAzureCredential pick the right one.
  AZURE_CLIENT_ID: appIdentity.properties.clientId
}

module functionApp 'modules/functionApp.bicep' = {
  name: '${prefix}-function-app'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: appIdentity.id
    storageBlobEndpoint: appStorage.outputs.blobEndpoint
    deploymentContainerName: names.deploymentContainer
    appInsightsName: monitoring.outputs.appInsightsName
    nodeVersion: nodeVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    appSettings: appSettings
  }
}

// ---------------------------------------------------------------------------------------------
// Event Grid subscriptions (second pass, after the code is published)
// ---------------------------------------------------------------------------------------------

module flowLogSubscriptions 'modules/flowLogSubscription.bicep' = [
  for (account, i) in allFlowLogAccounts: if (createEventSubscription) {
    name: '${prefix}-flowlog-subscription-${i}'
    scope: resourceGroup(account.resourceGroup)
    params: {
      systemTopicName: systemTopicNames[i]
      subscriptionName: 'to-${names.functionApp}'
      functionAppId: functionApp.outputs.id
      functionName: functionName
      flowLogContainers: flowLogContainers
      deadLetterStorageAccountId: appStorage.outputs.id
      deadLetterContainerName: eventGridDeadLetterContainerName
      retry: eventDeliveryRetry
    }
    // The topic must exist, and its identity must be able to write dead letters, before the
    // subscription is created.
    dependsOn: [
      flowLogSources
      eventGridDeadLetterWriters
    ]
  }
]

// ---------------------------------------------------------------------------------------------
// Outputs (names and ids only; nothing secret)
// ---------------------------------------------------------------------------------------------

@description('Function app name, for func azure functionapp publish.')
output functionAppName string = functionApp.outputs.name

@description('Client id of the app\'s user-assigned identity.')
output appIdentityClientId string = appIdentity.properties.clientId

@description('Name of the app\'s storage account (checkpoints, dead letters, Event Grid dead letters).')
output appStorageAccountName string = appStorage.outputs.name

@description('Event Hubs namespace host name.')
output eventHubNamespaceHost string = eventHubAccess.outputs.fullyQualifiedNamespace

@description('Event hub the records are sent to.')
output eventHubName string = eventHubAccess.outputs.hubName

@description('Event Grid system topics, one per flow-log account.')
output systemTopicNames string[] = systemTopicNames
