// User-defined types shared by main.bicep and its modules.

@export()
@description('A storage account that Network Watcher writes flow logs to (it must be StorageV2 and in the VNet\'s region).')
type flowLogAccountRef = {
  @description('Storage account name.')
  @minLength(3)
  @maxLength(24)
  name: string

  @description('Resource group that holds the account (usually not the app\'s resource group).')
  resourceGroup: string
}

@export()
@description('How long Event Grid keeps retrying a BlobCreated event before dead-lettering it.')
type deliveryRetry = {
  @description('Delivery attempts before the event is dead-lettered.')
  @minValue(1)
  @maxValue(30)
  maxDeliveryAttempts: int

  @description('Minutes an event may wait for delivery before it is dead-lettered.')
  @minValue(1)
  @maxValue(1440)
  eventTimeToLiveInMinutes: int
}

@export()
@description('Function app settings: setting name to string value.')
type appSettingMap = {
  *: string
}

@export()
@description('Resource tags: tag name to string value.')
type tagMap = {
  *: string
}
