/**
 * Small DOM helpers. Names that come off the wire only ever reach the page through textContent,
 * dataset or attribute values, never through innerHTML.
 */

/** The element of the page's markup with `id`, of the kind the caller names. */
export function byId<E extends HTMLElement = HTMLElement>(id: string): E {
  const element = document.getElementById(id);
  if (!element) throw new Error(`viewer: the page has no #${id}`);
  return element as E;
}

/** The element under `root` that `selector` finds, which the markup (or a template) has. */
export function part<E extends Element = HTMLElement>(root: ParentNode, selector: string): E {
  const element = root.querySelector<E>(selector);
  if (!element) throw new Error(`viewer: no ${selector} where one was expected`);
  return element;
}

export type Child = Node | string | null | undefined;

/** `h('span', 'cls', child, 'text')`: strings become text nodes, never markup. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, ...children: readonly Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.append(...children.filter((child): child is Node | string => child !== null && child !== undefined));
  return element;
}

export function setText(element: Node, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * Keeps one child of `container` per item, keyed, in the order of `items`: rows are updated
 * in place rather than rebuilt, so nothing flickers at 20 updates a second.
 */
export function syncList<T>(
  container: HTMLElement,
  items: readonly T[],
  keyOf: (item: T) => string,
  create: (item: T) => HTMLElement,
  update: (element: HTMLElement, item: T) => void,
): void {
  const existing = new Map<string | undefined, HTMLElement>();
  for (const child of container.children) if (child instanceof HTMLElement) existing.set(child.dataset.key, child);
  let previous: HTMLElement | null = null;
  for (const item of items) {
    const key = keyOf(item);
    let element = existing.get(key);
    if (element) existing.delete(key);
    else {
      element = create(item);
      element.dataset.key = key;
    }
    update(element, item);
    const wanted: Element | null = previous ? previous.nextElementSibling : container.firstElementChild;
    if (element !== wanted) container.insertBefore(element, wanted);
    previous = element;
  }
  for (const stale of existing.values()) stale.remove();
}
