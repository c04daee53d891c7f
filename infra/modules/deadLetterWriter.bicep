// Lets an Event Grid system topic's own identity write undeliverable events into the
// dead-letter container of the app's storage account (deadLetterWithResourceIdentity uses the
// topic's identity). Scoped to that one container: the topic needs nothing else there.

import { roleIds } from 'roles.bicep'

@description('Name of the app\'s storage account (in this deployment\'s resource group).')
param storageAccountName string

@description('Container Event Grid dead-letters into.')
param containerName string

@description('Principal id of the system topic\'s system-assigned identity.')
param topicPrincipalId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource container 'containers' existing = {
      name: containerName
    }
  }
}

resource topicBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::container.id, topicPrincipalId, roleIds.storageBlobDataContributor)
  scope: storage::blobService::container
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: topicPrincipalId
    principalType: 'ServicePrincipal'
  }
}
