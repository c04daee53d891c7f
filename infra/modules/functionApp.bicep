// Flex Consumption (FC1) Linux function app running the forwarder with one user-assigned
// identity. The code is published separately (func azure functionapp publish).

import { appSettingMap, tagMap } from 'types.bicep'

@description('Function app name (globally unique host name label).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for the plan and the app.')
param tags tagMap

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Blob endpoint of the app\'s storage account.')
param storageBlobEndpoint string

@description('Container of the app\'s storage account that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights component name (its connection string goes into the settings).')
param appInsightsName string

@description('Node.js major version.')
@allowed([
  '20'
  '22'
])
param nodeVersion string

@description('Upper bound of instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('App settings, all in identity-based form. APPLICATIONINSIGHTS_CONNECTION_STRING is added here.')
param appSettings appSettingMap

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Linux.
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex takes the runtime from here: FUNCTIONS_WORKER_RUNTIME and WEBSITE_RUN_FROM_PACKAGE
      // must not be app settings.
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }
}

// The whole collection is written on every deployment, so a rerun converges to exactly these.
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(appSettings, {
    // Not a secret once local auth is disabled: ingestion also requires the identity's token.
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  })
}

@description('Function app name.')
output name string = functionApp.name

@description('Function app resource id.')
output id string = functionApp.id
