/** Objects from manifest files and folders, watched for changes. */
import type { DiagnosticSink } from '../core/model/diagnostics.js';
import type { ClusterObjects } from '../core/model/objects.js';
import { ManifestWatcher } from '../runtime/manifest-watcher.js';
import { loadClusterObjects } from '../runtime/sources/files.js';
import type { ObjectSource } from './types.js';

export class FileSource implements ObjectSource {
  private watcher: ManifestWatcher | null = null;

  constructor(private readonly paths: readonly string[]) {}

  async start(onChange: () => void): Promise<void> {
    this.watcher = new ManifestWatcher(this.paths, onChange);
    await this.watcher.start();
  }

  load(sink: DiagnosticSink): Promise<ClusterObjects> {
    return loadClusterObjects(this.paths, sink);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.watcher?.close();
    return Promise.resolve();
  }
}
