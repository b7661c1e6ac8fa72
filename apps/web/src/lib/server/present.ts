/** One line of an integration's metadata as the console shows it. */
export interface MetaLine {
  key: string;
  value: string;
}

const EMAIL = /^([^@\s]{1,64})@([^@\s]+)$/;
// Shapes of upstream secrets: the API never returns one, but a page must not show one even if it did.
const SECRETISH = /^(hf_|dckr_pat_|dckr_oat_|ghp_|gAAAAA)|^[A-Za-z0-9_-]{40,}$/;

function mask(value: string): string {
  const email = EMAIL.exec(value);
  if (email) return `${email[1]!.slice(0, 1)}•••@${email[2]}`;
  if (SECRETISH.test(value)) return `•••• (${value.length} characters hidden)`;
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return mask(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) {
    const shown = v.slice(0, 10).map((x) => mask(String(x)));
    return v.length === 0 ? '—' : `${shown.join(', ')}${v.length > 10 ? ` (+${v.length - 10} more)` : ''}`;
  }
  return null;
}

const label = (key: string) => key.replaceAll('_', ' ').replaceAll('.', ' › ');

/** Metadata flattened one level, scalars only, emails and anything token-shaped masked. */
export function presentMetadata(metadata: Record<string, unknown>): MetaLine[] {
  const lines: MetaLine[] = [];
  for (const [key, value] of Object.entries(metadata)) {
    const direct = scalar(value);
    if (direct !== null) {
      lines.push({ key: label(key), value: direct });
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [sub, inner] of Object.entries(value as Record<string, unknown>)) {
        const s = scalar(inner);
        if (s !== null) lines.push({ key: label(`${key}.${sub}`), value: s });
      }
    }
    if (lines.length >= 24) break;
  }
  return lines;
}
