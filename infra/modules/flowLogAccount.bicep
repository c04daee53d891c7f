// Optional: creates a flow-log storage account (test and demo setups). Production setups point
// at the accounts Network Watcher already writes to; those live in each VNet's region.

import { tagMap } from 'types.bicep'

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region: must be the region of the VNets whose flow logs it receives.')
param location string

@description('Tags for the account.')
param tags tagMap

resource flowLogStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  // Blob events (Event Grid) need a general-purpose v2 account.
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // No keys: configure the flow log with a managed identity (Network Watcher supports a
    // user-assigned one) so Network Watcher writes with Entra ID as well.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    accessTier: 'Hot'
  }
}

@description('Storage account resource id.')
output id string = flowLogStorage.id
