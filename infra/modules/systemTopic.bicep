// The Event Grid system topic of one flow-log storage account. A module of its own so that its
// location can be the account's region read at deployment time: a resource's location must be
// known when its template starts, a module parameter need not be.

import { tagMap } from 'types.bicep'

@description('System topic name.')
param name string

@description('Region of the source storage account (a system topic lives in its source\'s region).')
param location string

@description('Resource id of the flow-log storage account.')
param sourceId string

@description('Tags for the topic.')
param tags tagMap

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  // Its own identity dead-letters undeliverable events (granted per topic in the app's storage).
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: sourceId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('Principal id of the topic\'s system-assigned identity.')
output principalId string = systemTopic.identity.principalId
