// Log Analytics and workspace-based Application Insights. Local (instrumentation key) auth is
// disabled: the app sends telemetry with its managed identity, so it needs Monitoring Metrics
// Publisher on the component.

import { roleIds } from 'roles.bicep'
import { tagMap } from 'types.bicep'

@description('Log Analytics workspace name.')
param workspaceName string

@description('Application Insights component name.')
param appInsightsName string

@description('Azure region.')
param location string

@description('Tags for both resources.')
param tags tagMap

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param retentionDays int

@description('Principal id of the function app\'s user-assigned identity.')
param appPrincipalId string

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Only Entra ID authenticated telemetry is accepted (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).
    DisableLocalAuth: true
  }
}

resource appMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Application Insights component name (the function app reads its connection string).')
output appInsightsName string = appInsights.name
