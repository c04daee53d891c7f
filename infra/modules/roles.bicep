// The built-in role definitions this deployment grants, in one place so a reviewer can check
// every id against https://learn.microsoft.com/azure/role-based-access-control/built-in-roles.
// Public templates often swap Event Hubs Data Sender and Receiver: this app only sends.

@export()
@description('Built-in Azure role definition ids (GUIDs) granted by this deployment.')
var roleIds = {
  // Flow-log accounts: the forwarder only reads PT1H.json blobs.
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  // Event Grid system topics: write undeliverable events to the dead-letter container.
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  // App storage: host leases and keys, the Flex deployment package, checkpoints, dead letters.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // App storage: host queues (AzureWebJobsStorage identity form needs them).
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // App storage: host tables (AzureWebJobsStorage identity form needs them).
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // The one event hub the forwarder writes to. Never the Receiver role.
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  // Application Insights with local auth disabled accepts telemetry only from this role.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
