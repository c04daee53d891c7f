// Grants the forwarder's identity Azure Event Hubs Data Sender on the one hub it writes to
// (not on the namespace), and reports what the app settings need: the namespace host name and
// its tier (which decides the largest event the hub accepts). Works for a namespace created by
// this deployment and for an existing one alike.

import { roleIds } from 'roles.bicep'

@description('Name of the existing Event Hubs namespace in this resource group.')
param namespaceName string

@description('Name of the existing event hub in that namespace.')
param hubName string

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' existing = {
  name: namespaceName

  resource hub 'eventhubs' existing = {
    name: hubName
  }
}

resource appHubSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(namespace::hub.id, appPrincipalId, roleIds.eventHubsDataSender)
  scope: namespace::hub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.eventHubsDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// serviceBusEndpoint is https://<namespace>.<service bus suffix of this cloud>:443/ ; the
// binding wants the bare host name.
@description('Fully qualified namespace host name (EventHubConnection__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '/')[2], ':')[0]

@description('Tier of the namespace: Basic, Standard or Premium.')
output skuName string = namespace.sku.name

@description('Name of the event hub.')
output hubName string = namespace::hub.name
