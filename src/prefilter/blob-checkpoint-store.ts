// The official blob CheckpointStore on a container that is created when missing.
import type { CheckpointStore } from '@azure/event-hubs'
import { BlobCheckpointStore } from '@azure/eventhubs-checkpointstore-blob'
import { BlobServiceClient } from '@azure/storage-blob'

export async function createBlobCheckpointStore(connectionString: string, containerName: string): Promise<CheckpointStore> {
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(containerName)
  // The store never creates its container itself.
  await container.createIfNotExists()
  return new BlobCheckpointStore(container)
}
