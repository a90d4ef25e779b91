/** The page's colours for classes and for the crowd-density estimate. */

/** The density estimate's text, series and map (index.html's `--density`). */
export const DENSITY_COLOUR = '#ff7b29';
/** The band its expected error gives, around the series. */
export const DENSITY_BAND = 'rgba(255, 123, 41, 0.25)';

const PALETTE = ['#4cc2ff', '#f472b6', '#fbbf24', '#34d399', '#a78bfa', '#fb923c', '#22d3ee', '#f87171', '#a3e635', '#e879f9', '#60a5fa', '#facc15'];

const classColours = new Map<string, string>();

/** A distinct colour per class, stable for the life of the page. */
export function classColour(name: string): string {
  let colour = classColours.get(name);
  if (!colour) {
    colour = PALETTE[classColours.size % PALETTE.length];
    classColours.set(name, colour);
  }
  return colour;
}
