// Creates the Event Hubs namespace and hub the forwarder writes to (skipped when an existing
// namespace is used). SAS keys are disabled: senders and readers authenticate with Entra ID.

import { tagMap } from 'types.bicep'

@description('Namespace name (6-50 letters, digits and hyphens; globally unique).')
@minLength(6)
@maxLength(50)
param namespaceName string

@description('Event hub name.')
param hubName string

@description('Azure region.')
param location string

@description('Tags for the namespace.')
param tags tagMap

@description('Tier. Basic accepts events up to 256 KB, Standard and Premium up to 1 MB.')
@allowed([
  'Basic'
  'Standard'
  'Premium'
])
param sku string

@description('Throughput units (Basic, Standard) or processing units (Premium: 1, 2, 4, 8 or 16).')
@minValue(1)
@maxValue(40)
param capacity int

@description('Partitions of the hub. Fixed after creation on Basic and Standard.')
@minValue(1)
@maxValue(32)
param partitionCount int

@description('Days events are kept in the hub (Basic keeps 1 day whatever this says).')
@minValue(1)
@maxValue(7)
param retentionDays int

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
    capacity: capacity
  }
  properties: {
    // No SAS keys: nothing can hand out or leak a connection string.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: sku == 'Basic' ? 1 : retentionDays
  }
}

@description('Name of the event hub.')
output hubName string = hub.name
