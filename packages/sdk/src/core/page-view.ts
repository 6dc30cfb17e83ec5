import type { DeviceKind, PageView } from '../types.js';

/** What a page view can say of itself; the rest comes from the page. */
export interface PageProps {
  path?: string;
  title?: string;
  product?: string;
  category?: string;
}

const cut = (s: unknown, max: number) => (s ? String(s).slice(0, max) : undefined);

/**
 * A page view as the page shows it now: path, title, and the product and category of the props or
 * of <meta name="cairn:product|category">, each capped as the server's limits say.
 */
export function pageView(
  doc: Document,
  props: PageProps,
  id: string,
  at: number,
  session: string,
  device: DeviceKind,
): PageView {
  const meta = (name: 'product' | 'category') =>
    cut(props[name] || doc.querySelector(`meta[name="cairn:${name}"]`)?.getAttribute('content'), 100);
  return {
    id,
    path: cut(props.path || location.pathname, 2e3)!,
    title: cut(props.title ?? doc.title, 500) || '',
    at,
    session,
    product: meta('product'),
    category: meta('category'),
    device,
  };
}
