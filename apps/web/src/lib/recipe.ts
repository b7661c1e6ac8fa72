/*
 * The small markdown subset our step-by-step recipes use (Cloudflare's token recipe), read into
 * blocks the page renders as elements: no HTML from the server is ever injected.
 */

/** Inline text: plain runs and `code` runs. */
export type Inline = { code: boolean; text: string }[];

export interface RecipeItem {
  text: Inline;
  /** Indented `- ` lines under a numbered step, e.g. the permission groups to add. */
  sub: Inline[];
}

export type RecipeBlock =
  | { type: 'heading'; text: Inline }
  | { type: 'paragraph'; text: Inline }
  | { type: 'steps'; items: RecipeItem[] }
  | { type: 'list'; items: Inline[] };

export function inline(text: string): Inline {
  return text
    .split(/(`[^`]*`)/)
    .filter((part) => part !== '')
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? { code: true, text: part.slice(1, -1) }
        : { code: false, text: part },
    );
}

function append(to: Inline, text: string): void {
  to.push({ code: false, text: ' ' }, ...inline(text));
}

export function parseRecipe(markdown: string): RecipeBlock[] {
  const blocks: RecipeBlock[] = [];
  let current: RecipeBlock | null = null;
  const close = () => {
    if (current) blocks.push(current);
    current = null;
  };
  for (const raw of markdown.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') {
      // A blank line ends a paragraph; numbered steps may be spaced out.
      if (current?.type === 'paragraph' || current?.type === 'list') close();
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const step = /^\d+\.\s+(.*)$/.exec(line);
    const sub = /^\s+[-*]\s+(.*)$/.exec(line);
    const bullet = /^[-*]\s+(.*)$/.exec(line);
    if (heading) {
      close();
      blocks.push({ type: 'heading', text: inline(heading[1]!) });
    } else if (step) {
      if (current?.type !== 'steps') close();
      current ??= { type: 'steps', items: [] };
      (current as { items: RecipeItem[] }).items.push({ text: inline(step[1]!), sub: [] });
    } else if (sub && current?.type === 'steps') {
      current.items.at(-1)!.sub.push(inline(sub[1]!));
    } else if (bullet) {
      if (current?.type !== 'list') close();
      current ??= { type: 'list', items: [] };
      (current as { items: Inline[] }).items.push(inline(bullet[1]!));
    } else if (current?.type === 'steps') {
      const item = current.items.at(-1)!;
      append(item.sub.at(-1) ?? item.text, line.trim());
    } else if (current?.type === 'paragraph') {
      append(current.text, line.trim());
    } else {
      close();
      current = { type: 'paragraph', text: inline(line.trim()) };
    }
  }
  close();
  return blocks;
}
