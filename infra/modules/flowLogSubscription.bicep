// The Event Grid subscription that delivers a flow-log account's PT1H.json commits to the
// forwardFlowLogs function. Deployed only after the code is published: an AzureFunction
// endpoint must exist when the subscription is created ("Destination endpoint not found").

import { deliveryRetry } from 'types.bicep'

@description('Name of the existing system topic of the flow-log account (in this resource group).')
param systemTopicName string

@description('Name of the event subscription.')
param subscriptionName string

@description('Resource id of the function app.')
param functionAppId string

@description('Name of the Event Grid triggered function.')
param functionName string

@description('Containers whose blobs are forwarded (FLOWLOG_CONTAINERS).')
param flowLogContainers string[]

@description('Resource id of the app\'s storage account, where undeliverable events are dead-lettered.')
param deadLetterStorageAccountId string

@description('Container of that account that receives undeliverable events.')
param deadLetterContainerName string

@description('Retry policy before an event is dead-lettered.')
param retry deliveryRetry

// One value per container; Event Grid OR-s them.
var subjectPrefixes = [for container in flowLogContainers: '/blobServices/default/containers/${container}/']

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource flowLogEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: subscriptionName
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/${functionName}'
        // One event per invocation: each event claims its own byte range of one blob.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Network Watcher writes one PT1H.json per hour and NIC (or NSG and MAC).
      subjectEndsWith: '/PT1H.json'
      advancedFilters: [
        {
          // Network Watcher commits blocks; other writes (uploads, copies) are not flow logs.
          operatorType: 'StringIn'
          key: 'data.api'
          values: [
            'PutBlockList'
          ]
        }
        {
          // Only the configured flow-log containers.
          operatorType: 'StringBeginsWith'
          key: 'subject'
          values: subjectPrefixes
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: retry.maxDeliveryAttempts
      eventTimeToLiveInMinutes: retry.eventTimeToLiveInMinutes
    }
    // Without a dead-letter destination, events still failing after the retry window are lost.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

@description('Resource id of the event subscription.')
output id string = flowLogEvents.id
