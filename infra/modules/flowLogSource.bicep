// Everything that must live next to one flow-log storage account (its resource group, usually
// the VNet's region): read access for the forwarder and the Event Grid system topic that
// publishes the account's BlobCreated events. Azure allows one system topic per account.

import { roleIds } from 'roles.bicep'
import { tagMap } from 'types.bicep'

@description('Name of the existing flow-log storage account in this resource group.')
param storageAccountName string

@description('Name of the Event Grid system topic to create for the account.')
param systemTopicName string

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

@description('Tags for the system topic.')
param tags tagMap

resource flowLogStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Reader, not Contributor: the forwarder never writes to or deletes flow logs. Account scope
// because Network Watcher creates the insights-logs-* containers only when it first writes.
resource appBlobReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(flowLogStorage.id, appPrincipalId, roleIds.storageBlobDataReader)
  scope: flowLogStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

module systemTopic 'systemTopic.bicep' = {
  name: '${systemTopicName}-topic'
  params: {
    name: systemTopicName
    location: flowLogStorage.location
    sourceId: flowLogStorage.id
    tags: tags
  }
}

@description('Blob endpoint of the flow-log account (FlowLogsStorage__blobServiceUri).')
output blobEndpoint string = flowLogStorage.properties.primaryEndpoints.blob

@description('Principal id of the system topic\'s identity (needs write access to the Event Grid dead-letter container).')
output systemTopicPrincipalId string = systemTopic.outputs.principalId
