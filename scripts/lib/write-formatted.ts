import { writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

/** Writes `text` as the repository's Prettier config formats it, so `npm run check` stays clean. */
export async function writeFormatted(path: string, text: string): Promise<void> {
  const options = await resolveConfig(path);
  writeFileSync(path, await format(text, { ...options, filepath: path }));
}
