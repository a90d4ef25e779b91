/** A stream id as a folder name: anything but letters, digits, `.`, `_` and `-` becomes `_`. */
export function streamFolder(stream: string): string {
  const safe = stream.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}
