/** Whether a command can be run by name: an executable file of that name in a $PATH directory. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

const DEFAULT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? DEFAULT_PATH).split(':').some((dir) => {
    try {
      accessSync(path.join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
