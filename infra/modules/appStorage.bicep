// The function app's own storage account: host storage (AzureWebJobsStorage), the Flex
// Consumption deployment package, the forwarder's checkpoints and dead letters, and the
// container Event Grid dead-letters undeliverable events into. Identity-only access.

import { roleIds } from 'roles.bicep'
import { tagMap } from 'types.bicep'

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags tagMap

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

@description('Container that holds the Flex Consumption deployment package.')
param deploymentContainerName string

@description('Container for per-blob checkpoint documents (CHECKPOINT_CONTAINER).')
param checkpointContainerName string

@description('Container for input the forwarder could not forward (DEAD_LETTER_CONTAINER).')
param deadLetterContainerName string

@description('Container Event Grid writes undeliverable events into.')
param eventGridDeadLetterContainerName string

@description('Days after its last update that a checkpoint document is deleted.')
@minValue(2)
param checkpointRetentionDays int

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // Every client (host, forwarder, Event Grid) uses Entra ID; keys would only be a leak risk.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

var containerNames = [
  deploymentContainerName
  checkpointContainerName
  deadLetterContainerName
  eventGridDeadLetterContainerName
]

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// A checkpoint is only needed while its PT1H.json blob still receives events (about an hour,
// plus Event Grid's retries of at most a day), so old ones are deleted instead of piling up.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-stale-checkpoints'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${checkpointContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: checkpointRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

// Blob Data Owner (not Contributor): the Functions host needs it for its blob leases and keys
// in identity mode; the same grant covers the deployment package, checkpoints and dead letters.
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roleIds.storageBlobDataOwner)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The host uses queues and tables of AzureWebJobsStorage (AzureWebJobsStorage__queueServiceUri
// and __tableServiceUri are set), so it gets data access to both services.
resource appQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roleIds.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appPrincipalId, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Storage account name.')
output name string = storage.name

@description('Storage account resource id (Event Grid dead-letter destination).')
output id string = storage.id

@description('Blob endpoint, e.g. https://<name>.blob.<suffix>/.')
output blobEndpoint string = storage.properties.primaryEndpoints.blob

@description('Queue endpoint.')
output queueEndpoint string = storage.properties.primaryEndpoints.queue

@description('Table endpoint.')
output tableEndpoint string = storage.properties.primaryEndpoints.table
