/** `file.mcap#/topic` split into the file and the image channel's topic (none: the first image channel). */
export function mcapLocation(location: string): { readonly file: string; readonly topic?: string } {
  const hash = location.indexOf('#');
  return hash < 0 ? { file: location } : { file: location.slice(0, hash), topic: location.slice(hash + 1) };
}
